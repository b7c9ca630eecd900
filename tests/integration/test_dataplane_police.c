/*
 * test_dataplane_police.c - the dataplane's limits on what one participant
 * can make it send: NACK and SR amplification, the ingress cap, keyframe
 * requests, and the NACK history shared between rooms.
 *
 * usage: test_dataplane_police PATH-TO-sluice-dataplane
 *
 * One dataplane (one worker) with the driver's usual options plus tighter
 * policing limits, so each limit is reached with a few hundred packets:
 * --ingress-pps 1000 --ingress-burst-ms 100 (101 packets at once, then
 * 1000/s), --nack-rtt-ms 1000 (dedup window long enough to be tested
 * without racing the clock), --sr-interval 2000 (likewise). Each test measures the
 * ratio of bytes the dataplane sent to bytes it was sent and prints it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <sluice/rtp.h>

#include "driver.h"

#define WAIT  1000 /* ms to wait for something that must come */
#define QUIET 300  /* ms to wait for something that must not */

#define GCM_TAG        16 /* SRTP AES-GCM: tag */
#define GCM_RTCP_TRAIL 20 /* SRTCP AES-GCM: tag + E|index */
#define INGRESS_PPS    1000
#define INGRESS_BURST  (INGRESS_PPS / 10 + 1) /* --ingress-burst-ms 100 */

static const char *const extra[] = { "--ingress-pps", "1000",          "--ingress-burst-ms",
				     "100",           "--nack-rtt-ms", "1000",
				     "--sr-interval", "2000",          NULL };
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct drv_ep mk_ep(uint64_t room)
{
	struct drv_ep e = { .room = room, .family = 4, .profile = SL_SRTP_AEAD_AES_128_GCM };

	assert_int_equal(drv_ep_new(&e), 0);
	return e;
}

/*
 * Frames for e until quiet for ms: RTP count (and their seqs), RTCP count.
 * The client's SRTP has a replay window, so a packet meant to be NACKed is
 * taken without decrypting (lost on the way: seqs == NULL and rtcp_n ==
 * NULL count frames), as is a second retransmission of one number.
 */
static unsigned recv_all(struct drv_ep *e, int ms, unsigned *rtcp_n, uint16_t *seqs, unsigned max)
{
	uint8_t got[2048];
	unsigned rtp = 0, rtcp_c = 0;
	bool rtcp = false, decrypt = seqs || rtcp_n;
	int n;

	while ((n = drv_ep_recv(e, decrypt ? got : NULL, ms, &rtcp)) != -ETIMEDOUT) {
		if (!decrypt) {
			rtp++;
			continue;
		}
		assert_true(n > 0);
		if (rtcp) {
			rtcp_c++;
			continue;
		}
		if (seqs && rtp < max)
			seqs[rtp] = drv_rd16(got + 2);
		rtp++;
	}
	if (rtcp_n)
		*rtcp_n = rtcp_c;
	return rtp;
}

static void send_rtp(struct drv_ep *pub, uint32_t ssrc, uint16_t first, unsigned n, size_t payload)
{
	uint8_t pkt[2048];

	for (unsigned k = 0; k < n; k++) {
		uint16_t seq = (uint16_t)(first + k);
		size_t len = drv_rtp(pkt, ssrc, seq, 3000u * seq, payload, 0, 0);

		assert_int_equal(drv_ep_send(pub, pkt, len, false), 0);
	}
}

/* A compound of `copies` NACKs, each naming seqs first..first+n-1. */
static size_t nack_compound(uint8_t *buf, size_t cap, uint32_t media, uint16_t first, unsigned n,
			    unsigned copies)
{
	uint16_t seqs[64];
	size_t len = 0;

	for (unsigned i = 0; i < n; i++)
		seqs[i] = (uint16_t)(first + i);
	for (unsigned c = 0; c < copies; c++) {
		size_t k = sl_rtcp_build_nack(buf + len, cap - len, 0x5b, media, seqs, n);

		assert_true(k > 0);
		len += k;
	}
	return len;
}

/* ---- item 4: NACK amplification ---- */

/*
 * One 1.5 KB compound of 51 NACKs x 64 sequence numbers. Unpoliced it made
 * 3,264 retransmissions; now at most SL_NACK_PER_COMPOUND (64) are looked
 * at, the other 3,200 are refused and counted, and a later NACK for new
 * numbers finds the subscriber's retransmission budget spent.
 */
static void nack_compound_51x64(void **state)
{
	struct drv_ep pub = mk_ep(300), sub = mk_ep(300);
	uint64_t rtx0 = drv_counter(SL_CNT_nack_retransmits);
	uint64_t lim0 = drv_counter(SL_CNT_drop_nack_limit);
	uint8_t buf[2048];
	size_t len, in_bytes, rtp_wire = 12 + 1140 + GCM_TAG;
	unsigned got, rtx;
	double ratio;

	(void)state;
	assert_int_equal(drv_subscribe(&sub, &pub, 0x7100, 0xe100, SL_MEDIA_VIDEO, false), 0);
	send_rtp(&pub, 0x7100, 1000, 64, 1140);
	assert_int_equal(recv_all(&sub, QUIET, NULL, NULL, 0), 64);

	len = nack_compound(buf, sizeof(buf), 0xe100, 1000, 64, 51);
	assert_int_equal(len, 51 * 28);
	in_bytes = len + GCM_RTCP_TRAIL;
	assert_int_equal(drv_ep_send(&sub, buf, len, true), 0);
	got = recv_all(&sub, QUIET, NULL, NULL, 0);
	rtx = (unsigned)(drv_counter(SL_CNT_nack_retransmits) - rtx0);
	ratio = (double)rtx * (double)rtp_wire / (double)in_bytes;
	print_message("51x64 NACK compound: %zu bytes in, %u retransmissions (%u received), "
		      "%zu bytes out, x%.1f in bytes (x%.0f unpoliced: 3264 retransmissions)\n",
		      in_bytes, rtx, got, (size_t)rtx * rtp_wire, ratio,
		      3264.0 * (double)rtp_wire / (double)in_bytes);
	assert_true(rtx <= 64);
	assert_true(got <= 64);
	assert_true(rtx >= 1); /* the first NACK is still answered */
	assert_true(drv_counter(SL_CNT_drop_nack_limit) - lim0 >= 51 * 64 - 64);

	/* The budget is spent: ten new numbers get at most a refill's worth. */
	send_rtp(&pub, 0x7100, 1064, 10, 1140);
	assert_int_equal(recv_all(&sub, QUIET, NULL, NULL, 0), 10);
	lim0 = drv_counter(SL_CNT_drop_nack_limit);
	rtx0 = drv_counter(SL_CNT_nack_retransmits);
	len = nack_compound(buf, sizeof(buf), 0xe100, 1064, 10, 1);
	assert_int_equal(drv_ep_send(&sub, buf, len, true), 0);
	got = recv_all(&sub, QUIET, NULL, NULL, 0);
	print_message("after the budget: %u of 10 retransmitted\n", got);
	assert_true(got <= 2);
	assert_true(drv_counter(SL_CNT_nack_retransmits) - rtx0 <= 2);
	assert_true(drv_counter(SL_CNT_drop_nack_limit) - lim0 >= 8);
	drv_ep_done(&sub);
	drv_ep_done(&pub);
	drv_flush();
}

/* A number retransmitted within --nack-rtt-ms (1000 here) is not sent again. */
static void nack_dup_within_rtt(void **state)
{
	struct drv_ep pub = mk_ep(301), sub = mk_ep(301);
	uint8_t buf[256];
	uint16_t seqs[8];
	uint64_t dup0;
	size_t len;

	(void)state;
	assert_int_equal(drv_subscribe(&sub, &pub, 0x7200, 0xe200, SL_MEDIA_VIDEO, false), 0);
	send_rtp(&pub, 0x7200, 50, 10, 500);
	assert_int_equal(recv_all(&sub, QUIET, NULL, NULL, 0), 10);
	len = nack_compound(buf, sizeof(buf), 0xe200, 53, 3, 1);
	assert_int_equal(drv_ep_send(&sub, buf, len, true), 0);
	assert_int_equal(recv_all(&sub, QUIET, NULL, seqs, 8), 3);
	assert_int_equal(seqs[0], 53);
	assert_int_equal(seqs[2], 55);
	/* Again at once: duplicates, refused and counted. */
	dup0 = drv_counter(SL_CNT_drop_nack_dup);
	assert_int_equal(drv_ep_send(&sub, buf, len, true), 0);
	assert_int_equal(recv_all(&sub, QUIET, NULL, NULL, 0), 0);
	assert_int_equal(drv_counter(SL_CNT_drop_nack_dup) - dup0, 3);
	/* Once the window has passed, a repeated NACK is answered again. */
	usleep(1100 * 1000);
	assert_int_equal(drv_ep_send(&sub, buf, len, true), 0);
	assert_int_equal(recv_all(&sub, QUIET, NULL, NULL, 0), 3);
	drv_ep_done(&sub);
	drv_ep_done(&pub);
	drv_flush();
}

/* ---- item 5: SR amplification ---- */

static void sr_compound_51(void **state)
{
	struct drv_ep pub = mk_ep(302), sub[3];
	struct sl_rtcp_sr sr = { .ssrc = 0x7300, .ntp = 1ull << 40, .rtp_ts = 9000 };
	uint8_t buf[2048];
	uint64_t lim0;
	size_t len = 0, in_bytes;
	unsigned total = 0, rtcp_n;

	(void)state;
	for (int i = 0; i < 3; i++) {
		sub[i] = mk_ep(302);
		assert_int_equal(drv_subscribe(&sub[i], &pub, 0x7300, 0xe300 + (uint32_t)i,
					       SL_MEDIA_VIDEO, false),
				 0);
	}
	send_rtp(&pub, 0x7300, 7, 1, 200); /* the subscriptions start */
	for (int i = 0; i < 3; i++)
		assert_int_equal(recv_all(&sub[i], QUIET, NULL, NULL, 0), 1);
	for (int k = 0; k < 51; k++)
		len += sl_rtcp_build_sr(buf + len, sizeof(buf) - len, &sr);
	assert_int_equal(len, 51 * 28);
	in_bytes = len + GCM_RTCP_TRAIL;
	lim0 = drv_counter(SL_CNT_drop_sr_limit);
	assert_int_equal(drv_ep_send(&pub, buf, len, true), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(recv_all(&sub[i], QUIET, &rtcp_n, NULL, 0), 0);
		assert_int_equal(rtcp_n, 1);
		total += rtcp_n;
	}
	print_message("51-SR compound: %zu bytes in, %u SRs out to 3 subscribers (%zu bytes), "
		      "x%.2f in bytes (unpoliced: 153 SRs, x%.2f)\n",
		      in_bytes, total, (size_t)total * (28 + GCM_RTCP_TRAIL),
		      (double)total * (28 + GCM_RTCP_TRAIL) / (double)in_bytes,
		      153.0 * (28 + GCM_RTCP_TRAIL) / (double)in_bytes);
	assert_int_equal(drv_counter(SL_CNT_drop_sr_limit) - lim0, 50);
	/* Another at once: within --sr-interval, nothing. */
	assert_int_equal(drv_ep_send(&pub, buf, len, true), 0);
	for (int i = 0; i < 3; i++) {
		recv_all(&sub[i], QUIET, &rtcp_n, NULL, 0);
		assert_int_equal(rtcp_n, 0);
	}
	assert_int_equal(drv_counter(SL_CNT_drop_sr_limit) - lim0, 50 + 51);
	for (int i = 0; i < 3; i++)
		drv_ep_done(&sub[i]);
	drv_ep_done(&pub);
	drv_flush();
}

/* ---- item 6: publisher policing ---- */

/* 2000 packets as fast as the test can send them: at most the cap goes on. */
static void ingress_cap(void **state)
{
	struct drv_ep pub = mk_ep(303), sub[3];
	uint64_t out0, drop0, out, drop;
	unsigned sent = 2000;
	double t0, el, allowed;

	(void)state;
	for (int i = 0; i < 3; i++) {
		sub[i] = mk_ep(303);
		assert_int_equal(drv_subscribe(&sub[i], &pub, 0x7400, 0xe400 + (uint32_t)i,
					       SL_MEDIA_AUDIO, false),
				 0);
	}
	out0 = drv_counter(SL_CNT_rtp_out);
	drop0 = drv_counter(SL_CNT_drop_ingress_limit);
	t0 = now_s();
	send_rtp(&pub, 0x7400, 0, sent, 100);
	el = now_s() - t0;
	drv_drain(QUIET);
	drv_flush();
	out = drv_counter(SL_CNT_rtp_out) - out0;
	drop = drv_counter(SL_CNT_drop_ingress_limit) - drop0;
	allowed = INGRESS_BURST + INGRESS_PPS * el + 1;
	print_message("ingress: %u sent in %.3f s, %lu dropped, %lu forwarded to 3 (cap allows "
		      "%.0f packets in, x%.2f fan-out per packet sent; unpoliced x3)\n",
		      sent, el, (unsigned long)drop, (unsigned long)out, allowed,
		      (double)out / sent);
	assert_true(drop > 0);
	assert_true((double)out <= 3 * allowed);
	if (allowed < sent)
		assert_true((double)drop >= sent - allowed);
	assert_int_equal(out + 3 * drop, 3ull * sent); /* what was not dropped went out */
	for (int i = 0; i < 3; i++)
		drv_ep_done(&sub[i]);
	drv_ep_done(&pub);
}

/* Keyframe requests, counted at the publisher within QUIET. */
static unsigned plis(struct drv_ep *pub)
{
	unsigned n = 0;

	recv_all(pub, QUIET, &n, NULL, 0);
	return n;
}

static int sub_raw(const struct drv_ep *s, const struct drv_ep *p, uint32_t src, uint32_t dst,
		   bool un)
{
	struct sl_ctl_sub m = { .subscriber = s->id,
				.publisher = p->id,
				.src_ssrc = src,
				.dst_ssrc = dst,
				.kind = SL_MEDIA_VIDEO };

	return drv_call(&m, un ? SL_CTL_UNSUBSCRIBE : SL_CTL_SUBSCRIBE, sizeof(m));
}

/* Repeated subscriptions do not each send the publisher a PLI. */
static void pli_subscribe_churn(void **state)
{
	struct drv_ep pub = mk_ep(304), keep = mk_ep(304), s = mk_ep(304);
	uint64_t rl0;
	unsigned n;
	double t0, el;

	(void)state;
	/* The stream stays (keep holds it): s comes and goes 20 times (each
	 * time on a fresh destination SSRC: a used one is never taken again). */
	assert_int_equal(drv_subscribe(&keep, &pub, 0x7500, 0xe500, SL_MEDIA_VIDEO, false), 0);
	rl0 = drv_counter(SL_CNT_drop_pli_ratelimit);
	t0 = now_s();
	for (int i = 0; i < 20; i++) {
		assert_int_equal(sub_raw(&s, &pub, 0x7500, 0xe501 + i, false), 0);
		assert_int_equal(sub_raw(&s, &pub, 0x7500, 0xe501 + i, true), 0);
	}
	el = now_s() - t0;
	n = plis(&pub);
	print_message("20 re-subscriptions in %.3f s: %u PLIs\n", el, n);
	assert_true(n <= 1 + (unsigned)(el / 0.5));
	assert_true(drv_counter(SL_CNT_drop_pli_ratelimit) - rl0 >= 20 - n);
	drv_ep_done(&keep);

	/* The only subscriber comes and goes: the stream slot is freed each
	 * time, the publisher's own limit (4 per pli-interval) still holds. */
	usleep(600 * 1000);
	t0 = now_s();
	for (int i = 0; i < 20; i++) {
		assert_int_equal(sub_raw(&s, &pub, 0x7500, 0xe601 + i, false), 0);
		assert_int_equal(sub_raw(&s, &pub, 0x7500, 0xe601 + i, true), 0);
	}
	el = now_s() - t0;
	n = plis(&pub);
	print_message("20 sole re-subscriptions in %.3f s: %u PLIs\n", el, n);
	assert_true(n <= 4 + (unsigned)(el / 0.125));
	drv_ep_done(&s);
	drv_ep_done(&pub);
	drv_flush();
}

/*
 * A new subscriber whose keyframe request the limiter refuses still gets
 * one: the request waits for the limiter (the keyframe asked for earlier
 * may already have passed, and aiortc never asks by itself).
 */
static void pli_deferred_not_lost(void **state)
{
	struct drv_ep pub = mk_ep(305), a = mk_ep(305), b = mk_ep(305);
	unsigned n;

	(void)state;
	assert_int_equal(sub_raw(&a, &pub, 0x7600, 0xe600, false), 0); /* PLI now */
	assert_int_equal(sub_raw(&b, &pub, 0x7600, 0xe601, false), 0); /* refused: waits */
	n = plis(&pub);
	assert_int_equal(n, 1);
	usleep(600 * 1000); /* the interval (500 ms) passes: the deferred one goes */
	n = plis(&pub);
	print_message("deferred keyframe requests sent: %u\n", n);
	assert_int_equal(n, 1);
	usleep(600 * 1000); /* and only once */
	assert_int_equal(plis(&pub), 0);
	drv_ep_done(&a);
	drv_ep_done(&b);
	drv_ep_done(&pub);
	drv_flush();
}

/*
 * Room A: 40 video publishers each fill 64 history slots (2,560 packets,
 * more than the worker's 2,047 history buffers). Room B, started after,
 * still gets its NACKs answered: each stream has its fair share.
 */
static void history_across_rooms(void **state)
{
	enum { N = 40 };
	static struct drv_ep a_pub[N];
	struct drv_ep a_sub = mk_ep(305), b_pub, b_sub;
	uint8_t buf[256];
	uint16_t seqs[4];
	uint64_t miss0;
	size_t len;

	(void)state;
	for (int i = 0; i < N; i++) {
		a_pub[i] = mk_ep(305);
		assert_int_equal(drv_subscribe(&a_sub, &a_pub[i], 0x7600, 0xe600 + (uint32_t)i,
					       SL_MEDIA_VIDEO, false),
				 0);
	}
	for (int i = 0; i < N; i++) {
		send_rtp(&a_pub[i], 0x7600, 0, 64, 300);
		drv_drain(1);
	}
	drv_drain(QUIET);
	drv_flush();

	b_pub = mk_ep(306);
	b_sub = mk_ep(306);
	assert_int_equal(drv_subscribe(&b_sub, &b_pub, 0x7700, 0xe700, SL_MEDIA_VIDEO, false), 0);
	send_rtp(&b_pub, 0x7700, 500, 32, 300);
	assert_int_equal(recv_all(&b_sub, QUIET, NULL, NULL, 0), 32);
	miss0 = drv_counter(SL_CNT_drop_nack_miss);
	len = nack_compound(buf, sizeof(buf), 0xe700, 520, 2, 1);
	assert_int_equal(drv_ep_send(&b_sub, buf, len, true), 0);
	assert_int_equal(recv_all(&b_sub, QUIET, NULL, seqs, 4), 2);
	assert_int_equal(seqs[0], 520);
	assert_int_equal(drv_counter(SL_CNT_drop_nack_miss), miss0);

	/* Room A keeps its own (shorter) history too. */
	len = nack_compound(buf, sizeof(buf), 0xe600, 63, 1, 1);
	assert_int_equal(drv_ep_send(&a_sub, buf, len, true), 0);
	assert_int_equal(recv_all(&a_sub, QUIET, NULL, seqs, 4), 1);
	assert_int_equal(seqs[0], 63);

	drv_ep_done(&b_sub);
	drv_ep_done(&b_pub);
	for (int i = 0; i < N; i++)
		drv_ep_done(&a_pub[i]);
	drv_ep_done(&a_sub);
	drv_flush();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nack_compound_51x64),  cmocka_unit_test(nack_dup_within_rtt),
		cmocka_unit_test(sr_compound_51),       cmocka_unit_test(ingress_cap),
		cmocka_unit_test(pli_subscribe_churn),  cmocka_unit_test(pli_deferred_not_lost),
		cmocka_unit_test(history_across_rooms),
	};
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-sluice-dataplane\n", argv[0]);
		return 2;
	}
	drv_extra_args = extra;
	if (drv_start(argv[1], 1, argv[0]) != 0)
		return 1;
	rc = cmocka_run_group_tests_name("dataplane policing", tests, NULL, NULL);
	drv_stop();
	return rc;
}
