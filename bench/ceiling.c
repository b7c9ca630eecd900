/*
 * ceiling.c - the crypto ceiling the dataplane is measured against.
 *
 * The dataplane's per-packet work is dominated by SRTP: one unprotect per
 * ingress packet, then one protect per receiver. This runs exactly that
 * crypto (the same sl_srtp burst calls, the same OpenSSL-backed types, the
 * same packet size and fan-out) and nothing else, in a tight loop on one
 * core, so that the forwarding rate can be reported as a fraction of what
 * the crypto alone allows on this machine, in the same run.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include <sluice/ctl.h>
#include <sluice/srtp.h>

#include "bench.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rtp_header(uint8_t *p, uint16_t seq, uint32_t ssrc)
{
	memset(p, 0, 12);
	p[0] = 0x80;
	p[1] = 96;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
}

#define BATCH 256

/* Protect a batch of publisher packets (not timed). */
static void make_batch(struct sl_srtp *pub_tx, uint8_t (*pkts)[1600], uint16_t *lens,
		       unsigned rtp_len, uint16_t *seq)
{
	for (unsigned i = 0; i < BATCH; i++) {
		struct sl_srtp_op op = {
			.ctx = pub_tx, .buf = pkts[i], .len = (uint16_t)rtp_len, .cap = 1600
		};

		memset(pkts[i], 0xab, rtp_len);
		rtp_header(pkts[i], (*seq)++, 0x1234);
		sl_srtp_protect_burst(&op, 1);
		lens[i] = op.len;
	}
}

double sl_bench_ceiling(uint16_t profile, unsigned rtp_len, unsigned fanout, double seconds)
{
	static uint8_t pkts[BATCH][1600], out_buf[SL_BENCH_MAX_FANOUT][1600];
	unsigned kl = sl_srtp_profile_key_len(profile);
	struct sl_srtp *pub_tx, *pub_rx, *sub[SL_BENCH_MAX_FANOUT];
	struct sl_srtp_op ops[SL_BENCH_MAX_FANOUT];
	uint16_t lens[BATCH], seq = 1, out_seq = 1;
	uint8_t key[32], salt[14];
	uint64_t egress = 0;
	double busy = 0;

	if (fanout > SL_BENCH_MAX_FANOUT || rtp_len > 1500 || rtp_len < 12 || !kl)
		return -1;
	RAND_bytes(key, sizeof(key));
	RAND_bytes(salt, sizeof(salt));
	pub_tx = sl_srtp_create(profile, key, salt, false, 16);
	pub_rx = sl_srtp_create(profile, key, salt, true, 16);
	for (unsigned i = 0; i < fanout; i++) {
		RAND_bytes(key, kl);
		sub[i] = sl_srtp_create(profile, key, salt, false, 16);
		memset(out_buf[i], 0xab, rtp_len);
		rtp_header(out_buf[i], 0, 0x5000 + i);
	}
	while (busy < seconds) {
		double t0;

		make_batch(pub_tx, pkts, lens, rtp_len, &seq);
		t0 = now_s();
		for (unsigned k = 0; k < BATCH; k++, out_seq++) {
			struct sl_srtp_op in = {
				.ctx = pub_rx, .buf = pkts[k], .len = lens[k], .cap = lens[k]
			};

			if (sl_srtp_unprotect_burst(&in, 1) != 1)
				goto fail;
			for (unsigned i = 0; i < fanout; i++) {
				out_buf[i][2] = (uint8_t)(out_seq >> 8);
				out_buf[i][3] = (uint8_t)out_seq;
				ops[i] = (struct sl_srtp_op){ .ctx = sub[i],
							      .buf = out_buf[i],
							      .len = (uint16_t)rtp_len,
							      .cap = 1600 };
			}
			egress += sl_srtp_protect_burst(ops, fanout);
		}
		busy += now_s() - t0;
	}
fail:
	sl_srtp_destroy(pub_tx);
	sl_srtp_destroy(pub_rx);
	for (unsigned i = 0; i < fanout; i++)
		sl_srtp_destroy(sub[i]);
	return busy > 0 ? (double)egress / busy : -1;
}
