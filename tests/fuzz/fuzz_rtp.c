/*
 * fuzz_rtp.c - libFuzzer target for the RTP header code in dataplane/rtp.c.
 *
 * Parses the input as an RTP packet and, if that succeeds, asks for every
 * possible extension id, the audio level under every one-byte id, checks
 * the padding and rewrites a copy. Besides memory errors (ASan/UBSan) it
 * checks the properties the dataplane relies on: offsets inside the
 * packet, found values inside the extension block, a malformed block
 * reported the same for every id, and a rewrite that leaves every byte but
 * 2-11 alone. A broken property aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/rtp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void lookups(const uint8_t *data, const struct sl_rtp_info *ri)
{
	const uint8_t *blk = data + ri->ext_off, *val;
	int first = 1;
	uint8_t vlen;

	for (unsigned id = 0; id < 256; id++) {
		int rc = sl_rtp_find_ext(data, ri, (uint8_t)id, &val, &vlen);

		check(rc == 0 || rc == -ENOENT || rc == -EINVAL);
		if (rc == 0)
			check(id != 0 && val >= blk && val + vlen <= blk + ri->ext_len);
		/* Malformed is a property of the block, not of the id asked. */
		if (first != 1)
			check((rc == -EINVAL) == (first == -EINVAL));
		first = rc;
	}
	for (unsigned id = 0; id < 16; id++) {
		bool voice;
		uint8_t level = 0;
		int rc = sl_rtp_audio_level(data, ri, (uint8_t)id, &voice, &level);

		check(rc == 0 || rc == -ENOENT || rc == -EINVAL);
		if (rc == 0)
			check(level < 128);
	}
}

static void rewrite_copy(const uint8_t *data, size_t size)
{
	uint8_t *q = malloc(size);
	struct sl_rtp_info ri;

	if (!q)
		return;
	memcpy(q, data, size);
	sl_rtp_rewrite(q, 0x01234567, 0x89ab, 0xcdef0123);
	check(memcmp(q, data, 2) == 0 && memcmp(q + 12, data + 12, size - 12) == 0);
	check(sl_rtp_parse(q, size, &ri) == 0);
	check(ri.ssrc == 0x01234567 && ri.seq == 0x89ab && ri.ts == 0xcdef0123);
	free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_rtp_info ri;

	if (sl_rtp_parse(data, size, &ri) != 0)
		return 0;
	check(ri.hdr_len >= SL_RTP_HLEN && ri.hdr_len <= size);
	check(ri.ext_len == 0 || (size_t)ri.ext_off + ri.ext_len <= ri.hdr_len);
	lookups(data, &ri);
	if (sl_rtp_padding_ok(data, size, &ri) && ri.has_padding)
		check(data[size - 1] > 0 && data[size - 1] <= size - ri.hdr_len);
	rewrite_copy(data, size);
	return 0;
}
