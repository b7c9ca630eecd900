/*
 * dtls.h - DTLS-SRTP handshakes (server or client) with OpenSSL over memory BIOs.
 *
 * One sl_dtls_cert per deployment holds the ECDSA P-256 certificate and key
 * (loaded from PEM files, or generated at first start and saved with mode
 * 0600) and its sha-256 fingerprint for the SDP. One sl_dtls per endpoint
 * runs a DTLS 1.2 handshake (ECDHE suites only, forward secrecy; use_srtp
 * offering AEAD_AES_256_GCM, AEAD_AES_128_GCM and AES128_CM_SHA1_80;
 * renegotiation refused; a peer certificate required), as the server
 * (sl_dtls_new: the peer answered a=setup:active) or as the client
 * (sl_dtls_new_client: it answered a=setup:passive), fed with datagrams by
 * the caller; records to send come back through a
 * callback. Nothing touches a socket: the caller sends through the
 * dataplane.
 *
 * When the handshake completes, the peer certificate's sha-256 digest is
 * compared with the one from the peer's SDP. Only when it matches are SRTP
 * keys exported (SSL_export_keying_material, "EXTRACTOR-dtls_srtp").
 *
 * Ownership: sl_dtls_cert_new/free and sl_dtls_new/free pair up; an
 * sl_dtls keeps a pointer to its cert, which must outlive it. Exported keys
 * are written into the caller's structs; the caller wipes them.
 */
#ifndef SLUICE_CP_DTLS_H
#define SLUICE_CP_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/ctl.h>

struct sl_dtls_cert;
struct sl_dtls;

/*
 * Load cert_path and key_path (PEM). When both files are missing, generate
 * a P-256 key and a self-signed certificate (CN "sluice", 1 year) and save
 * them there (key mode 0600) - unless either path is NULL, then keep them
 * in memory only. Returns NULL on error with a reason in err (errlen bytes).
 */
struct sl_dtls_cert *sl_dtls_cert_new(const char *cert_path, const char *key_path, char *err,
				      size_t errlen);
void sl_dtls_cert_free(struct sl_dtls_cert *c);
/* "AB:CD:..." upper-case sha-256 of the certificate (95 chars + NUL). */
const char *sl_dtls_cert_fingerprint(const struct sl_dtls_cert *c);

/* Called with each datagram the handshake wants sent (a whole DTLS flight
 * record, at most 1,200 bytes). */
typedef void (*sl_dtls_send_fn)(void *arg, const uint8_t *data, size_t len);

enum sl_dtls_state {
	SL_DTLS_HANDSHAKING = 0,
	SL_DTLS_CONNECTED = 1, /* done, fingerprint matched, keys available */
	SL_DTLS_FAILED = 2,    /* handshake error, fingerprint mismatch or timeout */
	SL_DTLS_CLOSED = 3,    /* the peer sent close_notify after connecting */
};

/*
 * A server-side handshake expecting a peer certificate whose sha-256 digest
 * is remote_fp (32 bytes, from the peer's a=fingerprint). now_ms is a
 * monotonic clock in milliseconds; the handshake fails if not done within
 * timeout_ms of creation. Returns NULL on allocation failure.
 */
struct sl_dtls *sl_dtls_new(struct sl_dtls_cert *c, const uint8_t remote_fp[32],
			    sl_dtls_send_fn send, void *arg, uint64_t now_ms, uint32_t timeout_ms);
/* The same as the DTLS client: the ClientHello is sent (through send)
 * before this returns; retransmissions come from sl_dtls_tick. */
struct sl_dtls *sl_dtls_new_client(struct sl_dtls_cert *c, const uint8_t remote_fp[32],
				   sl_dtls_send_fn send, void *arg, uint64_t now_ms,
				   uint32_t timeout_ms);
void sl_dtls_free(struct sl_dtls *d);

/*
 * Feed one received datagram. Returns the state after it. Datagrams after
 * CONNECTED are alerts (close_notify -> CLOSED) or refused renegotiations
 * (answered with a no_renegotiation alert, state unchanged). Oversized or
 * garbage input fails the handshake; it never crashes.
 */
enum sl_dtls_state sl_dtls_input(struct sl_dtls *d, const uint8_t *data, size_t len,
				 uint64_t now_ms);

/* Retransmit a flight or time out; call at least every next_timer ms. */
enum sl_dtls_state sl_dtls_tick(struct sl_dtls *d, uint64_t now_ms);
/* Milliseconds until sl_dtls_tick has something to do (UINT32_MAX: never). */
uint32_t sl_dtls_next_timer(const struct sl_dtls *d, uint64_t now_ms);

enum sl_dtls_state sl_dtls_state(const struct sl_dtls *d);
/* The now_ms given when d was created: the handshake's start (for its latency). */
uint64_t sl_dtls_started_ms(const struct sl_dtls *d);
/* Why it failed, for logs (no addresses, no key material), or "". */
const char *sl_dtls_error(const struct sl_dtls *d);

/*
 * The negotiated profile (enum sl_srtp_profile) and SRTP master keys: rx is
 * what the peer protects with (the client-write keys when we are the
 * server, the server-write keys when we are the client), tx what we protect
 * with.
 * Returns 0, or -EPERM unless the state is CONNECTED. Wipes the exporter
 * output it used; the caller wipes rx and tx.
 */
int sl_dtls_srtp_keys(struct sl_dtls *d, uint16_t *profile, struct sl_ctl_key *rx,
		      struct sl_ctl_key *tx);

#endif
