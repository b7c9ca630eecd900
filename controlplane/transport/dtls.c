/*
 * dtls.c - the one place Sluice talks to OpenSSL's DTLS: a DTLS 1.2
 * handshake per endpoint, fed datagrams by the caller, ending in SRTP keys.
 * We are the DTLS server when the peer answered a=setup:active and the
 * client (SSL_set_connect_state; our ClientHello goes out at once) when it
 * answered a=setup:passive; everything below applies to both roles.
 *
 * One SSL_CTX per certificate carries all policy (DTLS 1.2 only, ECDHE
 * suites with AEAD first, use_srtp, a peer certificate required, no
 * renegotiation, no resumption). Each endpoint's SSL reads and writes
 * through one small custom BIO: a read hands OpenSSL the single datagram
 * being fed (nothing queues across calls), a write is one datagram passed
 * to the send callback; with SSL_OP_NO_QUERY_MTU and an MTU of 1,200 none
 * is larger. Authentication is the SDP fingerprint, not a CA: chain
 * verification is replaced by a sha-256 comparison of the leaf
 * (CRYPTO_memcmp; bad_certificate otherwise), repeated when the handshake
 * completes, and keys are exported only in CONNECTED.
 *
 * Clocks: the handshake deadline uses the caller's monotonic now_ms;
 * retransmissions are timed by OpenSSL's own clock (gettimeofday in 3.0,
 * 1 s doubling to 60 s). sl_dtls_next_timer reports the nearer of the two,
 * sl_dtls_tick lets OpenSSL retransmit when its timer has run out. Both
 * advance in real time; a wall-clock step can move a retransmission, never
 * the deadline.
 *
 * Untrusted input is bounded: a datagram over 1,500 bytes, one that does
 * not split exactly into DTLS records, or a 65th datagram before the
 * handshake completes fails it; OpenSSL caps message sizes and gives up
 * after 12 retransmissions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dtls.h"

#define SL_DTLS_MTU       1200 /* largest datagram we send */
#define SL_DTLS_MAX_IN    1500 /* largest datagram we accept */
#define SL_DTLS_MAX_HS_IN 64   /* datagrams allowed before the handshake is done */
#define SL_DTLS_MAX_READS 8    /* records handled per datagram after connect */
#define SL_DTLS_REC_HDR   13   /* DTLS record header length */

static const char cipher_list[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA";
static const char srtp_profiles[] =
	"SRTP_AEAD_AES_256_GCM:SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
static const char srtp_label[] = "EXTRACTOR-dtls_srtp";

struct sl_dtls_cert {
	SSL_CTX *ctx;
	BIO_METHOD *bio_method;
	char fp[96];
};

struct sl_dtls {
	SSL *ssl;
	sl_dtls_send_fn send;
	void *arg;
	const uint8_t *in; /* the datagram being fed, NULL once read */
	size_t in_len;
	uint64_t deadline_ms;
	uint64_t started_ms;
	unsigned n_in;
	bool client; /* we are the DTLS client (the peer answered passive) */
	enum sl_dtls_state state;
	bool fp_mismatch;
	const char *error;
	uint8_t remote_fp[32];
};

static void set_err(char *err, size_t errlen, const char *what, const char *path)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s%s", what, path ? ": " : "", path ? path : "");
}

/* ---- the datagram BIO ---- */

static int bio_write(BIO *b, const char *buf, int len)
{
	struct sl_dtls *d = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	d->send(d->arg, (const uint8_t *)buf, (size_t)len);
	return len;
}

static int bio_read(BIO *b, char *buf, int len)
{
	struct sl_dtls *d = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (!d->in || len <= 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = d->in_len < (size_t)len ? d->in_len : (size_t)len;
	memcpy(buf, d->in, n);
	d->in = NULL;
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return SL_DTLS_MTU;
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *bio_method_new(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sluice-dtls");

	if (!m)
		return NULL;
	if (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create)) {
		BIO_meth_free(m);
		return NULL;
	}
	return m;
}

/* ---- fingerprints and certificate checks ---- */

static bool sha256_of(X509 *x, unsigned char md[EVP_MAX_MD_SIZE])
{
	unsigned int n = 0;

	return x && X509_digest(x, EVP_sha256(), md, &n) && n == 32;
}

static bool fp_matches(X509 *x, const uint8_t fp[32])
{
	unsigned char md[EVP_MAX_MD_SIZE];

	return sha256_of(x, md) && CRYPTO_memcmp(md, fp, 32) == 0;
}

static bool fp_format(X509 *x, char out[96])
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int i;

	if (!sha256_of(x, md))
		return false;
	for (i = 0; i < 32; i++) {
		out[3 * i] = hex[md[i] >> 4];
		out[3 * i + 1] = hex[md[i] & 15];
		out[3 * i + 2] = i == 31 ? '\0' : ':';
	}
	return true;
}

/*
 * Replaces chain verification: a WebRTC peer's certificate is self-signed
 * and authenticated only by the fingerprint from its SDP. OpenSSL still
 * checks the CertificateVerify signature against this leaf.
 */
static int verify_peer(X509_STORE_CTX *xs, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct sl_dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;

	(void)arg;
	if (d && fp_matches(X509_STORE_CTX_get0_cert(xs), d->remote_fp))
		return 1;
	if (d)
		d->fp_mismatch = true;
	X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
	return 0;
}

/* ---- certificate generation, files, context ---- */

static EVP_PKEY *key_generate(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static bool cert_set_serial(X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn;
	bool ok;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return false;
	b[0] = (b[0] & 0x7f) | 0x40; /* positive, 127 bits of entropy kept non-zero */
	bn = BN_bin2bn(b, sizeof(b), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	return ok;
}

static X509 *cert_generate(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;

	if (!x || !X509_set_version(x, X509_VERSION_3) || !cert_set_serial(x))
		goto free_x;
	if (!X509_gmtime_adj(X509_getm_notBefore(x), -86400L) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400L))
		goto free_x;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"sluice",
					-1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key) ||
	    X509_sign(x, key, EVP_sha256()) <= 0)
		goto free_x;
	return x;
free_x:
	X509_free(x);
	return NULL;
}

/* Create path exclusively with mode (never follow or replace a file). */
static FILE *open_new(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

static bool close_synced(FILE *f, bool ok)
{
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	return fclose(f) == 0 && ok;
}

static int save_pair(const char *cert_path, const char *key_path, X509 *x, EVP_PKEY *key)
{
	FILE *f = open_new(key_path, 0600);

	if (!f)
		return -errno;
	if (!close_synced(f, PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)))
		goto unlink_key;
	f = open_new(cert_path, 0644);
	if (!f)
		goto unlink_key;
	if (!close_synced(f, PEM_write_X509(f, x)))
		goto unlink_cert;
	return 0;
unlink_cert:
	unlink(cert_path);
unlink_key:
	unlink(key_path);
	return -EIO;
}

/* Never prompt for a passphrase: an encrypted key simply fails to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

static bool is_p256(EVP_PKEY *key)
{
	char name[32];

	return EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_group_name(key, name, sizeof(name), NULL) &&
	       strcmp(name, "prime256v1") == 0;
}

static int load_pair(const char *cert_path, const char *key_path, X509 **x, EVP_PKEY **key)
{
	FILE *f = fopen(cert_path, "re");

	if (!f)
		return -errno;
	*x = PEM_read_X509(f, NULL, no_passphrase, NULL);
	fclose(f);
	f = fopen(key_path, "re");
	if (!f)
		return -errno;
	*key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (!*x || !*key)
		return -EBADMSG;
	return is_p256(*key) ? 0 : -EINVAL;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* Load both files, or generate a pair (and save it when both paths are given). */
static const char *obtain_pair(const char *cert_path, const char *key_path, X509 **x,
			       EVP_PKEY **key)
{
	bool have_cert = cert_path && exists(cert_path), have_key = key_path && exists(key_path);

	if (have_cert && have_key)
		return load_pair(cert_path, key_path, x, key)
			       ? "cannot load P-256 certificate and key"
			       : NULL;
	if (have_cert || have_key)
		return "only one of certificate and key file exists";
	*key = key_generate();
	*x = *key ? cert_generate(*key) : NULL;
	if (!*x)
		return "cannot generate certificate";
	if (cert_path && key_path && save_pair(cert_path, key_path, *x, *key))
		return "cannot save certificate or key";
	return NULL;
}

static SSL_CTX *ctx_new(X509 *x, EVP_PKEY *key)
{
	SSL_CTX *ctx = SSL_CTX_new(DTLS_method()); /* either role, chosen per SSL */

	if (!ctx)
		return NULL;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET |
					 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_peer, NULL);
	if (!SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, cipher_list) ||
	    !SSL_CTX_set1_groups_list(ctx, "X25519:P-256") ||
	    SSL_CTX_set_tlsext_use_srtp(ctx, srtp_profiles) != 0 || /* 0 is success */
	    SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct sl_dtls_cert *sl_dtls_cert_new(const char *cert_path, const char *key_path, char *err,
				      size_t errlen)
{
	struct sl_dtls_cert *c = calloc(1, sizeof(*c));
	X509 *x = NULL;
	EVP_PKEY *key = NULL;
	const char *why;

	if (!c) {
		set_err(err, errlen, "out of memory", NULL);
		return NULL;
	}
	why = obtain_pair(cert_path, key_path, &x, &key);
	if (why) {
		set_err(err, errlen, why, cert_path);
		goto free_c;
	}
	c->bio_method = bio_method_new();
	c->ctx = c->bio_method ? ctx_new(x, key) : NULL;
	if (!c->ctx || !fp_format(x, c->fp)) {
		set_err(err, errlen, "cannot set up DTLS with certificate", cert_path);
		goto free_c;
	}
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return c;
free_c:
	X509_free(x);
	EVP_PKEY_free(key);
	sl_dtls_cert_free(c);
	ERR_clear_error();
	return NULL;
}

void sl_dtls_cert_free(struct sl_dtls_cert *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	BIO_meth_free(c->bio_method);
	free(c);
}

const char *sl_dtls_cert_fingerprint(const struct sl_dtls_cert *c)
{
	return c->fp;
}

/* ---- per-endpoint handshake ---- */

static enum sl_dtls_state handshake_step(struct sl_dtls *d);

static struct sl_dtls *dtls_new(struct sl_dtls_cert *c, const uint8_t remote_fp[32],
				sl_dtls_send_fn send, void *arg, uint64_t now_ms,
				uint32_t timeout_ms, bool client)
{
	struct sl_dtls *d;
	BIO *bio;

	if (!c || !remote_fp || !send)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->send = send;
	d->arg = arg;
	d->deadline_ms = now_ms + timeout_ms;
	d->started_ms = now_ms;
	d->error = "";
	memcpy(d->remote_fp, remote_fp, 32);
	d->ssl = SSL_new(c->ctx);
	bio = d->ssl ? BIO_new(c->bio_method) : NULL;
	if (!bio)
		goto free_ssl;
	BIO_set_data(bio, d);
	SSL_set_bio(d->ssl, bio, bio); /* one reference, owned by the SSL */
	SSL_set_app_data(d->ssl, d);
	d->client = client;
	if (client)
		SSL_set_connect_state(d->ssl);
	else
		SSL_set_accept_state(d->ssl);
	if (!SSL_set_mtu(d->ssl, SL_DTLS_MTU))
		goto free_ssl;
	if (client) { /* the ClientHello goes out through send now */
		ERR_clear_error();
		handshake_step(d);
		ERR_clear_error();
	}
	return d;
free_ssl:
	SSL_free(d->ssl);
	free(d);
	ERR_clear_error();
	return NULL;
}

struct sl_dtls *sl_dtls_new(struct sl_dtls_cert *c, const uint8_t remote_fp[32],
			    sl_dtls_send_fn send, void *arg, uint64_t now_ms, uint32_t timeout_ms)
{
	return dtls_new(c, remote_fp, send, arg, now_ms, timeout_ms, false);
}

struct sl_dtls *sl_dtls_new_client(struct sl_dtls_cert *c, const uint8_t remote_fp[32],
				   sl_dtls_send_fn send, void *arg, uint64_t now_ms,
				   uint32_t timeout_ms)
{
	return dtls_new(c, remote_fp, send, arg, now_ms, timeout_ms, true);
}

void sl_dtls_free(struct sl_dtls *d)
{
	if (!d)
		return;
	SSL_free(d->ssl);
	free(d);
}

static enum sl_dtls_state fail(struct sl_dtls *d, const char *why)
{
	if (d->state == SL_DTLS_HANDSHAKING || d->state == SL_DTLS_CONNECTED) {
		d->state = SL_DTLS_FAILED;
		d->error = d->fp_mismatch ? "fingerprint mismatch" : why;
	}
	return d->state;
}

/* A short static reason for the error OpenSSL just queued. */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	int r = ERR_GET_REASON(e);

	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return "handshake failed";
	if (r >= SSL_AD_REASON_OFFSET)
		return "fatal alert from peer";
	switch (r) {
	case SSL_R_NO_SHARED_CIPHER:
		return "no shared cipher";
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		return "no peer certificate";
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_VERSION_TOO_LOW:
		return "unsupported protocol version";
	case SSL_R_CERTIFICATE_VERIFY_FAILED:
		return "certificate rejected";
	default:
		return "handshake failed";
	}
}

static uint16_t profile_of(SSL *ssl)
{
	const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(ssl);

	switch (p ? p->id : 0) {
	case SRTP_AES128_CM_SHA1_80:
		return SL_SRTP_AES128_CM_SHA1_80;
	case SRTP_AEAD_AES_128_GCM:
		return SL_SRTP_AEAD_AES_128_GCM;
	case SRTP_AEAD_AES_256_GCM:
		return SL_SRTP_AEAD_AES_256_GCM;
	default:
		return 0;
	}
}

static enum sl_dtls_state connected(struct sl_dtls *d)
{
	if (!fp_matches(SSL_get0_peer_certificate(d->ssl), d->remote_fp)) {
		d->fp_mismatch = true;
		return fail(d, "fingerprint mismatch");
	}
	if (!profile_of(d->ssl))
		return fail(d, "no SRTP profile");
	d->state = SL_DTLS_CONNECTED;
	return d->state;
}

static enum sl_dtls_state handshake_step(struct sl_dtls *d)
{
	int r = SSL_do_handshake(d->ssl);

	if (r == 1)
		return connected(d);
	switch (SSL_get_error(d->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return d->state;
	default:
		return fail(d, ssl_reason());
	}
}

/*
 * After the handshake: retransmitted Finished (answered by OpenSSL),
 * alerts, refused renegotiations. Application data has no reader here and
 * is dropped.
 */
static enum sl_dtls_state read_step(struct sl_dtls *d)
{
	unsigned char buf[SL_DTLS_MAX_IN];
	int i, r;

	for (i = 0; i < SL_DTLS_MAX_READS; i++) {
		r = SSL_read(d->ssl, buf, sizeof(buf));
		if (r > 0)
			continue;
		switch (SSL_get_error(d->ssl, r)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			return d->state;
		case SSL_ERROR_ZERO_RETURN:
			d->state = SL_DTLS_CLOSED;
			d->error = "closed by peer";
			return d->state;
		default:
			d->state = SL_DTLS_CLOSED;
			d->error = "fatal alert after connect";
			return d->state;
		}
	}
	return d->state;
}

/* True when the datagram splits exactly into DTLS 1.x record headers and bodies. */
static bool records_ok(const uint8_t *p, size_t len)
{
	size_t body;

	if (!p || len == 0)
		return false;
	while (len) {
		if (len < SL_DTLS_REC_HDR || p[0] < 20 || p[0] > 23 || p[1] != 0xfe)
			return false;
		body = (size_t)p[11] << 8 | p[12];
		if (body > len - SL_DTLS_REC_HDR)
			return false;
		p += SL_DTLS_REC_HDR + body;
		len -= SL_DTLS_REC_HDR + body;
	}
	return true;
}

enum sl_dtls_state sl_dtls_input(struct sl_dtls *d, const uint8_t *data, size_t len,
				 uint64_t now_ms)
{
	bool hs = d->state == SL_DTLS_HANDSHAKING;
	bool ok = len <= SL_DTLS_MAX_IN && records_ok(data, len);

	if (!hs && d->state != SL_DTLS_CONNECTED)
		return d->state;
	if (!hs && !ok)
		return d->state; /* not ours to act on; the session is authenticated */
	if (hs && now_ms >= d->deadline_ms)
		return fail(d, "handshake timeout");
	if (hs && len > SL_DTLS_MAX_IN)
		return fail(d, "oversized datagram");
	if (hs && !ok)
		return fail(d, "malformed record");
	if (hs && ++d->n_in > SL_DTLS_MAX_HS_IN)
		return fail(d, "too many handshake datagrams");
	d->in = data;
	d->in_len = len;
	ERR_clear_error();
	if (hs)
		handshake_step(d);
	else
		read_step(d);
	ERR_clear_error();
	d->in = NULL;
	return d->state;
}

enum sl_dtls_state sl_dtls_tick(struct sl_dtls *d, uint64_t now_ms)
{
	if (d->state != SL_DTLS_HANDSHAKING)
		return d->state;
	if (now_ms >= d->deadline_ms)
		return fail(d, "handshake timeout");
	ERR_clear_error();
	if (DTLSv1_handle_timeout(d->ssl) < 0)
		fail(d, "too many retransmissions");
	ERR_clear_error();
	return d->state;
}

uint32_t sl_dtls_next_timer(const struct sl_dtls *d, uint64_t now_ms)
{
	struct timeval tv;
	uint64_t ms;

	if (d->state != SL_DTLS_HANDSHAKING)
		return UINT32_MAX;
	ms = d->deadline_ms > now_ms ? d->deadline_ms - now_ms : 0;
	if (DTLSv1_get_timeout(d->ssl, &tv) > 0) {
		uint64_t t = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;

		ms = t < ms ? t : ms;
	}
	return ms < UINT32_MAX ? (uint32_t)ms : UINT32_MAX - 1;
}

enum sl_dtls_state sl_dtls_state(const struct sl_dtls *d)
{
	return d->state;
}

uint64_t sl_dtls_started_ms(const struct sl_dtls *d)
{
	return d->started_ms;
}

const char *sl_dtls_error(const struct sl_dtls *d)
{
	return d->error;
}

int sl_dtls_srtp_keys(struct sl_dtls *d, uint16_t *profile, struct sl_ctl_key *rx,
		      struct sl_ctl_key *tx)
{
	uint8_t km[2 * (32 + 14)];
	uint16_t p = d->state == SL_DTLS_CONNECTED ? profile_of(d->ssl) : 0;
	size_t kl = sl_srtp_profile_key_len(p), sl = sl_srtp_profile_salt_len(p);
	int ret = -EIO;

	*profile = 0;
	memset(rx, 0, sizeof(*rx));
	memset(tx, 0, sizeof(*tx));
	if (!p || !kl)
		return -EPERM;
	/* RFC 5764 4.2: client key | server key | client salt | server salt;
	 * the peer protects with the other role's. */
	if (SSL_export_keying_material(d->ssl, km, 2 * (kl + sl), srtp_label,
				       sizeof(srtp_label) - 1, NULL, 0, 0) == 1) {
		size_t peer = d->client ? 1 : 0, ours = 1 - peer;

		memcpy(rx->key, km + peer * kl, kl);
		memcpy(tx->key, km + ours * kl, kl);
		memcpy(rx->salt, km + 2 * kl + peer * sl, sl);
		memcpy(tx->salt, km + 2 * kl + ours * sl, sl);
		*profile = p;
		ret = 0;
	}
	OPENSSL_cleanse(km, sizeof(km));
	ERR_clear_error();
	return ret;
}
