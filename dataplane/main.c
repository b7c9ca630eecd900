/*
 * main.c - sluice-dataplane: start-up, the main lcore's loop, shutdown.
 *
 * Start-up does everything that can fail, in order, and exits with a clear
 * message naming the setting at the first failure: configuration (before
 * DPDK is touched, status 2), EAL, SRTP, pools, the port, the workers'
 * tables and rings, the control socket. Only then are the workers launched.
 * The main lcore then serves the control socket and prints counters until
 * SIGINT/SIGTERM, after which workers stop, every SRTP context is wiped and
 * freed, and the socket is removed. Core dumps are disabled: media and keys
 * live in this process's memory and nowhere else. Under systemd
 * (Type=notify) it reports READY=1 once the workers run, pings the watchdog
 * from the main lcore's loop and says STOPPING=1 on the way out.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include <sluice/notify.h>

#include "dp.h"

#define SL_RING_SIZE  1024
#define SL_MBUF_CACHE 256
#define SL_MBUF_DATA  (2048 + RTE_PKTMBUF_HEADROOM)

static volatile sig_atomic_t print_requested;

static void on_signal(int sig)
{
	(void)sig;
	sl_quit = true;
}

/* SIGUSR1: the main lcore prints the counters on stderr and carries on. */
static void on_usr1(int sig)
{
	(void)sig;
	print_requested = 1;
}

static void signals(void)
{
	struct sigaction sa = { .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
}

static void no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static struct rte_ring *ring(const char *what, unsigned w, unsigned flags, unsigned esize)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "sl_%s_%u", what, w);
	if (esize)
		return rte_ring_create_elem(name, esize, SL_RING_SIZE, (int)rte_socket_id(), flags);
	return rte_ring_create(name, SL_RING_SIZE, (int)rte_socket_id(), flags);
}

/* Each worker's own NACK history pool: no other worker's rooms can take it. */
static struct rte_mempool *history_pool(const struct sl_dp_config *cfg, unsigned id)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *p;

	snprintf(name, sizeof(name), "sl_hist_%u", id);
	p = rte_pktmbuf_pool_create(name, cfg->history_mbufs,
				    RTE_MIN(SL_MBUF_CACHE, cfg->history_mbufs / 2), 0, SL_MBUF_DATA,
				    (int)rte_socket_id());
	if (!p)
		fprintf(stderr,
			"history-mbufs: cannot allocate %u packet buffers for worker %u: %s (try "
			"--memory or fewer)\n",
			cfg->history_mbufs, id, rte_strerror(rte_errno));
	return p;
}

static struct sl_worker *worker_create(const struct sl_dp_config *cfg, unsigned id,
				       struct rte_mempool *pool, const struct sl_net_local *local)
{
	struct sl_worker *w = rte_zmalloc("sl_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
	struct rte_mempool *hist = history_pool(cfg, id);
	char name[32];

	if (!w || !hist)
		return NULL;
	w->id = id;
	w->lcore = cfg->lcore[id + 1];
	w->port = (uint16_t)cfg->port_id;
	w->queue = (uint16_t)id;
	w->n_workers = (uint16_t)(cfg->n_lcores - 1);
	w->base_port = (uint16_t)cfg->base_port;
	w->mtu = (uint16_t)cfg->mtu;
	w->pool = pool;
	w->hist_pool = hist;
	w->local = local;
	w->hz = rte_get_tsc_hz();
	w->timeout_tsc = w->hz * cfg->timeout_s;
	w->level_tsc = w->hz * cfg->level_interval_ms / 1000;
	w->pli_tsc = w->hz * cfg->pli_interval_ms / 1000;
	w->drain_tsc = w->hz / 10000; /* 100 us between command/timer checks */
	sl_police_init(w, cfg);
	w->cmd_ring = ring("cmd", id, RING_F_SC_DEQ, 0);
	w->done_ring = ring("done", id, RING_F_SP_ENQ | RING_F_SC_DEQ, 0);
	w->up_ring = ring("up", id, RING_F_SP_ENQ | RING_F_SC_DEQ, 0);
	w->up_prio_ring = ring("upprio", id, RING_F_SP_ENQ | RING_F_SC_DEQ, 0);
	w->up_src_seed = (uint32_t)rte_rand();
	w->ev_ring = ring("ev", id, RING_F_SP_ENQ | RING_F_SC_DEQ, sizeof(struct sl_event_msg));
	w->handoff_ring = ring("handoff", id, RING_F_SC_DEQ, 0);
	snprintf(name, sizeof(name), "sl_w%u", id);
	w->t = sl_tables_create(name, (int)rte_socket_id(), cfg->max_endpoints, cfg->max_streams,
				cfg->max_subs, cfg->history);
	if (!w->cmd_ring || !w->done_ring || !w->up_ring || !w->up_prio_ring || !w->ev_ring ||
	    !w->handoff_ring || !w->t) {
		fprintf(stderr,
			"max-endpoints/max-streams/max-subs/history: not enough memory for worker "
			"%u's tables (try --memory or smaller limits)\n",
			id);
		return NULL;
	}
	w->t->hist_mbufs = cfg->history_mbufs;
	return w;
}

/* Wipe every key still installed: all endpoints' SRTP contexts. */
static void worker_destroy(struct sl_worker *w)
{
	for (uint32_t i = 0; i < w->t->max_eps; i++) {
		struct sl_srtp *rx, *tx;

		if (w->t->eps[i].id == 0)
			continue;
		sl_tables_ep_remove(w->t, i, &rx, &tx);
		sl_srtp_destroy(rx);
		sl_srtp_destroy(tx);
	}
	sl_tables_destroy(w->t);
}

static struct rte_mempool *packet_pool(const struct sl_dp_config *cfg)
{
	unsigned priv = RTE_ALIGN(sizeof(struct sl_mbuf_meta), RTE_MBUF_PRIV_ALIGN);
	struct rte_mempool *p;

	/* A per-lcore cache may hold at most n / 1.5 buffers (DPDK's rule). */
	p = rte_pktmbuf_pool_create("sl_pool", cfg->mbufs, RTE_MIN(SL_MBUF_CACHE, cfg->mbufs / 2),
				    (uint16_t)priv, SL_MBUF_DATA, (int)rte_socket_id());
	if (!p) {
		fprintf(stderr,
			"mbufs: cannot allocate %u packet buffers: %s (try --memory or fewer)\n",
			cfg->mbufs, rte_strerror(rte_errno));
		return NULL;
	}
	return p;
}

static int check_lcores(const struct sl_dp_config *cfg)
{
	if (rte_get_main_lcore() != cfg->lcore[0]) {
		fprintf(stderr, "lcores: main lcore is %u, expected %u\n", rte_get_main_lcore(),
			cfg->lcore[0]);
		return -EINVAL;
	}
	for (unsigned i = 1; i < cfg->n_lcores; i++) {
		if (!rte_lcore_is_enabled(cfg->lcore[i])) {
			fprintf(stderr, "lcores: lcore %u is not available\n", cfg->lcore[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Workers stop rx/tx on a port whose link is down (a memif peer that went
 * away unmaps the rings under them) and resume when it comes back.
 */
static void watch_link(struct sl_worker **ws, unsigned n, const struct sl_dp_config *cfg)
{
	static int last = -1;
	struct rte_eth_link l = { 0 };
	int up;

	up = rte_eth_link_get_nowait((uint16_t)cfg->port_id, &l) == 0 &&
	     l.link_status == RTE_ETH_LINK_UP;
	if (up == last)
		return;
	for (unsigned i = 0; i < n; i++)
		ws[i]->port_down = !up;
	if (last != -1)
		fprintf(stderr, "sluice-dataplane: port %u link %s\n", cfg->port_id,
			up ? "up: workers resume" : "down: workers stop rx/tx");
	last = up;
}

static void serve(struct sl_ctl_server *srv, struct sl_worker **ws, unsigned n,
		  const struct sl_dp_config *cfg)
{
	uint64_t hz = rte_get_tsc_hz(), next_stats = rte_rdtsc() + cfg->stats_s * hz;
	/* systemd's watchdog, from this (main) lcore only: never a worker. */
	uint64_t wd = sl_notify_watchdog_interval_us() * (hz / 1000000), next_wd = rte_rdtsc();
	uint64_t v[SL_CNT_MAX];

	while (!sl_quit) {
		sl_ctl_server_poll(srv, 1);
		sl_stats_tick();
		watch_link(ws, n, cfg);
		if (wd && rte_rdtsc() >= next_wd) {
			sl_notify_watchdog();
			next_wd = rte_rdtsc() + wd;
		}
		if (print_requested) {
			print_requested = 0;
			sl_counters_sum(ws, n, sl_ctl_server_counters(srv), v);
			sl_counters_print(stderr, v);
			fflush(stderr);
		}
		if (cfg->stats_s && rte_rdtsc() >= next_stats) {
			sl_counters_sum(ws, n, sl_ctl_server_counters(srv), v);
			sl_counters_print(stdout, v);
			next_stats = rte_rdtsc() + cfg->stats_s * hz;
		}
	}
}

static void print_counters(struct sl_ctl_server *srv, struct sl_worker **ws, unsigned n)
{
	uint64_t v[SL_CNT_MAX];

	sl_counters_sum(ws, n, sl_ctl_server_counters(srv), v);
	sl_counters_print(stdout, v);
}

static int run(struct sl_dp_config *cfg)
{
	static struct sl_worker *ws[SL_MAX_WORKERS];
	unsigned n = cfg->n_lcores - 1, rx_flags;
	struct rte_mempool *pool;
	struct sl_ctl_server *srv;
	struct rte_ether_addr mac;
	bool tx_csum, steering, memif;
	struct rte_eth_dev_info di;

	if (check_lcores(cfg) || sl_srtp_init(true) != 0)
		return 1;
	pool = packet_pool(cfg);
	if (!pool)
		return 1;
	if (sl_port_setup(cfg, (uint16_t)n, pool, &rx_flags, &tx_csum, &steering) != 0) {
		fprintf(stderr, "port %u: setup failed (see the messages above)\n", cfg->port_id);
		return 1;
	}
	rte_eth_macaddr_get((uint16_t)cfg->port_id, &mac);
	memcpy(cfg->local.mac, mac.addr_bytes, 6);
	sl_net_ip6_link_local(cfg->local.mac, cfg->local.ip6_ll);
	memif = rte_eth_dev_info_get((uint16_t)cfg->port_id, &di) == 0 && di.driver_name &&
		strcmp(di.driver_name, "net_memif") == 0;
	for (unsigned i = 0; i < n; i++) {
		ws[i] = worker_create(cfg, i, pool, &cfg->local);
		if (!ws[i])
			return 1;
		ws[i]->link_check = memif;
		ws[i]->all = ws;
		ws[i]->rx_flags = rx_flags;
		ws[i]->tx_udp_csum_offload = tx_csum;
	}
	if (memif)
		sl_worker_guard_install();
	srv = sl_ctl_server_create(cfg, ws, n, pool);
	if (!srv)
		return 1;
	sl_stats_init(ws, n, pool, sl_ctl_server_counters(srv));
	if (sl_stats_telemetry_register() != 0)
		fprintf(stderr, "sluice-dataplane: DPDK telemetry commands not registered\n");
	printf("sluice-dataplane: %u worker(s), UDP ports %u-%u, %s steering, checksum offload rx "
	       "%s tx %s\n",
	       n, cfg->base_port, cfg->base_port + n - 1, steering ? "rte_flow" : "software",
	       rx_flags ? "on" : "off", tx_csum ? "on" : "off");
	for (unsigned i = 0; i < n; i++)
		rte_eal_remote_launch(sl_worker_main, ws[i], ws[i]->lcore);
	printf("sluice-dataplane: ready\n");
	fflush(stdout);
	sl_notify_ready();
	serve(srv, ws, n, cfg);
	sl_notify_stopping();
	rte_eal_mp_wait_lcore();
	print_counters(srv, ws, n);
	sl_ctl_server_destroy(srv);
	for (unsigned i = 0; i < n; i++)
		worker_destroy(ws[i]);
	rte_eth_dev_stop((uint16_t)cfg->port_id);
	rte_eth_dev_close((uint16_t)cfg->port_id);
	sl_srtp_shutdown();
	return 0;
}

int main(int argc, char **argv)
{
	static struct sl_dp_config cfg;
	char err[512], *eal_argv[64];
	int eal_argc, rc;

	no_core_dumps();
	signals(); /* before anything: a SIGUSR1 during start-up must not kill us */
	rc = sl_config_parse(argc, argv, &cfg, err, sizeof(err));
	if (rc == 1) {
		sl_config_usage(stdout);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "sluice-dataplane: %s\n", err);
		return 2;
	}
	eal_argc = sl_config_eal_args(&cfg, eal_argv, (int)RTE_DIM(eal_argv));
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr,
			"sluice-dataplane: EAL start failed: %s (check --lcores, --vdev/--pci, "
			"--huge, --memory)\n",
			rte_strerror(rte_errno));
		return 1;
	}
	rc = run(&cfg);
	rte_eal_cleanup();
	return rc;
}
