/*
 * test_rtp.c - RTP header parsing, RFC 8285 extensions, RFC 6464 audio
 * level and header rewriting.
 *
 * Every packet here is written out byte by byte, so each expectation is a
 * known value rather than something computed by the code under test. The
 * malformed cases are the ones that have broken other servers: CSRC lists
 * and extension blocks that run past the packet, elements whose length runs
 * past the block, and padding lengths of 0 or beyond the payload.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/rtp.h>

/* V=2, X=1, M=1 PT=111, seq 0x1234, ts 0xdeadbeef, ssrc 0x01020304. */
#define HDR_X 0x90, 0xef, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04

static void fixed_header_fields(void **state)
{
	static const uint8_t pkt[] = { 0x80, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe,
				       0xef, 0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb };
	struct sl_rtp_info ri;

	(void)state;
	assert_int_equal(sl_rtp_parse(pkt, sizeof(pkt), &ri), 0);
	assert_int_equal(ri.pt, 96);
	assert_int_equal(ri.marker, 1);
	assert_int_equal(ri.csrc_count, 0);
	assert_int_equal(ri.has_padding, 0);
	assert_int_equal(ri.seq, 0x1234);
	assert_int_equal(ri.ts, 0xdeadbeef);
	assert_int_equal(ri.ssrc, 0x01020304);
	assert_int_equal(ri.ext_profile, 0);
	assert_int_equal(ri.ext_len, 0);
	assert_int_equal(ri.hdr_len, 12);
	/* Exactly a header, no payload, is still a header. */
	assert_int_equal(sl_rtp_parse(pkt, 12, &ri), 0);
	assert_int_equal(ri.hdr_len, 12);
}

static void short_or_bad_version(void **state)
{
	uint8_t pkt[12] = { 0x80, 0x60 };
	struct sl_rtp_info ri;

	(void)state;
	for (size_t len = 0; len < 12; len++)
		assert_int_equal(sl_rtp_parse(pkt, len, &ri), -EINVAL);
	assert_int_equal(sl_rtp_parse(NULL, 12, &ri), -EINVAL);
	for (unsigned v = 0; v < 4; v++) {
		pkt[0] = (uint8_t)(v << 6);
		assert_int_equal(sl_rtp_parse(pkt, sizeof(pkt), &ri), v == 2 ? 0 : -EINVAL);
	}
}

static void csrc_lists_0_to_15(void **state)
{
	uint8_t pkt[12 + 60 + 4];
	struct sl_rtp_info ri;

	(void)state;
	for (uint8_t cc = 0; cc <= 15; cc++) {
		size_t need = 12 + 4u * cc;

		memset(pkt, 0x5a, sizeof(pkt));
		pkt[0] = (uint8_t)(0x80 | cc);
		pkt[1] = 0x08;
		assert_int_equal(sl_rtp_parse(pkt, need, &ri), 0);
		assert_int_equal(ri.csrc_count, cc);
		assert_int_equal(ri.hdr_len, need);
		assert_int_equal(sl_rtp_parse(pkt, need + 4, &ri), 0);
		assert_int_equal(ri.hdr_len, need);
		if (cc > 0)
			assert_int_equal(sl_rtp_parse(pkt, need - 1, &ri), -EINVAL);
	}
}

/* One-byte form: id 1 (1 byte), id 2 (3 bytes), 2 padding, id 3 (2 bytes), 1 padding. */
static const uint8_t one_byte_pkt[] = {
	HDR_X, 0xbe, 0xde, 0x00, 0x03, 0x10, 0xaa, 0x22, 0x01, 0x02,
	0x03,  0x00, 0x00, 0x31, 0xb0, 0xb1, 0x00, 0xfe, 0xed, /* payload */
};

static void one_byte_extension(void **state)
{
	static const uint8_t v2[] = { 0x01, 0x02, 0x03 };
	struct sl_rtp_info ri;
	const uint8_t *val;
	uint8_t vlen;

	(void)state;
	assert_int_equal(sl_rtp_parse(one_byte_pkt, sizeof(one_byte_pkt), &ri), 0);
	assert_int_equal(ri.ext_profile, 0xbede);
	assert_int_equal(ri.ext_off, 16);
	assert_int_equal(ri.ext_len, 12);
	assert_int_equal(ri.hdr_len, 28);
	assert_int_equal(sl_rtp_find_ext(one_byte_pkt, &ri, 1, &val, &vlen), 0);
	assert_int_equal(vlen, 1);
	assert_int_equal(val[0], 0xaa);
	assert_ptr_equal(val, one_byte_pkt + 17);
	assert_int_equal(sl_rtp_find_ext(one_byte_pkt, &ri, 2, &val, &vlen), 0);
	assert_int_equal(vlen, 3);
	assert_memory_equal(val, v2, 3);
	assert_int_equal(sl_rtp_find_ext(one_byte_pkt, &ri, 3, &val, &vlen), 0);
	assert_int_equal(vlen, 2);
	assert_int_equal(val[0], 0xb0);
	assert_int_equal(val[1], 0xb1);
	assert_int_equal(sl_rtp_find_ext(one_byte_pkt, &ri, 4, &val, &vlen), -ENOENT);
	assert_int_equal(sl_rtp_find_ext(one_byte_pkt, &ri, 0, &val, &vlen), -ENOENT);
	assert_int_equal(sl_rtp_find_ext(one_byte_pkt, &ri, 15, &val, &vlen), -ENOENT);
	assert_int_equal(sl_rtp_find_ext(one_byte_pkt, &ri, 200, &val, &vlen), -ENOENT);
}

static void one_byte_id15_stops(void **state)
{
	/* id 1, then id 15 (whose length is ignored), then what would be id 2. */
	static const uint8_t pkt[] = { HDR_X, 0xbe, 0xde, 0x00, 0x02, 0x10, 0x11,
				       0xff,  0x20, 0x22, 0x2f, 0x00, 0x00 };
	struct sl_rtp_info ri;
	const uint8_t *val;
	uint8_t vlen;

	(void)state;
	assert_int_equal(sl_rtp_parse(pkt, sizeof(pkt), &ri), 0);
	assert_int_equal(sl_rtp_find_ext(pkt, &ri, 1, &val, &vlen), 0);
	assert_int_equal(val[0], 0x11);
	/* The bytes after id 15 are not parsed: neither found nor malformed. */
	assert_int_equal(sl_rtp_find_ext(pkt, &ri, 2, &val, &vlen), -ENOENT);
	assert_int_equal(sl_rtp_find_ext(pkt, &ri, 15, &val, &vlen), -ENOENT);
}

static void one_byte_malformed(void **state)
{
	/* id 1 claims 4 bytes of value; only 3 remain in the block. */
	static const uint8_t over[] = { HDR_X, 0xbe, 0xde, 0x00, 0x01, 0x13,
					0xaa,  0xbb, 0xcc, 0x99, 0x99 };
	/* A valid id 1 first, then id 2 with 16 bytes in a 4-byte block. */
	static const uint8_t late[] = { HDR_X, 0xbe, 0xde, 0x00, 0x01, 0x10, 0x42, 0x2f, 0x00 };
	struct sl_rtp_info ri;
	const uint8_t *val;
	uint8_t vlen;

	(void)state;
	assert_int_equal(sl_rtp_parse(over, sizeof(over), &ri), 0);
	assert_int_equal(sl_rtp_find_ext(over, &ri, 1, &val, &vlen), -EINVAL);
	assert_int_equal(sl_rtp_find_ext(over, &ri, 5, &val, &vlen), -EINVAL);
	assert_int_equal(sl_rtp_parse(late, sizeof(late), &ri), 0);
	assert_int_equal(sl_rtp_find_ext(late, &ri, 1, &val, &vlen), -EINVAL);
	assert_int_equal(sl_rtp_find_ext(late, &ri, 3, &val, &vlen), -EINVAL);
}

/* Two-byte form (appbits 0x5): id 1 (1), pad, id 255 (0), id 32 (3), id 15 (1), pad 2. */
static const uint8_t two_byte_pkt[] = {
	HDR_X, 0x10, 0x05, 0x00, 0x04, 0x01, 0x01, 0x7f, 0x00, 0xff, 0x00,
	0x20,  0x03, 0xc0, 0xc1, 0xc2, 0x0f, 0x01, 0x99, 0x00, 0x00,
};

static void two_byte_extension(void **state)
{
	static const uint8_t v32[] = { 0xc0, 0xc1, 0xc2 };
	struct sl_rtp_info ri;
	const uint8_t *val;
	uint8_t vlen;

	(void)state;
	assert_int_equal(sl_rtp_parse(two_byte_pkt, sizeof(two_byte_pkt), &ri), 0);
	assert_int_equal(ri.ext_profile, 0x1005);
	assert_int_equal(ri.ext_len, 16);
	assert_int_equal(ri.hdr_len, sizeof(two_byte_pkt));
	assert_int_equal(sl_rtp_find_ext(two_byte_pkt, &ri, 1, &val, &vlen), 0);
	assert_int_equal(vlen, 1);
	assert_int_equal(val[0], 0x7f);
	assert_int_equal(sl_rtp_find_ext(two_byte_pkt, &ri, 255, &val, &vlen), 0);
	assert_int_equal(vlen, 0);
	assert_int_equal(sl_rtp_find_ext(two_byte_pkt, &ri, 32, &val, &vlen), 0);
	assert_int_equal(vlen, 3);
	assert_memory_equal(val, v32, 3);
	/* 15 is an ordinary id in the two-byte form. */
	assert_int_equal(sl_rtp_find_ext(two_byte_pkt, &ri, 15, &val, &vlen), 0);
	assert_int_equal(vlen, 1);
	assert_int_equal(val[0], 0x99);
	assert_int_equal(sl_rtp_find_ext(two_byte_pkt, &ri, 2, &val, &vlen), -ENOENT);
}

static void two_byte_malformed(void **state)
{
	/* id 1 claims 5 bytes; 2 remain. */
	static const uint8_t over[] = { HDR_X, 0x10, 0x00, 0x00, 0x01, 0x01, 0x05, 0xaa, 0xbb };
	/* Padding, then an id in the last byte with no room for its length. */
	static const uint8_t nolen[] = { HDR_X, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07 };
	struct sl_rtp_info ri;
	const uint8_t *val;
	uint8_t vlen;

	(void)state;
	assert_int_equal(sl_rtp_parse(over, sizeof(over), &ri), 0);
	assert_int_equal(sl_rtp_find_ext(over, &ri, 1, &val, &vlen), -EINVAL);
	assert_int_equal(sl_rtp_parse(nolen, sizeof(nolen), &ri), 0);
	assert_int_equal(sl_rtp_find_ext(nolen, &ri, 7, &val, &vlen), -EINVAL);
}

static void extension_must_fit(void **state)
{
	/* The extension header says 3 words; 2 are there. */
	static const uint8_t beyond[] = { HDR_X, 0xbe, 0xde, 0x00, 0x03, 0x10, 0xaa,
					  0x00,  0x00, 0x00, 0x00, 0x00, 0x00 };
	/* X set but the 4-byte extension header itself is cut. */
	static const uint8_t cut[] = { HDR_X, 0xbe, 0xde };
	/* Two CSRCs, then an empty extension. */
	static const uint8_t csrc[] = { 0x92, 0x00, 0,    1,    0,    0,    0,    2,
					0,    0,    0,    3,    0x11, 0x11, 0x11, 0x11,
					0x22, 0x22, 0x22, 0x22, 0xbe, 0xde, 0x00, 0x00 };
	struct sl_rtp_info ri;
	const uint8_t *val;
	uint8_t vlen;

	(void)state;
	assert_int_equal(sl_rtp_parse(beyond, sizeof(beyond), &ri), -EINVAL);
	assert_int_equal(sl_rtp_parse(cut, sizeof(cut), &ri), -EINVAL);
	assert_int_equal(sl_rtp_parse(csrc, sizeof(csrc), &ri), 0);
	assert_int_equal(ri.csrc_count, 2);
	assert_int_equal(ri.ext_off, 24);
	assert_int_equal(ri.ext_len, 0);
	assert_int_equal(ri.hdr_len, 24);
	assert_int_equal(sl_rtp_find_ext(csrc, &ri, 1, &val, &vlen), -ENOENT);
	assert_int_equal(sl_rtp_parse(csrc, sizeof(csrc) - 1, &ri), -EINVAL);
}

static void header_past_16_bits_refused(void **state)
{
	size_t len = 12 + 4 + 4 * 0xffff;
	uint8_t *pkt = calloc(1, len);
	struct sl_rtp_info ri;

	(void)state;
	assert_non_null(pkt);
	memcpy(pkt, (const uint8_t[]){ HDR_X, 0xbe, 0xde }, 14);
	/* 16379 words: header ends at 65532, fits in the 16-bit offsets. */
	pkt[14] = 0x3f;
	pkt[15] = 0xfb;
	assert_int_equal(sl_rtp_parse(pkt, len, &ri), 0);
	assert_int_equal(ri.hdr_len, 65532);
	pkt[15] = 0xfc;
	assert_int_equal(sl_rtp_parse(pkt, len, &ri), -EINVAL);
	pkt[14] = pkt[15] = 0xff;
	assert_int_equal(sl_rtp_parse(pkt, len, &ri), -EINVAL);
	free(pkt);
}

static void unknown_profile(void **state)
{
	static const uint8_t pkt[] = { HDR_X, 0xab, 0xac, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00 };
	struct sl_rtp_info ri;
	const uint8_t *val;
	uint8_t vlen;
	bool voice;
	uint8_t level;

	(void)state;
	assert_int_equal(sl_rtp_parse(pkt, sizeof(pkt), &ri), 0);
	assert_int_equal(ri.ext_profile, 0xabac);
	assert_int_equal(sl_rtp_find_ext(pkt, &ri, 1, &val, &vlen), -ENOENT);
	assert_int_equal(sl_rtp_audio_level(pkt, &ri, 1, &voice, &level), -ENOENT);
}

static void audio_level(void **state)
{
	static const uint8_t speech[] = { HDR_X, 0xbe, 0xde, 0x00, 0x01, 0x10, 0x85, 0x00, 0x00 };
	static const uint8_t quiet[] = { HDR_X, 0xbe, 0xde, 0x00, 0x01, 0x30, 0x7f, 0x00, 0x00 };
	/* Value padded to 2 bytes by the sender: the first byte counts. */
	static const uint8_t padded[] = { HDR_X, 0xbe, 0xde, 0x00, 0x01, 0x11, 0x8a, 0x00, 0x00 };
	static const uint8_t two[] = { HDR_X, 0x10, 0x00, 0x00, 0x01, 0x01, 0x01, 0xa8, 0x00 };
	static const uint8_t two_empty[] = {
		HDR_X, 0x10, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00
	};
	static const uint8_t broken[] = { HDR_X, 0xbe, 0xde, 0x00, 0x01, 0x10, 0x85, 0x25, 0x00 };
	static const uint8_t none[] = { 0x80, 0x6f, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xff };
	struct sl_rtp_info ri;
	bool voice = false;
	uint8_t level = 0;

	(void)state;
	assert_int_equal(sl_rtp_parse(speech, sizeof(speech), &ri), 0);
	assert_int_equal(sl_rtp_audio_level(speech, &ri, 1, &voice, &level), 0);
	assert_true(voice);
	assert_int_equal(level, 5);
	assert_int_equal(sl_rtp_audio_level(speech, &ri, 2, &voice, &level), -ENOENT);

	assert_int_equal(sl_rtp_parse(quiet, sizeof(quiet), &ri), 0);
	assert_int_equal(sl_rtp_audio_level(quiet, &ri, 3, &voice, &level), 0);
	assert_false(voice);
	assert_int_equal(level, 127);

	assert_int_equal(sl_rtp_parse(padded, sizeof(padded), &ri), 0);
	assert_int_equal(sl_rtp_audio_level(padded, &ri, 1, &voice, &level), 0);
	assert_true(voice);
	assert_int_equal(level, 10);

	assert_int_equal(sl_rtp_parse(two, sizeof(two), &ri), 0);
	assert_int_equal(sl_rtp_audio_level(two, &ri, 1, &voice, &level), 0);
	assert_true(voice);
	assert_int_equal(level, 40);

	assert_int_equal(sl_rtp_parse(two_empty, sizeof(two_empty), &ri), 0);
	assert_int_equal(sl_rtp_audio_level(two_empty, &ri, 1, &voice, &level), -EINVAL);

	/* id 2 with 6 bytes in a block of 4: the block is malformed. */
	assert_int_equal(sl_rtp_parse(broken, sizeof(broken), &ri), 0);
	assert_int_equal(sl_rtp_audio_level(broken, &ri, 1, &voice, &level), -EINVAL);

	assert_int_equal(sl_rtp_parse(none, sizeof(none), &ri), 0);
	assert_int_equal(sl_rtp_audio_level(none, &ri, 1, &voice, &level), -ENOENT);
}

static void padding(void **state)
{
	/* P set; 12-byte header, 6 bytes of payload, last byte the pad length. */
	uint8_t pkt[18] = { 0xa0, 0x60, 0, 1,    0,    0,    0,    2,    0,
			    0,    0,    3, 0x11, 0x22, 0x00, 0x00, 0x00, 0x04 };
	struct sl_rtp_info ri;

	(void)state;
	assert_int_equal(sl_rtp_parse(pkt, sizeof(pkt), &ri), 0);
	assert_int_equal(ri.has_padding, 1);
	assert_true(sl_rtp_padding_ok(pkt, sizeof(pkt), &ri));
	pkt[17] = 6; /* the whole payload is padding: allowed */
	assert_true(sl_rtp_padding_ok(pkt, sizeof(pkt), &ri));
	pkt[17] = 7;
	assert_false(sl_rtp_padding_ok(pkt, sizeof(pkt), &ri));
	pkt[17] = 0;
	assert_false(sl_rtp_padding_ok(pkt, sizeof(pkt), &ri));
	pkt[17] = 255;
	assert_false(sl_rtp_padding_ok(pkt, sizeof(pkt), &ri));
	/* No payload at all but P set. */
	assert_int_equal(sl_rtp_parse(pkt, 12, &ri), 0);
	assert_false(sl_rtp_padding_ok(pkt, 12, &ri));
	/* P clear: nothing to check, whatever the last byte. */
	pkt[0] = 0x80;
	assert_int_equal(sl_rtp_parse(pkt, sizeof(pkt), &ri), 0);
	assert_true(sl_rtp_padding_ok(pkt, sizeof(pkt), &ri));
}

static void padding_after_extension(void **state)
{
	uint8_t pkt[sizeof(one_byte_pkt)];
	struct sl_rtp_info ri;

	(void)state;
	memcpy(pkt, one_byte_pkt, sizeof(pkt));
	pkt[0] |= 0x20; /* payload is the 2 bytes after the 28-byte header */
	pkt[sizeof(pkt) - 1] = 2;
	assert_int_equal(sl_rtp_parse(pkt, sizeof(pkt), &ri), 0);
	assert_true(sl_rtp_padding_ok(pkt, sizeof(pkt), &ri));
	pkt[sizeof(pkt) - 1] = 3; /* would eat into the extension */
	assert_false(sl_rtp_padding_ok(pkt, sizeof(pkt), &ri));
}

static void rewrite_touches_seq_ts_ssrc_only(void **state)
{
	uint8_t pkt[sizeof(one_byte_pkt)];
	uint8_t want[sizeof(one_byte_pkt)];
	struct sl_rtp_info ri;

	(void)state;
	memcpy(pkt, one_byte_pkt, sizeof(pkt));
	memcpy(want, one_byte_pkt, sizeof(want));
	/* Bytes 2-11: seq, ts, ssrc in network order; all else unchanged. */
	memcpy(want + 2,
	       (const uint8_t[]){ 0xab, 0xcd, 0x11, 0x22, 0x33, 0x44, 0xca, 0xfe, 0xf0, 0x0d }, 10);
	sl_rtp_rewrite(pkt, 0xcafef00d, 0xabcd, 0x11223344);
	assert_memory_equal(pkt, want, sizeof(pkt));
	assert_int_equal(sl_rtp_parse(pkt, sizeof(pkt), &ri), 0);
	assert_int_equal(ri.ssrc, 0xcafef00d);
	assert_int_equal(ri.seq, 0xabcd);
	assert_int_equal(ri.ts, 0x11223344);
	assert_int_equal(ri.pt, 111);
	assert_int_equal(ri.marker, 1);
	assert_int_equal(ri.hdr_len, 28);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixed_header_fields),
		cmocka_unit_test(short_or_bad_version),
		cmocka_unit_test(csrc_lists_0_to_15),
		cmocka_unit_test(one_byte_extension),
		cmocka_unit_test(one_byte_id15_stops),
		cmocka_unit_test(one_byte_malformed),
		cmocka_unit_test(two_byte_extension),
		cmocka_unit_test(two_byte_malformed),
		cmocka_unit_test(extension_must_fit),
		cmocka_unit_test(header_past_16_bits_refused),
		cmocka_unit_test(unknown_profile),
		cmocka_unit_test(audio_level),
		cmocka_unit_test(padding),
		cmocka_unit_test(padding_after_extension),
		cmocka_unit_test(rewrite_touches_seq_ts_ssrc_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
