/*
 * stats.c - per-worker figures for the operator, and DPDK telemetry.
 *
 * The main lcore samples each worker's poll-loop accounting (loop_tsc,
 * busy_tsc: worker.c) once a second and keeps the busy fraction of the last
 * second; SL_CTL_WORKER_STATS (ctl_server.c) and the telemetry commands
 * report it with the worker's rx/tx counters and the mbuf pools' use.
 *
 * Telemetry (rte_telemetry, EAL's socket dpdk_telemetry.v2 under
 * /var/run/dpdk/<file-prefix>/, read by dpdk-telemetry.py) gets two
 * commands: /sluice/counters (every SL_COUNTERS counter, summed over the
 * workers and the main lcore) and /sluice/workers (the pools, then one
 * dict per worker). They run on EAL's telemetry thread and only read:
 * counters are aligned 64-bit words with one writer each.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_mempool.h>
#include <rte_telemetry.h>

#include "dp.h"

static struct {
	struct sl_worker **ws;
	unsigned n;
	struct rte_mempool *pool;
	const uint64_t *main_cnt;
	uint64_t hz, next;
	uint64_t prev_loop[SL_MAX_WORKERS], prev_busy[SL_MAX_WORKERS];
	volatile uint32_t busy_ppm[SL_MAX_WORKERS];
} st;

void sl_stats_init(struct sl_worker **ws, unsigned n, struct rte_mempool *pool,
		   const uint64_t *main_cnt)
{
	st.ws = ws;
	st.n = n < SL_MAX_WORKERS ? n : SL_MAX_WORKERS;
	st.pool = pool;
	st.main_cnt = main_cnt;
	st.hz = rte_get_tsc_hz();
	st.next = rte_rdtsc() + st.hz;
}

void sl_stats_tick(void)
{
	uint64_t now = rte_rdtsc();

	if (!st.ws || now < st.next)
		return;
	st.next = now + st.hz;
	for (unsigned i = 0; i < st.n; i++) {
		uint64_t loop = ((volatile uint64_t *)&st.ws[i]->loop_tsc)[0];
		uint64_t busy = ((volatile uint64_t *)&st.ws[i]->busy_tsc)[0];
		uint64_t dl = loop - st.prev_loop[i], db = busy - st.prev_busy[i];

		/* Two loads, not one snapshot: clamp what a turn in between adds. */
		st.busy_ppm[i] = dl ? (uint32_t)(db >= dl ? 1000000 : db * 1000000 / dl) : 0;
		st.prev_loop[i] = loop;
		st.prev_busy[i] = busy;
	}
}

static void worker_stat(unsigned i, struct sl_ctl_worker_stat *r)
{
	const volatile uint64_t *c = st.ws[i]->cnt;
	/* busy first: it never passes loop_tsc read after it */
	uint64_t busy = ((volatile uint64_t *)&st.ws[i]->busy_tsc)[0];

	r->rx_packets = c[SL_CNT_rx_packets];
	r->rx_bytes = c[SL_CNT_rx_bytes];
	r->tx_packets = c[SL_CNT_tx_packets];
	r->tx_bytes = c[SL_CNT_tx_bytes];
	r->cycles = ((volatile uint64_t *)&st.ws[i]->loop_tsc)[0];
	r->busy_cycles = busy <= r->cycles ? busy : r->cycles;
	r->busy_ppm = st.busy_ppm[i];
	r->hist_in_use = st.ws[i]->hist_pool ? rte_mempool_in_use_count(st.ws[i]->hist_pool) : 0;
}

size_t sl_stats_workers(struct sl_ctl_worker_stats *m)
{
	unsigned n = st.n < SL_CTL_MAX_WORKERS ? st.n : SL_CTL_MAX_WORKERS;
	unsigned in_use = st.pool ? rte_mempool_in_use_count(st.pool) : 0;

	memset(m, 0, sizeof(*m));
	m->n = n;
	m->pool_size = st.pool ? st.pool->size : 0;
	m->pool_in_use = in_use < m->pool_size ? in_use : m->pool_size;
	m->hist_size = n && st.ws[0]->hist_pool ? st.ws[0]->hist_pool->size : 0;
	m->tsc_hz = st.hz;
	for (unsigned i = 0; i < n; i++)
		worker_stat(i, &m->w[i]);
	return SL_CTL_WORKER_STATS_FIXED + n * sizeof(struct sl_ctl_worker_stat);
}

static int tel_counters(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint64_t v[SL_CNT_MAX];

	(void)cmd;
	(void)params;
	if (!st.ws)
		return -EAGAIN;
	sl_counters_sum(st.ws, st.n, st.main_cnt, v);
	rte_tel_data_start_dict(d);
	for (unsigned c = 0; c < SL_CNT_MAX; c++)
		rte_tel_data_add_dict_u64(d, sl_counter_names[c], v[c]);
	return 0;
}

static int tel_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sl_ctl_worker_stats m; /* telemetry runs a thread per client */

	(void)cmd;
	(void)params;
	if (!st.ws)
		return -EAGAIN;
	sl_stats_workers(&m);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "n_workers", m.n);
	rte_tel_data_add_dict_u64(d, "tsc_hz", m.tsc_hz);
	rte_tel_data_add_dict_u64(d, "pool_size", m.pool_size);
	rte_tel_data_add_dict_u64(d, "pool_in_use", m.pool_in_use);
	rte_tel_data_add_dict_u64(d, "hist_size", m.hist_size);
	for (unsigned i = 0; i < m.n; i++) {
		struct rte_tel_data *w = rte_tel_data_alloc();
		char name[32];

		if (!w)
			return -ENOMEM;
		rte_tel_data_start_dict(w);
		rte_tel_data_add_dict_u64(w, "rx_packets", m.w[i].rx_packets);
		rte_tel_data_add_dict_u64(w, "rx_bytes", m.w[i].rx_bytes);
		rte_tel_data_add_dict_u64(w, "tx_packets", m.w[i].tx_packets);
		rte_tel_data_add_dict_u64(w, "tx_bytes", m.w[i].tx_bytes);
		rte_tel_data_add_dict_u64(w, "busy_cycles", m.w[i].busy_cycles);
		rte_tel_data_add_dict_u64(w, "cycles", m.w[i].cycles);
		rte_tel_data_add_dict_u64(w, "busy_ppm", m.w[i].busy_ppm);
		rte_tel_data_add_dict_u64(w, "hist_in_use", m.w[i].hist_in_use);
		snprintf(name, sizeof(name), "worker_%u", i);
		rte_tel_data_add_dict_container(d, name, w, 0);
	}
	return 0;
}

int sl_stats_telemetry_register(void)
{
	int r = rte_telemetry_register_cmd(
		"/sluice/counters", tel_counters,
		"Every sluice-dataplane counter, summed over the workers. Takes no parameters");

	if (r == 0)
		r = rte_telemetry_register_cmd(
			"/sluice/workers", tel_workers,
			"Per-worker rx/tx, poll-loop busy cycles and fraction (busy_ppm, last "
			"second), mbuf pools in use. Takes no parameters");
	return r;
}
