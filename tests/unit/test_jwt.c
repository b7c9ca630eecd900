/*
 * test_jwt.c - join tokens: key loading and every check of sl_jwt_verify.
 *
 * The keys are made here (an HS256 secret, RSA-2048 and EC P-256 pairs, a
 * P-384 key for the wrong curve) and written as files to a temporary
 * directory, as the operator would give them. Good tokens are signed with
 * libjwt; malformed ones are assembled from base64url pieces and, where a
 * valid HMAC is part of the point, signed here. Each refusal is checked by
 * its reason, so a check that stopped working shows up as a wrong reason
 * or an acceptance. Two attacks are first shown to pass libjwt alone (an
 * RS256 public key used as an HS256 secret; duplicate claims) so the test
 * proves that the refusal is ours. scripts/make-jwt is run when python3
 * (and, for RS256/ES256, openssl) is there, and its tokens must verify.
 */
#include <errno.h>
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
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include SL_LIBJWT_H
#include "jwt.h"

#define NOW 1700000000LL

static char dir[64] = "/tmp/sl-test-jwt-XXXXXX";
static char hs_path[128], hs31_path[128], hs32_path[128], pem_hs_path[128];
static char rsa_pub_path[128], rsa_priv_path[128], ec_pub_path[128], ec_priv_path[128];
static char ec384_pub_path[128], missing_path[128];
static char *rsa_priv_pem, *ec_priv_pem, *rsa_pub_pem;
static const char hs_secret[] = "0123456789abcdef0123456789abcdef-sluice-test";

/* ---- fixtures ---- */

static void write_file(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static char *pem_of(EVP_PKEY *p, bool private)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s;
	long n;

	assert_non_null(b);
	assert_true(private ? PEM_write_bio_PrivateKey(b, p, NULL, NULL, 0, NULL, NULL)
			    : PEM_write_bio_PUBKEY(b, p));
	n = BIO_get_mem_data(b, &data);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	BIO_free(b);
	return s;
}

static void key_files(EVP_PKEY *p, const char *pub, const char *priv, char **priv_pem,
		      char **pub_pem)
{
	char *s = pem_of(p, false);

	write_file(pub, s, strlen(s));
	if (pub_pem)
		*pub_pem = s;
	else
		free(s);
	if (!priv)
		return;
	s = pem_of(p, true);
	write_file(priv, s, strlen(s));
	*priv_pem = s;
}

static int group_setup(void **state)
{
	EVP_PKEY *rsa, *ec, *ec384;
	char line[80];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
#define P(v, name) snprintf(v, sizeof(v), "%s/" name, dir)
	P(hs_path, "hs256.key");
	P(hs31_path, "hs31.key");
	P(hs32_path, "hs32.key");
	P(pem_hs_path, "pem-as-secret.key");
	P(rsa_pub_path, "rsa.pub.pem");
	P(rsa_priv_path, "rsa.pem");
	P(ec_pub_path, "ec.pub.pem");
	P(ec_priv_path, "ec.pem");
	P(ec384_pub_path, "ec384.pub.pem");
	P(missing_path, "missing.key");
#undef P
	snprintf(line, sizeof(line), "%s\n", hs_secret);
	write_file(hs_path, line, strlen(line));
	write_file(hs31_path, "0123456789012345678901234567890\n", 32); /* 31 + newline */
	write_file(hs32_path, "01234567890123456789012345678901\n", 33);
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	if (!rsa || !ec || !ec384)
		return -1;
	key_files(rsa, rsa_pub_path, rsa_priv_path, &rsa_priv_pem, &rsa_pub_pem);
	key_files(ec, ec_pub_path, ec_priv_path, &ec_priv_pem, NULL);
	key_files(ec384, ec384_pub_path, NULL, NULL, NULL);
	write_file(pem_hs_path, rsa_pub_pem, strlen(rsa_pub_pem));
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec384);
	return 0;
}

static int group_teardown(void **state)
{
	const char *files[] = { hs_path,     hs31_path,    hs32_path,
				pem_hs_path, rsa_pub_path, rsa_priv_path,
				ec_pub_path, ec_priv_path, ec384_pub_path };

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	rmdir(dir);
	free(rsa_priv_pem);
	free(ec_priv_pem);
	free(rsa_pub_pem);
	return 0;
}

static int load_opts(struct sl_jwt_key *k, int alg, const char *path, const char *aud,
		     const char *iss, unsigned leeway, char *err, size_t n)
{
	struct sl_cp_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.jwt_alg = alg;
	snprintf(cfg.jwt_key, sizeof(cfg.jwt_key), "%s", path);
	snprintf(cfg.jwt_audience, sizeof(cfg.jwt_audience), "%s", aud ? aud : "");
	snprintf(cfg.jwt_issuer, sizeof(cfg.jwt_issuer), "%s", iss ? iss : "");
	cfg.jwt_leeway_s = leeway;
	return sl_jwt_key_load(k, &cfg, err, n);
}

static void load(struct sl_jwt_key *k, int alg, const char *path)
{
	char err[256] = "";

	if (load_opts(k, alg, path, NULL, NULL, 30, err, sizeof(err)) != 0)
		fail_msg("load %s: %s", path, err);
}

/* ---- tokens ---- */

static char *b64url(const void *data, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const uint8_t *p = data;
	char *s = malloc(n * 4 / 3 + 4), *o = s;
	uint32_t acc = 0;
	unsigned bits = 0;

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			*o++ = a[(acc >> bits) & 63];
		}
	}
	if (bits)
		*o++ = a[(acc << (6 - bits)) & 63];
	*o = '\0';
	return s;
}

/* header.claims.signature from JSON texts; sig NULL: HMAC-SHA256 with key. */
static char *hand_token(const char *header, const char *claims, const void *key, size_t key_len,
			const char *sig)
{
	char *h = b64url(header, strlen(header)), *c = b64url(claims, strlen(claims)), *s, *t;
	uint8_t mac[32];
	unsigned mac_len = 0;
	size_t n = strlen(h) + strlen(c) + 64;

	t = malloc(n);
	assert_non_null(t);
	snprintf(t, n, "%s.%s", h, c);
	if (sig) {
		s = strdup(sig);
	} else {
		assert_non_null(HMAC(EVP_sha256(), key, (int)key_len, (const uint8_t *)t, strlen(t),
				     mac, &mac_len));
		s = b64url(mac, mac_len);
	}
	t = realloc(t, strlen(t) + strlen(s) + 2);
	assert_non_null(t);
	strcat(t, ".");
	strcat(t, s);
	free(h);
	free(c);
	free(s);
	return t;
}

static char *hs_token(const char *claims)
{
	return hand_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, hs_secret,
			  strlen(hs_secret), NULL);
}

/* Signed by libjwt (its header: typ JWT, alg). */
static char *lib_token(jwt_alg_t alg, const void *key, size_t key_len, const char *claims)
{
	jwt_t *j = NULL;
	char *t;

	assert_int_equal(jwt_new(&j), 0);
	assert_int_equal(jwt_set_alg(j, alg, key, (int)key_len), 0);
	assert_int_equal(jwt_add_grants_json(j, claims), 0);
	t = jwt_encode_str(j);
	assert_non_null(t);
	jwt_free(j);
	return t;
}

static char *rs_token(jwt_alg_t alg, const char *claims)
{
	return lib_token(alg, rsa_priv_pem, strlen(rsa_priv_pem), claims);
}

static char *es_token(const char *claims)
{
	return lib_token(JWT_ALG_ES256, ec_priv_pem, strlen(ec_priv_pem), claims);
}

static void expect_ok(const struct sl_jwt_key *k, char *tok, const char *room, int64_t now,
		      struct sl_jwt_claims *c)
{
	const char *why = "unset";
	int rc = sl_jwt_verify(k, tok, room, now, c, &why);

	if (rc != 0)
		fail_msg("refused (%s) a good token", why);
	assert_null(why);
	free(tok);
}

static void expect_refused(const struct sl_jwt_key *k, char *tok, const char *room, int64_t now,
			   const char *reason)
{
	struct sl_jwt_claims c;
	const char *why = NULL;
	int rc;

	memset(&c, 0x55, sizeof(c));
	rc = sl_jwt_verify(k, tok, room, now, &c, &why);
	if (rc != -EACCES)
		fail_msg("accepted (rc %d) a token that must be refused with \"%s\"", rc, reason);
	assert_non_null(why);
	if (!strstr(why, reason))
		fail_msg("refused with \"%s\", expected \"%s\"", why, reason);
	assert_false(c.moderator);
	assert_string_equal(c.name, "");
	free(tok);
}

#define CLAIMS(extra) "{\"room\":\"r1\",\"exp\":1700000100" extra "}"

/* ---- good tokens ---- */

static void test_valid_hs256(void **state)
{
	struct sl_jwt_key k;
	struct sl_jwt_claims c;

	(void)state;
	load(&k, SL_JWT_HS256, hs_path);
	assert_int_equal(k.key_len, strlen(hs_secret)); /* the newline is not part of it */
	expect_ok(&k, hs_token(CLAIMS(",\"name\":\"Zo\\u00eb\",\"moderator\":true")), "r1", NOW,
		  &c);
	assert_true(c.moderator);
	assert_string_equal(c.name, "Zo\xc3\xab");
	/* libjwt's own HS256 tokens too; no name, moderator false */
	expect_ok(&k,
		  lib_token(JWT_ALG_HS256, hs_secret, strlen(hs_secret),
			    CLAIMS(",\"moderator\":false")),
		  "r1", NOW, &c);
	assert_false(c.moderator);
	assert_string_equal(c.name, "");
	/* room "*" opens every room */
	expect_ok(&k, hs_token("{\"room\":\"*\",\"exp\":1700000100}"), "any-room", NOW, &c);
	expect_ok(&k, hs_token("{\"room\":\"*\",\"exp\":1700000100.5}"), "r", NOW, &c);
	sl_jwt_key_free(&k);
	assert_null(k.key);
	assert_int_equal(k.key_len, 0);
}

static void test_valid_rs256_es256(void **state)
{
	struct sl_jwt_key k;
	struct sl_jwt_claims c;

	(void)state;
	load(&k, SL_JWT_RS256, rsa_pub_path);
	expect_ok(&k, rs_token(JWT_ALG_RS256, CLAIMS(",\"moderator\":true,\"name\":\"Ann\"")), "r1",
		  NOW, &c);
	assert_true(c.moderator);
	assert_string_equal(c.name, "Ann");
	sl_jwt_key_free(&k);
	load(&k, SL_JWT_ES256, ec_pub_path);
	expect_ok(&k, es_token(CLAIMS(",\"name\":\"Bo\"")), "r1", NOW, &c);
	assert_false(c.moderator);
	assert_string_equal(c.name, "Bo");
	sl_jwt_key_free(&k);
}

/* ---- algorithm ---- */

static void test_alg_none(void **state)
{
	struct sl_jwt_key k;

	(void)state;
	load(&k, SL_JWT_HS256, hs_path);
	expect_refused(&k, hand_token("{\"alg\":\"none\"}", CLAIMS(""), NULL, 0, ""), "r1", NOW,
		       "alg none");
	expect_refused(&k, hand_token("{\"alg\":\"none\"}", CLAIMS(""), NULL, 0, "c2lnbmF0dXJl"),
		       "r1", NOW, "alg none");
	expect_refused(&k,
		       hand_token("{\"alg\":\"NONE\",\"typ\":\"JWT\"}", CLAIMS(""), NULL, 0, ""),
		       "r1", NOW, "alg none");
	expect_refused(
		&k, hand_token("{\"typ\":\"JWT\"}", CLAIMS(""), hs_secret, strlen(hs_secret), NULL),
		"r1", NOW, "no alg");
	/* our alg with the signature left off */
	expect_refused(&k, hand_token("{\"alg\":\"HS256\"}", CLAIMS(""), NULL, 0, ""), "r1", NOW,
		       "unsigned token");
	sl_jwt_key_free(&k);
	load(&k, SL_JWT_RS256, rsa_pub_path);
	expect_refused(&k, hand_token("{\"alg\":\"none\"}", CLAIMS(""), NULL, 0, ""), "r1", NOW,
		       "alg none");
	sl_jwt_key_free(&k);
}

static void test_alg_mismatch(void **state)
{
	struct sl_jwt_key k;

	(void)state;
	load(&k, SL_JWT_RS256, rsa_pub_path);
	expect_refused(&k, lib_token(JWT_ALG_HS384, hs_secret, strlen(hs_secret), CLAIMS("")), "r1",
		       NOW, "algorithm not accepted");
	expect_refused(&k, rs_token(JWT_ALG_RS512, CLAIMS("")), "r1", NOW,
		       "algorithm not accepted");
	expect_refused(&k, rs_token(JWT_ALG_RS384, CLAIMS("")), "r1", NOW,
		       "algorithm not accepted");
	expect_refused(&k, es_token(CLAIMS("")), "r1", NOW, "algorithm not accepted");
	expect_refused(&k, hs_token(CLAIMS("")), "r1", NOW, "algorithm not accepted");
	sl_jwt_key_free(&k);
	load(&k, SL_JWT_ES256, ec_pub_path);
	expect_refused(&k, rs_token(JWT_ALG_RS256, CLAIMS("")), "r1", NOW,
		       "algorithm not accepted");
	expect_refused(&k, hs_token(CLAIMS("")), "r1", NOW, "algorithm not accepted");
	sl_jwt_key_free(&k);
	load(&k, SL_JWT_HS256, hs_path);
	expect_refused(&k, rs_token(JWT_ALG_RS256, CLAIMS("")), "r1", NOW,
		       "algorithm not accepted");
	expect_refused(&k, lib_token(JWT_ALG_HS512, hs_secret, strlen(hs_secret), CLAIMS("")), "r1",
		       NOW, "algorithm not accepted");
	expect_refused(
		&k,
		hand_token("{\"alg\":\"hs256\"}", CLAIMS(""), hs_secret, strlen(hs_secret), NULL),
		"r1", NOW, "algorithm not accepted");
	expect_refused(&k,
		       hand_token("{\"alg\":256}", CLAIMS(""), hs_secret, strlen(hs_secret), NULL),
		       "r1", NOW, "no alg");
	sl_jwt_key_free(&k);
}

/* The classic: an HS256 token whose HMAC secret is the server's RS256
 * public key. libjwt alone accepts it; we must not. */
static void test_public_key_as_hmac_secret(void **state)
{
	struct sl_jwt_key k;
	jwt_t *j = NULL;
	char *tok;

	(void)state;
	load(&k, SL_JWT_RS256, rsa_pub_path);
	tok = hand_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", CLAIMS(",\"moderator\":true"),
			 k.key, k.key_len, NULL);
	assert_int_equal(jwt_decode(&j, tok, k.key, (int)k.key_len), 0);
	jwt_free(j);
	expect_refused(&k, tok, "r1", NOW, "algorithm not accepted");
	sl_jwt_key_free(&k);
	load(&k, SL_JWT_ES256, ec_pub_path);
	expect_refused(&k, hand_token("{\"alg\":\"HS256\"}", CLAIMS(""), k.key, k.key_len, NULL),
		       "r1", NOW, "algorithm not accepted");
	sl_jwt_key_free(&k);
}

/* ---- signature ---- */

static void flip_sig(char *tok)
{
	char *s = strrchr(tok, '.') + 5;

	*s = *s == 'A' ? 'B' : 'A';
}

static void test_bad_signature(void **state)
{
	static const char other[] = "another-secret-of-more-than-32-bytes!!";
	struct sl_jwt_key k;
	char *tok, *tok2, *dot;

	(void)state;
	load(&k, SL_JWT_HS256, hs_path);
	expect_refused(&k,
		       hand_token("{\"alg\":\"HS256\"}", CLAIMS(""), other, strlen(other), NULL),
		       "r1", NOW, "bad token signature");
	tok = hs_token(CLAIMS(""));
	flip_sig(tok);
	expect_refused(&k, tok, "r1", NOW, "bad token signature");
	/* the right length matters: 31 bytes of HMAC */
	expect_refused(&k,
		       hand_token("{\"alg\":\"HS256\"}", CLAIMS(""), NULL, 0,
				  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		       "r1", NOW, "wrong length");
	sl_jwt_key_free(&k);

	load(&k, SL_JWT_RS256, rsa_pub_path);
	tok = rs_token(JWT_ALG_RS256, CLAIMS(""));
	flip_sig(tok);
	expect_refused(&k, tok, "r1", NOW, "bad token signature");
	/* claims of one token under the signature of another */
	tok = rs_token(JWT_ALG_RS256, CLAIMS(",\"moderator\":true"));
	tok2 = rs_token(JWT_ALG_RS256, CLAIMS(""));
	dot = strrchr(tok2, '.');
	strcpy(strrchr(tok, '.'), dot);
	free(tok2);
	expect_refused(&k, tok, "r1", NOW, "bad token signature");
	sl_jwt_key_free(&k);

	load(&k, SL_JWT_ES256, ec_pub_path);
	tok = es_token(CLAIMS(""));
	flip_sig(tok);
	expect_refused(&k, tok, "r1", NOW, "bad token signature");
	tok = es_token(CLAIMS(""));
	tok[strlen(tok) - 4] = '\0'; /* 3 bytes of signature short (no stray bits) */
	tok[strlen(tok) - 1] = 'A';
	expect_refused(&k, tok, "r1", NOW, "wrong length");
	sl_jwt_key_free(&k);
}

/* ---- claims ---- */

static void test_time(void **state)
{
	struct sl_jwt_key k;
	struct sl_jwt_claims c;

	(void)state;
	load(&k, SL_JWT_HS256, hs_path); /* leeway 30 */
	expect_ok(&k, hs_token("{\"room\":\"r1\",\"exp\":1700000000}"), "r1", NOW - 30 + 1, &c);
	expect_ok(&k, hs_token("{\"room\":\"r1\",\"exp\":1700000000}"), "r1", NOW + 29, &c);
	expect_refused(&k, hs_token("{\"room\":\"r1\",\"exp\":1700000000}"), "r1", NOW + 30,
		       "expired");
	expect_refused(&k, hs_token("{\"room\":\"r1\",\"exp\":1000}"), "r1", NOW, "expired");
	expect_refused(&k, hs_token("{\"room\":\"r1\"}"), "r1", NOW, "no exp");
	expect_refused(&k, hs_token("{\"room\":\"r1\",\"exp\":\"1700000100\"}"), "r1", NOW,
		       "exp is not a number");
	expect_refused(&k, hs_token("{\"room\":\"r1\",\"exp\":null}"), "r1", NOW,
		       "exp is not a number");
	/* nbf: 29 s ahead is within the leeway, 31 s is not */
	expect_ok(&k, hs_token(CLAIMS(",\"nbf\":1700000029")), "r1", NOW, &c);
	expect_ok(&k, hs_token(CLAIMS(",\"nbf\":1700000030")), "r1", NOW, &c);
	expect_refused(&k, hs_token(CLAIMS(",\"nbf\":1700000031")), "r1", NOW, "not yet valid");
	expect_refused(&k, hs_token(CLAIMS(",\"nbf\":true")), "r1", NOW, "nbf is not a number");
	sl_jwt_key_free(&k);
}

static void test_leeway_clamped(void **state)
{
	struct sl_jwt_key k;
	char err[256];

	(void)state;
	assert_int_equal(load_opts(&k, SL_JWT_HS256, hs_path, NULL, NULL, 3600, err, sizeof(err)),
			 0);
	assert_int_equal(k.leeway_s, 60);
	expect_refused(&k, hs_token("{\"room\":\"r1\",\"exp\":1700000000}"), "r1", NOW + 60,
		       "expired");
	sl_jwt_key_free(&k);
	assert_int_equal(load_opts(&k, SL_JWT_HS256, hs_path, NULL, NULL, 0, err, sizeof(err)), 0);
	expect_refused(&k, hs_token("{\"room\":\"r1\",\"exp\":1700000000}"), "r1", NOW, "expired");
	expect_refused(&k, hs_token(CLAIMS(",\"nbf\":1700000001")), "r1", NOW, "not yet valid");
	sl_jwt_key_free(&k);
}

static void test_audience_issuer(void **state)
{
	struct sl_jwt_key k;
	struct sl_jwt_claims c;
	char err[256];

	(void)state;
	assert_int_equal(
		load_opts(&k, SL_JWT_HS256, hs_path, "sluice", "idp", 30, err, sizeof(err)), 0);
	expect_ok(&k, hs_token(CLAIMS(",\"aud\":\"sluice\",\"iss\":\"idp\"")), "r1", NOW, &c);
	expect_ok(&k, hs_token(CLAIMS(",\"aud\":[\"x\",\"sluice\"],\"iss\":\"idp\"")), "r1", NOW,
		  &c);
	expect_refused(&k, hs_token(CLAIMS(",\"aud\":\"other\",\"iss\":\"idp\"")), "r1", NOW,
		       "audience does not match");
	expect_refused(&k, hs_token(CLAIMS(",\"aud\":[\"x\",\"y\"],\"iss\":\"idp\"")), "r1", NOW,
		       "audience does not match");
	expect_refused(&k, hs_token(CLAIMS(",\"aud\":[],\"iss\":\"idp\"")), "r1", NOW,
		       "audience does not match");
	expect_refused(&k, hs_token(CLAIMS(",\"aud\":[\"sluice\",7],\"iss\":\"idp\"")), "r1", NOW,
		       "audience does not match");
	expect_refused(&k, hs_token(CLAIMS(",\"iss\":\"idp\"")), "r1", NOW, "no aud");
	expect_refused(&k, hs_token(CLAIMS(",\"aud\":\"sluice\",\"iss\":\"evil\"")), "r1", NOW,
		       "issuer does not match");
	expect_refused(&k, hs_token(CLAIMS(",\"aud\":\"sluice\",\"iss\":[\"idp\"]")), "r1", NOW,
		       "issuer does not match");
	expect_refused(&k, hs_token(CLAIMS(",\"aud\":\"sluice\"")), "r1", NOW, "no iss");
	sl_jwt_key_free(&k);
	/* not configured: any well-typed aud and iss */
	load(&k, SL_JWT_HS256, hs_path);
	expect_ok(&k, hs_token(CLAIMS(",\"aud\":[\"x\"],\"iss\":\"anyone\"")), "r1", NOW, &c);
	expect_refused(&k, hs_token(CLAIMS(",\"aud\":5")), "r1", NOW, "audience does not match");
	sl_jwt_key_free(&k);
}

static void test_room(void **state)
{
	struct sl_jwt_key k;

	(void)state;
	load(&k, SL_JWT_HS256, hs_path);
	expect_refused(&k, hs_token(CLAIMS("")), "r2", NOW, "another room");
	expect_refused(&k, hs_token(CLAIMS("")), "r1x", NOW, "another room");
	expect_refused(&k, hs_token(CLAIMS("")), NULL, NOW, "another room");
	expect_refused(&k, hs_token("{\"exp\":1700000100}"), "r1", NOW, "no room");
	expect_refused(&k, hs_token("{\"room\":[\"r1\"],\"exp\":1700000100}"), "r1", NOW,
		       "room is not a string");
	expect_refused(&k, hs_token("{\"room\":\"**\",\"exp\":1700000100}"), "r1", NOW,
		       "another room");
	sl_jwt_key_free(&k);
}

static void test_name(void **state)
{
	static const char *const bad_text[] = {
		"\\u0001", "a\\nb", "\\u007f", "\\u0085", "\\u202e", "\\u2028", "\\ud800",
	};
	struct sl_jwt_key k;
	struct sl_jwt_claims c;
	char claims[256], name65[66];

	(void)state;
	load(&k, SL_JWT_HS256, hs_path);
	memset(name65, 'n', 65);
	name65[65] = '\0';
	snprintf(claims, sizeof(claims), CLAIMS(",\"name\":\"%.64s\""), name65);
	expect_ok(&k, hs_token(claims), "r1", NOW, &c);
	assert_int_equal(strlen(c.name), 64);
	snprintf(claims, sizeof(claims), CLAIMS(",\"name\":\"%s\""), name65);
	expect_refused(&k, hs_token(claims), "r1", NOW, "longer than 64");
	/* 22 three-byte characters: 66 bytes */
	snprintf(claims, sizeof(claims), CLAIMS(",\"name\":\"%s\""),
		 "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82"
		 "\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2"
		 "\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
		 "\xe2\x82\xac\xe2\x82\xac");
	expect_refused(&k, hs_token(claims), "r1", NOW, "longer than 64");
	for (size_t i = 0; i < sizeof(bad_text) / sizeof(bad_text[0]); i++) {
		snprintf(claims, sizeof(claims), CLAIMS(",\"name\":\"x%sy\""), bad_text[i]);
		expect_refused(&k, hs_token(claims), "r1", NOW,
			       i == 6 ? "claims are not" /* jansson: a lone surrogate */
				      : "name is not valid text");
	}
	expect_refused(&k, hs_token(CLAIMS(",\"name\":\"a\\u0000b\"")), "r1", NOW,
		       "claims are not"); /* jansson refuses NUL without JSON_ALLOW_NUL */
	expect_refused(&k, hs_token(CLAIMS(",\"name\":42")), "r1", NOW, "name is not a string");
	/* invalid UTF-8 bytes in the claims: not JSON */
	expect_refused(&k, hs_token(CLAIMS(",\"name\":\"\xff\xfe\"")), "r1", NOW, "claims are not");
	sl_jwt_key_free(&k);
}

static void test_moderator(void **state)
{
	struct sl_jwt_key k;

	(void)state;
	load(&k, SL_JWT_HS256, hs_path);
	expect_refused(&k, hs_token(CLAIMS(",\"moderator\":\"true\"")), "r1", NOW,
		       "moderator is not a boolean");
	expect_refused(&k, hs_token(CLAIMS(",\"moderator\":1")), "r1", NOW,
		       "moderator is not a boolean");
	expect_refused(&k, hs_token(CLAIMS(",\"moderator\":null")), "r1", NOW,
		       "moderator is not a boolean");
	/* a name already read is not handed out with the refusal */
	expect_refused(&k, hs_token(CLAIMS(",\"name\":\"Ann\",\"moderator\":\"true\"")), "r1", NOW,
		       "moderator is not a boolean");
	sl_jwt_key_free(&k);
}

/* ---- shape ---- */

static void test_malformed(void **state)
{
	struct sl_jwt_key k;
	char *tok;
	size_t n;

	(void)state;
	load(&k, SL_JWT_HS256, hs_path);
	expect_refused(&k, strdup(""), "r1", NOW, "no token");
	expect_refused(&k, strdup("abc"), "r1", NOW, "three base64url parts");
	expect_refused(&k, strdup("a.b"), "r1", NOW, "three base64url parts");
	expect_refused(&k, strdup("a.b.c.d"), "r1", NOW, "three base64url parts");
	expect_refused(&k, strdup("..."), "r1", NOW, "three base64url parts");
	expect_refused(&k, strdup(".."), "r1", NOW, "header is not");
	expect_refused(&k, strdup("!!!!.e30.e30"), "r1", NOW, "header is not");
	/* padding, whitespace and standard base64 are not base64url */
	tok = hs_token(CLAIMS(""));
	n = strlen(tok);
	tok = realloc(tok, n + 2);
	strcpy(tok + n, "=");
	expect_refused(&k, tok, "r1", NOW, "signature is not base64url");
	tok = hs_token(CLAIMS(""));
	tok[0] = ' ';
	expect_refused(&k, tok, "r1", NOW, "header is not");
	/* 4n+1 characters cannot be base64 (5 'A's would otherwise be 3 bytes) */
	expect_refused(&k, hand_token("{\"alg\":\"HS256\"}", CLAIMS(""), NULL, 0, "AAAAA"), "r1",
		       NOW, "signature is not base64url");
	tok = hand_token("{\"alg\":\"HS256\"}", CLAIMS(""), NULL, 0, "ab+/");
	expect_refused(&k, tok, "r1", NOW, "signature is not base64url");
	/* truncated: one character, then whole bytes, of the signature gone */
	tok = hs_token(CLAIMS(""));
	tok[strlen(tok) - 1] = '\0';
	expect_refused(&k, tok, "r1", NOW, "signature is not base64url");
	tok = hs_token(CLAIMS(""));
	tok[strlen(tok) - 4] = '\0';
	tok[strlen(tok) - 1] = 'A';
	expect_refused(&k, tok, "r1", NOW, "wrong length");
	/* a stray bit in the last character of a part */
	tok = hs_token(CLAIMS(""));
	strchr(tok, '.')[-1] ^= 1;
	expect_refused(&k, tok, "r1", NOW, "header is not");
	/* header not an object, not JSON */
	expect_refused(&k,
		       hand_token("[\"HS256\"]", CLAIMS(""), hs_secret, strlen(hs_secret), NULL),
		       "r1", NOW, "header is not");
	expect_refused(&k, hand_token("\"HS256\"", CLAIMS(""), hs_secret, strlen(hs_secret), NULL),
		       "r1", NOW, "header is not");
	expect_refused(
		&k,
		hand_token("{\"alg\":\"HS256\"", CLAIMS(""), hs_secret, strlen(hs_secret), NULL),
		"r1", NOW, "header is not");
	expect_refused(&k, hs_token("[1,2]"), "r1", NOW, "claims are not");
	expect_refused(&k, hs_token("{\"room\":\"r1\",\"exp\":1700000100} x"), "r1", NOW,
		       "claims are not");
	/* typ and crit */
	expect_refused(&k,
		       hand_token("{\"alg\":\"HS256\",\"typ\":\"JWE\"}", CLAIMS(""), hs_secret,
				  strlen(hs_secret), NULL),
		       "r1", NOW, "typ is not JWT");
	expect_refused(&k,
		       hand_token("{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}",
				  CLAIMS(""), hs_secret, strlen(hs_secret), NULL),
		       "r1", NOW, "critical");
	sl_jwt_key_free(&k);
}

/* Duplicate keys: libjwt reads the last; we refuse the token. */
static void test_duplicate_keys(void **state)
{
	struct sl_jwt_key k;
	jwt_t *j = NULL;
	char *tok;

	(void)state;
	load(&k, SL_JWT_HS256, hs_path);
	tok = hs_token("{\"room\":\"r1\",\"exp\":1700000100,\"moderator\":false,"
		       "\"moderator\":true}");
	assert_int_equal(jwt_decode(&j, tok, k.key, (int)k.key_len), 0);
	assert_int_equal(jwt_get_grant_bool(j, "moderator"), 1);
	jwt_free(j);
	expect_refused(&k, tok, "r1", NOW, "claims are not");
	expect_refused(&k,
		       hand_token("{\"alg\":\"none\",\"alg\":\"HS256\"}", CLAIMS(""), hs_secret,
				  strlen(hs_secret), NULL),
		       "r1", NOW, "header is not");
	sl_jwt_key_free(&k);
}

static void test_oversize(void **state)
{
	struct sl_jwt_key k;
	struct sl_jwt_claims c;
	char *claims = malloc(SL_JWT_MAX_TOKEN), *tok;

	(void)state;
	assert_non_null(claims);
	load(&k, SL_JWT_HS256, hs_path);
	/* 5800 bytes of claims: a token of about 7800 bytes is fine */
	snprintf(claims, SL_JWT_MAX_TOKEN, CLAIMS(",\"pad\":\"%05800d\""), 0);
	tok = hs_token(claims);
	assert_true(strlen(tok) > 7000 && strlen(tok) <= SL_JWT_MAX_TOKEN);
	expect_ok(&k, tok, "r1", NOW, &c);
	snprintf(claims, SL_JWT_MAX_TOKEN, CLAIMS(",\"pad\":\"%06100d\""), 0);
	tok = hs_token(claims);
	assert_true(strlen(tok) > SL_JWT_MAX_TOKEN);
	expect_refused(&k, tok, "r1", NOW, "too long");
	/* a very long string that is not even a token */
	tok = malloc(100000);
	memset(tok, 'A', 99999);
	tok[99999] = '\0';
	expect_refused(&k, tok, "r1", NOW, "too long");
	free(claims);
	sl_jwt_key_free(&k);
}

/* ---- keys ---- */

static void expect_load_fails(int alg, const char *path, int rc, const char *reason)
{
	struct sl_jwt_key k;
	char err[256] = "";
	int got = load_opts(&k, alg, path, NULL, NULL, 30, err, sizeof(err));

	if (got != rc)
		fail_msg("load %s: rc %d (%s), expected %d", path, got, err, rc);
	if (!strstr(err, reason))
		fail_msg("load %s: \"%s\", expected \"%s\"", path, err, reason);
	assert_null(k.key);
}

static void test_key_load(void **state)
{
	struct sl_jwt_key k;

	(void)state;
	load(&k, SL_JWT_HS256, hs32_path); /* exactly 32 bytes (plus a newline) */
	assert_int_equal(k.key_len, 32);
	sl_jwt_key_free(&k);
	expect_load_fails(SL_JWT_HS256, hs31_path, -EINVAL, "at least 32 bytes");
	expect_load_fails(SL_JWT_HS256, pem_hs_path, -EINVAL, "PEM file is not an HS256 secret");
	expect_load_fails(SL_JWT_HS256, rsa_pub_path, -EINVAL, "PEM file is not an HS256 secret");
	expect_load_fails(SL_JWT_RS256, rsa_priv_path, -EINVAL, "private key");
	expect_load_fails(SL_JWT_ES256, ec_priv_path, -EINVAL, "private key");
	expect_load_fails(SL_JWT_RS256, ec_pub_path, -EINVAL, "RS256 needs an RSA public key");
	expect_load_fails(SL_JWT_ES256, rsa_pub_path, -EINVAL, "ES256 needs an EC public key");
	expect_load_fails(SL_JWT_ES256, ec384_pub_path, -EINVAL, "ES256 needs an EC public key");
	expect_load_fails(SL_JWT_RS256, hs_path, -EINVAL, "not a PEM public key");
	expect_load_fails(SL_JWT_RS256, missing_path, -ENOENT, "No such file");
	expect_load_fails(SL_JWT_HS256, missing_path, -ENOENT, "No such file");
	expect_load_fails(SL_JWT_HS256, dir, -EINVAL, "not a regular file");
	expect_load_fails(SL_JWT_NONE, hs_path, -EINVAL, "--jwt-alg");
	load(&k, SL_JWT_RS256, rsa_pub_path);
	assert_int_equal(k.sig_len, 256);
	sl_jwt_key_free(&k);
}

/* A key that is not loaded refuses everything. */
static void test_no_key(void **state)
{
	struct sl_jwt_key k;
	struct sl_jwt_claims c;
	const char *why = NULL;
	char *tok = hs_token(CLAIMS(""));

	(void)state;
	memset(&k, 0, sizeof(k));
	assert_int_equal(sl_jwt_verify(&k, tok, "r1", NOW, &c, &why), -EACCES);
	assert_non_null(why);
	assert_int_equal(sl_jwt_verify(NULL, tok, "r1", NOW, &c, &why), -EACCES);
	why = NULL;
	load(&k, SL_JWT_HS256, hs_path);
	assert_int_equal(sl_jwt_verify(&k, NULL, "r1", NOW, &c, &why), -EACCES);
	assert_non_null(why);
	sl_jwt_key_free(&k);
	free(tok);
}

/* ---- scripts/make-jwt ---- */

static bool have(const char *cmd)
{
	char line[256];

	snprintf(line, sizeof(line), "command -v %s >/dev/null 2>&1", cmd);
	return system(line) == 0;
}

static char *run_make_jwt(const char *args)
{
	char cmd[1024], *tok = calloc(1, SL_JWT_MAX_TOKEN + 2);
	FILE *f;

	assert_non_null(tok);
	snprintf(cmd, sizeof(cmd), "python3 %s/scripts/make-jwt %s", SL_SOURCE_ROOT, args);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(tok, SL_JWT_MAX_TOKEN + 2, f));
	assert_int_equal(pclose(f), 0);
	tok[strcspn(tok, "\n")] = '\0';
	return tok;
}

static void test_make_jwt(void **state)
{
	struct sl_jwt_key k;
	struct sl_jwt_claims c;
	char args[512], err[256];
	int64_t now = (int64_t)time(NULL);

	(void)state;
	if (!have("python3"))
		skip();
	assert_int_equal(
		load_opts(&k, SL_JWT_HS256, hs_path, "sluice", "idp", 30, err, sizeof(err)), 0);
	snprintf(args, sizeof(args),
		 "--key %s --room r1 --moderator --name 'Zo\xc3\xab' --aud sluice --iss idp",
		 hs_path);
	expect_ok(&k, run_make_jwt(args), "r1", now, &c);
	assert_true(c.moderator);
	assert_string_equal(c.name, "Zo\xc3\xab");
	snprintf(args, sizeof(args), "--key %s --room '*' --aud sluice --iss idp --ttl 100",
		 hs_path);
	expect_ok(&k, run_make_jwt(args), "any", now, &c);
	assert_false(c.moderator);
	expect_refused(&k, run_make_jwt(args), "any", now + 131, "expired");
	snprintf(args, sizeof(args), "--key %s --room r1", hs_path);
	expect_refused(&k, run_make_jwt(args), "r1", now, "no aud");
	sl_jwt_key_free(&k);
	if (!have("openssl"))
		return;
	load(&k, SL_JWT_RS256, rsa_pub_path);
	snprintf(args, sizeof(args), "--alg RS256 --key %s --room r1 --moderator", rsa_priv_path);
	expect_ok(&k, run_make_jwt(args), "r1", now, &c);
	assert_true(c.moderator);
	sl_jwt_key_free(&k);
	load(&k, SL_JWT_ES256, ec_pub_path);
	for (int i = 0; i < 8; i++) { /* R or S with a leading zero byte now and then */
		snprintf(args, sizeof(args), "--alg ES256 --key %s --room r1 --name E",
			 ec_priv_path);
		expect_ok(&k, run_make_jwt(args), "r1", now, &c);
		assert_string_equal(c.name, "E");
	}
	sl_jwt_key_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_hs256),
		cmocka_unit_test(test_valid_rs256_es256),
		cmocka_unit_test(test_alg_none),
		cmocka_unit_test(test_alg_mismatch),
		cmocka_unit_test(test_public_key_as_hmac_secret),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_leeway_clamped),
		cmocka_unit_test(test_audience_issuer),
		cmocka_unit_test(test_room),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_moderator),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_key_load),
		cmocka_unit_test(test_no_key),
		cmocka_unit_test(test_make_jwt),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
