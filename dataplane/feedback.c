/*
 * feedback.c - what the dataplane does with a decrypted compound RTCP packet.
 *
 * RTCP from an endpoint says one of three things. As a publisher it sends
 * sender reports: each is rewritten into every subscriber's view (SSRC,
 * RTP timestamp, the subscriber's own packet and octet counts) and sent on,
 * at most one per stream per compound and per sr-interval. As a subscriber
 * it sends receiver reports (consumed here: the SFU terminates them), NACKs
 * (answered from the stream's history, the same rewritten packet protected
 * again, within the limits of police.c) and keyframe requests (PLI/FIR,
 * sent on to the publisher for the source SSRC, at most one per
 * pli-interval per stream, the PLI of a new subscription included). The
 * compound is validated whole before anything is acted on.
 */
#include <string.h>

#include <sluice/rtp.h>

#include "dp.h"

#define SL_NACK_MAX SL_NACK_PER_COMPOUND /* sequence numbers read per NACK packet */

static void forward_sr(struct sl_worker *w, uint32_t ep_slot, const uint8_t *p,
		       const struct sl_rtcp_pkt *pk)
{
	struct sl_rtcp_sr sr, out;
	uint8_t buf[64];
	uint32_t si;

	if (sl_rtcp_sr_read(p, pk, &sr) != 0)
		return;
	si = sl_tables_stream_find(w->t, ep_slot, sr.ssrc);
	if (si == SL_NONE || w->t->eps[ep_slot].mute[w->t->streams[si].kind])
		return;
	if (!sl_police_sr(w, &w->t->streams[si]))
		return;
	for (uint32_t s = w->t->streams[si].first_sub; s != SL_NONE;
	     s = w->t->subs[s].next_in_stream) {
		struct sl_sub *sub = &w->t->subs[s];
		size_t n;

		if (!sub->started || sub->resync)
			continue; /* nothing sent yet: no mapping to report */
		out = (struct sl_rtcp_sr){ .ssrc = sub->dst_ssrc,
					   .ntp = sr.ntp,
					   .rtp_ts = sr.rtp_ts + sub->ts_delta,
					   .packets = sub->packets,
					   .octets = sub->octets };
		n = sl_rtcp_build_sr(buf, sizeof(buf), &out);
		if (n)
			sl_forward_send_rtcp(w, sub->ep, buf, (uint16_t)n);
	}
}

/* Sequence numbers a NACK lists (PID + BLP bits per FCI), padding excluded. */
static unsigned nack_count(const uint8_t *p, const struct sl_rtcp_pkt *pk)
{
	const uint8_t *q = p + pk->off;
	size_t end = pk->len;
	unsigned n = 0;

	if (q[0] & 0x20) /* validated: 0 < pad <= payload */
		end -= q[end - 1];
	for (size_t i = 12; i + 4 <= end; i += 4)
		n += 1 + (unsigned)__builtin_popcount((unsigned)(q[i + 2] << 8 | q[i + 3]));
	return n;
}

static void answer_nack(struct sl_worker *w, uint32_t ep_slot, const uint8_t *p,
			const struct sl_rtcp_pkt *pk)
{
	uint32_t sub = sl_tables_sub_by_dst(w->t, ep_slot, pk->media_ssrc);
	uint16_t seqs[SL_NACK_MAX];
	unsigned n;

	if (sub == SL_NONE)
		return;
	n = sl_police_nack_take(w, nack_count(p, pk));
	n = sl_rtcp_nack_seqs(p, pk, seqs, RTE_MIN(n, (unsigned)SL_NACK_MAX));
	for (unsigned i = 0; i < n; i++) {
		struct sl_sub *s = &w->t->subs[sub];
		uint16_t in_seq;
		struct rte_mbuf *h;

		if (sl_sub_resend_seq(s, seqs[i], &in_seq) != 0) {
			SL_COUNT(w, drop_nack_unsent); /* not sent by this mapping */
			continue;
		}
		h = sl_history_get(w, s->stream, in_seq);
		if (!h) {
			SL_COUNT(w, drop_nack_miss);
			continue;
		}
		if (!sl_police_nack(w, sub, seqs[i]))
			continue;
		SL_COUNT(w, nack_retransmits);
		sl_forward_fanout(w, rte_pktmbuf_mtod(h, const uint8_t *), rte_pktmbuf_data_len(h),
				  &sub, 1, true);
	}
}

static void push_event(struct sl_worker *w, uint32_t ep_id, uint16_t type, uint32_t value,
		       uint32_t count)
{
	struct sl_event_msg ev = { .ep_id = ep_id, .type = type, .value = value, .count = count };

	if (rte_ring_sp_enqueue_elem(w->ev_ring, &ev, sizeof(ev)) != 0)
		SL_COUNT(w, drop_up_full);
}

/* A PLI to the publisher of stream si (a new subscriber needs a keyframe),
 * through the stream's one keyframe limiter: a keyframe already asked for
 * within pli-interval reaches the new subscriber too. */
static void send_pli(struct sl_worker *w, struct sl_stream *st)
{
	struct sl_endpoint *pub = &w->t->eps[st->ep];
	uint8_t buf[32];
	size_t n = sl_rtcp_build_pli(buf, sizeof(buf), pub->fb_ssrc, st->ssrc);

	if (!n)
		return;
	SL_COUNT(w, pli_forwarded);
	sl_forward_send_rtcp(w, st->ep, buf, (uint16_t)n);
}

void sl_feedback_request_keyframe(struct sl_worker *w, uint32_t si)
{
	struct sl_stream *st = &w->t->streams[si];

	if (sl_police_keyframe(w, st, rte_rdtsc())) {
		st->kf_pending = false;
		send_pli(w, st);
		return;
	}
	st->kf_pending = true;
	w->t->eps[st->ep].kf_pending = true;
}

void sl_feedback_keyframes_due(struct sl_worker *w, uint32_t ep_slot, uint64_t now)
{
	struct sl_endpoint *e = &w->t->eps[ep_slot];
	bool left = false;

	for (uint32_t si = e->first_stream; si != SL_NONE; si = w->t->streams[si].next_in_ep) {
		struct sl_stream *st = &w->t->streams[si];

		if (!st->kf_pending)
			continue;
		/* the stream's interval first: a refusal by it would count a drop */
		if (now - st->last_pli_tsc < w->pli_tsc || !sl_police_keyframe(w, st, now)) {
			left = true;
			continue;
		}
		st->kf_pending = false;
		send_pli(w, st);
	}
	e->kf_pending = left;
}

/* PLI (fmt 1) or FIR (fmt 4) from a subscriber: one PLI/FIR to the publisher. */
static void keyframe_request(struct sl_worker *w, uint32_t ep_slot, const uint8_t *p,
			     const struct sl_rtcp_pkt *pk)
{
	uint32_t media = pk->media_ssrc, sub;
	uint64_t now = rte_rdtsc();
	struct sl_endpoint *pub;
	struct sl_stream *st;
	uint8_t buf[32];
	size_t n;

	if (pk->fmt == 4) { /* FIR: the target SSRC is in the first FCI entry */
		if (pk->len < 20)
			return;
		memcpy(&media, p + pk->off + 12, 4);
		media = rte_be_to_cpu_32(media);
	}
	sub = sl_tables_sub_by_dst(w->t, ep_slot, media);
	if (sub == SL_NONE)
		return;
	st = &w->t->streams[w->t->subs[sub].stream];
	if (!sl_police_keyframe(w, st, now))
		return;
	pub = &w->t->eps[st->ep];
	if (pk->fmt == 4)
		n = sl_rtcp_build_fir(buf, sizeof(buf), pub->fb_ssrc, st->ssrc, pub->fir_seq++);
	else
		n = sl_rtcp_build_pli(buf, sizeof(buf), pub->fb_ssrc, st->ssrc);
	if (!n)
		return;
	SL_COUNT(w, pli_forwarded);
	sl_forward_send_rtcp(w, st->ep, buf, (uint16_t)n);
	push_event(w, pub->id, SL_EV_KEYFRAME_REQ, st->ssrc, 1);
}

void sl_feedback_handle(struct sl_worker *w, uint32_t ep_slot, const uint8_t *p, uint16_t len)
{
	struct sl_rtcp_iter it;
	struct sl_rtcp_pkt pk;

	if (sl_rtcp_validate(p, len) < 0) {
		SL_COUNT(w, drop_rtcp_malformed);
		return;
	}
	sl_police_compound(w);
	sl_rtcp_iter_init(&it, p, len);
	while (sl_rtcp_next(&it, &pk) == 1) {
		if (pk.type == SL_RTCP_SR)
			forward_sr(w, ep_slot, p, &pk);
		else if (pk.type == SL_RTCP_RTPFB && pk.fmt == 1)
			answer_nack(w, ep_slot, p, &pk);
		else if (pk.type == SL_RTCP_PSFB && (pk.fmt == 1 || pk.fmt == 4))
			keyframe_request(w, ep_slot, p, &pk);
		/* RR, SDES, BYE, REMB, transport-cc: terminated here. */
	}
}

void sl_feedback_event(struct sl_worker *w, uint32_t ep_id, uint16_t type, uint32_t value,
		       uint32_t count)
{
	push_event(w, ep_id, type, value, count);
}
