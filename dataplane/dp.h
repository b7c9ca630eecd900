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

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <sluice/ctl.h>
#include <sluice/net.h>
#include <sluice/srtp.h>

#define SL_MAX_WORKERS  16
#define SL_MAX_VDEVS    8
#define SL_BURST        32
#define SL_MAX_FANOUT   256 /* subscribers served per packet; more are counted as drops */
#define SL_EP_MAX_SSRCS 16  /* SSRCs an endpoint may send (RTP + RTCP) */
#define SL_UP_PER_SEC   200 /* unknown-source packets sent up per second and worker */

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
};

struct sl_stream {
	uint32_t ep; /* publisher slot; SL_NONE = free */
	uint32_t ssrc;
	uint8_t kind;
	uint32_t next_in_ep;
	uint32_t first_sub;
	uint32_t n_subs;
	uint64_t last_pli_tsc;
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
};

struct rte_hash;

struct sl_tables {
	uint32_t max_eps, max_streams, max_subs, history;
	struct sl_endpoint *eps;
	struct sl_stream *streams;
	struct sl_sub *subs;
	struct rte_mbuf **hist;         /* max_streams * history, plaintext RTP copies */
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
/* Map an incoming seq/ts into the subscription's view (advances state). */
void sl_sub_map(struct sl_sub *s, uint16_t in_seq, uint32_t in_ts, uint16_t *out_seq,
		uint32_t *out_ts);
/* Map back an out seq (for NACK): the publisher's seq. */
uint16_t sl_sub_unmap_seq(const struct sl_sub *s, uint16_t out_seq);
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
	unsigned tx_n;
	struct rte_mbuf *tx[SL_BURST * 4];
	uint64_t cnt[SL_CNT_MAX] __rte_cache_aligned;
} __rte_cache_aligned;

/* worker.c */
int sl_worker_main(void *arg);
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
 * subscriber cannot decode until the next keyframe). Not rate-limited: it
 * follows control-plane commands, not network input. */
void sl_feedback_request_keyframe(struct sl_worker *w, uint32_t si);

/* Queue an event for the control plane (counted as drop_up_full if full). */
void sl_feedback_event(struct sl_worker *w, uint32_t ep_id, uint16_t type, uint32_t value,
		       uint32_t count);

/* history.c */
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

/* port.c */
int sl_port_setup(const struct sl_dp_config *cfg, uint16_t n_queues, struct rte_mempool *pool,
		  unsigned *rx_flags, bool *tx_csum, bool *flow_steering);

#define SL_COUNT(w, name) ((w)->cnt[SL_CNT_##name]++)

#endif
