/*
 * sdp.c - the control plane's SDP: read a client's answer, write our offer.
 *
 * The parser is a single pass over lines: the first must be v=0, m= lines
 * open sections, a= lines go through a table of the attributes we keep and
 * everything else is skipped. It works on (pointer, length) spans of the
 * caller's bytes, never on NUL-terminated copies, checks every number for
 * overflow and every kept value for length, and reports the first problem
 * as a static string; no input can make it abort or write past a field.
 * SSRCs are collected per section and filtered at the section's end, since
 * a=ssrc-group may come before or after the a=ssrc lines it names.
 *
 * The writer validates every field of the offer first (so nothing from a
 * caller can inject a line), then appends lines with one bounded printf
 * helper that latches "out of space" instead of checking every call.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sdp.h"

#define MAX_IDS 64 /* distinct a=ssrc ids / FID seconds tracked per section */

/* A slice of the caller's text. */
struct span {
	const char *p;
	size_t n;
};

struct parser {
	struct sl_sdp *out;
	struct sl_sdp_media *m; /* section being read; NULL at session level */
	uint8_t sess_dir;       /* session-level direction, the default */
	bool bundle_seen;       /* a BUNDLE group was read (later ones ignored) */
	bool bundle_only;       /* current section has a=bundle-only */
	uint32_t port;          /* current section's m= port */
	uint32_t ids[MAX_IDS];  /* current section's a=ssrc ids, first seen first */
	unsigned n_ids;
	uint32_t sec[MAX_IDS]; /* second members of FID / FEC-FR groups */
	unsigned n_sec;
};

/* ---- spans and tokens ---- */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Next whitespace-delimited token of *s into *t; false when none is left. */
static bool tok_next(struct span *s, struct span *t)
{
	while (s->n && is_ws(*s->p)) {
		s->p++;
		s->n--;
	}
	t->p = s->p;
	while (s->n && !is_ws(*s->p)) {
		s->p++;
		s->n--;
	}
	t->n = (size_t)(s->p - t->p);
	return t->n > 0;
}

/* Split *s at the first c: *head gets what precedes it, *s what follows.
 * Without a c, *head gets all of *s, *s becomes empty and false returns. */
static bool span_cut(struct span *s, char c, struct span *head)
{
	const char *at = s->n ? memchr(s->p, c, s->n) : NULL;

	head->p = s->p;
	if (!at) {
		head->n = s->n;
		s->p += s->n;
		s->n = 0;
		return false;
	}
	head->n = (size_t)(at - s->p);
	s->n -= head->n + 1;
	s->p = at + 1;
	return true;
}

static bool tok_eq(struct span t, const char *lit)
{
	return t.n == strlen(lit) && memcmp(t.p, lit, t.n) == 0;
}

static bool tok_ieq(struct span t, const char *lit)
{
	return t.n == strlen(lit) && strncasecmp(t.p, lit, t.n) == 0;
}

/* Plain decimal (digits only, at most 10 of them) no larger than max. */
static bool tok_u32(struct span t, uint32_t max, uint32_t *v)
{
	uint64_t x = 0;

	if (t.n == 0 || t.n > 10)
		return false;
	for (size_t i = 0; i < t.n; i++) {
		if (t.p[i] < '0' || t.p[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(t.p[i] - '0');
	}
	if (x > max)
		return false;
	*v = (uint32_t)x;
	return true;
}

/* Copy t into dst (cap bytes with the NUL). An empty or over-long value
 * returns bad; a second, different value for one field is refused. */
static const char *set_tok(char *dst, size_t cap, struct span t, const char *bad)
{
	if (t.n == 0 || t.n >= cap)
		return bad;
	if (dst[0] && (strlen(dst) != t.n || memcmp(dst, t.p, t.n) != 0))
		return "conflicting duplicate attribute";
	memcpy(dst, t.p, t.n);
	dst[t.n] = '\0';
	return NULL;
}

static int hex_val(char c)
{
	if (!isxdigit((unsigned char)c))
		return -1;
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* n bytes of ASCII letters, digits and the characters in extra. */
static bool chars_ok(const char *s, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c && strchr(extra, c))))
			return false;
	}
	return true;
}

/* "AB:cd:..." with exactly 32 bytes; case-insensitive. */
static bool parse_fp(struct span t, uint8_t fp[32])
{
	if (t.n != 32 * 3 - 1)
		return false;
	for (size_t i = 0; i < 32; i++) {
		int hi = hex_val(t.p[3 * i]), lo = hex_val(t.p[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 31 && t.p[3 * i + 2] != ':'))
			return false;
		fp[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool id_in(const uint32_t *ids, unsigned n, uint32_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* ---- attributes: each returns NULL or a static reason ---- */

static const char *at_ufrag(struct parser *ps, struct span v)
{
	char *dst = ps->m ? ps->m->ice_ufrag : ps->out->ice_ufrag;
	struct span t;

	tok_next(&v, &t);
	return set_tok(dst, SL_SDP_TOKEN, t, "bad or too long a=ice-ufrag");
}

static const char *at_pwd(struct parser *ps, struct span v)
{
	char *dst = ps->m ? ps->m->ice_pwd : ps->out->ice_pwd;
	struct span t;

	tok_next(&v, &t);
	return set_tok(dst, SL_SDP_PWD, t, "bad or too long a=ice-pwd");
}

/* The first sha-256 fingerprint of a scope counts; other hashes are skipped. */
static const char *at_fingerprint(struct parser *ps, struct span v)
{
	uint8_t *dst = ps->m ? ps->m->fingerprint : ps->out->fingerprint;
	bool *has = ps->m ? &ps->m->has_fingerprint : &ps->out->has_fingerprint;
	struct span hash, fp;
	uint8_t tmp[32];

	if (!tok_next(&v, &hash) || !tok_ieq(hash, "sha-256"))
		return NULL;
	if (!tok_next(&v, &fp) || !parse_fp(fp, tmp))
		return "bad sha-256 a=fingerprint";
	if (!*has) {
		memcpy(dst, tmp, sizeof(tmp));
		*has = true;
	}
	return NULL;
}

static const char *at_setup(struct parser *ps, struct span v)
{
	uint8_t *dst = ps->m ? &ps->m->setup : &ps->out->setup;
	uint8_t s = SL_SDP_SETUP_NONE;
	struct span t;

	tok_next(&v, &t);
	if (tok_eq(t, "active"))
		s = SL_SDP_SETUP_ACTIVE;
	else if (tok_eq(t, "passive"))
		s = SL_SDP_SETUP_PASSIVE;
	else if (tok_eq(t, "actpass"))
		s = SL_SDP_SETUP_ACTPASS;
	else
		return "bad a=setup";
	if (*dst != SL_SDP_SETUP_NONE && *dst != s)
		return "conflicting duplicate attribute";
	*dst = s;
	return NULL;
}

/* Only the first BUNDLE group is kept: one transport is all we serve. */
static const char *at_group(struct parser *ps, struct span v)
{
	struct sl_sdp *s = ps->out;
	struct span t;

	if (ps->m || !tok_next(&v, &t) || !tok_ieq(t, "BUNDLE") || ps->bundle_seen)
		return NULL;
	ps->bundle_seen = true;
	while (tok_next(&v, &t)) {
		if (s->n_bundle >= SL_SDP_MAX_MEDIA)
			return "too many BUNDLE mids";
		if (t.n >= SL_SDP_TOKEN)
			return "BUNDLE mid too long";
		memcpy(s->bundle[s->n_bundle], t.p, t.n);
		s->bundle[s->n_bundle++][t.n] = '\0';
	}
	return NULL;
}

static const char *at_mid(struct parser *ps, struct span v)
{
	struct span t;

	if (!ps->m)
		return NULL;
	tok_next(&v, &t);
	return set_tok(ps->m->mid, SL_SDP_TOKEN, t, "bad or too long a=mid");
}

static const char *at_ssrc(struct parser *ps, struct span v)
{
	struct span t;
	uint32_t id;

	if (!tok_next(&v, &t) || !tok_u32(t, UINT32_MAX, &id))
		return "bad a=ssrc";
	if (ps->m && !id_in(ps->ids, ps->n_ids, id) && ps->n_ids < MAX_IDS)
		ps->ids[ps->n_ids++] = id;
	return NULL;
}

/* FID (RTX) and FEC-FR pairs: the second id repairs the first. */
static const char *at_ssrc_group(struct parser *ps, struct span v)
{
	struct span sem, a, b;
	uint32_t first, second;

	if (!tok_next(&v, &sem) || !(tok_eq(sem, "FID") || tok_eq(sem, "FEC-FR")))
		return NULL;
	if (!tok_next(&v, &a) || !tok_next(&v, &b) || !tok_u32(a, UINT32_MAX, &first) ||
	    !tok_u32(b, UINT32_MAX, &second))
		return "bad a=ssrc-group";
	if (ps->m && !id_in(ps->sec, ps->n_sec, second) && ps->n_sec < MAX_IDS)
		ps->sec[ps->n_sec++] = second;
	return NULL;
}

/* "<pt> <name>/<clock>[/<channels>]" */
static const char *at_rtpmap(struct parser *ps, struct span v)
{
	struct span pt, enc, name, clock;
	uint32_t n_pt, n_clock, n_ch = 0;
	struct sl_sdp_codec *c;
	bool more;

	if (!tok_next(&v, &pt) || !tok_u32(pt, 127, &n_pt) || !tok_next(&v, &enc) ||
	    !span_cut(&enc, '/', &name) || name.n == 0)
		return "bad a=rtpmap";
	if (name.n >= SL_SDP_TOKEN)
		return "a=rtpmap codec name too long";
	more = span_cut(&enc, '/', &clock);
	if (!tok_u32(clock, UINT32_MAX, &n_clock) || (more && !tok_u32(enc, 255, &n_ch)))
		return "bad a=rtpmap";
	if (!ps->m || ps->m->n_codec >= SL_SDP_MAX_CODECS)
		return NULL;
	for (unsigned i = 0; i < ps->m->n_codec; i++)
		if (ps->m->codec[i].pt == n_pt)
			return NULL;
	c = &ps->m->codec[ps->m->n_codec++];
	c->pt = (uint8_t)n_pt;
	memcpy(c->name, name.p, name.n);
	c->name[name.n] = '\0';
	c->clock = n_clock;
	c->channels = (uint8_t)n_ch;
	return NULL;
}

/* "<id>[/<direction>] <uri> [attributes]"; ids past 255 are not kept. */
static const char *at_extmap(struct parser *ps, struct span v)
{
	struct span idt, num, uri;
	struct sl_sdp_ext *e;
	uint32_t id;

	if (!tok_next(&v, &idt))
		return "bad a=extmap";
	span_cut(&idt, '/', &num);
	if (!tok_u32(num, 65535, &id) || !tok_next(&v, &uri))
		return "bad a=extmap";
	if (uri.n >= sizeof(e->uri))
		return "a=extmap URI too long";
	if (!ps->m || id == 0 || id > 255 || ps->m->n_ext >= SL_SDP_MAX_EXT)
		return NULL;
	for (unsigned i = 0; i < ps->m->n_ext; i++)
		if (ps->m->ext[i].id == id)
			return NULL;
	e = &ps->m->ext[ps->m->n_ext++];
	e->id = (uint8_t)id;
	memcpy(e->uri, uri.p, uri.n);
	e->uri[uri.n] = '\0';
	return NULL;
}

/* "<id> send|recv [restrictions]" */
static const char *at_rid(struct parser *ps, struct span v)
{
	struct span id, dir;
	struct sl_sdp_media *m = ps->m;

	if (!tok_next(&v, &id) || !tok_next(&v, &dir) ||
	    !(tok_eq(dir, "send") || tok_eq(dir, "recv")))
		return "bad a=rid";
	if (id.n >= SL_SDP_TOKEN)
		return "a=rid id too long";
	if (!m || m->n_rid >= SL_SDP_MAX_RIDS)
		return NULL;
	memcpy(m->rid[m->n_rid], id.p, id.n);
	m->rid[m->n_rid++][id.n] = '\0';
	return NULL;
}

static const struct attr_rule {
	const char *name;
	const char *(*fn)(struct parser *ps, struct span v);
} attr_rules[] = {
	{ "ice-ufrag", at_ufrag },
	{ "ice-pwd", at_pwd },
	{ "fingerprint", at_fingerprint },
	{ "setup", at_setup },
	{ "group", at_group },
	{ "mid", at_mid },
	{ "ssrc", at_ssrc },
	{ "ssrc-group", at_ssrc_group },
	{ "rtpmap", at_rtpmap },
	{ "extmap", at_extmap },
	{ "rid", at_rid },
};

static const char *const dir_names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };

/* Value-less attributes: directions and flags. False if name is none. */
static bool parse_flag(struct parser *ps, struct span name)
{
	bool *flag = NULL;

	for (uint8_t i = 0; i < 4; i++) {
		if (tok_eq(name, dir_names[i])) {
			*(ps->m ? &ps->m->dir : &ps->sess_dir) = i;
			return true;
		}
	}
	if (tok_eq(name, "ice-lite"))
		flag = &ps->out->ice_lite;
	else if (tok_eq(name, "bundle-only"))
		flag = &ps->bundle_only;
	else if (ps->m && tok_eq(name, "rtcp-mux"))
		flag = &ps->m->rtcp_mux;
	else if (ps->m && tok_eq(name, "simulcast"))
		flag = &ps->m->simulcast;
	if (flag)
		*flag = true;
	return flag != NULL;
}

static const char *parse_attr(struct parser *ps, struct span v)
{
	struct span name;

	span_cut(&v, ':', &name);
	if (parse_flag(ps, name))
		return NULL;
	for (size_t i = 0; i < sizeof(attr_rules) / sizeof(attr_rules[0]); i++)
		if (tok_eq(name, attr_rules[i].name))
			return attr_rules[i].fn(ps, v);
	return NULL;
}

/* ---- sections and lines ---- */

/* Primary SSRCs in order of appearance, then the rejected flag. */
static void finish_media(struct parser *ps)
{
	struct sl_sdp_media *m = ps->m;

	if (!m)
		return;
	for (unsigned i = 0; i < ps->n_ids && m->n_ssrc < SL_SDP_MAX_SSRC; i++)
		if (!id_in(ps->sec, ps->n_sec, ps->ids[i]))
			m->ssrc[m->n_ssrc++] = ps->ids[i];
	m->rejected = ps->port == 0 && !ps->bundle_only;
	ps->m = NULL;
}

/* "m=<media> <port>[/<count>] <proto> <fmt> ..." */
static const char *parse_m(struct parser *ps, struct span v)
{
	struct sl_sdp *s = ps->out;
	struct span kind, port, num;

	finish_media(ps);
	if (s->n_media >= SL_SDP_MAX_MEDIA)
		return "too many m= sections";
	if (!tok_next(&v, &kind) || !tok_next(&v, &port))
		return "bad m= line";
	span_cut(&port, '/', &num);
	if (!tok_u32(num, 65535, &ps->port))
		return "bad m= port";
	ps->m = &s->media[s->n_media++];
	if (tok_eq(kind, "audio"))
		ps->m->kind = SL_SDP_KIND_AUDIO;
	else if (tok_eq(kind, "video"))
		ps->m->kind = SL_SDP_KIND_VIDEO;
	else
		ps->m->kind = SL_SDP_KIND_OTHER;
	ps->m->dir = ps->sess_dir;
	ps->bundle_only = false;
	ps->n_ids = ps->n_sec = 0;
	return NULL;
}

static const char *parse_line(struct parser *ps, struct span line)
{
	struct span v;

	if (line.n == 0)
		return NULL; /* tolerate blank lines */
	if (line.n < 2 || line.p[1] != '=' || line.p[0] < 'a' || line.p[0] > 'z')
		return "malformed line";
	v = (struct span){ line.p + 2, line.n - 2 };
	switch (line.p[0]) {
	case 'v':
		return "v= line not first";
	case 'm':
		return parse_m(ps, v);
	case 'a':
		return parse_attr(ps, v);
	default:
		return NULL;
	}
}

/* Next line of *rest without its LF or CRLF. */
static const char *next_line(struct span *rest, struct span *line)
{
	span_cut(rest, '\n', line);
	if (line->n && line->p[line->n - 1] == '\r')
		line->n--;
	return line->n > SL_SDP_MAX_LINE ? "line too long" : NULL;
}

static const char *parse_lines(struct parser *ps, struct span rest)
{
	struct span line;
	const char *e = next_line(&rest, &line);

	if (e)
		return e;
	if (line.n < 2 || memcmp(line.p, "v=", 2) != 0)
		return "missing v= line";
	if (line.n != 3 || line.p[2] != '0')
		return "unsupported SDP version";
	while (rest.n) {
		e = next_line(&rest, &line);
		if (!e)
			e = parse_line(ps, line);
		if (e)
			return e;
	}
	finish_media(ps);
	return NULL;
}

/* The session and a section name their ICE and DTLS fields alike: fill
 * dst's empty ones from src (both are struct pointers). */
#define FILL_CREDS(dst, src)                                                      \
	do {                                                                      \
		if (!(dst)->ice_ufrag[0])                                         \
			memcpy((dst)->ice_ufrag, (src)->ice_ufrag, SL_SDP_TOKEN); \
		if (!(dst)->ice_pwd[0])                                           \
			memcpy((dst)->ice_pwd, (src)->ice_pwd, SL_SDP_PWD);       \
		if (!(dst)->has_fingerprint && (src)->has_fingerprint) {          \
			memcpy((dst)->fingerprint, (src)->fingerprint, 32);       \
			(dst)->has_fingerprint = true;                            \
		}                                                                 \
		if ((dst)->setup == SL_SDP_SETUP_NONE)                            \
			(dst)->setup = (src)->setup;                              \
	} while (0)

/* Session values into sections lacking their own, then the first
 * section's values into the session fields that are still empty. */
static void inherit(struct sl_sdp *s)
{
	for (unsigned i = 0; i < s->n_media; i++)
		FILL_CREDS(&s->media[i], s);
	if (s->n_media)
		FILL_CREDS(s, &s->media[0]);
}

int sl_sdp_parse(const char *text, size_t len, struct sl_sdp *out, const char **err)
{
	struct parser ps = { .out = out, .sess_dir = SL_SDP_SENDRECV };
	const char *e = NULL;

	if (!out)
		e = "no output struct";
	else if (!text && len)
		e = "no input";
	else if (len > SL_SDP_MAX_LEN)
		e = "description too long";
	else if (len && memchr(text, '\0', len))
		e = "NUL byte in description";
	if (out)
		memset(out, 0, sizeof(*out));
	if (!e)
		e = len ? parse_lines(&ps, (struct span){ text, len }) : "missing v= line";
	if (e) {
		if (err)
			*err = e;
		return -EINVAL;
	}
	inherit(out);
	return 0;
}

/* ---- answer check ---- */

/* RFC 8839 ice-char = ALPHA / DIGIT / "+" / "/", with a length range. */
static bool ice_ok(const char *s, size_t cap, size_t min, size_t max)
{
	size_t n = strnlen(s, cap);

	return n < cap && n >= min && n <= max && chars_ok(s, n, "+/");
}

static bool in_bundle(const struct sl_sdp *a, const char *mid)
{
	for (unsigned i = 0; i < a->n_bundle && i < SL_SDP_MAX_MEDIA; i++)
		if (strncmp(a->bundle[i], mid, SL_SDP_TOKEN) == 0)
			return true;
	return false;
}

static const char *check_section(const struct sl_sdp *a, const struct sl_sdp_media *m,
				 const struct sl_sdp_offer_media *om)
{
	if (strncmp(m->mid, om->mid, SL_SDP_TOKEN) != 0)
		return "answer's mid differs from the offer's";
	if (m->kind != om->kind)
		return "answer's media kind differs from the offer's";
	if (m->rejected)
		return NULL;
	if (!ice_ok(m->ice_ufrag, sizeof(m->ice_ufrag), 4, 256))
		return "missing or bad a=ice-ufrag";
	if (!ice_ok(m->ice_pwd, sizeof(m->ice_pwd), 22, 256))
		return "missing or bad a=ice-pwd";
	if (!m->has_fingerprint)
		return "no sha-256 a=fingerprint";
	if (m->setup != SL_SDP_SETUP_ACTIVE && m->setup != SL_SDP_SETUP_PASSIVE)
		return "a=setup is not active or passive";
	if (m->setup != a->setup)
		return "a=setup differs between m= sections";
	if (!m->rtcp_mux)
		return "no a=rtcp-mux";
	if (!in_bundle(a, m->mid))
		return "m= section not in the BUNDLE group";
	return NULL;
}

int sl_sdp_check_answer(const struct sl_sdp *answer, const struct sl_sdp_offer *offer,
			const char **err)
{
	const char *e = NULL;
	unsigned accepted = 0;

	if (!answer || !offer)
		e = "no answer or offer";
	else if (answer->n_media != offer->n_media || answer->n_media > SL_SDP_MAX_MEDIA)
		e = "answer's m= sections differ in number from the offer's";
	for (unsigned i = 0; !e && i < answer->n_media; i++) {
		e = check_section(answer, &answer->media[i], &offer->media[i]);
		accepted += !answer->media[i].rejected;
	}
	if (!e && accepted == 0)
		e = "answer rejects every m= section";
	if (e) {
		if (err)
			*err = e;
		return -EINVAL;
	}
	return 0;
}

/* ---- offer writer ---- */

_Static_assert(SL_SDP_PT_OPUS == 111 && SL_SDP_PT_VP8 == 96 && SL_SDP_AUDIO_LEVEL_EXT == 1,
	       "the codec lines below spell these numbers out");

static const char audio_lines[] = "a=rtpmap:111 opus/48000/2\r\n"
				  "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
				  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n";

static const char video_lines[] =
	"a=rtpmap:96 VP8/90000\r\n"
	"a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm fir\r\n"
	"a=rtpmap:98 VP9/90000\r\n"
	"a=fmtp:98 profile-id=0\r\n"
	"a=rtcp-fb:98 nack\r\na=rtcp-fb:98 nack pli\r\na=rtcp-fb:98 ccm fir\r\n"
	"a=rtpmap:102 H264/90000\r\n"
	"a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
	"a=rtcp-fb:102 nack\r\na=rtcp-fb:102 nack pli\r\na=rtcp-fb:102 ccm fir\r\n"
	"a=rtpmap:45 AV1/90000\r\n"
	"a=rtcp-fb:45 nack\r\na=rtcp-fb:45 nack pli\r\na=rtcp-fb:45 ccm fir\r\n";

struct wbuf {
	char *p;
	size_t cap, len;
	bool full; /* a write did not fit: the result is -ENOSPC */
};

__attribute__((format(printf, 2, 3))) static void put(struct wbuf *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->cap - w->len)
		w->full = true;
	else
		w->len += (size_t)n;
}

/* [A-Za-z0-9_.-]+ and NUL-terminated inside cap bytes. */
static bool id_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	return n > 0 && n < cap && chars_ok(s, n, "_.-");
}

static bool addr_ok(const char *s, size_t cap, int af)
{
	unsigned char bin[16];

	return strnlen(s, cap) < cap && inet_pton(af, s, bin) == 1;
}

static bool offer_media_ok(const struct sl_sdp_offer *o, unsigned i)
{
	const struct sl_sdp_offer_media *m = &o->media[i];

	if (m->kind != SL_SDP_KIND_AUDIO && m->kind != SL_SDP_KIND_VIDEO)
		return false;
	if (m->dir != SL_SDP_RECVONLY && m->dir != SL_SDP_SENDONLY && m->dir != SL_SDP_INACTIVE)
		return false;
	if (!id_ok(m->mid, sizeof(m->mid)))
		return false;
	for (unsigned j = 0; j < i; j++)
		if (strcmp(o->media[j].mid, m->mid) == 0)
			return false;
	return m->dir != SL_SDP_SENDONLY || (id_ok(m->msid_stream, sizeof(m->msid_stream)) &&
					     id_ok(m->msid_track, sizeof(m->msid_track)));
}

static bool offer_ok(const struct sl_sdp_offer *o)
{
	uint8_t fp[32];
	size_t fp_n = strnlen(o->fingerprint, sizeof(o->fingerprint));

	if (o->n_media == 0 || o->n_media > SL_SDP_MAX_MEDIA || o->port == 0)
		return false;
	if (!o->cand_ip4[0] && !o->cand_ip6[0])
		return false;
	if ((o->cand_ip4[0] && !addr_ok(o->cand_ip4, sizeof(o->cand_ip4), AF_INET)) ||
	    (o->cand_ip6[0] && !addr_ok(o->cand_ip6, sizeof(o->cand_ip6), AF_INET6)))
		return false;
	if (!ice_ok(o->ice_ufrag, sizeof(o->ice_ufrag), 4, 256) ||
	    !ice_ok(o->ice_pwd, sizeof(o->ice_pwd), 22, 256) ||
	    !parse_fp((struct span){ o->fingerprint, fp_n }, fp))
		return false;
	for (unsigned i = 0; i < o->n_media; i++)
		if (!offer_media_ok(o, i))
			return false;
	return true;
}

static void write_session(struct wbuf *w, const struct sl_sdp_offer *o)
{
	put(w, "v=0\r\no=- %" PRIu64 " %" PRIu32 " IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
	    o->session_id, o->version);
	put(w, "a=ice-lite\r\na=group:BUNDLE");
	for (unsigned i = 0; i < o->n_media; i++)
		put(w, " %s", o->media[i].mid);
	put(w, "\r\na=msid-semantic: WMS *\r\n");
}

/* ICE, DTLS and the candidates: the same on every section (BUNDLE). */
static void write_transport(struct wbuf *w, const struct sl_sdp_offer *o)
{
	unsigned foundation = 1;
	uint32_t prio = 2130706431; /* host, local preference 65535, component 1 */

	put(w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\n", o->ice_ufrag,
	    o->ice_pwd, o->fingerprint);
	put(w, "a=setup:actpass\r\na=rtcp-mux\r\na=rtcp-rsize\r\n");
	if (o->cand_ip4[0])
		put(w, "a=candidate:%u 1 udp %" PRIu32 " %s %u typ host\r\n", foundation++, prio,
		    o->cand_ip4, (unsigned)o->port);
	if (o->cand_ip6[0])
		put(w, "a=candidate:%u 1 udp %" PRIu32 " %s %u typ host\r\n", foundation,
		    prio - (o->cand_ip4[0] ? 256 : 0), o->cand_ip6, (unsigned)o->port);
	put(w, "a=end-of-candidates\r\n");
}

static void write_media(struct wbuf *w, const struct sl_sdp_offer *o,
			const struct sl_sdp_offer_media *m)
{
	bool audio = m->kind == SL_SDP_KIND_AUDIO;

	put(w, "m=%s 9 UDP/TLS/RTP/SAVPF %s\r\n", audio ? "audio" : "video",
	    audio ? "111" : "96 98 102 45");
	put(w, "c=%s\r\n", o->cand_ip4[0] ? "IN IP4 0.0.0.0" : "IN IP6 ::");
	put(w, "a=mid:%s\r\na=%s\r\n", m->mid, dir_names[m->dir]);
	write_transport(w, o);
	put(w, "%s", audio ? audio_lines : video_lines);
	if (m->dir != SL_SDP_SENDONLY)
		return;
	put(w, "a=msid:%s %s\r\n", m->msid_stream, m->msid_track);
	put(w, "a=ssrc:%" PRIu32 " cname:%s\r\n", m->ssrc, m->msid_stream);
	put(w, "a=ssrc:%" PRIu32 " msid:%s %s\r\n", m->ssrc, m->msid_stream, m->msid_track);
}

int sl_sdp_write_offer(const struct sl_sdp_offer *o, char *buf, size_t cap)
{
	struct wbuf w = { .p = buf, .cap = cap };

	if (!o || (!buf && cap))
		return -EINVAL;
	if (!offer_ok(o))
		return -EINVAL;
	if (!buf || cap == 0)
		return -ENOSPC;
	write_session(&w, o);
	for (unsigned i = 0; i < o->n_media; i++)
		write_media(&w, o, &o->media[i]);
	if (w.full || w.len > INT32_MAX) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return (int)w.len;
}
