/*
 * history.c - the bounded per-stream packet history that answers NACKs.
 *
 * Each stream owns `history` slots (a power of two) indexed by sequence
 * number; a slot holds a copy of one decrypted RTP packet in an mbuf from
 * the worker's history pool, a pool separate from the receive pool so that
 * history can never starve reception. Storing over an occupied slot frees
 * the older packet first, so memory is fixed: at most max_streams * history
 * mbufs, and when the history pool runs dry the packet is simply not kept.
 * Only video streams keep history (audio is not retransmitted).
 */
#include <string.h>

#include "dp.h"

static struct rte_mbuf **slot_of(struct sl_worker *w, uint32_t stream, uint16_t seq)
{
	struct sl_tables *t = w->t;

	return &t->hist[(size_t)stream * t->history + (seq & (t->history - 1))];
}

void sl_history_store(struct sl_worker *w, uint32_t stream, const uint8_t *p, uint16_t len,
		      uint16_t seq)
{
	struct rte_mbuf **slot;
	struct rte_mbuf *m;
	char *dst;

	if (w->t->history == 0)
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

	if (w->t->history == 0)
		return NULL;
	m = *slot_of(w, stream, seq);
	if (!m || m->data_len < 12)
		return NULL;
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	if ((uint16_t)(p[2] << 8 | p[3]) != seq)
		return NULL;
	return m;
}
