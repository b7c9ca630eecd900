/*
 * jwt.h - JSON Web Tokens for joins (jwt.c, a shim over libjwt).
 *
 * One algorithm is accepted, pinned by --jwt-alg; the token header's alg
 * must name exactly it (never "none", never an HS256 token checked with an
 * RS256/ES256 public key as its secret). Claims: exp required; nbf, aud
 * (--jwt-audience), iss (--jwt-issuer) checked when present or configured;
 * room must be the room name or "*"; --jwt-leeway seconds (<= 60) of clock
 * skew. Tokens are never logged or stored.
 */
#ifndef SLUICE_CP_JWT_H
#define SLUICE_CP_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SL_JWT_MAX_TOKEN 8192

/* The loaded verification key (owned by the caller; sl_jwt_key_free). */
struct sl_jwt_key {
	int alg;        /* enum sl_jwt_alg */
	uint8_t *key;   /* HS256: the secret; RS256/ES256: the PEM text */
	size_t key_len; /* HS256: the file's bytes less one trailing newline */
	size_t sig_len; /* the signature's length in bytes: 32, 64, or the RSA modulus */
	char audience[256], issuer[256];
	unsigned leeway_s;
};

struct sl_jwt_claims {
	bool moderator; /* claim moderator: true */
	char name[65];  /* claim name, valid display-name text; "" when absent */
};

/* Read cfg->jwt_key for cfg->jwt_alg and check that it is usable (an
 * HS256 secret of at least 32 bytes that is not PEM; for RS256 a PEM RSA
 * public key of 2048-8192 bits, for ES256 a PEM P-256 public key; never a
 * private key). Takes --jwt-audience, --jwt-issuer and --jwt-leeway
 * (clamped to 60) from cfg. Call it only when cfg->jwt_alg is not
 * SL_JWT_NONE. Returns 0, or -errno with err naming the problem (and the
 * file, never its contents); k is then empty. */
int sl_jwt_key_load(struct sl_jwt_key *k, const struct sl_cp_config *cfg, char *err, size_t n);
void sl_jwt_key_free(struct sl_jwt_key *k); /* wipes the secret */

/* sl_jwt_key_load's work after reading the file: bytes (len of them) are
 * the file's contents, taken as a key for cfg->jwt_alg with cfg's
 * audience, issuer and leeway; cfg->jwt_key is not read. Used by tests and
 * the fuzzer. The bytes are copied (the caller wipes its own copy). */
int sl_jwt_key_parse(struct sl_jwt_key *k, const struct sl_cp_config *cfg, const uint8_t *bytes,
		     size_t len, char *err, size_t n);

/* Verify token for a join of room at time now_s (Unix seconds, the wall
 * clock). Returns 0 with *out filled and *why NULL, or -EACCES with *out
 * zeroed and *why set to a short static English reason that names no
 * secret (sent to the client with code bad_token). A NULL room matches only
 * a token for "*". k may be an empty (never loaded) key: every token is
 * then refused. out and why must not be NULL. */
int sl_jwt_verify(const struct sl_jwt_key *k, const char *token, const char *room, int64_t now_s,
		  struct sl_jwt_claims *out, const char **why);

#endif
