/*
 * worker_cmd.c - a worker applying one command from the main lcore.
 *
 * Commands arrive fully prepared: SRTP contexts already created (and the
 * master keys already wiped) by the main lcore, PKT_DOWN frames already
 * built. The worker only links and unlinks table slots, so applying a
 * command costs a few hash operations and never allocates; whatever it
 * detaches (old contexts) travels back in the command for main to free.
 */
#include <errno.h>

#include <rte_cycles.h>

#include "dp.h"

static void ep_add(struct sl_worker *w, struct sl_cmd *c)
{
	struct sl_endpoint *e;

	c->status = sl_tables_ep_add(w->t, &c->u.ep.m, c->u.ep.rx, c->u.ep.tx, w->local);
	if (c->status != 0) {
		c->freed_rx = c->u.ep.rx;
		c->freed_tx = c->u.ep.tx;
		return;
	}
	e = &w->t->eps[sl_tables_ep_by_id(w->t, c->u.ep.m.ep_id)];
	e->last_rx_tsc = e->alive_rx_tsc = rte_rdtsc(); /* no media yet: not alive */
	e->alive_sent_tsc = 0;
}

static void ep_update(struct sl_worker *w, struct sl_cmd *c)
{
	const struct sl_ctl_ep *m = &c->u.ep.m;
	uint32_t slot = sl_tables_ep_by_id(w->t, m->ep_id);
	struct sl_endpoint *e;

	c->freed_rx = c->u.ep.rx; /* unless taken below */
	c->freed_tx = c->u.ep.tx;
	if (slot == SL_NONE) {
		c->status = -ENOENT;
		return;
	}
	e = &w->t->eps[slot];
	if (m->flags & SL_EP_UPD_ADDR) {
		c->status = sl_tables_ep_set_addr(w->t, slot, &m->addr, w->local);
		if (c->status != 0)
			return;
	}
	if (m->flags & SL_EP_UPD_KEYS) {
		c->freed_rx = e->rx;
		c->freed_tx = e->tx;
		e->rx = c->u.ep.rx;
		e->tx = c->u.ep.tx;
		e->profile = m->profile;
	}
	if (m->flags & SL_EP_UPD_EXT)
		e->audio_level_ext = m->audio_level_ext;
	c->status = 0;
}

static void ep_remove(struct sl_worker *w, struct sl_cmd *c)
{
	uint32_t slot = sl_tables_ep_by_id(w->t, c->u.ref.ep_id);

	if (slot == SL_NONE) {
		c->status = -ENOENT;
		return;
	}
	c->status = sl_tables_ep_remove(w->t, slot, &c->freed_rx, &c->freed_tx);
}

static void mute(struct sl_worker *w, struct sl_cmd *c)
{
	uint32_t slot = sl_tables_ep_by_id(w->t, c->u.mute.ep_id);

	if (slot == SL_NONE) {
		c->status = -ENOENT;
		return;
	}
	c->status = sl_tables_mute(w->t, slot, c->u.mute.kind, c->u.mute.muted);
}

/* A fresh or re-pointed video subscription starts at the next keyframe:
 * ask the publisher for one now rather than whenever it sends one. */
static void keyframe_for_new_sub(struct sl_worker *w, const struct sl_ctl_sub *m)
{
	uint32_t pe = sl_tables_ep_by_id(w->t, m->publisher);
	uint32_t si = pe == SL_NONE ? SL_NONE : sl_tables_stream_find(w->t, pe, m->src_ssrc);

	if (si != SL_NONE)
		sl_feedback_request_keyframe(w, si);
}

void sl_worker_apply_cmd(struct sl_worker *w, struct sl_cmd *c)
{
	switch (c->type) {
	case SL_CTL_EP_ADD:
		ep_add(w, c);
		break;
	case SL_CTL_EP_UPDATE:
		ep_update(w, c);
		break;
	case SL_CTL_EP_REMOVE:
		ep_remove(w, c);
		break;
	case SL_CTL_SUBSCRIBE:
		c->status = sl_tables_subscribe(w->t, &c->u.sub);
		if (c->status == 0 && c->u.sub.kind == SL_MEDIA_VIDEO)
			keyframe_for_new_sub(w, &c->u.sub);
		break;
	case SL_CTL_UNSUBSCRIBE:
		c->status = sl_tables_unsubscribe(w->t, &c->u.sub);
		break;
	case SL_CTL_MUTE:
		mute(w, c);
		break;
	case SL_CTL_ROOM_REMOVE: /* main queued the removals before this marker */
		c->status = 0;
		break;
	case SL_CTL_PKT_DOWN:
		SL_COUNT(w, pkt_down);
		sl_worker_tx(w, c->u.pkt);
		c->u.pkt = NULL;
		c->status = 0;
		break;
	default:
		c->status = -ENOTSUP;
		break;
	}
}
