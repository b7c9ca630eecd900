/*
 * test_dataplane_keys.c - SRTP contexts and indices in the real
 * sluice-dataplane, driven over net_memif and its control socket.
 *
 * usage: test_dataplane_keys PATH-TO-sluice-dataplane
 *
 * Meeting size: 32 participants publish audio and video and receive
 * everyone else, and every one of them decrypts every other's packets with
 * stock libsrtp2 (63 outbound SSRCs per receiver); a publisher that
 * re-publishes with fresh SSRCs (or leaves and comes back) 20 times blinds
 * nobody. Index safety, under each of the three profiles: everything a
 * subscriber receives is recorded by (SSRC, extended seq) while a publisher
 * leaves, a newcomer announces its SSRC, the stream is re-pointed, the new
 * source's packets arrive reordered, and the subscriber NACKs across the
 * re-point; no index may ever carry two different ciphertexts (a two-time
 * pad). NACKs: a late joiner gets nothing sent before it joined, nothing
 * survives a mute, and what was sent is still re-sent, byte for byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/rtp.h>

#include "driver.h"

#define WAIT  1000 /* ms to wait for something that must come */
#define QUIET 300  /* ms to wait for something that must not */
#define MEET  32

static const uint16_t profiles[] = { SL_SRTP_AES128_CM_SHA1_80, SL_SRTP_AEAD_AES_128_GCM,
				     SL_SRTP_AEAD_AES_256_GCM };

static struct drv_ep mk_ep(uint64_t room, uint8_t family, uint16_t profile)
{
	struct drv_ep e = { .room = room, .family = family, .profile = profile };

	assert_int_equal(drv_ep_new(&e), 0);
	return e;
}

/* SUBSCRIBE without waiting for the publisher's PLI (drained later). */
static int sub(const struct drv_ep *s, const struct drv_ep *p, uint32_t src, uint32_t dst,
	       uint8_t kind, bool unsubscribe)
{
	struct sl_ctl_sub m = { .subscriber = s->id,
				.publisher = p->id,
				.src_ssrc = src,
				.dst_ssrc = dst,
				.kind = kind };

	return drv_call(&m, unsubscribe ? SL_CTL_UNSUBSCRIBE : SL_CTL_SUBSCRIBE, sizeof(m));
}

/* An RTP packet whose payload says who sent it (mark), so that two sources
 * with the same SSRC and seq never send the same plaintext. */
static size_t rtp(uint8_t *buf, uint32_t ssrc, uint16_t seq, uint8_t mark)
{
	size_t n = drv_rtp(buf, ssrc, seq, seq * 3000u, 100, 0, 0);

	buf[12] = mark;
	return n;
}

/*
 * The next UDP frame to one of eps[0..n) within ms: returns its index and
 * copies the (protected) payload to ct, or -ETIMEDOUT.
 */
static int recv_any(struct drv_ep *eps, unsigned n, uint8_t *ct, uint16_t *len, int ms)
{
	struct drv_frame f;

	while (drv_recv(&f, ms) == 0) {
		if (f.ni.kind != SL_NET_UDP)
			continue;
		for (unsigned i = 0; i < n; i++) {
			if (ntohs(f.ni.dst_port) != eps[i].port || f.ni.ip_version != eps[i].family)
				continue;
			memcpy(ct, f.payload, f.ni.payload_len);
			*len = f.ni.payload_len;
			return (int)i;
		}
	}
	return -ETIMEDOUT;
}

/* Unprotect a copy with the endpoint's stock libsrtp2 context: length or -1. */
static int decrypt(struct drv_ep *e, const uint8_t *ct, uint16_t len, uint8_t *out, bool *rtcp)
{
	struct sl_srtp_op op = { .ctx = e->recv, .buf = out, .len = len, .cap = len };

	memcpy(out, ct, len);
	*rtcp = sl_demux(out, len) == SL_DEMUX_RTCP;
	if ((*rtcp ? sl_srtcp_unprotect_burst(&op, 1) : sl_srtp_unprotect_burst(&op, 1)) != 1)
		return -1;
	return op.len;
}

/* ---- a meeting of 32 ---- */

static uint32_t meet_dst(unsigned rx, unsigned tx, uint8_t kind)
{
	return 0x50000000u + rx * 256 + tx * 4 + kind;
}

static void meeting_of_32(void **state)
{
	static struct drv_ep e[MEET];
	static bool got[MEET][MEET][3];
	uint64_t limit0 = drv_counter(SL_CNT_drop_ssrc_limit);
	uint64_t protect0 = drv_counter(SL_CNT_drop_protect);
	unsigned total = 0;

	(void)state;
	drv_flush();
	memset(got, 0, sizeof(got));
	for (unsigned i = 0; i < MEET; i++)
		e[i] = mk_ep(3200, i % 2 ? 6 : 4, profiles[i % 3]);
	for (unsigned r = 0; r < MEET; r++) {
		for (unsigned p = 0; p < MEET; p++) {
			if (p == r)
				continue;
			for (uint8_t k = SL_MEDIA_AUDIO; k <= SL_MEDIA_VIDEO; k++)
				assert_int_equal(sub(&e[r], &e[p], 0x1000 + p * 4 + k,
						     meet_dst(r, p, k), k, false),
						 0);
		}
		drv_drain(5); /* the publishers' PLIs */
	}
	drv_drain(100);
	for (unsigned p = 0; p < MEET; p++) {
		uint8_t pkt[2048], ct[2048], out[2048];
		unsigned want = 2 * (MEET - 1), n = 0;
		uint16_t len = 0;
		int i;

		for (uint8_t k = SL_MEDIA_AUDIO; k <= SL_MEDIA_VIDEO; k++) {
			size_t pl = rtp(pkt, 0x1000 + p * 4 + k, 7, (uint8_t)p);

			assert_int_equal(drv_ep_send(&e[p], pkt, pl, false), 0);
		}
		while (n < want && (i = recv_any(e, MEET, ct, &len, WAIT)) >= 0) {
			bool rtcp;
			int m = decrypt(&e[i], ct, len, out, &rtcp);

			if (rtcp)
				continue; /* PLIs, SRs */
			if (m < 0)
				fail_msg("receiver %d: packet from %u did not decrypt", i, p);
			for (uint8_t k = SL_MEDIA_AUDIO; k <= SL_MEDIA_VIDEO; k++) {
				if (drv_rd32(out + 8) != meet_dst((unsigned)i, p, k))
					continue;
				assert_int_equal(out[12], p);
				if (!got[i][p][k]) {
					got[i][p][k] = true;
					n++;
				}
			}
		}
		total += n;
	}
	for (unsigned r = 0; r < MEET; r++)
		for (unsigned p = 0; p < MEET; p++)
			for (uint8_t k = SL_MEDIA_AUDIO; k <= SL_MEDIA_VIDEO && p != r; k++)
				if (!got[r][p][k])
					fail_msg("receiver %u got %u of %u streams; not %s of %u",
						 r, total, MEET * (MEET - 1) * 2,
						 k == SL_MEDIA_AUDIO ? "audio" : "video", p);
	assert_int_equal(total, MEET * (MEET - 1) * 2);
	assert_int_equal(drv_counter(SL_CNT_drop_ssrc_limit), limit0);
	assert_int_equal(drv_counter(SL_CNT_drop_protect), protect0);
	for (unsigned i = 0; i < MEET; i++)
		drv_ep_done(&e[i]);
	drv_drain(100);
}

/* ---- churn: a publisher with fresh SSRCs, 20 times ---- */

static void republish_churn(void **state)
{
	struct drv_ep s[3], p;
	unsigned rounds = 20;
	uint64_t limit0 = drv_counter(SL_CNT_drop_ssrc_limit);

	(void)state;
	drv_flush();
	for (unsigned i = 0; i < 3; i++)
		s[i] = mk_ep(3300, 4, profiles[i]);
	p = mk_ep(3300, 4, SL_SRTP_AEAD_AES_128_GCM);
	for (unsigned r = 0; r < rounds; r++) {
		uint32_t src = 0x7000 + r * 4;
		unsigned want = 0, n = 0;

		if (r > 0 && r % 2 == 1) { /* leaves and joins again */
			drv_ep_done(&p);
			p = mk_ep(3300, 4, SL_SRTP_AEAD_AES_128_GCM);
		}
		for (unsigned i = 0; i < 3; i++) {
			for (uint8_t k = SL_MEDIA_AUDIO; k <= SL_MEDIA_VIDEO; k++) {
				if (r > 0 && r % 2 == 0) /* re-publishes: old streams go */
					assert_int_equal(sub(&s[i], &p, src - 4 + k, 0, k, true),
							 0);
				assert_int_equal(sub(&s[i], &p, src + k,
						     0x60000000u + r * 16 + i * 4 + k, k, false),
						 0);
			}
		}
		drv_drain(20);
		for (uint8_t k = SL_MEDIA_AUDIO; k <= SL_MEDIA_VIDEO; k++) {
			uint8_t pkt[2048];
			size_t pl = rtp(pkt, src + k, (uint16_t)(100 + r), (uint8_t)r);

			assert_int_equal(drv_ep_send(&p, pkt, pl, false), 0);
			want += 3;
		}
		while (n < want) {
			uint8_t ct[2048], out[2048];
			uint16_t len = 0;
			bool rtcp;
			int i = recv_any(s, 3, ct, &len, WAIT), m;

			if (i < 0)
				fail_msg("round %u: %u of %u packets arrived", r, n, want);
			m = decrypt(&s[i], ct, len, out, &rtcp);
			if (rtcp)
				continue;
			if (m < 0)
				fail_msg("round %u: subscriber %d could not decrypt", r, i);
			assert_int_equal(out[12], r);
			assert_int_equal(drv_rd32(out + 8) & ~3u,
					 0x60000000u + r * 16 + (unsigned)i * 4);
			n++;
		}
	}
	assert_int_equal(drv_counter(SL_CNT_drop_ssrc_limit), limit0);
	for (unsigned i = 0; i < 3; i++)
		drv_ep_done(&s[i]);
	drv_ep_done(&p);
	drv_drain(50);
}

/* ---- the two-time pad ---- */

struct seen {
	uint32_t ssrc;
	uint32_t ext; /* extended seq: ROC << 16 | seq, as the receiver counts */
	uint16_t len;
	uint8_t ct[1500];
};

static struct seen seen[512];
static unsigned n_seen, reuses;
static struct {
	uint32_t ssrc, hi;
} his[16];
static unsigned n_his;

static uint32_t extend(uint32_t ssrc, uint16_t seq)
{
	unsigned i;
	uint32_t ext;

	for (i = 0; i < n_his && his[i].ssrc != ssrc; i++)
		;
	if (i == n_his) {
		assert_true(n_his < 16);
		his[n_his].ssrc = ssrc;
		his[n_his++].hi = 0x10000u + seq;
	}
	ext = his[i].hi + (uint32_t)(int32_t)(int16_t)(uint16_t)(seq - (uint16_t)his[i].hi);
	if ((int32_t)(ext - his[i].hi) > 0)
		his[i].hi = ext;
	return ext;
}

/* Record one SRTP packet the subscriber got; count index reuses. */
static void record(const uint8_t *ct, uint16_t len)
{
	uint32_t ssrc = drv_rd32(ct + 8), ext = extend(ssrc, drv_rd16(ct + 2));

	for (unsigned i = 0; i < n_seen; i++) {
		if (seen[i].ssrc != ssrc || seen[i].ext != ext)
			continue;
		if (seen[i].len != len || memcmp(seen[i].ct, ct, len) != 0) {
			fprintf(stderr, "two ciphertexts under SSRC %08x index %u\n", ssrc, ext);
			reuses++;
		}
		return;
	}
	assert_true(n_seen < 512 && len <= 1500);
	seen[n_seen].ssrc = ssrc;
	seen[n_seen].ext = ext;
	seen[n_seen].len = len;
	memcpy(seen[n_seen++].ct, ct, len);
}

/* Take every frame for s for ms; record the RTP ones. Returns how many. */
static unsigned take_all(struct drv_ep *s, int ms)
{
	uint8_t ct[2048];
	uint16_t len = 0;
	unsigned n = 0;

	while (recv_any(s, 1, ct, &len, ms) == 0) {
		if (sl_demux(ct, len) == SL_DEMUX_RTCP)
			continue;
		record(ct, len);
		n++;
	}
	return n;
}

static void send_nack(struct drv_ep *s, uint32_t media, uint16_t pid, uint16_t blp)
{
	uint8_t n[16] = { 0x81, 205, 0, 3 };

	n[4] = 0x55;
	n[5] = 0x55;
	for (int i = 0; i < 4; i++)
		n[8 + i] = (uint8_t)(media >> (24 - 8 * i));
	n[12] = (uint8_t)(pid >> 8);
	n[13] = (uint8_t)pid;
	n[14] = (uint8_t)(blp >> 8);
	n[15] = (uint8_t)blp;
	assert_int_equal(drv_ep_send(s, n, sizeof(n), true), 0);
}

static void send_seqs(struct drv_ep *p, uint32_t ssrc, uint16_t from, uint16_t to, uint8_t mark)
{
	uint8_t pkt[2048];

	for (uint16_t q = from; q <= to; q++) {
		size_t n = rtp(pkt, ssrc, q, mark);

		assert_int_equal(drv_ep_send(p, pkt, n, false), 0);
	}
}

static void two_time_pad(uint16_t profile, uint64_t room)
{
	const uint32_t x = 0xaaaa0001, y = 0xcccc0001;
	uint64_t reuse0 = drv_counter(SL_CNT_drop_index_reuse);
	uint64_t unsent0 = drv_counter(SL_CNT_drop_nack_unsent);
	struct drv_ep s, a, b, c;
	uint32_t dst = x; /* what a control plane that passes SSRCs through uses */
	unsigned before;
	int rc;

	drv_flush();
	n_seen = reuses = n_his = 0;
	s = mk_ep(room, 4, profile);
	a = mk_ep(room, 4, profile);
	assert_int_equal(sub(&s, &a, x, dst, SL_MEDIA_VIDEO, false), 0);
	drv_drain(50);
	send_seqs(&a, x, 100, 109, 'A');
	assert_int_equal(take_all(&s, QUIET), 10);

	/* A leaves; B joins and announces A's SSRC. */
	drv_ep_done(&a);
	b = mk_ep(room, 4, profile);
	rc = sub(&s, &b, x, dst, SL_MEDIA_VIDEO, false);
	if (rc == -EADDRINUSE) /* the dataplane refuses the old SSRC: a fresh one */
		dst = 0x5eed0001;
	else
		assert_int_equal(rc, 0);
	if (dst != x)
		assert_int_equal(sub(&s, &b, x, dst, SL_MEDIA_VIDEO, false), 0);
	drv_drain(50);
	send_seqs(&b, x, 100, 109, 'B'); /* the same seqs, other plaintext */
	assert_int_equal(take_all(&s, QUIET), 10);

	/* Re-point dst to C, whose packets arrive reordered. */
	c = mk_ep(room, 4, profile);
	assert_int_equal(sub(&s, &c, y, dst, SL_MEDIA_VIDEO, false), 0);
	drv_drain(50);
	send_seqs(&c, y, 500, 500, 'C');
	send_seqs(&c, y, 496, 499, 'C'); /* late: would land on B's indices */
	send_seqs(&c, y, 501, 505, 'C');
	before = n_seen;
	take_all(&s, QUIET);
	assert_true(n_seen - before >= 6); /* 500..505 at least */

	/* NACK what B's mapping sent (105..109): C's history has 496..499. */
	send_nack(&s, dst, 105, 0x000f);
	take_all(&s, QUIET);
	/* A NACK of what C's mapping sent comes back, the very same bytes. */
	before = n_seen;
	send_nack(&s, dst, 111, 0x0001); /* 500 and 501 went out as 110 and 111 */
	assert_true(take_all(&s, QUIET) >= 1);
	assert_int_equal(n_seen, before); /* nothing new: exact retransmissions */

	assert_int_equal(reuses, 0);
	assert_int_equal(drv_counter(SL_CNT_drop_index_reuse) - reuse0, 4);
	assert_int_equal(drv_counter(SL_CNT_drop_nack_unsent) - unsent0, 5);
	drv_ep_done(&s);
	drv_ep_done(&b);
	drv_ep_done(&c);
	drv_drain(50);
}

static void two_time_pad_cm_sha1(void **state)
{
	(void)state;
	two_time_pad(SL_SRTP_AES128_CM_SHA1_80, 3401);
}

static void two_time_pad_gcm128(void **state)
{
	(void)state;
	two_time_pad(SL_SRTP_AEAD_AES_128_GCM, 3402);
}

static void two_time_pad_gcm256(void **state)
{
	(void)state;
	two_time_pad(SL_SRTP_AEAD_AES_256_GCM, 3403);
}

/* ---- NACK: only what this subscription was sent ---- */

static void nack_late_joiner_and_mute(void **state)
{
	const uint32_t x = 0x0b0b0001, d1 = 0xd1d1d1d1, d2 = 0xd2d2d2d2;
	struct drv_ep p, s1, s2;
	uint8_t ct[2048], out[2048];
	uint16_t len = 0;
	bool rtcp;
	int m;

	(void)state;
	drv_flush();
	n_seen = reuses = n_his = 0;
	p = mk_ep(3500, 4, SL_SRTP_AEAD_AES_128_GCM);
	s1 = mk_ep(3500, 4, SL_SRTP_AEAD_AES_128_GCM);
	s2 = mk_ep(3500, 6, SL_SRTP_AES128_CM_SHA1_80);
	assert_int_equal(sub(&s1, &p, x, d1, SL_MEDIA_VIDEO, false), 0);
	drv_drain(50);
	send_seqs(&p, x, 1, 20, 'P');
	assert_int_equal(take_all(&s1, QUIET), 20);
	/* s2 joins late: seqs 1..20 were never its to ask for. */
	assert_int_equal(sub(&s2, &p, x, d2, SL_MEDIA_VIDEO, false), 0);
	drv_drain(50);
	send_seqs(&p, x, 21, 25, 'P');
	assert_int_equal(take_all(&s2, QUIET), 5);
	take_all(&s1, 50);
	send_nack(&s2, d2, 10, 0xffff); /* 10..26 */
	m = recv_any(&s2, 1, ct, &len, QUIET);
	assert_int_equal(m, 0); /* 21..25 only */
	for (unsigned n = 1; m == 0; n++) {
		assert_true(n <= 5);
		assert_true(drv_rd16(ct + 2) >= 21 && drv_rd16(ct + 2) <= 25);
		m = recv_any(&s2, 1, ct, &len, QUIET);
	}
	/* Muted: what was sent before cannot be fetched again. */
	assert_int_equal(drv_mute(&p, SL_MEDIA_VIDEO, true), 0);
	send_nack(&s1, d1, 23, 0);
	assert_int_equal(recv_any(&s1, 1, ct, &len, QUIET), -ETIMEDOUT);
	assert_int_equal(drv_mute(&p, SL_MEDIA_VIDEO, false), 0);
	send_seqs(&p, x, 26, 26, 'P');
	assert_int_equal(recv_any(&s1, 1, ct, &len, WAIT), 0);
	assert_true(decrypt(&s1, ct, len, out, &rtcp) > 0);
	assert_int_equal(drv_rd16(out + 2), 26);
	drv_ep_done(&p);
	drv_ep_done(&s1);
	drv_ep_done(&s2);
	drv_drain(50);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(meeting_of_32),        cmocka_unit_test(republish_churn),
		cmocka_unit_test(two_time_pad_cm_sha1), cmocka_unit_test(two_time_pad_gcm128),
		cmocka_unit_test(two_time_pad_gcm256),  cmocka_unit_test(nack_late_joiner_and_mute),
	};
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-sluice-dataplane\n", argv[0]);
		return 2;
	}
	if (drv_start(argv[1], 1, argv[0]) != 0)
		return 1;
	rc = cmocka_run_group_tests_name("dataplane keys", tests, NULL, NULL);
	drv_stop();
	return rc;
}
