/*
 * history.c - the bounded per-stream packet history that answers NACKs.
 *
 * Each stream owns `history` slots (a power of two) indexed by sequence
 * number; a slot holds a copy of one decrypted RTP packet in an mbuf from
 * the worker's own history pool, a pool separate from the receive pool so
 * that history can never starve reception. Storing over an occupied slot
 * reuses its mbuf. Only video streams keep history (audio is not
 * retransmitted), and they share the pool fairly: each may use only the
 * first hist_depth of its slots, the largest power of two up to `history`
 * with n_video * hist_depth <= pool size. So the pool never runs dry, and
 * many publishers in one room shorten every stream's history instead of
 * taking it from the streams of other rooms. When a stream comes, the
 * others give back what lies past the new depth at once.
 */
#include <string.h>

#include "dp.h"

static struct rte_mbuf **slot_of(struct sl_worker *w, uint32_t stream, uint16_t seq)
{
	struct sl_tables *t = w->t;

	return &t->hist[(size_t)stream * t->history + (seq & (t->hist_depth - 1))];
}

void sl_history_store(struct sl_worker *w, uint32_t stream, const uint8_t *p, uint16_t len,
		      uint16_t seq)
{
	struct rte_mbuf **slot;
	struct rte_mbuf *m;
	char *dst;

	if (w->t->hist_depth == 0)
		return;
	slot = slot_of(w, stream, seq);
	m = *slot;
	if (m) {
		rte_pktmbuf_reset(m);
	} else {
		m = rte_pktmbuf_alloc(w->hist_pool);
		if (!m)
			return;
	}
	dst = rte_pktmbuf_append(m, len);
	if (!dst) {
		rte_pktmbuf_free(m);
		*slot = NULL;
		return;
	}
	memcpy(dst, p, len);
	*slot = m;
}

struct rte_mbuf *sl_history_get(struct sl_worker *w, uint32_t stream, uint16_t seq)
{
	struct rte_mbuf *m;
	const uint8_t *p;

	if (w->t->hist_depth == 0)
		return NULL;
	m = *slot_of(w, stream, seq);
	if (!m || m->data_len < 12)
		return NULL;
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	if ((uint16_t)(p[2] << 8 | p[3]) != seq)
		return NULL;
	return m;
}

static uint32_t pow2_floor(uint32_t x)
{
	return x ? 1u << (31 - __builtin_clz(x)) : 0;
}

void sl_history_rebalance(struct sl_tables *t)
{
	uint32_t d = t->history;

	if (d && t->n_video && t->hist_mbufs / t->n_video < d)
		d = pow2_floor(t->hist_mbufs / t->n_video);
	if (d < t->hist_depth) {
		for (uint32_t si = 0; si < t->max_streams; si++) {
			struct rte_mbuf **h = &t->hist[(size_t)si * t->history];

			if (t->streams[si].ep == SL_NONE || t->streams[si].kind != SL_MEDIA_VIDEO)
				continue;
			for (uint32_t i = d; i < t->hist_depth; i++) {
				rte_pktmbuf_free(h[i]);
				h[i] = NULL;
			}
		}
	}
	t->hist_depth = d;
}
