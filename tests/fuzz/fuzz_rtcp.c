/*
 * fuzz_rtcp.c - libFuzzer target for the compound RTCP code in
 * dataplane/rtcp.c.
 *
 * Validates the input, iterates it to the end and runs the SR reader and
 * the NACK expander on every packet of their type. Properties checked
 * beyond memory safety: validate and the iterator agree (same count, or
 * both refuse), every packet lies inside the buffer, a validated SR always
 * reads, and a NACK round-trips: the expanded numbers, packed again by
 * sl_rtcp_build_nack and expanded again, are the same set. A broken
 * property aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/rtp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NACK is at most 64 KiB: 16381 FCIs of 17 numbers each. */
#define MAX_SEQS (17 * 16384)

static uint16_t seqs[MAX_SEQS], again[MAX_SEQS];
static uint8_t rebuilt[12 + 4 * 16384];
static uint64_t set_a[1024], set_b[1024];

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void to_set(uint64_t *set, const uint16_t *s, unsigned n)
{
	memset(set, 0, sizeof(set_a));
	for (unsigned i = 0; i < n; i++)
		set[s[i] >> 6] |= 1ULL << (s[i] & 63);
}

static void nack_round_trip(const uint8_t *data, const struct sl_rtcp_pkt *pk)
{
	struct sl_rtcp_iter it;
	struct sl_rtcp_pkt rp;
	unsigned n, m;
	size_t len;

	n = sl_rtcp_nack_seqs(data, pk, seqs, MAX_SEQS);
	check(n <= (pk->len / 4u) * 17u);
	if (n == 0)
		return;
	len = sl_rtcp_build_nack(rebuilt, sizeof(rebuilt), 1, 2, seqs, n);
	/* Greedy packing is optimal on a line, within one FCI on the full circle. */
	check(len >= 16 && len <= (size_t)pk->len + 4);
	check(sl_rtcp_validate(rebuilt, len) == 1);
	sl_rtcp_iter_init(&it, rebuilt, len);
	check(sl_rtcp_next(&it, &rp) == 1);
	m = sl_rtcp_nack_seqs(rebuilt, &rp, again, MAX_SEQS);
	to_set(set_a, seqs, n);
	to_set(set_b, again, m);
	check(memcmp(set_a, set_b, sizeof(set_a)) == 0);
}

static void one_packet(const uint8_t *data, size_t size, const struct sl_rtcp_pkt *pk)
{
	struct sl_rtcp_sr sr;

	check(pk->len >= SL_RTCP_HLEN && (size_t)pk->off + pk->len <= size);
	if (pk->type == SL_RTCP_SR)
		check(sl_rtcp_sr_read(data, pk, &sr) == 0 && sr.ssrc == pk->sender_ssrc);
	if (pk->type == SL_RTCP_RTPFB && pk->fmt == 1)
		nack_round_trip(data, pk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_rtcp_iter it;
	struct sl_rtcp_pkt pk;
	int n = sl_rtcp_validate(data, size), seen = 0, rc;

	(void)sl_rtcp_sender_ssrc(data, size);
	check(n == -EINVAL || n >= 1);
	sl_rtcp_iter_init(&it, data, size);
	while ((rc = sl_rtcp_next(&it, &pk)) == 1) {
		one_packet(data, size, &pk);
		seen++;
	}
	if (n > 0)
		check(rc == 0 && seen == n);
	else
		check(rc == -EINVAL || size == 0);
	return 0;
}
