/*
 * gen.c - sluice-bench: the dataplane benchmark's generator and sink.
 *
 * Attaches to a running sluice-dataplane twice: over net_memif as the
 * network (all clients share one MAC and IP, one UDP port each) and over
 * the control socket as the control plane (rooms of publishers and
 * subscribers with random keys). It measures the crypto ceiling of this
 * core first, then searches for the highest ingress rate whose egress loss
 * stays within --max-loss, then runs once more at 80% of that rate for
 * latency, and prints a table and (with --json) a JSON file. bench/run
 * starts both processes; see bench/README.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <sluice/ctl.h>
#include <sluice/srtp.h>

#include "bench.h"

struct opts {
	const char *ctl_path, *json, *profile_name;
	double seconds, max_loss;
	struct sl_bench_setup s;
	unsigned search_steps;
};

static int ctl_fd = -1;
static uint32_t ctl_seq;

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ctl_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (ctl_fd < 0 || connect(ctl_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -errno;
	setsockopt(ctl_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 0;
}

/* Send a request and wait for its answer (reply, info or counters). */
static int ctl_call(void *msg, uint16_t type, size_t len, void *ans, size_t ans_len)
{
	static uint8_t buf[SL_CTL_MAX_MSG];
	struct sl_ctl_hdr h;
	uint32_t seq = ++ctl_seq;

	sl_ctl_hdr_init(msg, type, (uint32_t)len, seq);
	if (send(ctl_fd, msg, len, 0) != (ssize_t)len)
		return -errno;
	if (type == SL_CTL_EP_ADD)
		explicit_bzero(msg, len);
	for (;;) {
		ssize_t n = recv(ctl_fd, buf, sizeof(buf), 0);

		if (n < (ssize_t)sizeof(h))
			return -ETIMEDOUT;
		memcpy(&h, buf, sizeof(h));
		if (h.seq != seq)
			continue; /* events, packets going up: not ours */
		if (h.type == SL_CTL_REPLY) {
			struct sl_ctl_reply r;

			memcpy(&r, buf, sizeof(r));
			return r.status;
		}
		if (ans)
			memcpy(ans, buf, RTE_MIN((size_t)n, ans_len));
		return 0;
	}
}

static void random_key(struct sl_ctl_key *k, uint16_t profile, uint8_t *key, uint8_t *salt)
{
	RAND_bytes(k->key, (int)sl_srtp_profile_key_len(profile));
	RAND_bytes(k->salt, (int)sl_srtp_profile_salt_len(profile));
	memcpy(key, k->key, sizeof(k->key));
	memcpy(salt, k->salt, sizeof(k->salt));
}

/* Add one endpoint and make its client-side SRTP context. */
static int add_ep(const struct sl_bench_setup *s, struct sl_bench_ep *e, uint64_t room)
{
	struct sl_ctl_ep m;
	uint8_t key[32], salt[14];
	int rc;

	memset(&m, 0, sizeof(m));
	m.ep_id = e->id;
	m.room_id = room;
	m.profile = s->profile;
	m.addr.family = 4;
	memcpy(m.addr.peer_mac, s->my_mac, 6);
	memcpy(m.addr.remote_ip, s->my_ip, 4);
	memcpy(m.addr.local_ip, s->dp_ip, 4);
	m.addr.remote_port = rte_cpu_to_be_16(e->port);
	m.addr.local_port = rte_cpu_to_be_16(s->dp_port);
	/* A publisher protects with rx; a subscriber unprotects with tx. */
	random_key(&m.rx, s->profile, key, salt);
	if (e->publisher)
		e->send = sl_srtp_create(s->profile, key, salt, false, 4);
	random_key(&m.tx, s->profile, key, salt);
	if (!e->publisher)
		e->recv = sl_srtp_create(s->profile, key, salt, true, SL_BENCH_MAX_FANOUT);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(salt, sizeof(salt));
	rc = ctl_call(&m, SL_CTL_EP_ADD, sizeof(m), NULL, 0);
	if (rc == 0 && !e->send && !e->recv)
		rc = -ENOMEM;
	return rc;
}

static int setup_rooms(const struct sl_bench_setup *s, struct sl_bench_ep *eps, unsigned *n_eps)
{
	unsigned per_room = s->pubs + s->subs, n = 0;
	int rc;

	for (unsigned r = 0; r < s->rooms; r++) {
		unsigned first = n;

		for (unsigned i = 0; i < per_room; i++, n++) {
			eps[n] = (struct sl_bench_ep){ .id = n + 1,
						       .port = (uint16_t)(20000 + n),
						       .publisher = i < s->pubs,
						       .ssrc = 0x10000 + n,
						       .seq = (uint16_t)(n * 1000) };
			rc = add_ep(s, &eps[n], r + 1);
			if (rc)
				return rc;
		}
		for (unsigned sub = first + s->pubs; sub < first + per_room; sub++) {
			for (unsigned p = first; p < first + s->pubs; p++) {
				struct sl_ctl_sub m = { .subscriber = eps[sub].id,
							.publisher = eps[p].id,
							.src_ssrc = eps[p].ssrc,
							.dst_ssrc = 0x20000 + sub * 64 + p,
							.kind = s->rtp_len > 300 ? SL_MEDIA_VIDEO
										 : SL_MEDIA_AUDIO };

				rc = ctl_call(&m, SL_CTL_SUBSCRIBE, sizeof(m), NULL, 0);
				if (rc)
					return rc;
			}
		}
	}
	*n_eps = n;
	return 0;
}

static int port_init(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_ether_addr mac;
	struct rte_eth_link link;
	int rc;

	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, 2048, rte_eth_dev_socket_id(port), NULL, pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, 2048, rte_eth_dev_socket_id(port), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc)
		return rc;
	for (int i = 0; i < 100; i++) {
		rte_eth_link_get_nowait(port, &link);
		if (link.link_status)
			break;
		rte_delay_ms(100);
	}
	rte_eth_macaddr_get(port, &mac);
	return link.link_status ? 0 : -ENOLINK;
}

static uint16_t profile_by_name(const char *n)
{
	if (!strcmp(n, "aes-gcm-128"))
		return SL_SRTP_AEAD_AES_128_GCM;
	if (!strcmp(n, "aes-gcm-256"))
		return SL_SRTP_AEAD_AES_256_GCM;
	if (!strcmp(n, "aes-cm-sha1-80"))
		return SL_SRTP_AES128_CM_SHA1_80;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice-bench [EAL-ARGS] -- [OPTIONS]\n"
		   "  --ctl PATH         the dataplane's control socket (required)\n"
		   "  --profile NAME     aes-gcm-128 (default), aes-gcm-256, aes-cm-sha1-80\n"
		   "  --rooms N          rooms (default 1)\n"
		   "  --pubs N           publishers per room (default 1)\n"
		   "  --subs N           subscribers per room = fan-out (default 10)\n"
		   "  --size B           RTP packet bytes before SRTP (default 1200)\n"
		   "  --seconds S        length of each trial (default 2)\n"
		   "  --steps N          search steps (default 8)\n"
		   "  --max-loss R       loss allowed at the reported rate (default 0.001)\n"
		   "  --json FILE        also write the result as JSON\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "ctl", 1, 0, 'c' },     { "profile", 1, 0, 'p' }, { "rooms", 1, 0, 'r' },
		{ "pubs", 1, 0, 'P' },    { "subs", 1, 0, 's' },    { "size", 1, 0, 'b' },
		{ "seconds", 1, 0, 't' }, { "steps", 1, 0, 'n' },   { "max-loss", 1, 0, 'l' },
		{ "json", 1, 0, 'j' },    { "help", 0, 0, 'h' },    { 0, 0, 0, 0 },
	};
	int c;

	o->profile_name = "aes-gcm-128";
	o->seconds = 2;
	o->max_loss = 0.001;
	o->search_steps = 8;
	o->s.rooms = 1;
	o->s.pubs = 1;
	o->s.subs = 10;
	o->s.rtp_len = 1200;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->ctl_path = optarg;
			break;
		case 'p':
			o->profile_name = optarg;
			break;
		case 'r':
			o->s.rooms = (unsigned)atoi(optarg);
			break;
		case 'P':
			o->s.pubs = (unsigned)atoi(optarg);
			break;
		case 's':
			o->s.subs = (unsigned)atoi(optarg);
			break;
		case 'b':
			o->s.rtp_len = (unsigned)atoi(optarg);
			break;
		case 't':
			o->seconds = atof(optarg);
			break;
		case 'n':
			o->search_steps = (unsigned)atoi(optarg);
			break;
		case 'l':
			o->max_loss = atof(optarg);
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	o->s.profile = profile_by_name(o->profile_name);
	if (!o->ctl_path || !o->s.profile || o->s.rooms < 1 || o->s.pubs < 1 || o->s.subs < 1 ||
	    o->s.subs > SL_BENCH_MAX_FANOUT || o->s.rtp_len < 64 || o->s.rtp_len > 1400 ||
	    o->seconds <= 0 || o->s.rooms * (o->s.pubs + o->s.subs) > SL_BENCH_MAX_EPS ||
	    o->s.pubs > 64) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* Binary search for the highest ingress rate with loss <= max_loss. */
static double search(struct sl_bench_traffic *t, const struct opts *o, double ceiling_egress,
		     struct sl_bench_result *best)
{
	double lo = 0, hi = ceiling_egress * 1.1 / o->s.subs, good = 0;
	bool gen_bound = false;
	struct sl_bench_result r;

	memset(best, 0, sizeof(*best));
	for (unsigned i = 0; i < o->search_steps; i++) {
		double rate = i == 0 ? hi * 0.5 : (lo + hi) / 2;

		sl_bench_traffic_run(t, rate, o->seconds, false, &r);
		printf("  trial %u: asked %.0f, offered %.0f pps in (%.0f out)%s, refused at input "
		       "%lu, loss %.5f, samples ok %lu bad %lu\n",
		       i, rate, r.offered_pps, r.offered_pps * o->s.subs,
		       r.gen_limited ? " [generator could not keep up]" : "",
		       (unsigned long)r.refused, r.loss, (unsigned long)r.samples_ok,
		       (unsigned long)r.samples_bad);
		fflush(stdout);
		if (r.loss <= o->max_loss && r.samples_bad == 0 && r.received && !r.gen_limited) {
			lo = rate;
			if (r.offered_pps >= good) {
				good = r.offered_pps;
				*best = r;
			}
		} else {
			hi = rate;
			if (r.gen_limited && r.loss <= o->max_loss)
				gen_bound = true;
		}
	}
	if (gen_bound)
		printf("  note: the generator, not the dataplane, limited some trials: the figure "
		       "below is a lower bound\n");
	return good;
}

static void dp_counters(FILE *f)
{
	struct sl_ctl_counters m;
	struct sl_ctl_hdr h;

	memset(&h, 0, sizeof(h));
	if (ctl_call(&h, SL_CTL_COUNTERS_GET, sizeof(h), &m, sizeof(m)) != 0)
		return;
	fprintf(f, "  dataplane:");
	for (unsigned i = 0; i < m.n && i < SL_CNT_MAX; i++)
		if (m.value[i] &&
		    (i >= SL_CNT_drop_runt || i == SL_CNT_rtp_in || i == SL_CNT_rtp_out))
			fprintf(f, " %s=%lu", sl_counter_names[i], (unsigned long)m.value[i]);
	fprintf(f, "\n");
}

static void report(const struct opts *o, double ceiling, double in_pps,
		   const struct sl_bench_result *best, const struct sl_bench_result *lat)
{
	unsigned frame = 14 + 20 + 8 + o->s.rtp_len + sl_srtp_tag_len(o->s.profile);
	double out_pps = in_pps * o->s.subs, gbps = out_pps * frame * 8 / 1e9;
	double ratio = ceiling > 0 ? out_pps / ceiling : 0;
	FILE *f;

	printf("\n%-28s %s\n", "profile", o->profile_name);
	printf("%-28s %u B RTP, %u B frames, fan-out %u, %u room(s) x %u publisher(s)\n", "traffic",
	       o->s.rtp_len, frame, o->s.subs, o->s.rooms, o->s.pubs);
	printf("%-28s %d\n", "worker_cores", 1);
	printf("%-28s %.0f\n", "egress_pps_per_core", out_pps);
	printf("%-28s %.3f\n", "egress_gbps_per_core", gbps);
	printf("%-28s %.6f\n", "loss_ratio", best->loss);
	printf("%-28s %.1f\n", "latency_p50_us (80% load)", lat->p50_us);
	printf("%-28s %.1f\n", "latency_p99_us (80% load)", lat->p99_us);
	printf("%-28s %.0f\n", "crypto_ceiling_pps_per_core", ceiling);
	printf("%-28s %.3f\n", "ratio_to_ceiling", ratio);
	if (!o->json)
		return;
	f = fopen(o->json, "w");
	if (!f) {
		perror(o->json);
		return;
	}
	fprintf(f,
		"{\"worker_cores\": 1, \"profile\": \"%s\", \"rtp_bytes\": %u, \"fanout\": %u,"
		" \"rooms\": %u, \"publishers_per_room\": %u,"
		" \"egress_pps_per_core\": %.0f, \"egress_gbps_per_core\": %.4f, \"loss_ratio\": "
		"%.6f,"
		" \"latency_p50_us\": %.2f, \"latency_p99_us\": %.2f,"
		" \"crypto_ceiling_pps_per_core\": %.0f, \"ratio_to_ceiling\": %.4f,"
		" \"samples_ok\": %lu, \"samples_bad\": %lu}\n",
		o->profile_name, o->s.rtp_len, o->s.subs, o->s.rooms, o->s.pubs, out_pps, gbps,
		best->loss, lat->p50_us, lat->p99_us, ceiling, ratio,
		(unsigned long)(best->samples_ok + lat->samples_ok),
		(unsigned long)(best->samples_bad + lat->samples_bad));
	fclose(f);
}

int main(int argc, char **argv)
{
	static struct sl_bench_ep eps[SL_BENCH_MAX_EPS];
	struct sl_bench_result best, lat;
	struct sl_bench_traffic *t;
	struct rte_mempool *pool;
	struct sl_ctl_info info;
	struct sl_ctl_hdr hello;
	struct opts o = { 0 };
	double ceiling, in_pps;
	unsigned n_eps;
	int n;

	n = rte_eal_init(argc, argv);
	if (n < 0)
		return 1;
	if (parse_opts(argc - n, argv + n, &o) != 0 || sl_srtp_init(true) != 0)
		return 2;
	pool = rte_pktmbuf_pool_create("bench", 65535, 256, 0, 2048 + RTE_PKTMBUF_HEADROOM,
				       (int)rte_socket_id());
	if (!pool || rte_eth_dev_count_avail() < 1 || port_init(0, pool) != 0) {
		fprintf(stderr, "sluice-bench: no working memif port\n");
		return 1;
	}
	memset(&hello, 0, sizeof(hello));
	if (ctl_connect(o.ctl_path) != 0 ||
	    ctl_call(&hello, SL_CTL_HELLO, sizeof(hello), &info, sizeof(info)) != 0) {
		fprintf(stderr, "sluice-bench: cannot talk to the dataplane at %s\n", o.ctl_path);
		return 1;
	}
	memcpy(o.s.dp_ip, info.ipv4, 4);
	o.s.dp_port = info.base_port;
	memcpy(o.s.dp_mac, (uint8_t[]){ 0x02, 0, 0, 0, 0, 0x01 }, 6);
	memcpy(o.s.my_mac, (uint8_t[]){ 0x02, 0, 0, 0, 0, 0x02 }, 6);
	memcpy(o.s.my_ip, (uint8_t[]){ info.ipv4[0], info.ipv4[1], info.ipv4[2], 2 }, 4);
	if (setup_rooms(&o.s, eps, &n_eps) != 0) {
		fprintf(stderr, "sluice-bench: setting up rooms failed\n");
		return 1;
	}
	printf("sluice-bench: %s, fan-out %u, %u B; measuring the crypto ceiling\n", o.profile_name,
	       o.s.subs, o.s.rtp_len);
	ceiling = sl_bench_ceiling(o.s.profile, o.s.rtp_len, o.s.subs, o.seconds);
	t = sl_bench_traffic_create(&o.s, eps, n_eps, 0, pool);
	if (!t || ceiling <= 0)
		return 1;
	in_pps = search(t, &o, ceiling, &best);
	sl_bench_traffic_run(t, in_pps > 0 ? in_pps * 0.8 : 1000, o.seconds, true, &lat);
	printf("  latency run at 80%%: offered %.0f pps in, loss %.5f\n", lat.offered_pps,
	       lat.loss);
	dp_counters(stdout);
	report(&o, ceiling, in_pps, &best, &lat);
	sl_bench_traffic_destroy(t);
	return 0;
}
