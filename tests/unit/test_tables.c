/*
 * test_tables.c - the worker tables and the subscriber's view of a stream.
 *
 * The rewrite rules are what a receiver's jitter buffer sees, so they are
 * pinned down here: a fresh subscription passes seq/ts through, a
 * re-pointed one continues by exactly one across the switch (wrap
 * included), late packets do not move the view back, and NACKed sequence
 * numbers map back to the publisher's. The SRTP index rules too: no out seq
 * is mapped twice or at/before a re-point, a NACK gets only what the current
 * mapping sent, and a new subscription never gets a used dst SSRC. Table tests check that endpoints,
 * streams and subscriptions link and unlink without leaking slots.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <rte_eal.h>

#include "dp.h"

static struct sl_net_local local = {
	.mac = { 2, 0, 0, 0, 0, 1 },
	.has_ip4 = true,
	.ip4 = { 10, 0, 0, 1 },
};

static void map_fresh_passes_through(void **state)
{
	struct sl_sub s = { 0 };
	uint16_t seq;
	uint32_t ts;

	(void)state;
	sl_sub_map(&s, 1000, 90000, &seq, &ts);
	assert_int_equal(seq, 1000);
	assert_int_equal(ts, 90000);
	sl_sub_map(&s, 1001, 93000, &seq, &ts);
	assert_int_equal(seq, 1001);
	assert_int_equal(ts, 93000);
	assert_int_equal(sl_sub_unmap_seq(&s, 1001), 1001);
}

static void map_repoint_is_continuous(void **state)
{
	struct sl_sub s = { 0 };
	uint16_t seq;
	uint32_t ts;

	(void)state;
	sl_sub_map(&s, 65534, 4000000000u, &seq, &ts);
	sl_sub_map(&s, 65535, 4000003000u, &seq, &ts);
	s.resync = true; /* what sl_tables_subscribe does on re-pointing */
	sl_sub_map(&s, 17, 555, &seq, &ts);
	assert_int_equal(seq, 0); /* 65535 + 1, wrapped */
	assert_int_equal(ts, 4000003001u);
	sl_sub_map(&s, 18, 3555, &seq, &ts);
	assert_int_equal(seq, 1);
	assert_int_equal(ts, 4000006001u);
	assert_int_equal(sl_sub_unmap_seq(&s, 1), 18);
	assert_int_equal(sl_sub_unmap_seq(&s, 0), 17);
}

static void map_late_packet_keeps_view(void **state)
{
	struct sl_sub s = { 0 };
	uint16_t seq;
	uint32_t ts;

	(void)state;
	sl_sub_map(&s, 10, 100, &seq, &ts);
	sl_sub_map(&s, 12, 300, &seq, &ts);
	sl_sub_map(&s, 11, 200, &seq, &ts); /* reordered: still mapped */
	assert_int_equal(seq, 11);
	assert_int_equal(s.last_out_seq, 12);
	s.resync = true;
	sl_sub_map(&s, 500, 9000, &seq, &ts);
	assert_int_equal(seq, 13);
	assert_int_equal(ts, 301);
}

static struct sl_ctl_ep ep_msg(uint32_t id, uint64_t room, uint16_t port)
{
	struct sl_ctl_ep m;

	memset(&m, 0, sizeof(m));
	m.ep_id = id;
	m.room_id = room;
	m.profile = SL_SRTP_AEAD_AES_128_GCM;
	m.addr.family = 4;
	memcpy(m.addr.remote_ip, (uint8_t[]){ 10, 0, 0, 2 }, 4);
	memcpy(m.addr.local_ip, local.ip4, 4);
	m.addr.remote_port = htons(port);
	m.addr.local_port = htons(10000);
	return m;
}

static struct sl_ctl_sub sub_msg(uint32_t s, uint32_t p, uint32_t src, uint32_t dst)
{
	struct sl_ctl_sub m = { .subscriber = s,
				.publisher = p,
				.src_ssrc = src,
				.dst_ssrc = dst,
				.kind = SL_MEDIA_VIDEO };
	return m;
}

static unsigned free_count(const struct sl_tables *t, bool streams)
{
	unsigned n = 0;

	for (uint32_t i = streams ? t->free_stream : t->free_sub; i != SL_NONE;
	     i = streams ? t->streams[i].next_in_ep : t->subs[i].next_in_ep)
		n++;
	return n;
}

static void tables_lifecycle(void **state)
{
	struct sl_tables *t = sl_tables_create("t1", 0, 4, 4, 8, 16);
	struct sl_ctl_ep a = ep_msg(1, 7, 40000), b = ep_msg(2, 7, 40001);
	struct sl_ctl_ep c = ep_msg(3, 8, 40002), dup = ep_msg(4, 7, 40000);
	struct sl_ctl_sub s;
	struct sl_srtp *rx, *tx;
	struct sl_tuple_key k;

	(void)state;
	assert_non_null(t);
	assert_int_equal(sl_tables_ep_add(t, &a, NULL, NULL, &local), 0);
	assert_int_equal(sl_tables_ep_add(t, &b, NULL, NULL, &local), 0);
	assert_int_equal(sl_tables_ep_add(t, &c, NULL, NULL, &local), 0);
	assert_int_equal(sl_tables_ep_add(t, &a, NULL, NULL, &local), -EEXIST);
	assert_int_equal(sl_tables_ep_add(t, &dup, NULL, NULL, &local), -EADDRINUSE);
	sl_tuple_key_from_addr(&k, &b.addr);
	assert_int_equal(sl_tables_ep_by_tuple(t, &k), sl_tables_ep_by_id(t, 2));

	s = sub_msg(2, 1, 0xa, 0x100);
	assert_int_equal(sl_tables_subscribe(t, &s), 0);
	assert_int_equal(sl_tables_subscribe(t, &s), 0); /* same source again: no-op */
	s = sub_msg(2, 1, 0xa, 0x101);
	assert_int_equal(sl_tables_subscribe(t, &s), -EEXIST); /* same source twice */
	s = sub_msg(3, 1, 0xa, 0x100);
	assert_int_equal(sl_tables_subscribe(t, &s), -EINVAL); /* other room */
	s = sub_msg(1, 1, 0xa, 0x100);
	assert_int_equal(sl_tables_subscribe(t, &s), -EINVAL); /* itself */
	assert_int_equal(free_count(t, true), 3);
	assert_int_equal(free_count(t, false), 7);

	/* Removing the publisher frees its stream and the subscription. */
	assert_int_equal(sl_tables_ep_remove(t, sl_tables_ep_by_id(t, 1), &rx, &tx), 0);
	assert_int_equal(sl_tables_ep_by_id(t, 1), SL_NONE);
	assert_int_equal(free_count(t, true), 4);
	assert_int_equal(free_count(t, false), 8);
	assert_int_equal(t->eps[sl_tables_ep_by_id(t, 2)].first_sub, SL_NONE);
	sl_tables_destroy(t);
}

static void tables_repoint_and_unsubscribe(void **state)
{
	struct sl_tables *t = sl_tables_create("t2", 0, 4, 4, 8, 16);
	struct sl_ctl_ep a = ep_msg(1, 7, 40000), b = ep_msg(2, 7, 40001), c = ep_msg(3, 7, 40002);
	struct sl_ctl_sub s;
	uint32_t sub, sc;

	(void)state;
	assert_int_equal(sl_tables_ep_add(t, &a, NULL, NULL, &local), 0);
	assert_int_equal(sl_tables_ep_add(t, &b, NULL, NULL, &local), 0);
	assert_int_equal(sl_tables_ep_add(t, &c, NULL, NULL, &local), 0);
	sc = sl_tables_ep_by_id(t, 3);
	s = sub_msg(3, 1, 0xa, 0x300);
	assert_int_equal(sl_tables_subscribe(t, &s), 0);
	sub = sl_tables_sub_by_dst(t, sc, 0x300);
	assert_int_not_equal(sub, SL_NONE);
	t->subs[sub].started = true;
	s = sub_msg(3, 2, 0xb, 0x300); /* re-point dst 0x300 to publisher 2 */
	assert_int_equal(sl_tables_subscribe(t, &s), 0);
	assert_int_equal(sl_tables_sub_by_dst(t, sc, 0x300), sub);
	assert_true(t->subs[sub].resync);
	assert_int_equal(t->streams[t->subs[sub].stream].ssrc, 0xb);
	assert_int_equal(sl_tables_stream_find(t, sl_tables_ep_by_id(t, 1), 0xa), SL_NONE);
	s = sub_msg(3, 1, 0xa, 0);
	assert_int_equal(sl_tables_unsubscribe(t, &s), -ENOENT);
	s = sub_msg(3, 2, 0xb, 0);
	assert_int_equal(sl_tables_unsubscribe(t, &s), 0);
	assert_int_equal(sl_tables_sub_by_dst(t, sc, 0x300), SL_NONE);
	assert_int_equal(free_count(t, true), 4);
	assert_int_equal(free_count(t, false), 8);
	sl_tables_destroy(t);
}

static void tables_limits(void **state)
{
	struct sl_tables *t = sl_tables_create("t3", 0, 2, 2, 2, 0);
	struct sl_ctl_ep a = ep_msg(1, 7, 40000), b = ep_msg(2, 7, 40001), c = ep_msg(3, 7, 40002);
	struct sl_ctl_sub s;

	(void)state;
	assert_int_equal(sl_tables_ep_add(t, &a, NULL, NULL, &local), 0);
	assert_int_equal(sl_tables_ep_add(t, &b, NULL, NULL, &local), 0);
	assert_int_equal(sl_tables_ep_add(t, &c, NULL, NULL, &local), -ENOSPC);
	for (uint32_t i = 0; i < 2; i++) {
		s = sub_msg(2, 1, 0x10 + i, 0x20 + i);
		assert_int_equal(sl_tables_subscribe(t, &s), 0);
	}
	s = sub_msg(2, 1, 0x30, 0x40);
	assert_int_equal(sl_tables_subscribe(t, &s), -ENOSPC);
	s = sub_msg(1, 2, 0x30, 0x40);
	assert_int_equal(sl_tables_subscribe(t, &s), -ENOSPC);
	memcpy(a.addr.local_ip, (uint8_t[]){ 10, 0, 0, 9 }, 4);
	a.ep_id = 9;
	assert_int_equal(sl_tables_ep_add(t, &a, NULL, NULL, &local), -EADDRNOTAVAIL);
	sl_tables_destroy(t);
}

/* After a re-point nothing maps at or before the switch; nothing maps twice. */
static void map_never_reuses_an_index(void **state)
{
	struct sl_sub s = { 0 };
	uint16_t seq, in;
	uint32_t ts;

	(void)state;
	for (uint16_t i = 100; i < 110; i++)
		assert_int_equal(sl_sub_map(&s, i, i * 10u, &seq, &ts), 0);
	assert_int_equal(sl_sub_map(&s, 105, 1050, &seq, &ts), -EALREADY); /* duplicate */
	assert_int_equal(sl_sub_map(&s, 99, 990, &seq, &ts), -EALREADY);   /* before start */
	assert_int_equal(sl_sub_map(&s, 111, 1110, &seq, &ts), 0);         /* 110 skipped */
	assert_int_equal(sl_sub_map(&s, 110, 1100, &seq, &ts), 0);         /* late, never sent */
	assert_int_equal(seq, 110);
	s.resync = true; /* re-pointed to a source whose seqs are near ours */
	assert_int_equal(sl_sub_map(&s, 105, 7, &seq, &ts), 0);
	assert_int_equal(seq, 112);
	for (uint16_t late = 95; late < 105; late++) /* would map onto 102..111 */
		assert_int_equal(sl_sub_map(&s, late, 7, &seq, &ts), -EALREADY);
	assert_int_equal(sl_sub_map(&s, 106, 8, &seq, &ts), 0);
	assert_int_equal(seq, 113);
	/* Far behind the window: cannot tell, so not sent. */
	for (unsigned i = 0; i < SL_SUB_SENT_BITS + 10; i++)
		assert_int_equal(sl_sub_map(&s, (uint16_t)(107 + i), 9, &seq, &ts), 0);
	assert_int_equal(sl_sub_map(&s, 107 + 5, 9, &seq, &ts), -EALREADY);
	/* Wrap: 16-bit out seqs go on. */
	in = (uint16_t)(107 + SL_SUB_SENT_BITS + 10);
	for (unsigned i = 0; i < 70000; i++, in++)
		assert_int_equal(sl_sub_map(&s, in, 9, &seq, &ts), 0);
	assert_int_equal(sl_sub_map(&s, (uint16_t)(in - 70000), 9, &seq, &ts), -EALREADY);
}

/* A NACK gets only what this mapping sent and still remembers. */
static void resend_only_what_was_sent(void **state)
{
	struct sl_sub s = { 0 };
	uint16_t seq, in = 0;
	uint32_t ts;

	(void)state;
	assert_int_equal(sl_sub_resend_seq(&s, 10, &in), -ENOENT); /* nothing sent */
	for (uint16_t i = 10; i < 20; i++)
		if (i != 15)
			assert_int_equal(sl_sub_map(&s, i, 0, &seq, &ts), 0);
	assert_int_equal(sl_sub_resend_seq(&s, 12, &in), 0);
	assert_int_equal(in, 12);
	assert_int_equal(sl_sub_resend_seq(&s, 15, &in), -ENOENT); /* never sent */
	assert_int_equal(sl_sub_resend_seq(&s, 9, &in), -ENOENT);  /* before it joined */
	assert_int_equal(sl_sub_resend_seq(&s, 5, &in), -ENOENT);
	assert_int_equal(sl_sub_resend_seq(&s, 20, &in), -ENOENT); /* not yet */
	s.resync = true;
	assert_int_equal(sl_sub_resend_seq(&s, 12, &in), -ENOENT); /* old mapping */
	assert_int_equal(sl_sub_map(&s, 500, 0, &seq, &ts), 0);
	assert_int_equal(seq, 20);
	assert_int_equal(sl_sub_resend_seq(&s, 12, &in), -ENOENT); /* old mapping */
	assert_int_equal(sl_sub_resend_seq(&s, 19, &in), -ENOENT);
	assert_int_equal(sl_sub_resend_seq(&s, 20, &in), 0);
	assert_int_equal(in, 500);
	for (unsigned i = 1; i <= SL_SUB_SENT_BITS; i++)
		assert_int_equal(sl_sub_map(&s, (uint16_t)(500 + i), 0, &seq, &ts), 0);
	assert_int_equal(sl_sub_resend_seq(&s, 20, &in), -ENOENT); /* out of the window */
	assert_int_equal(sl_sub_resend_seq(&s, 21, &in), 0);
}

/* A new subscription never gets a dst SSRC its subscriber's key has used. */
static void tables_dst_ssrc_never_reused(void **state)
{
	struct sl_tables *t = sl_tables_create("t4", 0, 4, 8, 8, 0);
	struct sl_ctl_ep a = ep_msg(1, 7, 40000), b = ep_msg(2, 7, 40001), c = ep_msg(3, 7, 40002);
	uint8_t key[32] = { 1 }, salt[14] = { 2 };
	struct sl_srtp *tx = sl_srtp_create(SL_SRTP_AEAD_AES_128_GCM, key, salt, false, 4);
	struct sl_srtp *rx, *tx2;
	struct sl_ctl_sub s;
	uint32_t sc;

	(void)state;
	assert_non_null(tx);
	assert_int_equal(sl_tables_ep_add(t, &a, NULL, NULL, &local), 0);
	assert_int_equal(sl_tables_ep_add(t, &b, NULL, NULL, &local), 0);
	assert_int_equal(sl_tables_ep_add(t, &c, NULL, tx, &local), 0);
	sc = sl_tables_ep_by_id(t, 3);
	s = sub_msg(3, 1, 0xa, 0x300);
	assert_int_equal(sl_tables_subscribe(t, &s), 0);
	s = sub_msg(3, 2, 0xb, 0x300); /* same dst: a re-point, allowed */
	assert_int_equal(sl_tables_subscribe(t, &s), 0);
	/* Publisher 2 leaves: the subscription goes, its SSRC is retired. */
	assert_int_equal(sl_tables_ep_remove(t, sl_tables_ep_by_id(t, 2), &rx, &tx2), 0);
	assert_true(sl_srtp_ssrc_used(tx, 0x300));
	b.ep_id = 4; /* a new publisher announcing the old one's SSRC */
	assert_int_equal(sl_tables_ep_add(t, &b, NULL, NULL, &local), 0);
	s = sub_msg(3, 4, 0xb, 0x300);
	assert_int_equal(sl_tables_subscribe(t, &s), -EADDRINUSE);
	s = sub_msg(3, 4, 0xb, t->eps[sc].fb_ssrc); /* our RTCP SSRC */
	assert_int_equal(sl_tables_subscribe(t, &s), -EADDRINUSE);
	s = sub_msg(3, 4, 0xb, 0x301);
	assert_int_equal(sl_tables_subscribe(t, &s), 0);
	assert_int_equal(sl_tables_unsubscribe(t, &s), 0);
	assert_int_equal(sl_tables_subscribe(t, &s), -EADDRINUSE); /* unsubscribed */
	/* The record bounds new SSRCs: refuse rather than forget. */
	for (uint32_t i = 0; sl_srtp_retired_room(tx) > 1; i++)
		assert_int_equal(sl_srtp_retire(tx, 0x10000 + i), 0);
	s = sub_msg(3, 4, 0xb, 0x302);
	assert_int_equal(sl_tables_subscribe(t, &s), 0);
	s = sub_msg(3, 1, 0xc, 0x303); /* the record could not retire both */
	assert_int_equal(sl_tables_subscribe(t, &s), -EDQUOT);
	assert_int_equal(sl_tables_ep_remove(t, sc, &rx, &tx2), 0);
	assert_ptr_equal(tx2, tx);
	sl_srtp_destroy(tx);
	sl_tables_destroy(t);
}

int main(void)
{
	char *eal[] = { "test_tables", "--no-huge",     "-m", "128", "--no-pci",
			"--no-shconf", "--log-level=1", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(map_fresh_passes_through),
		cmocka_unit_test(map_repoint_is_continuous),
		cmocka_unit_test(map_late_packet_keeps_view),
		cmocka_unit_test(tables_lifecycle),
		cmocka_unit_test(tables_repoint_and_unsubscribe),
		cmocka_unit_test(tables_limits),
		cmocka_unit_test(map_never_reuses_an_index),
		cmocka_unit_test(resend_only_what_was_sent),
		cmocka_unit_test(tables_dst_ssrc_never_reused),
	};

	if (rte_eal_init(7, eal) < 0 || sl_srtp_init(false) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
