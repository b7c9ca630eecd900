/*
 * test_dtls.c - the DTLS-SRTP server module against a real OpenSSL DTLS
 * client, in memory.
 *
 * The client is a plain OpenSSL DTLS_client_method SSL on memory BIOs with
 * its own self-signed certificate; the test moves datagrams between it and
 * the module (whole records, packed up to 1,200 bytes as a browser would)
 * and can drop a flight. Checked: the handshake for each SRTP profile, with
 * the module's rx/tx keys equal to the client's own exporter output split
 * per RFC 5764 4.2; fingerprint mismatch, missing client certificate,
 * non-ECDHE or NULL ciphers, DTLS 1.0 and a missing use_srtp all fail and
 * export nothing; client renegotiation is refused and changes nothing;
 * close_notify closes; garbage, oversized, truncated, zero-length and
 * mutated input fails or is ignored without crashing (run under ASan);
 * the handshake deadline and the input cap hold; a dropped flight is
 * retransmitted; certificates are generated, saved 0600 and reloaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sluice/ctl.h>

#include "dtls.h"

#define T0      1000u
#define TIMEOUT 10000u
#define MAXQ    64
#define DGRAM   1200

struct dgram {
	size_t len;
	uint8_t b[1600];
};

struct pair {
	struct sl_dtls *s;
	SSL_CTX *cctx;
	SSL *c;
	BIO *crd, *cwr;
	struct dgram q[MAXQ];
	unsigned nq, sends;
	size_t max_len;
	int crc;
	unsigned long cerr; /* the client's last OpenSSL error */
};

struct copts {
	const char *srtp; /* NULL: no use_srtp */
	bool no_cert;
	const char *ciphers;
	int max_ver;
	bool bad_fp;
	bool rsa; /* an RSA-3072 client certificate (its flight is fragmented) */
};

static struct sl_dtls_cert *server_cert;
static EVP_PKEY *client_key;
static X509 *client_x509;
static uint8_t client_fp[32];
static EVP_PKEY *rsa_key;
static X509 *rsa_x509;
static uint8_t rsa_fp[32];

static void on_send(void *arg, const uint8_t *data, size_t len)
{
	struct pair *p = arg;

	p->sends++;
	if (len > p->max_len)
		p->max_len = len;
	if (p->nq < MAXQ && len <= sizeof(p->q[0].b)) {
		memcpy(p->q[p->nq].b, data, len);
		p->q[p->nq++].len = len;
	}
}

static X509 *make_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *n;

	assert_non_null(x);
	assert_true(X509_set_version(x, X509_VERSION_3));
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"client", -1, -1,
				   0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static int group_setup(void **state)
{
	char err[256] = "";
	unsigned int n = 0;

	(void)state;
	server_cert = sl_dtls_cert_new(NULL, NULL, err, sizeof(err));
	client_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!server_cert || !client_key)
		return -1;
	client_x509 = make_cert(client_key);
	X509_digest(client_x509, EVP_sha256(), client_fp, &n);
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	if (!rsa_key || n != 32)
		return -1;
	rsa_x509 = make_cert(rsa_key);
	X509_digest(rsa_x509, EVP_sha256(), rsa_fp, &n);
	return n == 32 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	sl_dtls_cert_free(server_cert);
	X509_free(client_x509);
	EVP_PKEY_free(client_key);
	X509_free(rsa_x509);
	EVP_PKEY_free(rsa_key);
	return 0;
}

static SSL_CTX *client_ctx(const struct copts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());

	assert_non_null(ctx);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (o->srtp)
		assert_int_equal(SSL_CTX_set_tlsext_use_srtp(ctx, o->srtp), 0);
	if (!o->no_cert) {
		assert_int_equal(SSL_CTX_use_certificate(ctx, o->rsa ? rsa_x509 : client_x509), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey(ctx, o->rsa ? rsa_key : client_key), 1);
	}
	if (o->ciphers || o->max_ver)
		SSL_CTX_set_security_level(ctx, 0);
	if (o->ciphers)
		assert_int_equal(SSL_CTX_set_cipher_list(ctx, o->ciphers), 1);
	if (o->max_ver) {
		SSL_CTX_set_min_proto_version(ctx, o->max_ver);
		SSL_CTX_set_max_proto_version(ctx, o->max_ver);
	}
	return ctx;
}

static void pair_init(struct pair *p, const struct copts *o)
{
	uint8_t fp[32];

	memset(p, 0, sizeof(*p));
	memcpy(fp, o->rsa ? rsa_fp : client_fp, 32);
	if (o->bad_fp)
		fp[31] ^= 1;
	p->s = sl_dtls_new(server_cert, fp, on_send, p, T0, TIMEOUT);
	assert_non_null(p->s);
	p->cctx = client_ctx(o);
	p->c = SSL_new(p->cctx);
	p->crd = BIO_new(BIO_s_mem());
	p->cwr = BIO_new(BIO_s_mem());
	assert_true(p->c && p->crd && p->cwr);
	BIO_set_mem_eof_return(p->crd, -1);
	BIO_set_mem_eof_return(p->cwr, -1);
	SSL_set_bio(p->c, p->crd, p->cwr);
	SSL_set_options(p->c, SSL_OP_NO_QUERY_MTU);
	SSL_set_mtu(p->c, DGRAM);
	SSL_set_connect_state(p->c);
}

static void pair_free(struct pair *p)
{
	sl_dtls_free(p->s);
	SSL_free(p->c);
	SSL_CTX_free(p->cctx);
	ERR_clear_error();
}

static void client_step(struct pair *p)
{
	uint8_t b[256];

	ERR_clear_error();
	if (!SSL_is_init_finished(p->c) || SSL_renegotiate_pending(p->c))
		p->crc = SSL_do_handshake(p->c);
	else
		p->crc = SSL_read(p->c, b, sizeof(b));
	p->cerr = ERR_peek_last_error();
}

/* Everything the client wrote, as datagrams of whole records (<= DGRAM bytes). */
static unsigned client_out(struct pair *p, struct dgram *out, unsigned max)
{
	static uint8_t buf[65536];
	size_t n = 0, off = 0;
	unsigned nd = 0;
	int r;

	while ((r = BIO_read(p->cwr, buf + n, (int)(sizeof(buf) - n))) > 0)
		n += (size_t)r;
	while (off + 13 <= n && nd < max) {
		size_t rl = 13 + ((size_t)buf[off + 11] << 8 | buf[off + 12]);

		assert_true(off + rl <= n);
		if (out[nd].len && out[nd].len + rl > DGRAM)
			nd++;
		if (nd == max)
			break;
		memcpy(out[nd].b + out[nd].len, buf + off, rl);
		out[nd].len += rl;
		off += rl;
	}
	return n ? nd + 1 : 0;
}

static unsigned to_server(struct pair *p, bool drop)
{
	static struct dgram d[MAXQ];
	unsigned i, nd;

	memset(d, 0, sizeof(d));
	nd = client_out(p, d, MAXQ);
	for (i = 0; i < nd && !drop; i++)
		sl_dtls_input(p->s, d[i].b, d[i].len, T0 + 1);
	return nd;
}

static unsigned to_client(struct pair *p, bool drop)
{
	unsigned i, n = p->nq;

	for (i = 0; i < n; i++) {
		if (!drop)
			BIO_write(p->crd, p->q[i].b, (int)p->q[i].len);
		client_step(p);
	}
	p->nq = 0;
	return n;
}

static void run(struct pair *p)
{
	int i;

	client_step(p);
	for (i = 0; i < 20; i++) {
		unsigned moved = to_server(p, false);

		moved += to_client(p, false);
		if (!moved)
			break;
	}
}

static void connect_pair(struct pair *p, const char *srtp)
{
	struct copts o = { .srtp = srtp };

	pair_init(p, &o);
	run(p);
	assert_string_equal(sl_dtls_error(p->s), "");
	assert_int_equal(sl_dtls_state(p->s), SL_DTLS_CONNECTED);
	assert_true(SSL_is_init_finished(p->c));
}

static bool all_zero(const void *v, size_t n)
{
	const uint8_t *b = v;

	while (n--)
		if (*b++)
			return false;
	return true;
}

static void check_keys(struct pair *p, uint16_t want)
{
	struct sl_ctl_key rx, tx;
	uint16_t prof = 0;
	uint8_t km[2 * (32 + 14)];
	size_t kl = sl_srtp_profile_key_len(want), sl = sl_srtp_profile_salt_len(want);

	assert_int_equal(sl_dtls_srtp_keys(p->s, &prof, &rx, &tx), 0);
	assert_int_equal(prof, want);
	assert_int_equal(SSL_get_selected_srtp_profile(p->c)->id, want);
	assert_int_equal(SSL_export_keying_material(p->c, km, 2 * (kl + sl), "EXTRACTOR-dtls_srtp",
						    19, NULL, 0, 0),
			 1);
	assert_memory_equal(rx.key, km, kl);
	assert_memory_equal(tx.key, km + kl, kl);
	assert_memory_equal(rx.salt, km + 2 * kl, sl);
	assert_memory_equal(tx.salt, km + 2 * kl + sl, sl);
	assert_memory_not_equal(rx.key, tx.key, kl);
	assert_true(all_zero(rx.key + kl, sizeof(rx.key) - kl));
	assert_true(all_zero(tx.salt + sl, sizeof(tx.salt) - sl));
	assert_true(all_zero(rx.pad, 2) && all_zero(tx.pad, 2));
}

static void check_no_keys(struct pair *p)
{
	struct sl_ctl_key rx, tx;
	uint16_t prof = 0;

	memset(&rx, 0, sizeof(rx));
	memset(&tx, 0, sizeof(tx));
	assert_int_equal(sl_dtls_srtp_keys(p->s, &prof, &rx, &tx), -EPERM);
	assert_int_equal(prof, 0);
	assert_true(all_zero(&rx, sizeof(rx)) && all_zero(&tx, sizeof(tx)));
}

/* (a) each profile, keys per RFC 5764 4.2, datagram size, server fingerprint */
static void test_profiles(void **state)
{
	static const struct {
		const char *name;
		uint16_t id;
	} t[] = {
		{ "SRTP_AES128_CM_SHA1_80", SL_SRTP_AES128_CM_SHA1_80 },
		{ "SRTP_AEAD_AES_128_GCM", SL_SRTP_AEAD_AES_128_GCM },
		{ "SRTP_AEAD_AES_256_GCM", SL_SRTP_AEAD_AES_256_GCM },
		{ "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM",
		  SL_SRTP_AEAD_AES_256_GCM },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct pair p;
		unsigned char md[32];
		unsigned int n = 0, j;
		char fp[96];

		connect_pair(&p, t[i].name);
		check_keys(&p, t[i].id);
		assert_true(p.max_len > 0 && p.max_len <= DGRAM);
		assert_int_equal(sl_dtls_next_timer(p.s, T0 + 2), UINT32_MAX);
		X509_digest(SSL_get0_peer_certificate(p.c), EVP_sha256(), md, &n);
		for (j = 0; j < 32; j++)
			snprintf(fp + 3 * j, 4, j < 31 ? "%02X:" : "%02X", md[j]);
		assert_string_equal(fp, sl_dtls_cert_fingerprint(server_cert));
		assert_true(strstr(SSL_get_cipher_name(p.c), "ECDHE") != NULL);
		pair_free(&p);
	}
}

/* an RSA client certificate: the client's flight spans several datagrams */
static void test_rsa_client(void **state)
{
	struct copts o = { .srtp = "SRTP_AES128_CM_SHA1_80", .rsa = true };
	struct pair p;

	(void)state;
	pair_init(&p, &o);
	client_step(&p);
	assert_int_equal(to_server(&p, false), 1);
	to_client(&p, false);
	assert_true(to_server(&p, false) >= 2);
	to_client(&p, false);
	assert_int_equal(sl_dtls_state(p.s), SL_DTLS_CONNECTED);
	assert_true(SSL_is_init_finished(p.c));
	check_keys(&p, SL_SRTP_AES128_CM_SHA1_80);
	pair_free(&p);
}

/*
 * The peer answered a=setup:passive: we are the DTLS client and a real
 * OpenSSL DTLS server (asking for our certificate) is the peer. Keys are
 * the other way round: rx is the server-write half of its export.
 */
static int accept_any(int ok, X509_STORE_CTX *xs)
{
	(void)ok;
	(void)xs;
	return 1;
}

static void passive_init(struct pair *p, const char *srtp, bool bad_fp)
{
	uint8_t fp[32];

	memset(p, 0, sizeof(*p));
	p->cctx = SSL_CTX_new(DTLS_server_method());
	assert_non_null(p->cctx);
	SSL_CTX_set_verify(p->cctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
	assert_int_equal(SSL_CTX_set_tlsext_use_srtp(p->cctx, srtp), 0);
	assert_int_equal(SSL_CTX_use_certificate(p->cctx, client_x509), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(p->cctx, client_key), 1);
	p->c = SSL_new(p->cctx);
	p->crd = BIO_new(BIO_s_mem());
	p->cwr = BIO_new(BIO_s_mem());
	assert_true(p->c && p->crd && p->cwr);
	BIO_set_mem_eof_return(p->crd, -1);
	BIO_set_mem_eof_return(p->cwr, -1);
	SSL_set_bio(p->c, p->crd, p->cwr);
	SSL_set_options(p->c, SSL_OP_NO_QUERY_MTU);
	SSL_set_mtu(p->c, DGRAM);
	SSL_set_accept_state(p->c);
	memcpy(fp, client_fp, 32);
	if (bad_fp)
		fp[31] ^= 1;
	p->s = sl_dtls_new_client(server_cert, fp, on_send, p, T0, TIMEOUT);
	assert_non_null(p->s);
}

static void test_passive_peer(void **state)
{
	static const struct {
		const char *name;
		uint16_t id;
	} t[] = {
		{ "SRTP_AES128_CM_SHA1_80", SL_SRTP_AES128_CM_SHA1_80 },
		{ "SRTP_AEAD_AES_128_GCM", SL_SRTP_AEAD_AES_128_GCM },
		{ "SRTP_AEAD_AES_256_GCM", SL_SRTP_AEAD_AES_256_GCM },
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sl_ctl_key rx, tx;
		uint8_t km[2 * (32 + 14)];
		size_t kl = sl_srtp_profile_key_len(t[i].id),
		       sl = sl_srtp_profile_salt_len(t[i].id);
		uint16_t prof = 0;
		unsigned char md[32];
		unsigned int n = 0;
		struct pair p;

		passive_init(&p, t[i].name, false);
		assert_int_equal(p.nq, 1); /* the ClientHello, sent at once */
		assert_int_equal(p.q[0].b[0], 22);
		assert_int_equal(p.q[0].b[13], 1);
		run(&p);
		assert_string_equal(sl_dtls_error(p.s), "");
		assert_int_equal(sl_dtls_state(p.s), SL_DTLS_CONNECTED);
		assert_true(SSL_is_init_finished(p.c));
		/* the peer (server) got our certificate */
		X509_digest(SSL_get0_peer_certificate(p.c), EVP_sha256(), md, &n);
		assert_int_equal(n, 32);
		assert_int_equal(sl_dtls_srtp_keys(p.s, &prof, &rx, &tx), 0);
		assert_int_equal(prof, t[i].id);
		assert_int_equal(SSL_export_keying_material(p.c, km, 2 * (kl + sl),
							    "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0),
				 1);
		assert_memory_equal(tx.key, km, kl); /* we write as the client */
		assert_memory_equal(rx.key, km + kl, kl);
		assert_memory_equal(tx.salt, km + 2 * kl, sl);
		assert_memory_equal(rx.salt, km + 2 * kl + sl, sl);
		assert_memory_not_equal(rx.key, tx.key, kl);
		pair_free(&p);
	}
}

/* As the client, a server certificate that does not match the SDP fails. */
static void test_passive_fingerprint_mismatch(void **state)
{
	struct pair p;

	(void)state;
	passive_init(&p, "SRTP_AEAD_AES_128_GCM", true);
	run(&p);
	assert_int_equal(sl_dtls_state(p.s), SL_DTLS_FAILED);
	assert_string_equal(sl_dtls_error(p.s), "fingerprint mismatch");
	check_no_keys(&p);
	pair_free(&p);
}

/* As the client, the ClientHello is retransmitted when no answer comes. */
static void test_passive_retransmit(void **state)
{
	struct pair p;

	(void)state;
	passive_init(&p, "SRTP_AEAD_AES_128_GCM", false);
	assert_int_equal(p.nq, 1);
	p.nq = 0;
	assert_true(sl_dtls_next_timer(p.s, T0) <= 1000);
	usleep(1150 * 1000);
	assert_int_equal(sl_dtls_tick(p.s, T0 + 1100), SL_DTLS_HANDSHAKING);
	assert_int_equal(p.nq, 1);
	run(&p);
	assert_int_equal(sl_dtls_state(p.s), SL_DTLS_CONNECTED);
	pair_free(&p);
}

static void expect_failure(const struct copts *o, const char *why)
{
	struct pair p;

	pair_init(&p, o);
	run(&p);
	assert_int_equal(sl_dtls_state(p.s), SL_DTLS_FAILED);
	if (why)
		assert_string_equal(sl_dtls_error(p.s), why);
	check_no_keys(&p);
	assert_int_equal(sl_dtls_input(p.s, (const uint8_t *)"\x16\xfe\xfd", 3, T0 + 2),
			 SL_DTLS_FAILED);
	pair_free(&p);
}

/* (b) fingerprint mismatch */
static void test_fingerprint_mismatch(void **state)
{
	struct copts o = { .srtp = "SRTP_AEAD_AES_128_GCM", .bad_fp = true };

	(void)state;
	expect_failure(&o, "fingerprint mismatch");
}

/* (c) client without a certificate */
static void test_no_client_cert(void **state)
{
	struct copts o = { .srtp = "SRTP_AEAD_AES_128_GCM", .no_cert = true };

	(void)state;
	expect_failure(&o, "no peer certificate");
}

/* no use_srtp offered: no keys can be derived */
static void test_no_use_srtp(void **state)
{
	struct copts o = { 0 };

	(void)state;
	expect_failure(&o, "no SRTP profile");
}

/* (e) non-ECDHE, NULL and ECDHE-with-NULL suites */
static void test_weak_ciphers(void **state)
{
	static const char *lists[] = {
		"AES128-GCM-SHA256:AES256-SHA:AES128-SHA",
		"NULL-SHA:NULL-SHA256",
		"ECDHE-ECDSA-NULL-SHA:ECDHE-RSA-NULL-SHA",
		"DHE-RSA-AES128-GCM-SHA256",
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct copts o = { .srtp = "SRTP_AEAD_AES_128_GCM", .ciphers = lists[i] };

		expect_failure(&o, "no shared cipher");
	}
}

/* (i) DTLS 1.0 */
static void test_dtls10_refused(void **state)
{
	struct copts o = { .srtp = "SRTP_AEAD_AES_128_GCM", .max_ver = DTLS1_VERSION };

	(void)state;
	expect_failure(&o, "unsupported protocol version");
}

/*
 * (d) client renegotiation: the server answers no_renegotiation and stays
 * CONNECTED with the same keys. (OpenSSL's client then gives up with a
 * fatal handshake_failure; that alert closes the session.)
 */
static void test_renegotiation_refused(void **state)
{
	struct sl_ctl_key rx1, tx1, rx2, tx2;
	uint16_t p1, p2;
	struct pair p;
	unsigned n;

	(void)state;
	connect_pair(&p, "SRTP_AEAD_AES_128_GCM");
	assert_int_equal(sl_dtls_srtp_keys(p.s, &p1, &rx1, &tx1), 0);
	assert_int_equal(SSL_renegotiate(p.c), 1);
	client_step(&p);
	assert_int_equal(to_server(&p, false), 1); /* the new ClientHello */
	assert_int_equal(sl_dtls_state(p.s), SL_DTLS_CONNECTED);
	assert_int_equal(p.nq, 1);
	assert_int_equal(p.q[0].b[0], 21); /* an alert record, encrypted */
	n = to_client(&p, false);
	assert_int_equal(n, 1);
	assert_int_equal(ERR_GET_REASON(p.cerr), SSL_R_NO_RENEGOTIATION);
	assert_false(SSL_is_init_finished(p.c) && !SSL_renegotiate_pending(p.c) && p.crc > 0);
	assert_int_equal(sl_dtls_srtp_keys(p.s, &p2, &rx2, &tx2), 0);
	assert_int_equal(p1, p2);
	assert_memory_equal(&rx1, &rx2, sizeof(rx1));
	assert_memory_equal(&tx1, &tx2, sizeof(tx1));
	to_server(&p, false); /* the client's fatal alert */
	assert_int_equal(sl_dtls_state(p.s), SL_DTLS_CLOSED);
	check_no_keys(&p);
	pair_free(&p);
}

/* close_notify after connect */
static void test_close_notify(void **state)
{
	struct pair p;

	(void)state;
	connect_pair(&p, "SRTP_AES128_CM_SHA1_80");
	SSL_shutdown(p.c);
	to_server(&p, false);
	assert_int_equal(sl_dtls_state(p.s), SL_DTLS_CLOSED);
	check_no_keys(&p);
	pair_free(&p);
}

/* The client's ClientHello datagram, from a fresh pair with the server untouched. */
static size_t client_hello(struct pair *p, uint8_t *out)
{
	struct copts o = { .srtp = "SRTP_AEAD_AES_128_GCM" };
	struct dgram d[4];

	memset(d, 0, sizeof(d));
	pair_init(p, &o);
	client_step(p);
	assert_int_equal(client_out(p, d, 4), 1);
	memcpy(out, d[0].b, d[0].len);
	return d[0].len;
}

static enum sl_dtls_state feed_fresh(const uint8_t *b, size_t len)
{
	uint8_t fp[32] = { 0 };
	struct pair p;
	struct sl_dtls *d;
	enum sl_dtls_state st;

	memset(&p, 0, sizeof(p));
	d = sl_dtls_new(server_cert, fp, on_send, &p, T0, TIMEOUT);
	assert_non_null(d);
	st = sl_dtls_input(d, b, len, T0 + 1);
	assert_string_not_equal(sl_dtls_error(d), st == SL_DTLS_FAILED ? "" : "x");
	sl_dtls_free(d);
	ERR_clear_error();
	return st;
}

/* (f) garbage, oversized, truncated, empty */
static void test_garbage(void **state)
{
	static uint8_t b[2000];
	struct pair p;
	size_t n;

	(void)state;
	RAND_bytes(b, sizeof(b));
	assert_int_equal(feed_fresh(b, 300), SL_DTLS_FAILED);
	assert_int_equal(feed_fresh(b, 0), SL_DTLS_FAILED);
	assert_int_equal(feed_fresh(NULL, 0), SL_DTLS_FAILED);
	n = client_hello(&p, b);
	pair_free(&p);
	assert_int_equal(feed_fresh(b, n - 1), SL_DTLS_FAILED); /* truncated record */
	memset(b + n, 0, 13);
	memcpy(b + n, b, 3);
	b[n + 11] = (1501 - n - 13) >> 8;
	b[n + 12] = (1501 - n - 13) & 0xff;
	assert_int_equal(feed_fresh(b, 1501), SL_DTLS_FAILED); /* oversized, well framed */
	b[0] = 24;                                             /* heartbeat content type */
	assert_int_equal(feed_fresh(b, n), SL_DTLS_FAILED);
}

/* (f) mutated ClientHellos: fail or wait, never crash */
static void test_mutated_hello(void **state)
{
	uint8_t hello[1600], b[1600];
	struct pair p;
	size_t n;
	int i;

	(void)state;
	n = client_hello(&p, hello);
	pair_free(&p);
	for (i = 0; i < 300; i++) {
		uint8_t r[4];
		enum sl_dtls_state st;

		memcpy(b, hello, n);
		RAND_bytes(r, sizeof(r));
		b[13 + r[0] % (n - 13)] ^= r[1] | 1; /* body bytes only */
		if (r[2] & 1)
			b[13 + r[3] % (n - 13)] = 0;
		st = feed_fresh(b, n);
		assert_true(st == SL_DTLS_HANDSHAKING || st == SL_DTLS_FAILED);
	}
}

static size_t record(uint8_t *b, uint8_t type, uint16_t seq, const uint8_t *body, size_t len)
{
	static const uint8_t hdr[11] = { 0, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0 };

	memcpy(b, hdr, 11);
	b[0] = type;
	b[9] = seq >> 8;
	b[10] = seq & 0xff;
	b[11] = len >> 8;
	b[12] = len & 0xff;
	if (len)
		memcpy(b + 13, body, len);
	return 13 + len;
}

/* (f) zero-length handshake fragments fail the handshake at once, silently */
static void test_zero_length_fragment(void **state)
{
	/* ClientHello of 100 bytes: a fragment at offset 0 and one at 90, both empty */
	static const uint8_t frags[2][12] = {
		{ 1, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0 },
		{ 1, 0, 0, 100, 0, 0, 0, 0, 0, 90, 0, 0 },
	};
	uint8_t fp[32] = { 0 }, b[64];
	struct pair p;
	unsigned i;

	(void)state;
	memset(&p, 0, sizeof(p));
	for (i = 0; i < 2; i++) {
		struct sl_dtls *d = sl_dtls_new(server_cert, fp, on_send, &p, T0, TIMEOUT);
		size_t n = record(b, 22, 0, frags[i], 12);

		assert_non_null(d);
		/* two fragments in one datagram, then the same again */
		n += record(b + n, 22, 1, frags[i], 12);
		assert_int_equal(sl_dtls_input(d, b, n, T0 + 1), SL_DTLS_FAILED);
		assert_int_equal(sl_dtls_input(d, b, n, T0 + 1), SL_DTLS_FAILED);
		assert_string_equal(sl_dtls_error(d), "handshake failed");
		sl_dtls_free(d);
	}
	assert_true(p.sends <= 2); /* at most a fatal alert each */
	ERR_clear_error();
}

/* (f) zero-length records are ignored; 64 datagrams without progress is the cap */
static void test_zero_length_record_cap(void **state)
{
	uint8_t fp[32] = { 0 }, b[64];
	struct pair p;
	struct sl_dtls *d;
	enum sl_dtls_state st = SL_DTLS_HANDSHAKING;
	unsigned i;

	(void)state;
	memset(&p, 0, sizeof(p));
	d = sl_dtls_new(server_cert, fp, on_send, &p, T0, TIMEOUT);
	assert_non_null(d);
	for (i = 0; i < 100 && st == SL_DTLS_HANDSHAKING; i++) {
		size_t n = record(b, 22, (uint16_t)i, NULL, 0);

		n += record(b + n, 21, (uint16_t)(i + 1000), NULL, 0);
		st = sl_dtls_input(d, b, n, T0 + 1);
	}
	assert_int_equal(st, SL_DTLS_FAILED);
	assert_int_equal(i, 65);
	assert_string_equal(sl_dtls_error(d), "too many handshake datagrams");
	assert_int_equal(p.sends, 0);
	sl_dtls_free(d);
	ERR_clear_error();
}

/* garbage after connect is ignored */
static void test_garbage_after_connect(void **state)
{
	uint8_t b[1600];
	struct pair p;

	(void)state;
	connect_pair(&p, "SRTP_AEAD_AES_256_GCM");
	RAND_bytes(b, sizeof(b));
	assert_int_equal(sl_dtls_input(p.s, b, sizeof(b), T0 + 2), SL_DTLS_CONNECTED);
	assert_int_equal(sl_dtls_input(p.s, b, 100, T0 + 2), SL_DTLS_CONNECTED);
	record(b, 23, 99, b + 100, 40); /* epoch 0 application data */
	assert_int_equal(sl_dtls_input(p.s, b, 53, T0 + 2), SL_DTLS_CONNECTED);
	check_keys(&p, SL_SRTP_AEAD_AES_256_GCM);
	pair_free(&p);
}

/* (g) the handshake deadline */
static void test_timeout(void **state)
{
	uint8_t fp[32] = { 0 };
	struct pair p;
	struct sl_dtls *d;

	(void)state;
	memset(&p, 0, sizeof(p));
	d = sl_dtls_new(server_cert, fp, on_send, &p, T0, TIMEOUT);
	assert_non_null(d);
	assert_int_equal(sl_dtls_next_timer(d, T0), TIMEOUT);
	assert_int_equal(sl_dtls_next_timer(d, T0 + TIMEOUT + 5), 0);
	assert_int_equal(sl_dtls_tick(d, T0 + TIMEOUT - 1), SL_DTLS_HANDSHAKING);
	assert_int_equal(sl_dtls_tick(d, T0 + TIMEOUT), SL_DTLS_FAILED);
	assert_string_equal(sl_dtls_error(d), "handshake timeout");
	assert_int_equal(sl_dtls_next_timer(d, T0 + TIMEOUT), UINT32_MAX);
	assert_int_equal(p.sends, 0);
	sl_dtls_free(d);

	/* input at or past the deadline fails too */
	d = sl_dtls_new(server_cert, fp, on_send, &p, T0, TIMEOUT);
	assert_int_equal(sl_dtls_input(d, (const uint8_t *)"\x16\xfe\xfd", 3, T0 + TIMEOUT),
			 SL_DTLS_FAILED);
	assert_string_equal(sl_dtls_error(d), "handshake timeout");
	sl_dtls_free(d);
}

/* (g) a dropped client flight makes the server retransmit; the handshake recovers */
static void test_retransmit(void **state)
{
	struct copts o = { .srtp = "SRTP_AEAD_AES_128_GCM" };
	struct timespec ts = { 1, 150 * 1000 * 1000 };
	struct pair p;
	unsigned first;
	uint32_t t;

	(void)state;
	pair_init(&p, &o);
	client_step(&p);
	assert_int_equal(to_server(&p, false), 1);
	first = p.sends;
	assert_true(first > 0);
	to_client(&p, false);
	assert_true(to_server(&p, true) > 0); /* flight 5 lost */
	t = sl_dtls_next_timer(p.s, T0 + 1);
	assert_true(t > 0 && t <= 1000);
	assert_int_equal(sl_dtls_tick(p.s, T0 + 1), SL_DTLS_HANDSHAKING);
	assert_int_equal(p.sends, first); /* too early */
	nanosleep(&ts, NULL);
	assert_int_equal(sl_dtls_tick(p.s, T0 + 1200), SL_DTLS_HANDSHAKING);
	assert_true(p.sends > first); /* flight 4 again (one datagram per message) */
	DTLSv1_handle_timeout(p.c);
	run(&p);
	assert_int_equal(sl_dtls_state(p.s), SL_DTLS_CONNECTED);
	check_keys(&p, SL_SRTP_AEAD_AES_128_GCM);
	pair_free(&p);
}

static void check_fp_format(const char *fp)
{
	size_t i;

	assert_int_equal(strlen(fp), 95);
	for (i = 0; i < 95; i++) {
		if (i % 3 == 2)
			assert_int_equal(fp[i], ':');
		else
			assert_non_null(strchr("0123456789ABCDEF", fp[i]));
	}
}

/* The saved certificate: v3, CN sluice, ecdsa-with-SHA256, -1 day .. +365 days, >= 64-bit serial. */
static void check_saved_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	char cn[32] = "";
	int days = 0, secs = 0;
	BIGNUM *serial;

	assert_non_null(x);
	fclose(f);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "sluice");
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	assert_int_equal(X509_check_issued(x, x), X509_V_OK);
	assert_true(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)));
	assert_int_equal(days, 366);
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	assert_true(serial && BN_num_bits(serial) >= 64 && !BN_is_negative(serial));
	BN_free(serial);
	X509_free(x);
}

/* A P-384 pair in the files is refused (the certificate must be P-256). */
static void check_p384_refused(const char *cp, const char *kp)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	X509 *x = make_cert(k);
	FILE *f = fopen(kp, "w"), *g = fopen(cp, "w");
	char err[256] = "";

	assert_true(f && g);
	assert_true(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL));
	assert_true(PEM_write_X509(g, x));
	fclose(f);
	fclose(g);
	assert_null(sl_dtls_cert_new(cp, kp, err, sizeof(err)));
	assert_non_null(strstr(err, "P-256"));
	X509_free(x);
	EVP_PKEY_free(k);
	ERR_clear_error();
}

/* (h) generation, saving with mode 0600, reloading */
static void test_cert_files(void **state)
{
	char dir[] = "/tmp/sl_dtls_XXXXXX", cp[64], kp[64], err[256], fp[96];
	struct sl_dtls_cert *c;
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cp, sizeof(cp), "%s/cert.pem", dir);
	snprintf(kp, sizeof(kp), "%s/key.pem", dir);
	c = sl_dtls_cert_new(cp, kp, err, sizeof(err));
	assert_non_null(c);
	check_fp_format(sl_dtls_cert_fingerprint(c));
	memcpy(fp, sl_dtls_cert_fingerprint(c), 96);
	sl_dtls_cert_free(c);
	assert_int_equal(stat(kp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	check_saved_cert(cp);
	c = sl_dtls_cert_new(cp, kp, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(sl_dtls_cert_fingerprint(c), fp);
	sl_dtls_cert_free(c);

	/* one file alone is an error, never overwritten */
	assert_int_equal(unlink(cp), 0);
	err[0] = 0;
	assert_null(sl_dtls_cert_new(cp, kp, err, sizeof(err)));
	assert_true(err[0] != 0);
	/* a corrupt certificate is an error */
	f = fopen(cp, "w");
	assert_non_null(f);
	fputs("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", f);
	fclose(f);
	assert_null(sl_dtls_cert_new(cp, kp, err, sizeof(err)));
	unlink(cp);
	unlink(kp);
	check_p384_refused(cp, kp);
	unlink(cp);
	unlink(kp);
	rmdir(dir);

	/* in memory: a fresh key each time */
	c = sl_dtls_cert_new(NULL, NULL, err, sizeof(err));
	assert_non_null(c);
	check_fp_format(sl_dtls_cert_fingerprint(c));
	assert_string_not_equal(sl_dtls_cert_fingerprint(c), sl_dtls_cert_fingerprint(server_cert));
	sl_dtls_cert_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_rsa_client),
		cmocka_unit_test(test_passive_peer),
		cmocka_unit_test(test_passive_fingerprint_mismatch),
		cmocka_unit_test(test_passive_retransmit),
		cmocka_unit_test(test_fingerprint_mismatch),
		cmocka_unit_test(test_no_client_cert),
		cmocka_unit_test(test_no_use_srtp),
		cmocka_unit_test(test_weak_ciphers),
		cmocka_unit_test(test_dtls10_refused),
		cmocka_unit_test(test_renegotiation_refused),
		cmocka_unit_test(test_close_notify),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_mutated_hello),
		cmocka_unit_test(test_zero_length_fragment),
		cmocka_unit_test(test_zero_length_record_cap),
		cmocka_unit_test(test_garbage_after_connect),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_retransmit),
		cmocka_unit_test(test_cert_files),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
