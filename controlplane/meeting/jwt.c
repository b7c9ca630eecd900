/*
 * jwt.c - JSON Web Tokens for joins: the key, and the checks on a token.
 *
 * libjwt 1.10 verifies signatures, but it trusts the header's alg (an
 * HS256 header makes it use an RS256 public key as an HMAC secret), checks
 * no claim, compares HMACs with strcmp, and reads JSON allowing duplicate
 * keys. So the token is first taken apart here: its size is bounded, each
 * part must be strict base64url, the header and the claims must be JSON
 * objects without duplicate keys, the header's alg must be the pinned one,
 * and the signature must have that algorithm's length. HS256 is verified
 * here with a constant-time comparison; then libjwt verifies the signature
 * (again, for HS256) and its idea of the algorithm is checked once more.
 * Only then are the claims read, from the bytes the signature covers.
 * Nothing here logs; refusals carry a short reason that names no secret.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include SL_LIBJWT_H /* libjwt's jwt.h (meson.build) */
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "jwt.h"

#define MAX_KEY_FILE  65536 /* bytes of a key file */
#define MIN_SECRET    32    /* bytes of an HS256 secret */
#define MAX_LEEWAY    60
#define MAX_NAME      64
#define MIN_RSA_BITS  2048
#define MAX_RSA_BYTES 1024 /* RSA-8192 */

static const char *alg_name(int alg)
{
	switch (alg) {
	case SL_JWT_HS256:
		return "HS256";
	case SL_JWT_RS256:
		return "RS256";
	case SL_JWT_ES256:
		return "ES256";
	}
	return NULL;
}

static jwt_alg_t alg_libjwt(int alg)
{
	switch (alg) {
	case SL_JWT_HS256:
		return JWT_ALG_HS256;
	case SL_JWT_RS256:
		return JWT_ALG_RS256;
	case SL_JWT_ES256:
		return JWT_ALG_ES256;
	default:
		return JWT_ALG_INVAL;
	}
}

/* ---- the key ---- */

void sl_jwt_key_free(struct sl_jwt_key *k)
{
	if (!k)
		return;
	if (k->key) {
		OPENSSL_cleanse(k->key, k->key_len);
		free(k->key);
	}
	memset(k, 0, sizeof(*k));
}

static bool contains(const uint8_t *b, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(b + i, needle, m) == 0)
			return true;
	return false;
}

/* A PEM public key of the type alg needs; sets k->sig_len. */
static int check_public_key(struct sl_jwt_key *k, int alg, char *err, size_t n)
{
	const char *what = alg == SL_JWT_RS256 ? "an RSA" : "a P-256 EC";
	BIO *bio = BIO_new_mem_buf(k->key, (int)k->key_len);
	EVP_PKEY *p = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	char group[64] = "";
	int rc = -EINVAL;

	BIO_free(bio);
	if (!p) {
		snprintf(err, n, "--jwt-key: not a PEM public key (%s one is needed for %s)", what,
			 alg_name(alg));
		return -EINVAL;
	}
	if (alg == SL_JWT_RS256) {
		if (!EVP_PKEY_is_a(p, "RSA"))
			snprintf(err, n, "--jwt-key: RS256 needs an RSA public key");
		else if (EVP_PKEY_get_bits(p) < MIN_RSA_BITS ||
			 EVP_PKEY_get_size(p) > MAX_RSA_BYTES)
			snprintf(err, n, "--jwt-key: the RSA key must have 2048 to 8192 bits");
		else
			rc = 0;
		k->sig_len = (size_t)EVP_PKEY_get_size(p);
	} else {
		if (!EVP_PKEY_is_a(p, "EC") ||
		    !EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, group,
						    sizeof(group), NULL) ||
		    strcmp(group, "prime256v1") != 0)
			snprintf(err, n, "--jwt-key: ES256 needs an EC public key on P-256");
		else
			rc = 0;
		k->sig_len = 64;
	}
	EVP_PKEY_free(p);
	return rc;
}

int sl_jwt_key_parse(struct sl_jwt_key *k, const struct sl_cp_config *cfg, const uint8_t *bytes,
		     size_t len, char *err, size_t n)
{
	int alg = cfg->jwt_alg, rc;

	memset(k, 0, sizeof(*k));
	if (!alg_name(alg)) {
		snprintf(err, n, "--jwt-alg: HS256, RS256 or ES256");
		return -EINVAL;
	}
	if (len > MAX_KEY_FILE) {
		snprintf(err, n, "--jwt-key: the file is too large");
		return -EINVAL;
	}
	k->alg = alg;
	k->key = malloc(len + 1);
	if (!k->key) {
		snprintf(err, n, "--jwt-key: out of memory");
		return -ENOMEM;
	}
	memcpy(k->key, bytes, len);
	k->key[len] = '\0'; /* the PEM text is a string too */
	k->key_len = len;
	snprintf(k->audience, sizeof(k->audience), "%s", cfg->jwt_audience);
	snprintf(k->issuer, sizeof(k->issuer), "%s", cfg->jwt_issuer);
	k->leeway_s = cfg->jwt_leeway_s > MAX_LEEWAY ? MAX_LEEWAY : cfg->jwt_leeway_s;
	if (alg == SL_JWT_HS256) {
		if (k->key_len && k->key[k->key_len - 1] == '\n')
			k->key[--k->key_len] = '\0';
		k->sig_len = 32;
		rc = -EINVAL;
		if (contains(k->key, k->key_len, "-----BEGIN"))
			snprintf(err, n,
				 "--jwt-key: a PEM file is not an HS256 secret (give --jwt-alg "
				 "RS256 or ES256 for a public key, or a random secret)");
		else if (k->key_len < MIN_SECRET)
			snprintf(err, n, "--jwt-key: an HS256 secret needs at least %d bytes",
				 MIN_SECRET);
		else
			rc = 0;
	} else if (contains(k->key, k->key_len, "PRIVATE KEY")) {
		snprintf(err, n,
			 "--jwt-key: this is a private key; give the public key (openssl pkey "
			 "-pubout)");
		rc = -EINVAL;
	} else {
		rc = check_public_key(k, alg, err, n);
	}
	if (rc)
		sl_jwt_key_free(k);
	return rc;
}

int sl_jwt_key_load(struct sl_jwt_key *k, const struct sl_cp_config *cfg, char *err, size_t n)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd, rc;

	memset(k, 0, sizeof(*k));
	if (!cfg->jwt_key[0]) {
		snprintf(err, n, "--jwt-key: no key file given");
		return -EINVAL;
	}
	fd = open(cfg->jwt_key, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, n, "--jwt-key %s: %s", cfg->jwt_key, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_KEY_FILE) {
		snprintf(err, n, "--jwt-key %s: not a regular file of at most %d bytes",
			 cfg->jwt_key, MAX_KEY_FILE);
		close(fd);
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		snprintf(err, n, "--jwt-key: out of memory");
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			snprintf(err, n, "--jwt-key %s: %s", cfg->jwt_key, strerror(-rc));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > (size_t)st.st_size) { /* it grew while read */
			snprintf(err, n, "--jwt-key %s: the file changed while read", cfg->jwt_key);
			rc = -EINVAL;
			goto out;
		}
	}
	rc = sl_jwt_key_parse(k, cfg, buf, len, err, n);
out:
	close(fd);
	OPENSSL_cleanse(buf, (size_t)st.st_size + 1);
	free(buf);
	return rc;
}

/* ---- the token ---- */

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Strict unpadded base64url: the alphabet only, no impossible length, no
 * stray bits in the last character. Returns the decoded length or -1. */
static long b64url_decode(const char *s, size_t n, uint8_t *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (acc & ((1u << bits) - 1))
		return -1;
	return (long)o;
}

static json_t *decode_object(const char *s, size_t n, uint8_t *buf)
{
	long len = b64url_decode(s, n, buf);
	json_t *j;

	if (len <= 0)
		return NULL;
	j = json_loadb((const char *)buf, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A NumericDate: an integer, or a finite real (truncated). */
static bool numeric_date(const json_t *v, int64_t *t)
{
	double d;

	if (json_is_integer(v)) {
		*t = json_integer_value(v);
		return true;
	}
	if (!json_is_real(v))
		return false;
	d = json_real_value(v);
	if (!isfinite(d) || d > 9e18 || d < -9e18)
		return false;
	*t = (int64_t)d;
	return true;
}

/* Display-name text: valid UTF-8 (shortest forms, no surrogates), no
 * control characters (C0, DEL, C1), no line or paragraph separator, no
 * bidirectional embedding, override or isolate. */
static bool display_text(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t c = s[i], min;
		size_t len;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			len = 2, c &= 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			len = 3, c &= 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			len = 4, c &= 0x07, min = 0x10000;
		else
			return false;
		if (i + len > n)
			return false;
		for (size_t j = 1; j < len; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			c = c << 6 | (s[i + j] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return false;
		if (c <= 0x9f || c == 0x2028 || c == 0x2029 || (c >= 0x202a && c <= 0x202e) ||
		    (c >= 0x2066 && c <= 0x2069))
			return false;
		i += len;
	}
	return true;
}

static bool aud_matches(const json_t *aud, const char *ours)
{
	size_t n = json_array_size(aud);

	if (json_is_string(aud))
		return !ours[0] || strcmp(json_string_value(aud), ours) == 0;
	if (!json_is_array(aud))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!json_is_string(json_array_get(aud, i)))
			return false;
	if (!ours[0])
		return true;
	for (size_t i = 0; i < n; i++)
		if (strcmp(json_string_value(json_array_get(aud, i)), ours) == 0)
			return true;
	return false;
}

#define REFUSE(w)           \
	do {                \
		*why = (w); \
		goto out;   \
	} while (0)

static const char *check_header(const struct sl_jwt_key *k, const json_t *h)
{
	const json_t *alg = json_object_get(h, "alg"), *typ = json_object_get(h, "typ");

	if (!json_is_string(alg))
		return "token header has no alg";
	if (strcasecmp(json_string_value(alg), "none") == 0)
		return "unsigned token (alg none)";
	if (strcmp(json_string_value(alg), alg_name(k->alg)) != 0)
		return "token algorithm not accepted";
	if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0))
		return "token typ is not JWT";
	if (json_object_get(h, "crit"))
		return "token has critical header extensions";
	return NULL;
}

static const char *check_claims(const struct sl_jwt_key *k, const json_t *c, const char *room,
				int64_t now_s, struct sl_jwt_claims *out)
{
	const json_t *v;
	int64_t t;

	v = json_object_get(c, "exp");
	if (!v)
		return "token has no exp";
	if (!numeric_date(v, &t))
		return "token exp is not a number";
	if (now_s - (int64_t)k->leeway_s >= t)
		return "token expired";
	v = json_object_get(c, "nbf");
	if (v) {
		if (!numeric_date(v, &t))
			return "token nbf is not a number";
		if (now_s + (int64_t)k->leeway_s < t)
			return "token not yet valid";
	}
	v = json_object_get(c, "aud");
	if (k->audience[0] && !v)
		return "token has no aud";
	if (v && !aud_matches(v, k->audience))
		return "token audience does not match";
	v = json_object_get(c, "iss");
	if (k->issuer[0] && !v)
		return "token has no iss";
	if (v &&
	    (!json_is_string(v) || (k->issuer[0] && strcmp(json_string_value(v), k->issuer) != 0)))
		return "token issuer does not match";
	v = json_object_get(c, "room");
	if (!v)
		return "token has no room";
	if (!json_is_string(v))
		return "token room is not a string";
	if (strcmp(json_string_value(v), "*") != 0 &&
	    (!room || strcmp(json_string_value(v), room) != 0))
		return "token is for another room";
	v = json_object_get(c, "name");
	if (v) {
		size_t n;

		if (!json_is_string(v))
			return "token name is not a string";
		n = json_string_length(v);
		if (n > MAX_NAME)
			return "token name is longer than 64 bytes";
		if (!display_text((const uint8_t *)json_string_value(v), n) ||
		    strlen(json_string_value(v)) != n)
			return "token name is not valid text";
		memcpy(out->name, json_string_value(v), n);
		out->name[n] = '\0';
	}
	v = json_object_get(c, "moderator");
	if (v && !json_is_boolean(v))
		return "token moderator is not a boolean";
	out->moderator = json_is_true(v);
	return NULL;
}

/* HMAC-SHA256 of the signed part, compared in constant time. */
static bool hs256_ok(const struct sl_jwt_key *k, const char *signed_part, size_t n,
		     const uint8_t *sig)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;

	if (!HMAC(EVP_sha256(), k->key, (int)k->key_len, (const uint8_t *)signed_part, n, mac,
		  &mac_len) ||
	    mac_len != 32)
		return false;
	return CRYPTO_memcmp(mac, sig, 32) == 0;
}

int sl_jwt_verify(const struct sl_jwt_key *k, const char *token, const char *room, int64_t now_s,
		  struct sl_jwt_claims *out, const char **why)
{
	json_t *header = NULL, *claims = NULL;
	const char *dot1, *dot2, *sig;
	size_t len, sig_text;
	uint8_t *buf = NULL;
	jwt_t *jwt = NULL;
	long sig_len;
	int rc = -EACCES;

	memset(out, 0, sizeof(*out));
	*why = "token not accepted";
	if (!k || !k->key || !alg_name(k->alg))
		REFUSE("tokens are not configured");
	if (!token || !token[0])
		REFUSE("no token");
	len = strnlen(token, SL_JWT_MAX_TOKEN + 1);
	if (len > SL_JWT_MAX_TOKEN)
		REFUSE("token too long");
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
		REFUSE("token is not three base64url parts");
	sig = dot2 + 1;
	sig_text = len - (size_t)(sig - token);
	buf = malloc(len);
	if (!buf)
		REFUSE("out of memory");
	header = decode_object(token, (size_t)(dot1 - token), buf);
	if (!header)
		REFUSE("token header is not a base64url JSON object");
	*why = check_header(k, header);
	if (*why)
		goto out;
	/* The header names our algorithm: only now may a key be used. */
	if (sig_text == 0)
		REFUSE("unsigned token");
	sig_len = b64url_decode(sig, sig_text, buf);
	if (sig_len < 0)
		REFUSE("token signature is not base64url");
	if ((size_t)sig_len != k->sig_len)
		REFUSE("token signature has the wrong length");
	if (k->alg == SL_JWT_HS256 && !hs256_ok(k, token, (size_t)(dot2 - token), buf))
		REFUSE("bad token signature");
	claims = decode_object(dot1 + 1, (size_t)(dot2 - dot1 - 1), buf);
	if (!claims)
		REFUSE("token claims are not a base64url JSON object");
	/* For HS256 the signature is already checked: a refusal here would be
	 * libjwt disagreeing with us, and says so. */
	if (jwt_decode(&jwt, token, k->key, (int)k->key_len) != 0 || !jwt)
		REFUSE(k->alg == SL_JWT_HS256 ? "token refused by libjwt" : "bad token signature");
	if (jwt_get_alg(jwt) != alg_libjwt(k->alg))
		REFUSE("token algorithm not accepted");
	*why = check_claims(k, claims, room, now_s, out);
	if (*why) {
		memset(out, 0, sizeof(*out));
		goto out;
	}
	*why = NULL;
	rc = 0;
out:
	if (jwt)
		jwt_free(jwt);
	json_decref(header);
	json_decref(claims);
	if (buf) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	return rc;
}
