/*
 * tables.c - a worker's forwarding tables: endpoints, the streams they
 * publish, and the subscriptions that fan those streams out.
 *
 * Everything is allocated once, at start-up, as flat arrays sized from the
 * configuration; adding and removing only moves slots between free lists,
 * so command handling on a worker never allocates. Endpoints are found by
 * id and by 5-tuple through two rte_hash tables; streams hang off their
 * publisher and subscriptions off both their stream and their subscriber as
 * singly linked index lists, which stay short (an endpoint publishes a few
 * streams; a stream has one subscription per receiver). One worker owns a
 * table; nothing here is thread-safe and nothing needs to be.
 *
 * SRTP index safety lives here too. A subscription is named by its
 * destination SSRC, and a new one is refused (-EADDRINUSE) on any SSRC the
 * subscriber's outbound context has ever used, live or retired, or on our
 * RTCP SSRC; freeing a subscription retires its SSRC in that context. Within
 * a subscription, sl_sub_map() never hands out an out seq twice and, after
 * a re-point, only ever moves forward, and sl_sub_resend_seq() lets a NACK
 * re-send only what this mapping sent: so an (SSRC, index) pair carries one
 * plaintext, the only repeat being the exact retransmission.
 */
#include <errno.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "dp.h"

/* The retired record must outlast every dst_ssrc the protocol allows. */
_Static_assert(SL_SRTP_MAX_RETIRED >= SL_CTL_MAX_DST_SSRCS, "retired record too small");

static struct rte_hash *hash_create(const char *name, const char *what, int socket,
				    uint32_t entries, uint32_t key_len)
{
	char hname[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters p = {
		.name = hname,
		.entries = entries < 8 ? 8 : entries,
		.key_len = key_len,
		.hash_func = rte_jhash,
		.socket_id = socket,
	};

	snprintf(hname, sizeof(hname), "%s_%s", name, what);
	return rte_hash_create(&p);
}

struct sl_tables *sl_tables_create(const char *name, int socket, uint32_t max_eps,
				   uint32_t max_streams, uint32_t max_subs, uint32_t history)
{
	struct sl_tables *t = rte_zmalloc_socket("sl_tables", sizeof(*t), 0, socket);

	if (!t)
		return NULL;
	t->max_eps = max_eps;
	t->max_streams = max_streams;
	t->max_subs = max_subs;
	t->history = history;
	t->hist_mbufs = UINT32_MAX;
	t->hist_depth = history;
	t->eps = rte_zmalloc_socket("sl_eps", sizeof(*t->eps) * max_eps, 0, socket);
	t->streams = rte_zmalloc_socket("sl_streams", sizeof(*t->streams) * max_streams, 0, socket);
	t->subs = rte_zmalloc_socket("sl_subs", sizeof(*t->subs) * max_subs, 0, socket);
	t->rtx = rte_zmalloc_socket("sl_rtx", sizeof(*t->rtx) * max_subs, 0, socket);
	if (history)
		t->hist = rte_zmalloc_socket(
			"sl_hist", sizeof(*t->hist) * (size_t)max_streams * history, 0, socket);
	t->by_tuple = hash_create(name, "tuple", socket, max_eps, sizeof(struct sl_tuple_key));
	t->by_id = hash_create(name, "id", socket, max_eps, sizeof(uint32_t));
	if (!t->eps || !t->streams || !t->subs || !t->rtx || (history && !t->hist) ||
	    !t->by_tuple || !t->by_id) {
		sl_tables_destroy(t);
		return NULL;
	}
	for (uint32_t i = 0; i < max_streams; i++) {
		t->streams[i].ep = SL_NONE;
		t->streams[i].next_in_ep = i + 1 < max_streams ? i + 1 : SL_NONE;
	}
	for (uint32_t i = 0; i < max_subs; i++) {
		t->subs[i].ep = SL_NONE;
		t->subs[i].next_in_ep = i + 1 < max_subs ? i + 1 : SL_NONE;
	}
	t->free_stream = max_streams ? 0 : SL_NONE;
	t->free_sub = max_subs ? 0 : SL_NONE;
	return t;
}

void sl_tables_destroy(struct sl_tables *t)
{
	if (!t)
		return;
	if (t->hist) {
		for (size_t i = 0; i < (size_t)t->max_streams * t->history; i++)
			rte_pktmbuf_free(t->hist[i]);
	}
	rte_hash_free(t->by_tuple);
	rte_hash_free(t->by_id);
	rte_free(t->hist);
	rte_free(t->rtx);
	rte_free(t->subs);
	rte_free(t->streams);
	rte_free(t->eps);
	rte_free(t);
}

void sl_tuple_key_from_addr(struct sl_tuple_key *k, const struct sl_ctl_addr *a)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	k->remote_port = a->remote_port;
	k->local_port = a->local_port;
	memcpy(k->remote_ip, a->remote_ip, a->family == 4 ? 4 : 16);
	memcpy(k->local_ip, a->local_ip, a->family == 4 ? 4 : 16);
}

uint32_t sl_tables_ep_by_id(const struct sl_tables *t, uint32_t id)
{
	void *data;

	if (rte_hash_lookup_data(t->by_id, &id, &data) < 0)
		return SL_NONE;
	return (uint32_t)(uintptr_t)data;
}

uint32_t sl_tables_ep_by_tuple(const struct sl_tables *t, const struct sl_tuple_key *k)
{
	void *data;

	if (rte_hash_lookup_data(t->by_tuple, k, &data) < 0)
		return SL_NONE;
	return (uint32_t)(uintptr_t)data;
}

void sl_flow_from_addr(struct sl_net_flow *f, const struct sl_ctl_addr *a,
		       const struct sl_net_local *local)
{
	memset(f, 0, sizeof(*f));
	f->family = a->family;
	f->has_vlan = a->has_vlan;
	f->vlan_tci = a->vlan_tci;
	memcpy(f->src_mac, local->mac, 6);
	memcpy(f->dst_mac, a->peer_mac, 6);
	memcpy(f->src_ip, a->local_ip, 16);
	memcpy(f->dst_ip, a->remote_ip, 16);
	f->src_port = a->local_port;
	f->dst_port = a->remote_port;
}

static bool local_ip_ok(const struct sl_ctl_addr *a, const struct sl_net_local *l)
{
	if (a->family == 4)
		return l->has_ip4 && memcmp(a->local_ip, l->ip4, 4) == 0;
	return l->has_ip6 && memcmp(a->local_ip, l->ip6, 16) == 0;
}

static uint32_t ep_free_slot(const struct sl_tables *t)
{
	for (uint32_t i = 0; i < t->max_eps; i++)
		if (t->eps[i].id == 0)
			return i;
	return SL_NONE;
}

int sl_tables_ep_add(struct sl_tables *t, const struct sl_ctl_ep *m, struct sl_srtp *rx,
		     struct sl_srtp *tx, const struct sl_net_local *local)
{
	struct sl_tuple_key k;
	struct sl_endpoint *e;
	uint32_t slot;

	if (!local_ip_ok(&m->addr, local))
		return -EADDRNOTAVAIL;
	if (sl_tables_ep_by_id(t, m->ep_id) != SL_NONE)
		return -EEXIST;
	sl_tuple_key_from_addr(&k, &m->addr);
	if (sl_tables_ep_by_tuple(t, &k) != SL_NONE)
		return -EADDRINUSE;
	slot = ep_free_slot(t);
	if (slot == SL_NONE)
		return -ENOSPC;
	if (rte_hash_add_key_data(t->by_id, &m->ep_id, (void *)(uintptr_t)slot) < 0)
		return -ENOSPC;
	if (rte_hash_add_key_data(t->by_tuple, &k, (void *)(uintptr_t)slot) < 0) {
		rte_hash_del_key(t->by_id, &m->ep_id);
		return -ENOSPC;
	}
	e = &t->eps[slot];
	memset(e, 0, sizeof(*e));
	e->id = m->ep_id;
	e->room = m->room_id;
	e->addr = m->addr;
	sl_flow_from_addr(&e->flow, &m->addr, local);
	e->rx = rx;
	e->tx = tx;
	e->profile = m->profile;
	e->audio_level_ext = m->audio_level_ext;
	e->fb_ssrc = (uint32_t)rte_rand() | 1u;
	e->first_stream = SL_NONE;
	e->first_sub = SL_NONE;
	e->level_min = 127;
	t->n_eps++;
	return 0;
}

int sl_tables_ep_set_addr(struct sl_tables *t, uint32_t slot, const struct sl_ctl_addr *a,
			  const struct sl_net_local *local)
{
	struct sl_endpoint *e = &t->eps[slot];
	struct sl_tuple_key old, k;

	if (!local_ip_ok(a, local))
		return -EADDRNOTAVAIL;
	sl_tuple_key_from_addr(&old, &e->addr);
	sl_tuple_key_from_addr(&k, a);
	if (memcmp(&old, &k, sizeof(k)) != 0) {
		if (sl_tables_ep_by_tuple(t, &k) != SL_NONE)
			return -EADDRINUSE;
		if (rte_hash_add_key_data(t->by_tuple, &k, (void *)(uintptr_t)slot) < 0)
			return -ENOSPC;
		rte_hash_del_key(t->by_tuple, &old);
	}
	e->addr = *a;
	sl_flow_from_addr(&e->flow, a, local);
	return 0;
}

static void stream_unlink_sub(struct sl_tables *t, uint32_t si, uint32_t sub)
{
	struct sl_stream *st = &t->streams[si];
	uint32_t *pp = &st->first_sub;

	while (*pp != SL_NONE && *pp != sub)
		pp = &t->subs[*pp].next_in_stream;
	if (*pp == sub) {
		*pp = t->subs[sub].next_in_stream;
		st->n_subs--;
	}
}

static void ep_unlink_sub(struct sl_tables *t, uint32_t ei, uint32_t sub)
{
	uint32_t *pp = &t->eps[ei].first_sub;

	while (*pp != SL_NONE && *pp != sub)
		pp = &t->subs[*pp].next_in_ep;
	if (*pp == sub)
		*pp = t->subs[sub].next_in_ep;
}

static void sub_free(struct sl_tables *t, uint32_t sub)
{
	struct sl_sub *s = &t->subs[sub];

	/* Never again under this key (if the record is full, the context seals). */
	sl_srtp_retire(t->eps[s->ep].tx, s->dst_ssrc);
	stream_unlink_sub(t, s->stream, sub);
	ep_unlink_sub(t, s->ep, sub);
	memset(s, 0, sizeof(*s));
	s->ep = SL_NONE;
	s->next_in_ep = t->free_sub;
	t->free_sub = sub;
}

static void history_drop(struct sl_tables *t, uint32_t si)
{
	struct rte_mbuf **h;

	if (!t->hist)
		return;
	h = &t->hist[(size_t)si * t->history];
	for (uint32_t i = 0; i < t->history; i++) {
		rte_pktmbuf_free(h[i]);
		h[i] = NULL;
	}
}

static void stream_free(struct sl_tables *t, uint32_t si)
{
	struct sl_stream *st = &t->streams[si];
	uint32_t *pp = &t->eps[st->ep].first_stream;

	while (st->first_sub != SL_NONE)
		sub_free(t, st->first_sub);
	while (*pp != SL_NONE && *pp != si)
		pp = &t->streams[*pp].next_in_ep;
	if (*pp == si)
		*pp = st->next_in_ep;
	history_drop(t, si);
	if (st->kind == SL_MEDIA_VIDEO) {
		t->n_video--;
		sl_history_rebalance(t);
	}
	memset(st, 0, sizeof(*st));
	st->ep = SL_NONE;
	st->next_in_ep = t->free_stream;
	t->free_stream = si;
}

int sl_tables_ep_remove(struct sl_tables *t, uint32_t slot, struct sl_srtp **rx,
			struct sl_srtp **tx)
{
	struct sl_endpoint *e = &t->eps[slot];
	struct sl_tuple_key k;

	while (e->first_stream != SL_NONE)
		stream_free(t, e->first_stream);
	while (e->first_sub != SL_NONE) {
		uint32_t si = t->subs[e->first_sub].stream;

		sub_free(t, e->first_sub);
		if (t->streams[si].first_sub == SL_NONE)
			stream_free(t, si);
	}
	sl_tuple_key_from_addr(&k, &e->addr);
	rte_hash_del_key(t->by_tuple, &k);
	rte_hash_del_key(t->by_id, &e->id);
	*rx = e->rx;
	*tx = e->tx;
	memset(e, 0, sizeof(*e));
	t->n_eps--;
	return 0;
}

uint32_t sl_tables_stream_find(const struct sl_tables *t, uint32_t ep, uint32_t ssrc)
{
	for (uint32_t i = t->eps[ep].first_stream; i != SL_NONE; i = t->streams[i].next_in_ep)
		if (t->streams[i].ssrc == ssrc)
			return i;
	return SL_NONE;
}

uint32_t sl_tables_sub_by_dst(const struct sl_tables *t, uint32_t ep, uint32_t dst_ssrc)
{
	for (uint32_t i = t->eps[ep].first_sub; i != SL_NONE; i = t->subs[i].next_in_ep)
		if (t->subs[i].dst_ssrc == dst_ssrc)
			return i;
	return SL_NONE;
}

static uint32_t stream_get(struct sl_tables *t, uint32_t ep, uint32_t ssrc, uint8_t kind)
{
	uint32_t si = sl_tables_stream_find(t, ep, ssrc);
	struct sl_stream *st;

	if (si != SL_NONE)
		return t->streams[si].kind == kind ? si : SL_NONE;
	si = t->free_stream;
	if (si == SL_NONE)
		return SL_NONE;
	st = &t->streams[si];
	t->free_stream = st->next_in_ep;
	st->ep = ep;
	st->ssrc = ssrc;
	st->kind = kind;
	st->first_sub = SL_NONE;
	st->n_subs = 0;
	st->last_pli_tsc = 0;
	st->last_sr_tsc = 0;
	st->win_tsc = 0;
	st->win_pkts = 0;
	st->rate_pps = 0;
	st->nack_tsc = 0;
	st->next_in_ep = t->eps[ep].first_stream;
	t->eps[ep].first_stream = si;
	if (kind == SL_MEDIA_VIDEO) {
		t->n_video++;
		sl_history_rebalance(t);
	}
	return si;
}

static void sub_link(struct sl_tables *t, uint32_t sub, uint32_t si)
{
	t->subs[sub].stream = si;
	t->subs[sub].next_in_stream = t->streams[si].first_sub;
	t->streams[si].first_sub = sub;
	t->streams[si].n_subs++;
}

static uint32_t sub_of(const struct sl_tables *t, uint32_t ep, uint32_t si)
{
	for (uint32_t i = t->eps[ep].first_sub; i != SL_NONE; i = t->subs[i].next_in_ep)
		if (t->subs[i].stream == si)
			return i;
	return SL_NONE;
}

/* Re-point an existing subscription (same subscriber, same dst_ssrc). */
static int sub_repoint(struct sl_tables *t, uint32_t sub, uint32_t si)
{
	struct sl_sub *s = &t->subs[sub];
	uint32_t old = s->stream;

	if (old == si)
		return 0;
	if (sub_of(t, s->ep, si) != SL_NONE)
		return -EEXIST;
	stream_unlink_sub(t, old, sub);
	sub_link(t, sub, si);
	if (s->started)
		s->resync = true;
	if (t->streams[old].first_sub == SL_NONE)
		stream_free(t, old);
	return 0;
}

/*
 * May a NEW subscription of endpoint se use dst? Not if its outbound context
 * has ever used it (live or retired) or it is our RTCP SSRC: -EADDRINUSE.
 * Not if the retired record could not take every live subscription's SSRC
 * and this one's: -EDQUOT (the context would have to seal).
 */
static int dst_check(const struct sl_tables *t, uint32_t se, uint32_t dst)
{
	const struct sl_endpoint *e = &t->eps[se];
	unsigned n = 1;

	if (e->tx) {
		for (uint32_t i = e->first_sub; i != SL_NONE; i = t->subs[i].next_in_ep)
			n++;
		if (sl_srtp_retired_room(e->tx) < n)
			return -EDQUOT;
	}
	if (dst == e->fb_ssrc || sl_srtp_ssrc_used(e->tx, dst))
		return -EADDRINUSE;
	return 0;
}

int sl_tables_subscribe(struct sl_tables *t, const struct sl_ctl_sub *m)
{
	uint32_t se = sl_tables_ep_by_id(t, m->subscriber);
	uint32_t pe = sl_tables_ep_by_id(t, m->publisher);
	uint32_t si, sub;
	struct sl_sub *s;
	int rc;

	if (se == SL_NONE || pe == SL_NONE)
		return -ENOENT;
	if (t->eps[se].room != t->eps[pe].room || se == pe)
		return -EINVAL;
	sub = sl_tables_sub_by_dst(t, se, m->dst_ssrc);
	if (sub == SL_NONE) {
		rc = dst_check(t, se, m->dst_ssrc);
		if (rc)
			return rc;
	}
	si = stream_get(t, pe, m->src_ssrc, m->kind);
	if (si == SL_NONE)
		return sl_tables_stream_find(t, pe, m->src_ssrc) != SL_NONE ? -EINVAL : -ENOSPC;
	if (sub != SL_NONE)
		return sub_repoint(t, sub, si);
	if (sub_of(t, se, si) != SL_NONE)
		return -EEXIST;
	sub = t->free_sub;
	if (sub == SL_NONE) {
		if (t->streams[si].first_sub == SL_NONE)
			stream_free(t, si);
		return -ENOSPC;
	}
	s = &t->subs[sub];
	t->free_sub = s->next_in_ep;
	memset(s, 0, sizeof(*s));
	memset(&t->rtx[sub], 0, sizeof(t->rtx[sub]));
	s->ep = se;
	s->dst_ssrc = m->dst_ssrc;
	s->next_in_ep = t->eps[se].first_sub;
	t->eps[se].first_sub = sub;
	sub_link(t, sub, si);
	return 0;
}

int sl_tables_unsubscribe(struct sl_tables *t, const struct sl_ctl_sub *m)
{
	uint32_t se = sl_tables_ep_by_id(t, m->subscriber);
	uint32_t pe = sl_tables_ep_by_id(t, m->publisher);
	uint32_t si, sub;

	if (se == SL_NONE || pe == SL_NONE)
		return -ENOENT;
	si = sl_tables_stream_find(t, pe, m->src_ssrc);
	if (si == SL_NONE)
		return -ENOENT;
	sub = sub_of(t, se, si);
	if (sub == SL_NONE)
		return -ENOENT;
	sub_free(t, sub);
	if (t->streams[si].first_sub == SL_NONE)
		stream_free(t, si);
	return 0;
}

int sl_tables_mute(struct sl_tables *t, uint32_t slot, uint8_t kind, bool muted)
{
	struct sl_endpoint *e = &t->eps[slot];

	if (kind != SL_MEDIA_AUDIO && kind != SL_MEDIA_VIDEO)
		return -EINVAL;
	e->mute[kind] = muted;
	if (!muted)
		return 0;
	/* Nothing sent before the mute may be fetched again by a NACK. */
	for (uint32_t i = e->first_stream; i != SL_NONE; i = t->streams[i].next_in_ep)
		if (t->streams[i].kind == kind)
			history_drop(t, i);
	return 0;
}

static bool sent_get(const struct sl_sub *s, uint32_t ext)
{
	uint32_t b = ext % SL_SUB_SENT_BITS;

	return (s->sent[b / 64] >> (b % 64)) & 1;
}

static void sent_put(struct sl_sub *s, uint32_t ext, bool on)
{
	uint32_t b = ext % SL_SUB_SENT_BITS;
	uint64_t bit = (uint64_t)1 << (b % 64);

	if (on)
		s->sent[b / 64] |= bit;
	else
		s->sent[b / 64] &= ~bit;
}

/* A 16-bit out seq extended to the value nearest out_hi. */
static uint32_t out_extend(const struct sl_sub *s, uint16_t seq)
{
	int16_t d = (int16_t)(uint16_t)(seq - (uint16_t)s->out_hi);

	return s->out_hi + (uint32_t)(int32_t)d;
}

int sl_sub_map(struct sl_sub *s, uint16_t in_seq, uint32_t in_ts, uint16_t *out_seq,
	       uint32_t *out_ts)
{
	uint32_t ext;
	int32_t ahead;
	uint16_t seq;

	if (!s->started) {
		s->seq_delta = 0;
		s->ts_delta = 0;
		s->started = true;
		s->resync = false;
		s->last_out_seq = in_seq - 1;
		s->last_out_ts = in_ts;
		s->out_hi = (uint32_t)(uint16_t)(in_seq - 1);
		s->out_floor = s->out_hi;
		memset(s->sent, 0, sizeof(s->sent));
	} else if (s->resync) {
		/* New source: go on from where the subscriber's view stands;
		 * everything up to here belongs to the old mapping. */
		s->seq_delta = (uint16_t)(s->last_out_seq + 1 - in_seq);
		s->ts_delta = s->last_out_ts + 1 - in_ts;
		s->resync = false;
		s->out_floor = s->out_hi;
	}
	seq = (uint16_t)(in_seq + s->seq_delta);
	ext = out_extend(s, seq);
	ahead = (int32_t)(ext - s->out_hi);
	if ((int32_t)(ext - s->out_floor) <= 0 || ahead <= -(int32_t)SL_SUB_SENT_BITS ||
	    (ahead <= 0 && sent_get(s, ext)))
		return -EALREADY;
	if (ahead > 0) {
		if (ahead >= (int32_t)SL_SUB_SENT_BITS)
			memset(s->sent, 0, sizeof(s->sent));
		else
			for (uint32_t x = s->out_hi + 1; x != ext; x++)
				sent_put(s, x, false);
		s->out_hi = ext;
		s->last_out_seq = seq;
		s->last_out_ts = in_ts + s->ts_delta;
	}
	sent_put(s, ext, true);
	*out_seq = seq;
	*out_ts = in_ts + s->ts_delta;
	return 0;
}

uint16_t sl_sub_unmap_seq(const struct sl_sub *s, uint16_t out_seq)
{
	return (uint16_t)(out_seq - s->seq_delta);
}

int sl_sub_resend_seq(const struct sl_sub *s, uint16_t out_seq, uint16_t *in_seq)
{
	uint32_t ext;
	int32_t back;

	if (!s->started || s->resync) /* re-pointed: this mapping sent nothing yet */
		return -ENOENT;
	ext = out_extend(s, out_seq);
	back = (int32_t)(s->out_hi - ext);
	if (back < 0 || back >= (int32_t)SL_SUB_SENT_BITS || (int32_t)(ext - s->out_floor) <= 0 ||
	    !sent_get(s, ext))
		return -ENOENT;
	*in_seq = sl_sub_unmap_seq(s, out_seq);
	return 0;
}
