/*
 * ctl_msg.c - validation and building of control-socket messages.
 *
 * Both processes trust nothing that crosses the socket: every message is
 * checked whole here before any field is used - header, the exact length
 * for its type, every reserved and padding byte zero, every enum in range -
 * so the code behind it can read fields without further checks. The
 * checks are table-driven by type and direction; the buffer may be
 * unaligned, so everything is copied out with memcpy before it is read.
 */
#include <errno.h>
#include <string.h>

#include <sluice/ctl.h>

const char *const sl_counter_names[SL_CNT_MAX] = {
#define SL_COUNTER_NAME(name) #name,
	SL_COUNTERS(SL_COUNTER_NAME)
#undef SL_COUNTER_NAME
};

void sl_ctl_hdr_init(struct sl_ctl_hdr *h, uint16_t type, uint32_t len, uint32_t seq)
{
	struct sl_ctl_hdr v = { .version = SL_CTL_VERSION, .type = type, .len = len, .seq = seq };

	memcpy(h, &v, sizeof(v));
}

unsigned sl_srtp_profile_key_len(uint16_t profile)
{
	switch (profile) {
	case SL_SRTP_AES128_CM_SHA1_80:
	case SL_SRTP_AEAD_AES_128_GCM:
		return 16;
	case SL_SRTP_AEAD_AES_256_GCM:
		return 32;
	default:
		return 0;
	}
}

unsigned sl_srtp_profile_salt_len(uint16_t profile)
{
	switch (profile) {
	case SL_SRTP_AES128_CM_SHA1_80:
		return 14;
	case SL_SRTP_AEAD_AES_128_GCM:
	case SL_SRTP_AEAD_AES_256_GCM:
		return 12;
	default:
		return 0;
	}
}

size_t sl_ctl_msg_len(uint16_t type)
{
	switch (type) {
	case SL_CTL_HELLO:
	case SL_CTL_COUNTERS_GET:
	case SL_CTL_WORKER_STATS_GET:
		return sizeof(struct sl_ctl_hdr);
	case SL_CTL_EP_ADD:
	case SL_CTL_EP_UPDATE:
		return sizeof(struct sl_ctl_ep);
	case SL_CTL_EP_REMOVE:
		return sizeof(struct sl_ctl_ep_ref);
	case SL_CTL_SUBSCRIBE:
	case SL_CTL_UNSUBSCRIBE:
		return sizeof(struct sl_ctl_sub);
	case SL_CTL_MUTE:
		return sizeof(struct sl_ctl_mute);
	case SL_CTL_ROOM_REMOVE:
		return sizeof(struct sl_ctl_room);
	case SL_CTL_PKT_DOWN:
	case SL_CTL_PKT_UP:
		return SL_CTL_PKT_FIXED + 1;
	case SL_CTL_REPLY:
		return sizeof(struct sl_ctl_reply);
	case SL_CTL_INFO:
		return sizeof(struct sl_ctl_info);
	case SL_CTL_EVENT:
		return sizeof(struct sl_ctl_event);
	case SL_CTL_COUNTERS:
		return offsetof(struct sl_ctl_counters, value);
	case SL_CTL_WORKER_STATS:
		return SL_CTL_WORKER_STATS_FIXED + sizeof(struct sl_ctl_worker_stat);
	default:
		return 0;
	}
}

static bool zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static bool is_down(uint16_t type)
{
	return type >= SL_CTL_HELLO && type <= SL_CTL_LAST_DOWN;
}

static bool is_up(uint16_t type)
{
	return type >= SL_CTL_REPLY && type <= SL_CTL_LAST_UP;
}

/* 0.0.0.0/8, 127/8, multicast, 240/4 and the broadcast address. */
static bool ip4_unsendable(const uint8_t *ip)
{
	return ip[0] == 0 || ip[0] == 127 || ip[0] >= 224;
}

/*
 * A destination nothing may be sent to: a peer MAC that is zero, multicast
 * or broadcast; a remote address that is unspecified, loopback, multicast
 * or broadcast (IPv4, IPv6, IPv4-mapped IPv6).
 */
static bool unsendable(const struct sl_ctl_addr *a)
{
	static const uint8_t loop6[16] = { [15] = 1 }, v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	if ((a->peer_mac[0] & 1) || zero(a->peer_mac, 6))
		return true;
	if (a->family == 4)
		return ip4_unsendable(a->remote_ip);
	if (zero(a->remote_ip, 16) || !memcmp(a->remote_ip, loop6, 16) || a->remote_ip[0] == 0xff)
		return true;
	return !memcmp(a->remote_ip, v4mapped, 12) && ip4_unsendable(a->remote_ip + 12);
}

static int check_addr(const struct sl_ctl_addr *a, bool need_ports, bool down)
{
	if (a->family != 4 && a->family != 6)
		return -EBADMSG;
	if (a->has_vlan > 1 || (a->has_vlan && (a->vlan_tci & 0x0fff) >= 4095) ||
	    (!a->has_vlan && a->vlan_tci))
		return -EBADMSG;
	if (a->family == 4 && (!zero(a->remote_ip + 4, 12) || !zero(a->local_ip + 4, 12)))
		return -EBADMSG;
	if (need_ports && (!a->remote_port || !a->local_port))
		return -EBADMSG;
	if (a->pad)
		return -EBADMSG;
	return down && unsendable(a) ? -EINVAL : 0;
}

static int check_key(const struct sl_ctl_key *k, uint16_t profile)
{
	unsigned kl = sl_srtp_profile_key_len(profile), sl = sl_srtp_profile_salt_len(profile);

	if (!kl || !zero(k->pad, sizeof(k->pad)))
		return -EBADMSG;
	/* Bytes past the profile's lengths must be zero: no stray key material. */
	if (!zero(k->key + kl, sizeof(k->key) - kl) || !zero(k->salt + sl, sizeof(k->salt) - sl))
		return -EBADMSG;
	return 0;
}

/*
 * EP_ADD takes every field; EP_UPDATE only those its flags name, but the
 * padding of the parts it skips must still be zero.
 */
static int check_ep(const struct sl_ctl_ep *m, bool update)
{
	bool addr = !update || (m->flags & SL_EP_UPD_ADDR);
	bool keys = !update || (m->flags & SL_EP_UPD_KEYS);
	int rc;

	if (!m->ep_id || !zero(m->pad, sizeof(m->pad)) || m->audio_level_ext > 14)
		return -EBADMSG;
	if (update ? (!m->flags || (m->flags & ~(uint32_t)SL_EP_UPD_ALL)) : m->flags)
		return -EBADMSG;
	if (m->addr.pad || !zero(m->rx.pad, sizeof(m->rx.pad)) ||
	    !zero(m->tx.pad, sizeof(m->tx.pad)))
		return -EBADMSG;
	if (addr) {
		rc = check_addr(&m->addr, true, true);
		if (rc)
			return rc;
	}
	if (keys) {
		rc = check_key(&m->rx, m->profile);
		if (rc == 0)
			rc = check_key(&m->tx, m->profile);
		return rc;
	}
	return 0;
}

static int check_pkt(const struct sl_ctl_pkt *m, size_t len, bool down)
{
	if (m->data_len < 1 || m->data_len > SL_CTL_MAX_PKT ||
	    len != SL_CTL_PKT_FIXED + m->data_len || m->pad || m->pad2)
		return -EBADMSG;
	if (down ? m->kind != 0 : (m->kind < SL_PKT_STUN || m->kind > SL_PKT_UNKNOWN))
		return -EBADMSG;
	return check_addr(&m->addr, true, down);
}

/* Field checks for a message whose length is already right. */
static int check_body(const void *msg, size_t len, uint16_t type)
{
	union {
		struct sl_ctl_ep ep;
		struct sl_ctl_ep_ref ref;
		struct sl_ctl_sub sub;
		struct sl_ctl_mute mute;
		struct sl_ctl_pkt pkt;
		struct sl_ctl_reply reply;
		struct sl_ctl_info info;
		struct sl_ctl_event ev;
		struct sl_ctl_counters cnt;
		struct sl_ctl_worker_stats ws;
	} u;

	memcpy(&u, msg, len < sizeof(u) ? len : sizeof(u));
	switch (type) {
	case SL_CTL_EP_ADD:
	case SL_CTL_EP_UPDATE:
		return check_ep(&u.ep, type == SL_CTL_EP_UPDATE);
	case SL_CTL_EP_REMOVE:
		return u.ref.ep_id && !u.ref.pad ? 0 : -EBADMSG;
	case SL_CTL_SUBSCRIBE:
	case SL_CTL_UNSUBSCRIBE:
		return u.sub.subscriber && u.sub.publisher && zero(u.sub.pad, sizeof(u.sub.pad)) &&
				       (type == SL_CTL_UNSUBSCRIBE ||
					(u.sub.kind >= SL_MEDIA_AUDIO &&
					 u.sub.kind <= SL_MEDIA_VIDEO))
			       ? 0
			       : -EBADMSG;
	case SL_CTL_MUTE:
		return u.mute.ep_id && u.mute.kind >= SL_MEDIA_AUDIO &&
				       u.mute.kind <= SL_MEDIA_VIDEO && u.mute.muted <= 1 &&
				       zero(u.mute.pad, sizeof(u.mute.pad))
			       ? 0
			       : -EBADMSG;
	case SL_CTL_PKT_DOWN:
	case SL_CTL_PKT_UP:
		return check_pkt(&u.pkt, len, type == SL_CTL_PKT_DOWN);
	case SL_CTL_REPLY:
		return u.reply.status <= 0 && !u.reply.pad ? 0 : -EBADMSG;
	case SL_CTL_INFO:
		return u.info.n_workers && zero(u.info.pad, sizeof(u.info.pad)) && !u.info.pad2 &&
				       u.info.has_ipv4 <= 1 && u.info.has_ipv6 <= 1
			       ? 0
			       : -EBADMSG;
	case SL_CTL_EVENT:
		return u.ev.ep_id && u.ev.type >= SL_EV_AUDIO_LEVEL && u.ev.type <= SL_EV_LAST &&
				       !u.ev.pad
			       ? 0
			       : -EBADMSG;
	case SL_CTL_COUNTERS:
		return u.cnt.n <= SL_CNT_MAX && !u.cnt.pad &&
				       len == offsetof(struct sl_ctl_counters, value) + 8u * u.cnt.n
			       ? 0
			       : -EBADMSG;
	case SL_CTL_WORKER_STATS:
		if (u.ws.n < 1 || u.ws.n > SL_CTL_MAX_WORKERS ||
		    len != SL_CTL_WORKER_STATS_FIXED + sizeof(struct sl_ctl_worker_stat) * u.ws.n ||
		    u.ws.pool_in_use > u.ws.pool_size)
			return -EBADMSG;
		for (uint32_t i = 0; i < u.ws.n; i++)
			if (u.ws.w[i].busy_ppm > 1000000 ||
			    u.ws.w[i].busy_cycles > u.ws.w[i].cycles)
				return -EBADMSG;
		return 0;
	default: /* HELLO, COUNTERS_GET, WORKER_STATS_GET, ROOM_REMOVE: nothing but the header/id */
		return 0;
	}
}

int sl_ctl_validate(const void *msg, size_t len, bool dir_down)
{
	struct sl_ctl_hdr h;
	size_t want;

	if (!msg || len < sizeof(h))
		return -EBADMSG;
	memcpy(&h, msg, sizeof(h));
	if (h.version != SL_CTL_VERSION)
		return -EPROTO;
	if (dir_down ? !is_down(h.type) : !is_up(h.type))
		return -ENOTSUP;
	if (h.len != len || h.rsvd)
		return -EBADMSG;
	want = sl_ctl_msg_len(h.type);
	if (h.type == SL_CTL_PKT_DOWN || h.type == SL_CTL_PKT_UP || h.type == SL_CTL_COUNTERS ||
	    h.type == SL_CTL_WORKER_STATS) {
		size_t max = h.type == SL_CTL_COUNTERS       ? sizeof(struct sl_ctl_counters)
			     : h.type == SL_CTL_WORKER_STATS ? sizeof(struct sl_ctl_worker_stats)
							     : SL_CTL_PKT_FIXED + SL_CTL_MAX_PKT;

		if (len < want || len > max)
			return -EBADMSG;
	} else if (len != want) {
		return -EBADMSG;
	}
	return check_body(msg, len, h.type);
}

int sl_ctl_reply_init(struct sl_ctl_reply *r, const void *req, size_t req_len, int status)
{
	struct sl_ctl_hdr h = { 0 };
	bool readable = req && req_len >= sizeof(h);

	if (readable)
		memcpy(&h, req, sizeof(h));
	memset(r, 0, sizeof(*r));
	sl_ctl_hdr_init(&r->h, SL_CTL_REPLY, sizeof(*r), h.seq);
	r->status = status > 0 ? -status : status;
	r->req_type = h.type;
	return readable ? 0 : -EBADMSG;
}
