/*
 * test_dataplane.c - the real sluice-dataplane binary, driven over net_memif
 * and its control socket.
 *
 * usage: test_dataplane PATH-TO-sluice-dataplane WORKERS
 *
 * With one worker: rooms, fan-out under all three SRTP profiles (IPv4 and
 * IPv6 subscribers), mute/unsubscribe/remove, re-pointing, bad packets and
 * the RTP-Bleed class, STUN/DTLS up and packet down, ARP/NDP/ping, NACK,
 * PLI rate limiting, SR rewriting, audio-level and timeout events, and
 * control-socket errors. With two workers: two rooms on two workers, with
 * every packet arriving on worker 0's queue so the software hand-off path
 * carries one room. Each test uses its own room, endpoint ids and client
 * ports, so they share one dataplane without interfering.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <sluice/rtp.h>

#include "driver.h"

#define WAIT  1000 /* ms to wait for something that must come */
#define QUIET 300  /* ms to wait for something that must not */

static const char *dp_path;
static unsigned n_workers;
static struct drv_ep mk_ep(uint64_t room, uint8_t family, uint16_t profile, unsigned worker)
{
	struct drv_ep e = { .room = room, .family = family, .profile = profile, .worker = worker };

	assert_int_equal(drv_ep_new(&e), 0);
	return e;
}

/* Expect one forwarded RTP packet: the given rewritten header, same payload. */
static void expect_rtp(struct drv_ep *sub, const uint8_t *sent, size_t sent_len, uint32_t dst_ssrc,
		       uint16_t seq, uint32_t ts)
{
	uint8_t got[2048];
	int n = drv_ep_recv(sub, got, WAIT, NULL);

	if (n < 0)
		fail_msg("endpoint %u: no packet (%d)", sub->id, n);
	assert_int_equal(n, (int)sent_len);
	assert_int_equal(drv_rd32(got + 8), dst_ssrc);
	assert_int_equal(drv_rd16(got + 2), seq);
	assert_int_equal(drv_rd32(got + 4), ts);
	assert_memory_equal(got + 12, sent + 12,
			    sent_len - 12); /* extensions + payload untouched */
}

static void expect_nothing(struct drv_ep *e)
{
	uint8_t got[2048];

	assert_int_equal(drv_ep_recv(e, got, QUIET, NULL), -ETIMEDOUT);
}

/* ---- layer 2/3: ARP, NDP, ping ---- */

static void arp_ndp_ping(void **state)
{
	uint8_t f[128] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0,
			   0x02, 0x08, 0x06, 0,    1,    0x08, 0x00, 6, 4, 0, 1,
			   0x02, 0,    0,    0,    0,    0x02, 10,   0, 0, 2, 0,
			   0,    0,    0,    0,    0,    10,   0,    0, 1 };
	struct drv_frame r;

	(void)state;
	assert_int_equal(drv_send_raw(f, 60), 0);
	assert_int_equal(drv_recv(&r, WAIT), 0);
	assert_memory_equal(r.data, drv_my_mac, 6);
	assert_int_equal(drv_rd16(r.data + 12), 0x0806);
	assert_int_equal(drv_rd16(r.data + 20), 2); /* reply */
	assert_memory_equal(r.data + 22, drv_dp_mac, 6);
	assert_memory_equal(r.data + 28, drv_dp_ip4, 4);
	assert_memory_equal(r.data + 38, drv_my_ip4, 4);

	/* ICMP echo v4 */
	{
		uint8_t ping[] = { 8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g' };
		uint8_t fr[128] = { 0x02, 0, 0,    0,    0,    0x01, 0x02, 0, 0,
				    0,    0, 0x02, 0x08, 0x00, 0x45, 0,    0, 20 + sizeof(ping),
				    0,    0, 0x40, 0,    64,   1,    0,    0, 10,
				    0,    0, 2,    10,   0,    0,    1 };
		uint16_t c = sl_net_csum_fold(sl_net_csum_add(0, ping, sizeof(ping)));

		ping[2] = (uint8_t)(c >> 8);
		ping[3] = (uint8_t)c;
		c = sl_net_csum_fold(sl_net_csum_add(0, fr + 14, 20));
		fr[24] = (uint8_t)(c >> 8);
		fr[25] = (uint8_t)c;
		memcpy(fr + 34, ping, sizeof(ping));
		assert_int_equal(drv_send_raw(fr, 34 + sizeof(ping)), 0);
		assert_int_equal(drv_recv(&r, WAIT), 0);
		assert_int_equal(r.data[23], 1);
		assert_int_equal(r.data[34], 0); /* echo reply */
		assert_memory_equal(r.data + 26, drv_dp_ip4, 4);
		assert_memory_equal(r.data + 30, drv_my_ip4, 4);
		assert_memory_equal(r.data + 38, ping + 4, sizeof(ping) - 4);
		assert_int_equal(sl_net_csum_fold(sl_net_csum_add(0, r.data + 14, 20)), 0);
		assert_int_equal(sl_net_csum_fold(sl_net_csum_add(0, r.data + 34, sizeof(ping))),
				 0);
	}
	assert_true(drv_counter(SL_CNT_arp_replies) >= 1);
	assert_true(drv_counter(SL_CNT_icmp_echo_replies) >= 1);
}

/* Neighbour solicitation and ICMPv6 echo. */
static size_t icmp6_frame(uint8_t *fr, const uint8_t *dst_mac, const uint8_t *dst_ip, uint8_t hop,
			  const uint8_t *icmp, size_t ilen)
{
	uint32_t s;
	uint16_t c;

	memcpy(fr, dst_mac, 6);
	memcpy(fr + 6, drv_my_mac, 6);
	fr[12] = 0x86;
	fr[13] = 0xdd;
	memset(fr + 14, 0, 40);
	fr[14] = 0x60;
	fr[18] = (uint8_t)(ilen >> 8);
	fr[19] = (uint8_t)ilen;
	fr[20] = 58;
	fr[21] = hop;
	memcpy(fr + 22, drv_my_ip6, 16);
	memcpy(fr + 38, dst_ip, 16);
	memcpy(fr + 54, icmp, ilen);
	fr[56] = fr[57] = 0;
	s = sl_net_csum_add(sl_net_csum_add(0, fr + 22, 32), fr + 54, ilen) + 58 + (uint32_t)ilen;
	c = sl_net_csum_fold(s);
	fr[56] = (uint8_t)(c >> 8);
	fr[57] = (uint8_t)c;
	return 54 + ilen;
}

static void ndp_ping6(void **state)
{
	static const uint8_t sn_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 0x01 };
	static const uint8_t sn_ip[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff, [15] = 1 };
	uint8_t ns[32] = { 135, 0, 0, 0, 0, 0, 0, 0 }, fr[256];
	uint8_t echo[16] = {
		128, 0, 0, 0, 0xab, 0xcd, 0, 7, 'h', 'e', 'l', 'l', 'o', '6', '!', '!'
	};
	struct drv_frame r;

	(void)state;
	memcpy(ns + 8, drv_dp_ip6, 16);
	ns[24] = 1; /* source link-layer address option */
	ns[25] = 1;
	memcpy(ns + 26, drv_my_mac, 6);
	assert_int_equal(drv_send_raw(fr, icmp6_frame(fr, sn_mac, sn_ip, 255, ns, sizeof(ns))), 0);
	assert_int_equal(drv_recv(&r, WAIT), 0);
	assert_memory_equal(r.data, drv_my_mac, 6);
	assert_int_equal(r.data[54], 136);         /* neighbour advertisement */
	assert_int_equal(r.data[58] & 0x60, 0x60); /* solicited, override */
	assert_memory_equal(r.data + 62, drv_dp_ip6, 16);
	assert_int_equal(r.data[78], 2); /* target link-layer address */
	assert_memory_equal(r.data + 80, drv_dp_mac, 6);
	assert_memory_equal(r.data + 38, drv_my_ip6, 16);
	/* Hop limit other than 255: ignored (RFC 4861). */
	assert_int_equal(drv_send_raw(fr, icmp6_frame(fr, sn_mac, sn_ip, 64, ns, sizeof(ns))), 0);
	assert_int_equal(drv_recv(&r, QUIET), -ETIMEDOUT);

	assert_int_equal(
		drv_send_raw(fr, icmp6_frame(fr, drv_dp_mac, drv_dp_ip6, 64, echo, sizeof(echo))),
		0);
	assert_int_equal(drv_recv(&r, WAIT), 0);
	assert_int_equal(r.data[54], 129);
	assert_memory_equal(r.data + 58, echo + 4, sizeof(echo) - 4);
	assert_memory_equal(r.data + 22, drv_dp_ip6, 16);
	assert_true(drv_counter(SL_CNT_ndp_replies) >= 1);
}

/* ---- STUN/DTLS up, packet down ---- */

static void stun_dtls_up_pkt_down(void **state)
{
	static struct sl_ctl_pkt up, down;
	uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1,  2,
			     3,    4,    5,    6,    7,    8,    9,    10,   11, 12 };
	uint8_t dtls[13] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	uint16_t port = drv_ep_port();
	struct drv_frame r;

	(void)state;
	assert_int_equal(drv_send_udp(4, port, 0, stun, sizeof(stun)), 0);
	assert_int_equal(drv_next_up(&up, sizeof(up), WAIT), 0);
	assert_int_equal(up.h.type, SL_CTL_PKT_UP);
	assert_int_equal(sl_ctl_validate(&up, up.h.len, false), 0);
	assert_int_equal(up.kind, SL_PKT_STUN);
	assert_int_equal(up.addr.family, 4);
	assert_memory_equal(up.addr.remote_ip, drv_my_ip4, 4);
	assert_int_equal(ntohs(up.addr.remote_port), port);
	assert_memory_equal(up.addr.local_ip, drv_dp_ip4, 4);
	assert_int_equal(ntohs(up.addr.local_port), DRV_BASE_PORT);
	assert_memory_equal(up.addr.peer_mac, drv_my_mac, 6);
	assert_int_equal(up.data_len, sizeof(stun));
	assert_memory_equal(up.data, stun, sizeof(stun));

	assert_int_equal(drv_send_udp(6, port, 0, dtls, sizeof(dtls)), 0);
	assert_int_equal(drv_next_up(&up, sizeof(up), WAIT), 0);
	assert_int_equal(up.kind, SL_PKT_DTLS);
	assert_int_equal(up.addr.family, 6);
	assert_memory_equal(up.addr.remote_ip, drv_my_ip6, 16);
	assert_memory_equal(up.data, dtls, sizeof(dtls));

	/* Answer the IPv6 one: the bytes leave on the wire to that 5-tuple. */
	memset(&down, 0, sizeof(down));
	down.addr = up.addr;
	down.data_len = 5;
	memcpy(down.data, "\x01\x01\x00\x00\x21", 5);
	assert_int_equal(drv_call(&down, SL_CTL_PKT_DOWN, SL_CTL_PKT_FIXED + 5), 0);
	assert_int_equal(drv_recv(&r, WAIT), 0);
	assert_int_equal(r.ni.kind, SL_NET_UDP); /* parsed: lengths and UDP checksum valid */
	assert_int_equal(r.ni.ip_version, 6);
	assert_memory_equal(r.ni.dst_ip, drv_my_ip6, 16);
	assert_int_equal(ntohs(r.ni.dst_port), port);
	assert_int_equal(ntohs(r.ni.src_port), DRV_BASE_PORT);
	assert_int_equal(r.ni.payload_len, 5);
	assert_memory_equal(r.payload, down.data, 5);
	/* A packet down from an address that is not ours is refused. */
	down.addr.local_ip[15] = 9;
	assert_int_equal(drv_call(&down, SL_CTL_PKT_DOWN, SL_CTL_PKT_FIXED + 5), -EADDRNOTAVAIL);
}

/* ---- a room ---- */

static void room_fanout_profile(uint16_t profile, uint64_t room)
{
	struct drv_ep pub = mk_ep(room, 4, profile, 0);
	struct drv_ep sub[3] = { mk_ep(room, 4, profile, 0), mk_ep(room, 4, profile, 0),
				 mk_ep(room, 6, profile, 0) };
	uint32_t a = 0xa0000000 + (uint32_t)room, v = 0xb0000000 + (uint32_t)room;
	uint8_t pkt[2][2048];
	size_t len[2];

	for (int i = 0; i < 3; i++) {
		assert_int_equal(
			drv_subscribe(&sub[i], &pub, a, 0x100 + (uint32_t)i, SL_MEDIA_AUDIO, false),
			0);
		assert_int_equal(
			drv_subscribe(&sub[i], &pub, v, 0x200 + (uint32_t)i, SL_MEDIA_VIDEO, false),
			0);
	}
	for (uint16_t k = 0; k < 20; k++) {
		len[0] = drv_rtp(pkt[0], a, (uint16_t)(65530 + k), 48000u * k, 100, 0,
				 0); /* wraps */
		len[1] = drv_rtp(pkt[1], v, (uint16_t)(1000 + k), 90000u * k, 1100, 0, 0);
		assert_int_equal(drv_ep_send(&pub, pkt[0], len[0], false), 0);
		assert_int_equal(drv_ep_send(&pub, pkt[1], len[1], false), 0);
		for (int i = 0; i < 3; i++) {
			expect_rtp(&sub[i], pkt[0], len[0], 0x100 + (uint32_t)i,
				   (uint16_t)(65530 + k), 48000u * k);
			expect_rtp(&sub[i], pkt[1], len[1], 0x200 + (uint32_t)i,
				   (uint16_t)(1000 + k), 90000u * k);
		}
	}
	expect_nothing(&pub); /* nothing echoed to the sender */
	for (int i = 0; i < 3; i++)
		drv_ep_done(&sub[i]);
	drv_ep_done(&pub);
}

static void room_fanout_gcm128(void **state)
{
	(void)state;
	room_fanout_profile(SL_SRTP_AEAD_AES_128_GCM, 101);
}

static void room_fanout_gcm256(void **state)
{
	(void)state;
	room_fanout_profile(SL_SRTP_AEAD_AES_256_GCM, 102);
}

static void room_fanout_cm_sha1(void **state)
{
	(void)state;
	room_fanout_profile(SL_SRTP_AES128_CM_SHA1_80, 103);
}

/* Mute, unsubscribe and remove take effect at once. */
static void mute_unsubscribe_remove(void **state)
{
	struct drv_ep pub = mk_ep(110, 4, SL_SRTP_AEAD_AES_128_GCM, 0);
	struct drv_ep s1 = mk_ep(110, 4, SL_SRTP_AEAD_AES_128_GCM, 0);
	struct drv_ep s2 = mk_ep(110, 4, SL_SRTP_AEAD_AES_128_GCM, 0);
	uint8_t pa[256], pv[2048];
	size_t la, lv;
	uint64_t muted0 = drv_counter(SL_CNT_drop_muted);

	(void)state;
	for (struct drv_ep *s = &s1; s; s = s == &s1 ? &s2 : NULL) {
		assert_int_equal(drv_subscribe(s, &pub, 0xaa, 0x11, SL_MEDIA_AUDIO, false), 0);
		assert_int_equal(drv_subscribe(s, &pub, 0xbb, 0x22, SL_MEDIA_VIDEO, false), 0);
	}
	assert_int_equal(drv_mute(&pub, SL_MEDIA_AUDIO, true), 0);
	la = drv_rtp(pa, 0xaa, 1, 100, 50, 0, 0);
	lv = drv_rtp(pv, 0xbb, 1, 100, 900, 0, 0);
	drv_ep_send(&pub, pa, la, false);
	drv_ep_send(&pub, pv, lv, false);
	expect_rtp(&s1, pv, lv, 0x22, 1, 100); /* video still flows */
	expect_rtp(&s2, pv, lv, 0x22, 1, 100);
	expect_nothing(&s1);
	assert_int_equal(drv_counter(SL_CNT_drop_muted), muted0 + 1);
	assert_int_equal(drv_mute(&pub, SL_MEDIA_AUDIO, false), 0);
	la = drv_rtp(pa, 0xaa, 2, 200, 50, 0, 0);
	drv_ep_send(&pub, pa, la, false);
	expect_rtp(&s1, pa, la, 0x11, 2, 200);
	expect_rtp(&s2, pa, la, 0x11, 2, 200);

	assert_int_equal(drv_subscribe(&s1, &pub, 0xbb, 0, 0, true), 0); /* s1 leaves video */
	assert_int_equal(drv_subscribe(&s1, &pub, 0xbb, 0, 0, true), -ENOENT);
	assert_int_equal(drv_ep_remove(&s2), 0);
	assert_int_equal(drv_ep_remove(&s2), -ENOENT);
	lv = drv_rtp(pv, 0xbb, 2, 200, 900, 0, 0);
	drv_ep_send(&pub, pv, lv, false);
	expect_nothing(&s1);
	expect_nothing(&s2);
	drv_ep_free(&s2);
	drv_ep_done(&s1);
	drv_ep_done(&pub);
	drv_flush();
}

/* Re-pointing a subscriber's stream keeps its sequence numbers continuous. */
static void repoint_continuity(void **state)
{
	struct drv_ep p1 = mk_ep(120, 4, SL_SRTP_AEAD_AES_128_GCM, 0);
	struct drv_ep p2 = mk_ep(120, 4, SL_SRTP_AEAD_AES_128_GCM, 0);
	struct drv_ep s = mk_ep(120, 4, SL_SRTP_AEAD_AES_128_GCM, 0);
	uint8_t pkt[2048];
	size_t len;

	(void)state;
	assert_int_equal(drv_subscribe(&s, &p1, 0x1111, 0x9999, SL_MEDIA_VIDEO, false), 0);
	for (uint16_t k = 0; k < 3; k++) {
		len = drv_rtp(pkt, 0x1111, (uint16_t)(100 + k), 1000u + k, 300, 0, 0);
		drv_ep_send(&p1, pkt, len, false);
		expect_rtp(&s, pkt, len, 0x9999, (uint16_t)(100 + k), 1000u + k);
	}
	assert_int_equal(drv_subscribe(&s, &p2, 0x2222, 0x9999, SL_MEDIA_VIDEO, false), 0);
	for (uint16_t k = 0; k < 3; k++) {
		len = drv_rtp(pkt, 0x2222, (uint16_t)(5000 + k), 777000u + 3000u * k, 300, 0, 0);
		drv_ep_send(&p2, pkt, len, false);
		expect_rtp(&s, pkt, len, 0x9999, (uint16_t)(103 + k), 1003u + 3000u * k);
	}
	len = drv_rtp(pkt, 0x1111, 103, 1003, 300, 0, 0); /* the old source no longer reaches it */
	drv_ep_send(&p1, pkt, len, false);
	expect_nothing(&s);
	drv_ep_done(&s);
	drv_ep_done(&p1);
	drv_ep_done(&p2);
}

/* ---- what must be dropped, and counted ---- */

static void bad_packets_dropped_and_counted(void **state)
{
	struct drv_ep pub = mk_ep(130, 4, SL_SRTP_AEAD_AES_128_GCM, 0);
	struct drv_ep sub = mk_ep(130, 4, SL_SRTP_AEAD_AES_128_GCM, 0);
	uint8_t plain[2048], wire[2048];
	uint64_t replay = drv_counter(SL_CNT_drop_replay), auth = drv_counter(SL_CNT_drop_auth);
	uint64_t mal = drv_counter(SL_CNT_drop_rtp_malformed),
		 big = drv_counter(SL_CNT_drop_oversize);
	uint64_t unk = drv_counter(SL_CNT_drop_unknown_source);
	size_t len, n;

	(void)state;
	assert_int_equal(drv_subscribe(&sub, &pub, 0x77, 0x88, SL_MEDIA_VIDEO, false), 0);
	len = drv_rtp(plain, 0x77, 10, 10, 500, 0, 0);
	memcpy(wire, plain, len);
	n = drv_protect(&pub, wire, len, false);
	assert_int_equal(drv_send_udp(4, pub.port, 0, wire, n), 0);
	expect_rtp(&sub, plain, len, 0x88, 10, 10);
	/* Replayed. */
	assert_int_equal(drv_send_udp(4, pub.port, 0, wire, n), 0);
	expect_nothing(&sub);
	assert_int_equal(drv_counter(SL_CNT_drop_replay), replay + 1);
	/* Forged: a payload bit flipped after protection. */
	len = drv_rtp(plain, 0x77, 11, 11, 500, 0, 0);
	memcpy(wire, plain, len);
	n = drv_protect(&pub, wire, len, false);
	wire[40] ^= 1;
	assert_int_equal(drv_send_udp(4, pub.port, 0, wire, n), 0);
	expect_nothing(&sub);
	assert_int_equal(drv_counter(SL_CNT_drop_auth), auth + 1);
	/* The genuine seq 11 still passes: the forgery changed no state. */
	wire[40] ^= 1;
	assert_int_equal(drv_send_udp(4, pub.port, 0, wire, n), 0);
	expect_rtp(&sub, plain, len, 0x88, 11, 11);
	/* Truncated below an RTP header. */
	assert_int_equal(drv_send_udp(4, pub.port, 0, wire, 10), 0);
	/* Over the MTU (1500 - 20 - 8 = 1472 bytes of UDP payload at most). */
	memset(wire + 12, 0x55, 1480);
	assert_int_equal(drv_send_udp(4, pub.port, 0, wire, 1480), 0);
	expect_nothing(&sub);
	assert_int_equal(drv_counter(SL_CNT_drop_rtp_malformed), mal + 1);
	assert_int_equal(drv_counter(SL_CNT_drop_oversize), big + 1);

	/*
	 * RTP Bleed: a correctly protected packet from another port or address
	 * is dropped, goes up as unknown, and media still flows to and from
	 * the installed 5-tuple only.
	 */
	len = drv_rtp(plain, 0x77, 12, 12, 500, 0, 0);
	memcpy(wire, plain, len);
	n = drv_protect(&pub, wire, len, false);
	assert_int_equal(drv_send_udp(4, (uint16_t)(pub.port + 1000), 0, wire, n), 0);
	assert_int_equal(drv_send_udp_from((const uint8_t[]){ 10, 0, 0, 66 }, pub.port, 0, wire, n),
			 0);
	expect_nothing(&sub);
	{
		static struct sl_ctl_pkt up;

		/* Events (a quiet endpoint's timeout) may come up first. */
		do
			assert_int_equal(drv_next_up(&up, sizeof(up), WAIT), 0);
		while (up.h.type == SL_CTL_EVENT);
		assert_int_equal(up.h.type, SL_CTL_PKT_UP);
		assert_int_equal(up.kind, SL_PKT_UNKNOWN);
	}
	assert_int_equal(drv_counter(SL_CNT_drop_unknown_source), unk + 2);
	/* The genuine packet with that same seq was never consumed: it passes. */
	assert_int_equal(drv_send_udp(4, pub.port, 0, wire, n), 0);
	expect_rtp(&sub, plain, len, 0x88, 12, 12);
	/* Garbage that is no protocol at all. */
	assert_int_equal(drv_send_udp(4, pub.port, 0, (const uint8_t *)"\xf0\x00\x01", 3), 0);
	expect_nothing(&sub);
	drv_ep_done(&sub);
	drv_ep_done(&pub);
	drv_flush();
	while (drv_next_up(plain, sizeof(plain), 50) == 0)
		;
}

/* ---- RTCP: NACK, PLI, SR ---- */

static size_t rtcp_pkt(uint8_t *b, uint8_t type, uint8_t fmt, uint32_t sender, uint32_t media)
{
	memset(b, 0, 12);
	b[0] = (uint8_t)(0x80 | fmt);
	b[1] = type;
	b[3] = 2;
	b[4] = (uint8_t)(sender >> 24);
	b[5] = (uint8_t)(sender >> 16);
	b[6] = (uint8_t)(sender >> 8);
	b[7] = (uint8_t)sender;
	b[8] = (uint8_t)(media >> 24);
	b[9] = (uint8_t)(media >> 16);
	b[10] = (uint8_t)(media >> 8);
	b[11] = (uint8_t)media;
	return 12;
}

static void nack_pli_sr(void **state)
{
	struct drv_ep pub = mk_ep(140, 4, SL_SRTP_AEAD_AES_128_GCM, 0);
	struct drv_ep sub = mk_ep(140, 6, SL_SRTP_AES128_CM_SHA1_80, 0);
	uint8_t pkt[5][2048], buf[2048], got[2048];
	size_t len[5], n;
	uint16_t seqs[1] = { 2002 };
	bool rtcp;
	int r;

	(void)state;
	assert_int_equal(drv_subscribe(&sub, &pub, 0x5150, 0xd00d, SL_MEDIA_VIDEO, false), 0);
	for (int k = 0; k < 5; k++) {
		len[k] = drv_rtp(pkt[k], 0x5150, (uint16_t)(2000 + k), 9000u * (unsigned)k, 700, 0,
				 0);
		drv_ep_send(&pub, pkt[k], len[k], false);
		if (k == 2) /* lost on the way to the subscriber */
			assert_int_equal(drv_ep_recv(&sub, NULL, WAIT, NULL), 0);
		else
			expect_rtp(&sub, pkt[k], len[k], 0xd00d, (uint16_t)(2000 + k),
				   9000u * (unsigned)k);
	}
	/* NACK for the lost 2002: the same packet comes again, protected again. */
	n = sl_rtcp_build_nack(buf, sizeof(buf), 0x5b, 0xd00d, seqs, 1);
	assert_true(n > 0);
	assert_int_equal(drv_ep_send(&sub, buf, n, true), 0);
	expect_rtp(&sub, pkt[2], len[2], 0xd00d, 2002, 18000);

	/* PLI: reaches the publisher as a PLI for the source SSRC, once the
	 * subscription's own PLI is a pli-interval (500 ms) old: the two go
	 * through one limiter per stream. */
	usleep(600 * 1000);
	n = rtcp_pkt(buf, 206, 1, 0x5b, 0xd00d);
	assert_int_equal(drv_ep_send(&sub, buf, n, true), 0);
	r = drv_ep_recv(&pub, got, WAIT, &rtcp);
	assert_true(r >= 12);
	assert_true(rtcp);
	assert_int_equal(got[1], 206);
	assert_int_equal(got[0] & 0x1f, 1);
	assert_int_equal(drv_rd32(got + 8), 0x5150);
	/* A second one at once is rate-limited. */
	{
		uint64_t rl = drv_counter(SL_CNT_drop_pli_ratelimit);

		assert_int_equal(drv_ep_send(&sub, buf, n, true), 0);
		expect_nothing(&pub);
		assert_int_equal(drv_counter(SL_CNT_drop_pli_ratelimit), rl + 1);
	}
	/* SR from the publisher: the subscriber gets it in its own terms. */
	{
		struct sl_rtcp_sr sr = { .ssrc = 0x5150,
					 .ntp = 0x1122334455667788ull,
					 .rtp_ts = 36000,
					 .packets = 5,
					 .octets = 3500 },
				  out;
		struct sl_rtcp_iter it;
		struct sl_rtcp_pkt pk;

		n = sl_rtcp_build_sr(buf, sizeof(buf), &sr);
		assert_int_equal(drv_ep_send(&pub, buf, n, true), 0);
		r = drv_ep_recv(&sub, got, WAIT, &rtcp);
		assert_true(r > 0 && rtcp);
		sl_rtcp_iter_init(&it, got, (size_t)r);
		assert_int_equal(sl_rtcp_next(&it, &pk), 1);
		assert_int_equal(pk.type, SL_RTCP_SR);
		assert_int_equal(sl_rtcp_sr_read(got, &pk, &out), 0);
		assert_int_equal(out.ssrc, 0xd00d);
		assert_true(out.ntp == sr.ntp);
		assert_int_equal(out.rtp_ts, 36000);
		assert_int_equal(out.packets, 5);
	}
	drv_ep_done(&sub);
	drv_ep_done(&pub);
	drv_flush();
}

/* ---- events up ---- */

static void audio_level_and_timeout_events(void **state)
{
	struct drv_ep pub = {
		.room = 150, .family = 4, .profile = SL_SRTP_AEAD_AES_128_GCM, .level_ext = 3
	};
	struct drv_ep quiet;
	static uint8_t msg[SL_CTL_MAX_MSG];
	uint8_t pkt[256];
	bool level = false, timeout = false;
	size_t len;

	(void)state;
	assert_int_equal(drv_ep_new(&pub), 0);
	quiet = mk_ep(150, 4, SL_SRTP_AEAD_AES_128_GCM, 0);
	for (uint16_t k = 0; k < 5; k++) {
		len = drv_rtp(pkt, 0x4242, k, 960u * k, 60, 3, (uint8_t)(40 + k));
		drv_ep_send(&pub, pkt, len, false);
	}
	/* Level (loudest = 40 -dBov) soon; the silent endpoint times out in ~2 s. */
	for (int i = 0; i < 100 && !(level && timeout); i++) {
		struct sl_ctl_event ev;

		if (drv_next_up(msg, sizeof(msg), 100) != 0)
			continue;
		memcpy(&ev, msg, sizeof(ev));
		if (ev.h.type != SL_CTL_EVENT)
			continue;
		if (ev.type == SL_EV_AUDIO_LEVEL && ev.ep_id == pub.id) {
			assert_int_equal(ev.value, 40);
			assert_int_equal(ev.count, 5);
			level = true;
		}
		if (ev.type == SL_EV_TIMEOUT && ev.ep_id == quiet.id)
			timeout = true;
	}
	assert_true(level);
	assert_true(timeout);
	drv_ep_done(&quiet);
	drv_ep_done(&pub);
}

/* ---- the control socket under bad input ---- */

static void control_errors(void **state)
{
	struct sl_ctl_hdr h;
	struct sl_ctl_ep_ref ref = { .ep_id = 0 };
	struct sl_ctl_info info;
	struct drv_ep a = mk_ep(160, 4, SL_SRTP_AEAD_AES_128_GCM, 0);
	struct drv_ep dup = a;
	uint8_t junk[64];

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(drv_call(&ref, SL_CTL_EP_REMOVE, sizeof(ref)), -EBADMSG); /* id 0 */
	assert_int_equal(drv_call(&h, 99, sizeof(h)), -ENOTSUP);
	assert_int_equal(drv_call(&h, SL_CTL_INFO, sizeof(h)), -ENOTSUP); /* wrong direction */
	assert_int_equal(drv_call(junk, SL_CTL_EP_ADD, 40), -EBADMSG);    /* short */
	/* Bad version: built by hand. */
	sl_ctl_hdr_init(&h, SL_CTL_HELLO, sizeof(h), 4242);
	h.version = 9;
	assert_int_equal(drv_send_raw_ctl(&h, sizeof(h)), 0);
	memset(junk, 0, sizeof(junk));
	assert_int_equal(drv_send_raw_ctl(junk, 3), 0); /* not even a header */
	dup.port = drv_ep_port();
	assert_int_equal(drv_ep_add(&dup), -EEXIST); /* same id */
	drv_ep_free(&dup);
	if (n_workers > 1) {
		struct drv_ep other = {
			.room = 160, .family = 4, .profile = SL_SRTP_AEAD_AES_128_GCM, .worker = 1
		};

		assert_int_equal(drv_ep_new(&other), -EXDEV); /* room lives on worker 0 */
		drv_ep_free(&other);
	}
	/* Still connected, still answering. */
	memset(&h, 0, sizeof(h));
	assert_int_equal(drv_call_answer(&h, SL_CTL_HELLO, sizeof(h), &info, sizeof(info)), 0);
	assert_int_equal(info.n_workers, n_workers);
	assert_int_equal(info.base_port, DRV_BASE_PORT);
	drv_ep_done(&a);
	while (drv_next_up(junk, sizeof(junk), 50) == 0)
		;
}

/* ---- two workers, two rooms ---- */

static void two_rooms_two_workers(void **state)
{
	struct drv_ep p[2], s[2];
	uint64_t handoff = drv_counter(SL_CNT_handoff);
	uint8_t pkt[2048];
	size_t len;

	(void)state;
	for (unsigned w = 0; w < 2; w++) {
		p[w] = mk_ep(200 + w, 4, SL_SRTP_AEAD_AES_128_GCM, w);
		s[w] = mk_ep(200 + w, 4, SL_SRTP_AEAD_AES_128_GCM, w);
		assert_int_equal(
			drv_subscribe(&s[w], &p[w], 0xc0 + w, 0xd0 + w, SL_MEDIA_VIDEO, false), 0);
	}
	for (uint16_t k = 0; k < 10; k++) {
		for (unsigned w = 0; w < 2; w++) {
			len = drv_rtp(pkt, 0xc0 + w, k, k, 400, 0, 0);
			drv_ep_send(&p[w], pkt, len, false);
			expect_rtp(&s[w], pkt, len, 0xd0 + w, k, k);
		}
	}
	/* All arrived on queue 0: worker 1's room came through the hand-off ring. */
	assert_true(drv_counter(SL_CNT_handoff) >= handoff + 10);
	for (unsigned w = 0; w < 2; w++) {
		drv_ep_done(&s[w]);
		drv_ep_done(&p[w]);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest one[] = {
		cmocka_unit_test(arp_ndp_ping),
		cmocka_unit_test(ndp_ping6),
		cmocka_unit_test(stun_dtls_up_pkt_down),
		cmocka_unit_test(room_fanout_gcm128),
		cmocka_unit_test(room_fanout_gcm256),
		cmocka_unit_test(room_fanout_cm_sha1),
		cmocka_unit_test(mute_unsubscribe_remove),
		cmocka_unit_test(repoint_continuity),
		cmocka_unit_test(bad_packets_dropped_and_counted),
		cmocka_unit_test(nack_pli_sr),
		cmocka_unit_test(audio_level_and_timeout_events),
		cmocka_unit_test(control_errors),
	};
	const struct CMUnitTest two[] = {
		cmocka_unit_test(two_rooms_two_workers),
		cmocka_unit_test(control_errors),
	};
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PATH-TO-sluice-dataplane WORKERS\n", argv[0]);
		return 2;
	}
	dp_path = argv[1];
	n_workers = (unsigned)atoi(argv[2]);
	if (drv_start(dp_path, n_workers, argv[0]) != 0)
		return 1;
	if (n_workers == 1)
		rc = cmocka_run_group_tests_name("dataplane, one worker", one, NULL, NULL);
	else
		rc = cmocka_run_group_tests_name("dataplane, two workers", two, NULL, NULL);
	drv_stop();
	return rc;
}
