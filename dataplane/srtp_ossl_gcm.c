/*
 * srtp_ossl_gcm.c - AES-GCM (RFC 7714) for libsrtp2 on OpenSSL EVP.
 *
 * libsrtp2 builds the 12-byte IV from the session salt itself and drives
 * the AEAD as set_iv -> set_aad (possibly twice for SRTCP) -> encrypt ->
 * get_tag, or set_iv -> set_aad -> decrypt, where decrypt receives
 * ciphertext || tag, verifies the tag and shortens the length. The key is
 * scheduled once at init; per packet only the IV is set. The vectors are
 * test cases 4 (AES-128) and 16 (AES-256) of the GCM specification.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "srtp_ossl.h"

#define GCM_IV_LEN   12
#define GCM_SALT_LEN 12

struct gcm_state {
	EVP_CIPHER_CTX *ctx;
	int key_size;
	int tag_len;
	srtp_cipher_direction_t dir;
};

static srtp_err_status_t gcm_alloc(srtp_cipher_pointer_t *cp, int key_len, int tag_len,
				   const srtp_cipher_type_t *type, int algorithm, int key_size)
{
	srtp_cipher_t *c;
	struct gcm_state *s;

	if (key_len != key_size + GCM_SALT_LEN || (tag_len != 16 && tag_len != 8))
		return srtp_err_status_bad_param;
	c = sl_ossl_cipher_new(sizeof(*s));
	if (!c)
		return srtp_err_status_alloc_fail;
	s = c->state;
	s->key_size = key_size;
	s->tag_len = tag_len;
	c->type = type;
	c->key_len = key_len;
	c->algorithm = algorithm;
	*cp = c;
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_alloc_128(srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
	return gcm_alloc(cp, key_len, tag_len, &sl_ossl_aes_gcm_128, SRTP_AES_GCM_128, 16);
}

static srtp_err_status_t gcm_alloc_256(srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
	return gcm_alloc(cp, key_len, tag_len, &sl_ossl_aes_gcm_256, SRTP_AES_GCM_256, 32);
}

static srtp_err_status_t gcm_dealloc(srtp_cipher_pointer_t c)
{
	return sl_ossl_cipher_free(c, sizeof(struct gcm_state));
}

static srtp_err_status_t gcm_init(void *state, const uint8_t *key)
{
	struct gcm_state *s = state;
	const EVP_CIPHER *evp = s->key_size == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();

	if (EVP_CipherInit_ex(s->ctx, evp, NULL, key, NULL, 1) != 1 ||
	    EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_IV_LEN, NULL) != 1)
		return srtp_err_status_init_fail;
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir)
{
	struct gcm_state *s = state;

	if (dir != srtp_direction_encrypt && dir != srtp_direction_decrypt)
		return srtp_err_status_bad_param;
	s->dir = dir;
	if (EVP_CipherInit_ex(s->ctx, NULL, NULL, NULL, iv, dir == srtp_direction_encrypt) != 1)
		return srtp_err_status_init_fail;
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_aad(void *state, const uint8_t *aad, uint32_t len)
{
	struct gcm_state *s = state;
	int out;

	if (len > INT32_MAX || EVP_CipherUpdate(s->ctx, NULL, &out, aad, (int)len) != 1)
		return srtp_err_status_algo_fail;
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_encrypt(void *state, uint8_t *buf, unsigned int *len)
{
	struct gcm_state *s = state;
	int out;

	if (s->dir != srtp_direction_encrypt || *len > INT32_MAX)
		return srtp_err_status_bad_param;
	if (*len && EVP_CipherUpdate(s->ctx, buf, &out, buf, (int)*len) != 1)
		return srtp_err_status_cipher_fail;
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_get_tag(void *state, uint8_t *tag, uint32_t *len)
{
	struct gcm_state *s = state;
	uint8_t end[16];
	int out;

	if (EVP_CipherFinal_ex(s->ctx, end, &out) != 1 ||
	    EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_GET_TAG, s->tag_len, tag) != 1)
		return srtp_err_status_algo_fail;
	*len = (uint32_t)s->tag_len;
	return srtp_err_status_ok;
}

/* buf holds ciphertext || tag: verify, decrypt, drop the tag. */
static srtp_err_status_t gcm_decrypt(void *state, uint8_t *buf, unsigned int *len)
{
	struct gcm_state *s = state;
	unsigned int clen;
	uint8_t end[16];
	int out;

	if (s->dir != srtp_direction_decrypt || *len > INT32_MAX)
		return srtp_err_status_bad_param;
	if (*len < (unsigned int)s->tag_len)
		return srtp_err_status_auth_fail;
	clen = *len - (unsigned int)s->tag_len;
	if (EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_SET_TAG, s->tag_len, buf + clen) != 1)
		return srtp_err_status_algo_fail;
	if (clen && EVP_CipherUpdate(s->ctx, buf, &out, buf, (int)clen) != 1)
		return srtp_err_status_cipher_fail;
	if (EVP_CipherFinal_ex(s->ctx, end, &out) != 1)
		return srtp_err_status_auth_fail;
	*len = clen;
	return srtp_err_status_ok;
}

static const uint8_t
	gcm_key_128[28] = {
		0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a,
		0x8f, 0x94, 0x67, 0x30, 0x83, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
		0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, /* salt: unused here */
	};
static const uint8_t gcm_key_256[44] = {
	0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83,
	0x08, 0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30,
	0x83, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
};
static uint8_t gcm_iv[12] = {
	0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88
};
static const uint8_t gcm_pt[60] = {
	0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5, 0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26,
	0x9a, 0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda, 0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31,
	0x8a, 0x72, 0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53, 0x2f, 0xcf, 0x0e, 0x24, 0x49,
	0xa6, 0xb5, 0x25, 0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57, 0xba, 0x63, 0x7b, 0x39,
};
static const uint8_t gcm_aad[20] = {
	0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed,
	0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xab, 0xad, 0xda, 0xd2,
};
static const uint8_t gcm_ct_128[76] = {
	0x42, 0x83, 0x1e, 0xc2, 0x21, 0x77, 0x74, 0x24, 0x4b, 0x72, 0x21, 0xb7, 0x84,
	0xd0, 0xd4, 0x9c, 0xe3, 0xaa, 0x21, 0x2f, 0x2c, 0x02, 0xa4, 0xe0, 0x35, 0xc1,
	0x7e, 0x23, 0x29, 0xac, 0xa1, 0x2e, 0x21, 0xd5, 0x14, 0xb2, 0x54, 0x66, 0x93,
	0x1c, 0x7d, 0x8f, 0x6a, 0x5a, 0xac, 0x84, 0xaa, 0x05, 0x1b, 0xa3, 0x0b, 0x39,
	0x6a, 0x0a, 0xac, 0x97, 0x3d, 0x58, 0xe0, 0x91, 0x5b, 0xc9, 0x4f, 0xbc, 0x32,
	0x21, 0xa5, 0xdb, 0x94, 0xfa, 0xe9, 0x5a, 0xe7, 0x12, 0x1a, 0x47,
};
static const uint8_t gcm_ct_256[76] = {
	0x52, 0x2d, 0xc1, 0xf0, 0x99, 0x56, 0x7d, 0x07, 0xf4, 0x7f, 0x37, 0xa3, 0x2a,
	0x84, 0x42, 0x7d, 0x64, 0x3a, 0x8c, 0xdc, 0xbf, 0xe5, 0xc0, 0xc9, 0x75, 0x98,
	0xa2, 0xbd, 0x25, 0x55, 0xd1, 0xaa, 0x8c, 0xb0, 0x8e, 0x48, 0x59, 0x0d, 0xbb,
	0x3d, 0xa7, 0xb0, 0x8b, 0x10, 0x56, 0x82, 0x88, 0x38, 0xc5, 0xf6, 0x1e, 0x63,
	0x93, 0xba, 0x7a, 0x0a, 0xbc, 0xc9, 0xf6, 0x62, 0x76, 0xfc, 0x6e, 0xce, 0x0f,
	0x4e, 0x17, 0x68, 0xcd, 0xdf, 0x88, 0x53, 0xbb, 0x2d, 0x55, 0x1b,
};

static const srtp_cipher_test_case_t gcm_128_test = {
	.key_length_octets = sizeof(gcm_key_128),
	.key = gcm_key_128,
	.idx = gcm_iv,
	.plaintext_length_octets = sizeof(gcm_pt),
	.plaintext = gcm_pt,
	.ciphertext_length_octets = sizeof(gcm_ct_128),
	.ciphertext = gcm_ct_128,
	.aad_length_octets = sizeof(gcm_aad),
	.aad = gcm_aad,
	.tag_length_octets = 16,
};
static const srtp_cipher_test_case_t gcm_256_test = {
	.key_length_octets = sizeof(gcm_key_256),
	.key = gcm_key_256,
	.idx = gcm_iv,
	.plaintext_length_octets = sizeof(gcm_pt),
	.plaintext = gcm_pt,
	.ciphertext_length_octets = sizeof(gcm_ct_256),
	.ciphertext = gcm_ct_256,
	.aad_length_octets = sizeof(gcm_aad),
	.aad = gcm_aad,
	.tag_length_octets = 16,
};

const srtp_cipher_type_t sl_ossl_aes_gcm_128 = {
	.alloc = gcm_alloc_128,
	.dealloc = gcm_dealloc,
	.init = gcm_init,
	.set_aad = gcm_set_aad,
	.encrypt = gcm_encrypt,
	.decrypt = gcm_decrypt,
	.set_iv = gcm_set_iv,
	.get_tag = gcm_get_tag,
	.description = "AES-128 GCM (OpenSSL EVP, sluice)",
	.test_data = &gcm_128_test,
	.id = SRTP_AES_GCM_128,
};

const srtp_cipher_type_t sl_ossl_aes_gcm_256 = {
	.alloc = gcm_alloc_256,
	.dealloc = gcm_dealloc,
	.init = gcm_init,
	.set_aad = gcm_set_aad,
	.encrypt = gcm_encrypt,
	.decrypt = gcm_decrypt,
	.set_iv = gcm_set_iv,
	.get_tag = gcm_get_tag,
	.description = "AES-256 GCM (OpenSSL EVP, sluice)",
	.test_data = &gcm_256_test,
	.id = SRTP_AES_GCM_256,
};
