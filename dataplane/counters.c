/*
 * counters.c - summing and printing the dataplane's counters.
 *
 * Each worker increments its own cache-aligned array and nobody else writes
 * it; the main lcore reads all arrays (aligned 64-bit loads, never torn on
 * the CPUs DPDK supports) and adds its own, so counting costs the fast path
 * one increment and no sharing.
 */
#include <inttypes.h>
#include <stdio.h>

#include "dp.h"

void sl_counters_sum(struct sl_worker **ws, unsigned n, const uint64_t *main_cnt, uint64_t *out)
{
	for (unsigned c = 0; c < SL_CNT_MAX; c++) {
		uint64_t v = main_cnt ? main_cnt[c] : 0;

		for (unsigned i = 0; i < n; i++)
			v += ((volatile uint64_t *)ws[i]->cnt)[c];
		out[c] = v;
	}
}

void sl_counters_print(FILE *f, const uint64_t *v)
{
	fprintf(f, "counters:");
	for (unsigned c = 0; c < SL_CNT_MAX; c++)
		if (v[c] || c < SL_CNT_drop_runt)
			fprintf(f, " %s=%" PRIu64, sl_counter_names[c], v[c]);
	fprintf(f, "\n");
	fflush(f);
}
