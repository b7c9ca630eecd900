/*
 * dp.h - the dataplane's own types, shared by its files and nothing else.
 *
 * Ownership in one paragraph: the main lcore owns the control socket, the
 * global maps (which worker serves which endpoint and room) and every
 * allocation; each worker owns its tables (endpoints, streams,
 * subscriptions, history) and touches nothing else. They talk through rings
 * only: commands go main -> worker on cmd_ring and come back on done_ring
 * with a status and whatever the worker detached for main to free; packets
 * for the control plane go worker -> main on up_ring; events on ev_ring;
 * packets that reached the wrong worker go to the right one on its
 * handoff_ring. Nothing is locked.
 */
#ifndef SLUICE_DP_H
#define SLUICE_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <sluice/ctl.h>
#include <sluice/net.h>
#include <sluice/srtp.h>

#define SL_MAX_WORKERS 16
#define SL_MAX_VDEVS   8
#define SL_BURST       32
#define SL_MAX_FANOUT  256 /* subscribers served per packet; more are counted as drops */
/*
 * SSRCs one endpoint's SRTP contexts track at once. Outbound: one per
 * subscription plus our RTCP SSRC; a meeting of 32 (the control plane's
 * largest) needs 2 * 31 + 1 = 63, and unsubscribing releases its SSRC, so
 * churn does not fill it. Inbound: what the endpoint publishes (RTP, RTX)
 * and the SSRCs its RTCP comes from (browsers may use one per m= section, 64
 * at most); inbound SSRCs are kept for the endpoint's life (their replay
 * state must not be forgotten), so the room also covers re-publishing with
 * fresh SSRCs. Past the cap a new SSRC is dropped as drop_ssrc_limit.
 */
#define SL_EP_MAX_TX_SSRCS 128
#define SL_EP_MAX_RX_SSRCS 128
/* Out sequence numbers a subscription remembers sending (NACK, reuse check). */
#define SL_SUB_SENT_BITS 1024
#define SL_UP_PER_SEC    200 /* unknown-source packets sent up per second and worker */
/*
 * STUN/DTLS going up. From an installed endpoint's 5-tuple: its own bucket
 * and its own ring (up_prio_ring), drained first, so no flood from other
 * tuples can crowd out consent checks. From any other tuple (unvalidated):
 * a bucket per source address (hashed into SL_UP_SRC_SLOTS) and one per
 * worker. Refused packets count as drop_up_ratelimit.
 */
#define SL_UP_EP_PER_SEC    50
#define SL_UP_EP_BURST      100
#define SL_UP_SRC_PER_SEC   100
#define SL_UP_SRC_BURST     200
#define SL_UP_UNVAL_PER_SEC 2000
#define SL_UP_UNVAL_BURST   2000
#define SL_UP_SRC_SLOTS     1024 /* power of two */

/*
 * A token bucket kept as its theoretical arrival time (GCRA) in TSC ticks:
 * one word, no division on the fast path. Zero = full.
 */
struct sl_tb {
	uint64_t tat;
};

/*
 * Take one unit costing cost ticks if the bucket allows it; burst is the
 * tolerance in ticks ((n - 1) * cost lets n units through at once).
 */
static inline bool sl_tb_take(struct sl_tb *b, uint64_t now, uint64_t cost, uint64_t burst)
{
	uint64_t t = b->tat > now ? b->tat : now;

	if (t - now > burst)
		return false;
	b->tat = t + cost;
	return true;
}

/* Take one unit of a bucket of rate units per second, n at once (hz: TSC). */
static inline bool sl_tb_take_rate(struct sl_tb *b, uint64_t now, uint64_t hz, uint32_t rate,
				   uint32_t n)
{
	uint64_t cost = hz / rate;

	return sl_tb_take(b, now, cost, cost * (n - 1));
}

/* MEDIA_ALIVE events (worker.c): at most one per endpoint per period, and
 * at most SL_ALIVE_PER_SCAN per worker and timeout scan. */
#define SL_ALIVE_PERIOD_S 3
#define SL_ALIVE_PER_SCAN 256

enum sl_huge_mode { SL_HUGE_AUTO, SL_HUGE_ON, SL_HUGE_OFF };

struct sl_dp_config {
	char vdev[SL_MAX_VDEVS][256];
	unsigned n_vdev;
	char pci[SL_MAX_VDEVS][64];
	unsigned n_pci;
	uint32_t port_id;
	unsigned lcore[SL_MAX_WORKERS + 1]; /* [0] main, then workers */
	unsigned n_lcores;
	struct sl_net_local local;
	bool has_mac;
	uint32_t base_port;
	uint32_t mtu;
	char ctl_path[108];
	bool has_ctl_group;
	gid_t ctl_gid; /* --ctl-group: owns the socket, members may connect */
	uint32_t mbufs;
	uint32_t history_mbufs;
	uint32_t max_endpoints;
	uint32_t max_streams;
	uint32_t max_subs;
	uint32_t history;
	uint32_t rx_desc;
	uint32_t tx_desc;
	enum sl_huge_mode huge;
	uint32_t memory_mb;
	char file_prefix[64];
	uint32_t timeout_s;
	uint32_t level_interval_ms;
	uint32_t pli_interval_ms;
	uint32_t stats_s;
	/* policing (police.c); 0 disables a rate */
	uint32_t ingress_pps;
	uint32_t ingress_kbps;
	uint32_t ingress_burst_ms;
	uint32_t nack_percent;
	uint32_t nack_burst;
	uint32_t nack_rtt_ms;
	uint32_t sr_interval_ms;
	int log_level; /* RTE_LOG_ERR .. RTE_LOG_DEBUG */
	char **eal_extra;
	int n_eal_extra;
};

/* config.c */
/* Returns 0, 1 when --help was printed, or -EINVAL with the reason in err. */
int sl_config_parse(int argc, char **argv, struct sl_dp_config *cfg, char *err, size_t errlen);
void sl_config_defaults(struct sl_dp_config *cfg);
/* Build EAL argv (pointers into cfg and a static buffer). Returns argc. */
int sl_config_eal_args(const struct sl_dp_config *cfg, char **argv, int max);
void sl_config_usage(FILE *out);

/* Per-mbuf metadata in the mbuf private area (packets going up). */
struct sl_mbuf_meta {
	struct sl_ctl_addr addr;
	uint16_t payload_off;
	uint16_t payload_len;
	uint8_t kind; /* enum sl_pkt_kind */
};

/* ---- policing state (police.c) ---- */

/* Sequence numbers recently retransmitted to one subscription (NACK dedup). */
#define SL_RTX_RING 64
struct sl_rtx_ring {
	uint32_t ms[SL_RTX_RING]; /* when, in worker milliseconds */
	uint16_t seq[SL_RTX_RING];
	uint8_t head, n;
};

/* ---- worker tables (tables.c) ---- */

#define SL_NONE UINT32_MAX

struct sl_endpoint {
	uint32_t id; /* 0 = free slot */
	uint64_t room;
	struct sl_ctl_addr addr;
	struct sl_net_flow flow; /* egress headers towards it */
	struct sl_srtp *rx;      /* unprotects what it sends */
	struct sl_srtp *tx;      /* protects what we send it */
	uint16_t profile;
	uint8_t audio_level_ext;
	bool mute[3];          /* indexed by enum sl_media_kind */
	uint32_t fb_ssrc;      /* our SSRC in RTCP we originate towards it */
	uint32_t first_stream; /* streams it publishes */
	uint32_t first_sub;    /* subscriptions it receives */
	uint64_t last_rx_tsc;
	uint64_t alive_rx_tsc;   /* last_rx_tsc when MEDIA_ALIVE was last sent */
	uint64_t alive_sent_tsc; /* when it was sent */
	bool timeout_sent;
	uint8_t level_min; /* loudest level (lowest -dBov) this interval */
	uint32_t level_count;
	uint8_t fir_seq;
	struct sl_tb in_pkts, in_bytes; /* ingress cap (police.c) */
	struct sl_tb keyframes;         /* keyframe requests to it, all streams (police.c) */
	bool kf_pending;                /* one of its streams has kf_pending */
	struct sl_tb up;                /* STUN/DTLS from it going up (SL_UP_EP_*) */
};

struct sl_stream {
	uint32_t ep; /* publisher slot; SL_NONE = free */
	uint32_t ssrc;
	uint8_t kind;
	uint32_t next_in_ep;
	uint32_t first_sub;
	uint32_t n_subs;
	uint64_t last_pli_tsc;
	bool kf_pending; /* a new subscriber's keyframe request waits for the limiter */
	/* police.c: SR limiter and measured packet rate (1 s windows) */
	uint64_t last_sr_tsc;
	uint64_t win_tsc;
	uint32_t win_pkts;
	uint32_t rate_pps;
	uint64_t nack_tsc; /* ticks per retransmission to one subscription, 0 = 1 s */
};

struct sl_sub {
	uint32_t ep;     /* subscriber slot; SL_NONE = free */
	uint32_t stream; /* stream slot */
	uint32_t dst_ssrc;
	uint32_t next_in_stream;
	uint32_t next_in_ep;
	bool started;
	bool resync; /* re-pointed: continue from last_out_* */
	uint16_t seq_delta;
	uint32_t ts_delta;
	uint16_t last_out_seq;
	uint32_t last_out_ts;
	uint32_t packets;
	uint32_t octets;
	struct sl_tb nack; /* retransmission budget (police.c) */
	/*
	 * Out seqs extended past 16 bits (wrapping uint32, compared by signed
	 * difference). out_hi is the highest mapped; everything at or before
	 * out_floor belongs to an earlier mapping (before the start or the last
	 * re-point) and is never sent or retransmitted again. sent[] has a bit
	 * per out seq in (out_hi - SL_SUB_SENT_BITS, out_hi]: sent in the
	 * current mapping.
	 */
	uint32_t out_hi;
	uint32_t out_floor;
	uint64_t sent[SL_SUB_SENT_BITS / 64];
};

struct rte_hash;

struct sl_tables {
	uint32_t max_eps, max_streams, max_subs, history;
	struct sl_endpoint *eps;
	struct sl_stream *streams;
	struct sl_sub *subs;
	struct rte_mbuf **hist;         /* max_streams * history, plaintext RTP copies */
	struct sl_rtx_ring *rtx;        /* max_subs: recent retransmissions (police.c) */
	uint32_t hist_mbufs;            /* the worker's history pool: shared fairly */
	uint32_t hist_depth;            /* slots each video stream may use now (history.c) */
	uint32_t n_video;               /* video streams, for hist_depth */
	uint32_t free_stream, free_sub; /* free lists (through next_in_ep) */
	struct rte_hash *by_tuple;      /* 5-tuple -> ep slot */
	struct rte_hash *by_id;         /* ep id -> ep slot */
	uint32_t n_eps;
};

/* Hash key for the 5-tuple of an endpoint. */
struct sl_tuple_key {
	uint8_t family;
	uint8_t pad;
	uint16_t remote_port;
	uint16_t local_port;
	uint16_t pad2;
	uint8_t remote_ip[16];
	uint8_t local_ip[16];
};

/* hist_mbufs starts unlimited (UINT32_MAX): the creator sets the pool's size. */
struct sl_tables *sl_tables_create(const char *name, int socket, uint32_t max_eps,
				   uint32_t max_streams, uint32_t max_subs, uint32_t history);
void sl_tables_destroy(struct sl_tables *t);
void sl_tuple_key_from_addr(struct sl_tuple_key *k, const struct sl_ctl_addr *a);
uint32_t sl_tables_ep_by_id(const struct sl_tables *t, uint32_t id);
uint32_t sl_tables_ep_by_tuple(const struct sl_tables *t, const struct sl_tuple_key *k);
int sl_tables_ep_add(struct sl_tables *t, const struct sl_ctl_ep *m, struct sl_srtp *rx,
		     struct sl_srtp *tx, const struct sl_net_local *local);
/* Detach an endpoint: its SRTP contexts are returned for main to free. */
int sl_tables_ep_remove(struct sl_tables *t, uint32_t slot, struct sl_srtp **rx,
			struct sl_srtp **tx);
int sl_tables_ep_set_addr(struct sl_tables *t, uint32_t slot, const struct sl_ctl_addr *a,
			  const struct sl_net_local *local);
int sl_tables_subscribe(struct sl_tables *t, const struct sl_ctl_sub *m);
int sl_tables_unsubscribe(struct sl_tables *t, const struct sl_ctl_sub *m);
uint32_t sl_tables_stream_find(const struct sl_tables *t, uint32_t ep, uint32_t ssrc);
uint32_t sl_tables_sub_by_dst(const struct sl_tables *t, uint32_t ep, uint32_t dst_ssrc);
/*
 * Map an incoming seq/ts into the subscription's view and mark the out seq
 * sent. Returns 0, or -EALREADY when the packet must not be sent because its
 * SRTP index may already carry another packet: it maps at or before the
 * start of the current mapping (a late packet from before a re-point), onto
 * an out seq already sent, or too far back to tell. State is unchanged then.
 */
int sl_sub_map(struct sl_sub *s, uint16_t in_seq, uint32_t in_ts, uint16_t *out_seq,
	       uint32_t *out_ts);
/* Map back an out seq: the publisher's seq under the current mapping. */
uint16_t sl_sub_unmap_seq(const struct sl_sub *s, uint16_t out_seq);
/*
 * NACK: may out_seq be retransmitted? Only if this subscription sent it in
 * its current mapping and it is within the last SL_SUB_SENT_BITS; then
 * *in_seq is the publisher's seq to take from the history. 0 or -ENOENT.
 */
int sl_sub_resend_seq(const struct sl_sub *s, uint16_t out_seq, uint16_t *in_seq);
/* Mute or unmute an endpoint's kind; muting drops its streams' history. */
int sl_tables_mute(struct sl_tables *t, uint32_t slot, uint8_t kind, bool muted);
/* Flow (egress header description) from an endpoint address. */
void sl_flow_from_addr(struct sl_net_flow *f, const struct sl_ctl_addr *a,
		       const struct sl_net_local *local);

/* ---- commands main -> worker ---- */

struct sl_cmd {
	uint16_t type;  /* enum sl_ctl_type of the request */
	uint32_t seq;   /* request seq, for the reply */
	int32_t status; /* out */
	union {
		struct {
			struct sl_ctl_ep m; /* keys zeroed: contexts below */
			struct sl_srtp *rx, *tx;
		} ep;
		struct sl_ctl_ep_ref ref;
		struct sl_ctl_sub sub;
		struct sl_ctl_mute mute;
		struct sl_ctl_room room;
		struct rte_mbuf *pkt; /* PKT_DOWN, ready to send */
	} u;
	bool internal; /* part of a ROOM_REMOVE: no reply of its own */
	/* Detached by the worker (EP_REMOVE, failed EP_ADD), freed by main. */
	struct sl_srtp *freed_rx, *freed_tx;
};

/* ---- events worker -> main ---- */
struct sl_event_msg {
	uint32_t ep_id;
	uint16_t type;
	uint16_t pad;
	uint32_t value;
	uint32_t count;
};

/* ---- the worker ---- */

struct sl_worker {
	unsigned id;
	unsigned lcore;
	uint16_t port;
	uint16_t queue;
	uint16_t n_workers;
	uint16_t base_port;
	uint16_t mtu;
	struct rte_mempool *pool;
	struct rte_mempool *hist_pool;
	struct rte_ring *cmd_ring;
	struct rte_ring *done_ring;
	struct rte_ring *up_ring;
	struct rte_ring *up_prio_ring; /* STUN/DTLS from installed endpoints */
	struct rte_ring *ev_ring;
	struct rte_ring *handoff_ring;
	struct sl_worker **all; /* every worker, for hand-off */
	struct sl_tables *t;
	const struct sl_net_local *local;
	unsigned rx_flags; /* SL_NET_CSUM_* the port guarantees */
	bool tx_udp_csum_offload;
	uint64_t hz;
	uint64_t timeout_tsc, level_tsc, pli_tsc, drain_tsc;
	uint64_t next_level, next_timeout_scan, last_drain;
	uint64_t up_tokens_tsc; /* unknown-source up rate limit */
	unsigned up_tokens;
	struct {                  /* police.c: limits in TSC units, set at start-up */
		uint64_t pkt_tsc; /* ingress: ticks per packet, 0 = no limit */
		uint64_t byte_fp; /* ingress: ticks per byte << 16, 0 = no limit */
		uint64_t burst_tsc;
		uint64_t rtt_ms; /* NACK dedup window */
		uint64_t ms_tsc;
		uint64_t sr_tsc;
		uint32_t nack_percent, nack_burst;
		/* the compound being handled (feedback.c) */
		uint64_t now;
		uint32_t now_ms;
		unsigned nack_left;
	} pol;
	volatile bool port_down; /* set by main while the link is down: no rx/tx */
	bool link_check; /* the PMD unmaps its rings on link down (memif): check before bursts */
	struct sl_tb up_unval;                /* unvalidated STUN/DTLS, whole worker */
	uint32_t up_src_seed;                 /* random: hash of the source address */
	struct sl_tb up_src[SL_UP_SRC_SLOTS]; /* ... per source address */
	unsigned tx_n;
	struct rte_mbuf *tx[SL_BURST * 4];
	uint64_t cnt[SL_CNT_MAX] __rte_cache_aligned;
	/* TSC ticks of the poll loop (worker.c), written by the worker only, read by main
	 * and the telemetry thread: every turn, and the turns that received packets. */
	uint64_t loop_tsc, busy_tsc;
} __rte_cache_aligned;

/* worker.c */
int sl_worker_main(void *arg);
/* For ports whose rings can vanish mid-burst (net_memif): see worker.c. */
void sl_worker_guard_install(void);
void sl_worker_tx(struct sl_worker *w, struct rte_mbuf *m);
void sl_worker_tx_flush(struct sl_worker *w);
void sl_worker_apply_cmd(struct sl_worker *w, struct sl_cmd *c);
extern volatile bool sl_quit;

/* forward.c: RTP and RTCP from a known endpoint. Consume m. */
void sl_forward_rtp(struct sl_worker *w, struct rte_mbuf *m, uint32_t ep_slot, uint16_t off,
		    uint16_t len);
void sl_forward_rtcp(struct sl_worker *w, struct rte_mbuf *m, uint32_t ep_slot, uint16_t off,
		     uint16_t len);
/*
 * Send one plaintext RTP packet (hdr at p, len bytes) of stream to the
 * subscriptions in subs[0..n): copy, rewrite, protect, add headers, queue.
 */
void sl_forward_fanout(struct sl_worker *w, const uint8_t *p, uint16_t len, uint32_t *subs,
		       unsigned n, bool retransmit);
/* Send an RTCP packet we built (plaintext, len bytes) to endpoint slot. */
void sl_forward_send_rtcp(struct sl_worker *w, uint32_t ep_slot, const uint8_t *p, uint16_t len);

/* feedback.c: a decrypted compound RTCP from endpoint ep_slot. */
void sl_feedback_handle(struct sl_worker *w, uint32_t ep_slot, const uint8_t *p, uint16_t len);

/* Send the publisher of stream si a PLI (on a new video subscription: the
 * subscriber cannot decode until the next keyframe). Rate-limited with the
 * subscribers' PLI/FIR (one limiter per stream): subscribing is driven by
 * participants too. A request the limiter refuses is not lost: it is sent
 * once the limiter allows (sl_feedback_keyframes_due, from the 100 ms scan),
 * since a keyframe asked for earlier may have passed before this subscriber
 * came, and some receivers (aiortc) never ask themselves. */
void sl_feedback_request_keyframe(struct sl_worker *w, uint32_t si);
/* Send the deferred keyframe requests of endpoint ep_slot's streams that the
 * limiter now allows. */
void sl_feedback_keyframes_due(struct sl_worker *w, uint32_t ep_slot, uint64_t now);

/* Queue an event for the control plane (counted as drop_up_full if full). */
void sl_feedback_event(struct sl_worker *w, uint32_t ep_id, uint16_t type, uint32_t value,
		       uint32_t count);

/* police.c: per-endpoint, per-stream and per-subscription limits. */
#define SL_NACK_PER_COMPOUND 64 /* sequence numbers looked at per RTCP compound */
#define SL_KEYFRAMES_PER_EP  4  /* keyframe requests to a publisher per pli-interval */
void sl_police_init(struct sl_worker *w, const struct sl_dp_config *cfg);
/* An authenticated packet of len bytes from e at now: false = over the cap (counted). */
bool sl_police_ingress(struct sl_worker *w, struct sl_endpoint *e, uint16_t len, uint64_t now);
/* A packet of stream st forwarded: measures its rate. */
void sl_police_stream_rx(struct sl_worker *w, struct sl_stream *st, uint64_t now);
/* Start of an RTCP compound: one clock reading, a fresh per-compound cap. */
void sl_police_compound(struct sl_worker *w);
/* n sequence numbers of one NACK: how many of them the compound cap lets through
 * (the rest are counted as drop_nack_limit). */
unsigned sl_police_nack_take(struct sl_worker *w, unsigned n);
/* May seq (the subscriber's numbering) be retransmitted to subscription sub?
 * Refuses duplicates within the RTT window and an empty budget (counted);
 * true records the retransmission. */
bool sl_police_nack(struct sl_worker *w, uint32_t sub, uint16_t seq);
/* May an SR of stream st go out now (one per stream per compound and sr-interval)? */
bool sl_police_sr(struct sl_worker *w, struct sl_stream *st);
/* May a keyframe request (PLI/FIR, any cause) go to st's publisher now? */
bool sl_police_keyframe(struct sl_worker *w, struct sl_stream *st, uint64_t now);

/* history.c */
/* Fair share of the worker's history pool after a video stream came or went. */
void sl_history_rebalance(struct sl_tables *t);
void sl_history_store(struct sl_worker *w, uint32_t stream, const uint8_t *p, uint16_t len,
		      uint16_t seq);
/* Returns the stored mbuf (data = RTP packet) or NULL. Not removed. */
struct rte_mbuf *sl_history_get(struct sl_worker *w, uint32_t stream, uint16_t seq);

/* counters.c */
void sl_counters_sum(struct sl_worker **ws, unsigned n, const uint64_t *main_cnt, uint64_t *out);
void sl_counters_print(FILE *f, const uint64_t *v);

/* ctl_server.c: the control socket on the main lcore. */
struct sl_ctl_server;
struct sl_ctl_server *sl_ctl_server_create(const struct sl_dp_config *cfg, struct sl_worker **ws,
					   unsigned n_workers, struct rte_mempool *pool);
/* Serve: accept, read requests, replies, ups, events. Returns after ~timeout_ms. */
void sl_ctl_server_poll(struct sl_ctl_server *s, int timeout_ms);
const uint64_t *sl_ctl_server_counters(const struct sl_ctl_server *s);
void sl_ctl_server_destroy(struct sl_ctl_server *s);

/* stats.c: per-worker figures (SL_CTL_WORKER_STATS) and DPDK telemetry. */
void sl_stats_init(struct sl_worker **ws, unsigned n, struct rte_mempool *pool,
		   const uint64_t *main_cnt);
void sl_stats_tick(void); /* main lcore, every turn: samples once a second */
size_t sl_stats_workers(struct sl_ctl_worker_stats *m); /* fills m; returns its length */
int sl_stats_telemetry_register(void); /* /sluice/counters, /sluice/workers: 0 or -errno */

/* port.c */
int sl_port_setup(const struct sl_dp_config *cfg, uint16_t n_queues, struct rte_mempool *pool,
		  unsigned *rx_flags, bool *tx_csum, bool *flow_steering);

#define SL_COUNT(w, name) ((w)->cnt[SL_CNT_##name]++)

#endif
