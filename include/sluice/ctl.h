/*
 * ctl.h - the control socket between sluice-controlplane and sluice-dataplane.
 *
 * One Unix SOCK_SEQPACKET socket carries small, versioned, fixed-layout
 * binary messages in host byte order (both processes run on one machine).
 * This header is the only place the message set is declared; both sides
 * include it and nothing else is shared.
 *
 * Every message starts with struct sl_ctl_hdr. A request (control -> data)
 * carries a sequence number; the dataplane answers every request with
 * exactly one SL_CTL_REPLY (status 0 or -errno) carrying the same seq,
 * except SL_CTL_HELLO, SL_CTL_COUNTERS_GET and SL_CTL_WORKER_STATS_GET,
 * answered by SL_CTL_INFO, SL_CTL_COUNTERS and SL_CTL_WORKER_STATS instead. Unsolicited messages (data -> control) use seq 0.
 * A malformed request (bad length, version, type, reserved bits or field)
 * gets a REPLY with a negative status; the connection stays up.
 *
 * Keys: SL_CTL_EP_ADD and SL_CTL_EP_UPDATE carry SRTP master keys. Whoever
 * builds or receives such a message wipes its buffer (explicit_bzero) as
 * soon as the keys are installed or sent.
 *
 * Addresses and ports are in network byte order inside sl_ctl_addr (so they
 * can be copied into packet headers as they are); every other integer is in
 * host order.
 */
#ifndef SLUICE_CTL_H
#define SLUICE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_CTL_VERSION      1
#define SL_CTL_MAX_MSG      2048 /* no message is longer */
#define SL_CTL_MAX_PKT      1500 /* payload bytes in PKT_UP / PKT_DOWN */
#define SL_CTL_DEFAULT_PATH "/run/sluice/dataplane.sock"

enum sl_ctl_type {
	/* control -> data: requests */
	SL_CTL_HELLO = 1,             /* no body; answered by SL_CTL_INFO */
	SL_CTL_EP_ADD = 2,            /* struct sl_ctl_ep */
	SL_CTL_EP_UPDATE = 3,         /* struct sl_ctl_ep, fields chosen by flags */
	SL_CTL_EP_REMOVE = 4,         /* struct sl_ctl_ep_ref */
	SL_CTL_SUBSCRIBE = 5,         /* struct sl_ctl_sub */
	SL_CTL_UNSUBSCRIBE = 6,       /* struct sl_ctl_sub (dst_ssrc, kind ignored) */
	SL_CTL_MUTE = 7,              /* struct sl_ctl_mute */
	SL_CTL_ROOM_REMOVE = 8,       /* struct sl_ctl_room */
	SL_CTL_PKT_DOWN = 9,          /* struct sl_ctl_pkt */
	SL_CTL_COUNTERS_GET = 10,     /* no body; answered by SL_CTL_COUNTERS */
	SL_CTL_WORKER_STATS_GET = 11, /* no body; answered by SL_CTL_WORKER_STATS */
	/* data -> control */
	SL_CTL_REPLY = 64,        /* struct sl_ctl_reply */
	SL_CTL_INFO = 65,         /* struct sl_ctl_info */
	SL_CTL_PKT_UP = 66,       /* struct sl_ctl_pkt */
	SL_CTL_EVENT = 67,        /* struct sl_ctl_event */
	SL_CTL_COUNTERS = 68,     /* struct sl_ctl_counters */
	SL_CTL_WORKER_STATS = 69, /* struct sl_ctl_worker_stats */
};
#define SL_CTL_LAST_DOWN SL_CTL_WORKER_STATS_GET /* highest request type: move when appending */
#define SL_CTL_LAST_UP   SL_CTL_WORKER_STATS     /* highest data -> control type */

struct sl_ctl_hdr {
	uint16_t version; /* SL_CTL_VERSION */
	uint16_t type;    /* enum sl_ctl_type */
	uint32_t len;     /* whole message, header included */
	uint32_t seq;     /* request number, echoed in the reply */
	uint32_t rsvd;    /* zero */
};
_Static_assert(sizeof(struct sl_ctl_hdr) == 16, "sl_ctl_hdr layout");

/*
 * A UDP 5-tuple as the dataplane sees it, plus the layer-2 next hop. The
 * peer MAC and VLAN are those of the packet that came up in SL_CTL_PKT_UP
 * (the ICE check the control plane validated); the control plane echoes them
 * back opaquely and never learns them from anywhere else.
 */
struct sl_ctl_addr {
	uint8_t family;   /* 4 or 6 */
	uint8_t has_vlan; /* 0 or 1 */
	uint16_t vlan_tci;
	uint8_t peer_mac[6];
	uint16_t remote_port;  /* network order */
	uint8_t remote_ip[16]; /* IPv4 in the first 4 bytes, rest zero */
	uint8_t local_ip[16];  /* one of the dataplane's addresses */
	uint16_t local_port;   /* network order: base port + worker */
	uint16_t pad;          /* zero */
};
_Static_assert(sizeof(struct sl_ctl_addr) == 48, "sl_ctl_addr layout");

/* DTLS-SRTP protection profiles, numbered as in the IANA registry. */
enum sl_srtp_profile {
	SL_SRTP_AES128_CM_SHA1_80 = 0x0001,
	SL_SRTP_AEAD_AES_128_GCM = 0x0007,
	SL_SRTP_AEAD_AES_256_GCM = 0x0008,
};

/* Master key and salt; lengths follow from the profile (16/14, 16/12, 32/12). */
struct sl_ctl_key {
	uint8_t key[32];
	uint8_t salt[14];
	uint8_t pad[2]; /* zero */
};
_Static_assert(sizeof(struct sl_ctl_key) == 48, "sl_ctl_key layout");

enum sl_ctl_ep_flags {
	SL_EP_UPD_ADDR = 1u << 0, /* EP_UPDATE: take addr */
	SL_EP_UPD_KEYS = 1u << 1, /* EP_UPDATE: take profile, rx, tx */
	SL_EP_UPD_EXT = 1u << 2,  /* EP_UPDATE: take audio_level_ext */
};
#define SL_EP_UPD_ALL (SL_EP_UPD_ADDR | SL_EP_UPD_KEYS | SL_EP_UPD_EXT)

/*
 * SL_CTL_EP_ADD / SL_CTL_EP_UPDATE. An endpoint is one ICE/DTLS transport
 * (BUNDLE, rtcp-mux) of one participant. ep_id is chosen by the control
 * plane, non-zero and unique on this dataplane. All endpoints of a room must
 * name the same worker; the dataplane refuses the add (-EXDEV) otherwise.
 */
struct sl_ctl_ep {
	struct sl_ctl_hdr h;
	uint32_t ep_id;
	uint32_t flags;          /* enum sl_ctl_ep_flags; zero on EP_ADD */
	uint64_t room_id;        /* opaque, chosen by the control plane */
	uint16_t worker;         /* 0 .. n_workers-1 */
	uint16_t profile;        /* enum sl_srtp_profile */
	uint8_t audio_level_ext; /* RFC 6464 extmap id 1-14, 0 = none */
	uint8_t pad[3];          /* zero */
	struct sl_ctl_addr addr;
	struct sl_ctl_key rx; /* the endpoint protects what it sends us with it */
	struct sl_ctl_key tx; /* we protect what we send the endpoint with it */
};
_Static_assert(sizeof(struct sl_ctl_ep) == 184, "sl_ctl_ep layout");

/* SL_CTL_EP_REMOVE */
struct sl_ctl_ep_ref {
	struct sl_ctl_hdr h;
	uint32_t ep_id;
	uint32_t pad; /* zero */
};

enum sl_media_kind {
	SL_MEDIA_AUDIO = 1,
	SL_MEDIA_VIDEO = 2,
};

/*
 * SL_CTL_SUBSCRIBE / SL_CTL_UNSUBSCRIBE: subscriber receives the publisher's
 * RTP stream src_ssrc, rewritten into its own continuous stream dst_ssrc.
 * Both endpoints must be in the same room and on the same worker.
 *
 * A subscription is named by (subscriber, dst_ssrc): subscribing again with
 * a dst_ssrc the subscriber already receives re-points that stream to the
 * new (publisher, src_ssrc), and the subscriber's view stays continuous
 * (sequence numbers go on by one, timestamps move forward; packets of the
 * new source that would map at or before the switch are dropped, counted as
 * drop_index_reuse). A fresh subscription starts with out seq/ts = in
 * seq/ts. UNSUBSCRIBE names (subscriber, publisher, src_ssrc). Receiving
 * the same (publisher, src_ssrc) twice is -EEXIST.
 *
 * dst_ssrc is the SRTP stream under the subscriber's key, so it is never
 * reused: a SUBSCRIBE that would start a NEW subscription on a dst_ssrc the
 * subscriber's outbound SRTP context has ever used (a live or a former
 * subscription, or the dataplane's own RTCP SSRC) is refused with
 * -EADDRINUSE, and one past SL_CTL_MAX_DST_SSRCS distinct dst_ssrcs in the
 * context's life with -EDQUOT. The control plane picks dst_ssrcs at random
 * (never 0, never one the subscriber publishes) and never repeats one for
 * an endpoint. New keys (EP_UPDATE with SL_EP_UPD_KEYS) start a new context
 * and a new record.
 */
#define SL_CTL_MAX_DST_SSRCS 4096
struct sl_ctl_sub {
	struct sl_ctl_hdr h;
	uint32_t subscriber;
	uint32_t publisher;
	uint32_t src_ssrc;
	uint32_t dst_ssrc;
	uint8_t kind;   /* enum sl_media_kind */
	uint8_t pad[3]; /* zero */
};

/* SL_CTL_MUTE: stop (muted = 1) or resume forwarding an endpoint's media. */
struct sl_ctl_mute {
	struct sl_ctl_hdr h;
	uint32_t ep_id;
	uint8_t kind;   /* enum sl_media_kind */
	uint8_t muted;  /* 0 or 1 */
	uint8_t pad[2]; /* zero */
};

/* SL_CTL_ROOM_REMOVE: every endpoint of the room goes, keys wiped. */
struct sl_ctl_room {
	struct sl_ctl_hdr h;
	uint64_t room_id;
};

enum sl_pkt_kind {
	SL_PKT_STUN = 1,
	SL_PKT_DTLS = 2,
	SL_PKT_UNKNOWN = 3, /* RTP/RTCP-looking bytes from no known endpoint */
};

/*
 * SL_CTL_PKT_UP (data -> control): a packet for the control plane with the
 * 5-tuple it arrived on. SL_CTL_PKT_DOWN (control -> data): send these bytes
 * as one UDP datagram to that 5-tuple (local_ip/local_port must be ours).
 */
struct sl_ctl_pkt {
	struct sl_ctl_hdr h;
	struct sl_ctl_addr addr;
	uint8_t kind;      /* enum sl_pkt_kind; zero on PKT_DOWN */
	uint8_t pad;       /* zero */
	uint16_t data_len; /* 1 .. SL_CTL_MAX_PKT */
	uint32_t pad2;     /* zero */
	uint8_t data[SL_CTL_MAX_PKT];
};
/* Messages of this type are header + fixed part + data_len bytes. */
#define SL_CTL_PKT_FIXED offsetof(struct sl_ctl_pkt, data)

/* SL_CTL_REPLY */
struct sl_ctl_reply {
	struct sl_ctl_hdr h; /* seq = the request's */
	int32_t status;      /* 0 or -errno */
	uint16_t req_type;   /* the request's type, or 0 if unreadable */
	uint16_t pad;
};

/* SL_CTL_INFO: answer to HELLO. */
struct sl_ctl_info {
	struct sl_ctl_hdr h;
	uint16_t n_workers;
	uint16_t base_port; /* host order: worker w listens on base_port + w */
	uint8_t has_ipv4;
	uint8_t has_ipv6;
	uint8_t pad[2];
	uint8_t ipv4[4];
	uint8_t ipv6[16];
	uint32_t max_endpoints;
	uint32_t pad2;
};

enum sl_event_type {
	SL_EV_AUDIO_LEVEL =
		1, /* value = loudest level in the interval, 0..127 dBov (0 loudest), count = voiced packets */
	SL_EV_TIMEOUT = 2,      /* no valid media from ep_id for the configured time */
	SL_EV_KEYFRAME_REQ = 3, /* a subscriber asked for a keyframe of ep_id's src ssrc (value) */
	SL_EV_MEDIA_ALIVE = 4,  /* authenticated SRTP/SRTCP from ep_id's tuple since the last one;
				 * at most one per endpoint per 3 s (or timeout/2) */
};
#define SL_EV_LAST SL_EV_MEDIA_ALIVE /* the highest event type; move it when appending */

/* SL_CTL_EVENT (data -> control) */
struct sl_ctl_event {
	struct sl_ctl_hdr h;
	uint32_t ep_id;
	uint16_t type; /* enum sl_event_type */
	uint16_t pad;
	uint32_t value;
	uint32_t count;
};

/*
 * Dataplane counters, summed over workers. Drops carry their reason in the
 * name. The order is part of the protocol: append only.
 */
#define SL_COUNTERS(X)         \
	X(rx_packets)          \
	X(rx_bytes)            \
	X(tx_packets)          \
	X(tx_bytes)            \
	X(arp_replies)         \
	X(ndp_replies)         \
	X(icmp_echo_replies)   \
	X(stun_up)             \
	X(dtls_up)             \
	X(unknown_up)          \
	X(pkt_down)            \
	X(rtp_in)              \
	X(rtcp_in)             \
	X(rtp_out)             \
	X(rtcp_out)            \
	X(nack_retransmits)    \
	X(pli_forwarded)       \
	X(handoff)             \
	X(drop_runt)           \
	X(drop_l2)             \
	X(drop_l3)             \
	X(drop_l4)             \
	X(drop_checksum)       \
	X(drop_not_for_us)     \
	X(drop_bad_port)       \
	X(drop_demux)          \
	X(drop_oversize)       \
	X(drop_unknown_source) \
	X(drop_rtp_malformed)  \
	X(drop_rtcp_malformed) \
	X(drop_auth)           \
	X(drop_replay)         \
	X(drop_srtp_other)     \
	X(drop_no_route)       \
	X(drop_muted)          \
	X(drop_ssrc_limit)     \
	X(drop_pli_ratelimit)  \
	X(drop_nack_miss)      \
	X(drop_no_mbuf)        \
	X(drop_tx_full)        \
	X(drop_up_full)        \
	X(drop_handoff_full)   \
	X(drop_protect)        \
	X(drop_fanout_limit)   \
	X(drop_nack_limit)     \
	X(drop_nack_dup)       \
	X(drop_sr_limit)       \
	X(drop_ingress_limit)  \
	X(drop_index_reuse)    \
	X(drop_nack_unsent)    \
	X(drop_up_ratelimit)   \
	X(drop_ctl_full)       \
	X(ctl_refused)         \
	X(drop_link_down)      \
	X(link_fault_recovered)

enum sl_counter {
#define SL_COUNTER_ENUM(name) SL_CNT_##name,
	SL_COUNTERS(SL_COUNTER_ENUM)
#undef SL_COUNTER_ENUM
		SL_CNT_MAX
};

/* SL_CTL_COUNTERS: n values, indexed by enum sl_counter. */
struct sl_ctl_counters {
	struct sl_ctl_hdr h;
	uint32_t n; /* SL_CNT_MAX of the sender */
	uint32_t pad;
	uint64_t value[SL_CNT_MAX];
};

/*
 * SL_CTL_WORKER_STATS: per-worker figures for the operator (answer to
 * SL_CTL_WORKER_STATS_GET). Cycles are TSC ticks since the worker started:
 * cycles counts every turn of its poll loop, busy_cycles the turns that
 * received at least one packet (from the port or handed off by another
 * worker). busy_ppm is busy_cycles / cycles over the last second, in
 * millionths (0..1000000). The packet pool is shared by all workers; each
 * worker has its own NACK history pool of hist_size mbufs. Variable length:
 * header + fixed part + n records.
 */
#define SL_CTL_MAX_WORKERS 16
struct sl_ctl_worker_stat {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes; /* as the summed counters */
	uint64_t busy_cycles, cycles;
	uint32_t busy_ppm;    /* over the last second, 0..1000000 */
	uint32_t hist_in_use; /* mbufs of its history pool in use */
};
_Static_assert(sizeof(struct sl_ctl_worker_stat) == 56, "sl_ctl_worker_stat layout");

struct sl_ctl_worker_stats {
	struct sl_ctl_hdr h;
	uint32_t n;           /* records in w[]: 1 .. SL_CTL_MAX_WORKERS */
	uint32_t pool_size;   /* mbufs in the shared packet pool */
	uint32_t pool_in_use; /* of which in use now */
	uint32_t hist_size;   /* mbufs in each worker's history pool */
	uint64_t tsc_hz;      /* TSC ticks per second */
	struct sl_ctl_worker_stat w[SL_CTL_MAX_WORKERS];
};
#define SL_CTL_WORKER_STATS_FIXED offsetof(struct sl_ctl_worker_stats, w)
_Static_assert(SL_CTL_WORKER_STATS_FIXED == 40, "sl_ctl_worker_stats layout");

/* Names of the counters, indexed by enum sl_counter. */
extern const char *const sl_counter_names[SL_CNT_MAX];

/*
 * Validation and building (common/ctl_msg.c). Pure functions over bytes,
 * safe on any input.
 */

/*
 * Check a received message of len bytes: header, exact length for its type,
 * reserved and padding bytes zero, enum fields in range. Returns 0 or
 * -EPROTO (bad version), -EBADMSG (bad length or field), -ENOTSUP (unknown
 * type), or -EINVAL for a request whose address nothing may be sent to (peer
 * MAC zero, multicast or broadcast; remote IP unspecified, loopback,
 * multicast or broadcast, IPv4-mapped too). dir_down selects the
 * control -> data set (true) or data -> control.
 */
int sl_ctl_validate(const void *msg, size_t len, bool dir_down);

/* The exact message length for a type (the minimum for the variable ones: PKT_*, COUNTERS,
 * WORKER_STATS). */
size_t sl_ctl_msg_len(uint16_t type);

/* Fill a header: version, type, len, seq; rsvd zero. */
void sl_ctl_hdr_init(struct sl_ctl_hdr *h, uint16_t type, uint32_t len, uint32_t seq);

/* Key length and salt length of a profile; 0 for an unknown profile. */
unsigned sl_srtp_profile_key_len(uint16_t profile);
unsigned sl_srtp_profile_salt_len(uint16_t profile);

/*
 * Additions (common/ctl_msg.c).
 *
 * Fill r as the SL_CTL_REPLY to the req_len bytes at req (which may be
 * unaligned, short or NULL): seq and req_type echo the request's header when
 * req_len covers one, else both are 0. status is 0 or -errno; a positive
 * errno is negated so the reply always validates. Returns 0, or -EBADMSG
 * when the header was unreadable (r is filled either way); send sizeof(*r).
 */
int sl_ctl_reply_init(struct sl_ctl_reply *r, const void *req, size_t req_len, int status);

#endif
