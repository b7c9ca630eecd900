/*
 * test_rtcp.c - compound RTCP validation and iteration, SR and NACK
 * readers, and the SR/PLI/FIR/NACK builders.
 *
 * The compounds are written out byte by byte in the shapes browsers send
 * (SR+SDES, RR+SDES+NACK, PLI, FIR, REMB, padded transport-cc), and each
 * rule of sl_rtcp_validate has a packet that breaks it. Builders are checked
 * against known bytes, then round-tripped through the readers: NACK lists
 * across the 65535 -> 0 wrap, with gaps wider than a BLP, unsorted and with
 * duplicates must come back as the same set in the fewest FCI entries.
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

#define SSRC_A 0x11, 0x22, 0x33, 0x44
#define SSRC_B 0xaa, 0xbb, 0xcc, 0xdd
#define SSRC_M 0x01, 0x02, 0x03, 0x04

/* SR with one report block (52 bytes) + SDES with a 16-byte CNAME (28). */
static const uint8_t sr_sdes[] = {
	0x81, 0xc8, 0x00,   0x0c, SSRC_A, 0xe1, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, /* NTP */
	0x00, 0x01, 0x02,   0x03, /* RTP ts */
	0x00, 0x00, 0x00,   0x64, /* packets */
	0x00, 0x00, 0x27,   0x10, /* octets */
	0x55, 0x66, 0x77,   0x88, 0x10,   0x00, 0x00, 0x02, 0x00, 0x01, 0x12, 0x34, 0x00,
	0x00, 0x00, 0x20,   0x45, 0x67,   0x89, 0x00, 0x00, 0x01, 0x00, 0x00, 0x81, 0xca,
	0x00, 0x06, SSRC_A, 0x01, 0x10,   'a',  'b',  'c',  'd',  'e',  'f',  'g',  'h',
	'i',  'j',  'k',    'l',  'm',    'n',  'o',  'p',  0x00, 0x00,
};

/* RR (no blocks) + SDES + NACK: 100 +101 +103, then 65535 +0. */
static const uint8_t rr_sdes_nack[] = {
	0x80,   0xc9,   0x00, 0x01, SSRC_B, 0x81, 0xca, 0x00, 0x03, SSRC_B, 0x01,
	0x02,   'x',    'y',  0x00, 0x00,   0x00, 0x00, 0x81, 0xcd, 0x00,   0x04,
	SSRC_B, SSRC_M, 0x00, 0x64, 0x00,   0x05, 0xff, 0xff, 0x00, 0x01,
};

static const uint8_t pli[] = { 0x81, 0xce, 0x00, 0x02, SSRC_B, SSRC_M };
static const uint8_t fir[] = { 0x84, 0xce, 0x00,   0x04, SSRC_B, 0,    0,
			       0,    0,    SSRC_M, 0x07, 0x00,   0x00, 0x00 };
static const uint8_t remb[] = { 0x8f, 0xce, 0x00, 0x05, SSRC_B, 0,    0,    0,    0,
				'R',  'E',  'M',  'B',  0x01,   0x0a, 0x12, 0x34, SSRC_M };
/* RR + transport-cc with 23 bytes of content and 1 byte of padding. */
static const uint8_t rr_tcc[] = {
	0x80, 0xc9, 0x00, 0x01, SSRC_B, 0xaf, 0xcd, 0x00, 0x05, SSRC_B, SSRC_M, 0x00,
	0x01, 0x00, 0x01, 0x00, 0x00,   0x10, 0x00, 0x20, 0x01, 0x04,   0x01,
};

static int count(const uint8_t *p, size_t len)
{
	return sl_rtcp_validate(p, len);
}

static void sr_and_sdes(void **state)
{
	struct sl_rtcp_iter it;
	struct sl_rtcp_pkt pk;
	struct sl_rtcp_sr sr;

	(void)state;
	assert_int_equal(count(sr_sdes, sizeof(sr_sdes)), 2);
	sl_rtcp_iter_init(&it, sr_sdes, sizeof(sr_sdes));
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(pk.type, SL_RTCP_SR);
	assert_int_equal(pk.fmt, 1);
	assert_int_equal(pk.off, 0);
	assert_int_equal(pk.len, 52);
	assert_int_equal(pk.sender_ssrc, 0x11223344);
	assert_int_equal(pk.media_ssrc, 0);
	assert_int_equal(sl_rtcp_sr_read(sr_sdes, &pk, &sr), 0);
	assert_int_equal(sr.ssrc, 0x11223344);
	assert_true(sr.ntp == 0xe123456789abcdefULL);
	assert_int_equal(sr.rtp_ts, 0x00010203);
	assert_int_equal(sr.packets, 100);
	assert_int_equal(sr.octets, 10000);
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(pk.type, SL_RTCP_SDES);
	assert_int_equal(pk.off, 52);
	assert_int_equal(pk.len, 28);
	assert_int_equal(pk.sender_ssrc, 0x11223344);
	assert_int_equal(sl_rtcp_sr_read(sr_sdes, &pk, &sr), -EINVAL);
	assert_int_equal(sl_rtcp_next(&it, &pk), 0);
	assert_int_equal(sl_rtcp_next(&it, &pk), 0);
}

static void rr_sdes_and_nack(void **state)
{
	static const uint16_t want[] = { 100, 101, 103, 65535, 0 };
	struct sl_rtcp_iter it;
	struct sl_rtcp_pkt pk;
	uint16_t seqs[32];

	(void)state;
	assert_int_equal(count(rr_sdes_nack, sizeof(rr_sdes_nack)), 3);
	sl_rtcp_iter_init(&it, rr_sdes_nack, sizeof(rr_sdes_nack));
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(pk.type, SL_RTCP_RR);
	assert_int_equal(pk.len, 8);
	assert_int_equal(pk.sender_ssrc, 0xaabbccdd);
	assert_int_equal(sl_rtcp_nack_seqs(rr_sdes_nack, &pk, seqs, 32), 0);
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(pk.type, SL_RTCP_SDES);
	assert_int_equal(pk.off, 8);
	assert_int_equal(pk.len, 16);
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(pk.type, SL_RTCP_RTPFB);
	assert_int_equal(pk.fmt, 1);
	assert_int_equal(pk.off, 24);
	assert_int_equal(pk.len, 20);
	assert_int_equal(pk.sender_ssrc, 0xaabbccdd);
	assert_int_equal(pk.media_ssrc, 0x01020304);
	assert_int_equal(sl_rtcp_nack_seqs(rr_sdes_nack, &pk, seqs, 32), 5);
	assert_memory_equal(seqs, want, sizeof(want));
	/* max is honoured, in the middle of a BLP. */
	memset(seqs, 0, sizeof(seqs));
	assert_int_equal(sl_rtcp_nack_seqs(rr_sdes_nack, &pk, seqs, 2), 2);
	assert_int_equal(seqs[0], 100);
	assert_int_equal(seqs[1], 101);
	assert_int_equal(seqs[2], 0);
	assert_int_equal(sl_rtcp_next(&it, &pk), 0);
}

static void feedback_shapes(void **state)
{
	struct sl_rtcp_iter it;
	struct sl_rtcp_pkt pk;

	(void)state;
	assert_int_equal(count(pli, sizeof(pli)), 1);
	sl_rtcp_iter_init(&it, pli, sizeof(pli));
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(pk.type, SL_RTCP_PSFB);
	assert_int_equal(pk.fmt, 1);
	assert_int_equal(pk.sender_ssrc, 0xaabbccdd);
	assert_int_equal(pk.media_ssrc, 0x01020304);

	assert_int_equal(count(fir, sizeof(fir)), 1);
	sl_rtcp_iter_init(&it, fir, sizeof(fir));
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(pk.fmt, 4);
	assert_int_equal(pk.len, 20);
	assert_int_equal(pk.media_ssrc, 0);

	assert_int_equal(count(remb, sizeof(remb)), 1);
	sl_rtcp_iter_init(&it, remb, sizeof(remb));
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(pk.type, SL_RTCP_PSFB);
	assert_int_equal(pk.fmt, 15);
	assert_int_equal(pk.len, 24);

	assert_int_equal(count(rr_tcc, sizeof(rr_tcc)), 2);
	sl_rtcp_iter_init(&it, rr_tcc, sizeof(rr_tcc));
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(pk.type, SL_RTCP_RTPFB);
	assert_int_equal(pk.fmt, 15);
	assert_int_equal(pk.off, 8);
	assert_int_equal(pk.len, 24);
	assert_int_equal(pk.media_ssrc, 0x01020304);
	assert_int_equal(sl_rtcp_next(&it, &pk), 0);
}

static void sdes_and_bye_shapes(void **state)
{
	/* SDES with no chunks; BYE with one SSRC and a 3-byte reason. */
	static const uint8_t ok[] = { 0x80, 0xca,   0x00, 0x00, 0x81, 0xcb, 0x00,
				      0x02, SSRC_B, 0x03, 'b',  'y',  'e' };
	/* Two chunks, the second ending exactly on a word: 4 nulls needed. */
	static const uint8_t two_chunks[] = { 0x82, 0xca, 0x00, 0x05,   SSRC_A, 0x01,
					      0x01, 'a',  0x00, SSRC_B, 0x01,   0x02,
					      'b',  'c',  0x00, 0x00,   0x00,   0x00 };
	struct sl_rtcp_iter it;
	struct sl_rtcp_pkt pk;

	(void)state;
	assert_int_equal(count(ok, sizeof(ok)), 2);
	sl_rtcp_iter_init(&it, ok, sizeof(ok));
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(pk.sender_ssrc, 0);
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(pk.type, SL_RTCP_BYE);
	assert_int_equal(pk.sender_ssrc, 0xaabbccdd);
	assert_int_equal(count(two_chunks, sizeof(two_chunks)), 1);
}

/* Each entry breaks exactly one rule. */
static void malformed_compounds(void **state)
{
	static const struct {
		const char *what;
		uint8_t b[40];
		size_t len;
	} cases[] = {
		{ "length past end", { 0x80, 0xc9, 0x00, 0x02, SSRC_B }, 8 },
		{ "zero length word RR", { 0x80, 0xc9, 0x00, 0x00 }, 4 },
		{ "zero length word then RR",
		  { 0x80, 0xc9, 0x00, 0x00, 0x80, 0xc9, 0x00, 0x01, SSRC_B },
		  12 },
		{ "bad version first", { 0x40, 0xc9, 0x00, 0x01, SSRC_B }, 8 },
		{ "bad version second",
		  { 0x80, 0xc9, 0x00, 0x01, SSRC_B, 0xc0, 0xc9, 0x00, 0x01, SSRC_B },
		  16 },
		{ "padding in the middle",
		  { 0xa0, 0xc9, 0x00, 0x02, SSRC_B, 0, 0, 0, 4, 0x80, 0xc9, 0x00, 0x01, SSRC_B },
		  20 },
		{ "pad length 0", { 0xa0, 0xc9, 0x00, 0x02, SSRC_B, 0, 0, 0, 0 }, 12 },
		{ "pad length past payload", { 0xa0, 0xc9, 0x00, 0x02, SSRC_B, 0, 0, 0, 9 }, 12 },
		{ "pad eats the SSRC", { 0xa0, 0xc9, 0x00, 0x02, SSRC_B, 0, 0, 0, 8 }, 12 },
		{ "RR count too big", { 0x81, 0xc9, 0x00, 0x01, SSRC_B }, 8 },
		{ "SR count too big", { 0x81, 0xc8, 0x00, 0x06, SSRC_A }, 28 },
		{ "SR too short", { 0x80, 0xc8, 0x00, 0x05, SSRC_A }, 24 },
		{ "short PLI", { 0x81, 0xce, 0x00, 0x01, SSRC_B }, 8 },
		{ "short RTPFB", { 0x8f, 0xcd, 0x00, 0x01, SSRC_B }, 8 },
		{ "NACK without FCI", { 0x81, 0xcd, 0x00, 0x02, SSRC_B, SSRC_M }, 12 },
		{ "NACK FCI not x4", { 0xa1, 0xcd, 0x00, 0x03, SSRC_B, SSRC_M, 0, 1, 0, 2 }, 16 },
		{ "FIR FCI not x8", { 0x84, 0xce, 0x00, 0x03, SSRC_B, 0, 0, 0, 0, SSRC_M }, 16 },
		{ "SDES item past end",
		  { 0x81, 0xca, 0x00, 0x02, SSRC_A, 0x01, 0x09, 'a', 'b' },
		  12 },
		{ "SDES chunk without null",
		  { 0x81, 0xca, 0x00, 0x02, SSRC_A, 0x01, 0x02, 'a', 'b' },
		  12 },
		{ "SDES count too big", { 0x82, 0xca, 0x00, 0x02, SSRC_A, 0, 0, 0, 0 }, 12 },
		{ "BYE count too big", { 0x82, 0xcb, 0x00, 0x01, SSRC_A }, 8 },
		{ "BYE reason too long",
		  { 0x81, 0xcb, 0x00, 0x02, SSRC_A, 0x04, 'a', 'b', 'c' },
		  12 },
		{ "APP too short", { 0x80, 0xcc, 0x00, 0x01, SSRC_A }, 8 },
		{ "type below 192", { 0x80, 0xbf, 0x00, 0x01, SSRC_A }, 8 },
		{ "type above 223", { 0x80, 0xe0, 0x00, 0x01, SSRC_A }, 8 },
		{ "trailing 2 bytes", { 0x80, 0xc9, 0x00, 0x01, SSRC_B, 0x80, 0xc9 }, 10 },
		{ "header cut", { 0x80, 0xc9, 0x00 }, 3 },
		{ "empty", { 0 }, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = sl_rtcp_validate(cases[i].b, cases[i].len);

		if (rc != -EINVAL)
			fail_msg("%s: validate returned %d", cases[i].what, rc);
	}
	assert_int_equal(sl_rtcp_validate(NULL, 8), -EINVAL);
}

static void iterator_stops_on_malformed(void **state)
{
	static const uint8_t p[] = {
		0x80, 0xc9, 0x00, 0x01, SSRC_B, 0x80, 0xc9, 0x00, 0x05, SSRC_B
	};
	struct sl_rtcp_iter it;
	struct sl_rtcp_pkt pk;

	(void)state;
	sl_rtcp_iter_init(&it, p, sizeof(p));
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(sl_rtcp_next(&it, &pk), -EINVAL);
	assert_int_equal(sl_rtcp_next(&it, &pk), -EINVAL);
	sl_rtcp_iter_init(&it, p, 0);
	assert_int_equal(sl_rtcp_next(&it, &pk), 0);
}

static void padded_nack_padding_not_read(void **state)
{
	/* One FCI (100 +101), then 4 bytes of padding that look like an FCI. */
	static const uint8_t p[] = { 0xa1, 0xcd, 0x00, 0x04, SSRC_B, SSRC_M, 0x00,
				     0x64, 0x00, 0x01, 0x00, 0x00,   0x00,   0x04 };
	struct sl_rtcp_iter it;
	struct sl_rtcp_pkt pk;
	uint16_t seqs[32];

	(void)state;
	assert_int_equal(count(p, sizeof(p)), 1);
	sl_rtcp_iter_init(&it, p, sizeof(p));
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(pk.len, 20);
	assert_int_equal(sl_rtcp_nack_seqs(p, &pk, seqs, 32), 2);
	assert_int_equal(seqs[0], 100);
	assert_int_equal(seqs[1], 101);
}

static void sender_ssrc_from_first_8_bytes(void **state)
{
	/* An SRTCP packet: only the first 8 bytes are in the clear. */
	static const uint8_t p[] = { 0x80, 0xc9, 0x00, 0x01, SSRC_B, 0x9e, 0x3f, 0x00 };

	(void)state;
	assert_int_equal(sl_rtcp_sender_ssrc(p, sizeof(p)), 0xaabbccdd);
	assert_int_equal(sl_rtcp_sender_ssrc(p, 8), 0xaabbccdd);
	assert_int_equal(sl_rtcp_sender_ssrc(p, 7), 0);
	assert_int_equal(sl_rtcp_sender_ssrc(NULL, 8), 0);
}

static void build_sr_round_trip(void **state)
{
	static const uint8_t want[] = { 0x80, 0xc8, 0x00, 0x06, 0xca, 0xfe, 0xf0, 0x0d, 0xe1, 0x23,
					0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x00, 0x30, 0x39,
					0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x04, 0x00 };
	const struct sl_rtcp_sr in = { .ssrc = 0xcafef00d,
				       .ntp = 0xe123456789abcdefULL,
				       .rtp_ts = 12345,
				       .packets = 7,
				       .octets = 1024 };
	struct sl_rtcp_iter it;
	struct sl_rtcp_pkt pk;
	struct sl_rtcp_sr out;
	uint8_t buf[64];

	(void)state;
	assert_int_equal(sl_rtcp_build_sr(buf, sizeof(buf), &in), 28);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(sl_rtcp_validate(buf, 28), 1);
	sl_rtcp_iter_init(&it, buf, 28);
	assert_int_equal(sl_rtcp_next(&it, &pk), 1);
	assert_int_equal(sl_rtcp_sr_read(buf, &pk, &out), 0);
	assert_int_equal(out.ssrc, in.ssrc);
	assert_true(out.ntp == in.ntp);
	assert_int_equal(out.rtp_ts, in.rtp_ts);
	assert_int_equal(out.packets, in.packets);
	assert_int_equal(out.octets, in.octets);
}

static void build_pli_fir(void **state)
{
	uint8_t buf[32];

	(void)state;
	assert_int_equal(sl_rtcp_build_pli(buf, sizeof(buf), 0xaabbccdd, 0x01020304), 12);
	assert_memory_equal(buf, pli, sizeof(pli));
	assert_int_equal(sl_rtcp_validate(buf, 12), 1);
	assert_int_equal(sl_rtcp_build_fir(buf, sizeof(buf), 0xaabbccdd, 0x01020304, 7), 20);
	assert_memory_equal(buf, fir, sizeof(fir));
	assert_int_equal(sl_rtcp_validate(buf, 20), 1);
}

static void builders_refuse_small_cap(void **state)
{
	static const uint16_t two_fci[] = { 1, 100 };
	const struct sl_rtcp_sr sr = { .ssrc = 1 };
	uint8_t buf[64];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(sl_rtcp_build_sr(buf, 27, &sr), 0);
	assert_int_equal(sl_rtcp_build_pli(buf, 11, 1, 2), 0);
	assert_int_equal(sl_rtcp_build_fir(buf, 19, 1, 2, 0), 0);
	assert_int_equal(sl_rtcp_build_nack(buf, 15, 1, 2, two_fci, 1), 0);
	assert_int_equal(buf[0], 0xee); /* nothing written when refused up front */
	assert_int_equal(sl_rtcp_build_nack(buf, 16, 1, 2, two_fci, 1), 16);
	assert_int_equal(sl_rtcp_build_nack(buf, 19, 1, 2, two_fci, 2), 0);
	assert_int_equal(sl_rtcp_build_nack(buf, 20, 1, 2, two_fci, 2), 20);
	assert_int_equal(sl_rtcp_build_nack(buf, sizeof(buf), 1, 2, two_fci, 0), 0);
	assert_int_equal(sl_rtcp_build_nack(buf, sizeof(buf), 1, 2, NULL, 2), 0);
	assert_int_equal(sl_rtcp_build_sr(NULL, 64, &sr), 0);
}

/* Build a NACK, compare its FCIs to want (PID, BLP pairs). */
static void nack_known(const uint16_t *seqs, unsigned n, const uint16_t *want, unsigned nfci)
{
	uint8_t buf[256];
	size_t len = sl_rtcp_build_nack(buf, sizeof(buf), 0xaabbccdd, 0x01020304, seqs, n);

	assert_int_equal(len, 12 + 4 * nfci);
	assert_int_equal(buf[0], 0x81);
	assert_int_equal(buf[1], 205);
	assert_int_equal(buf[2] << 8 | buf[3], len / 4 - 1);
	assert_int_equal((uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | buf[6] << 8 | buf[7],
			 0xaabbccdd);
	for (unsigned i = 0; i < nfci; i++) {
		assert_int_equal(buf[12 + 4 * i] << 8 | buf[13 + 4 * i], want[2 * i]);
		assert_int_equal(buf[14 + 4 * i] << 8 | buf[15 + 4 * i], want[2 * i + 1]);
	}
	assert_int_equal(sl_rtcp_validate(buf, len), 1);
}

static void build_nack_known_bytes(void **state)
{
	uint16_t run[18];

	(void)state;
	nack_known((const uint16_t[]){ 100 }, 1, (const uint16_t[]){ 100, 0 }, 1);
	/* Across the wrap, unsorted: one FCI from 65534. */
	nack_known((const uint16_t[]){ 0, 65535, 1, 65534 }, 4, (const uint16_t[]){ 65534, 0x0007 },
		   1);
	/* Gaps wider than a BLP. */
	nack_known((const uint16_t[]){ 10, 30, 31, 1000 }, 4,
		   (const uint16_t[]){ 10, 0, 30, 0x0001, 1000, 0 }, 3);
	/* Duplicates and disorder. */
	nack_known((const uint16_t[]){ 5, 3, 5, 4 }, 4, (const uint16_t[]){ 3, 0x0003 }, 1);
	/* Wrap with a gap: 65530 covers 65535 (bit 4) and 3 (bit 8). */
	nack_known((const uint16_t[]){ 40, 3, 65535, 65530 }, 4,
		   (const uint16_t[]){ 65530, 0x0110, 40, 0 }, 2);
	for (unsigned i = 0; i < 18; i++)
		run[i] = (uint16_t)(100 + i);
	nack_known(run, 17, (const uint16_t[]){ 100, 0xffff }, 1);
	nack_known(run, 18, (const uint16_t[]){ 100, 0xffff, 117, 0 }, 2);
	/* A run ending at 65535 and going on from 0. */
	for (unsigned i = 0; i < 18; i++)
		run[i] = (uint16_t)(65530 + i);
	nack_known(run, 18, (const uint16_t[]){ 65530, 0xffff, 11, 0 }, 2);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static unsigned sort_unique(uint16_t *v, unsigned n)
{
	unsigned k = 0;

	qsort(v, n, sizeof(*v), cmp_u16);
	for (unsigned i = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

/* Random lists near the wrap: expand(build(x)) == set(x), no wasted FCI. */
static void nack_round_trip(void **state)
{
	static uint8_t buf[16384];
	static uint16_t in[600], out[700], sorted[600];
	uint32_t rng = 12345;

	(void)state;
	for (unsigned round = 0; round < 300; round++) {
		unsigned n = 1 + round % 600, m, k, nfci;
		uint16_t base = (uint16_t)(65536 - 200 + round * 7);
		uint32_t spread = round % 3 == 0 ? 40 : round % 3 == 1 ? 400 : 4000;
		struct sl_rtcp_iter it;
		struct sl_rtcp_pkt pk;
		size_t len;

		for (unsigned i = 0; i < n; i++) {
			rng = rng * 1103515245u + 12345u;
			in[i] = (uint16_t)(base + (rng >> 8) % spread);
		}
		len = sl_rtcp_build_nack(buf, sizeof(buf), 1, 2, in, n);
		assert_true(len >= 16);
		nfci = (unsigned)(len - 12) / 4;
		for (unsigned i = 1; i < nfci; i++) {
			uint16_t a = (uint16_t)(buf[8 + 4 * i] << 8 | buf[9 + 4 * i]);
			uint16_t b = (uint16_t)(buf[12 + 4 * i] << 8 | buf[13 + 4 * i]);

			assert_true((uint16_t)(b - a) > 16); /* else a's BLP would hold b */
		}
		assert_int_equal(sl_rtcp_validate(buf, len), 1);
		sl_rtcp_iter_init(&it, buf, len);
		assert_int_equal(sl_rtcp_next(&it, &pk), 1);
		m = sl_rtcp_nack_seqs(buf, &pk, out, 700);
		memcpy(sorted, in, n * sizeof(in[0]));
		k = sort_unique(sorted, n);
		assert_int_equal(m, k); /* each number once */
		assert_int_equal(sort_unique(out, m), k);
		assert_memory_equal(out, sorted, k * sizeof(out[0]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sr_and_sdes),
		cmocka_unit_test(rr_sdes_and_nack),
		cmocka_unit_test(feedback_shapes),
		cmocka_unit_test(sdes_and_bye_shapes),
		cmocka_unit_test(malformed_compounds),
		cmocka_unit_test(iterator_stops_on_malformed),
		cmocka_unit_test(padded_nack_padding_not_read),
		cmocka_unit_test(sender_ssrc_from_first_8_bytes),
		cmocka_unit_test(build_sr_round_trip),
		cmocka_unit_test(build_pli_fir),
		cmocka_unit_test(builders_refuse_small_cap),
		cmocka_unit_test(build_nack_known_bytes),
		cmocka_unit_test(nack_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
