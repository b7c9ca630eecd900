/*
 * forward.c - the media fast path: SRTP in, fan-out, SRTP out.
 *
 * A packet from a known endpoint's 5-tuple is authenticated and decrypted
 * in place first (nothing is read past the RTP header before that, and the
 * payload never: it may be end-to-end encrypted). The plaintext is then
 * copied once per subscriber into a fresh mbuf, its SSRC, sequence number
 * and timestamp rewritten into that subscriber's view, and the whole batch
 * protected through one burst call, so a multi-buffer crypto engine can
 * later take the batch as it is. Headers go in front last, from the
 * subscriber's prebuilt flow. What an endpoint sends is policed (police.c)
 * right after authentication, before history or fan-out. No allocation but mbufs from the pool, no
 * locks, no logging: overload shows up as counted drops.
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include <sluice/rtp.h>

#include "dp.h"

#define SL_MAX_HDR 66 /* Ethernet + VLAN + IPv6 + UDP */

static void count_srtp_error(struct sl_worker *w, uint8_t status, bool rtcp)
{
	switch (status) {
	case SL_SRTP_ERR_AUTH:
		SL_COUNT(w, drop_auth);
		break;
	case SL_SRTP_ERR_REPLAY:
		SL_COUNT(w, drop_replay);
		break;
	case SL_SRTP_ERR_LIMIT:
		SL_COUNT(w, drop_ssrc_limit);
		break;
	case SL_SRTP_ERR_FORMAT:
		if (rtcp)
			SL_COUNT(w, drop_rtcp_malformed);
		else
			SL_COUNT(w, drop_rtp_malformed);
		break;
	default:
		SL_COUNT(w, drop_srtp_other);
		break;
	}
}

/* Ask the NIC to finish the UDP checksum: pseudo-header sum in place. */
static void tx_csum_offload(struct rte_mbuf *m, const struct sl_net_flow *f, size_t hlen)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *,
					      SL_ETH_HLEN + (f->has_vlan ? SL_VLAN_HLEN : 0));
	size_t l3_len = f->family == 4 ? SL_IP4_HLEN : SL_IP6_HLEN;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(l3 + l3_len);

	m->l2_len = hlen - l3_len - SL_UDP_HLEN;
	m->l3_len = l3_len;
	if (f->family == 4) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
		udp->dgram_cksum = rte_ipv4_phdr_cksum((struct rte_ipv4_hdr *)l3, m->ol_flags);
	} else {
		m->ol_flags |= RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;
		udp->dgram_cksum = rte_ipv6_phdr_cksum((struct rte_ipv6_hdr *)l3, m->ol_flags);
	}
}

/* Put L2-L4 headers in front of a protected payload and queue it. */
static void emit(struct sl_worker *w, struct rte_mbuf *m, const struct sl_net_flow *f)
{
	size_t hlen = sl_net_hdr_len(f);
	uint16_t plen = rte_pktmbuf_data_len(m);
	uint8_t *hdr;

	if (plen + hlen - SL_ETH_HLEN - (f->has_vlan ? SL_VLAN_HLEN : 0) > w->mtu) {
		SL_COUNT(w, drop_oversize);
		rte_pktmbuf_free(m);
		return;
	}
	hdr = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)hlen);
	if (!hdr) {
		SL_COUNT(w, drop_no_mbuf);
		rte_pktmbuf_free(m);
		return;
	}
	sl_net_write_udp(hdr, f, plen, !w->tx_udp_csum_offload && f->family == 6);
	if (w->tx_udp_csum_offload)
		tx_csum_offload(m, f, hlen);
	sl_worker_tx(w, m);
}

/* Copy a plaintext packet into a fresh mbuf with room for headers and tag. */
static uint8_t *stage_copy(struct rte_mbuf *m, const uint8_t *p, uint16_t len)
{
	uint8_t *dst;

	if (rte_pktmbuf_headroom(m) < SL_MAX_HDR ||
	    rte_pktmbuf_tailroom(m) < (uint16_t)(len + SL_SRTCP_MAX_TRAILER))
		return NULL;
	dst = (uint8_t *)rte_pktmbuf_append(m, len);
	if (dst)
		memcpy(dst, p, len);
	return dst;
}

/* Protect a batch of staged packets and send the good ones. */
static void protect_and_emit(struct sl_worker *w, struct sl_srtp_op *ops, struct rte_mbuf **ms,
			     const struct sl_net_flow **flows, unsigned n, bool rtcp)
{
	if (rtcp)
		sl_srtcp_protect_burst(ops, n);
	else
		sl_srtp_protect_burst(ops, n);
	for (unsigned i = 0; i < n; i++) {
		if (ops[i].status != SL_SRTP_OK) {
			if (ops[i].status == SL_SRTP_ERR_LIMIT)
				SL_COUNT(w, drop_ssrc_limit);
			else if (ops[i].status == SL_SRTP_ERR_RETIRED)
				SL_COUNT(w, drop_index_reuse);
			else
				SL_COUNT(w, drop_protect);
			rte_pktmbuf_free(ms[i]);
			continue;
		}
		/* The tag went past data_len: account for it. */
		rte_pktmbuf_append(ms[i], (uint16_t)(ops[i].len - rte_pktmbuf_data_len(ms[i])));
		if (rtcp)
			SL_COUNT(w, rtcp_out);
		else
			SL_COUNT(w, rtp_out);
		emit(w, ms[i], flows[i]);
	}
}

static void fanout_batch(struct sl_worker *w, const uint8_t *p, uint16_t len,
			 const struct sl_rtp_info *ri, uint32_t *subs, unsigned n, bool retransmit)
{
	struct rte_mbuf *ms[SL_BURST];
	struct sl_srtp_op ops[SL_BURST];
	const struct sl_net_flow *flows[SL_BURST];
	unsigned k = 0;

	if (rte_pktmbuf_alloc_bulk(w->pool, ms, n) != 0) {
		w->cnt[SL_CNT_drop_no_mbuf] += n;
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		struct sl_sub *s = &w->t->subs[subs[i]];
		struct sl_endpoint *e = &w->t->eps[s->ep];
		uint8_t *q = stage_copy(ms[i], p, len);
		uint16_t seq;
		uint32_t ts;

		if (!q) {
			SL_COUNT(w, drop_oversize);
			rte_pktmbuf_free(ms[i]);
			continue;
		}
		if (retransmit) {
			seq = (uint16_t)(ri->seq + s->seq_delta);
			ts = ri->ts + s->ts_delta;
		} else {
			if (sl_sub_map(s, ri->seq, ri->ts, &seq, &ts) != 0) {
				/* its index may carry another packet already */
				SL_COUNT(w, drop_index_reuse);
				rte_pktmbuf_free(ms[i]);
				continue;
			}
			s->packets++;
			s->octets += len - ri->hdr_len;
		}
		sl_rtp_rewrite(q, s->dst_ssrc, seq, ts);
		ops[k] = (struct sl_srtp_op){ .ctx = e->tx,
					      .buf = q,
					      .len = len,
					      .cap = (uint16_t)(len + SL_SRTCP_MAX_TRAILER) };
		flows[k] = &e->flow;
		ms[k++] = ms[i];
	}
	protect_and_emit(w, ops, ms, flows, k, false);
}

void sl_forward_fanout(struct sl_worker *w, const uint8_t *p, uint16_t len, uint32_t *subs,
		       unsigned n, bool retransmit)
{
	struct sl_rtp_info ri;

	if (sl_rtp_parse(p, len, &ri) != 0)
		return;
	for (unsigned i = 0; i < n; i += SL_BURST)
		fanout_batch(w, p, len, &ri, subs + i, RTE_MIN(n - i, (unsigned)SL_BURST),
			     retransmit);
}

void sl_forward_send_rtcp(struct sl_worker *w, uint32_t ep_slot, const uint8_t *p, uint16_t len)
{
	struct sl_endpoint *e = &w->t->eps[ep_slot];
	const struct sl_net_flow *flow = &e->flow;
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	struct sl_srtp_op op;
	uint8_t *q;

	if (!m) {
		SL_COUNT(w, drop_no_mbuf);
		return;
	}
	q = stage_copy(m, p, len);
	if (!q) {
		SL_COUNT(w, drop_oversize);
		rte_pktmbuf_free(m);
		return;
	}
	op = (struct sl_srtp_op){
		.ctx = e->tx, .buf = q, .len = len, .cap = (uint16_t)(len + SL_SRTCP_MAX_TRAILER)
	};
	protect_and_emit(w, &op, &m, &flow, 1, true);
}

static void audio_level(struct sl_endpoint *e, const uint8_t *p, const struct sl_rtp_info *ri)
{
	bool voice;
	uint8_t level;

	if (!e->audio_level_ext || ri->ext_profile == 0)
		return;
	if (sl_rtp_audio_level(p, ri, e->audio_level_ext, &voice, &level) != 0 || !voice)
		return;
	e->level_count++;
	if (level < e->level_min)
		e->level_min = level;
}

static bool unprotect(struct sl_worker *w, struct sl_endpoint *e, uint8_t *p, uint16_t *len,
		      bool rtcp)
{
	struct sl_srtp_op op = { .ctx = e->rx, .buf = p, .len = *len, .cap = *len };

	if (rtcp)
		sl_srtcp_unprotect_burst(&op, 1);
	else
		sl_srtp_unprotect_burst(&op, 1);
	if (op.status != SL_SRTP_OK) {
		count_srtp_error(w, op.status, rtcp);
		return false;
	}
	*len = op.len;
	e->last_rx_tsc = rte_rdtsc();
	e->timeout_sent = false;
	return true;
}

void sl_forward_rtp(struct sl_worker *w, struct rte_mbuf *m, uint32_t ep_slot, uint16_t off,
		    uint16_t len)
{
	struct sl_endpoint *e = &w->t->eps[ep_slot];
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
	uint32_t subs[SL_MAX_FANOUT];
	struct sl_rtp_info ri;
	struct sl_stream *st;
	unsigned n = 0;
	uint32_t si;

	if (sl_rtp_parse(p, len, &ri) != 0) {
		SL_COUNT(w, drop_rtp_malformed);
		goto free_pkt;
	}
	if (!unprotect(w, e, p, &len, false) || !sl_police_ingress(w, e, len, e->last_rx_tsc))
		goto free_pkt;
	SL_COUNT(w, rtp_in);
	audio_level(e, p, &ri);
	si = sl_tables_stream_find(w->t, ep_slot, ri.ssrc);
	if (si == SL_NONE) {
		SL_COUNT(w, drop_no_route);
		goto free_pkt;
	}
	st = &w->t->streams[si];
	if (e->mute[st->kind]) {
		SL_COUNT(w, drop_muted);
		goto free_pkt;
	}
	sl_police_stream_rx(w, st, e->last_rx_tsc);
	if (st->kind == SL_MEDIA_VIDEO)
		sl_history_store(w, si, p, len, ri.seq);
	for (uint32_t s = st->first_sub; s != SL_NONE; s = w->t->subs[s].next_in_stream) {
		if (n == SL_MAX_FANOUT) { /* more receivers than one packet serves */
			SL_COUNT(w, drop_fanout_limit);
			continue;
		}
		subs[n++] = s;
	}
	sl_forward_fanout(w, p, len, subs, n, false);
free_pkt:
	rte_pktmbuf_free(m);
}

void sl_forward_rtcp(struct sl_worker *w, struct rte_mbuf *m, uint32_t ep_slot, uint16_t off,
		     uint16_t len)
{
	struct sl_endpoint *e = &w->t->eps[ep_slot];
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, off);

	if (len < 8) {
		SL_COUNT(w, drop_rtcp_malformed);
		goto free_pkt;
	}
	if (!unprotect(w, e, p, &len, true) || !sl_police_ingress(w, e, len, e->last_rx_tsc))
		goto free_pkt;
	SL_COUNT(w, rtcp_in);
	sl_feedback_handle(w, ep_slot, p, len);
free_pkt:
	rte_pktmbuf_free(m);
}
