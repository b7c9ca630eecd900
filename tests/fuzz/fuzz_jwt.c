/*
 * fuzz_jwt.c - libFuzzer target for token verification (controlplane/meeting/jwt.c).
 *
 * The first byte chooses how the rest is used. 0 mod 3: as a token,
 * verified with an HS256 key; 1 mod 3: as a token, verified with an ES256
 * public key made once at start-up. Neither can be forged by the fuzzer,
 * so 2 mod 3 reaches the checks behind the signature: the rest is split at
 * its first newline into a header and claims, which are base64url-encoded
 * and signed here with the HS256 key, then verified. Every result must be
 * 0 or -EACCES; a refusal must give a reason and leave the claims empty;
 * an acceptance must give a display name that is NUL-terminated and at
 * most 64 bytes without control bytes. Anything else aborts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secret[] = "fuzz-secret-fuzz-secret-fuzz-secret!";
static struct sl_jwt_key hs, es;
static bool ready;
static char token[SL_JWT_MAX_TOKEN * 2 + 128];

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void setup(void)
{
	struct sl_cp_config cfg;
	char err[256];
	EVP_PKEY *p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;
	long n;

	check(p && b && PEM_write_bio_PUBKEY(b, p));
	n = BIO_get_mem_data(b, &pem);
	memset(&cfg, 0, sizeof(cfg));
	cfg.jwt_leeway_s = 30;
	cfg.jwt_alg = SL_JWT_ES256;
	check(sl_jwt_key_parse(&es, &cfg, (const uint8_t *)pem, (size_t)n, err, sizeof(err)) == 0);
	cfg.jwt_alg = SL_JWT_HS256;
	check(sl_jwt_key_parse(&hs, &cfg, (const uint8_t *)secret, strlen(secret), err,
			       sizeof(err)) == 0);
	BIO_free(b);
	EVP_PKEY_free(p);
	ready = true;
}

static size_t b64url(const uint8_t *p, size_t n, char *o)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			o[k++] = a[(acc >> bits) & 63];
		}
	}
	if (bits)
		o[k++] = a[(acc << (6 - bits)) & 63];
	o[k] = '\0';
	return k;
}

static void verify(const struct sl_jwt_key *k, const char *tok)
{
	struct sl_jwt_claims c;
	const char *why = NULL;
	int rc = sl_jwt_verify(k, tok, "r1", 1700000000, &c, &why);
	size_t n = strnlen(c.name, sizeof(c.name));

	check(n < sizeof(c.name) && n <= 64);
	if (rc != 0) {
		check(rc == -EACCES && why != NULL && why[0] && n == 0 && !c.moderator);
		return;
	}
	check(why == NULL);
	for (size_t i = 0; i < n; i++)
		check((unsigned char)c.name[i] >= 0x20 && c.name[i] != 0x7f);
}

/* header '\n' claims, encoded and signed with the HS256 key. */
static void signed_token(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hn = nl ? (size_t)(nl - data) : size, k;
	uint8_t mac[32];
	unsigned mac_len = 0;

	if (size > SL_JWT_MAX_TOKEN)
		return;
	k = b64url(data, hn, token);
	token[k++] = '.';
	if (nl)
		k += b64url(nl + 1, size - hn - 1, token + k);
	check(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const uint8_t *)token, k, mac,
		   &mac_len) != NULL);
	token[k++] = '.';
	b64url(mac, mac_len, token + k);
	verify(&hs, token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		setup();
	if (size == 0)
		return 0;
	if (data[0] % 3 == 2) {
		signed_token(data + 1, size - 1);
		return 0;
	}
	if (size - 1 >= sizeof(token))
		return 0;
	memcpy(token, data + 1, size - 1);
	token[size - 1] = '\0';
	verify(data[0] % 3 == 0 ? &hs : &es, token);
	return 0;
}
