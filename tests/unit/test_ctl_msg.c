/*
 * test_ctl_msg.c - control-socket message validation and building.
 *
 * Every message type is built valid with the helpers and must pass in its
 * own direction only. Then each is broken one way at a time - its length,
 * header (version, type, rsvd, partial), every padding byte, every enum and
 * id field, stray bytes past an IPv4 address or past a profile's key and
 * salt - and must be refused with the documented error. Padding is listed
 * per type as byte ranges, so a new field added without a check shows up
 * as a range nobody tests rather than as a silent pass.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/ctl.h>

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

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
	struct sl_ctl_worker_stats ws;
	uint8_t raw[SL_CTL_MAX_MSG + 64];
} m;

static const uint16_t down_types[] = {
	SL_CTL_HELLO,        SL_CTL_EP_ADD,           SL_CTL_EP_UPDATE,
	SL_CTL_EP_REMOVE,    SL_CTL_SUBSCRIBE,        SL_CTL_UNSUBSCRIBE,
	SL_CTL_MUTE,         SL_CTL_ROOM_REMOVE,      SL_CTL_PKT_DOWN,
	SL_CTL_COUNTERS_GET, SL_CTL_WORKER_STATS_GET,
};
static const uint16_t up_types[] = {
	SL_CTL_REPLY, SL_CTL_INFO,     SL_CTL_PKT_UP,
	SL_CTL_EVENT, SL_CTL_COUNTERS, SL_CTL_WORKER_STATS,
};

static bool is_down(uint16_t type)
{
	return type < SL_CTL_REPLY;
}

static void addr4(struct sl_ctl_addr *a)
{
	a->family = 4;
	memcpy(a->peer_mac, (uint8_t[]){ 2, 0, 0, 0, 0, 2 }, 6);
	memcpy(a->remote_ip, (uint8_t[]){ 10, 0, 0, 2 }, 4);
	memcpy(a->local_ip, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	a->remote_port = 0x8813;
	a->local_port = 0x1027;
}

static void keys(uint16_t profile)
{
	unsigned kl = sl_srtp_profile_key_len(profile), sl = sl_srtp_profile_salt_len(profile);

	m.ep.profile = profile;
	memset(&m.ep.rx, 0, sizeof(m.ep.rx));
	memset(&m.ep.tx, 0, sizeof(m.ep.tx));
	memset(m.ep.rx.key, 1, kl);
	memset(m.ep.rx.salt, 2, sl);
	memset(m.ep.tx.key, 3, kl);
	memset(m.ep.tx.salt, 4, sl);
}

/* A valid message of this type in m, through the helpers; returns its length. */
static size_t build(uint16_t type)
{
	size_t len = sl_ctl_msg_len(type);

	memset(&m, 0, sizeof(m));
	switch (type) {
	case SL_CTL_EP_ADD:
	case SL_CTL_EP_UPDATE:
		m.ep.ep_id = 5;
		m.ep.room_id = 77;
		m.ep.worker = 1;
		m.ep.flags = type == SL_CTL_EP_UPDATE ? SL_EP_UPD_ALL : 0;
		m.ep.audio_level_ext = 1;
		addr4(&m.ep.addr);
		keys(SL_SRTP_AEAD_AES_128_GCM);
		break;
	case SL_CTL_EP_REMOVE:
		m.ref.ep_id = 5;
		break;
	case SL_CTL_SUBSCRIBE:
	case SL_CTL_UNSUBSCRIBE:
		m.sub.subscriber = 1;
		m.sub.publisher = 2;
		m.sub.src_ssrc = 0x1234;
		m.sub.dst_ssrc = 0x5678;
		m.sub.kind = SL_MEDIA_VIDEO;
		break;
	case SL_CTL_MUTE:
		m.mute.ep_id = 1;
		m.mute.kind = SL_MEDIA_AUDIO;
		m.mute.muted = 1;
		break;
	case SL_CTL_ROOM_REMOVE:
		m.room.room_id = 77;
		break;
	case SL_CTL_PKT_DOWN:
	case SL_CTL_PKT_UP:
		addr4(&m.pkt.addr);
		m.pkt.kind = type == SL_CTL_PKT_UP ? SL_PKT_STUN : 0;
		m.pkt.data_len = 20;
		memset(m.pkt.data, 0xab, 20);
		len = SL_CTL_PKT_FIXED + 20;
		break;
	case SL_CTL_REPLY:
		m.reply.status = -EINVAL;
		m.reply.req_type = SL_CTL_EP_ADD;
		break;
	case SL_CTL_INFO:
		m.info.n_workers = 2;
		m.info.base_port = 10000;
		m.info.has_ipv4 = 1;
		m.info.max_endpoints = 1000;
		break;
	case SL_CTL_EVENT:
		m.ev.ep_id = 3;
		m.ev.type = SL_EV_TIMEOUT;
		break;
	case SL_CTL_COUNTERS:
		m.cnt.n = SL_CNT_MAX;
		len = sizeof(m.cnt);
		break;
	case SL_CTL_WORKER_STATS:
		m.ws.n = 2;
		m.ws.pool_size = 100;
		m.ws.pool_in_use = 40;
		m.ws.tsc_hz = 2000000000;
		m.ws.w[1].cycles = 10;
		m.ws.w[1].busy_cycles = 4;
		m.ws.w[1].busy_ppm = 1000000;
		len = SL_CTL_WORKER_STATS_FIXED + 2 * sizeof(struct sl_ctl_worker_stat);
		break;
	default:
		break;
	}
	sl_ctl_hdr_init(&m.h, type, (uint32_t)len, 9);
	return len;
}

static int check(size_t len, uint16_t type)
{
	return sl_ctl_validate(&m, len, is_down(type));
}

static void valid_in_own_direction_only(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEM(down_types); i++) {
		size_t len = build(down_types[i]);

		assert_int_equal(sl_ctl_validate(&m, len, true), 0);
		assert_int_equal(sl_ctl_validate(&m, len, false), -ENOTSUP);
	}
	for (size_t i = 0; i < N_ELEM(up_types); i++) {
		size_t len = build(up_types[i]);

		assert_int_equal(sl_ctl_validate(&m, len, false), 0);
		assert_int_equal(sl_ctl_validate(&m, len, true), -ENOTSUP);
	}
}

/* One byte short or long, with and without the header agreeing; h.len != len. */
static void lengths(void **state)
{
	uint16_t all[N_ELEM(down_types) + N_ELEM(up_types)];

	(void)state;
	memcpy(all, down_types, sizeof(down_types));
	memcpy(all + N_ELEM(down_types), up_types, sizeof(up_types));
	for (size_t i = 0; i < N_ELEM(all); i++) {
		uint16_t t = all[i];
		size_t len = build(t);

		assert_int_equal(check(len - 1, t), -EBADMSG);
		assert_int_equal(check(len + 1, t), -EBADMSG);
		m.h.len = (uint32_t)(len - 1);
		assert_int_equal(check(len - 1, t), -EBADMSG);
		m.h.len = (uint32_t)(len + 1);
		assert_int_equal(check(len + 1, t), -EBADMSG);
		assert_int_equal(check(len, t), -EBADMSG);
		m.h.len = 0;
		assert_int_equal(check(len, t), -EBADMSG);
		m.h.len = (uint32_t)len;
		assert_int_equal(check(len, t), 0);
	}
}

static void partial_header(void **state)
{
	(void)state;
	for (size_t cut = 0; cut < sizeof(struct sl_ctl_hdr); cut++) {
		build(SL_CTL_HELLO);
		m.h.len = (uint32_t)cut;
		assert_int_equal(sl_ctl_validate(&m, cut, true), -EBADMSG);
		assert_int_equal(sl_ctl_validate(&m, cut, false), -EBADMSG);
	}
	assert_int_equal(sl_ctl_validate(NULL, 16, true), -EBADMSG);
	assert_int_equal(sl_ctl_validate(NULL, 0, false), -EBADMSG);
}

static void version_type_rsvd(void **state)
{
	static const uint16_t versions[] = { 0, 2, 0x100, 0xffff };
	static const uint16_t unknown[] = { 0, 12, 13, 63, 70, 0x100, 0xffff };

	(void)state;
	for (size_t i = 0; i < N_ELEM(versions); i++) {
		size_t len = build(SL_CTL_EP_ADD);

		m.h.version = versions[i];
		assert_int_equal(check(len, SL_CTL_EP_ADD), -EPROTO);
		len = build(SL_CTL_EVENT);
		m.h.version = versions[i];
		assert_int_equal(check(len, SL_CTL_EVENT), -EPROTO);
	}
	for (size_t i = 0; i < N_ELEM(unknown); i++) {
		build(SL_CTL_HELLO);
		m.h.type = unknown[i];
		assert_int_equal(sl_ctl_validate(&m, 16, true), -ENOTSUP);
		assert_int_equal(sl_ctl_validate(&m, 16, false), -ENOTSUP);
	}
	for (int byte = 0; byte < 4; byte++) {
		for (size_t i = 0; i < N_ELEM(down_types) + N_ELEM(up_types); i++) {
			uint16_t t = i < N_ELEM(down_types) ? down_types[i]
							    : up_types[i - N_ELEM(down_types)];
			size_t len = build(t);

			m.raw[offsetof(struct sl_ctl_hdr, rsvd) + byte] = 0x80;
			assert_int_equal(check(len, t), -EBADMSG);
		}
	}
}

/* Padding bytes of each type, as [off, off + n) ranges. */
struct pad {
	uint16_t type;
	uint16_t off;
	uint16_t n;
};

#define PAD(t, st, f)                                    \
	{                                                \
		t, offsetof(st, f), sizeof(((st *)0)->f) \
	}
#define EP_PADS(t)                                                         \
	PAD(t, struct sl_ctl_ep, pad), PAD(t, struct sl_ctl_ep, addr.pad), \
		PAD(t, struct sl_ctl_ep, rx.pad), PAD(t, struct sl_ctl_ep, tx.pad)

static const struct pad pads[] = {
	EP_PADS(SL_CTL_EP_ADD),
	EP_PADS(SL_CTL_EP_UPDATE),
	PAD(SL_CTL_EP_REMOVE, struct sl_ctl_ep_ref, pad),
	PAD(SL_CTL_SUBSCRIBE, struct sl_ctl_sub, pad),
	PAD(SL_CTL_UNSUBSCRIBE, struct sl_ctl_sub, pad),
	PAD(SL_CTL_MUTE, struct sl_ctl_mute, pad),
	PAD(SL_CTL_PKT_DOWN, struct sl_ctl_pkt, addr.pad),
	PAD(SL_CTL_PKT_DOWN, struct sl_ctl_pkt, pad),
	PAD(SL_CTL_PKT_DOWN, struct sl_ctl_pkt, pad2),
	PAD(SL_CTL_PKT_UP, struct sl_ctl_pkt, addr.pad),
	PAD(SL_CTL_PKT_UP, struct sl_ctl_pkt, pad),
	PAD(SL_CTL_PKT_UP, struct sl_ctl_pkt, pad2),
	PAD(SL_CTL_REPLY, struct sl_ctl_reply, pad),
	PAD(SL_CTL_INFO, struct sl_ctl_info, pad),
	PAD(SL_CTL_INFO, struct sl_ctl_info, pad2),
	PAD(SL_CTL_EVENT, struct sl_ctl_event, pad),
	PAD(SL_CTL_COUNTERS, struct sl_ctl_counters, pad),
};

static void each_pad_byte(void **state)
{
	static const uint8_t vals[] = { 0x01, 0x80, 0xff };

	(void)state;
	for (size_t i = 0; i < N_ELEM(pads); i++) {
		for (unsigned b = 0; b < pads[i].n; b++) {
			for (size_t v = 0; v < N_ELEM(vals); v++) {
				size_t len = build(pads[i].type);

				m.raw[pads[i].off + b] = vals[v];
				if (check(len, pads[i].type) != -EBADMSG)
					fail_msg("type %u: pad byte %u = %#x accepted",
						 pads[i].type, pads[i].off + b, vals[v]);
			}
		}
	}
	/* EP_UPDATE checks the padding of the parts its flags skip too. */
	for (uint32_t f = SL_EP_UPD_ADDR; f <= SL_EP_UPD_EXT; f <<= 1) {
		size_t len = build(SL_CTL_EP_UPDATE);

		m.ep.flags = f;
		m.ep.rx.pad[1] = 1;
		assert_int_equal(check(len, SL_CTL_EP_UPDATE), -EBADMSG);
		build(SL_CTL_EP_UPDATE);
		m.ep.flags = f;
		m.ep.addr.pad = 0x100;
		assert_int_equal(check(len, SL_CTL_EP_UPDATE), -EBADMSG);
	}
}

/* Garbage in any of the 12 unused bytes of an IPv4 address. */
static void v4_unused_bytes(void **state)
{
	static const uint16_t types[] = { SL_CTL_EP_ADD, SL_CTL_EP_UPDATE, SL_CTL_PKT_DOWN,
					  SL_CTL_PKT_UP };

	(void)state;
	for (size_t i = 0; i < N_ELEM(types); i++) {
		size_t base = types[i] <= SL_CTL_EP_UPDATE ? offsetof(struct sl_ctl_ep, addr)
							   : offsetof(struct sl_ctl_pkt, addr);

		for (size_t b = 4; b < 16; b++) {
			size_t len = build(types[i]);

			m.raw[base + offsetof(struct sl_ctl_addr, remote_ip) + b] = 1;
			assert_int_equal(check(len, types[i]), -EBADMSG);
			build(types[i]);
			m.raw[base + offsetof(struct sl_ctl_addr, local_ip) + b] = 0xff;
			assert_int_equal(check(len, types[i]), -EBADMSG);
		}
	}
}

#define BAD(type, stmt)                                  \
	do {                                             \
		size_t l_ = build(type);                 \
		stmt;                                    \
		if (check(l_, type) != -EBADMSG)         \
			fail_msg("accepted: %s", #stmt); \
	} while (0)

#define GOOD(type, stmt)                                \
	do {                                            \
		size_t l_ = build(type);                \
		stmt;                                   \
		if (check(l_, type) != 0)               \
			fail_msg("refused: %s", #stmt); \
	} while (0)

static void addr_fields(void **state)
{
	static const uint16_t types[] = { SL_CTL_EP_ADD, SL_CTL_PKT_DOWN, SL_CTL_PKT_UP };

	(void)state;
	for (size_t i = 0; i < N_ELEM(types); i++) {
		uint16_t t = types[i];
		struct sl_ctl_addr *a = t == SL_CTL_EP_ADD ? &m.ep.addr : &m.pkt.addr;

		BAD(t, a->family = 0);
		BAD(t, a->family = 5);
		BAD(t, a->family = 46);
		BAD(t, a->has_vlan = 2);
		BAD(t, a->has_vlan = 0xff);
		BAD(t, a->vlan_tci = 5); /* a tag without has_vlan */
		BAD(t, (a->has_vlan = 1, a->vlan_tci = 4095));
		BAD(t, (a->has_vlan = 1, a->vlan_tci = 0xffff));
		BAD(t, a->remote_port = 0);
		BAD(t, a->local_port = 0);
		GOOD(t, (a->has_vlan = 1, a->vlan_tci = 4094));
		GOOD(t, (a->has_vlan = 1, a->vlan_tci = 0xe064)); /* PCP 7, DEI, VID 100 */
		GOOD(t, (a->family = 6, memset(a->remote_ip, 0xfd, 16),
			 memset(a->local_ip, 0xfe, 16)));
	}
}

#define REFUSED(type, stmt)                                           \
	do {                                                          \
		size_t l_ = build(type);                              \
		stmt;                                                 \
		if (check(l_, type) != -EINVAL)                       \
			fail_msg("not refused (-EINVAL): %s", #stmt); \
	} while (0)

/* Requests to addresses nothing may be sent to: -EINVAL. PKT_UP carries
 * whatever came in and is not judged here. */
static void unsendable_addrs(void **state)
{
	static const uint16_t types[] = { SL_CTL_EP_ADD, SL_CTL_EP_UPDATE, SL_CTL_PKT_DOWN };

	(void)state;
	for (size_t i = 0; i < N_ELEM(types); i++) {
		uint16_t t = types[i];
		struct sl_ctl_addr *a = t == SL_CTL_PKT_DOWN ? &m.pkt.addr : &m.ep.addr;

		REFUSED(t, memset(a->peer_mac, 0, 6));
		REFUSED(t, memset(a->peer_mac, 0xff, 6));
		REFUSED(t, a->peer_mac[0] = 0x01);
		REFUSED(t, a->peer_mac[0] = 0x33);
		REFUSED(t, memset(a->remote_ip, 0, 4));
		REFUSED(t, a->remote_ip[0] = 127);
		REFUSED(t, a->remote_ip[0] = 224);
		REFUSED(t, a->remote_ip[0] = 239);
		REFUSED(t, a->remote_ip[0] = 240);
		REFUSED(t, memset(a->remote_ip, 0xff, 4));
		REFUSED(t, (a->family = 6, memset(a->remote_ip, 0, 16)));
		REFUSED(t, (a->family = 6, memset(a->remote_ip, 0, 16), a->remote_ip[15] = 1));
		REFUSED(t, (a->family = 6, memset(a->remote_ip, 0, 16), a->remote_ip[0] = 0xff,
			    a->remote_ip[1] = 2, a->remote_ip[15] = 1));
		REFUSED(t, (a->family = 6, memset(a->remote_ip, 0, 16), a->remote_ip[10] = 0xff,
			    a->remote_ip[11] = 0xff, a->remote_ip[12] = 127, a->remote_ip[15] = 1));
		REFUSED(t, (a->family = 6, memset(a->remote_ip, 0, 16), a->remote_ip[10] = 0xff,
			    a->remote_ip[11] = 0xff, a->remote_ip[12] = 224));
		GOOD(t, a->remote_ip[0] = 223);
		GOOD(t, (a->family = 6, memset(a->remote_ip, 0, 16), a->remote_ip[10] = 0xff,
			 a->remote_ip[11] = 0xff, a->remote_ip[12] = 192, a->remote_ip[15] = 7));
		GOOD(t, (a->family = 6, memset(a->remote_ip, 0, 16), a->remote_ip[0] = 0xfe,
			 a->remote_ip[1] = 0x80, a->remote_ip[15] = 7));
	}
	/* Up: the dataplane reports what arrived; the receiver decides. */
	GOOD(SL_CTL_PKT_UP, m.pkt.addr.remote_ip[0] = 127);
}

static void endpoint_fields(void **state)
{
	static const uint16_t profiles[] = { SL_SRTP_AES128_CM_SHA1_80, SL_SRTP_AEAD_AES_128_GCM,
					     SL_SRTP_AEAD_AES_256_GCM };

	(void)state;
	BAD(SL_CTL_EP_ADD, m.ep.ep_id = 0);
	BAD(SL_CTL_EP_ADD, m.ep.flags = SL_EP_UPD_ADDR);
	BAD(SL_CTL_EP_ADD, m.ep.flags = 1u << 31);
	BAD(SL_CTL_EP_ADD, m.ep.profile = 0);
	BAD(SL_CTL_EP_ADD, m.ep.profile = 2);
	BAD(SL_CTL_EP_ADD, m.ep.profile = 9);
	BAD(SL_CTL_EP_ADD, m.ep.profile = 0x0107);
	BAD(SL_CTL_EP_ADD, m.ep.audio_level_ext = 15);
	BAD(SL_CTL_EP_ADD, m.ep.audio_level_ext = 255);
	BAD(SL_CTL_EP_UPDATE, m.ep.ep_id = 0);
	BAD(SL_CTL_EP_UPDATE, m.ep.flags = 0);
	BAD(SL_CTL_EP_UPDATE, m.ep.flags = 8);
	BAD(SL_CTL_EP_UPDATE, m.ep.flags = SL_EP_UPD_ALL | 1u << 31);
	BAD(SL_CTL_EP_UPDATE, m.ep.profile = 2);
	BAD(SL_CTL_EP_UPDATE, m.ep.audio_level_ext = 15);
	BAD(SL_CTL_EP_UPDATE, (m.ep.flags = SL_EP_UPD_ADDR, m.ep.addr.family = 0));
	BAD(SL_CTL_EP_UPDATE, (m.ep.flags = SL_EP_UPD_KEYS, m.ep.profile = 0));
	GOOD(SL_CTL_EP_ADD, m.ep.audio_level_ext = 0);
	GOOD(SL_CTL_EP_ADD, m.ep.audio_level_ext = 14);
	GOOD(SL_CTL_EP_ADD, m.ep.worker = 0xffff); /* the dataplane checks workers */
	/* An update takes only what its flags name: the rest may be anything. */
	GOOD(SL_CTL_EP_UPDATE, (m.ep.flags = SL_EP_UPD_ADDR, keys(0)));
	GOOD(SL_CTL_EP_UPDATE,
	     (m.ep.flags = SL_EP_UPD_KEYS, memset(&m.ep.addr, 0, sizeof(m.ep.addr))));
	GOOD(SL_CTL_EP_UPDATE, (m.ep.flags = SL_EP_UPD_EXT, keys(0), m.ep.addr.family = 0));
	GOOD(SL_CTL_EP_UPDATE, (m.ep.flags = SL_EP_UPD_EXT, m.ep.audio_level_ext = 0));

	/* Each profile with its full key and salt passes; one byte more does not. */
	for (size_t i = 0; i < N_ELEM(profiles); i++) {
		uint16_t p = profiles[i];
		unsigned kl = sl_srtp_profile_key_len(p), sl = sl_srtp_profile_salt_len(p);

		GOOD(SL_CTL_EP_ADD, keys(p));
		GOOD(SL_CTL_EP_UPDATE, (m.ep.flags = SL_EP_UPD_KEYS, keys(p)));
		for (unsigned b = kl; b < sizeof(m.ep.rx.key); b++) {
			BAD(SL_CTL_EP_ADD, (keys(p), m.ep.rx.key[b] = 1));
			BAD(SL_CTL_EP_UPDATE, (keys(p), m.ep.tx.key[b] = 1));
		}
		for (unsigned b = sl; b < sizeof(m.ep.rx.salt); b++) {
			BAD(SL_CTL_EP_ADD, (keys(p), m.ep.tx.salt[b] = 1));
			BAD(SL_CTL_EP_UPDATE, (keys(p), m.ep.rx.salt[b] = 1));
		}
	}
}

static void other_fields(void **state)
{
	(void)state;
	BAD(SL_CTL_EP_REMOVE, m.ref.ep_id = 0);
	BAD(SL_CTL_SUBSCRIBE, m.sub.kind = 0);
	BAD(SL_CTL_SUBSCRIBE, m.sub.kind = 3);
	BAD(SL_CTL_SUBSCRIBE, m.sub.kind = 0xff);
	BAD(SL_CTL_SUBSCRIBE, m.sub.subscriber = 0);
	BAD(SL_CTL_SUBSCRIBE, m.sub.publisher = 0);
	BAD(SL_CTL_UNSUBSCRIBE, m.sub.subscriber = 0);
	BAD(SL_CTL_UNSUBSCRIBE, m.sub.publisher = 0);
	GOOD(SL_CTL_SUBSCRIBE, m.sub.kind = SL_MEDIA_AUDIO);
	GOOD(SL_CTL_UNSUBSCRIBE, (m.sub.kind = 0, m.sub.dst_ssrc = 0)); /* ignored there */
	BAD(SL_CTL_MUTE, m.mute.ep_id = 0);
	BAD(SL_CTL_MUTE, m.mute.kind = 0);
	BAD(SL_CTL_MUTE, m.mute.kind = 3);
	BAD(SL_CTL_MUTE, m.mute.muted = 2);
	BAD(SL_CTL_MUTE, m.mute.muted = 0xff);
	GOOD(SL_CTL_MUTE, (m.mute.kind = SL_MEDIA_VIDEO, m.mute.muted = 0));
	BAD(SL_CTL_REPLY, m.reply.status = 1);
	BAD(SL_CTL_REPLY, m.reply.status = INT32_MAX);
	GOOD(SL_CTL_REPLY, (m.reply.status = 0, m.reply.req_type = 0));
	BAD(SL_CTL_INFO, m.info.n_workers = 0);
	BAD(SL_CTL_INFO, m.info.has_ipv4 = 2);
	BAD(SL_CTL_INFO, m.info.has_ipv6 = 2);
	BAD(SL_CTL_EVENT, m.ev.ep_id = 0);
	BAD(SL_CTL_EVENT, m.ev.type = 0);
	BAD(SL_CTL_EVENT, m.ev.type = SL_EV_MEDIA_ALIVE + 1);
	GOOD(SL_CTL_EVENT, m.ev.type = SL_EV_AUDIO_LEVEL);
	GOOD(SL_CTL_EVENT, m.ev.type = SL_EV_KEYFRAME_REQ);
	GOOD(SL_CTL_EVENT, m.ev.type = SL_EV_MEDIA_ALIVE);
}

/* Set the data length and both the header's and the real length to match. */
static size_t pkt_resize(unsigned data_len)
{
	size_t len = SL_CTL_PKT_FIXED + data_len;

	m.pkt.data_len = (uint16_t)data_len;
	m.h.len = (uint32_t)len;
	return len;
}

static void packets(void **state)
{
	static const uint16_t types[] = { SL_CTL_PKT_DOWN, SL_CTL_PKT_UP };

	(void)state;
	BAD(SL_CTL_PKT_DOWN, m.pkt.kind = SL_PKT_STUN);
	BAD(SL_CTL_PKT_DOWN, m.pkt.kind = 0xff);
	BAD(SL_CTL_PKT_UP, m.pkt.kind = 0);
	BAD(SL_CTL_PKT_UP, m.pkt.kind = SL_PKT_UNKNOWN + 1);
	GOOD(SL_CTL_PKT_UP, m.pkt.kind = SL_PKT_DTLS);
	GOOD(SL_CTL_PKT_UP, m.pkt.kind = SL_PKT_UNKNOWN);
	for (size_t i = 0; i < N_ELEM(types); i++) {
		uint16_t t = types[i];
		size_t len = build(t);

		/* data_len disagreeing with the length, either way */
		m.pkt.data_len = 19;
		assert_int_equal(check(len, t), -EBADMSG);
		m.pkt.data_len = 21;
		assert_int_equal(check(len, t), -EBADMSG);
		m.pkt.data_len = 0xffff;
		assert_int_equal(check(len, t), -EBADMSG);
		build(t);
		assert_int_equal(check(pkt_resize(0), t), -EBADMSG);
		assert_int_equal(check(pkt_resize(1), t), 0);
		assert_int_equal(check(pkt_resize(SL_CTL_MAX_PKT), t), 0);
		assert_int_equal(check(pkt_resize(SL_CTL_MAX_PKT + 1), t), -EBADMSG);
		/* The header alone, or the fixed part alone, is no packet. */
		m.h.len = sizeof(struct sl_ctl_hdr);
		assert_int_equal(check(sizeof(struct sl_ctl_hdr), t), -EBADMSG);
	}
}

static void counters(void **state)
{
	size_t base = offsetof(struct sl_ctl_counters, value);

	(void)state;
	build(SL_CTL_COUNTERS);
	m.cnt.n = SL_CNT_MAX - 1; /* n disagrees with the length */
	assert_int_equal(check(sizeof(m.cnt), SL_CTL_COUNTERS), -EBADMSG);
	m.cnt.n = SL_CNT_MAX + 1;
	m.h.len = (uint32_t)(base + 8u * m.cnt.n);
	assert_int_equal(check(m.h.len, SL_CTL_COUNTERS), -EBADMSG);
	m.cnt.n = 0x20000003; /* 8 * n wraps to 24 in 32 bits */
	m.h.len = (uint32_t)(base + 24);
	assert_int_equal(check(m.h.len, SL_CTL_COUNTERS), -EBADMSG);
	m.cnt.n = 0xffffffff;
	m.h.len = (uint32_t)sizeof(m.cnt);
	assert_int_equal(check(sizeof(m.cnt), SL_CTL_COUNTERS), -EBADMSG);
	/* Fewer counters than this build knows: fine, if the length matches. */
	for (uint32_t n = 0; n <= SL_CNT_MAX; n++) {
		m.cnt.n = n;
		m.h.len = (uint32_t)(base + 8u * n);
		assert_int_equal(check(m.h.len, SL_CTL_COUNTERS), 0);
		m.h.len += 4;
		assert_int_equal(check(m.h.len, SL_CTL_COUNTERS), -EBADMSG);
	}
}

static void worker_stats(void **state)
{
	size_t rec = sizeof(struct sl_ctl_worker_stat), len;

	(void)state;
	len = build(SL_CTL_WORKER_STATS);
	assert_int_equal(check(len, SL_CTL_WORKER_STATS), 0);
	m.ws.n = 3; /* n disagrees with the length */
	assert_int_equal(check(len, SL_CTL_WORKER_STATS), -EBADMSG);
	for (uint32_t n = 0; n <= SL_CTL_MAX_WORKERS + 1; n++) {
		build(SL_CTL_WORKER_STATS);
		m.ws.n = n;
		m.h.len = (uint32_t)(SL_CTL_WORKER_STATS_FIXED + rec * n);
		assert_int_equal(check(m.h.len, SL_CTL_WORKER_STATS),
				 n >= 1 && n <= SL_CTL_MAX_WORKERS ? 0 : -EBADMSG);
	}
	build(SL_CTL_WORKER_STATS);
	m.ws.w[1].busy_ppm = 1000001; /* a fraction over 1 */
	assert_int_equal(check(len, SL_CTL_WORKER_STATS), -EBADMSG);
	build(SL_CTL_WORKER_STATS);
	m.ws.w[1].busy_cycles = 11; /* busy longer than it ran */
	assert_int_equal(check(len, SL_CTL_WORKER_STATS), -EBADMSG);
	build(SL_CTL_WORKER_STATS);
	m.ws.pool_in_use = 101;
	assert_int_equal(check(len, SL_CTL_WORKER_STATS), -EBADMSG);
	build(SL_CTL_WORKER_STATS);
	m.ws.n = 0x80000001; /* rec * n must not wrap to a valid length */
	assert_int_equal(check(len, SL_CTL_WORKER_STATS), -EBADMSG);
}

/* A message anywhere in a byte buffer, not only at an aligned address. */
static void unaligned(void **state)
{
	static uint8_t buf[sizeof(struct sl_ctl_ep) + 8];

	(void)state;
	for (size_t off = 1; off < 8; off++) {
		size_t len = build(SL_CTL_EP_ADD);

		memcpy(buf + off, &m, len);
		assert_int_equal(sl_ctl_validate(buf + off, len, true), 0);
		buf[off + offsetof(struct sl_ctl_ep, addr.remote_ip) + 5] = 1;
		assert_int_equal(sl_ctl_validate(buf + off, len, true), -EBADMSG);
	}
}

static void reply_init(void **state)
{
	struct sl_ctl_reply r;
	uint8_t buf[sizeof(struct sl_ctl_hdr) + 1];
	size_t len;

	(void)state;
	len = build(SL_CTL_MUTE);
	m.h.seq = 0xdeadbeef;
	memset(&r, 0xee, sizeof(r));
	assert_int_equal(sl_ctl_reply_init(&r, &m, len, -ENOENT), 0);
	assert_int_equal(r.h.version, SL_CTL_VERSION);
	assert_int_equal(r.h.type, SL_CTL_REPLY);
	assert_int_equal(r.h.len, sizeof(r));
	assert_int_equal(r.h.seq, 0xdeadbeef);
	assert_int_equal(r.h.rsvd, 0);
	assert_int_equal(r.status, -ENOENT);
	assert_int_equal(r.req_type, SL_CTL_MUTE);
	assert_int_equal(r.pad, 0);
	assert_int_equal(sl_ctl_validate(&r, sizeof(r), false), 0);

	/* A readable header is echoed even when the rest is wrong. */
	m.h.type = 0x4242;
	memcpy(buf + 1, &m, sizeof(struct sl_ctl_hdr));
	assert_int_equal(sl_ctl_reply_init(&r, buf + 1, sizeof(struct sl_ctl_hdr), EINVAL), 0);
	assert_int_equal(r.h.seq, 0xdeadbeef);
	assert_int_equal(r.req_type, 0x4242);
	assert_int_equal(r.status, -EINVAL); /* a positive errno is negated */

	/* Partial header: nothing echoed, still a valid reply. */
	for (size_t cut = 0; cut < sizeof(struct sl_ctl_hdr); cut++) {
		memset(&r, 0xee, sizeof(r));
		assert_int_equal(sl_ctl_reply_init(&r, &m, cut, -EBADMSG), -EBADMSG);
		assert_int_equal(r.h.seq, 0);
		assert_int_equal(r.req_type, 0);
		assert_int_equal(r.status, -EBADMSG);
		assert_int_equal(sl_ctl_validate(&r, sizeof(r), false), 0);
	}
	assert_int_equal(sl_ctl_reply_init(&r, NULL, 16, 0), -EBADMSG);
	assert_int_equal(r.status, 0);
	assert_int_equal(sl_ctl_validate(&r, sizeof(r), false), 0);
}

static void helpers(void **state)
{
	static const char *const names[] = {
#define NAME(n) #n,
		SL_COUNTERS(NAME)
#undef NAME
	};
	struct sl_ctl_hdr h;

	(void)state;
	assert_int_equal(sl_srtp_profile_key_len(SL_SRTP_AES128_CM_SHA1_80), 16);
	assert_int_equal(sl_srtp_profile_salt_len(SL_SRTP_AES128_CM_SHA1_80), 14);
	assert_int_equal(sl_srtp_profile_key_len(SL_SRTP_AEAD_AES_128_GCM), 16);
	assert_int_equal(sl_srtp_profile_salt_len(SL_SRTP_AEAD_AES_128_GCM), 12);
	assert_int_equal(sl_srtp_profile_key_len(SL_SRTP_AEAD_AES_256_GCM), 32);
	assert_int_equal(sl_srtp_profile_salt_len(SL_SRTP_AEAD_AES_256_GCM), 12);
	assert_int_equal(sl_srtp_profile_key_len(0), 0);
	assert_int_equal(sl_srtp_profile_salt_len(3), 0);
	assert_int_equal(sl_srtp_profile_key_len(0xffff), 0);

	assert_int_equal(N_ELEM(names), SL_CNT_MAX);
	for (size_t i = 0; i < SL_CNT_MAX; i++)
		assert_string_equal(sl_counter_names[i], names[i]);
	assert_string_equal(sl_counter_names[SL_CNT_rx_packets], "rx_packets");
	assert_string_equal(sl_counter_names[SL_CNT_drop_protect], "drop_protect");

	assert_int_equal(sl_ctl_msg_len(SL_CTL_HELLO), sizeof(struct sl_ctl_hdr));
	assert_int_equal(sl_ctl_msg_len(SL_CTL_EP_ADD), sizeof(struct sl_ctl_ep));
	assert_int_equal(sl_ctl_msg_len(SL_CTL_PKT_UP), SL_CTL_PKT_FIXED + 1);
	assert_int_equal(sl_ctl_msg_len(SL_CTL_COUNTERS), offsetof(struct sl_ctl_counters, value));
	assert_int_equal(sl_ctl_msg_len(0), 0);
	assert_int_equal(sl_ctl_msg_len(200), 0);

	memset(&h, 0xee, sizeof(h));
	sl_ctl_hdr_init(&h, SL_CTL_ROOM_REMOVE, 24, 7);
	assert_int_equal(h.version, SL_CTL_VERSION);
	assert_int_equal(h.type, SL_CTL_ROOM_REMOVE);
	assert_int_equal(h.len, 24);
	assert_int_equal(h.seq, 7);
	assert_int_equal(h.rsvd, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_in_own_direction_only),
		cmocka_unit_test(lengths),
		cmocka_unit_test(partial_header),
		cmocka_unit_test(version_type_rsvd),
		cmocka_unit_test(each_pad_byte),
		cmocka_unit_test(v4_unused_bytes),
		cmocka_unit_test(addr_fields),
		cmocka_unit_test(unsendable_addrs),
		cmocka_unit_test(endpoint_fields),
		cmocka_unit_test(other_fields),
		cmocka_unit_test(packets),
		cmocka_unit_test(counters),
		cmocka_unit_test(worker_stats),
		cmocka_unit_test(unaligned),
		cmocka_unit_test(reply_init),
		cmocka_unit_test(helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
