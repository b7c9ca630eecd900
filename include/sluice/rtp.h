/*
 * rtp.h - RTP and RTCP header parsing and rewriting (RFC 3550, RFC 8285
 * header extensions, RFC 6464 audio level, RFC 4585/5104 feedback).
 *
 * Only headers are ever read: the payload of a media packet may be
 * end-to-end encrypted and is never parsed. Every function checks bounds
 * before it reads and works on plain byte buffers (no DPDK), so the same
 * code serves the dataplane, the tests, the fuzzers and the bench.
 */
#ifndef SLUICE_RTP_H
#define SLUICE_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_RTP_HLEN  12
#define SL_RTCP_HLEN 4

/* A parsed RTP header. Offsets are from the start of the RTP packet. */
struct sl_rtp_info {
	uint8_t pt;
	uint8_t marker;
	uint8_t csrc_count;
	uint8_t has_padding;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint16_t ext_profile; /* 0xBEDE, 0x1000-0x100F, other, or 0 = none */
	uint16_t ext_off;     /* first byte of extension data (after the 4-byte ext header) */
	uint16_t ext_len;     /* bytes of extension data */
	uint16_t hdr_len;     /* fixed header + CSRCs + extension = payload offset */
};

/*
 * Parse an RTP header (version 2). Checks that the CSRC list and the
 * extension fit in len. Returns 0 or -EINVAL. Padding is not checked here
 * (it lies in the encrypted payload); see sl_rtp_padding_ok.
 */
int sl_rtp_parse(const uint8_t *p, size_t len, struct sl_rtp_info *ri);

/* For a decrypted packet: 0 < padding length <= len - hdr_len. */
bool sl_rtp_padding_ok(const uint8_t *p, size_t len, const struct sl_rtp_info *ri);

/*
 * Find header extension element id (1-14 one-byte, 1-255 two-byte form).
 * On success sets *val and *vlen and returns 0; -ENOENT if absent; -EINVAL
 * if the extension block is malformed.
 */
int sl_rtp_find_ext(const uint8_t *p, const struct sl_rtp_info *ri, uint8_t id, const uint8_t **val,
		    uint8_t *vlen);

/*
 * RFC 6464 client-to-mixer audio level from extension id. Returns 0 and
 * sets *voice (V bit) and *level (0-127, -dBov); -ENOENT or -EINVAL.
 */
int sl_rtp_audio_level(const uint8_t *p, const struct sl_rtp_info *ri, uint8_t id, bool *voice,
		       uint8_t *level);

/* Overwrite SSRC, sequence number and timestamp (len >= 12 checked by caller). */
void sl_rtp_rewrite(uint8_t *p, uint32_t ssrc, uint16_t seq, uint32_t ts);

/* RTCP packet types. */
enum sl_rtcp_type {
	SL_RTCP_SR = 200,
	SL_RTCP_RR = 201,
	SL_RTCP_SDES = 202,
	SL_RTCP_BYE = 203,
	SL_RTCP_APP = 204,
	SL_RTCP_RTPFB = 205, /* fmt 1 generic NACK, 15 transport-cc */
	SL_RTCP_PSFB = 206,  /* fmt 1 PLI, 4 FIR, 15 AFB (REMB) */
	SL_RTCP_XR = 207,
};

/* One packet inside a compound RTCP packet. */
struct sl_rtcp_pkt {
	uint8_t type;         /* enum sl_rtcp_type or other */
	uint8_t fmt;          /* the 5-bit count / format field */
	uint16_t off;         /* offset of this packet in the compound */
	uint16_t len;         /* bytes of this packet, header included */
	uint32_t sender_ssrc; /* 0 when the packet is too short to carry one */
	uint32_t media_ssrc;  /* feedback (205/206) only, else 0 */
};

/* Iterator over a compound RTCP packet. */
struct sl_rtcp_iter {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/*
 * Check a whole compound packet: version 2 everywhere, every length inside
 * the buffer, padding only in the last packet, SR/RR report counts that fit,
 * feedback packets long enough for their fixed part. Returns the number of
 * packets (>= 1) or -EINVAL. Call before iterating.
 */
int sl_rtcp_validate(const uint8_t *p, size_t len);

/*
 * The sender SSRC of the first packet (bytes 4-7), for SRTCP before
 * unprotect: only the first 8 bytes are in the clear, so nothing else of
 * the compound may be read then. Returns 0 if len < 8. Not validated.
 */
uint32_t sl_rtcp_sender_ssrc(const uint8_t *p, size_t len);

void sl_rtcp_iter_init(struct sl_rtcp_iter *it, const uint8_t *p, size_t len);
/* Returns 1 with *out filled, 0 at the end, -EINVAL on a malformed packet. */
int sl_rtcp_next(struct sl_rtcp_iter *it, struct sl_rtcp_pkt *out);

/* Sender report fields. */
struct sl_rtcp_sr {
	uint32_t ssrc;
	uint64_t ntp;
	uint32_t rtp_ts;
	uint32_t packets;
	uint32_t octets;
};
/* Read the sender info of an SR packet found by the iterator: 0 or -EINVAL. */
int sl_rtcp_sr_read(const uint8_t *compound, const struct sl_rtcp_pkt *pk, struct sl_rtcp_sr *sr);

/*
 * Expand the generic NACK (RTPFB fmt 1) found by the iterator into sequence
 * numbers: each FCI is (PID, BLP). Writes at most max, returns how many.
 */
unsigned sl_rtcp_nack_seqs(const uint8_t *compound, const struct sl_rtcp_pkt *pk, uint16_t *seqs,
			   unsigned max);

/*
 * Builders: write one RTCP packet into buf (at most cap bytes) and return
 * its length, or 0 if cap is too small. These write complete packets for
 * the reduced-size form (RFC 5506); SRTCP protection is the caller's.
 */
size_t sl_rtcp_build_sr(uint8_t *buf, size_t cap, const struct sl_rtcp_sr *sr);
size_t sl_rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);
size_t sl_rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
			 uint8_t seq_nr);
/* Generic NACK for up to n sequence numbers (packed into PID/BLP pairs). */
size_t sl_rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
			  const uint16_t *seqs, unsigned n);

#endif
