/*
 * police.c - the limits that keep a participant from making the SFU send
 * (or do) much more than it sends itself.
 *
 * Everything here is a token bucket kept as one word, the theoretical
 * arrival time of GCRA in TSC ticks: a unit costing T ticks conforms when
 * the bucket's time is at most `burst` ticks ahead of now, and then moves
 * it T further. No allocation, no division on the fast path, only the
 * worker's own tables. The limits:
 *
 * - ingress, per endpoint: packets per second and bits per second of
 *   authenticated RTP and RTCP; a packet over either cap is dropped before
 *   anything (history, fan-out, feedback) sees it;
 * - NACK, per subscription: at most SL_NACK_PER_COMPOUND sequence numbers
 *   are looked at per RTCP compound, a number retransmitted to the same
 *   subscription within --nack-rtt-ms is not sent again, and the
 *   retransmissions themselves draw on a budget of --nack-percent of the
 *   stream's measured packet rate with a --nack-burst allowance;
 * - SR, per stream: one per compound and per --sr-interval;
 * - keyframe requests, per stream: one limiter (--pli-interval) for the PLI
 *   sent on a new subscription and for subscribers' PLI/FIR; and per
 *   publisher SL_KEYFRAMES_PER_EP per interval over all its streams, which
 *   survives the stream slot (unsubscribing the last subscriber frees it,
 *   so subscribe/unsubscribe churn would otherwise start afresh each time).
 * Whatever is refused is counted, by reason.
 */
#include <rte_cycles.h>

#include "dp.h"

void sl_police_init(struct sl_worker *w, const struct sl_dp_config *cfg)
{
	uint64_t hz = w->hz;

	w->pol.pkt_tsc = cfg->ingress_pps ? hz / cfg->ingress_pps : 0;
	w->pol.byte_fp = cfg->ingress_kbps ? (hz << 16) / ((uint64_t)cfg->ingress_kbps * 125) : 0;
	w->pol.burst_tsc = hz * cfg->ingress_burst_ms / 1000;
	w->pol.rtt_ms = cfg->nack_rtt_ms;
	w->pol.ms_tsc = hz / 1000 ? hz / 1000 : 1;
	w->pol.sr_tsc = hz * cfg->sr_interval_ms / 1000;
	w->pol.nack_percent = cfg->nack_percent;
	w->pol.nack_burst = cfg->nack_burst;
}

bool sl_police_ingress(struct sl_worker *w, struct sl_endpoint *e, uint16_t len, uint64_t now)
{
	uint64_t pkts = e->in_pkts.tat, bytes = e->in_bytes.tat;

	if ((!w->pol.pkt_tsc || sl_tb_take(&e->in_pkts, now, w->pol.pkt_tsc, w->pol.burst_tsc)) &&
	    (!w->pol.byte_fp ||
	     sl_tb_take(&e->in_bytes, now, (len * w->pol.byte_fp) >> 16, w->pol.burst_tsc)))
		return true;
	e->in_pkts.tat = pkts; /* a refused packet costs nothing */
	e->in_bytes.tat = bytes;
	SL_COUNT(w, drop_ingress_limit);
	return false;
}

void sl_police_stream_rx(struct sl_worker *w, struct sl_stream *st, uint64_t now)
{
	st->win_pkts++;
	if (now - st->win_tsc < w->hz)
		return;
	if (st->win_tsc) { /* once a second per stream: the divisions */
		uint64_t r;

		st->rate_pps = (uint32_t)((uint64_t)st->win_pkts * w->hz / (now - st->win_tsc));
		r = (uint64_t)st->rate_pps * w->pol.nack_percent;
		st->nack_tsc = r ? w->hz * 100 / r : 0;
	}
	st->win_tsc = now;
	st->win_pkts = 0;
}

void sl_police_compound(struct sl_worker *w)
{
	w->pol.now = rte_rdtsc();
	w->pol.now_ms = (uint32_t)(w->pol.now / w->pol.ms_tsc);
	w->pol.nack_left = SL_NACK_PER_COMPOUND;
}

unsigned sl_police_nack_take(struct sl_worker *w, unsigned n)
{
	unsigned take = n < w->pol.nack_left ? n : w->pol.nack_left;

	w->pol.nack_left -= take;
	w->cnt[SL_CNT_drop_nack_limit] += n - take;
	return take;
}

static bool rtx_recent(const struct sl_rtx_ring *r, uint16_t seq, uint32_t now_ms, uint64_t window)
{
	for (unsigned i = 0; i < r->n; i++)
		if (r->seq[i] == seq && now_ms - r->ms[i] < window)
			return true;
	return false;
}

bool sl_police_nack(struct sl_worker *w, uint32_t sub, uint16_t seq)
{
	struct sl_sub *s = &w->t->subs[sub];
	struct sl_rtx_ring *r = &w->t->rtx[sub];
	uint64_t cost = w->t->streams[s->stream].nack_tsc;

	if (!cost) /* no rate measured yet: the burst, then one a second */
		cost = w->hz;

	if (rtx_recent(r, seq, w->pol.now_ms, w->pol.rtt_ms)) {
		SL_COUNT(w, drop_nack_dup);
		return false;
	}
	if (!sl_tb_take(&s->nack, w->pol.now, cost, cost * (w->pol.nack_burst - 1))) {
		SL_COUNT(w, drop_nack_limit);
		return false;
	}
	r->seq[r->head] = seq;
	r->ms[r->head] = w->pol.now_ms;
	r->head = (uint8_t)((r->head + 1) % SL_RTX_RING);
	if (r->n < SL_RTX_RING)
		r->n++;
	return true;
}

bool sl_police_sr(struct sl_worker *w, struct sl_stream *st)
{
	/* now is read once per compound: a second SR in it always finds
	 * now - last == 0 and is refused, whatever the interval. */
	if (st->last_sr_tsc && w->pol.now - st->last_sr_tsc <= w->pol.sr_tsc) {
		SL_COUNT(w, drop_sr_limit);
		return false;
	}
	st->last_sr_tsc = w->pol.now;
	return true;
}

bool sl_police_keyframe(struct sl_worker *w, struct sl_stream *st, uint64_t now)
{
	struct sl_endpoint *pub = &w->t->eps[st->ep];
	uint64_t cost = w->pli_tsc / SL_KEYFRAMES_PER_EP;

	if ((st->last_pli_tsc && now - st->last_pli_tsc < w->pli_tsc) ||
	    !sl_tb_take(&pub->keyframes, now, cost, cost * (SL_KEYFRAMES_PER_EP - 1))) {
		SL_COUNT(w, drop_pli_ratelimit);
		return false;
	}
	st->last_pli_tsc = now;
	return true;
}
