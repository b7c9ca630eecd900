/*
 * test_srtp.c - the SRTP module against libsrtp2's own implementation and
 * against published vectors.
 *
 * Reference output is produced first with libsrtp2's built-in cipher types
 * (an independent AES/GCM/HMAC implementation: NSS in Debian's build), then
 * the OpenSSL-backed types are registered - which makes libsrtp2 run their
 * RFC 3711 / RFC 6188 / GCM / RFC 2202 known-answer vectors - and the same
 * packets must come out byte for byte identical, across sequence-number
 * wrap, several SSRCs, every payload size and SRTCP. Then the security
 * properties: forged and replayed packets fail without changing state,
 * short and malformed packets fail without reading out of bounds, the SSRC
 * bound holds and forged packets cannot fill it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/ctl.h>
#include <sluice/srtp.h>

#include "srtp_ossl.h"

#define N_PKTS 600
#define BUF 1600

static const uint16_t profiles[] = {
	SL_SRTP_AES128_CM_SHA1_80, SL_SRTP_AEAD_AES_128_GCM, SL_SRTP_AEAD_AES_256_GCM,
};

struct ref {
	uint8_t pkt[N_PKTS][BUF];
	uint16_t len[N_PKTS];
};

static struct ref ref_rtp[3], ref_rtcp[3];

static void key_for(uint16_t profile, uint8_t *key, uint8_t *salt, uint8_t seed)
{
	(void)profile;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(seed * 31 + i * 7);
	for (int i = 0; i < 14; i++)
		salt[i] = (uint8_t)(seed * 17 + i * 3 + 1);
}

/* Packet i: SSRC cycles over 3, seq starts near the wrap, size varies. */
static uint16_t make_rtp(unsigned i, uint8_t *p)
{
	uint16_t len = (uint16_t)(12 + (i * 37) % 1400);
	uint32_t ssrc = 0x1000 + (i % 3);
	uint16_t seq = (uint16_t)(65500 + i / 3);

	memset(p, 0, BUF);
	p[0] = 0x80;
	p[1] = 96;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[7] = (uint8_t)i;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	for (unsigned k = 12; k < len; k++)
		p[k] = (uint8_t)(k * 13 + i);
	return len;
}

/* A receiver report of varying length (1 report block + padding bytes). */
static uint16_t make_rtcp(unsigned i, uint8_t *p)
{
	uint16_t len = (uint16_t)(8 + 24 * (1 + i % 3));
	uint32_t ssrc = 0x2000 + (i % 2);

	memset(p, 0, BUF);
	p[0] = (uint8_t)(0x80 | (1 + i % 3));
	p[1] = 201;
	p[2] = 0;
	p[3] = (uint8_t)(len / 4 - 1);
	p[4] = (uint8_t)(ssrc >> 24);
	p[5] = (uint8_t)(ssrc >> 16);
	p[6] = (uint8_t)(ssrc >> 8);
	p[7] = (uint8_t)ssrc;
	for (unsigned k = 8; k < len; k++)
		p[k] = (uint8_t)(k + i);
	return len;
}

static struct sl_srtp *ctx(uint16_t profile, bool inbound, uint8_t seed)
{
	uint8_t key[32], salt[14];

	key_for(profile, key, salt, seed);
	return sl_srtp_create(profile, key, salt, inbound, 8);
}

static void produce(struct ref *r, uint16_t profile, bool rtcp)
{
	struct sl_srtp *tx = ctx(profile, false, 1);

	assert_non_null(tx);
	for (unsigned i = 0; i < N_PKTS; i++) {
		struct sl_srtp_op op = { .ctx = tx, .buf = r->pkt[i], .cap = BUF };

		op.len = rtcp ? make_rtcp(i, r->pkt[i]) : make_rtp(i, r->pkt[i]);
		assert_int_equal(rtcp ? sl_srtcp_protect_burst(&op, 1) : sl_srtp_protect_burst(&op, 1), 1);
		r->len[i] = op.len;
	}
	sl_srtp_destroy(tx);
}

/* Runs first, with libsrtp2's own types. */
static void reference_with_stock_types(void **state)
{
	(void)state;
	assert_int_equal(sl_srtp_init(false), 0);
	for (int p = 0; p < 3; p++) {
		produce(&ref_rtp[p], profiles[p], false);
		produce(&ref_rtcp[p], profiles[p], true);
	}
	/* Tags have the profile's length. */
	assert_int_equal(ref_rtp[0].len[0], 12 + 10);
	assert_int_equal(ref_rtp[1].len[0], 12 + 16);
	assert_int_equal(ref_rtcp[0].len[0], 32 + 4 + 10);
}

static void openssl_types_register(void **state)
{
	(void)state;
	/* libsrtp2 runs each replacement's known-answer vectors here. */
	assert_int_equal(sl_srtp_init(true), 0);
}

static void openssl_output_equals_reference(void **state)
{
	static struct ref mine;

	(void)state;
	for (int p = 0; p < 3; p++) {
		for (int rtcp = 0; rtcp < 2; rtcp++) {
			struct ref *r = rtcp ? &ref_rtcp[p] : &ref_rtp[p];

			produce(&mine, profiles[p], rtcp);
			for (unsigned i = 0; i < N_PKTS; i++) {
				assert_int_equal(mine.len[i], r->len[i]);
				if (memcmp(mine.pkt[i], r->pkt[i], r->len[i]) != 0)
					fail_msg("profile %u %s packet %u differs", profiles[p],
						 rtcp ? "SRTCP" : "SRTP", i);
			}
		}
	}
}

/* The reference packets decrypt with the OpenSSL types to the plaintext. */
static void openssl_unprotects_reference(void **state)
{
	uint8_t buf[BUF], plain[BUF];

	(void)state;
	for (int p = 0; p < 3; p++) {
		for (int rtcp = 0; rtcp < 2; rtcp++) {
			struct sl_srtp *rx = ctx(profiles[p], true, 1);
			struct ref *r = rtcp ? &ref_rtcp[p] : &ref_rtp[p];

			for (unsigned i = 0; i < N_PKTS; i++) {
				struct sl_srtp_op op = { .ctx = rx, .buf = buf, .len = r->len[i], .cap = BUF };
				uint16_t plen = rtcp ? make_rtcp(i, plain) : make_rtp(i, plain);

				memcpy(buf, r->pkt[i], r->len[i]);
				assert_int_equal(rtcp ? sl_srtcp_unprotect_burst(&op, 1) : sl_srtp_unprotect_burst(&op, 1), 1);
				assert_int_equal(op.len, plen);
				assert_memory_equal(buf, plain, plen);
			}
			sl_srtp_destroy(rx);
		}
	}
}

static void forged_and_replayed_fail_without_state_change(void **state)
{
	uint8_t buf[BUF];

	(void)state;
	for (int p = 0; p < 3; p++) {
		struct sl_srtp *rx = ctx(profiles[p], true, 1);
		struct ref *r = &ref_rtp[p];
		struct sl_srtp_op op;

		/* Packet 5 with a flipped tag bit: auth error. */
		memcpy(buf, r->pkt[5], r->len[5]);
		buf[r->len[5] - 1] ^= 1;
		op = (struct sl_srtp_op){ .ctx = rx, .buf = buf, .len = r->len[5], .cap = BUF };
		assert_int_equal(sl_srtp_unprotect_burst(&op, 1), 0);
		assert_int_equal(op.status, SL_SRTP_ERR_AUTH);
		/* Flipped payload bit: auth error too. */
		memcpy(buf, r->pkt[5], r->len[5]);
		buf[20] ^= 0x80;
		op.len = r->len[5];
		sl_srtp_unprotect_burst(&op, 1);
		assert_int_equal(op.status, SL_SRTP_ERR_AUTH);
		/* The genuine packet 5 still passes: the forgeries changed nothing. */
		memcpy(buf, r->pkt[5], r->len[5]);
		op.len = r->len[5];
		assert_int_equal(sl_srtp_unprotect_burst(&op, 1), 1);
		/* ...once. */
		memcpy(buf, r->pkt[5], r->len[5]);
		op.len = r->len[5];
		sl_srtp_unprotect_burst(&op, 1);
		assert_int_equal(op.status, SL_SRTP_ERR_REPLAY);
		sl_srtp_destroy(rx);
	}
}

static void old_packets_outside_window_fail(void **state)
{
	uint8_t buf[BUF];
	struct sl_srtp *rx = ctx(SL_SRTP_AEAD_AES_128_GCM, true, 1), *tx = ctx(SL_SRTP_AEAD_AES_128_GCM, false, 1);
	static uint8_t first[BUF];
	uint16_t first_len = 0;

	(void)state;
	/* One SSRC, 2000 packets; keep the first, deliver it last. */
	for (unsigned i = 0; i < 2000; i++) {
		struct sl_srtp_op op = { .ctx = tx, .buf = buf, .cap = BUF };

		op.len = make_rtp(i * 3, buf); /* i*3 keeps SSRC 0x1000, seq 65500 + i */
		assert_int_equal(sl_srtp_protect_burst(&op, 1), 1);
		if (i == 0) {
			memcpy(first, buf, op.len);
			first_len = op.len;
			continue;
		}
		op.ctx = rx;
		op.cap = op.len;
		assert_int_equal(sl_srtp_unprotect_burst(&op, 1), 1);
	}
	{
		struct sl_srtp_op op = { .ctx = rx, .buf = first, .len = first_len, .cap = first_len };

		assert_int_equal(sl_srtp_unprotect_burst(&op, 1), 0);
		assert_int_equal(op.status, SL_SRTP_ERR_REPLAY);
	}
	sl_srtp_destroy(rx);
	sl_srtp_destroy(tx);
}

static void reordered_across_wrap_decrypts(void **state)
{
	static uint8_t pkts[64][BUF];
	uint16_t lens[64];
	struct sl_srtp *rx = ctx(SL_SRTP_AES128_CM_SHA1_80, true, 2), *tx = ctx(SL_SRTP_AES128_CM_SHA1_80, false, 2);
	static const unsigned order[] = { 1, 0, 3, 2, 5, 4, 7, 6 };

	(void)state;
	for (unsigned i = 0; i < 64; i++) { /* seq 65500 + 12 .. : crosses 65535 */
		struct sl_srtp_op op = { .ctx = tx, .buf = pkts[i], .cap = BUF };

		op.len = make_rtp((i + 12) * 3, pkts[i]);
		assert_int_equal(sl_srtp_protect_burst(&op, 1), 1);
		lens[i] = op.len;
	}
	for (unsigned blk = 0; blk < 64; blk += 8) {
		for (unsigned k = 0; k < 8; k++) {
			unsigned i = blk + order[k];
			struct sl_srtp_op op = { .ctx = rx, .buf = pkts[i], .len = lens[i], .cap = lens[i] };

			if (i % 11 == 5)
				continue; /* lost */
			assert_int_equal(sl_srtp_unprotect_burst(&op, 1), 1);
		}
	}
	sl_srtp_destroy(rx);
	sl_srtp_destroy(tx);
}

static void short_and_malformed_fail(void **state)
{
	uint8_t *buf;

	(void)state;
	for (int p = 0; p < 3; p++) {
		struct sl_srtp *rx = ctx(profiles[p], true, 1);

		for (uint16_t n = 0; n <= 40; n++) {
			struct sl_srtp_op op = { .ctx = rx, .len = n, .cap = n };

			/* Exactly n bytes on the heap: ASan catches any over-read. */
			buf = malloc(n ? n : 1);
			memcpy(buf, ref_rtp[p].pkt[0], n < ref_rtp[p].len[0] ? n : ref_rtp[p].len[0]);
			if (n > ref_rtp[p].len[0])
				memset(buf + ref_rtp[p].len[0], 0, n - ref_rtp[p].len[0]);
			op.buf = buf;
			if (n != ref_rtp[p].len[0])
				assert_int_equal(sl_srtp_unprotect_burst(&op, 1), 0);
			op.len = n;
			op.cap = n;
			if (n < 8 || n != ref_rtcp[p].len[0])
				assert_int_equal(sl_srtcp_unprotect_burst(&op, 1), 0);
			free(buf);
		}
		/* Extension length pointing past the end. */
		buf = malloc(40);
		memcpy(buf, ref_rtp[p].pkt[1], 40);
		buf[0] |= 0x10;
		buf[12] = 0xbe;
		buf[13] = 0xde;
		buf[14] = 0xff;
		buf[15] = 0xff;
		{
			struct sl_srtp_op op = { .ctx = rx, .buf = buf, .len = 40, .cap = 40 };

			assert_int_equal(sl_srtp_unprotect_burst(&op, 1), 0);
		}
		free(buf);
		sl_srtp_destroy(rx);
	}
}

static void protect_needs_room(void **state)
{
	uint8_t buf[BUF];
	struct sl_srtp *tx = ctx(SL_SRTP_AEAD_AES_128_GCM, false, 1);
	struct sl_srtp_op op = { .ctx = tx, .buf = buf };

	(void)state;
	op.len = make_rtp(0, buf);
	op.cap = (uint16_t)(op.len + 15);
	assert_int_equal(sl_srtp_protect_burst(&op, 1), 0);
	assert_int_equal(op.status, SL_SRTP_ERR_FORMAT);
	op.cap = (uint16_t)(op.len + SL_SRTP_MAX_TRAILER);
	assert_int_equal(sl_srtp_protect_burst(&op, 1), 1);
	/* Wrong direction: an outbound context does not unprotect. */
	assert_int_equal(sl_srtp_unprotect_burst(&op, 1), 0);
	sl_srtp_destroy(tx);
}

static void ssrc_bound_and_forgeries(void **state)
{
	uint8_t key[32], salt[14], buf[BUF];
	struct sl_srtp *tx, *rx;

	(void)state;
	key_for(SL_SRTP_AEAD_AES_128_GCM, key, salt, 3);
	tx = sl_srtp_create(SL_SRTP_AEAD_AES_128_GCM, key, salt, false, 8);
	rx = sl_srtp_create(SL_SRTP_AEAD_AES_128_GCM, key, salt, true, 2);
	/* Forged packets from 5 SSRCs do not take the 2 places. */
	for (unsigned i = 0; i < 5; i++) {
		struct sl_srtp_op op = { .ctx = rx, .buf = buf, .cap = BUF };

		op.len = make_rtp(i, buf);
		buf[11] = (uint8_t)(0x80 + i);
		op.len += 16;
		assert_int_equal(sl_srtp_unprotect_burst(&op, 1), 0);
		assert_int_equal(op.status, SL_SRTP_ERR_AUTH);
	}
	/* Genuine packets of SSRCs 0x1000, 0x1001 fit; 0x1002 does not. */
	for (unsigned i = 0; i < 3; i++) {
		struct sl_srtp_op op = { .ctx = tx, .buf = buf, .cap = BUF };

		op.len = make_rtp(i, buf);
		assert_int_equal(sl_srtp_protect_burst(&op, 1), 1);
		op.ctx = rx;
		op.cap = op.len;
		sl_srtp_unprotect_burst(&op, 1);
		assert_int_equal(op.status, i < 2 ? SL_SRTP_OK : SL_SRTP_ERR_OTHER);
	}
	assert_null(sl_srtp_create(0x1234, key, salt, true, 2));
	assert_null(sl_srtp_create(SL_SRTP_AEAD_AES_128_GCM, key, salt, true, 0));
	sl_srtp_destroy(tx);
	sl_srtp_destroy(rx);
	sl_srtp_destroy(NULL);
}

/*
 * RFC 7714 16.1.1/16.1.2: AEAD_AES_128_GCM on the RFC's RTP packet, with
 * its session key and the IV it derives from its session salt (SSRC
 * 0x5501a0b2, ROC 0, SEQ 0xf17b), through the OpenSSL type as libsrtp2
 * drives it: set_iv, set_aad(header), encrypt, get_tag; then decrypt.
 */
static void rfc7714_16_1_aes_128_gcm(void **state)
{
	static const uint8_t key[28] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	static const uint8_t hdr[12] = { 0x80, 0x40, 0xf1, 0x7b, 0x80, 0x41, 0xf8, 0xd3, 0x55, 0x01, 0xa0, 0xb2 };
	static const char pt[] = "Gallia est omnis divisa in partes tres";
	static const uint8_t want[38 + 16] = {
		0xf2, 0x4d, 0xe3, 0xa3, 0xfb, 0x34, 0xde, 0x6c, 0xac, 0xba, 0x86, 0x1c, 0x9d, 0x7e,
		0x4b, 0xca, 0xbe, 0x63, 0x3b, 0xd5, 0x0d, 0x29, 0x4e, 0x6f, 0x42, 0xa5, 0xf4, 0x7a,
		0x51, 0xc7, 0xd1, 0x9b, 0x36, 0xde, 0x3a, 0xdf, 0x88, 0x33,
		0x89, 0x9d, 0x7f, 0x27, 0xbe, 0xb1, 0x6a, 0x91, 0x52, 0xcf, 0x76, 0x5e, 0xe4, 0x39, 0x0c, 0xce,
	};
	uint8_t iv[12] = { 0x51, 0x75, 0x3c, 0x65, 0x80, 0xc2, 0x72, 0x6f, 0x20, 0x71, 0x84, 0x14 };
	const srtp_cipher_type_t *t = &sl_ossl_aes_gcm_128;
	uint8_t buf[64];
	unsigned int len = 38;
	uint32_t tag_len = 0;
	srtp_cipher_t *c;

	(void)state;
	assert_int_equal(t->alloc(&c, 28, 16), srtp_err_status_ok);
	assert_int_equal(t->init(c->state, key), srtp_err_status_ok);
	memcpy(buf, pt, 38);
	assert_int_equal(t->set_iv(c->state, iv, srtp_direction_encrypt), srtp_err_status_ok);
	assert_int_equal(t->set_aad(c->state, hdr, sizeof(hdr)), srtp_err_status_ok);
	assert_int_equal(t->encrypt(c->state, buf, &len), srtp_err_status_ok);
	assert_int_equal(t->get_tag(c->state, buf + 38, &tag_len), srtp_err_status_ok);
	assert_int_equal(tag_len, 16);
	assert_memory_equal(buf, want, sizeof(want));
	/* 16.1.2: decryption verifies the tag and restores the plaintext. */
	len = sizeof(want);
	assert_int_equal(t->set_iv(c->state, iv, srtp_direction_decrypt), srtp_err_status_ok);
	assert_int_equal(t->set_aad(c->state, hdr, sizeof(hdr)), srtp_err_status_ok);
	assert_int_equal(t->decrypt(c->state, buf, &len), srtp_err_status_ok);
	assert_int_equal(len, 38);
	assert_memory_equal(buf, pt, 38);
	/* A flipped tag bit fails authentication. */
	memcpy(buf, want, sizeof(want));
	buf[50] ^= 1;
	len = sizeof(want);
	t->set_iv(c->state, iv, srtp_direction_decrypt);
	t->set_aad(c->state, hdr, sizeof(hdr));
	assert_int_equal(t->decrypt(c->state, buf, &len), srtp_err_status_auth_fail);
	t->dealloc(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reference_with_stock_types),
		cmocka_unit_test(openssl_types_register),
		cmocka_unit_test(rfc7714_16_1_aes_128_gcm),
		cmocka_unit_test(openssl_output_equals_reference),
		cmocka_unit_test(openssl_unprotects_reference),
		cmocka_unit_test(forged_and_replayed_fail_without_state_change),
		cmocka_unit_test(old_packets_outside_window_fail),
		cmocka_unit_test(reordered_across_wrap_decrypts),
		cmocka_unit_test(short_and_malformed_fail),
		cmocka_unit_test(protect_needs_room),
		cmocka_unit_test(ssrc_bound_and_forgeries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
