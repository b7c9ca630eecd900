/*
 * test_dataplane_alive.c - SL_EV_MEDIA_ALIVE from the real sluice-dataplane.
 *
 * usage: test_dataplane_alive PATH-TO-sluice-dataplane
 *
 * The control plane counts authenticated media from an endpoint's tuple as
 * consent freshness (peers that are busy both ways send no ICE checks), so
 * the dataplane reports it: an endpoint that keeps sending SRTP gets
 * MEDIA_ALIVE events (at most one per period, here timeout/2 = 1 s), one
 * that sends nothing, or sends packets that do not authenticate, gets none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <sluice/rtp.h>

#include "driver.h"

static void media_alive_events(void **state)
{
	struct drv_ep talk = { .id = 501,
			       .room = 50,
			       .family = 4,
			       .port = 31001,
			       .profile = SL_SRTP_AEAD_AES_128_GCM };
	struct drv_ep mute = { .id = 502,
			       .room = 50,
			       .family = 4,
			       .port = 31002,
			       .profile = SL_SRTP_AEAD_AES_128_GCM };
	struct drv_ep forged = { .id = 503,
				 .room = 50,
				 .family = 4,
				 .port = 31003,
				 .profile = SL_SRTP_AEAD_AES_128_GCM };
	static uint8_t msg[SL_CTL_MAX_MSG];
	unsigned alive[3] = { 0, 0, 0 };
	uint8_t pkt[256];
	uint16_t seq = 0;
	long end, next_send = 0;

	(void)state;
	assert_int_equal(drv_ep_add(&talk), 0);
	assert_int_equal(drv_ep_add(&mute), 0);
	assert_int_equal(drv_ep_add(&forged), 0);
	/* 3.5 s: talk sends RTP every 50 ms, forged sends garbage with an RTP header. */
	end = drv_now_ms() + 3500;
	while (drv_now_ms() < end) {
		struct sl_ctl_event ev;

		if (drv_now_ms() >= next_send) {
			size_t len = drv_rtp(pkt, 0x5151, seq, 960u * seq, 60, 0, 0);

			drv_ep_send(&talk, pkt, len, false);
			len = drv_rtp(pkt, 0x5252, seq, 960u * seq, 60, 0, 0);
			drv_send_udp(4, forged.port, 0, pkt, len + 16); /* no valid tag */
			seq++;
			next_send = drv_now_ms() + 50;
		}
		if (drv_next_up(msg, sizeof(msg), 20) != 0)
			continue;
		memcpy(&ev, msg, sizeof(ev));
		if (ev.h.type != SL_CTL_EVENT || ev.type != SL_EV_MEDIA_ALIVE)
			continue;
		if (ev.ep_id >= 501 && ev.ep_id <= 503)
			alive[ev.ep_id - 501]++;
	}
	drv_drain(50);
	/* About one per second for the talker: never one per packet (70 sent). */
	assert_true(alive[0] >= 2);
	assert_true(alive[0] <= 5);
	assert_int_equal(alive[1], 0);
	assert_int_equal(alive[2], 0);
	drv_ep_remove(&talk);
	drv_ep_remove(&mute);
	drv_ep_remove(&forged);
	drv_ep_free(&talk);
	drv_ep_free(&mute);
	drv_ep_free(&forged);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(media_alive_events),
	};
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-sluice-dataplane\n", argv[0]);
		return 2;
	}
	if (drv_start(argv[1], 1, argv[0]) != 0)
		return 1;
	rc = cmocka_run_group_tests_name("dataplane media-alive events", tests, NULL, NULL);
	drv_stop();
	return rc;
}
