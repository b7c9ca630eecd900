/*
 * rtcp.c - compound RTCP validation, iteration, field readers and builders.
 *
 * RTCP parsers are where SFUs have overflowed their heaps (mediasoup's RR
 * and PS-AFB bugs), so one function, read_packet, checks a packet inside a
 * compound against every rule the rest of the code relies on: version 2,
 * a length field that stays inside the buffer, padding only on the last
 * packet with 0 < pad <= payload, and per-type fixed parts (SR/RR report
 * blocks, SDES chunks, BYE reason, feedback headers and FCI sizes) that fit
 * in what is left once padding is removed. sl_rtcp_validate and the
 * iterator both go through it, so iterating is safe even without a prior
 * validate. Readers take a packet found by the iterator and re-derive the
 * payload length from its header, so padding is never read as data.
 * Builders write the reduced-size (RFC 5506) packets the SFU sends itself.
 */
#include <errno.h>
#include <string.h>

#include <sluice/rtp.h>

#include "bytes.h"

#define RTCP_VERSION  2
#define RTCP_PT_MIN   192 /* RFC 5761: RTCP types muxed with RTP lie in 192-223 */
#define RTCP_PT_MAX   223
#define SR_FIXED      28 /* header + SSRC + sender info */
#define RR_FIXED      8  /* header + SSRC */
#define REPORT_BLOCK  24
#define FB_FIXED      12 /* header + sender SSRC + media SSRC */
#define FB_FMT_NACK   1
#define FB_FMT_FIR    4
#define NACK_FCI      4
#define FIR_FCI       8
#define NACK_BLP_BITS 16
#define SEQ_WORDS     (65536 / 64)

/* SDES: sc chunks of SSRC + items, each ended by a null and 32-bit aligned. */
static int check_sdes(const uint8_t *q, size_t n, unsigned sc)
{
	size_t pos = SL_RTCP_HLEN;

	for (unsigned c = 0; c < sc; c++) {
		if (n - pos < 4)
			return -EINVAL;
		pos += 4;
		for (;;) {
			if (pos >= n)
				return -EINVAL;
			if (q[pos] == 0)
				break;
			if (n - pos < 2 || q[pos + 1] > n - pos - 2)
				return -EINVAL;
			pos += 2 + (size_t)q[pos + 1];
		}
		pos = (pos + 4) & ~(size_t)3; /* the null, then up to the next word */
		if (pos > n)
			return -EINVAL;
	}
	return 0;
}

/* BYE: sc SSRC/CSRCs, then an optional length-prefixed reason. */
static int check_bye(const uint8_t *q, size_t n, unsigned sc)
{
	size_t pos = SL_RTCP_HLEN + 4u * sc;

	if (pos > n)
		return -EINVAL;
	if (pos < n && q[pos] > n - pos - 1)
		return -EINVAL;
	return 0;
}

/* Per-type rules on the n bytes of one packet that are not padding. */
static int check_body(const uint8_t *q, size_t n, uint8_t type, uint8_t fmt)
{
	switch (type) {
	case SL_RTCP_SR:
		return n >= SR_FIXED + (size_t)REPORT_BLOCK * fmt ? 0 : -EINVAL;
	case SL_RTCP_RR:
		return n >= RR_FIXED + (size_t)REPORT_BLOCK * fmt ? 0 : -EINVAL;
	case SL_RTCP_SDES:
		return check_sdes(q, n, fmt);
	case SL_RTCP_BYE:
		return check_bye(q, n, fmt);
	case SL_RTCP_APP:
		return n >= 12 ? 0 : -EINVAL;
	case SL_RTCP_RTPFB:
		if (n < FB_FIXED)
			return -EINVAL;
		if (fmt == FB_FMT_NACK && (n == FB_FIXED || (n - FB_FIXED) % NACK_FCI))
			return -EINVAL;
		return 0;
	case SL_RTCP_PSFB:
		if (n < FB_FIXED)
			return -EINVAL;
		if (fmt == FB_FMT_FIR && (n == FB_FIXED || (n - FB_FIXED) % FIR_FCI))
			return -EINVAL;
		return 0;
	case SL_RTCP_XR:
		return n >= 8 ? 0 : -EINVAL;
	default:
		return 0;
	}
}

/*
 * Check the packet at p + off (len bytes in the compound) and describe it
 * in *out. Returns its length in bytes or -EINVAL.
 */
static long read_packet(const uint8_t *p, size_t len, size_t off, struct sl_rtcp_pkt *out)
{
	const uint8_t *q = p + off;
	size_t plen, n;
	uint8_t type, fmt;

	if (len > UINT16_MAX || off >= len || len - off < SL_RTCP_HLEN)
		return -EINVAL;
	type = q[1];
	fmt = q[0] & 0x1f;
	plen = ((size_t)rd16(q + 2) + 1) * 4;
	if (q[0] >> 6 != RTCP_VERSION || type < RTCP_PT_MIN || type > RTCP_PT_MAX ||
	    plen > len - off)
		return -EINVAL;
	n = plen;
	if (q[0] & 0x20) {
		/* Padding: last packet only, 0 < pad <= payload. */
		if (off + plen != len || q[plen - 1] == 0 || q[plen - 1] > plen - SL_RTCP_HLEN)
			return -EINVAL;
		n -= q[plen - 1];
	}
	if (check_body(q, n, type, fmt) != 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->type = type;
	out->fmt = fmt;
	out->off = (uint16_t)off;
	out->len = (uint16_t)plen;
	if (n >= 8 && !((type == SL_RTCP_SDES || type == SL_RTCP_BYE) && fmt == 0))
		out->sender_ssrc = rd32(q + 4);
	if (type == SL_RTCP_RTPFB || type == SL_RTCP_PSFB)
		out->media_ssrc = rd32(q + 8);
	return (long)plen;
}

int sl_rtcp_validate(const uint8_t *p, size_t len)
{
	struct sl_rtcp_pkt pk;
	size_t off = 0;
	int count = 0;
	long plen;

	if (!p || len == 0)
		return -EINVAL;
	while (off < len) {
		plen = read_packet(p, len, off, &pk);
		if (plen < 0)
			return -EINVAL;
		off += (size_t)plen;
		count++;
	}
	return count;
}

void sl_rtcp_iter_init(struct sl_rtcp_iter *it, const uint8_t *p, size_t len)
{
	it->p = p;
	it->len = p ? len : 0;
	it->off = 0;
}

int sl_rtcp_next(struct sl_rtcp_iter *it, struct sl_rtcp_pkt *out)
{
	long plen;

	if (it->off >= it->len)
		return 0;
	plen = read_packet(it->p, it->len, it->off, out);
	if (plen < 0)
		return -EINVAL; /* sticky: the offset stays on the bad packet */
	it->off += (size_t)plen;
	return 1;
}

uint32_t sl_rtcp_sender_ssrc(const uint8_t *p, size_t len)
{
	if (!p || len < 8)
		return 0;
	return rd32(p + 4);
}

/* Bytes of pk that are not padding, or 0 if its padding is impossible. */
static size_t pkt_body_len(const uint8_t *compound, const struct sl_rtcp_pkt *pk)
{
	const uint8_t *q = compound + pk->off;
	size_t pad;

	if (pk->len < SL_RTCP_HLEN)
		return 0;
	if (!(q[0] & 0x20))
		return pk->len;
	pad = q[pk->len - 1];
	if (pad == 0 || pad > (size_t)pk->len - SL_RTCP_HLEN)
		return 0;
	return pk->len - pad;
}

int sl_rtcp_sr_read(const uint8_t *compound, const struct sl_rtcp_pkt *pk, struct sl_rtcp_sr *sr)
{
	const uint8_t *q = compound + pk->off;

	if (pk->type != SL_RTCP_SR || pkt_body_len(compound, pk) < SR_FIXED)
		return -EINVAL;
	sr->ssrc = rd32(q + 4);
	sr->ntp = (uint64_t)rd32(q + 8) << 32 | rd32(q + 12);
	sr->rtp_ts = rd32(q + 16);
	sr->packets = rd32(q + 20);
	sr->octets = rd32(q + 24);
	return 0;
}

unsigned sl_rtcp_nack_seqs(const uint8_t *compound, const struct sl_rtcp_pkt *pk, uint16_t *seqs,
			   unsigned max)
{
	const uint8_t *q = compound + pk->off;
	size_t body = pkt_body_len(compound, pk);
	unsigned out = 0;

	if (pk->type != SL_RTCP_RTPFB || pk->fmt != FB_FMT_NACK || body < FB_FIXED)
		return 0;
	for (size_t i = FB_FIXED; i + NACK_FCI <= body && out < max; i += NACK_FCI) {
		uint16_t pid = rd16(q + i), blp = rd16(q + i + 2);

		seqs[out++] = pid;
		for (unsigned b = 0; b < NACK_BLP_BITS && out < max; b++)
			if (blp & (1u << b))
				seqs[out++] = (uint16_t)(pid + b + 1);
	}
	return out;
}

/* Common header: V=2, P=0, fmt, type, length in bytes (a multiple of 4). */
static void write_hdr(uint8_t *buf, uint8_t fmt, uint8_t type, size_t len)
{
	buf[0] = (uint8_t)(RTCP_VERSION << 6 | fmt);
	buf[1] = type;
	wr16(buf + 2, (uint16_t)(len / 4 - 1));
}

size_t sl_rtcp_build_sr(uint8_t *buf, size_t cap, const struct sl_rtcp_sr *sr)
{
	if (!buf || cap < SR_FIXED)
		return 0;
	write_hdr(buf, 0, SL_RTCP_SR, SR_FIXED);
	wr32(buf + 4, sr->ssrc);
	wr32(buf + 8, (uint32_t)(sr->ntp >> 32));
	wr32(buf + 12, (uint32_t)sr->ntp);
	wr32(buf + 16, sr->rtp_ts);
	wr32(buf + 20, sr->packets);
	wr32(buf + 24, sr->octets);
	return SR_FIXED;
}

size_t sl_rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
	if (!buf || cap < FB_FIXED)
		return 0;
	write_hdr(buf, 1, SL_RTCP_PSFB, FB_FIXED);
	wr32(buf + 4, sender_ssrc);
	wr32(buf + 8, media_ssrc);
	return FB_FIXED;
}

/* RFC 5104: the header's media SSRC is 0; the target SSRC is in the FCI. */
size_t sl_rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
			 uint8_t seq_nr)
{
	if (!buf || cap < FB_FIXED + FIR_FCI)
		return 0;
	write_hdr(buf, FB_FMT_FIR, SL_RTCP_PSFB, FB_FIXED + FIR_FCI);
	wr32(buf + 4, sender_ssrc);
	wr32(buf + 8, 0);
	wr32(buf + 12, media_ssrc);
	buf[16] = seq_nr;
	buf[17] = buf[18] = buf[19] = 0;
	return FB_FIXED + FIR_FCI;
}

static bool seq_test(const uint64_t *bm, uint16_t s)
{
	return bm[s >> 6] >> (s & 63) & 1;
}

static void seq_clear(uint64_t *bm, uint16_t s)
{
	bm[s >> 6] &= ~(1ULL << (s & 63));
}

/* First set sequence number at or after from, circularly; bm must not be empty. */
static uint16_t seq_next(const uint64_t *bm, uint16_t from)
{
	unsigned w = from >> 6;
	uint64_t word = bm[w] & (~0ULL << (from & 63));

	for (unsigned k = 0; k <= SEQ_WORDS; k++) {
		if (word)
			return (uint16_t)(w * 64 + (unsigned)__builtin_ctzll(word));
		w = (w + 1) % SEQ_WORDS;
		word = bm[w];
	}
	return from;
}

/*
 * Where the NACK list starts: just after the largest circular gap between
 * set sequence numbers, so that a list around 65535 -> 0 is packed as one
 * run. Counts the distinct numbers into *count. Work: 1024 words.
 */
static uint16_t seq_start(const uint64_t *bm, unsigned *count)
{
	uint32_t first = 0, prev = 0, best = 0, start = 0;
	bool any = false;

	*count = 0;
	for (uint32_t w = 0; w < SEQ_WORDS; w++) {
		for (uint64_t word = bm[w]; word; word &= word - 1) {
			uint32_t s = w * 64 + (uint32_t)__builtin_ctzll(word);

			if (!any) {
				first = s;
				any = true;
			} else if (s - prev > best) {
				best = s - prev;
				start = s;
			}
			prev = s;
			(*count)++;
		}
	}
	if (first + 65536 - prev >= best)
		start = first;
	return (uint16_t)start;
}

/*
 * Greedy packing: each PID is the first missing number not yet covered and
 * its BLP takes every listed number among the 16 after it. Covered numbers
 * are cleared from the bitmap, so each is sent once.
 */
size_t sl_rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
			  const uint16_t *seqs, unsigned n)
{
	uint64_t bm[SEQ_WORDS];
	size_t len = FB_FIXED;
	unsigned left;
	uint16_t cur;

	if (!buf || !seqs || n == 0 || cap < FB_FIXED + NACK_FCI)
		return 0;
	memset(bm, 0, sizeof(bm));
	for (unsigned i = 0; i < n; i++)
		bm[seqs[i] >> 6] |= 1ULL << (seqs[i] & 63);
	cur = seq_start(bm, &left);
	while (left > 0) {
		uint16_t pid = seq_next(bm, cur), blp = 0;

		seq_clear(bm, pid);
		left--;
		for (unsigned b = 0; b < NACK_BLP_BITS; b++) {
			uint16_t s = (uint16_t)(pid + b + 1);

			if (left && seq_test(bm, s)) {
				blp |= (uint16_t)(1u << b);
				seq_clear(bm, s);
				left--;
			}
		}
		if (cap - len < NACK_FCI)
			return 0;
		wr16(buf + len, pid);
		wr16(buf + len + 2, blp);
		len += NACK_FCI;
		cur = (uint16_t)(pid + NACK_BLP_BITS + 1);
	}
	write_hdr(buf, FB_FMT_NACK, SL_RTCP_RTPFB, len);
	wr32(buf + 4, sender_ssrc);
	wr32(buf + 8, media_ssrc);
	return len;
}
