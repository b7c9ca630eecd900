/*
 * demux.c - RFC 7983 demultiplexing of a UDP payload by its first byte.
 *
 * STUN, DTLS and SRTP/SRTCP share one port in WebRTC; the first byte tells
 * them apart, and RFC 5761 tells RTCP from RTP on a muxed port by the
 * payload type (RTCP packet types 192-223 leave 64-95 after the marker bit
 * is masked). A handful of
 * comparisons, no table, no state.
 */
#include <sluice/net.h>

enum sl_demux_class sl_demux(const uint8_t *p, size_t len)
{
	uint8_t b;

	if (!p || len == 0)
		return SL_DEMUX_DROP;
	b = p[0];
	if (b <= 3)
		return SL_DEMUX_STUN;
	if (b >= 16 && b <= 19)
		return SL_DEMUX_ZRTP;
	if (b >= 20 && b <= 63)
		return SL_DEMUX_DTLS;
	if (b >= 64 && b <= 79)
		return SL_DEMUX_TURN;
	if (b >= 128 && b <= 191) {
		uint8_t pt;

		if (len < 2)
			return SL_DEMUX_DROP;
		pt = p[1] & 0x7f;
		return pt >= 64 && pt <= 95 ? SL_DEMUX_RTCP : SL_DEMUX_RTP;
	}
	return SL_DEMUX_DROP;
}
