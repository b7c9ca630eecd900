/*
 * srtp_ossl.h - OpenSSL EVP-backed cipher and auth types for libsrtp2
 * (private to dataplane/srtp*.c). Each type carries its own known-answer
 * vectors, which libsrtp2 runs when the type is registered.
 */
#ifndef SLUICE_SRTP_OSSL_H
#define SLUICE_SRTP_OSSL_H

#include <srtp2/auth.h>
#include <srtp2/cipher.h>

extern const srtp_cipher_type_t sl_ossl_aes_icm_128;
extern const srtp_cipher_type_t sl_ossl_aes_icm_256;
extern const srtp_cipher_type_t sl_ossl_aes_gcm_128;
extern const srtp_cipher_type_t sl_ossl_aes_gcm_256;
extern const srtp_auth_type_t sl_ossl_hmac_sha1;

/* Replace libsrtp2's types with these (after srtp_init). 0 or -EIO. */
int sl_srtp_ossl_register(void);

#endif
