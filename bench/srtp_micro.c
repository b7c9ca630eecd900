/*
 * srtp_micro.c - nanoseconds per SRTP protect and unprotect, libsrtp2's own
 * cipher types against the OpenSSL-backed ones (dataplane/srtp_ossl_*.c).
 *
 * A benchmark, not a test: it prints a table (and, with --json FILE, a JSON
 * file) and exits non-zero only if a packet failed. Both columns are
 * measured in the same process through the same sl_srtp burst calls, first
 * with the stock types, then after sl_srtp_init(true) has replaced them, so
 * the ratio is the thing to read. Packets are 1,212 bytes of RTP (12-byte
 * header + 1,200 payload) in bursts of 32, as the dataplane sends them;
 * each round protects PKTS fresh packets with consecutive sequence numbers
 * and then unprotects them, and the median round is reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/ctl.h>
#include <sluice/srtp.h>

#define PKT_LEN    1212
#define BURST      32
#define PKTS       2048
#define MAX_ROUNDS 101

struct micro_result {
	double protect_ns, unprotect_ns;
};

static const struct {
	uint16_t profile;
	const char *name;
} profiles[] = {
	{ SL_SRTP_AES128_CM_SHA1_80, "AES128_CM_SHA1_80" },
	{ SL_SRTP_AEAD_AES_128_GCM, "AEAD_AES_128_GCM" },
	{ SL_SRTP_AEAD_AES_256_GCM, "AEAD_AES_256_GCM" },
};
#define N_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

static uint8_t pkts[PKTS][PKT_LEN + SL_SRTP_MAX_TRAILER];
static struct sl_srtp_op ops[PKTS];

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void fill(uint8_t *p, uint32_t n)
{
	uint16_t seq = (uint16_t)n;

	p[0] = 0x80;
	p[1] = 96;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	memset(p + 4, 0, 4);
	p[8] = 0x12;
	p[9] = 0x34;
	p[10] = 0x56;
	p[11] = 0x78;
	memset(p + 12, (int)(n & 0xff), PKT_LEN - 12);
}

/* Runs ops[] through fn in bursts; 0 if every packet succeeded. */
static int run(unsigned (*fn)(struct sl_srtp_op *, unsigned))
{
	unsigned ok = 0;

	for (unsigned i = 0; i < PKTS; i += BURST)
		ok += fn(ops + i, BURST);
	return ok == PKTS ? 0 : -EIO;
}

/* One round: fresh packets from *seq on, protected then unprotected. */
static int round_once(struct sl_srtp *tx, struct sl_srtp *rx, uint32_t *seq, double *prot,
		      double *unprot)
{
	double t0, t1, t2;

	for (unsigned i = 0; i < PKTS; i++) {
		fill(pkts[i], (*seq)++);
		ops[i] = (struct sl_srtp_op){
			.ctx = tx, .buf = pkts[i], .len = PKT_LEN, .cap = sizeof(pkts[i])
		};
	}
	t0 = now_ns();
	if (run(sl_srtp_protect_burst))
		return -EIO;
	t1 = now_ns();
	for (unsigned i = 0; i < PKTS; i++)
		ops[i].ctx = rx;
	if (run(sl_srtp_unprotect_burst))
		return -EIO;
	t2 = now_ns();
	for (unsigned i = 0; i < PKTS; i++)
		if (ops[i].len != PKT_LEN)
			return -EIO;
	*prot = (t1 - t0) / PKTS;
	*unprot = (t2 - t1) / PKTS;
	return 0;
}

static int measure(uint16_t profile, unsigned rounds, struct micro_result *r)
{
	static double prot[MAX_ROUNDS], unprot[MAX_ROUNDS];
	uint8_t key[32], salt[14];
	struct sl_srtp *tx, *rx;
	uint32_t seq = 1;
	int rc = 0;

	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 11 + 5);
	for (unsigned i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)(i * 7 + 3);
	tx = sl_srtp_create(profile, key, salt, false, 4);
	rx = sl_srtp_create(profile, key, salt, true, 4);
	if (!tx || !rx) {
		rc = -ENOMEM;
		goto destroy_ctx;
	}
	/* The first round warms caches and lets libsrtp2 create its streams. */
	rc = round_once(tx, rx, &seq, &prot[0], &unprot[0]);
	for (unsigned i = 0; i < rounds && !rc; i++)
		rc = round_once(tx, rx, &seq, &prot[i], &unprot[i]);
	if (rc)
		goto destroy_ctx;
	qsort(prot, rounds, sizeof(prot[0]), cmp_double);
	qsort(unprot, rounds, sizeof(unprot[0]), cmp_double);
	r->protect_ns = prot[rounds / 2];
	r->unprotect_ns = unprot[rounds / 2];
destroy_ctx:
	sl_srtp_destroy(tx);
	sl_srtp_destroy(rx);
	return rc;
}

static int measure_all(bool use_openssl, unsigned rounds, struct micro_result *r)
{
	if (sl_srtp_init(use_openssl))
		return -EIO;
	for (unsigned p = 0; p < N_PROFILES; p++)
		if (measure(profiles[p].profile, rounds, &r[p]))
			return -EIO;
	return 0;
}

static void print_table(const struct micro_result *stock, const struct micro_result *ossl)
{
	printf("SRTP micro-benchmark: %d-byte RTP, bursts of %d, ns/packet (median of rounds)\n\n",
	       PKT_LEN, BURST);
	printf("%-18s %14s %14s %8s   %14s %14s %8s\n", "profile", "stock protect", "ossl protect",
	       "speedup", "stock unprot", "ossl unprot", "speedup");
	for (unsigned p = 0; p < N_PROFILES; p++)
		printf("%-18s %14.0f %14.0f %7.2fx   %14.0f %14.0f %7.2fx\n", profiles[p].name,
		       stock[p].protect_ns, ossl[p].protect_ns,
		       stock[p].protect_ns / ossl[p].protect_ns, stock[p].unprotect_ns,
		       ossl[p].unprotect_ns, stock[p].unprotect_ns / ossl[p].unprotect_ns);
}

static int write_json(const char *path, const struct micro_result *stock,
		      const struct micro_result *ossl)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "{\"pkt_len\": %d, \"burst\": %d, \"results\": [", PKT_LEN, BURST);
	for (unsigned p = 0; p < N_PROFILES; p++)
		fprintf(f,
			"%s\n  {\"profile\": \"%s\", \"stock_protect_ns\": %.1f, "
			"\"stock_unprotect_ns\": %.1f, \"openssl_protect_ns\": %.1f, "
			"\"openssl_unprotect_ns\": %.1f}",
			p ? "," : "", profiles[p].name, stock[p].protect_ns, stock[p].unprotect_ns,
			ossl[p].protect_ns, ossl[p].unprotect_ns);
	fprintf(f, "\n]}\n");
	return fclose(f) ? -errno : 0;
}

int main(int argc, char **argv)
{
	struct micro_result stock[N_PROFILES], ossl[N_PROFILES];
	const char *json = NULL;
	unsigned rounds = 21;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") && i + 1 < argc) {
			json = argv[++i];
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
			rounds = (unsigned)strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: %s [--rounds N (1-%d)] [--json FILE]\n", argv[0],
				MAX_ROUNDS);
			return 2;
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "--rounds: 1 to %d\n", MAX_ROUNDS);
		return 2;
	}
	/* Stock first: sl_srtp_init(true) replaces the types for good. */
	if (measure_all(false, rounds, stock) || measure_all(true, rounds, ossl)) {
		fprintf(stderr, "srtp_micro: a packet failed\n");
		return 1;
	}
	print_table(stock, ossl);
	if (json && write_json(json, stock, ossl)) {
		fprintf(stderr, "srtp_micro: cannot write %s\n", json);
		return 1;
	}
	sl_srtp_shutdown();
	return 0;
}
