/*
 * test_srtp.c - the SRTP module against published vectors, an independent
 * RFC-derived sender and libsrtp2's own implementation.
 *
 * Known answers: RFC 3711 B.2 (AES-CM keystream) and B.3 (key derivation)
 * through the OpenSSL ICM type, RFC 2202 HMAC-SHA1 through the auth type,
 * RFC 7714 16.1 through the GCM type as libsrtp2 drives it. A small sender
 * written here from RFC 3711 / RFC 7714 on raw OpenSSL (key derivation, IV,
 * AAD, ROC, SRTCP index and trailer layout) must match the module byte for
 * byte, with stock and with OpenSSL types. Reference output is produced
 * first with libsrtp2's built-in types, then the OpenSSL-backed types are
 * registered (libsrtp2 runs their self-test vectors) and the same packets
 * must come out identical across sequence wrap, several SSRCs, payload
 * sizes 0..1400 and SRTCP. Then the security properties: forged and
 * replayed packets fail without changing state, short and malformed
 * packets fail without reading or writing out of bounds (run it under
 * ASan), the SSRC bound holds and forged packets cannot fill it, and a
 * retired outbound SSRC is never protected again.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <sluice/ctl.h>
#include <sluice/srtp.h>

#include "srtp_ossl.h"

#define N_PKTS 600
#define BUF    1600

static const uint16_t profiles[] = {
	SL_SRTP_AES128_CM_SHA1_80,
	SL_SRTP_AEAD_AES_128_GCM,
	SL_SRTP_AEAD_AES_256_GCM,
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

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
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
	put32(p + 8, ssrc);
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
	put32(p + 4, ssrc);
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
		assert_int_equal(
			rtcp ? sl_srtcp_protect_burst(&op, 1) : sl_srtp_protect_burst(&op, 1), 1);
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
				struct sl_srtp_op op = {
					.ctx = rx, .buf = buf, .len = r->len[i], .cap = BUF
				};
				uint16_t plen = rtcp ? make_rtcp(i, plain) : make_rtp(i, plain);

				memcpy(buf, r->pkt[i], r->len[i]);
				assert_int_equal(rtcp ? sl_srtcp_unprotect_burst(&op, 1)
						      : sl_srtp_unprotect_burst(&op, 1),
						 1);
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

/* SRTCP: a forged index or tag changes nothing; the genuine packet passes once. */
static void srtcp_forged_and_replayed(void **state)
{
	uint8_t buf[BUF];

	(void)state;
	for (int p = 0; p < 3; p++) {
		struct sl_srtp *rx = ctx(profiles[p], true, 1);
		const struct ref *r = &ref_rtcp[p];
		struct sl_srtp_op op = { .ctx = rx, .buf = buf, .cap = BUF };
		unsigned i = 7, n = r->len[i], tag = sl_srtp_tag_len(profiles[p]);
		bool gcm = profiles[p] != SL_SRTP_AES128_CM_SHA1_80;
		/* CM: ...||E+index||tag; GCM: ...||tag||E+index. Flip tag, index, payload. */
		const unsigned at[3] = { gcm ? n - 5 : n - 1, gcm ? n - 1 : n - 1 - tag, 9 };

		for (unsigned k = 0; k < 3; k++) {
			memcpy(buf, r->pkt[i], n);
			buf[at[k]] ^= 4;
			op.len = (uint16_t)n;
			assert_int_equal(sl_srtcp_unprotect_burst(&op, 1), 0);
			assert_int_equal(op.status, SL_SRTP_ERR_AUTH);
		}
		for (int rep = 0; rep < 2; rep++) {
			memcpy(buf, r->pkt[i], n);
			op.len = (uint16_t)n;
			sl_srtcp_unprotect_burst(&op, 1);
			assert_int_equal(op.status, rep ? SL_SRTP_ERR_REPLAY : SL_SRTP_OK);
		}
		sl_srtp_destroy(rx);
	}
}

static void old_packets_outside_window_fail(void **state)
{
	uint8_t buf[BUF];
	struct sl_srtp *rx = ctx(SL_SRTP_AEAD_AES_128_GCM, true, 1),
		       *tx = ctx(SL_SRTP_AEAD_AES_128_GCM, false, 1);
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
		struct sl_srtp_op op = {
			.ctx = rx, .buf = first, .len = first_len, .cap = first_len
		};

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
	struct sl_srtp *rx = ctx(SL_SRTP_AES128_CM_SHA1_80, true, 2),
		       *tx = ctx(SL_SRTP_AES128_CM_SHA1_80, false, 2);
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
			struct sl_srtp_op op = {
				.ctx = rx, .buf = pkts[i], .len = lens[i], .cap = lens[i]
			};

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
			memcpy(buf, ref_rtp[p].pkt[0],
			       n < ref_rtp[p].len[0] ? n : ref_rtp[p].len[0]);
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
		sl_srtp_destroy(rx);
	}
}

/* Header fields pointing past the end: an error, and (under ASan) no over-read. */
static void malformed_headers_fail(void **state)
{
	(void)state;
	for (int p = 0; p < 3; p++) {
		struct sl_srtp *rx = ctx(profiles[p], true, 1);
		uint16_t n = ref_rtp[p].len[3], tag = (uint16_t)sl_srtp_tag_len(profiles[p]);

		for (int k = 0; k < 3; k++) {
			uint8_t *buf = malloc(n);
			struct sl_srtp_op op = { .ctx = rx, .buf = buf, .len = n, .cap = n };

			memcpy(buf, ref_rtp[p].pkt[3], n);
			if (k == 0) {
				buf[0] |= 0x0f; /* 15 CSRCs */
			} else { /* an extension ending inside the tag, or far past the end */
				uint16_t words =
					k == 1 ? (uint16_t)((n - tag - 16) / 4 + 1) : 0xffff;

				buf[0] |= 0x10;
				buf[12] = 0xbe;
				buf[13] = 0xde;
				buf[14] = (uint8_t)(words >> 8);
				buf[15] = (uint8_t)words;
			}
			assert_int_equal(sl_srtp_unprotect_burst(&op, 1), 0);
			assert_int_not_equal(op.status, SL_SRTP_OK);
			free(buf);
		}
		sl_srtp_destroy(rx);
	}
}

/* Protects n bytes of plain in a heap buffer of cap + 8 guard bytes. */
static uint8_t protect_in(struct sl_srtp *tx, bool rtcp, const uint8_t *plain, uint16_t n,
			  uint16_t cap, uint16_t *len)
{
	uint8_t *buf = malloc(cap + 8u);
	struct sl_srtp_op op = { .ctx = tx, .buf = buf, .len = n, .cap = cap };

	memcpy(buf, plain, n);
	memset(buf + n, 0xa5, cap + 8u - n);
	if (rtcp)
		sl_srtcp_protect_burst(&op, 1);
	else
		sl_srtp_protect_burst(&op, 1);
	if (op.status != SL_SRTP_OK)
		assert_memory_equal(buf, plain, n); /* a refusal writes nothing */
	for (unsigned g = cap; g < cap + 8u; g++)
		assert_int_equal(buf[g], 0xa5);
	free(buf);
	*len = op.len;
	return op.status;
}

/* Protect needs exactly its trailer's room; 0..20-byte packets are checked. */
static void protect_needs_exact_room(void **state)
{
	uint8_t plain[BUF];
	uint16_t len;

	(void)state;
	for (int p = 0; p < 3; p++) {
		struct sl_srtp *tx = ctx(profiles[p], false, 5);
		struct sl_srtp_op op = { .ctx = tx, .buf = plain, .len = 40, .cap = BUF };

		for (int rtcp = 0; rtcp < 2; rtcp++) {
			uint16_t trailer =
				(uint16_t)(sl_srtp_tag_len(profiles[p]) + (rtcp ? 4 : 0));
			uint16_t n = rtcp ? make_rtcp(1, plain) : make_rtp(1, plain);

			assert_int_equal(protect_in(tx, rtcp, plain, n, n + trailer - 1, &len),
					 SL_SRTP_ERR_FORMAT);
			assert_int_equal(protect_in(tx, rtcp, plain, n, n + trailer, &len),
					 SL_SRTP_OK);
			assert_int_equal(len, n + trailer);
			memset(plain, 0, sizeof(plain));
			plain[0] = 0x80;
			for (n = 0; n <= 20; n++)
				assert_int_equal(protect_in(tx, rtcp, plain, n, n + trailer, &len),
						 n < (rtcp ? 8 : 12) ? SL_SRTP_ERR_FORMAT
								     : SL_SRTP_OK);
		}
		/* Wrong direction: an outbound context does not unprotect. */
		assert_int_equal(sl_srtp_unprotect_burst(&op, 1), 0);
		assert_int_equal(op.status, SL_SRTP_ERR_OTHER);
		sl_srtp_destroy(tx);
	}
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
		assert_int_equal(op.status, i < 2 ? SL_SRTP_OK : SL_SRTP_ERR_LIMIT);
	}
	assert_null(sl_srtp_create(0x1234, key, salt, true, 2));
	assert_null(sl_srtp_create(SL_SRTP_AEAD_AES_128_GCM, key, salt, true, 0));
	sl_srtp_destroy(tx);
	sl_srtp_destroy(rx);
	sl_srtp_destroy(NULL);
}

/* Protect one RTP packet of ssrc/seq on tx; the status. */
static uint8_t protect_one(struct sl_srtp *tx, uint32_t ssrc, uint16_t seq)
{
	uint8_t buf[BUF];
	struct sl_srtp_op op = { .ctx = tx, .buf = buf, .cap = BUF };

	op.len = make_rtp(0, buf);
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	put32(buf + 8, ssrc);
	sl_srtp_protect_burst(&op, 1);
	return op.status;
}

/*
 * Outbound SSRCs: the cap refuses a new SSRC as SL_SRTP_ERR_LIMIT, retiring
 * frees its place, a retired SSRC (used or not) is never protected again,
 * and a full retired record seals the context instead of forgetting.
 */
static void retire_never_reuses(void **state)
{
	uint8_t key[32], salt[14];

	(void)state;
	for (size_t p = 0; p < 3; p++) {
		struct sl_srtp *tx, *rx;
		unsigned room;

		key_for(profiles[p], key, salt, 9);
		tx = sl_srtp_create(profiles[p], key, salt, false, 2);
		rx = sl_srtp_create(profiles[p], key, salt, true, 2);
		assert_non_null(tx);
		room = sl_srtp_retired_room(tx);
		assert_int_equal(room, SL_SRTP_MAX_RETIRED);
		assert_int_equal(protect_one(tx, 0xa, 10), SL_SRTP_OK);
		assert_int_equal(protect_one(tx, 0xb, 10), SL_SRTP_OK);
		assert_int_equal(protect_one(tx, 0xc, 10), SL_SRTP_ERR_LIMIT);
		assert_false(sl_srtp_ssrc_used(tx, 0xc));
		assert_true(sl_srtp_ssrc_used(tx, 0xa));
		assert_int_equal(sl_srtp_retire(tx, 0xa), 0);
		assert_int_equal(sl_srtp_retire(tx, 0xa), 0); /* twice: no-op */
		assert_int_equal(sl_srtp_retire(tx, 0xd), 0); /* never used */
		assert_int_equal(sl_srtp_retired_room(tx), room - 2);
		assert_true(sl_srtp_ssrc_used(tx, 0xa));
		assert_true(sl_srtp_ssrc_used(tx, 0xd));
		/* Same index, other plaintext: refused, never protected again. */
		assert_int_equal(protect_one(tx, 0xa, 10), SL_SRTP_ERR_RETIRED);
		assert_int_equal(protect_one(tx, 0xa, 11), SL_SRTP_ERR_RETIRED);
		assert_int_equal(protect_one(tx, 0xd, 1), SL_SRTP_ERR_RETIRED);
		assert_int_equal(protect_one(tx, 0xc, 10), SL_SRTP_OK); /* its place is free */
		assert_int_equal(sl_srtp_retire(rx, 0xa), -EINVAL);
		assert_int_equal(sl_srtp_retire(NULL, 0xa), -EINVAL);
		/* Fill the record: the context seals and takes no new SSRC. */
		for (uint32_t i = 0; i < room - 2; i++)
			assert_int_equal(sl_srtp_retire(tx, 0x100000 + i), 0);
		assert_int_equal(sl_srtp_retired_room(tx), 0);
		assert_int_equal(sl_srtp_retire(tx, 0xb), -ENOSPC);
		assert_true(sl_srtp_ssrc_used(tx, 0xe));
		assert_int_equal(protect_one(tx, 0xe, 1), SL_SRTP_ERR_LIMIT);
		assert_int_equal(protect_one(tx, 0xb, 11), SL_SRTP_OK); /* still tracked */
		assert_int_equal(protect_one(tx, 0xc, 11), SL_SRTP_OK);
		sl_srtp_destroy(tx);
		sl_srtp_destroy(rx);
	}
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
	static const uint8_t hdr[12] = { 0x80, 0x40, 0xf1, 0x7b, 0x80, 0x41,
					 0xf8, 0xd3, 0x55, 0x01, 0xa0, 0xb2 };
	static const char pt[] = "Gallia est omnis divisa in partes tres";
	static const uint8_t want[38 + 16] = {
		0xf2, 0x4d, 0xe3, 0xa3, 0xfb, 0x34, 0xde, 0x6c, 0xac, 0xba, 0x86, 0x1c, 0x9d, 0x7e,
		0x4b, 0xca, 0xbe, 0x63, 0x3b, 0xd5, 0x0d, 0x29, 0x4e, 0x6f, 0x42, 0xa5, 0xf4, 0x7a,
		0x51, 0xc7, 0xd1, 0x9b, 0x36, 0xde, 0x3a, 0xdf, 0x88, 0x33, 0x89, 0x9d, 0x7f, 0x27,
		0xbe, 0xb1, 0x6a, 0x91, 0x52, 0xcf, 0x76, 0x5e, 0xe4, 0x39, 0x0c, 0xce,
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

/* Runs ICM keystream through the OpenSSL type exactly as libsrtp2 does. */
static void icm_keystream(const uint8_t *key_salt, int key_len, uint8_t iv[16], uint8_t *out,
			  unsigned int n)
{
	const srtp_cipher_type_t *t = key_len == 30 ? &sl_ossl_aes_icm_128 : &sl_ossl_aes_icm_256;
	srtp_cipher_t *c;

	assert_int_equal(t->alloc(&c, key_len, 0), srtp_err_status_ok);
	assert_int_equal(t->init(c->state, key_salt), srtp_err_status_ok);
	assert_int_equal(t->set_iv(c->state, iv, srtp_direction_encrypt), srtp_err_status_ok);
	memset(out, 0, n);
	assert_int_equal(t->encrypt(c->state, out, &n), srtp_err_status_ok);
	t->dealloc(c);
}

static void hex(uint8_t *out, const char *s)
{
	for (size_t i = 0; s[2 * i]; i++) {
		unsigned v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* RFC 3711 B.2: AES-CM keystream, first three blocks and across 0xfeff. */
static void rfc3711_b2_keystream(void **state)
{
	uint8_t ks[30], iv[16] = { 0 }, out[48], want[48];

	(void)state;
	hex(ks, "2b7e151628aed2a6abf7158809cf4f3cf0f1f2f3f4f5f6f7f8f9fafbfcfd");
	icm_keystream(ks, 30, iv, out, 48);
	hex(want, "e03ead0935c95e80e166b16dd92b4eb4d23513162b02d0f72a43a2fe4a5f97ab"
		  "41e95b3bb0a2e8dd477901e4fca894c0");
	assert_memory_equal(out, want, 48);
	iv[14] = 0xfe;
	iv[15] = 0xff;
	icm_keystream(ks, 30, iv, out, 48);
	hex(want, "ec8cdf7398607cb0f2d21675ea9ea1e4362b7c3c6773516318a077d7fc5073ae"
		  "6a2cc3787889374fbeb4c81b17ba6c44");
	assert_memory_equal(out, want, 48);
}

static const char b3_master[] = "e1f97a0d3e018be0d64fa32c06de4139"
				"0ec675ad498afeebb6960b3aabe6";

/* RFC 3711 B.3: the key derivation libsrtp2 runs on this type (labels 0-2). */
static void rfc3711_b3_key_derivation(void **state)
{
	static const char *const want_hex[3] = {
		"c61e7a93744f39ee10734afe3ff7a087",
		"cebe321f6ff7716b6fd4ab49af256a156d38baa48f0a0acf3c34e2359e6cdbce"
		"e049646c43d9327ad175578ef72270986371c10c9a369ac2f94a8c5fbcdddc25"
		"6d6e919a48b610ef17c2041e474035766b68642c59bbfc2f34db60dbdfb2",
		"30cbbc08863d8c85d49db34a9ae1",
	};
	static const unsigned len[3] = { 16, 94, 14 };
	uint8_t master[30], out[94], want[94];

	(void)state;
	hex(master, b3_master);
	for (uint8_t label = 0; label < 3; label++) {
		uint8_t iv[16] = { 0 };

		iv[7] = label; /* key_id = label || r (r = 0), XORed into the salt */
		icm_keystream(master, 30, iv, out, len[label]);
		hex(want, want_hex[label]);
		assert_memory_equal(out, want, len[label]);
	}
}

/* RFC 2202 test cases 1-4, all 20 bytes, through the OpenSSL auth type. */
static void rfc2202_hmac_sha1(void **state)
{
	static const struct {
		const char *key, *data, *mac;
	} tc[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
		  "b617318655057264e28bc0b6fb378c8ef146be00" },
		{ "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL,
		  "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
		{ "0102030405060708090a0b0c0d0e0f10111213141516171819", NULL,
		  "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
	};
	const srtp_auth_type_t *t = &sl_ossl_hmac_sha1;

	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		uint8_t key[25], data[56], mac[20], want[20];
		int klen = (int)strlen(tc[i].key) / 2, dlen = 50;
		srtp_auth_t *a;

		hex(key, tc[i].key);
		if (tc[i].data) {
			hex(data, tc[i].data);
			dlen = (int)strlen(tc[i].data) / 2;
		} else {
			memset(data, i == 2 ? 0xdd : 0xcd, 50);
		}
		hex(want, tc[i].mac);
		assert_int_equal(t->alloc(&a, klen, 20), srtp_err_status_ok);
		assert_int_equal(t->init(a->state, key, klen), srtp_err_status_ok);
		/* Twice: the second run checks start() resets the keyed state. */
		for (int rep = 0; rep < 2; rep++) {
			assert_int_equal(t->start(a->state), srtp_err_status_ok);
			assert_int_equal(t->update(a->state, data, 3), srtp_err_status_ok);
			assert_int_equal(t->compute(a->state, data + 3, dlen - 3, 20, mac),
					 srtp_err_status_ok);
			assert_memory_equal(mac, want, 20);
		}
		t->dealloc(a);
	}
}

/*
 * An independent SRTP/SRTCP sender written from RFC 3711 (AES-CM, HMAC-SHA1,
 * key derivation) and RFC 7714 (AES-GCM IV, AAD and packet layout) on raw
 * OpenSSL: the module's output must equal it byte for byte.
 */
struct ref_keys {
	uint8_t key[32], salt[14], auth[20];
	int klen, slen;
	bool gcm;
};

static void ref_kdf(const uint8_t *master, int klen, int slen, uint8_t label, uint8_t *out, int n)
{
	uint8_t ctr[16] = { 0 };
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int got;

	memcpy(ctr, master + klen, (size_t)slen); /* a 96-bit salt is zero-padded */
	ctr[7] ^= label;
	memset(out, 0, (size_t)n);
	assert_int_equal(EVP_EncryptInit_ex(c, klen == 16 ? EVP_aes_128_ctr() : EVP_aes_256_ctr(),
					    NULL, master, ctr),
			 1);
	assert_int_equal(EVP_EncryptUpdate(c, out, &got, out, n), 1);
	EVP_CIPHER_CTX_free(c);
}

static void ref_session(uint16_t profile, const uint8_t *master, bool rtcp, struct ref_keys *k)
{
	uint8_t base = rtcp ? 3 : 0;

	k->klen = (int)sl_srtp_profile_key_len(profile);
	k->slen = (int)sl_srtp_profile_salt_len(profile);
	k->gcm = profile != SL_SRTP_AES128_CM_SHA1_80;
	ref_kdf(master, k->klen, k->slen, base, k->key, k->klen);
	ref_kdf(master, k->klen, k->slen, base + 2, k->salt, k->slen);
	if (!k->gcm)
		ref_kdf(master, k->klen, k->slen, base + 1, k->auth, 20);
}

/* AES-GCM over p[aad_len..len) with the given AAD; appends the tag. */
static void ref_gcm(const struct ref_keys *k, const uint8_t iv[12], const uint8_t *aad, int aad_len,
		    uint8_t *p, int len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int got;

	assert_int_equal(EVP_EncryptInit_ex(c,
					    k->klen == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(),
					    NULL, k->key, iv),
			 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &got, aad, aad_len), 1);
	if (len > 0)
		assert_int_equal(EVP_EncryptUpdate(c, p, &got, p, len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, p + len, &got), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, p + len), 1);
	EVP_CIPHER_CTX_free(c);
}

/* AES-CM: counter = salt * 2^16 ^ ssrc * 2^64 ^ index * 2^16 (index at idx_at). */
static void ref_cm(const struct ref_keys *k, uint32_t ssrc, const uint8_t *index, int idx_len,
		   uint8_t *p, int len)
{
	uint8_t ctr[16] = { 0 };
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int got;

	memcpy(ctr, k->salt, 14);
	for (int i = 0; i < 4; i++)
		ctr[4 + i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
	for (int i = 0; i < idx_len; i++)
		ctr[14 - idx_len + i] ^= index[i];
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, k->key, ctr), 1);
	if (len > 0)
		assert_int_equal(EVP_EncryptUpdate(c, p, &got, p, len), 1);
	EVP_CIPHER_CTX_free(c);
}

/* SRTP (12-byte header, no CSRC/extension). Returns the protected length. */
static int ref_srtp(const struct ref_keys *k, uint32_t roc, uint8_t *p, int len)
{
	uint32_t ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | p[10] << 8 | p[11];
	uint8_t idx[6], iv[12] = { 0 }, mac[20];
	unsigned int ml;

	put32(idx, roc);
	idx[4] = p[2];
	idx[5] = p[3];
	if (k->gcm) { /* RFC 7714 8.1: 00 00 || SSRC || ROC || SEQ, XOR salt */
		put32(iv + 2, ssrc);
		memcpy(iv + 6, idx, 6);
		for (int i = 0; i < 12; i++)
			iv[i] ^= k->salt[i];
		ref_gcm(k, iv, p, 12, p + 12, len - 12);
		return len + 16;
	}
	ref_cm(k, ssrc, idx, 6, p + 12, len - 12);
	put32(p + len, roc); /* authenticated, not sent */
	HMAC(EVP_sha1(), k->auth, 20, p, (size_t)len + 4, mac, &ml);
	memcpy(p + len, mac, 10);
	return len + 10;
}

/* SRTCP, encrypted (E = 1), with SRTCP index idx. */
static int ref_srtcp(const struct ref_keys *k, uint32_t idx, uint8_t *p, int len)
{
	uint32_t ssrc = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | p[6] << 8 | p[7];
	uint8_t e_idx[4], aad[12], iv[12] = { 0 }, mac[20];
	unsigned int ml;

	put32(e_idx, 0x80000000u | idx);
	if (k->gcm) { /* RFC 7714 9.1: 00 00 || SSRC || 00 00 || 0+index; AAD adds E||index */
		put32(iv + 2, ssrc);
		put32(iv + 8, idx);
		for (int i = 0; i < 12; i++)
			iv[i] ^= k->salt[i];
		memcpy(aad, p, 8);
		memcpy(aad + 8, e_idx, 4);
		ref_gcm(k, iv, aad, 12, p + 8, len - 8);
		memcpy(p + len + 16, e_idx, 4); /* after the tag */
		return len + 20;
	}
	put32(iv, idx);
	ref_cm(k, ssrc, iv, 4, p + 8, len - 8);
	memcpy(p + len, e_idx, 4);
	HMAC(EVP_sha1(), k->auth, 20, p, (size_t)len + 4, mac, &ml);
	memcpy(p + len + 4, mac, 10);
	return len + 14;
}

static void independent_reference(void **state)
{
	uint8_t master[46], mine[BUF], want[BUF];

	(void)state;
	for (int p = 0; p < 3; p++) {
		struct sl_srtp *tx, *tx_rtcp;
		struct ref_keys k_rtp, k_rtcp;
		uint8_t key[32], salt[14];

		if (p == 0) {
			hex(master, b3_master); /* RFC 3711 B.3's master key and salt */
		} else {
			key_for(profiles[p], key, salt, 9);
			memcpy(master, key, sl_srtp_profile_key_len(profiles[p]));
			memcpy(master + sl_srtp_profile_key_len(profiles[p]), salt, 12);
		}
		tx = sl_srtp_create(profiles[p], master,
				    master + sl_srtp_profile_key_len(profiles[p]), false, 4);
		tx_rtcp = sl_srtp_create(profiles[p], master,
					 master + sl_srtp_profile_key_len(profiles[p]), false, 4);
		assert_non_null(tx);
		assert_non_null(tx_rtcp);
		ref_session(profiles[p], master, false, &k_rtp);
		ref_session(profiles[p], master, true, &k_rtcp);
		/* make_rtp(3*j) is SSRC 0x1000, seq 65500 + j: j 34..37 cross into ROC 1. */
		for (unsigned j = 0; j < 40; j++) {
			struct sl_srtp_op op = { .ctx = tx, .buf = mine, .cap = BUF };
			int n;

			op.len = make_rtp(3 * j, mine);
			n = ref_srtp(&k_rtp, 65500 + j > 65535, want, make_rtp(3 * j, want));
			assert_int_equal(sl_srtp_protect_burst(&op, 1), 1);
			assert_int_equal(op.len, n);
			assert_memory_equal(mine, want, (size_t)n);
		}
		for (unsigned j = 0; j < 5; j++) { /* libsrtp2 numbers SRTCP from 1 */
			struct sl_srtp_op op = { .ctx = tx_rtcp, .buf = mine, .cap = BUF };
			int n;

			op.len = make_rtcp(2 * j, mine);
			n = ref_srtcp(&k_rtcp, j + 1, want, make_rtcp(2 * j, want));
			assert_int_equal(sl_srtcp_protect_burst(&op, 1), 1);
			assert_int_equal(op.len, n);
			assert_memory_equal(mine, want, (size_t)n);
		}
		sl_srtp_destroy(tx);
		sl_srtp_destroy(tx_rtcp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reference_with_stock_types),
		cmocka_unit_test(independent_reference), /* stock libsrtp2 */
		cmocka_unit_test(openssl_types_register),
		cmocka_unit_test(rfc3711_b2_keystream),
		cmocka_unit_test(rfc3711_b3_key_derivation),
		cmocka_unit_test(rfc2202_hmac_sha1),
		cmocka_unit_test(independent_reference), /* OpenSSL types */
		cmocka_unit_test(rfc7714_16_1_aes_128_gcm),
		cmocka_unit_test(openssl_output_equals_reference),
		cmocka_unit_test(openssl_unprotects_reference),
		cmocka_unit_test(forged_and_replayed_fail_without_state_change),
		cmocka_unit_test(srtcp_forged_and_replayed),
		cmocka_unit_test(old_packets_outside_window_fail),
		cmocka_unit_test(reordered_across_wrap_decrypts),
		cmocka_unit_test(short_and_malformed_fail),
		cmocka_unit_test(malformed_headers_fail),
		cmocka_unit_test(protect_needs_exact_room),
		cmocka_unit_test(ssrc_bound_and_forgeries),
		cmocka_unit_test(retire_never_reuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
