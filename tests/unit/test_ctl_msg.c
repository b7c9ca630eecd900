/*
 * test_ctl_msg.c - control-socket message validation.
 *
 * Every message type is built valid and must pass in its own direction
 * only; then each is broken one way at a time (length, version, reserved
 * and padding bytes, every enum and id field, stray key bytes past the
 * profile's lengths) and must be refused with the documented error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/ctl.h>

static union {
	struct sl_ctl_hdr h;
	struct sl_ctl_ep ep;
	struct sl_ctl_ep_ref ref;
	struct sl_ctl_sub sub;
	struct sl_ctl_mute mute;
	struct sl_ctl_room room;
	struct sl_ctl_pkt pkt;
	struct sl_ctl_reply reply;
	struct sl_ctl_info info;
	struct sl_ctl_event ev;
	struct sl_ctl_counters cnt;
	uint8_t raw[SL_CTL_MAX_MSG + 64];
} m;

static void addr4(struct sl_ctl_addr *a)
{
	a->family = 4;
	memcpy(a->remote_ip, (uint8_t[]){ 10, 0, 0, 2 }, 4);
	memcpy(a->local_ip, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	a->remote_port = 0x8813;
	a->local_port = 0x1027;
}

static size_t build(uint16_t type)
{
	size_t len = sl_ctl_msg_len(type);

	memset(&m, 0, sizeof(m));
	switch (type) {
	case SL_CTL_EP_ADD:
	case SL_CTL_EP_UPDATE:
		m.ep.ep_id = 5;
		m.ep.profile = SL_SRTP_AEAD_AES_128_GCM;
		m.ep.flags = type == SL_CTL_EP_UPDATE ? SL_EP_UPD_ALL : 0;
		addr4(&m.ep.addr);
		memset(m.ep.rx.key, 1, 16);
		memset(m.ep.rx.salt, 2, 12);
		memset(m.ep.tx.key, 3, 16);
		memset(m.ep.tx.salt, 4, 12);
		break;
	case SL_CTL_EP_REMOVE:
		m.ref.ep_id = 5;
		break;
	case SL_CTL_SUBSCRIBE:
	case SL_CTL_UNSUBSCRIBE:
		m.sub.subscriber = 1;
		m.sub.publisher = 2;
		m.sub.kind = SL_MEDIA_VIDEO;
		break;
	case SL_CTL_MUTE:
		m.mute.ep_id = 1;
		m.mute.kind = SL_MEDIA_AUDIO;
		m.mute.muted = 1;
		break;
	case SL_CTL_PKT_DOWN:
	case SL_CTL_PKT_UP:
		addr4(&m.pkt.addr);
		m.pkt.kind = type == SL_CTL_PKT_UP ? SL_PKT_STUN : 0;
		m.pkt.data_len = 20;
		len = SL_CTL_PKT_FIXED + 20;
		break;
	case SL_CTL_REPLY:
		m.reply.status = -EINVAL;
		break;
	case SL_CTL_INFO:
		m.info.n_workers = 2;
		break;
	case SL_CTL_EVENT:
		m.ev.type = SL_EV_TIMEOUT;
		break;
	case SL_CTL_COUNTERS:
		m.cnt.n = SL_CNT_MAX;
		len = sizeof(m.cnt);
		break;
	default:
		break;
	}
	sl_ctl_hdr_init(&m.h, type, (uint32_t)len, 9);
	return len;
}

static const uint16_t down_types[] = {
	SL_CTL_HELLO, SL_CTL_EP_ADD, SL_CTL_EP_UPDATE, SL_CTL_EP_REMOVE, SL_CTL_SUBSCRIBE,
	SL_CTL_UNSUBSCRIBE, SL_CTL_MUTE, SL_CTL_ROOM_REMOVE, SL_CTL_PKT_DOWN, SL_CTL_COUNTERS_GET,
};
static const uint16_t up_types[] = {
	SL_CTL_REPLY, SL_CTL_INFO, SL_CTL_PKT_UP, SL_CTL_EVENT, SL_CTL_COUNTERS,
};

static void valid_in_own_direction_only(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(down_types) / 2; i++) {
		size_t len = build(down_types[i]);

		assert_int_equal(sl_ctl_validate(&m, len, true), 0);
		assert_int_equal(sl_ctl_validate(&m, len, false), -ENOTSUP);
	}
	for (size_t i = 0; i < sizeof(up_types) / 2; i++) {
		size_t len = build(up_types[i]);

		assert_int_equal(sl_ctl_validate(&m, len, false), 0);
		assert_int_equal(sl_ctl_validate(&m, len, true), -ENOTSUP);
	}
}

static void lengths_version_reserved(void **state)
{
	const uint16_t *all[2] = { down_types, up_types };
	size_t counts[2] = { sizeof(down_types) / 2, sizeof(up_types) / 2 };

	(void)state;
	for (int d = 0; d < 2; d++) {
		for (size_t i = 0; i < counts[d]; i++) {
			uint16_t t = all[d][i];
			size_t len = build(t);
			bool down = d == 0;

			for (size_t cut = 0; cut < sizeof(struct sl_ctl_hdr); cut++)
				assert_int_not_equal(sl_ctl_validate(&m, cut, down), 0);
			m.h.len = (uint32_t)(len - 1); /* header says one byte short */
			assert_int_equal(sl_ctl_validate(&m, len - 1, down), -EBADMSG);
			m.h.len = (uint32_t)(len + 1);
			assert_int_equal(sl_ctl_validate(&m, len + 1, down), -EBADMSG);
			m.h.len = (uint32_t)len;
			assert_int_equal(sl_ctl_validate(&m, len + 1, down), -EBADMSG); /* len != h.len */
			m.h.version = 2;
			assert_int_equal(sl_ctl_validate(&m, len, down), -EPROTO);
			build(t);
			m.h.rsvd = 1;
			assert_int_equal(sl_ctl_validate(&m, len, down), -EBADMSG);
		}
	}
	build(SL_CTL_HELLO);
	m.h.type = 77;
	assert_int_equal(sl_ctl_validate(&m, 16, true), -ENOTSUP);
	assert_int_equal(sl_ctl_validate(NULL, 16, true), -EBADMSG);
}

#define BAD(type, down, stmt)                                                  \
	do {                                                                   \
		size_t l_ = build(type);                                       \
		stmt;                                                          \
		if (sl_ctl_validate(&m, l_, down) != -EBADMSG)                 \
			fail_msg("accepted: %s", #stmt);                       \
	} while (0)

static void endpoint_fields(void **state)
{
	(void)state;
	BAD(SL_CTL_EP_ADD, true, m.ep.ep_id = 0);
	BAD(SL_CTL_EP_ADD, true, m.ep.flags = 1);
	BAD(SL_CTL_EP_ADD, true, m.ep.profile = 2);
	BAD(SL_CTL_EP_ADD, true, m.ep.audio_level_ext = 15);
	BAD(SL_CTL_EP_ADD, true, m.ep.pad[1] = 1);
	BAD(SL_CTL_EP_ADD, true, m.ep.addr.family = 5);
	BAD(SL_CTL_EP_ADD, true, m.ep.addr.remote_ip[7] = 1); /* garbage past an IPv4 address */
	BAD(SL_CTL_EP_ADD, true, m.ep.addr.local_ip[15] = 1);
	BAD(SL_CTL_EP_ADD, true, m.ep.addr.remote_port = 0);
	BAD(SL_CTL_EP_ADD, true, m.ep.addr.has_vlan = 2);
	BAD(SL_CTL_EP_ADD, true, m.ep.addr.vlan_tci = 5); /* tci without has_vlan */
	BAD(SL_CTL_EP_ADD, true, (m.ep.addr.has_vlan = 1, m.ep.addr.vlan_tci = 4095));
	BAD(SL_CTL_EP_ADD, true, m.ep.addr.pad = 1);
	BAD(SL_CTL_EP_ADD, true, m.ep.rx.key[16] = 1); /* key byte past a 16-byte key */
	BAD(SL_CTL_EP_ADD, true, m.ep.tx.salt[12] = 1); /* salt byte past a 12-byte salt */
	BAD(SL_CTL_EP_ADD, true, m.ep.tx.pad[0] = 1);
	BAD(SL_CTL_EP_UPDATE, true, m.ep.flags = 0);
	BAD(SL_CTL_EP_UPDATE, true, m.ep.flags = 8);
	/* IPv6 uses all 16 bytes; AES-256-GCM all 32 key bytes; VLAN 100. */
	build(SL_CTL_EP_ADD);
	m.ep.addr.family = 6;
	memset(m.ep.addr.remote_ip, 0xfd, 16);
	m.ep.addr.has_vlan = 1;
	m.ep.addr.vlan_tci = 100;
	m.ep.profile = SL_SRTP_AEAD_AES_256_GCM;
	memset(m.ep.rx.key, 9, 32);
	assert_int_equal(sl_ctl_validate(&m, sizeof(m.ep), true), 0);
	/* An update of the address only need not carry keys of any profile. */
	build(SL_CTL_EP_UPDATE);
	m.ep.flags = SL_EP_UPD_ADDR;
	m.ep.profile = 0;
	memset(&m.ep.rx, 0, sizeof(m.ep.rx));
	assert_int_equal(sl_ctl_validate(&m, sizeof(m.ep), true), 0);
}

static void other_fields(void **state)
{
	(void)state;
	BAD(SL_CTL_EP_REMOVE, true, m.ref.ep_id = 0);
	BAD(SL_CTL_EP_REMOVE, true, m.ref.pad = 1);
	BAD(SL_CTL_SUBSCRIBE, true, m.sub.kind = 3);
	BAD(SL_CTL_SUBSCRIBE, true, m.sub.kind = 0);
	BAD(SL_CTL_SUBSCRIBE, true, m.sub.subscriber = 0);
	BAD(SL_CTL_SUBSCRIBE, true, m.sub.pad[2] = 1);
	BAD(SL_CTL_MUTE, true, m.mute.muted = 2);
	BAD(SL_CTL_MUTE, true, m.mute.kind = 9);
	BAD(SL_CTL_MUTE, true, m.mute.ep_id = 0);
	BAD(SL_CTL_PKT_DOWN, true, m.pkt.kind = 1);
	BAD(SL_CTL_PKT_DOWN, true, m.pkt.data_len = 19);
	BAD(SL_CTL_PKT_DOWN, true, m.pkt.pad2 = 1);
	BAD(SL_CTL_PKT_UP, false, m.pkt.kind = 4);
	BAD(SL_CTL_PKT_UP, false, m.pkt.addr.family = 0);
	BAD(SL_CTL_EVENT, false, m.ev.type = 0);
	BAD(SL_CTL_REPLY, false, m.reply.status = 1);
	BAD(SL_CTL_INFO, false, m.info.n_workers = 0);
	BAD(SL_CTL_COUNTERS, false, m.cnt.n = SL_CNT_MAX + 1);
	/* Packets: 0 and SL_CTL_MAX_PKT + 1 data bytes are refused, the maximum passes. */
	build(SL_CTL_PKT_DOWN);
	m.pkt.data_len = 0;
	m.h.len = SL_CTL_PKT_FIXED;
	assert_int_equal(sl_ctl_validate(&m, SL_CTL_PKT_FIXED, true), -EBADMSG);
	m.pkt.data_len = SL_CTL_MAX_PKT;
	m.h.len = SL_CTL_PKT_FIXED + SL_CTL_MAX_PKT;
	assert_int_equal(sl_ctl_validate(&m, m.h.len, true), 0);
	m.pkt.data_len = SL_CTL_MAX_PKT + 1;
	m.h.len = SL_CTL_PKT_FIXED + SL_CTL_MAX_PKT + 1;
	assert_int_equal(sl_ctl_validate(&m, m.h.len, true), -EBADMSG);
	/* Fewer counters than this build knows: fine, if the length matches. */
	build(SL_CTL_COUNTERS);
	m.cnt.n = 3;
	m.h.len = offsetof(struct sl_ctl_counters, value) + 24;
	assert_int_equal(sl_ctl_validate(&m, m.h.len, false), 0);
}

static void helpers(void **state)
{
	(void)state;
	assert_int_equal(sl_srtp_profile_key_len(SL_SRTP_AES128_CM_SHA1_80), 16);
	assert_int_equal(sl_srtp_profile_salt_len(SL_SRTP_AES128_CM_SHA1_80), 14);
	assert_int_equal(sl_srtp_profile_key_len(SL_SRTP_AEAD_AES_256_GCM), 32);
	assert_int_equal(sl_srtp_profile_salt_len(SL_SRTP_AEAD_AES_128_GCM), 12);
	assert_int_equal(sl_srtp_profile_key_len(3), 0);
	assert_string_equal(sl_counter_names[SL_CNT_rx_packets], "rx_packets");
	assert_string_equal(sl_counter_names[SL_CNT_drop_protect], "drop_protect");
	assert_int_equal(sl_ctl_msg_len(200), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_in_own_direction_only),
		cmocka_unit_test(lengths_version_reserved),
		cmocka_unit_test(endpoint_fields),
		cmocka_unit_test(other_fields),
		cmocka_unit_test(helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
