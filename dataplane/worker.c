/*
 * worker.c - one worker lcore: rx_burst -> stages -> tx flush, forever.
 *
 * Shaped like DPDK's l3fwd: a burst of up to 32 frames is received and each
 * goes through parse -> classify -> act; answers and forwarded packets are
 * buffered and flushed once per loop turn. Between bursts the worker takes
 * packets other workers handed off to it (no rte_flow on the port), applies
 * a few commands from the main lcore, and every millisecond or so runs its
 * timers (audio-level reports, liveness). No locks, no allocation but mbufs,
 * no syscalls, no logging above debug. Each turn's TSC ticks are added to
 * loop_tsc, and to busy_tsc when it received a packet: busy_tsc / loop_tsc
 * is how loaded the poll-mode core really is (it spins at 100% CPU either way).
 */
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_jhash.h>
#include <rte_prefetch.h>

#include <sluice/rtp.h>

#include "dp.h"

#define SL_CMDS_PER_TURN 8

volatile bool sl_quit;

/*
 * Is the port usable? Main sets port_down when it sees the link go down;
 * for PMDs that unmap their rings the moment the peer goes (net_memif,
 * which crashes in tx_burst afterwards) the worker also asks the PMD itself
 * before each burst, which for those costs a few loads.
 */
static bool port_usable(const struct sl_worker *w)
{
	struct rte_eth_link l;

	if (w->port_down)
		return false;
	if (!w->link_check)
		return true;
	return rte_eth_link_get_nowait(w->port, &l) == 0 && l.link_status == RTE_ETH_LINK_UP;
}

/*
 * net_memif unmaps the shared rings from its interrupt thread when the peer
 * goes, without waiting for a burst that is copying into them (it sets the
 * link down first, then unmaps some microseconds later). Checking the link
 * before each burst closes most of that window; a worker preempted in the
 * middle of a burst can still fault. For such ports (link_check) bursts are
 * guarded: a SIGSEGV inside one, while the link is down, jumps back out of
 * the PMD and the burst counts as lost (its mbufs leak, at most a burst: the
 * PMD may have freed some of them). Any other fault still kills the
 * process. Bursts stay full-sized: capping them at 8 packets cost 18% of
 * egress in bench/run dataplane and was not needed (50 of 50 disconnects
 * survived with full bursts).
 */

static __thread sigjmp_buf *burst_guard;
static __thread uint16_t guard_port;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	sigjmp_buf *g = burst_guard;
	struct rte_eth_link l;

	(void)si;
	(void)uc;
	if (g && rte_eth_link_get_nowait(guard_port, &l) == 0 &&
	    l.link_status == RTE_ETH_LINK_DOWN) {
		burst_guard = NULL;
		siglongjmp(*g, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void sl_worker_guard_install(void)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_NODEFER };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* rx or tx burst; on a port whose rings may vanish, short and guarded.
 * Returns -1 when the rings vanished under it. */
static int burst(struct sl_worker *w, bool tx, struct rte_mbuf **p, uint16_t n)
{
	sigjmp_buf env;
	int got;

	if (!w->link_check)
		return tx ? rte_eth_tx_burst(w->port, w->queue, p, n)
			  : rte_eth_rx_burst(w->port, w->queue, p, n);
	if (sigsetjmp(env, 0)) {
		w->cnt[SL_CNT_link_fault_recovered]++;
		return -1;
	}
	guard_port = w->port;
	burst_guard = &env;
	got = tx ? rte_eth_tx_burst(w->port, w->queue, p, n)
		 : rte_eth_rx_burst(w->port, w->queue, p, n);
	burst_guard = NULL;
	return got;
}

void sl_worker_tx_flush(struct sl_worker *w)
{
	uint16_t sent = 0;

	while (sent < w->tx_n) {
		int n;

		if (!port_usable(w))
			break;
		n = burst(w, true, w->tx + sent, (uint16_t)(w->tx_n - sent));
		if (n < 0) { /* rings gone mid-burst: leak the rest rather than double-free */
			w->tx_n = 0;
			return;
		}
		if (n == 0)
			break;
		for (int i = sent; i < sent + n; i++)
			w->cnt[SL_CNT_tx_bytes] += rte_pktmbuf_pkt_len(w->tx[i]);
		sent = (uint16_t)(sent + n);
	}
	w->cnt[SL_CNT_tx_packets] += sent;
	if (sent < w->tx_n) {
		if (port_usable(w))
			w->cnt[SL_CNT_drop_tx_full] += w->tx_n - sent;
		else
			w->cnt[SL_CNT_drop_link_down] += w->tx_n - sent;
		rte_pktmbuf_free_bulk(w->tx + sent, w->tx_n - sent);
	}
	w->tx_n = 0;
}

void sl_worker_tx(struct sl_worker *w, struct rte_mbuf *m)
{
	if (w->tx_n == RTE_DIM(w->tx))
		sl_worker_tx_flush(w);
	w->tx[w->tx_n++] = m;
}

static unsigned rx_flags_of(const struct sl_worker *w, const struct rte_mbuf *m)
{
	unsigned f = 0;

	if ((w->rx_flags & SL_NET_CSUM_IP_OK) &&
	    (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
		f |= SL_NET_CSUM_IP_OK;
	if ((w->rx_flags & SL_NET_CSUM_L4_OK) &&
	    (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		f |= SL_NET_CSUM_L4_OK;
	return f;
}

static void addr_from_info(struct sl_ctl_addr *a, const struct sl_net_info *ni)
{
	memset(a, 0, sizeof(*a));
	a->family = ni->ip_version;
	a->has_vlan = ni->has_vlan;
	a->vlan_tci = ni->has_vlan ? ni->vlan_tci : 0;
	memcpy(a->peer_mac, ni->src_mac, 6);
	a->remote_port = ni->src_port;
	a->local_port = ni->dst_port;
	memcpy(a->remote_ip, ni->src_ip, ni->ip_version == 4 ? 4 : 16);
	memcpy(a->local_ip, ni->dst_ip, ni->ip_version == 4 ? 4 : 16);
}

/* Hand a packet to the main lcore for the control plane. Consumes m. */
static void send_up_ring(struct sl_worker *w, struct rte_mbuf *m, const struct sl_net_info *ni,
			 uint8_t kind, struct rte_ring *r)
{
	struct sl_mbuf_meta *meta = rte_mbuf_to_priv(m);

	if (ni->payload_len > SL_CTL_MAX_PKT) {
		SL_COUNT(w, drop_oversize);
		rte_pktmbuf_free(m);
		return;
	}
	addr_from_info(&meta->addr, ni);
	meta->payload_off = ni->payload_off;
	meta->payload_len = ni->payload_len;
	meta->kind = kind;
	if (rte_ring_sp_enqueue(r, m) != 0) {
		SL_COUNT(w, drop_up_full);
		rte_pktmbuf_free(m);
		return;
	}
	if (kind == SL_PKT_STUN)
		SL_COUNT(w, stun_up);
	else if (kind == SL_PKT_DTLS)
		SL_COUNT(w, dtls_up);
	else
		SL_COUNT(w, unknown_up);
}

static void send_up(struct sl_worker *w, struct rte_mbuf *m, const struct sl_net_info *ni,
		    uint8_t kind)
{
	send_up_ring(w, m, ni, kind, w->up_ring);
}

/*
 * STUN/DTLS: from an installed endpoint's 5-tuple through its own bucket
 * and the priority ring; from anything else through the source's and the
 * worker's buckets. A flood from other tuples cannot reach the priority ring.
 */
static void control_up(struct sl_worker *w, struct rte_mbuf *m, const struct sl_net_info *ni,
		       uint8_t kind)
{
	uint64_t now = rte_rdtsc();
	struct sl_ctl_addr a;
	struct sl_tuple_key k;
	uint32_t slot, h;

	addr_from_info(&a, ni);
	sl_tuple_key_from_addr(&k, &a);
	slot = sl_tables_ep_by_tuple(w->t, &k);
	if (slot != SL_NONE) {
		if (!sl_tb_take_rate(&w->t->eps[slot].up, now, w->hz, SL_UP_EP_PER_SEC,
				     SL_UP_EP_BURST))
			goto refuse;
		send_up_ring(w, m, ni, kind, w->up_prio_ring);
		return;
	}
	h = rte_jhash(ni->src_ip, ni->ip_version == 4 ? 4 : 16, w->up_src_seed) &
	    (SL_UP_SRC_SLOTS - 1);
	if (!sl_tb_take_rate(&w->up_src[h], now, w->hz, SL_UP_SRC_PER_SEC, SL_UP_SRC_BURST) ||
	    !sl_tb_take_rate(&w->up_unval, now, w->hz, SL_UP_UNVAL_PER_SEC, SL_UP_UNVAL_BURST))
		goto refuse;
	send_up(w, m, ni, kind);
	return;
refuse:
	SL_COUNT(w, drop_up_ratelimit);
	rte_pktmbuf_free(m);
}

/* RTP/RTCP from no endpoint: counted, a few per second go up, no state. */
static void unknown_source(struct sl_worker *w, struct rte_mbuf *m, const struct sl_net_info *ni)
{
	uint64_t now = rte_rdtsc();

	SL_COUNT(w, drop_unknown_source);
	if (now - w->up_tokens_tsc > w->hz) {
		w->up_tokens_tsc = now;
		w->up_tokens = SL_UP_PER_SEC;
	}
	if (w->up_tokens == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	w->up_tokens--;
	send_up(w, m, ni, SL_PKT_UNKNOWN);
}

static void handoff(struct sl_worker *w, struct rte_mbuf *m, unsigned target)
{
	if (rte_ring_mp_enqueue(w->all[target]->handoff_ring, m) != 0) {
		SL_COUNT(w, drop_handoff_full);
		rte_pktmbuf_free(m);
		return;
	}
	SL_COUNT(w, handoff);
}

static void media(struct sl_worker *w, struct rte_mbuf *m, const struct sl_net_info *ni, bool rtcp)
{
	size_t l3 = ni->ip_version == 4 ? SL_IP4_HLEN : SL_IP6_HLEN;
	struct sl_ctl_addr a;
	struct sl_tuple_key k;
	uint32_t slot;

	if (ni->payload_len + l3 + SL_UDP_HLEN > w->mtu) {
		SL_COUNT(w, drop_oversize);
		rte_pktmbuf_free(m);
		return;
	}
	addr_from_info(&a, ni);
	sl_tuple_key_from_addr(&k, &a);
	slot = sl_tables_ep_by_tuple(w->t, &k);
	if (slot == SL_NONE) {
		unknown_source(w, m, ni);
		return;
	}
	if (rtcp)
		sl_forward_rtcp(w, m, slot, ni->payload_off, ni->payload_len);
	else
		sl_forward_rtp(w, m, slot, ni->payload_off, ni->payload_len);
}

static void udp(struct sl_worker *w, struct rte_mbuf *m, const struct sl_net_info *ni)
{
	uint16_t port = rte_be_to_cpu_16(ni->dst_port);
	const uint8_t *pl = rte_pktmbuf_mtod_offset(m, const uint8_t *, ni->payload_off);

	if (port < w->base_port || (unsigned)(port - w->base_port) >= w->n_workers) {
		SL_COUNT(w, drop_bad_port);
		rte_pktmbuf_free(m);
		return;
	}
	if ((unsigned)(port - w->base_port) != w->id) {
		handoff(w, m, port - w->base_port);
		return;
	}
	switch (sl_demux(pl, ni->payload_len)) {
	case SL_DEMUX_STUN:
		control_up(w, m, ni, SL_PKT_STUN);
		break;
	case SL_DEMUX_DTLS:
		control_up(w, m, ni, SL_PKT_DTLS);
		break;
	case SL_DEMUX_RTP:
		media(w, m, ni, false);
		break;
	case SL_DEMUX_RTCP:
		media(w, m, ni, true);
		break;
	default:
		SL_COUNT(w, drop_demux);
		rte_pktmbuf_free(m);
		break;
	}
}

static const uint8_t verdict_counter[] = {
	[SL_NET_DROP_RUNT] = SL_CNT_drop_runt,
	[SL_NET_DROP_L2] = SL_CNT_drop_l2,
	[SL_NET_DROP_L3] = SL_CNT_drop_l3,
	[SL_NET_DROP_L4] = SL_CNT_drop_l4,
	[SL_NET_DROP_CHECKSUM] = SL_CNT_drop_checksum,
	[SL_NET_DROP_NOT_FOR_US] = SL_CNT_drop_not_for_us,
};

/* ARP, NDP and echo: rewritten in place and sent straight back. */
static void respond(struct sl_worker *w, struct rte_mbuf *m, const struct sl_net_info *ni)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	size_t len = rte_pktmbuf_data_len(m), n = 0;
	enum sl_counter c = SL_CNT_drop_not_for_us;

	switch (ni->kind) {
	case SL_NET_ARP:
		n = sl_net_arp_reply(f, len, len, ni, w->local);
		c = SL_CNT_arp_replies;
		break;
	case SL_NET_ICMP4_ECHO:
		n = sl_net_icmp4_echo_reply(f, len, len, ni, w->local);
		c = SL_CNT_icmp_echo_replies;
		break;
	case SL_NET_ICMP6_ECHO:
		n = sl_net_icmp6_echo_reply(f, len, len, ni, w->local);
		c = SL_CNT_icmp_echo_replies;
		break;
	case SL_NET_NDP_NS:
		n = sl_net_ndp_na(f, len, len, ni, w->local);
		c = SL_CNT_ndp_replies;
		break;
	default: /* ARP replies: we keep no neighbour table (see ctl.h) */
		break;
	}
	if (n == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	rte_pktmbuf_trim(m, (uint16_t)(len - n));
	m->ol_flags = 0;
	w->cnt[c]++;
	sl_worker_tx(w, m);
}

static void process(struct sl_worker *w, struct rte_mbuf *m)
{
	struct sl_net_info ni;
	enum sl_net_verdict v;

	w->cnt[SL_CNT_rx_packets]++;
	w->cnt[SL_CNT_rx_bytes] += rte_pktmbuf_pkt_len(m);
	if (m->nb_segs != 1) {
		SL_COUNT(w, drop_oversize);
		rte_pktmbuf_free(m);
		return;
	}
	v = sl_net_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), w->local,
			 rx_flags_of(w, m), &ni);
	if (v != SL_NET_OK) {
		w->cnt[v < RTE_DIM(verdict_counter) ? verdict_counter[v] : SL_CNT_drop_l2]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (ni.kind == SL_NET_UDP)
		udp(w, m, &ni);
	else
		respond(w, m, &ni);
}

/* Handed-off packets were counted as received by the worker that got them. */
static void process_handoff(struct sl_worker *w, struct rte_mbuf *m)
{
	struct sl_net_info ni;

	if (sl_net_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), w->local,
			 SL_NET_CSUM_IP_OK | SL_NET_CSUM_L4_OK, &ni) != SL_NET_OK ||
	    ni.kind != SL_NET_UDP) {
		rte_pktmbuf_free(m);
		return;
	}
	udp(w, m, &ni);
}

static void report_levels(struct sl_worker *w)
{
	for (uint32_t i = 0; i < w->t->max_eps; i++) {
		struct sl_endpoint *e = &w->t->eps[i];

		if (e->id == 0 || e->level_count == 0)
			continue;
		sl_feedback_event(w, e->id, SL_EV_AUDIO_LEVEL, e->level_min, e->level_count);
		e->level_count = 0;
		e->level_min = 127;
	}
}

/*
 * Liveness, from last_rx_tsc (set by every authenticated SRTP/SRTCP packet
 * from the endpoint's tuple): TIMEOUT once after timeout_tsc of silence,
 * and MEDIA_ALIVE at most once per SL_ALIVE_PERIOD_S (or half the timeout,
 * if shorter) while such packets keep coming, so the control plane can
 * count media as consent freshness. At most SL_ALIVE_PER_SCAN of those per
 * scan keep the event ring from filling; the rest go on the next scan.
 */
static void check_timeouts(struct sl_worker *w, uint64_t now)
{
	uint64_t alive = w->hz * SL_ALIVE_PERIOD_S;
	unsigned budget = SL_ALIVE_PER_SCAN;

	if (alive > w->timeout_tsc / 2)
		alive = w->timeout_tsc / 2;
	for (uint32_t i = 0; i < w->t->max_eps; i++) {
		struct sl_endpoint *e = &w->t->eps[i];

		if (e->id == 0)
			continue;
		if (e->last_rx_tsc != e->alive_rx_tsc && now - e->alive_sent_tsc >= alive &&
		    budget) {
			budget--;
			e->alive_rx_tsc = e->last_rx_tsc;
			e->alive_sent_tsc = now;
			sl_feedback_event(w, e->id, SL_EV_MEDIA_ALIVE, 0, 0);
		}
		if (e->kf_pending)
			sl_feedback_keyframes_due(w, i, now);
		/* signed: an endpoint added or heard after now was read is newer */
		if (e->timeout_sent || (int64_t)(now - e->last_rx_tsc) < (int64_t)w->timeout_tsc)
			continue;
		e->timeout_sent = true;
		sl_feedback_event(w, e->id, SL_EV_TIMEOUT, 0, 0);
	}
}

static void timers(struct sl_worker *w, uint64_t now)
{
	if (now >= w->next_level) {
		report_levels(w);
		w->next_level = now + w->level_tsc;
	}
	if (now >= w->next_timeout_scan) {
		check_timeouts(w, now);
		w->next_timeout_scan = now + w->hz / 10;
	}
}

static void commands(struct sl_worker *w)
{
	struct sl_cmd *c[SL_CMDS_PER_TURN];
	unsigned n = rte_ring_sc_dequeue_burst(w->cmd_ring, (void **)c, SL_CMDS_PER_TURN, NULL);

	for (unsigned i = 0; i < n; i++) {
		sl_worker_apply_cmd(w, c[i]);
		/* done_ring is as large as cmd_ring: this cannot fail. */
		rte_ring_sp_enqueue(w->done_ring, c[i]);
	}
}

int sl_worker_main(void *arg)
{
	struct sl_worker *w = arg;
	struct rte_mbuf *pkts[SL_BURST];
	uint64_t next_timer = 0, last = rte_rdtsc();

	while (!sl_quit) {
		int got = port_usable(w) ? burst(w, false, pkts, SL_BURST) : 0;
		uint16_t n = got > 0 ? (uint16_t)got : 0;
		bool busy = n > 0;
		uint64_t now;

		for (uint16_t i = 0; i < n; i++) {
			if (i + 1 < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
			process(w, pkts[i]);
		}
		n = (uint16_t)rte_ring_sc_dequeue_burst(w->handoff_ring, (void **)pkts, SL_BURST,
							NULL);
		for (uint16_t i = 0; i < n; i++)
			process_handoff(w, pkts[i]);
		if (w->tx_n)
			sl_worker_tx_flush(w);
		now = rte_rdtsc();
		/* A turn runs from one reading to the next; it was busy if it received. */
		w->loop_tsc += now - last;
		if (busy || n)
			w->busy_tsc += now - last;
		last = now;
		if (now >= next_timer) {
			commands(w);
			timers(w, now);
			next_timer = now + w->drain_tsc;
		}
	}
	sl_worker_tx_flush(w);
	return 0;
}
