/*
 * fuzz_sdp.c - libFuzzer target for the SDP code in controlplane/transport/sdp.c.
 *
 * Each input is used twice. First as SDP text: it is parsed, the result is
 * checked against the struct's own bounds (counts within their caps, every
 * string terminated inside its array, enums in range), and when it parses
 * it is checked as an answer to a fixed offer. Then as a recipe: its bytes
 * choose an offer (section kinds, directions, mids from the allowed
 * characters, SSRCs, msids, credentials, fingerprint, addresses), which is
 * written, parsed back and compared field by field; the same description
 * with a=setup:active must pass the answer check. An offer longer than the
 * parser's limit must be refused by the parser, and one byte less of
 * buffer than the writer needs must give -ENOSPC. A mid with a character
 * outside [A-Za-z0-9_.-] must make the writer refuse. Any broken property
 * aborts, which libFuzzer reports as a crash.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char id_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
static const char ice_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static struct sl_sdp parsed; /* ~460 KiB: static, not on the stack */
static struct sl_sdp_offer offer;
static char text[256 * 1024];

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool terminated(const char *s, size_t cap)
{
	return strnlen(s, cap) < cap;
}

/* ---- input as SDP ---- */

static void check_media_bounds(const struct sl_sdp_media *m)
{
	check(m->kind <= SL_SDP_KIND_VIDEO && m->dir <= SL_SDP_INACTIVE);
	check(m->setup <= SL_SDP_SETUP_ACTPASS);
	check(m->n_ssrc <= SL_SDP_MAX_SSRC && m->n_codec <= SL_SDP_MAX_CODECS);
	check(m->n_ext <= SL_SDP_MAX_EXT && m->n_rid <= SL_SDP_MAX_RIDS);
	check(terminated(m->mid, sizeof(m->mid)) && terminated(m->ice_ufrag, sizeof(m->ice_ufrag)));
	check(terminated(m->ice_pwd, sizeof(m->ice_pwd)));
	for (unsigned i = 0; i < m->n_codec; i++)
		check(m->codec[i].pt < 128 && terminated(m->codec[i].name, SL_SDP_TOKEN) &&
		      m->codec[i].name[0]);
	for (unsigned i = 0; i < m->n_ext; i++)
		check(m->ext[i].id != 0 && terminated(m->ext[i].uri, sizeof(m->ext[i].uri)));
	for (unsigned i = 0; i < m->n_rid; i++)
		check(terminated(m->rid[i], SL_SDP_TOKEN));
}

/* The offer the raw inputs are checked against: audio and video the client
 * publishes on, and one audio it receives. */
static void fixed_offer(struct sl_sdp_offer *o)
{
	static const uint8_t dirs[3] = { SL_SDP_RECVONLY, SL_SDP_RECVONLY, SL_SDP_SENDONLY };

	memset(o, 0, sizeof(*o));
	strcpy(o->ice_ufrag, "Sl7u");
	strcpy(o->ice_pwd, "abcdefghijklmnopqrstuv");
	strcpy(o->fingerprint, "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:"
			       "1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08");
	strcpy(o->cand_ip4, "203.0.113.7");
	o->port = 40000;
	o->n_media = 3;
	for (unsigned i = 0; i < 3; i++) {
		o->media[i].kind = i == 1 ? SL_SDP_KIND_VIDEO : SL_SDP_KIND_AUDIO;
		o->media[i].dir = dirs[i];
		o->media[i].mid[0] = (char)('0' + i);
	}
	o->media[2].ssrc = 1;
	strcpy(o->media[2].msid_stream, "p");
	strcpy(o->media[2].msid_track, "t");
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	const char *err = NULL;
	int rc = sl_sdp_parse((const char *)data, size, &parsed, &err);

	check(rc == 0 || rc == -EINVAL);
	if (rc != 0) {
		check(err != NULL);
		return;
	}
	check(parsed.n_media <= SL_SDP_MAX_MEDIA && parsed.n_bundle <= SL_SDP_MAX_MEDIA);
	check(terminated(parsed.ice_ufrag, sizeof(parsed.ice_ufrag)));
	check(terminated(parsed.ice_pwd, sizeof(parsed.ice_pwd)));
	for (unsigned i = 0; i < parsed.n_bundle; i++)
		check(terminated(parsed.bundle[i], SL_SDP_TOKEN));
	for (unsigned i = 0; i < parsed.n_media; i++)
		check_media_bounds(&parsed.media[i]);
	fixed_offer(&offer);
	err = NULL;
	rc = sl_sdp_check_answer(&parsed, &offer, &err);
	check(rc == 0 || (rc == -EINVAL && err != NULL));
}

/* ---- input as a recipe for an offer ---- */

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct reader *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static uint32_t next32(struct reader *r)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | next(r);
	return v;
}

/* min..max characters from set, NUL-terminated. */
static void take_str(struct reader *r, char *dst, size_t min, size_t max, const char *set)
{
	size_t n = min + next(r) % (max - min + 1), k = strlen(set);

	for (size_t i = 0; i < n; i++)
		dst[i] = set[next(r) % k];
	dst[n] = '\0';
}

static void take_addrs(struct reader *r, struct sl_sdp_offer *o)
{
	uint8_t which = next(r) % 3, a[16];

	for (int i = 0; i < 16; i++)
		a[i] = next(r);
	if (which != 1)
		check(inet_ntop(AF_INET, a, o->cand_ip4, sizeof(o->cand_ip4)) != NULL);
	if (which != 0)
		check(inet_ntop(AF_INET6, a, o->cand_ip6, sizeof(o->cand_ip6)) != NULL);
}

static void take_media(struct reader *r, struct sl_sdp_offer_media *m, unsigned idx)
{
	static const uint8_t dirs[3] = { SL_SDP_RECVONLY, SL_SDP_SENDONLY, SL_SDP_INACTIVE };
	uint8_t b = next(r);
	size_t n;

	m->kind = (b & 1) ? SL_SDP_KIND_VIDEO : SL_SDP_KIND_AUDIO;
	m->dir = dirs[(b >> 1) % 3];
	/* Unique by the "_<index>" suffix: the chars before it vary freely. */
	take_str(r, m->mid, 1, 59, id_chars);
	n = strlen(m->mid);
	snprintf(m->mid + n, sizeof(m->mid) - n, "_%u", idx);
	m->ssrc = next32(r);
	take_str(r, m->msid_stream, 1, 63, id_chars);
	take_str(r, m->msid_track, 1, 63, id_chars);
}

static void take_offer(struct reader *r, struct sl_sdp_offer *o, uint8_t fp[32])
{
	char *f = o->fingerprint;

	memset(o, 0, sizeof(*o));
	o->session_id = (uint64_t)next32(r) << 32;
	o->session_id |= next32(r);
	o->version = next32(r);
	take_str(r, o->ice_ufrag, 4, 63, ice_chars);
	take_str(r, o->ice_pwd, 22, 256, ice_chars);
	for (int i = 0; i < 32; i++) {
		fp[i] = next(r);
		f += sprintf(f, i < 31 ? "%02X:" : "%02X", fp[i]);
	}
	take_addrs(r, o);
	o->port = (uint16_t)(next32(r) | 1); /* never 0 */
	o->n_media = 1 + next(r) % SL_SDP_MAX_MEDIA;
	for (unsigned i = 0; i < o->n_media; i++)
		take_media(r, &o->media[i], i);
}

static void compare_media(const struct sl_sdp_media *m, const struct sl_sdp_offer_media *om,
			  const struct sl_sdp_offer *o, const uint8_t fp[32])
{
	bool sending = om->dir == SL_SDP_SENDONLY;

	check(strcmp(m->mid, om->mid) == 0 && m->kind == om->kind && m->dir == om->dir);
	check(!m->rejected && m->rtcp_mux && m->setup == SL_SDP_SETUP_ACTPASS);
	check(m->n_ssrc == (sending ? 1u : 0u) && (!sending || m->ssrc[0] == om->ssrc));
	check(strcmp(m->ice_ufrag, o->ice_ufrag) == 0 && strcmp(m->ice_pwd, o->ice_pwd) == 0);
	check(m->has_fingerprint && memcmp(m->fingerprint, fp, 32) == 0);
	check(m->n_codec == (m->kind == SL_SDP_KIND_AUDIO ? 1u : 4u));
}

static void compare(const struct sl_sdp *s, const struct sl_sdp_offer *o, const uint8_t fp[32])
{
	check(s->ice_lite && s->n_media == o->n_media && s->n_bundle == o->n_media);
	check(strcmp(s->ice_ufrag, o->ice_ufrag) == 0 && strcmp(s->ice_pwd, o->ice_pwd) == 0);
	check(s->has_fingerprint && memcmp(s->fingerprint, fp, 32) == 0);
	for (unsigned i = 0; i < o->n_media; i++) {
		check(strcmp(s->bundle[i], o->media[i].mid) == 0);
		compare_media(&s->media[i], &o->media[i], o, fp);
	}
}

/* A stray byte in one mid: the writer must refuse exactly the bad ones. */
static void bad_mid(struct reader *r)
{
	uint8_t c = next(r);
	unsigned k = next(r) % offer.n_media;
	int rc;

	if (c == 0)
		return;
	offer.media[k].mid[0] = (char)c;
	rc = sl_sdp_write_offer(&offer, text, sizeof(text));
	check(strchr(id_chars, c) ? rc > 0 : rc == -EINVAL);
}

static void fuzz_round_trip(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	uint8_t fp[32];
	const char *err = NULL;
	int n;

	take_offer(&r, &offer, fp);
	n = sl_sdp_write_offer(&offer, text, sizeof(text));
	check(n > 0 && (size_t)n == strlen(text));
	check(sl_sdp_write_offer(&offer, text, (size_t)n) == -ENOSPC);
	check(sl_sdp_write_offer(&offer, text, (size_t)n + 1) == n);
	if ((size_t)n > SL_SDP_MAX_LEN) {
		check(sl_sdp_parse(text, (size_t)n, &parsed, &err) == -EINVAL);
		bad_mid(&r);
		return;
	}
	check(sl_sdp_parse(text, (size_t)n, &parsed, &err) == 0);
	compare(&parsed, &offer, fp);
	/* Our own offer, made active or passive (the same everywhere, as the
	 * parser's session value too), is an answer our check accepts. */
	parsed.setup = size & 1 ? SL_SDP_SETUP_PASSIVE : SL_SDP_SETUP_ACTIVE;
	for (unsigned i = 0; i < parsed.n_media; i++)
		parsed.media[i].setup = parsed.setup;
	check(sl_sdp_check_answer(&parsed, &offer, &err) == 0);
	bad_mid(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse(data, size);
	fuzz_round_trip(data, size);
	return 0;
}
