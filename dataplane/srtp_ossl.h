/*
 * srtp_ossl.h - OpenSSL EVP-backed cipher and auth types for libsrtp2
 * (private to dataplane/srtp*.c). Each type carries its own known-answer
 * vectors, which libsrtp2 runs when the type is registered.
 */
#ifndef SLUICE_SRTP_OSSL_H
#define SLUICE_SRTP_OSSL_H

#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <srtp2/auth.h>
#include <srtp2/cipher.h>

/*
 * Cipher objects of the types below share a shape: an srtp_cipher_t whose
 * state is a struct starting with its EVP context. These two make and
 * unmake that shape; the state is wiped before it is freed.
 */
static inline srtp_cipher_t *sl_ossl_cipher_new(size_t state_size)
{
	srtp_cipher_t *c = calloc(1, sizeof(*c));
	void *s = calloc(1, state_size);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (!c || !s || !ctx) {
		EVP_CIPHER_CTX_free(ctx);
		free(s);
		free(c);
		return NULL;
	}
	*(EVP_CIPHER_CTX **)s = ctx; /* the state's first member */
	c->state = s;
	return c;
}

static inline srtp_err_status_t sl_ossl_cipher_free(srtp_cipher_t *c, size_t state_size)
{
	if (!c)
		return srtp_err_status_bad_param;
	if (c->state) {
		EVP_CIPHER_CTX_free(*(EVP_CIPHER_CTX **)c->state);
		OPENSSL_cleanse(c->state, state_size);
		free(c->state);
	}
	free(c);
	return srtp_err_status_ok;
}

extern const srtp_cipher_type_t sl_ossl_aes_icm_128;
extern const srtp_cipher_type_t sl_ossl_aes_icm_256;
extern const srtp_cipher_type_t sl_ossl_aes_gcm_128;
extern const srtp_cipher_type_t sl_ossl_aes_gcm_256;
extern const srtp_auth_type_t sl_ossl_hmac_sha1;

/* Replace libsrtp2's types with these (after srtp_init). 0 or -EIO. */
int sl_srtp_ossl_register(void);

#endif
