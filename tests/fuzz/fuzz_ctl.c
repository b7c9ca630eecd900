/*
 * fuzz_ctl.c - libFuzzer target for control-socket message validation.
 *
 * The input is placed at an odd address in a heap block of exactly its
 * size, the way a receive buffer may hold it, and validated in both
 * directions. A message that passes is then read field by field the way
 * the receiving process would - copied out with memcpy, key and salt up to
 * the profile's lengths, the address up to its family's size, packet data
 * up to data_len, counters and their names up to n, worker records up to
 * n - so an accepted message
 * that would make a reader step outside it is caught by ASan, and one whose
 * fields break what the header promises is caught by the checks here
 * (abort() in a fuzz target is a finding, not a crash path in Sluice).
 * Every input also gets a reply built for it, which must itself validate.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/ctl.h>

static volatile uint8_t sink;

static void need(bool cond)
{
	if (!cond)
		abort();
}

static void touch(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		sink ^= b[i];
}

static void read_addr(const struct sl_ctl_addr *a)
{
	need(a->family == 4 || a->family == 6);
	need(a->has_vlan <= 1 && (a->vlan_tci & 0x0fff) < 4095);
	need(a->remote_port && a->local_port);
	touch(a->peer_mac, sizeof(a->peer_mac));
	touch(a->remote_ip, a->family == 4 ? 4 : 16);
	touch(a->local_ip, a->family == 4 ? 4 : 16);
}

static void read_key(const struct sl_ctl_key *k, uint16_t profile)
{
	unsigned kl = sl_srtp_profile_key_len(profile), sl = sl_srtp_profile_salt_len(profile);

	need(kl && sl); /* keys accepted for a profile we cannot size */
	need(kl <= sizeof(k->key) && sl <= sizeof(k->salt));
	touch(k->key, kl);
	touch(k->salt, sl);
}

static void read_ep(const uint8_t *p, uint16_t type)
{
	struct sl_ctl_ep m;
	bool update = type == SL_CTL_EP_UPDATE;

	memcpy(&m, p, sizeof(m));
	need(m.ep_id != 0 && m.audio_level_ext <= 14);
	need(update ? m.flags && !(m.flags & ~(uint32_t)SL_EP_UPD_ALL) : !m.flags);
	touch(&m.room_id, sizeof(m.room_id));
	touch(&m.worker, sizeof(m.worker));
	if (!update || (m.flags & SL_EP_UPD_ADDR))
		read_addr(&m.addr);
	if (!update || (m.flags & SL_EP_UPD_KEYS)) {
		read_key(&m.rx, m.profile);
		read_key(&m.tx, m.profile);
	}
	explicit_bzero(&m, sizeof(m));
}

static void read_pkt(const uint8_t *p, size_t size, uint16_t type)
{
	struct sl_ctl_pkt m;

	memcpy(&m, p, SL_CTL_PKT_FIXED);
	need(m.data_len >= 1 && m.data_len <= SL_CTL_MAX_PKT);
	need(size == SL_CTL_PKT_FIXED + m.data_len);
	need(type == SL_CTL_PKT_DOWN ? m.kind == 0
				     : m.kind >= SL_PKT_STUN && m.kind <= SL_PKT_UNKNOWN);
	read_addr(&m.addr);
	/* The payload is read where it lies: exactly data_len bytes. */
	touch(p + SL_CTL_PKT_FIXED, m.data_len);
}

static void read_counters(const uint8_t *p, size_t size)
{
	size_t base = offsetof(struct sl_ctl_counters, value);
	uint32_t n;

	memcpy(&n, p + offsetof(struct sl_ctl_counters, n), sizeof(n));
	need(n <= SL_CNT_MAX && size == base + 8u * (size_t)n);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, p + base + 8u * i, sizeof(v));
		touch(&v, sizeof(v));
		touch(sl_counter_names[i], strlen(sl_counter_names[i]));
	}
}

static void read_worker_stats(const uint8_t *p, size_t size)
{
	struct sl_ctl_worker_stats m;

	need(size >= SL_CTL_WORKER_STATS_FIXED && size <= sizeof(m));
	memcpy(&m, p, size);
	need(m.n >= 1 && m.n <= SL_CTL_MAX_WORKERS && m.pool_in_use <= m.pool_size);
	need(size == SL_CTL_WORKER_STATS_FIXED + sizeof(m.w[0]) * m.n);
	for (uint32_t i = 0; i < m.n; i++) {
		need(m.w[i].busy_ppm <= 1000000 && m.w[i].busy_cycles <= m.w[i].cycles);
		touch(&m.w[i], sizeof(m.w[i]));
	}
}

static void read_small(const uint8_t *p, size_t size, uint16_t type)
{
	union {
		struct sl_ctl_ep_ref ref;
		struct sl_ctl_sub sub;
		struct sl_ctl_mute mute;
		struct sl_ctl_room room;
		struct sl_ctl_reply reply;
		struct sl_ctl_info info;
		struct sl_ctl_event ev;
	} u;

	need(size <= sizeof(u));
	memcpy(&u, p, size);
	touch(&u, size);
	if (type == SL_CTL_SUBSCRIBE)
		need(u.sub.kind == SL_MEDIA_AUDIO || u.sub.kind == SL_MEDIA_VIDEO);
	else if (type == SL_CTL_MUTE)
		need(u.mute.ep_id && u.mute.muted <= 1);
	else if (type == SL_CTL_REPLY)
		need(u.reply.status <= 0);
	else if (type == SL_CTL_INFO)
		need(u.info.n_workers && u.info.has_ipv4 <= 1 && u.info.has_ipv6 <= 1);
	else if (type == SL_CTL_EVENT)
		need(u.ev.ep_id && u.ev.type >= SL_EV_AUDIO_LEVEL && u.ev.type <= SL_EV_LAST);
}

static void read_as_receiver(const uint8_t *p, size_t size, bool down)
{
	struct sl_ctl_hdr h;

	memcpy(&h, p, sizeof(h));
	need(h.version == SL_CTL_VERSION && h.len == size && !h.rsvd);
	need(size <= SL_CTL_MAX_MSG && size >= sl_ctl_msg_len(h.type));
	need(down == (h.type < SL_CTL_REPLY));
	if (h.type == SL_CTL_EP_ADD || h.type == SL_CTL_EP_UPDATE)
		read_ep(p, h.type);
	else if (h.type == SL_CTL_PKT_DOWN || h.type == SL_CTL_PKT_UP)
		read_pkt(p, size, h.type);
	else if (h.type == SL_CTL_COUNTERS)
		read_counters(p, size);
	else if (h.type == SL_CTL_WORKER_STATS)
		read_worker_stats(p, size);
	else
		read_small(p, size, h.type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Odd address, no slack after the message: misreads are out of bounds. */
	uint8_t *blk = malloc(size + 1);
	uint8_t *p = blk + 1;
	struct sl_ctl_reply r;
	int rc[2];

	if (!blk)
		return 0;
	memcpy(p, data, size);
	for (int down = 0; down < 2; down++) {
		rc[down] = sl_ctl_validate(p, size, down);
		need(rc[down] == 0 || rc[down] == -EPROTO || rc[down] == -EBADMSG ||
		     rc[down] == -ENOTSUP || (down && rc[down] == -EINVAL));
		if (rc[down] == 0)
			read_as_receiver(p, size, down);
	}
	need(!(rc[0] == 0 && rc[1] == 0)); /* no message is valid both ways */
	need(sl_ctl_reply_init(&r, p, size, rc[1]) == (size >= sizeof(r.h) ? 0 : -EBADMSG));
	need(sl_ctl_validate(&r, sizeof(r), false) == 0);
	free(blk);
	return 0;
}
