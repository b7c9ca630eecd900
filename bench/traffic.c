/*
 * traffic.c - the benchmark's traffic engine: paced SRTP publishers and a
 * counting sink, on one lcore and one memif port.
 *
 * Publishers send in bursts paced by the TSC, round-robin, each packet
 * freshly protected (so the dataplane's replay window sees a real stream)
 * and carrying the send TSC in its first payload bytes. The sink counts every
 * frame per subscriber by UDP port and fully decrypts one packet in
 * SL_BENCH_SAMPLE_EVERY per subscriber with that subscriber's key, checking
 * the payload bytes and taking the latency. If the generator cannot keep
 * its own schedule it says so (the offered rate is then what it really
 * sent), so a slow generator is never mistaken for a slow dataplane.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <sluice/net.h>
#include <sluice/srtp.h>

#include "bench.h"

#define TX_BURST        4 /* small bursts: arrivals close to a real mix of senders */
#define RX_BURST        64
#define MAX_LAT_SAMPLES (1u << 20)
#define PAYLOAD_FILL    0xab

struct sl_bench_traffic {
	const struct sl_bench_setup *s;
	struct sl_bench_ep *eps;
	unsigned n_eps;
	unsigned *pubs; /* indexes of publishers in eps */
	unsigned n_pubs, next_pub;
	uint16_t port;
	struct rte_mempool *pool;
	struct sl_net_flow *flows; /* per publisher */
	uint16_t min_port, max_port;
	unsigned *by_port; /* client port - min_port -> ep index */
	uint64_t hz;
	double *lat;
	unsigned n_lat;
	bool take_latency;
	struct sl_bench_result *r;
};

static void flow_for(struct sl_net_flow *f, const struct sl_bench_setup *s, uint16_t my_port)
{
	memset(f, 0, sizeof(*f));
	f->family = 4;
	memcpy(f->src_mac, s->my_mac, 6);
	memcpy(f->dst_mac, s->dp_mac, 6);
	memcpy(f->src_ip, s->my_ip, 4);
	memcpy(f->dst_ip, s->dp_ip, 4);
	f->src_port = rte_cpu_to_be_16(my_port);
	f->dst_port = rte_cpu_to_be_16(s->dp_port);
}

struct sl_bench_traffic *sl_bench_traffic_create(const struct sl_bench_setup *s,
						 struct sl_bench_ep *eps, unsigned n_eps,
						 uint16_t port, struct rte_mempool *pool)
{
	struct sl_bench_traffic *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->s = s;
	t->eps = eps;
	t->n_eps = n_eps;
	t->port = port;
	t->pool = pool;
	t->hz = rte_get_tsc_hz();
	t->pubs = calloc(n_eps, sizeof(*t->pubs));
	t->flows = calloc(n_eps, sizeof(*t->flows));
	t->lat = calloc(MAX_LAT_SAMPLES, sizeof(*t->lat));
	t->min_port = UINT16_MAX;
	for (unsigned i = 0; i < n_eps; i++) {
		t->min_port = RTE_MIN(t->min_port, eps[i].port);
		t->max_port = RTE_MAX(t->max_port, eps[i].port);
		if (eps[i].publisher) {
			flow_for(&t->flows[t->n_pubs], s, eps[i].port);
			t->pubs[t->n_pubs++] = i;
		}
	}
	t->by_port = calloc((size_t)(t->max_port - t->min_port + 1), sizeof(*t->by_port));
	if (!t->pubs || !t->flows || !t->lat || !t->by_port || !t->n_pubs) {
		sl_bench_traffic_destroy(t);
		return NULL;
	}
	for (unsigned i = 0; i < n_eps; i++)
		t->by_port[eps[i].port - t->min_port] = i;
	return t;
}

void sl_bench_traffic_destroy(struct sl_bench_traffic *t)
{
	if (!t)
		return;
	free(t->pubs);
	free(t->flows);
	free(t->lat);
	free(t->by_port);
	free(t);
}

/* One publisher packet: RTP header, TSC + fill payload, SRTP, headers. */
static struct rte_mbuf *make_packet(struct sl_bench_traffic *t, unsigned pi)
{
	struct sl_bench_ep *e = &t->eps[t->pubs[pi]];
	const struct sl_net_flow *f = &t->flows[pi];
	size_t hlen = sl_net_hdr_len(f), len = t->s->rtp_len;
	struct rte_mbuf *m = rte_pktmbuf_alloc(t->pool);
	struct sl_srtp_op op;
	uint64_t tsc;
	uint8_t *p;

	if (!m)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(hlen + len));
	if (!p || rte_pktmbuf_tailroom(m) < SL_SRTP_MAX_TRAILER) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	p += hlen;
	memset(p, 0, 12);
	p[0] = 0x80;
	p[1] = 96;
	p[2] = (uint8_t)(e->seq >> 8);
	p[3] = (uint8_t)e->seq;
	e->seq++;
	e->ts += 3000;
	p[4] = (uint8_t)(e->ts >> 24);
	p[5] = (uint8_t)(e->ts >> 16);
	p[6] = (uint8_t)(e->ts >> 8);
	p[7] = (uint8_t)e->ts;
	p[8] = (uint8_t)(e->ssrc >> 24);
	p[9] = (uint8_t)(e->ssrc >> 16);
	p[10] = (uint8_t)(e->ssrc >> 8);
	p[11] = (uint8_t)e->ssrc;
	tsc = rte_rdtsc();
	memcpy(p + 12, &tsc, sizeof(tsc));
	memset(p + 20, PAYLOAD_FILL, len - 20);
	op = (struct sl_srtp_op){ .ctx = e->send,
				  .buf = p,
				  .len = (uint16_t)len,
				  .cap = (uint16_t)(len + SL_SRTP_MAX_TRAILER) };
	if (sl_srtp_protect_burst(&op, 1) != 1) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	rte_pktmbuf_append(m, (uint16_t)(op.len - len));
	sl_net_write_udp(rte_pktmbuf_mtod(m, uint8_t *), f, op.len, false);
	return m;
}

/* Offer n packets; returns how many were built (refused ones included). */
static unsigned send_burst(struct sl_bench_traffic *t, unsigned n)
{
	struct rte_mbuf *ms[TX_BURST];
	unsigned k = 0, sent = 0;

	for (unsigned i = 0; i < n; i++) {
		ms[k] = make_packet(t, t->next_pub);
		t->next_pub = (t->next_pub + 1) % t->n_pubs;
		if (ms[k])
			k++;
	}
	while (sent < k) {
		uint16_t x = rte_eth_tx_burst(t->port, 0, ms + sent, (uint16_t)(k - sent));

		if (x == 0)
			break;
		sent += x;
	}
	if (sent < k) {
		/* Like a NIC's missed packets: offered, never forwarded. */
		t->r->refused += k - sent;
		rte_pktmbuf_free_bulk(ms + sent, k - sent);
	}
	return k;
}

/* Decrypt a sampled packet, check its payload, take its latency. */
static void sample(struct sl_bench_traffic *t, struct sl_bench_ep *e, uint8_t *p, uint16_t len,
		   uint64_t now)
{
	struct sl_srtp_op op = { .ctx = e->recv, .buf = p, .len = len, .cap = len };
	uint64_t tsc;
	bool ok;

	if (sl_srtp_unprotect_burst(&op, 1) != 1 || op.len != t->s->rtp_len) {
		t->r->samples_bad++;
		return;
	}
	ok = true;
	for (unsigned i = 20; i < op.len && ok; i++)
		ok = p[i] == PAYLOAD_FILL;
	if (!ok) {
		t->r->samples_bad++;
		return;
	}
	t->r->samples_ok++;
	memcpy(&tsc, p + 12, sizeof(tsc));
	if (t->take_latency && t->n_lat < MAX_LAT_SAMPLES && now > tsc)
		t->lat[t->n_lat++] = (double)(now - tsc) * 1e6 / (double)t->hz;
}

static void receive(struct sl_bench_traffic *t)
{
	struct rte_mbuf *ms[RX_BURST];
	uint16_t n = rte_eth_rx_burst(t->port, 0, ms, RX_BURST);
	uint64_t now = rte_rdtsc();

	for (uint16_t i = 0; i < n; i++) {
		uint8_t *f = rte_pktmbuf_mtod(ms[i], uint8_t *);
		uint16_t len = rte_pktmbuf_data_len(ms[i]), port;
		struct sl_bench_ep *e;

		/* Our own frames only: Ethernet + IPv4 (IHL 5) + UDP. */
		if (len < 42 + 12 || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 || f[23] != 17)
			continue;
		port = (uint16_t)(f[36] << 8 | f[37]);
		if (port < t->min_port || port > t->max_port)
			continue;
		e = &t->eps[t->by_port[port - t->min_port]];
		if (e->publisher)
			continue;
		e->rx++;
		t->r->received++;
		if (++e->rx_since_sample >= SL_BENCH_SAMPLE_EVERY) {
			e->rx_since_sample = 0;
			sample(t, e, f + 42, (uint16_t)(len - 42), now);
		}
	}
	if (n)
		rte_pktmbuf_free_bulk(ms, n);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int sl_bench_traffic_run(struct sl_bench_traffic *t, double ingress_pps, double seconds,
			 bool latency, struct sl_bench_result *r)
{
	uint64_t start = rte_rdtsc(), end = start + (uint64_t)(seconds * (double)t->hz);
	uint64_t interval = (uint64_t)((double)t->hz * TX_BURST / ingress_pps), next = start;
	uint64_t drain_end;

	memset(r, 0, sizeof(*r));
	t->r = r;
	t->n_lat = 0;
	t->take_latency = latency;
	while (rte_rdtsc() < end) {
		uint64_t now = rte_rdtsc();

		if (now >= next) {
			r->sent += send_burst(t, TX_BURST);
			next += interval;
			if (now > next + 64 * interval) /* hopelessly behind: stop pretending */
				next = now;
		}
		receive(t);
	}
	r->offered_pps = (double)r->sent / seconds;
	r->gen_limited = r->offered_pps < 0.97 * ingress_pps;
	drain_end = rte_rdtsc() + t->hz / 5;
	while (rte_rdtsc() < drain_end)
		receive(t);
	r->expected = r->sent * t->s->subs;
	r->loss = r->expected ? 1.0 - (double)r->received / (double)r->expected : 1.0;
	if (r->loss < 0)
		r->loss = 0;
	if (latency && t->n_lat) {
		qsort(t->lat, t->n_lat, sizeof(double), cmp_double);
		r->p50_us = t->lat[t->n_lat / 2];
		r->p99_us = t->lat[(size_t)((double)t->n_lat * 0.99)];
	}
	return 0;
}
