/*
 * srtp_ossl_icm.c - AES Integer Counter Mode (RFC 3711 4.1.1) for libsrtp2
 * on OpenSSL's AES-CTR.
 *
 * libsrtp2 uses this type both for AES-CM packet encryption and for its
 * key derivation function, so it must behave exactly like libsrtp2's own:
 * init takes key || 14-byte salt, the salt is the counter's offset, set_iv
 * XORs the 16-byte IV into it, and successive encrypt calls continue the
 * keystream. One EVP context per cipher, keyed once; per packet only the
 * IV is set. The vectors are RFC 3711 B.2 (128) and RFC 6188 7.1 (256).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "srtp_ossl.h"

#define SALT_LEN 14

struct icm_state {
	EVP_CIPHER_CTX *ctx;
	int base_key_len;
	uint8_t offset[16];
};

static srtp_err_status_t icm_alloc(srtp_cipher_pointer_t *cp, int key_len, int tag_len,
				   const srtp_cipher_type_t *type, int algorithm)
{
	srtp_cipher_t *c;
	struct icm_state *s;

	(void)tag_len;
	if (key_len != type->test_data->key_length_octets)
		return srtp_err_status_bad_param;
	c = sl_ossl_cipher_new(sizeof(*s));
	if (!c)
		return srtp_err_status_alloc_fail;
	s = c->state;
	s->base_key_len = key_len - SALT_LEN;
	c->type = type;
	c->key_len = key_len;
	c->algorithm = algorithm;
	*cp = c;
	return srtp_err_status_ok;
}

static srtp_err_status_t icm_alloc_128(srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
	return icm_alloc(cp, key_len, tag_len, &sl_ossl_aes_icm_128, SRTP_AES_ICM_128);
}

static srtp_err_status_t icm_alloc_256(srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
	return icm_alloc(cp, key_len, tag_len, &sl_ossl_aes_icm_256, SRTP_AES_ICM_256);
}

static srtp_err_status_t icm_dealloc(srtp_cipher_pointer_t c)
{
	return sl_ossl_cipher_free(c, sizeof(struct icm_state));
}

static srtp_err_status_t icm_init(void *state, const uint8_t *key)
{
	struct icm_state *s = state;
	const EVP_CIPHER *evp = s->base_key_len == 16 ? EVP_aes_128_ctr() : EVP_aes_256_ctr();

	memset(s->offset, 0, sizeof(s->offset));
	memcpy(s->offset, key + s->base_key_len, SALT_LEN);
	if (EVP_EncryptInit_ex(s->ctx, evp, NULL, key, NULL) != 1)
		return srtp_err_status_init_fail;
	return srtp_err_status_ok;
}

static srtp_err_status_t icm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir)
{
	struct icm_state *s = state;
	uint8_t ctr[16];

	(void)dir;
	for (int i = 0; i < 16; i++)
		ctr[i] = s->offset[i] ^ iv[i];
	if (EVP_EncryptInit_ex(s->ctx, NULL, NULL, NULL, ctr) != 1)
		return srtp_err_status_init_fail;
	return srtp_err_status_ok;
}

static srtp_err_status_t icm_crypt(void *state, uint8_t *buf, unsigned int *len)
{
	struct icm_state *s = state;
	int out = 0;

	if (*len > INT32_MAX || EVP_EncryptUpdate(s->ctx, buf, &out, buf, (int)*len) != 1 ||
	    out != (int)*len)
		return srtp_err_status_cipher_fail;
	return srtp_err_status_ok;
}

static const uint8_t icm_128_key[30] = {
	0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f,
	0x3c, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static const uint8_t icm_256_key[46] = {
	0x57, 0xf8, 0x2f, 0xe3, 0x61, 0x3f, 0xd1, 0x70, 0xa8, 0x5e, 0xc9, 0x3c,
	0x40, 0xb1, 0xf0, 0x92, 0x2e, 0xc4, 0xcb, 0x0d, 0xc0, 0x25, 0xb5, 0x82,
	0x72, 0x14, 0x7c, 0xc4, 0x38, 0x94, 0x4a, 0x98, 0xf0, 0xf1, 0xf2, 0xf3,
	0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static uint8_t icm_idx[16];
static const uint8_t icm_zero[32];
static const uint8_t icm_128_ct[32] = {
	0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1,
	0x6d, 0xd9, 0x2b, 0x4e, 0xb4, 0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02,
	0xd0, 0xf7, 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab,
};
static const uint8_t icm_256_ct[32] = {
	0x92, 0xbd, 0xd2, 0x8a, 0x93, 0xc3, 0xf5, 0x25, 0x11, 0xc6, 0x77,
	0xd0, 0x8b, 0x55, 0x15, 0xa4, 0x9d, 0xa7, 0x1b, 0x23, 0x78, 0xa8,
	0x54, 0xf6, 0x70, 0x50, 0x75, 0x6d, 0xed, 0x16, 0x5b, 0xac,
};

static const srtp_cipher_test_case_t icm_128_test = {
	.key_length_octets = sizeof(icm_128_key),
	.key = icm_128_key,
	.idx = icm_idx,
	.plaintext_length_octets = 32,
	.plaintext = icm_zero,
	.ciphertext_length_octets = 32,
	.ciphertext = icm_128_ct,
};
static const srtp_cipher_test_case_t icm_256_test = {
	.key_length_octets = sizeof(icm_256_key),
	.key = icm_256_key,
	.idx = icm_idx,
	.plaintext_length_octets = 32,
	.plaintext = icm_zero,
	.ciphertext_length_octets = 32,
	.ciphertext = icm_256_ct,
};

const srtp_cipher_type_t sl_ossl_aes_icm_128 = {
	.alloc = icm_alloc_128,
	.dealloc = icm_dealloc,
	.init = icm_init,
	.encrypt = icm_crypt,
	.decrypt = icm_crypt,
	.set_iv = icm_set_iv,
	.description = "AES-128 ICM (OpenSSL EVP, sluice)",
	.test_data = &icm_128_test,
	.id = SRTP_AES_ICM_128,
};

const srtp_cipher_type_t sl_ossl_aes_icm_256 = {
	.alloc = icm_alloc_256,
	.dealloc = icm_dealloc,
	.init = icm_init,
	.encrypt = icm_crypt,
	.decrypt = icm_crypt,
	.set_iv = icm_set_iv,
	.description = "AES-256 ICM (OpenSSL EVP, sluice)",
	.test_data = &icm_256_test,
	.id = SRTP_AES_ICM_256,
};
