/*
 * sdp.h - SDP for the control plane: parse a client's answer, write our offer.
 *
 * The server always offers (see docs/signalling.md), so the writer produces
 * offers and the parser reads answers (it accepts offers too: the grammar is
 * the same). The codec set, header extensions and RTCP feedback are fixed by
 * the writer, identical in every offer, so payload types and extension ids
 * mean the same thing in every participant's packets and the dataplane can
 * forward them unchanged:
 *   audio: opus/48000/2 pt 111 (minptime=10;useinbandfec=1), rtcp-fb
 *          transport-cc not offered; extmap 1 ssrc-audio-level
 *   video: VP8 pt 96, VP9 pt 98 (profile-id=0), H264 pt 102
 *          (level-asymmetry-allowed=1;packetization-mode=1;
 *          profile-level-id=42e01f), AV1 pt 45; rtcp-fb nack, nack pli,
 *          ccm fir; no RTX, no transport-cc, no REMB (the dataplane
 *          answers NACKs and forwards PLI/FIR itself)
 *
 * Ownership: both functions write only into the caller's buffers and
 * structs; nothing is allocated. Safe on any input bytes.
 */
#ifndef SLUICE_CP_SDP_H
#define SLUICE_CP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_SDP_MAX_LEN    (192 * 1024) /* longer descriptions are refused */
#define SL_SDP_MAX_LINE   4096         /* longer lines are refused */
#define SL_SDP_MAX_MEDIA  64           /* m= sections */
#define SL_SDP_MAX_SSRC   8            /* a=ssrc ids kept per m= section */
#define SL_SDP_MAX_CODECS 32           /* a=rtpmap kept per m= section */
#define SL_SDP_MAX_EXT    16           /* a=extmap kept per m= section */
#define SL_SDP_MAX_RIDS   4            /* a=rid kept per m= section */
#define SL_SDP_TOKEN      64           /* mid, ufrag, codec name, rid: bytes incl. NUL */
#define SL_SDP_PWD        257          /* ice-pwd: RFC 8839 allows up to 256 */

/* The dataplane's and signalling's media kinds (values of enum sl_media_kind). */
enum sl_sdp_kind {
	SL_SDP_KIND_OTHER = 0, /* application, text, ... (never forwarded) */
	SL_SDP_KIND_AUDIO = 1,
	SL_SDP_KIND_VIDEO = 2,
};

/* Direction, always from the point of view of the description's author. */
enum sl_sdp_dir {
	SL_SDP_SENDRECV = 0,
	SL_SDP_SENDONLY,
	SL_SDP_RECVONLY,
	SL_SDP_INACTIVE,
};

enum sl_sdp_setup {
	SL_SDP_SETUP_NONE = 0,
	SL_SDP_SETUP_ACTIVE,
	SL_SDP_SETUP_PASSIVE,
	SL_SDP_SETUP_ACTPASS,
};

struct sl_sdp_codec {
	uint8_t pt;
	char name[SL_SDP_TOKEN]; /* as written, e.g. "opus", "VP8" */
	uint32_t clock;
	uint8_t channels; /* 0 when absent */
};

struct sl_sdp_ext {
	uint8_t id; /* 1-255 */
	char uri[256];
};

struct sl_sdp_media {
	uint8_t kind;  /* enum sl_sdp_kind */
	uint8_t dir;   /* enum sl_sdp_dir (sendrecv when absent) */
	bool rejected; /* port 0 without a=bundle-only */
	bool rtcp_mux;
	char mid[SL_SDP_TOKEN]; /* empty when absent */
	/* Primary SSRCs: every a=ssrc id that is not the second member of an
	 * a=ssrc-group:FID or FEC-FR pair, in order of appearance. */
	uint32_t ssrc[SL_SDP_MAX_SSRC];
	unsigned n_ssrc;
	struct sl_sdp_codec codec[SL_SDP_MAX_CODECS];
	unsigned n_codec;
	struct sl_sdp_ext ext[SL_SDP_MAX_EXT];
	unsigned n_ext;
	char rid[SL_SDP_MAX_RIDS][SL_SDP_TOKEN]; /* a=rid:<id> send|recv */
	unsigned n_rid;
	bool simulcast; /* a=simulcast present */
	/* Session-level values below are copied here when the section lacks
	 * its own (BUNDLE makes them equal in practice). */
	char ice_ufrag[SL_SDP_TOKEN];
	char ice_pwd[SL_SDP_PWD];
	uint8_t fingerprint[32]; /* sha-256 only */
	bool has_fingerprint;
	uint8_t setup; /* enum sl_sdp_setup */
};

struct sl_sdp {
	/* Session level, or the first m= section's value when only there. */
	char ice_ufrag[SL_SDP_TOKEN];
	char ice_pwd[SL_SDP_PWD];
	uint8_t fingerprint[32]; /* a=fingerprint:sha-256 (other hashes ignored) */
	bool has_fingerprint;
	uint8_t setup; /* enum sl_sdp_setup */
	bool ice_lite;
	char bundle[SL_SDP_MAX_MEDIA][SL_SDP_TOKEN]; /* a=group:BUNDLE mids */
	unsigned n_bundle;
	struct sl_sdp_media media[SL_SDP_MAX_MEDIA];
	unsigned n_media;
};

/*
 * Parse len bytes of SDP (not NUL-terminated; CRLF or LF line ends). Lines
 * the parser does not need are skipped; values it keeps are length-checked
 * (an over-long ufrag, mid, codec name, etc. is an error, never truncated
 * silently). Returns 0, or -EINVAL with *err set to a static English reason
 * ("missing v= line", "line too long", ...): err may be NULL.
 * The struct is large (~460 KiB): allocate it, do not put it on the stack.
 */
int sl_sdp_parse(const char *text, size_t len, struct sl_sdp *out, const char **err);

/*
 * Check an answer against the offer we made: same number of m= sections
 * with the same mids and kinds, ICE ufrag and pwd present (RFC 8839
 * lengths), a sha-256 fingerprint, a=setup:active or passive (the same
 * on every accepted section and in answer->setup: active makes us the DTLS
 * server, passive the DTLS client; actpass or holdconn in an answer is
 * refused), rtcp-mux on every accepted section, and every accepted section
 * in the BUNDLE group.
 * Returns 0 or -EINVAL with *err set.
 */
struct sl_sdp_offer;
int sl_sdp_check_answer(const struct sl_sdp *answer, const struct sl_sdp_offer *offer,
			const char **err);

/* One m= section of our offer. */
struct sl_sdp_offer_media {
	uint8_t kind; /* SL_SDP_KIND_AUDIO or _VIDEO */
	uint8_t dir;  /* ours: RECVONLY (the client publishes here), SENDONLY
		       * (we forward ssrc here), INACTIVE (a slot no longer used) */
	char mid[SL_SDP_TOKEN];
	uint32_t ssrc;                  /* SENDONLY only: the SSRC the client will see */
	char msid_stream[SL_SDP_TOKEN]; /* SENDONLY only: a=msid stream id (the publisher's id) */
	char msid_track[SL_SDP_TOKEN];  /* SENDONLY only: a=msid track id */
};

struct sl_sdp_offer {
	uint64_t session_id; /* o= line, random per participant */
	uint32_t version;    /* o= session version, counts up per offer */
	char ice_ufrag[SL_SDP_TOKEN];
	char ice_pwd[SL_SDP_PWD];
	char fingerprint[128]; /* "AB:CD:..." upper-case sha-256, 95 chars */
	char cand_ip4[16];     /* dotted quad of the dataplane, empty if none */
	char cand_ip6[46];     /* the dataplane's IPv6 address, empty if none */
	uint16_t port;         /* the room's worker's UDP port */
	struct sl_sdp_offer_media media[SL_SDP_MAX_MEDIA];
	unsigned n_media;
};

/*
 * Write the offer into buf (cap bytes, NUL-terminated, CRLF line ends):
 * a=ice-lite, one BUNDLE group of every section, rtcp-mux, rtcp-rsize,
 * a=setup:actpass, the fingerprint, one host candidate per address on every
 * section, a=end-of-candidates, and the fixed codec set above. Returns the
 * length written (without the NUL), or -ENOSPC if cap is too small, or
 * -EINVAL if a field is invalid (no media, no address, bad kind/dir, a mid
 * or id containing anything but [A-Za-z0-9_.-]).
 */
int sl_sdp_write_offer(const struct sl_sdp_offer *o, char *buf, size_t cap);

/* Payload types and ids the writer uses (the dataplane needs the level id). */
#define SL_SDP_AUDIO_LEVEL_EXT 1
#define SL_SDP_PT_OPUS         111
#define SL_SDP_PT_VP8          96

#endif
