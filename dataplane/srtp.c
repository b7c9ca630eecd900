/*
 * srtp.c - SRTP/SRTCP contexts and the burst interface over libsrtp2.
 *
 * libsrtp2 keeps the semantics (key derivation, rollover counter, replay
 * database, SRTCP index); this file adds what a dataplane needs around it:
 * every length checked before libsrtp2 sees a buffer, a bound on how many
 * SSRCs one endpoint may make it track (an inbound SSRC counts only once a
 * packet of it has authenticated, so forgeries cannot fill the table), the
 * mapping of libsrtp2's errors onto per-packet verdicts, and burst calls so
 * a multi-buffer engine can later replace the per-packet loop.
 *
 * Outbound contexts allow re-protecting an index, for NACK retransmissions
 * of the very same packet; that no index ever carries two different
 * plaintexts is the caller's job (tables.c: every subscription has its own
 * never-reused SSRC and remembers which indices it sent). What this file
 * guarantees is the SSRC half: an SSRC retired with sl_srtp_retire() loses
 * its state (the libsrtp2 stream is removed) and is never protected again,
 * so a new stream can never restart an old SSRC's index space. The retired
 * record is a sorted array of SL_SRTP_MAX_RETIRED entries; when it is full
 * the context is sealed: it keeps the SSRCs it tracks and takes no new one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include <sluice/ctl.h>
#include <sluice/srtp.h>

#include "bytes.h"
#include "srtp_ossl.h"

#define SL_SRTP_WINDOW 1024

struct sl_srtp {
	srtp_t session;
	uint16_t profile;
	bool inbound;
	bool sealed; /* outbound: retired record overflowed, no new SSRC */
	unsigned max_ssrcs;
	unsigned n_ssrcs;
	unsigned n_retired;
	uint32_t *retired; /* outbound: sorted, SL_SRTP_MAX_RETIRED entries */
	uint32_t ssrcs[];  /* max_ssrcs entries: the SSRCs libsrtp2 tracks */
};

static bool srtp_ready, ossl_ready;

int sl_srtp_ossl_register(void)
{
	static const struct {
		const srtp_cipher_type_t *t;
		srtp_cipher_type_id_t id;
	} ciphers[] = {
		{ &sl_ossl_aes_icm_128, SRTP_AES_ICM_128 },
		{ &sl_ossl_aes_icm_256, SRTP_AES_ICM_256 },
		{ &sl_ossl_aes_gcm_128, SRTP_AES_GCM_128 },
		{ &sl_ossl_aes_gcm_256, SRTP_AES_GCM_256 },
	};

	/* libsrtp2 runs each type's known-answer vectors before accepting it. */
	for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (srtp_replace_cipher_type(ciphers[i].t, ciphers[i].id) != srtp_err_status_ok)
			return -EIO;
	if (srtp_replace_auth_type(&sl_ossl_hmac_sha1, SRTP_HMAC_SHA1) != srtp_err_status_ok)
		return -EIO;
	return 0;
}

int sl_srtp_init(bool use_openssl)
{
	if (!srtp_ready) {
		if (srtp_init() != srtp_err_status_ok)
			return -EIO;
		srtp_ready = true;
	}
	if (use_openssl && !ossl_ready) {
		int rc = sl_srtp_ossl_register();

		if (rc)
			return rc;
		ossl_ready = true;
	}
	return 0;
}

void sl_srtp_shutdown(void)
{
	if (srtp_ready)
		srtp_shutdown();
	srtp_ready = false;
	ossl_ready = false;
}

unsigned sl_srtp_tag_len(uint16_t profile)
{
	switch (profile) {
	case SL_SRTP_AES128_CM_SHA1_80:
		return 10;
	case SL_SRTP_AEAD_AES_128_GCM:
	case SL_SRTP_AEAD_AES_256_GCM:
		return 16;
	default:
		return 0;
	}
}

static int libsrtp_profile(uint16_t profile, srtp_profile_t *out)
{
	switch (profile) {
	case SL_SRTP_AES128_CM_SHA1_80:
		*out = srtp_profile_aes128_cm_sha1_80;
		return 0;
	case SL_SRTP_AEAD_AES_128_GCM:
		*out = srtp_profile_aead_aes_128_gcm;
		return 0;
	case SL_SRTP_AEAD_AES_256_GCM:
		*out = srtp_profile_aead_aes_256_gcm;
		return 0;
	default:
		return -EINVAL;
	}
}

struct sl_srtp *sl_srtp_create(uint16_t profile, const uint8_t *key, const uint8_t *salt,
			       bool inbound, unsigned max_ssrcs)
{
	unsigned kl = sl_srtp_profile_key_len(profile), sl = sl_srtp_profile_salt_len(profile);
	uint8_t master[32 + 14];
	srtp_policy_t pol;
	srtp_profile_t p;
	struct sl_srtp *s;
	srtp_err_status_t st;

	if (!srtp_ready || !key || !salt || max_ssrcs == 0 || max_ssrcs > SL_SRTP_MAX_SSRCS ||
	    libsrtp_profile(profile, &p) != 0)
		return NULL;
	s = calloc(1, sizeof(*s) + sizeof(s->ssrcs[0]) * max_ssrcs);
	if (!s)
		return NULL;
	if (!inbound) {
		s->retired = calloc(SL_SRTP_MAX_RETIRED, sizeof(*s->retired));
		if (!s->retired)
			goto free_ctx;
	}
	memset(&pol, 0, sizeof(pol));
	if (srtp_crypto_policy_set_from_profile_for_rtp(&pol.rtp, p) != srtp_err_status_ok ||
	    srtp_crypto_policy_set_from_profile_for_rtcp(&pol.rtcp, p) != srtp_err_status_ok)
		goto free_ctx;
	memcpy(master, key, kl);
	memcpy(master + kl, salt, sl);
	pol.key = master;
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.window_size = SL_SRTP_WINDOW;
	pol.allow_repeat_tx = !inbound;
	st = srtp_create(&s->session, &pol);
	OPENSSL_cleanse(master, sizeof(master));
	if (st != srtp_err_status_ok)
		goto free_ctx;
	s->profile = profile;
	s->inbound = inbound;
	s->max_ssrcs = max_ssrcs;
	return s;
free_ctx:
	free(s->retired);
	free(s);
	return NULL;
}

void sl_srtp_destroy(struct sl_srtp *s)
{
	if (!s)
		return;
	srtp_dealloc(s->session); /* libsrtp2 zeroes its key material */
	free(s->retired);
	OPENSSL_cleanse(s, sizeof(*s) + sizeof(s->ssrcs[0]) * s->max_ssrcs);
	free(s);
}

static bool ssrc_known(const struct sl_srtp *s, uint32_t ssrc)
{
	for (unsigned i = 0; i < s->n_ssrcs; i++)
		if (s->ssrcs[i] == ssrc)
			return true;
	return false;
}

/* Index of the first retired entry >= ssrc. */
static unsigned retired_pos(const struct sl_srtp *s, uint32_t ssrc)
{
	unsigned lo = 0, hi = s->n_retired;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (s->retired[mid] < ssrc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool retired_has(const struct sl_srtp *s, uint32_t ssrc)
{
	unsigned i;

	if (!s->retired)
		return false;
	i = retired_pos(s, ssrc);
	return i < s->n_retired && s->retired[i] == ssrc;
}

int sl_srtp_retire(struct sl_srtp *s, uint32_t ssrc)
{
	unsigned i;

	if (!s || s->inbound || !s->retired)
		return -EINVAL;
	if (retired_has(s, ssrc))
		return 0;
	if (s->n_retired == SL_SRTP_MAX_RETIRED) {
		s->sealed = true; /* keep what we track: never forget, never reuse */
		return -ENOSPC;
	}
	for (i = 0; i < s->n_ssrcs; i++) {
		if (s->ssrcs[i] == ssrc) {
			srtp_remove_stream(s->session, htonl(ssrc));
			s->ssrcs[i] = s->ssrcs[--s->n_ssrcs];
			break;
		}
	}
	i = retired_pos(s, ssrc);
	memmove(&s->retired[i + 1], &s->retired[i], (s->n_retired - i) * sizeof(s->retired[0]));
	s->retired[i] = ssrc;
	s->n_retired++;
	return 0;
}

bool sl_srtp_ssrc_used(const struct sl_srtp *s, uint32_t ssrc)
{
	if (!s)
		return false;
	return ssrc_known(s, ssrc) || (!s->inbound && (s->sealed || retired_has(s, ssrc)));
}

unsigned sl_srtp_retired_room(const struct sl_srtp *s)
{
	if (!s || s->inbound || !s->retired || s->sealed)
		return 0;
	return SL_SRTP_MAX_RETIRED - s->n_retired;
}

static uint8_t status_of(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return SL_SRTP_OK;
	case srtp_err_status_auth_fail:
		return SL_SRTP_ERR_AUTH;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return SL_SRTP_ERR_REPLAY;
	case srtp_err_status_bad_param:
	case srtp_err_status_parse_err:
		return SL_SRTP_ERR_FORMAT;
	default:
		return SL_SRTP_ERR_OTHER;
	}
}

/* One packet: checks, then libsrtp2. */
static uint8_t one(struct sl_srtp_op *op, bool protect, bool rtcp)
{
	struct sl_srtp *s = op->ctx;
	size_t min = rtcp ? 8 : 12;
	uint32_t ssrc;
	bool known;
	int len = op->len;
	srtp_err_status_t st;

	if (!s || !op->buf || op->len < min || op->len > op->cap || s->inbound == protect)
		return !s || s->inbound == protect ? SL_SRTP_ERR_OTHER : SL_SRTP_ERR_FORMAT;
	/* Room for the exact trailer: the tag, and for SRTCP the E bit and index. */
	if (protect &&
	    (size_t)op->cap < (size_t)op->len + sl_srtp_tag_len(s->profile) + (rtcp ? 4u : 0u))
		return SL_SRTP_ERR_FORMAT;
	ssrc = rd32(op->buf + (rtcp ? 4 : 8));
	known = ssrc_known(s, ssrc);
	if (!known) {
		if (protect && retired_has(s, ssrc))
			return SL_SRTP_ERR_RETIRED;
		if (s->n_ssrcs == s->max_ssrcs || (protect && s->sealed))
			return SL_SRTP_ERR_LIMIT;
	}
	if (protect)
		st = rtcp ? srtp_protect_rtcp(s->session, op->buf, &len)
			  : srtp_protect(s->session, op->buf, &len);
	else
		st = rtcp ? srtp_unprotect_rtcp(s->session, op->buf, &len)
			  : srtp_unprotect(s->session, op->buf, &len);
	if (st != srtp_err_status_ok)
		return status_of(st);
	if (len < 0 || len > op->cap)
		return SL_SRTP_ERR_OTHER;
	if (!known)
		s->ssrcs[s->n_ssrcs++] = ssrc;
	op->len = (uint16_t)len;
	return SL_SRTP_OK;
}

static unsigned burst(struct sl_srtp_op *ops, unsigned n, bool protect, bool rtcp)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++) {
		ops[i].status = one(&ops[i], protect, rtcp);
		ok += ops[i].status == SL_SRTP_OK;
	}
	return ok;
}

unsigned sl_srtp_protect_burst(struct sl_srtp_op *ops, unsigned n)
{
	return burst(ops, n, true, false);
}

unsigned sl_srtp_unprotect_burst(struct sl_srtp_op *ops, unsigned n)
{
	return burst(ops, n, false, false);
}

unsigned sl_srtcp_protect_burst(struct sl_srtp_op *ops, unsigned n)
{
	return burst(ops, n, true, true);
}

unsigned sl_srtcp_unprotect_burst(struct sl_srtp_op *ops, unsigned n)
{
	return burst(ops, n, false, true);
}
