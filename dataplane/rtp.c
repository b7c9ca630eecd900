/*
 * rtp.c - RTP header parsing, header-extension lookup and header rewriting.
 *
 * The SFU reads RTP headers and nothing else: the payload may be end-to-end
 * encrypted, so it is never looked at. Every packet that reaches here came
 * from the Internet, so each field is bounds-checked against the buffer
 * before it is read, and a malformed packet yields -EINVAL, never a crash.
 * sl_rtp_parse records where the extension block lies; the RFC 8285 walk
 * (one-byte 0xBEDE and two-byte 0x100X forms) is done on demand by
 * sl_rtp_find_ext, which checks the whole block so that a malformed block
 * gives the same answer whichever id is asked for. The functions work on
 * plain byte buffers (no DPDK) so tests, fuzzers and the bench share them.
 */
#include <errno.h>
#include <string.h>

#include <sluice/rtp.h>

#include "bytes.h"

#define RTP_VERSION       2
#define EXT_ONE_BYTE      0xBEDE
#define EXT_TWO_BYTE_MASK 0xFFF0
#define EXT_TWO_BYTE      0x1000
#define EXT_ONE_BYTE_STOP 15

int sl_rtp_parse(const uint8_t *p, size_t len, struct sl_rtp_info *ri)
{
	size_t off, ext_len;

	memset(ri, 0, sizeof(*ri));
	if (!p || len < SL_RTP_HLEN || p[0] >> 6 != RTP_VERSION)
		return -EINVAL;
	ri->has_padding = (p[0] >> 5) & 1;
	ri->csrc_count = p[0] & 0x0f;
	ri->marker = p[1] >> 7;
	ri->pt = p[1] & 0x7f;
	ri->seq = rd16(p + 2);
	ri->ts = rd32(p + 4);
	ri->ssrc = rd32(p + 8);
	off = SL_RTP_HLEN + 4u * ri->csrc_count;
	if (off > len)
		return -EINVAL;
	if (p[0] & 0x10) {
		if (off + 4 > len)
			return -EINVAL;
		ext_len = 4u * rd16(p + off + 2);
		/* ri offsets are 16-bit: a larger header cannot be described. */
		if (ext_len > len - off - 4 || off + 4 + ext_len > UINT16_MAX)
			return -EINVAL;
		ri->ext_profile = rd16(p + off);
		ri->ext_off = (uint16_t)(off + 4);
		ri->ext_len = (uint16_t)ext_len;
		off += 4 + ext_len;
	}
	ri->hdr_len = (uint16_t)off;
	return 0;
}

bool sl_rtp_padding_ok(const uint8_t *p, size_t len, const struct sl_rtp_info *ri)
{
	uint8_t pad;

	if (!ri->has_padding)
		return true;
	if (len <= ri->hdr_len)
		return false;
	pad = p[len - 1];
	return pad > 0 && pad <= len - ri->hdr_len;
}

/*
 * One step of the one-byte form walk at b[*i] (n bytes in the block).
 * Returns 1 with *id, *val, *vlen set for an element, 0 for a padding byte,
 * -ENOENT at id 15 (stop), -EINVAL if the element runs past the block.
 */
static int ext_step_one(const uint8_t *b, size_t n, size_t *i, uint8_t *id, const uint8_t **val,
			uint8_t *vlen)
{
	uint8_t h = b[*i];
	size_t l = (size_t)(h & 0x0f) + 1;

	*id = h >> 4;
	if (*id == 0) { /* padding: a 0 byte (RFC 8285 sec. 4.2) */
		*i += 1;
		return 0;
	}
	if (*id == EXT_ONE_BYTE_STOP)
		return -ENOENT;
	if (l > n - *i - 1)
		return -EINVAL;
	*val = b + *i + 1;
	*vlen = (uint8_t)l;
	*i += 1 + l;
	return 1;
}

/* One step of the two-byte form walk; same returns, but no stop id. */
static int ext_step_two(const uint8_t *b, size_t n, size_t *i, uint8_t *id, const uint8_t **val,
			uint8_t *vlen)
{
	size_t l;

	*id = b[*i];
	if (*id == 0) {
		*i += 1;
		return 0;
	}
	if (n - *i < 2)
		return -EINVAL;
	l = b[*i + 1];
	if (l > n - *i - 2)
		return -EINVAL;
	*val = b + *i + 2;
	*vlen = (uint8_t)l;
	*i += 2 + l;
	return 1;
}

int sl_rtp_find_ext(const uint8_t *p, const struct sl_rtp_info *ri, uint8_t id, const uint8_t **val,
		    uint8_t *vlen)
{
	const uint8_t *b = p + ri->ext_off, *v = NULL, *found = NULL;
	size_t n = ri->ext_len, i = 0;
	uint8_t eid = 0, l = 0, found_len = 0;
	bool one, hit = false;
	int rc;

	if (ri->ext_profile == EXT_ONE_BYTE)
		one = true;
	else if ((ri->ext_profile & EXT_TWO_BYTE_MASK) == EXT_TWO_BYTE)
		one = false;
	else
		return -ENOENT;
	/* Walk the whole block (at most ext_len steps): malformed is malformed. */
	while (i < n) {
		if (one)
			rc = ext_step_one(b, n, &i, &eid, &v, &l);
		else
			rc = ext_step_two(b, n, &i, &eid, &v, &l);
		if (rc == -ENOENT)
			break;
		if (rc < 0)
			return rc;
		if (rc == 1 && eid == id && !hit) {
			hit = true;
			found = v;
			found_len = l;
		}
	}
	if (!hit)
		return -ENOENT;
	*val = found;
	*vlen = found_len;
	return 0;
}

int sl_rtp_audio_level(const uint8_t *p, const struct sl_rtp_info *ri, uint8_t id, bool *voice,
		       uint8_t *level)
{
	const uint8_t *v;
	uint8_t vlen;
	int rc;

	rc = sl_rtp_find_ext(p, ri, id, &v, &vlen);
	if (rc != 0)
		return rc;
	/* One byte defined; some senders pad the value, so read the first. */
	if (vlen < 1)
		return -EINVAL;
	*voice = v[0] >> 7;
	*level = v[0] & 0x7f;
	return 0;
}

void sl_rtp_rewrite(uint8_t *p, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
	wr16(p + 2, seq);
	wr32(p + 4, ts);
	wr32(p + 8, ssrc);
}
