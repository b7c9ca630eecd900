/*
 * srtp.h - SRTP/SRTCP for the dataplane: libsrtp2 semantics, OpenSSL speed,
 * behind a burst interface.
 *
 * libsrtp2 owns the SRTP semantics (key derivation, rollover counter, replay
 * database, SRTCP index). Its built-in ciphers are slow, so at start-up
 * sl_srtp_init() replaces libsrtp2's AES-ICM-128/256, AES-GCM-128/256 and
 * HMAC-SHA1 types with OpenSSL EVP-backed ones (dataplane/srtp_ossl_*.c);
 * their output is byte-identical to libsrtp2's own.
 *
 * A context (struct sl_srtp) is one direction of one endpoint: an inbound
 * one unprotects everything the endpoint sends (any SSRC), an outbound one
 * protects everything we send it. A context belongs to one thread at a time
 * and is never shared across cores.
 *
 * Outbound contexts never reuse an SSRC: sl_srtp_retire() releases an SSRC's
 * state and records it as retired, and a retired SSRC is never protected
 * under this key again (SL_SRTP_ERR_RETIRED). The record holds up to
 * SL_SRTP_MAX_RETIRED SSRCs; once full, the context refuses every SSRC it
 * does not already track (it never forgets one and reuses it).
 *
 * The burst calls take arrays of (context, buffer) pairs so that a
 * multi-buffer engine can later replace the per-packet loop without touching
 * callers. Each buffer is processed in place; on protect it grows by at most
 * SL_SRTP_MAX_TRAILER bytes, which the caller must have room for.
 */
#ifndef SLUICE_SRTP_H
#define SLUICE_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_SRTP_MAX_TRAILER  16 /* auth tag (10 or 16) + SRTCP index (4), rounded */
#define SL_SRTCP_MAX_TRAILER 20
#define SL_SRTP_MAX_SSRCS    256  /* the most max_ssrcs a context may have */
#define SL_SRTP_MAX_RETIRED  4096 /* SSRCs an outbound context remembers as retired */

struct sl_srtp; /* opaque; one direction of one endpoint */

/* Results, per packet. */
enum sl_srtp_status {
	SL_SRTP_OK = 0,
	SL_SRTP_ERR_AUTH,    /* tag did not verify: nothing in the context changed */
	SL_SRTP_ERR_REPLAY,  /* replayed or too old */
	SL_SRTP_ERR_FORMAT,  /* too short, bad header */
	SL_SRTP_ERR_OTHER,   /* anything else (no context, wrong direction) */
	SL_SRTP_ERR_LIMIT,   /* a new SSRC past the context's max_ssrcs */
	SL_SRTP_ERR_RETIRED, /* protect: the SSRC was retired; never reused */
};

/*
 * Once per process, before any context and before workers start:
 * srtp_init() and the OpenSSL type replacement. Returns 0 or -errno.
 * use_openssl=false keeps libsrtp2's own types (reference runs, tests).
 */
int sl_srtp_init(bool use_openssl);
void sl_srtp_shutdown(void);

/*
 * Create a context for profile (enum sl_srtp_profile) from a master key and
 * salt of the profile's lengths. inbound: unprotect direction. max_ssrcs
 * (1..SL_SRTP_MAX_SSRCS) bounds how many SSRCs the context tracks at once
 * (further SSRCs fail with SL_SRTP_ERR_LIMIT before any crypto; an outbound
 * context tracks fewer once it retires some). The caller wipes key and salt after
 * the call. Returns NULL on bad arguments or failure.
 */
struct sl_srtp *sl_srtp_create(uint16_t profile, const uint8_t *key, const uint8_t *salt,
			       bool inbound, unsigned max_ssrcs);
/* Wipes and frees; NULL is fine. */
void sl_srtp_destroy(struct sl_srtp *s);

/* One packet of a burst. len is in/out. cap is the buffer's room. */
struct sl_srtp_op {
	struct sl_srtp *ctx;
	uint8_t *buf;
	uint16_t len;
	uint16_t cap;
	uint8_t status; /* out: enum sl_srtp_status */
};

/*
 * Process n packets in order. Returns how many succeeded; each op's status
 * says which. RTCP variants handle the SRTCP index and E bit.
 */
unsigned sl_srtp_protect_burst(struct sl_srtp_op *ops, unsigned n);
unsigned sl_srtp_unprotect_burst(struct sl_srtp_op *ops, unsigned n);
unsigned sl_srtcp_protect_burst(struct sl_srtp_op *ops, unsigned n);
unsigned sl_srtcp_unprotect_burst(struct sl_srtp_op *ops, unsigned n);

/*
 * Outbound only: forget ssrc's SRTP state (libsrtp2 srtp_remove_stream) and
 * record it as retired, so it is never protected again under this key. The
 * SSRC need not have been used. Returns 0; -ENOSPC when the record is full
 * (the context then refuses every SSRC it does not track: safe, not silent);
 * -EINVAL for NULL or an inbound context. Not for the fast path.
 */
int sl_srtp_retire(struct sl_srtp *s, uint32_t ssrc);
/* Outbound: has this context ever used ssrc (tracked now, or retired), or can
 * it no longer tell (record full)? false for NULL. */
bool sl_srtp_ssrc_used(const struct sl_srtp *s, uint32_t ssrc);
/* Outbound: how many more SSRCs the retired record can take. */
unsigned sl_srtp_retired_room(const struct sl_srtp *s);

/* The protect trailer length of a profile (10 for CM-SHA1-80, 16 for GCM). */
unsigned sl_srtp_tag_len(uint16_t profile);

#endif
