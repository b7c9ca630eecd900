/*
 * stun.h - ICE-lite connectivity checks, through libnice's STUN library.
 *
 * The dataplane sends every STUN packet up; this module decides whether it
 * is a valid ICE binding request for one of our endpoints (RFC 8445 7.3:
 * USERNAME "ourufrag:theirufrag", MESSAGE-INTEGRITY with our ice-pwd,
 * FINGERPRINT) and builds the success response (XOR-MAPPED-ADDRESS,
 * MESSAGE-INTEGRITY, FINGERPRINT). Anything else gets no response: wrong
 * ufrag, bad integrity, missing fingerprint, indications, responses,
 * malformed bytes. It keeps no state between calls.
 *
 * Ownership: pure functions over the caller's buffers; nothing allocated
 * that outlives a call.
 */
#ifndef SLUICE_CP_STUN_H
#define SLUICE_CP_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SL_STUN_MAX_UFRAG 256 /* RFC 8839: ufrag 4-256 chars */

/*
 * Read the local part of USERNAME ("local:remote") of a STUN binding
 * request, without checking anything else, so the caller can find the
 * endpoint (and its password) the request claims to be for. Writes it
 * NUL-terminated into ufrag (cap bytes). Returns its length, or -EBADMSG
 * (not a STUN binding request, no USERNAME, no ':' in it, too long).
 */
int sl_stun_local_ufrag(const uint8_t *pkt, size_t len, char *ufrag, size_t cap);

/* What a valid check said. */
struct sl_stun_check {
	bool use_candidate; /* USE-CANDIDATE present (the peer nominates) */
	bool controlling;   /* ICE-CONTROLLING present (else ICE-CONTROLLED) */
	uint32_t priority;  /* PRIORITY */
};

/*
 * Validate a binding request for our endpoint with credentials local_ufrag
 * / local_pwd and (when remote_ufrag is not NULL) the peer's ufrag from its
 * SDP, and build the success response to the source address from.
 * resp (cap bytes) receives the response; *resp_len its length, which is
 * never larger than len (a response that would be larger is not built:
 * -EMSGSIZE). Returns 0 when the request is valid and answered; -EACCES for
 * a wrong ufrag, bad MESSAGE-INTEGRITY or missing FINGERPRINT/USERNAME/
 * MESSAGE-INTEGRITY; -EBADMSG for malformed bytes or anything that is not
 * a binding request. On error *resp_len is 0 and nothing is written to
 * the caller's check.
 */
int sl_stun_answer(const uint8_t *pkt, size_t len, const struct sockaddr *from, socklen_t from_len,
		   const char *local_ufrag, const char *local_pwd, const char *remote_ufrag,
		   uint8_t *resp, size_t cap, size_t *resp_len, struct sl_stun_check *check);

#endif
