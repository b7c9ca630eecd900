/*
 * bench.h - the dataplane benchmark's own pieces (bench/, never tests).
 *
 * sluice-bench is a DPDK process attached to sluice-dataplane over
 * net_memif. Through the control socket it sets up rooms of publishers and
 * subscribers, then plays all of them at once: publishers send paced SRTP,
 * subscribers count what arrives and decrypt a sample of it, checking the
 * payload and measuring latency from a timestamp the publisher put inside.
 */
#ifndef SLUICE_BENCH_H
#define SLUICE_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#define SL_BENCH_MAX_FANOUT   64
#define SL_BENCH_MAX_EPS      256
#define SL_BENCH_SAMPLE_EVERY 64 /* per subscriber, packets between decrypted samples */

struct sl_srtp;
struct rte_mempool;

/* One simulated endpoint as the generator sees it. */
struct sl_bench_ep {
	uint32_t id;
	uint16_t port; /* client UDP port (host order) */
	bool publisher;
	uint32_t ssrc;        /* publishers: media SSRC */
	struct sl_srtp *send; /* publishers: protects what they send */
	struct sl_srtp *recv; /* subscribers: unprotects what they get */
	uint16_t seq;
	uint32_t ts;
	uint64_t rx; /* packets received */
	uint64_t rx_since_sample;
};

struct sl_bench_setup {
	uint16_t profile;
	unsigned rooms, pubs, subs; /* per room: fan-out = subs */
	unsigned rtp_len;           /* bytes of RTP (header + payload), before SRTP */
	uint16_t dp_port;           /* dataplane UDP port (worker 0) */
	uint8_t dp_mac[6], my_mac[6];
	uint8_t dp_ip[4], my_ip[4];
};

struct sl_bench_result {
	double offered_pps; /* ingress the generator built and offered */
	bool gen_limited;   /* it could not build packets as fast as asked */
	uint64_t sent;      /* offered packets (refused ones included) */
	uint64_t refused;   /* the dataplane's input ring was full: ingress loss */
	uint64_t expected, received;
	uint64_t samples_ok, samples_bad;
	double loss;
	double p50_us, p99_us;
};

/* ceiling.c: egress packets/s one core's crypto allows (1 unprotect + fanout protects). */
double sl_bench_ceiling(uint16_t profile, unsigned rtp_len, unsigned fanout, double seconds);

/* traffic.c */
struct sl_bench_traffic;
struct sl_bench_traffic *sl_bench_traffic_create(const struct sl_bench_setup *s,
						 struct sl_bench_ep *eps, unsigned n_eps,
						 uint16_t port, struct rte_mempool *pool);
/* Send at ingress_pps for seconds, receive, then drain; fills r. */
int sl_bench_traffic_run(struct sl_bench_traffic *t, double ingress_pps, double seconds,
			 bool latency, struct sl_bench_result *r);
void sl_bench_traffic_destroy(struct sl_bench_traffic *t);

#endif
