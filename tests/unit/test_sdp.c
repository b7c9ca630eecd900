/*
 * test_sdp.c - SDP parsing, answer checking and offer writing.
 *
 * The fixtures are descriptions as the clients we serve write them -
 * a Chromium answer (with an RTX a=ssrc-group:FID), a Chromium offer with
 * rid simulcast, an aiortc answer (credentials per section, several
 * fingerprint hashes) and a Firefox offer (session-level fingerprint) -
 * and every expected field is spelled out by hand. The answer check is
 * run on a good answer and then on copies broken one way at a time, each
 * refused with its own reason. The writer is checked by parsing its output
 * back, and by its -ENOSPC and -EINVAL cases. Limits are probed at their
 * edges: the longest accepted line and value, and one byte more.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdp.h"

#define FP_CHROME                                                                           \
	"7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:" \
	"D0:A1:2C:19:08"
static const uint8_t fp_chrome[32] = { 0x7B, 0x8B, 0xF0, 0x65, 0x5F, 0x78, 0xE2, 0x51,
				       0x3B, 0xAC, 0x6F, 0xF3, 0x3F, 0x46, 0x1B, 0x35,
				       0xDC, 0xB8, 0x5F, 0x64, 0x1A, 0x24, 0xC2, 0x43,
				       0xF0, 0xA1, 0x58, 0xD0, 0xA1, 0x2C, 0x19, 0x08 };

#define FP_AIORTC                                                                           \
	"1F:2E:3D:4C:5B:6A:79:88:97:A6:B5:C4:D3:E2:F1:00:0F:1E:2D:3C:4B:5A:69:78:87:96:A5:" \
	"B4:C3:D2:E1:F0"
static const uint8_t fp_aiortc[32] = { 0x1F, 0x2E, 0x3D, 0x4C, 0x5B, 0x6A, 0x79, 0x88,
				       0x97, 0xA6, 0xB5, 0xC4, 0xD3, 0xE2, 0xF1, 0x00,
				       0x0F, 0x1E, 0x2D, 0x3C, 0x4B, 0x5A, 0x69, 0x78,
				       0x87, 0x96, 0xA5, 0xB4, 0xC3, 0xD2, 0xE1, 0xF0 };

#define FP_FIREFOX                                                                          \
	"A0:B1:C2:D3:E4:F5:06:17:28:39:4A:5B:6C:7D:8E:9F:A0:B1:C2:D3:E4:F5:06:17:28:39:4A:" \
	"5B:6C:7D:8E:9F"
static const uint8_t fp_firefox[32] = { 0xA0, 0xB1, 0xC2, 0xD3, 0xE4, 0xF5, 0x06, 0x17,
					0x28, 0x39, 0x4A, 0x5B, 0x6C, 0x7D, 0x8E, 0x9F,
					0xA0, 0xB1, 0xC2, 0xD3, 0xE4, 0xF5, 0x06, 0x17,
					0x28, 0x39, 0x4A, 0x5B, 0x6C, 0x7D, 0x8E, 0x9F };

/* Chromium's answer to an offer of mids 0 (audio, recvonly), 1 (video,
 * recvonly) and 2 (audio, sendonly): it publishes on 0 and 1. */
#define CHROME_TRANSPORT                          \
	"c=IN IP4 0.0.0.0\r\n"                    \
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"             \
	"a=ice-ufrag:Hx3V\r\n"                    \
	"a=ice-pwd:qP0sU0Rk2Yq7m2Fh8tE1bW5c\r\n"  \
	"a=ice-options:trickle\r\n"               \
	"a=fingerprint:sha-256 " FP_CHROME "\r\n" \
	"a=setup:active\r\n"

static const char chrome_answer[] =
	"v=0\r\n"
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0 1 2\r\n"
	"a=extmap-allow-mixed\r\n"
	"a=msid-semantic: WMS 4f0a2c1e-8c1b-4d7e-9a55-0b7f3e6d2a11\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" CHROME_TRANSPORT "a=mid:0\r\n"
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	"a=sendonly\r\n"
	"a=msid:4f0a2c1e-8c1b-4d7e-9a55-0b7f3e6d2a11 2b6c0d4f-audio\r\n"
	"a=rtcp-mux\r\n"
	"a=rtcp-rsize\r\n"
	"a=rtpmap:111 opus/48000/2\r\n"
	"a=fmtp:111 minptime=10;useinbandfec=1\r\n"
	"a=ssrc:3735928559 cname:Zr8yD0mJqW1xT5bK\r\n"
	"a=ssrc:3735928559 msid:4f0a2c1e-8c1b-4d7e-9a55-0b7f3e6d2a11 2b6c0d4f-audio\r\n"
	"m=video 9 UDP/TLS/RTP/SAVPF 96 98 102 45\r\n" CHROME_TRANSPORT "a=mid:1\r\n"
	"a=extmap:2 urn:ietf:params:rtp-hdrext:toffset\r\n"
	"a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
	"a=extmap:4 urn:3gpp:video-orientation\r\n"
	"a=sendonly\r\n"
	"a=msid:4f0a2c1e-8c1b-4d7e-9a55-0b7f3e6d2a11 7e3d9a20-video\r\n"
	"a=rtcp-mux\r\n"
	"a=rtcp-rsize\r\n"
	"a=rtpmap:96 VP8/90000\r\n"
	"a=rtcp-fb:96 ccm fir\r\n"
	"a=rtcp-fb:96 nack\r\n"
	"a=rtcp-fb:96 nack pli\r\n"
	"a=rtpmap:98 VP9/90000\r\n"
	"a=rtcp-fb:98 ccm fir\r\n"
	"a=rtcp-fb:98 nack\r\n"
	"a=rtcp-fb:98 nack pli\r\n"
	"a=fmtp:98 profile-id=0\r\n"
	"a=rtpmap:102 H264/90000\r\n"
	"a=rtcp-fb:102 ccm fir\r\n"
	"a=rtcp-fb:102 nack\r\n"
	"a=rtcp-fb:102 nack pli\r\n"
	"a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
	"a=rtpmap:45 AV1/90000\r\n"
	"a=rtcp-fb:45 ccm fir\r\n"
	"a=rtcp-fb:45 nack\r\n"
	"a=rtcp-fb:45 nack pli\r\n"
	"a=ssrc-group:FID 1111111111 2222222222\r\n"
	"a=ssrc:1111111111 cname:Zr8yD0mJqW1xT5bK\r\n"
	"a=ssrc:1111111111 msid:4f0a2c1e-8c1b-4d7e-9a55-0b7f3e6d2a11 7e3d9a20-video\r\n"
	"a=ssrc:2222222222 cname:Zr8yD0mJqW1xT5bK\r\n"
	"a=ssrc:2222222222 msid:4f0a2c1e-8c1b-4d7e-9a55-0b7f3e6d2a11 7e3d9a20-video\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" CHROME_TRANSPORT "a=mid:2\r\n"
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	"a=recvonly\r\n"
	"a=rtcp-mux\r\n"
	"a=rtcp-rsize\r\n"
	"a=rtpmap:111 opus/48000/2\r\n"
	"a=fmtp:111 minptime=10;useinbandfec=1\r\n";

/* Chromium offering VP8 simulcast with three rids (offer-style). */
static const char chrome_simulcast_offer[] =
	"v=0\r\n"
	"o=- 8031527262392545839 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0\r\n"
	"a=extmap-allow-mixed\r\n"
	"a=msid-semantic: WMS 9d3c\r\n"
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
	"a=ice-ufrag:Wq7e\r\n"
	"a=ice-pwd:Cn3bE5lX0pK8fY2uV6sR1hGm\r\n"
	"a=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 " FP_CHROME "\r\n"
	"a=setup:actpass\r\n"
	"a=mid:0\r\n"
	"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
	"a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
	"a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
	"a=sendonly\r\n"
	"a=msid:9d3c 5a1f\r\n"
	"a=rtcp-mux\r\n"
	"a=rtcp-rsize\r\n"
	"a=rtpmap:96 VP8/90000\r\n"
	"a=rtcp-fb:96 goog-remb\r\n"
	"a=rtcp-fb:96 transport-cc\r\n"
	"a=rtcp-fb:96 ccm fir\r\n"
	"a=rtcp-fb:96 nack\r\n"
	"a=rtcp-fb:96 nack pli\r\n"
	"a=rtpmap:97 rtx/90000\r\n"
	"a=fmtp:97 apt=96\r\n"
	"a=rid:q send\r\n"
	"a=rid:h send\r\n"
	"a=rid:f send\r\n"
	"a=simulcast:send q;h;f\r\n";

/* aiortc 1.4's answer: credentials and candidates per section, three
 * fingerprint hashes (sha-256 in the middle), a session id from the clock. */
#define AIORTC_TRANSPORT                                                                 \
	"a=candidate:5e1a3b 1 udp 2130706431 192.168.1.20 53714 typ host\r\n"            \
	"a=end-of-candidates\r\n"                                                        \
	"a=ice-ufrag:Xa3z\r\n"                                                           \
	"a=ice-pwd:f8Jq2LmN5pR7sT9vW1xY3z\r\n"                                           \
	"a=fingerprint:sha-384 "                                                         \
	"11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:" \
	"BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00\r\n"          \
	"a=fingerprint:sha-256 " FP_AIORTC "\r\n"                                        \
	"a=fingerprint:sha-512 AA:BB\r\n"                                                \
	"a=setup:active\r\n"

static const char aiortc_answer[] =
	"v=0\r\n"
	"o=- 3872658285 3872658285 IN IP4 0.0.0.0\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0 1\r\n"
	"a=msid-semantic:WMS *\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
	"c=IN IP4 192.168.1.20\r\n"
	"a=sendonly\r\n"
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	"a=mid:0\r\n"
	"a=msid:1d7f3c3a-2b0e-4d6e-8a4b-5b0f7d0c1e22 9c2e5f10-audio\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
	"a=rtcp-mux\r\n"
	"a=ssrc:3409182931 cname:0a7b1b3c-5d6e-4f70-8192-a3b4c5d6e7f8\r\n"
	"a=rtpmap:111 opus/48000/2\r\n"
	"a=fmtp:111 minptime=10;useinbandfec=1\r\n" AIORTC_TRANSPORT
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
	"c=IN IP4 192.168.1.20\r\n"
	"a=sendonly\r\n"
	"a=mid:1\r\n"
	"a=msid:1d7f3c3a-2b0e-4d6e-8a4b-5b0f7d0c1e22 4e8a6b21-video\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
	"a=rtcp-mux\r\n"
	"a=ssrc:1684827451 cname:0a7b1b3c-5d6e-4f70-8192-a3b4c5d6e7f8\r\n"
	"a=rtpmap:96 VP8/90000\r\n"
	"a=rtcp-fb:96 nack\r\n"
	"a=rtcp-fb:96 nack pli\r\n"
	"a=rtcp-fb:96 ccm fir\r\n" AIORTC_TRANSPORT;

/* Firefox's offer: fingerprint at session level, FID after the ssrcs,
 * extmap with a direction, LF line ends. */
static const char firefox_offer[] =
	"v=0\n"
	"o=mozilla...THIS_IS_SDPARTA-128.0 6354738252948129432 0 IN IP4 0.0.0.0\n"
	"s=-\n"
	"t=0 0\n"
	"a=fingerprint:sha-256 " FP_FIREFOX "\n"
	"a=group:BUNDLE 0 1\n"
	"a=ice-options:trickle\n"
	"a=msid-semantic:WMS *\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101\n"
	"c=IN IP4 0.0.0.0\n"
	"a=sendrecv\n"
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\n"
	"a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\n"
	"a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\n"
	"a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1\n"
	"a=fmtp:101 0-15\n"
	"a=ice-pwd:8b1c9f2e4d6a0b3c5e7f9a1b2c3d4e5f\n"
	"a=ice-ufrag:3f9d2a71\n"
	"a=mid:0\n"
	"a=msid:{5b8e7c2a-1f3d-4e6b-9a0c-2d4f6b8e0a1c} {0c2e4a6b-8d0f-4b2d-9f1e-3c5a7e9b1d3f}\n"
	"a=rtcp-mux\n"
	"a=rtpmap:109 opus/48000/2\n"
	"a=rtpmap:9 G722/8000/1\n"
	"a=rtpmap:0 PCMU/8000\n"
	"a=rtpmap:8 PCMA/8000\n"
	"a=rtpmap:101 telephone-event/8000\n"
	"a=setup:actpass\n"
	"a=ssrc:2655508255 cname:{a1b2c3d4-e5f6-4711-8899-aabbccddeeff}\n"
	"m=video 9 UDP/TLS/RTP/SAVPF 120 124\n"
	"c=IN IP4 0.0.0.0\n"
	"a=sendrecv\n"
	"a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\n"
	"a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\n"
	"a=fmtp:120 max-fs=12288;max-fr=60\n"
	"a=fmtp:124 apt=120\n"
	"a=ice-pwd:8b1c9f2e4d6a0b3c5e7f9a1b2c3d4e5f\n"
	"a=ice-ufrag:3f9d2a71\n"
	"a=mid:1\n"
	"a=rtcp-fb:120 nack\n"
	"a=rtcp-fb:120 nack pli\n"
	"a=rtcp-fb:120 ccm fir\n"
	"a=rtcp-mux\n"
	"a=rtpmap:120 VP8/90000\n"
	"a=rtpmap:124 rtx/90000\n"
	"a=setup:actpass\n"
	"a=ssrc:1233332626 cname:{a1b2c3d4-e5f6-4711-8899-aabbccddeeff}\n"
	"a=ssrc:1537231000 cname:{a1b2c3d4-e5f6-4711-8899-aabbccddeeff}\n"
	"a=ssrc-group:FID 1233332626 1537231000\n";

static struct sl_sdp *sdp;
static char *wbuf;
#define WBUF_CAP (128 * 1024)

static int setup_bufs(void **state)
{
	(void)state;
	sdp = malloc(sizeof(*sdp));
	wbuf = malloc(WBUF_CAP);
	return sdp && wbuf ? 0 : -1;
}

static int free_bufs(void **state)
{
	(void)state;
	free(sdp);
	free(wbuf);
	return 0;
}

static int parse_str(const char *s, const char **err)
{
	return sl_sdp_parse(s, strlen(s), sdp, err);
}

/* A malloc'd copy of src with every occurrence of find replaced. */
static char *edit(const char *src, const char *find, const char *repl)
{
	size_t fl = strlen(find), rl = strlen(repl), n = 0;
	char *out = malloc(strlen(src) * 2 + 1), *o = out;
	const char *p = src, *at;

	assert_non_null(out);
	while ((at = strstr(p, find)) != NULL) {
		memcpy(o, p, (size_t)(at - p));
		o += at - p;
		memcpy(o, repl, rl);
		o += rl;
		p = at + fl;
		n++;
	}
	strcpy(o, p);
	assert_true(n > 0); /* the edit must change something */
	return out;
}

static void assert_creds(const struct sl_sdp_media *m, const char *ufrag, const char *pwd,
			 const uint8_t *fp, uint8_t setup)
{
	assert_string_equal(m->ice_ufrag, ufrag);
	assert_string_equal(m->ice_pwd, pwd);
	assert_true(m->has_fingerprint);
	assert_memory_equal(m->fingerprint, fp, 32);
	assert_int_equal(m->setup, setup);
}

static void parse_chrome_answer(void **state)
{
	const struct sl_sdp_media *m;

	(void)state;
	assert_int_equal(parse_str(chrome_answer, NULL), 0);
	assert_false(sdp->ice_lite);
	assert_string_equal(sdp->ice_ufrag, "Hx3V");
	assert_string_equal(sdp->ice_pwd, "qP0sU0Rk2Yq7m2Fh8tE1bW5c");
	assert_true(sdp->has_fingerprint);
	assert_memory_equal(sdp->fingerprint, fp_chrome, 32);
	assert_int_equal(sdp->setup, SL_SDP_SETUP_ACTIVE);
	assert_int_equal(sdp->n_bundle, 3);
	assert_string_equal(sdp->bundle[0], "0");
	assert_string_equal(sdp->bundle[2], "2");
	assert_int_equal(sdp->n_media, 3);

	m = &sdp->media[0];
	assert_int_equal(m->kind, SL_SDP_KIND_AUDIO);
	assert_int_equal(m->dir, SL_SDP_SENDONLY);
	assert_false(m->rejected);
	assert_true(m->rtcp_mux);
	assert_string_equal(m->mid, "0");
	assert_int_equal(m->n_ssrc, 1);
	assert_int_equal(m->ssrc[0], 3735928559u);
	assert_int_equal(m->n_codec, 1);
	assert_int_equal(m->codec[0].pt, 111);
	assert_string_equal(m->codec[0].name, "opus");
	assert_int_equal(m->codec[0].clock, 48000);
	assert_int_equal(m->codec[0].channels, 2);
	assert_int_equal(m->n_ext, 1);
	assert_int_equal(m->ext[0].id, 1);
	assert_string_equal(m->ext[0].uri, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
	assert_int_equal(m->n_rid, 0);
	assert_false(m->simulcast);
	assert_creds(m, "Hx3V", "qP0sU0Rk2Yq7m2Fh8tE1bW5c", fp_chrome, SL_SDP_SETUP_ACTIVE);

	m = &sdp->media[1];
	assert_int_equal(m->kind, SL_SDP_KIND_VIDEO);
	assert_int_equal(m->dir, SL_SDP_SENDONLY);
	assert_string_equal(m->mid, "1");
	assert_int_equal(m->n_ssrc, 1); /* 2222222222 is the RTX of the FID pair */
	assert_int_equal(m->ssrc[0], 1111111111u);
	assert_int_equal(m->n_codec, 4);
	assert_int_equal(m->codec[1].pt, 98);
	assert_string_equal(m->codec[1].name, "VP9");
	assert_int_equal(m->codec[1].clock, 90000);
	assert_int_equal(m->codec[1].channels, 0);
	assert_int_equal(m->codec[3].pt, 45);
	assert_string_equal(m->codec[3].name, "AV1");
	assert_int_equal(m->n_ext, 3);
	assert_int_equal(m->ext[1].id, 3);
	assert_string_equal(m->ext[1].uri,
			    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time");
	assert_creds(m, "Hx3V", "qP0sU0Rk2Yq7m2Fh8tE1bW5c", fp_chrome, SL_SDP_SETUP_ACTIVE);

	m = &sdp->media[2];
	assert_int_equal(m->kind, SL_SDP_KIND_AUDIO);
	assert_int_equal(m->dir, SL_SDP_RECVONLY);
	assert_string_equal(m->mid, "2");
	assert_int_equal(m->n_ssrc, 0);
	assert_true(m->rtcp_mux);
}

static void parse_chrome_simulcast_offer(void **state)
{
	const struct sl_sdp_media *m = &sdp->media[0];

	(void)state;
	assert_int_equal(parse_str(chrome_simulcast_offer, NULL), 0);
	assert_int_equal(sdp->n_media, 1);
	assert_int_equal(sdp->setup, SL_SDP_SETUP_ACTPASS);
	assert_int_equal(m->kind, SL_SDP_KIND_VIDEO);
	assert_int_equal(m->dir, SL_SDP_SENDONLY);
	assert_string_equal(m->mid, "0");
	assert_true(m->simulcast);
	assert_int_equal(m->n_rid, 3);
	assert_string_equal(m->rid[0], "q");
	assert_string_equal(m->rid[1], "h");
	assert_string_equal(m->rid[2], "f");
	assert_int_equal(m->n_ssrc, 0);
	assert_int_equal(m->n_codec, 2);
	assert_string_equal(m->codec[1].name, "rtx");
	assert_int_equal(m->codec[1].pt, 97);
	assert_int_equal(m->n_ext, 3);
	assert_int_equal(m->ext[2].id, 11);
	assert_creds(m, "Wq7e", "Cn3bE5lX0pK8fY2uV6sR1hGm", fp_chrome, SL_SDP_SETUP_ACTPASS);
}

static void parse_aiortc_answer(void **state)
{
	(void)state;
	assert_int_equal(parse_str(aiortc_answer, NULL), 0);
	assert_int_equal(sdp->n_media, 2);
	assert_int_equal(sdp->n_bundle, 2);
	/* Only in the sections: lifted to the session from the first one. */
	assert_string_equal(sdp->ice_ufrag, "Xa3z");
	assert_string_equal(sdp->ice_pwd, "f8Jq2LmN5pR7sT9vW1xY3z");
	assert_true(sdp->has_fingerprint);
	assert_memory_equal(sdp->fingerprint, fp_aiortc, 32);
	assert_int_equal(sdp->setup, SL_SDP_SETUP_ACTIVE);
	for (unsigned i = 0; i < 2; i++) {
		const struct sl_sdp_media *m = &sdp->media[i];

		assert_int_equal(m->kind, i ? SL_SDP_KIND_VIDEO : SL_SDP_KIND_AUDIO);
		assert_int_equal(m->dir, SL_SDP_SENDONLY);
		assert_true(m->rtcp_mux);
		assert_int_equal(m->n_ssrc, 1);
		assert_int_equal(m->n_codec, 1);
		assert_creds(m, "Xa3z", "f8Jq2LmN5pR7sT9vW1xY3z", fp_aiortc, SL_SDP_SETUP_ACTIVE);
	}
	assert_int_equal(sdp->media[0].ssrc[0], 3409182931u);
	assert_int_equal(sdp->media[1].ssrc[0], 1684827451u);
	assert_string_equal(sdp->media[1].mid, "1");
	assert_string_equal(sdp->media[1].codec[0].name, "VP8");
}

static void parse_firefox_offer(void **state)
{
	const struct sl_sdp_media *a = &sdp->media[0], *v = &sdp->media[1];

	(void)state;
	assert_int_equal(parse_str(firefox_offer, NULL), 0);
	assert_int_equal(sdp->n_media, 2);
	assert_memory_equal(sdp->fingerprint, fp_firefox, 32);
	assert_string_equal(sdp->ice_ufrag, "3f9d2a71");
	assert_int_equal(sdp->setup, SL_SDP_SETUP_ACTPASS);
	/* The session-level fingerprint reaches both sections. */
	assert_creds(a, "3f9d2a71", "8b1c9f2e4d6a0b3c5e7f9a1b2c3d4e5f", fp_firefox,
		     SL_SDP_SETUP_ACTPASS);
	assert_creds(v, "3f9d2a71", "8b1c9f2e4d6a0b3c5e7f9a1b2c3d4e5f", fp_firefox,
		     SL_SDP_SETUP_ACTPASS);
	assert_int_equal(a->dir, SL_SDP_SENDRECV);
	assert_int_equal(a->n_codec, 5);
	assert_string_equal(a->codec[1].name, "G722");
	assert_int_equal(a->codec[1].channels, 1);
	assert_string_equal(a->codec[2].name, "PCMU");
	assert_int_equal(a->codec[2].pt, 0);
	assert_int_equal(a->codec[2].clock, 8000);
	assert_string_equal(a->codec[4].name, "telephone-event");
	assert_int_equal(a->n_ext, 3);
	assert_int_equal(a->ext[1].id, 2);
	assert_string_equal(a->ext[1].uri, "urn:ietf:params:rtp-hdrext:csrc-audio-level");
	assert_int_equal(a->n_ssrc, 1);
	assert_int_equal(a->ssrc[0], 2655508255u);
	/* FID after the ssrc lines still removes the RTX ssrc. */
	assert_int_equal(v->n_ssrc, 1);
	assert_int_equal(v->ssrc[0], 1233332626u);
	assert_int_equal(v->n_codec, 2);
}

/* ---- the offer writer ---- */

static void fill_offer(struct sl_sdp_offer *o)
{
	static const uint8_t kinds[3] = { SL_SDP_KIND_AUDIO, SL_SDP_KIND_VIDEO, SL_SDP_KIND_AUDIO };
	static const uint8_t dirs[3] = { SL_SDP_RECVONLY, SL_SDP_RECVONLY, SL_SDP_SENDONLY };

	memset(o, 0, sizeof(*o));
	o->session_id = 18446744073709551615u;
	o->version = 7;
	strcpy(o->ice_ufrag, "Sl7u");
	strcpy(o->ice_pwd, "abcdefghijklmnopqrstuv+/");
	strcpy(o->fingerprint, FP_CHROME);
	strcpy(o->cand_ip4, "203.0.113.7");
	strcpy(o->cand_ip6, "2001:db8::7");
	o->port = 40000;
	o->n_media = 3;
	for (unsigned i = 0; i < 3; i++) {
		o->media[i].kind = kinds[i];
		o->media[i].dir = dirs[i];
		snprintf(o->media[i].mid, sizeof(o->media[i].mid), "%u", i);
	}
	o->media[2].ssrc = 0xfeedbeef;
	strcpy(o->media[2].msid_stream, "pub-42");
	strcpy(o->media[2].msid_track, "pub-42.audio");
}

static void write_offer_round_trip(void **state)
{
	struct sl_sdp_offer o;
	int n;

	(void)state;
	fill_offer(&o);
	o.media[1].dir = SL_SDP_INACTIVE;
	n = sl_sdp_write_offer(&o, wbuf, WBUF_CAP);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(wbuf));
	assert_non_null(strstr(wbuf, "o=- 18446744073709551615 7 IN IP4 0.0.0.0\r\n"));
	assert_non_null(strstr(wbuf, "\r\na=ice-lite\r\na=group:BUNDLE 0 1 2\r\n"));
	assert_non_null(strstr(wbuf, "a=candidate:1 1 udp 2130706431 203.0.113.7 40000 typ host\r\n"
				     "a=candidate:2 1 udp 2130706175 2001:db8::7 40000 typ host\r\n"
				     "a=end-of-candidates\r\n"));
	assert_non_null(strstr(wbuf, "m=video 9 UDP/TLS/RTP/SAVPF 96 98 102 45\r\n"
				     "c=IN IP4 0.0.0.0\r\na=mid:1\r\na=inactive\r\n"));
	assert_non_null(strstr(wbuf, "a=msid:pub-42 pub-42.audio\r\n"
				     "a=ssrc:4276993775 cname:pub-42\r\n"
				     "a=ssrc:4276993775 msid:pub-42 pub-42.audio\r\n"));

	assert_int_equal(sl_sdp_parse(wbuf, (size_t)n, sdp, NULL), 0);
	assert_true(sdp->ice_lite);
	assert_int_equal(sdp->n_media, 3);
	assert_int_equal(sdp->n_bundle, 3);
	for (unsigned i = 0; i < 3; i++) {
		const struct sl_sdp_media *m = &sdp->media[i];

		assert_string_equal(m->mid, o.media[i].mid);
		assert_string_equal(sdp->bundle[i], o.media[i].mid);
		assert_int_equal(m->kind, o.media[i].kind);
		assert_int_equal(m->dir, o.media[i].dir);
		assert_false(m->rejected);
		assert_true(m->rtcp_mux);
		assert_int_equal(m->n_codec, m->kind == SL_SDP_KIND_AUDIO ? 1 : 4);
		assert_int_equal(m->n_ext, m->kind == SL_SDP_KIND_AUDIO ? 1 : 0);
		assert_int_equal(m->n_ssrc, o.media[i].dir == SL_SDP_SENDONLY ? 1 : 0);
		assert_creds(m, "Sl7u", "abcdefghijklmnopqrstuv+/", fp_chrome,
			     SL_SDP_SETUP_ACTPASS);
	}
	assert_int_equal(sdp->media[0].codec[0].pt, SL_SDP_PT_OPUS);
	assert_int_equal(sdp->media[0].ext[0].id, SL_SDP_AUDIO_LEVEL_EXT);
	assert_int_equal(sdp->media[1].codec[0].pt, SL_SDP_PT_VP8);
	assert_int_equal(sdp->media[2].ssrc[0], 0xfeedbeef);
}

static void write_offer_ipv6_only(void **state)
{
	struct sl_sdp_offer o;

	(void)state;
	fill_offer(&o);
	o.cand_ip4[0] = '\0';
	assert_true(sl_sdp_write_offer(&o, wbuf, WBUF_CAP) > 0);
	assert_non_null(strstr(wbuf, "c=IN IP6 ::\r\n"));
	assert_non_null(strstr(wbuf, "a=candidate:1 1 udp 2130706431 2001:db8::7 40000 "
				     "typ host\r\n"));
	assert_null(strstr(wbuf, "c=IN IP4"));
	assert_null(strstr(wbuf, "203.0.113.7"));
}

static void write_offer_enospc(void **state)
{
	struct sl_sdp_offer o;
	int n;

	(void)state;
	fill_offer(&o);
	n = sl_sdp_write_offer(&o, wbuf, WBUF_CAP);
	assert_true(n > 0);
	assert_int_equal(sl_sdp_write_offer(&o, wbuf, (size_t)n + 1), n);
	assert_int_equal(sl_sdp_write_offer(&o, wbuf, (size_t)n), -ENOSPC);
	assert_string_equal(wbuf, "");
	assert_int_equal(sl_sdp_write_offer(&o, wbuf, 16), -ENOSPC);
	assert_int_equal(sl_sdp_write_offer(&o, wbuf, 0), -ENOSPC);
	assert_int_equal(sl_sdp_write_offer(&o, NULL, 0), -ENOSPC);
	assert_int_equal(sl_sdp_write_offer(&o, NULL, 100), -EINVAL);
	assert_int_equal(sl_sdp_write_offer(NULL, wbuf, WBUF_CAP), -EINVAL);
}

static void write_offer_einval(void **state)
{
	static const char *const bad_ids[] = { "", "a b", "a\r\na=x", "m;d", "mi\xc3\xa9", "x/y" };
	struct sl_sdp_offer o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		fill_offer(&o);
		strcpy(o.media[1].mid, bad_ids[i]);
		assert_int_equal(sl_sdp_write_offer(&o, wbuf, WBUF_CAP), -EINVAL);
		fill_offer(&o);
		strcpy(o.media[2].msid_stream, bad_ids[i]);
		assert_int_equal(sl_sdp_write_offer(&o, wbuf, WBUF_CAP), -EINVAL);
		fill_offer(&o);
		strcpy(o.media[2].msid_track, bad_ids[i]);
		assert_int_equal(sl_sdp_write_offer(&o, wbuf, WBUF_CAP), -EINVAL);
	}
	/* The msid ids matter only on SENDONLY sections. */
	fill_offer(&o);
	strcpy(o.media[1].msid_stream, "a b");
	assert_true(sl_sdp_write_offer(&o, wbuf, WBUF_CAP) > 0);
	/* A mid with no NUL inside its array. */
	fill_offer(&o);
	memset(o.media[0].mid, 'a', sizeof(o.media[0].mid));
	assert_int_equal(sl_sdp_write_offer(&o, wbuf, WBUF_CAP), -EINVAL);
	fill_offer(&o);
	memset(o.media[0].mid, 'a', sizeof(o.media[0].mid) - 1);
	assert_true(sl_sdp_write_offer(&o, wbuf, WBUF_CAP) > 0);
	fill_offer(&o);
	strcpy(o.media[1].mid, "0"); /* duplicate */
	assert_int_equal(sl_sdp_write_offer(&o, wbuf, WBUF_CAP), -EINVAL);
}

static void write_offer_einval_fields(void **state)
{
	struct sl_sdp_offer o;

	(void)state;
#define EXPECT_EINVAL(stmt)                                                        \
	do {                                                                       \
		fill_offer(&o);                                                    \
		stmt;                                                              \
		assert_int_equal(sl_sdp_write_offer(&o, wbuf, WBUF_CAP), -EINVAL); \
	} while (0)
	EXPECT_EINVAL(o.n_media = 0);
	EXPECT_EINVAL(o.n_media = SL_SDP_MAX_MEDIA + 1);
	EXPECT_EINVAL((o.cand_ip4[0] = '\0', o.cand_ip6[0] = '\0'));
	EXPECT_EINVAL(strcpy(o.cand_ip4, "203.0.113.256"));
	EXPECT_EINVAL(strcpy(o.cand_ip4, "1.2.3.4\r\n"));
	EXPECT_EINVAL(strcpy(o.cand_ip6, "2001:db8::7 x"));
	EXPECT_EINVAL(o.port = 0);
	EXPECT_EINVAL(o.media[0].kind = SL_SDP_KIND_OTHER);
	EXPECT_EINVAL(o.media[0].kind = 3);
	EXPECT_EINVAL(o.media[0].dir = SL_SDP_SENDRECV);
	EXPECT_EINVAL(o.media[0].dir = 4);
	EXPECT_EINVAL(strcpy(o.ice_ufrag, "abc"));
	EXPECT_EINVAL(strcpy(o.ice_ufrag, "ab d"));
	EXPECT_EINVAL(strcpy(o.ice_pwd, "short"));
	EXPECT_EINVAL(strcpy(o.ice_pwd, "abcdefghijklmnopqrstuvw\r"));
	EXPECT_EINVAL(strcpy(o.fingerprint, "AB:CD"));
	EXPECT_EINVAL(o.fingerprint[2] = '-');
	EXPECT_EINVAL(o.fingerprint[0] = 'G');
#undef EXPECT_EINVAL
}

/* ---- the answer check ---- */

static const char *check_text(const char *text)
{
	struct sl_sdp_offer o;
	const char *err = NULL;

	fill_offer(&o);
	assert_int_equal(parse_str(text, &err), 0);
	if (sl_sdp_check_answer(sdp, &o, &err) == 0)
		return NULL;
	assert_non_null(err);
	return err;
}

static void check_answer_good(void **state)
{
	struct sl_sdp_offer o;

	(void)state;
	assert_null(check_text(chrome_answer));
	fill_offer(&o);
	assert_int_equal(sl_sdp_check_answer(sdp, &o, NULL), 0);
	assert_int_equal(sl_sdp_check_answer(NULL, &o, NULL), -EINVAL);
	assert_int_equal(sl_sdp_check_answer(sdp, NULL, NULL), -EINVAL);
}

/* a=setup:passive on every section: we are the DTLS client. */
static void check_answer_passive(void **state)
{
	char *a = edit(chrome_answer, "a=setup:active", "a=setup:passive");

	(void)state;
	assert_null(check_text(a));
	assert_int_equal(sdp->setup, SL_SDP_SETUP_PASSIVE);
	free(a);
	assert_null(check_text(chrome_answer));
	assert_int_equal(sdp->setup, SL_SDP_SETUP_ACTIVE);
}

struct defect {
	const char *find, *repl, *reason;
};

static const struct defect defects[] = {
	{ "a=ice-ufrag:Hx3V\r\n", "", "missing or bad a=ice-ufrag" },
	{ "a=ice-ufrag:Hx3V\r\n", "a=ice-ufrag:Hx3\r\n", "missing or bad a=ice-ufrag" },
	{ "a=ice-pwd:qP0sU0Rk2Yq7m2Fh8tE1bW5c\r\n", "", "missing or bad a=ice-pwd" },
	{ "a=ice-pwd:qP0sU0Rk2Yq7m2Fh8tE1bW5c\r\n", "a=ice-pwd:qP0sU0Rk2Yq7m2Fh8tE1b\r\n",
	  "missing or bad a=ice-pwd" },
	{ "a=fingerprint:sha-256 ", "a=fingerprint:sha-1 ", "no sha-256 a=fingerprint" },
	{ "a=setup:active\r\na=mid:1", "a=setup:passive\r\na=mid:1",
	  "a=setup differs between m= sections" },
	{ "a=setup:active", "a=setup:actpass", "a=setup is not active or passive" },
	{ "a=setup:active\r\n", "", "a=setup is not active or passive" },
	{ "a=mid:1\r\n", "a=mid:v\r\n", "answer's mid differs from the offer's" },
	{ "a=mid:1\r\n", "", "answer's mid differs from the offer's" },
	{ "m=video", "m=audio", "answer's media kind differs from the offer's" },
	{ "a=rtcp-mux\r\n", "", "no a=rtcp-mux" },
	{ "a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1", "m= section not in the BUNDLE group" },
	{ "a=group:BUNDLE 0 1 2\r\n", "", "m= section not in the BUNDLE group" },
	{ "a=group:BUNDLE 0 1 2", "a=group:LS 0 1 2", "m= section not in the BUNDLE group" },
	{ "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
	  "a=ice-ufrag:Hx3V\r\na=ice-pwd:qP0sU0Rk2Yq7m2Fh8tE1bW5c\r\na=ice-options:trickle\r\n"
	  "a=fingerprint:sha-256 " FP_CHROME "\r\na=setup:active\r\na=mid:2",
	  "a=x:", "answer's m= sections differ in number from the offer's" },
};

static void check_answer_defects(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(defects) / sizeof(defects[0]); i++) {
		char *bad = edit(chrome_answer, defects[i].find, defects[i].repl);
		const char *why = check_text(bad);

		if (!why || strcmp(why, defects[i].reason) != 0)
			fail_msg("defect %zu: got \"%s\", want \"%s\"", i, why ? why : "(accepted)",
				 defects[i].reason);
		free(bad);
	}
}

static void check_answer_rejected_sections(void **state)
{
	char *a, *b;

	(void)state;
	/* A section rejected with port 0 is not held to the transport rules. */
	a = edit(chrome_answer,
		 "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
		 "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:Hx3V\r\n"
		 "a=ice-pwd:qP0sU0Rk2Yq7m2Fh8tE1bW5c\r\na=ice-options:trickle\r\n"
		 "a=fingerprint:sha-256 " FP_CHROME "\r\na=setup:active\r\na=mid:2",
		 "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:2");
	b = edit(a, "a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1");
	assert_null(check_text(b));
	assert_true(sdp->media[2].rejected);
	/* bundle-only with port 0 is accepted, so held to the rules. */
	free(b);
	b = edit(a, "a=mid:2\r\n", "a=mid:2\r\na=bundle-only\r\n");
	assert_string_equal(check_text(b), "missing or bad a=ice-ufrag");
	free(a);
	free(b);
	/* Every section rejected: nothing to carry media. */
	a = edit(chrome_answer, "m=audio 9 ", "m=audio 0 ");
	b = edit(a, "m=video 9 ", "m=video 0 ");
	assert_string_equal(check_text(b), "answer rejects every m= section");
	free(a);
	free(b);
}

/* ---- the parser's limits and malformed input ---- */

static void expect_parse_error(const char *text, size_t len, const char *reason)
{
	const char *err = NULL;

	assert_int_equal(sl_sdp_parse(text, len, sdp, &err), -EINVAL);
	assert_non_null(err);
	if (reason && strcmp(err, reason) != 0)
		fail_msg("got \"%s\", want \"%s\"", err, reason);
}

static void parse_size_limits(void **state)
{
	size_t big = SL_SDP_MAX_LEN + 16;
	char *t = malloc(big + 1);
	size_t head;

	(void)state;
	assert_non_null(t);
	/* 64 KiB + 1 of otherwise valid lines. */
	head = (size_t)sprintf(t, "v=0\r\n");
	while (head + 10 <= big)
		head += (size_t)sprintf(t + head, "a=x:1234\r\n");
	t[SL_SDP_MAX_LEN - 1] = '\n'; /* the limit falls on a line end */
	expect_parse_error(t, SL_SDP_MAX_LEN + 1, "description too long");
	assert_int_equal(sl_sdp_parse(t, SL_SDP_MAX_LEN, sdp, NULL), 0);

	/* An a=rtpmap with a 64 KiB value. */
	head = (size_t)sprintf(t, "v=0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 ");
	memset(t + head, 'P', big - head);
	expect_parse_error(t, big, "description too long");
	/* ... and with a 60 KiB value, under the description's limit. */
	t[60 * 1024] = '\0';
	expect_parse_error(t, strlen(t), "line too long");

	/* The longest line is SL_SDP_MAX_LINE bytes, CRLF not counted. */
	head = (size_t)sprintf(t, "v=0\r\na=x:");
	memset(t + head, 'y', SL_SDP_MAX_LINE - 4);
	strcpy(t + head + SL_SDP_MAX_LINE - 4, "\r\n");
	assert_int_equal(parse_str(t, NULL), 0);
	strcpy(t + head + SL_SDP_MAX_LINE - 4, "z\r\n");
	expect_parse_error(t, strlen(t), "line too long");
	free(t);
}

static void parse_value_lengths(void **state)
{
	char t[512], v64[SL_SDP_TOKEN + 1];

	(void)state;
	memset(v64, 'a', SL_SDP_TOKEN);
	v64[SL_SDP_TOKEN] = '\0';
	/* 63 bytes fit a token field, 64 do not. */
	snprintf(t, sizeof(t), "v=0\r\nm=audio 9 X 0\r\na=mid:%.63s\r\n", v64);
	assert_int_equal(parse_str(t, NULL), 0);
	assert_int_equal(strlen(sdp->media[0].mid), 63);
	snprintf(t, sizeof(t), "v=0\r\nm=audio 9 X 0\r\na=mid:%s\r\n", v64);
	expect_parse_error(t, strlen(t), "bad or too long a=mid");
	snprintf(t, sizeof(t), "v=0\r\na=ice-ufrag:%.63s\r\n", v64);
	assert_int_equal(parse_str(t, NULL), 0);
	snprintf(t, sizeof(t), "v=0\r\na=ice-ufrag:%s\r\n", v64);
	expect_parse_error(t, strlen(t), "bad or too long a=ice-ufrag");
	snprintf(t, sizeof(t), "v=0\r\nm=audio 9 X 0\r\na=rtpmap:0 %s/8000\r\n", v64);
	expect_parse_error(t, strlen(t), "a=rtpmap codec name too long");
	snprintf(t, sizeof(t), "v=0\r\nm=audio 9 X 0\r\na=rid:%s send\r\n", v64);
	expect_parse_error(t, strlen(t), "a=rid id too long");
	snprintf(t, sizeof(t), "v=0\r\na=group:BUNDLE 0 %s\r\n", v64);
	expect_parse_error(t, strlen(t), "BUNDLE mid too long");
	strcpy(t, "v=0\na=ice-pwd:\n");
	expect_parse_error(t, strlen(t), "bad or too long a=ice-pwd");
	strcpy(t, "v=0\nm=audio 9 X 0\na=mid: \n");
	expect_parse_error(t, strlen(t), "bad or too long a=mid");
}

static const struct {
	const char *text, *reason;
} malformed[] = {
	{ "", "missing v= line" },
	{ "o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n", "missing v= line" },
	{ "v=1\r\n", "unsupported SDP version" },
	{ "v=0 \r\n", "unsupported SDP version" },
	{ "v=0\r\nv=0\r\n", "v= line not first" },
	{ "v=0\r\nabc\r\n", "malformed line" },
	{ "v=0\r\na\r\n", "malformed line" },
	{ "v=0\r\n=a\r\n", "malformed line" },
	{ "v=0\r\nA=b\r\n", "malformed line" },
	{ "v=0\r\nm=audio\r\n", "bad m= line" },
	{ "v=0\r\nm=audio 65536 RTP/AVP 0\r\n", "bad m= port" },
	{ "v=0\r\nm=audio -1 RTP/AVP 0\r\n", "bad m= port" },
	{ "v=0\r\nm=audio 9x RTP/AVP 0\r\n", "bad m= port" },
	{ "v=0\r\nm=audio 9 X 0\r\na=ssrc:4294967296 cname:x\r\n", "bad a=ssrc" },
	{ "v=0\r\nm=audio 9 X 0\r\na=ssrc:99999999999999999999 cname:x\r\n", "bad a=ssrc" },
	{ "v=0\r\nm=audio 9 X 0\r\na=ssrc:\r\n", "bad a=ssrc" },
	{ "v=0\r\nm=audio 9 X 0\r\na=ssrc-group:FID 1\r\n", "bad a=ssrc-group" },
	{ "v=0\r\nm=audio 9 X 0\r\na=ssrc-group:FID 1 x\r\n", "bad a=ssrc-group" },
	{ "v=0\r\nm=audio 9 X 0\r\na=rtpmap:128 opus/48000\r\n", "bad a=rtpmap" },
	{ "v=0\r\nm=audio 9 X 0\r\na=rtpmap:111 opus\r\n", "bad a=rtpmap" },
	{ "v=0\r\nm=audio 9 X 0\r\na=rtpmap:111 /48000\r\n", "bad a=rtpmap" },
	{ "v=0\r\nm=audio 9 X 0\r\na=rtpmap:111 opus/48000/256\r\n", "bad a=rtpmap" },
	{ "v=0\r\nm=audio 9 X 0\r\na=rtpmap:111 opus/4294967296\r\n", "bad a=rtpmap" },
	{ "v=0\r\nm=audio 9 X 0\r\na=extmap:x urn:x\r\n", "bad a=extmap" },
	{ "v=0\r\nm=audio 9 X 0\r\na=extmap:1\r\n", "bad a=extmap" },
	{ "v=0\r\nm=audio 9 X 0\r\na=rid:h\r\n", "bad a=rid" },
	{ "v=0\r\nm=audio 9 X 0\r\na=rid:h both\r\n", "bad a=rid" },
	{ "v=0\r\na=setup:holdconn\r\n", "bad a=setup" },
	{ "v=0\r\na=setup:active\r\na=setup:passive\r\n", "conflicting duplicate attribute" },
	{ "v=0\r\na=ice-ufrag:abcd\r\na=ice-ufrag:abce\r\n", "conflicting duplicate attribute" },
	{ "v=0\r\na=fingerprint:sha-256 AB:CD\r\n", "bad sha-256 a=fingerprint" },
	{ "v=0\r\na=fingerprint:SHA-256 " FP_CHROME ":00\r\n", "bad sha-256 a=fingerprint" },
	{ "v=0\r\na=fingerprint:sha-256\r\n", "bad sha-256 a=fingerprint" },
};

static void parse_malformed(void **state)
{
	static const char nul[] = "v=0\r\na=mid:0\0x\r\n";

	(void)state;
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		const char *err = NULL;

		if (parse_str(malformed[i].text, &err) != -EINVAL || !err ||
		    strcmp(err, malformed[i].reason) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err ? err : "(parsed)",
				 malformed[i].reason);
	}
	expect_parse_error(nul, sizeof(nul) - 1, "NUL byte in description");
	expect_parse_error(NULL, 5, "no input");
	assert_int_equal(sl_sdp_parse("v=0", 3, NULL, NULL), -EINVAL);
	assert_int_equal(sl_sdp_parse("v=1", 3, sdp, NULL), -EINVAL); /* err may be NULL */
}

static void parse_lenient_forms(void **state)
{
	static const char t[] =
		"v=0\n"
		"a=recvonly\n"
		"a=setup:actpass\r\n"
		"a=setup:actpass\n"
		"\n"
		"a=fingerprint:SHA-256 " FP_CHROME "\n"
		"a=fingerprint:sha-256 " FP_AIORTC "\n"
		"a=group:BUNDLE a b\n"
		"a=group:BUNDLE c\n"
		"m=audio 0 RTP/AVP 0\n"
		"a=mid:a\n"
		"a=mid:a\n"
		"a=ssrc:7 cname:x\n"
		"m=video 9/2 X 96\n"
		"a=mid:b\n"
		"a=bundle-only\n"
		"a=sendonly\n"
		"a=fingerprint:sha-256 7b:8b:f0:65:5f:78:e2:51:3b:ac:6f:f3:3f:46:1b:35:dc:b8:"
		"5f:64:1a:24:c2:43:f0:a1:58:d0:a1:2c:19:08\n"
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel";

	(void)state;
	assert_int_equal(parse_str(t, NULL), 0);
	assert_int_equal(sdp->n_media, 3);
	assert_int_equal(sdp->n_bundle, 2);                   /* a second BUNDLE group is ignored */
	assert_memory_equal(sdp->fingerprint, fp_chrome, 32); /* the first sha-256 */
	assert_true(sdp->media[0].rejected);
	assert_int_equal(sdp->media[0].dir, SL_SDP_RECVONLY); /* session default */
	assert_int_equal(sdp->media[0].ssrc[0], 7);
	assert_false(sdp->media[1].rejected);
	assert_int_equal(sdp->media[1].dir, SL_SDP_SENDONLY);
	assert_memory_equal(sdp->media[1].fingerprint, fp_chrome, 32); /* lower-case */
	assert_int_equal(sdp->media[1].setup, SL_SDP_SETUP_ACTPASS);
	assert_int_equal(sdp->media[2].kind, SL_SDP_KIND_OTHER);
	assert_int_equal(sdp->media[2].dir, SL_SDP_RECVONLY);
}

static void parse_caps(void **state)
{
	char *t = malloc(SL_SDP_MAX_LEN), *p = t;

	(void)state;
	assert_non_null(t);
	p += sprintf(p, "v=0\r\nm=video 9 X 96\r\n");
	/* FID before its ssrcs; 12 primaries, each with a repeated line. */
	p += sprintf(p, "a=ssrc-group:FID 1000 2000\r\n");
	for (unsigned i = 0; i < 12; i++)
		p += sprintf(p, "a=ssrc:%u cname:c\r\na=ssrc:2000 x\r\na=ssrc:%u msid:a b\r\n",
			     1000 + i, 1000 + i);
	for (unsigned i = 0; i < 40; i++)
		p += sprintf(p, "a=rtpmap:%u c%u/90000\r\n", i, i);
	p += sprintf(p, "a=rtpmap:0 again/1\r\n");
	for (unsigned i = 0; i < 20; i++)
		p += sprintf(p, "a=extmap:%u urn:e%u\r\n", i, i);
	p += sprintf(p, "a=extmap:256 urn:big\r\na=extmap:4096/sendonly urn:big\r\n");
	for (unsigned i = 0; i < 6; i++)
		p += sprintf(p, "a=rid:r%u recv\r\n", i);
	assert_int_equal(sl_sdp_parse(t, (size_t)(p - t), sdp, NULL), 0);
	assert_int_equal(sdp->media[0].n_ssrc, SL_SDP_MAX_SSRC);
	for (unsigned i = 0; i < SL_SDP_MAX_SSRC; i++)
		assert_int_equal(sdp->media[0].ssrc[i], 1000 + i);
	assert_int_equal(sdp->media[0].n_codec, SL_SDP_MAX_CODECS);
	assert_string_equal(sdp->media[0].codec[0].name, "c0");
	assert_int_equal(sdp->media[0].n_ext, SL_SDP_MAX_EXT);
	assert_int_equal(sdp->media[0].ext[0].id, 1); /* id 0 is not kept */
	assert_int_equal(sdp->media[0].n_rid, SL_SDP_MAX_RIDS);
	assert_string_equal(sdp->media[0].rid[3], "r3");

	/* 64 sections parse; a 65th is an error. */
	p = t + sprintf(t, "v=0\r\n");
	for (unsigned i = 0; i < SL_SDP_MAX_MEDIA; i++)
		p += sprintf(p, "m=audio 9 X 0\r\na=mid:%u\r\n", i);
	assert_int_equal(sl_sdp_parse(t, (size_t)(p - t), sdp, NULL), 0);
	assert_int_equal(sdp->n_media, SL_SDP_MAX_MEDIA);
	strcpy(p, "m=audio 9 X 0\r\n");
	expect_parse_error(t, strlen(t), "too many m= sections");
	p = t + sprintf(t, "v=0\r\na=group:BUNDLE");
	for (unsigned i = 0; i <= SL_SDP_MAX_MEDIA; i++)
		p += sprintf(p, " %u", i);
	expect_parse_error(t, (size_t)(p - t), "too many BUNDLE mids");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_chrome_answer),
		cmocka_unit_test(parse_chrome_simulcast_offer),
		cmocka_unit_test(parse_aiortc_answer),
		cmocka_unit_test(parse_firefox_offer),
		cmocka_unit_test(write_offer_round_trip),
		cmocka_unit_test(write_offer_ipv6_only),
		cmocka_unit_test(write_offer_enospc),
		cmocka_unit_test(write_offer_einval),
		cmocka_unit_test(write_offer_einval_fields),
		cmocka_unit_test(check_answer_good),
		cmocka_unit_test(check_answer_passive),
		cmocka_unit_test(check_answer_defects),
		cmocka_unit_test(check_answer_rejected_sections),
		cmocka_unit_test(parse_size_limits),
		cmocka_unit_test(parse_value_lengths),
		cmocka_unit_test(parse_malformed),
		cmocka_unit_test(parse_lenient_forms),
		cmocka_unit_test(parse_caps),
	};

	return cmocka_run_group_tests(tests, setup_bufs, free_bufs);
}
