/*
 * ctl_server.c - the control socket, served by the main lcore.
 *
 * One SOCK_SEQPACKET listener, one control plane connected at a time. Each
 * request is validated whole (common/ctl_msg.c) before anything is done; a
 * bad one gets an error reply and the connection stays up. Global checks
 * (endpoint ids, which worker owns a room, capacity) happen here against the
 * main lcore's own maps; SRTP contexts are created here, and the master keys
 * wiped from every buffer, before the command goes to the worker that owns
 * the endpoint. Replies are sent when the worker hands the command back, so
 * a reply means the change is in effect on the fast path. In the other
 * direction the server drains the workers' up and event rings into
 * PKT_UP and EVENT messages. The control plane going away stops nothing:
 * media keeps flowing and a new connection can take over.
 *
 * Nothing the control plane asked for is dropped: replies, INFO, COUNTERS,
 * WORKER_STATS and events that the socket cannot take now wait in a bounded queue, sent
 * on POLLOUT in order; while it is half full no further request is read
 * (and while it is full no command result or event is taken from the
 * workers), so a control plane that stops reading slows itself down instead
 * of losing answers. PKT_UP is different: a packet the socket cannot take
 * is dropped and counted (drop_ctl_full), except STUN/DTLS from installed
 * endpoints, which wait in their worker's priority ring.
 *
 * The socket is created with its final mode (0660) and owner (root, group
 * --ctl-group) in a private directory and renamed into place; a connecting
 * process must be root, the dataplane's own user, or in that group
 * (SO_PEERCRED), and a second connection is refused while one is served.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "dp.h"

#define RTE_LOGTYPE_SLUICE   RTE_LOGTYPE_USER1
#define SL_DRAIN_PER_POLL    256
#define SL_OUTQ              4096 /* messages waiting for the control plane: power of two */
#define SL_OUTMSG_MAX_(a, b) ((a) > (b) ? (a) : (b))
#define SL_OUTMSG_MAX                                                                              \
	SL_OUTMSG_MAX_(SL_OUTMSG_MAX_(sizeof(struct sl_ctl_counters), sizeof(struct sl_ctl_info)), \
		       sizeof(struct sl_ctl_worker_stats))

struct outmsg {
	uint16_t len;
	uint8_t data[SL_OUTMSG_MAX];
};

struct ep_entry {
	uint64_t room;
	uint16_t worker;
	bool live; /* false while its EP_ADD is in flight or failed */
};

struct room_entry {
	uint16_t worker;
	uint32_t n_eps;
};

struct sl_ctl_server {
	const struct sl_dp_config *cfg;
	struct sl_worker **ws;
	unsigned n_workers;
	struct rte_mempool *pool;
	int lfd;
	int cfd;
	struct rte_hash *eps;   /* ep_id -> struct ep_entry * */
	struct rte_hash *rooms; /* room_id -> struct room_entry * */
	uint32_t n_eps;
	unsigned inflight[SL_MAX_WORKERS]; /* commands out: cmd + done ring */
	struct outmsg *outq;               /* replies and events the socket could not take */
	unsigned outq_head, outq_n;
	struct rte_mbuf *held[SL_MAX_WORKERS]; /* a priority PKT_UP waiting for room */
	uint64_t cnt[SL_CNT_MAX];
	uint8_t buf[SL_CTL_MAX_MSG + 1];
};

static struct rte_hash *map_create(const char *name, uint32_t entries, uint32_t key_len)
{
	struct rte_hash_parameters p = {
		.name = name,
		.entries = entries,
		.key_len = key_len,
		.hash_func = rte_jhash,
		.socket_id = (int)rte_socket_id(),
	};

	return rte_hash_create(&p);
}

/*
 * Bind in a fresh private directory next to path, with the final mode
 * (umask) and group, then rename into place: nothing is ever chmod-ed or
 * chown-ed through a name someone else could have replaced or linked.
 */
static int bind_private(int fd, const char *path, const struct sl_dp_config *cfg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], copy[sizeof(sa.sun_path)];
	const char *parent;
	mode_t old;
	int rc = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	parent = dirname(copy); /* copy, or a static "." */
	if (strlen(parent) + sizeof("/.sluice-ctl-XXXXXX/s") > sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(dir, parent);
	strcat(dir, "/.sluice-ctl-XXXXXX");
	if (!mkdtemp(dir))
		return -errno;
	strcpy(sa.sun_path, dir);
	strcat(sa.sun_path, "/s");
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		rc = -errno;
	umask(old);
	if (rc == 0 && cfg->has_ctl_group && lchown(sa.sun_path, (uid_t)-1, cfg->ctl_gid) != 0)
		rc = -errno;
	if (rc == 0 && rename(sa.sun_path, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(sa.sun_path);
	rmdir(dir);
	return rc;
}

static int listen_socket(const struct sl_dp_config *cfg)
{
	struct stat st;
	int fd, rc;

	if (strlen(cfg->ctl_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	if (lstat(cfg->ctl_path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return -EEXIST; /* never replace anything but a stale socket */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = bind_private(fd, cfg->ctl_path, cfg);
	if (rc == 0 && listen(fd, 4) != 0)
		rc = -errno;
	if (rc != 0) {
		close(fd);
		return rc;
	}
	return fd;
}

struct sl_ctl_server *sl_ctl_server_create(const struct sl_dp_config *cfg, struct sl_worker **ws,
					   unsigned n_workers, struct rte_mempool *pool)
{
	struct sl_ctl_server *s = calloc(1, sizeof(*s));
	int fd;

	if (!s)
		return NULL;
	s->cfg = cfg;
	s->ws = ws;
	s->n_workers = n_workers;
	s->pool = pool;
	s->cfd = -1;
	s->eps = map_create("sl_ctl_eps", cfg->max_endpoints * n_workers + 8, sizeof(uint32_t));
	s->rooms = map_create("sl_ctl_rooms", cfg->max_endpoints * n_workers + 8, sizeof(uint64_t));
	s->outq = calloc(SL_OUTQ, sizeof(*s->outq));
	fd = s->eps && s->rooms && s->outq ? listen_socket(cfg) : -ENOMEM;
	if (fd < 0) {
		fprintf(stderr, "ctl-socket: cannot listen on %s: %s\n", cfg->ctl_path,
			strerror(-fd));
		s->lfd = -1;
		sl_ctl_server_destroy(s);
		return NULL;
	}
	s->lfd = fd;
	return s;
}

const uint64_t *sl_ctl_server_counters(const struct sl_ctl_server *s)
{
	return s->cnt;
}

static void conn_close(struct sl_ctl_server *s)
{
	close(s->cfd);
	s->cfd = -1;
	/* What was queued answered that control plane; a new one starts afresh. */
	for (unsigned i = 0; i < SL_OUTQ; i++)
		explicit_bzero(&s->outq[i], sizeof(s->outq[i]));
	s->outq_head = s->outq_n = 0;
	for (unsigned w = 0; w < s->n_workers; w++) {
		rte_pktmbuf_free(s->held[w]);
		s->held[w] = NULL;
	}
}

/* 0 sent, -EAGAIN the socket is full, other -errno: the connection failed. */
static int send_now(struct sl_ctl_server *s, const void *msg, size_t len)
{
	if (send(s->cfd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOBUFS)
		return -EAGAIN;
	return -errno;
}

/* Send what is queued, oldest first, as far as the socket takes it. */
static void flush_out(struct sl_ctl_server *s)
{
	while (s->cfd >= 0 && s->outq_n) {
		struct outmsg *o = &s->outq[s->outq_head];
		int rc = send_now(s, o->data, o->len);

		if (rc == -EAGAIN)
			return;
		if (rc != 0) {
			RTE_LOG(INFO, SLUICE,
				"control socket: send failed (%s); dropping the connection\n",
				strerror(-rc));
			conn_close(s);
			return;
		}
		o->len = 0;
		s->outq_head = (s->outq_head + 1) & (SL_OUTQ - 1);
		s->outq_n--;
	}
}

/* Replies, INFO, COUNTERS, events: sent now, or queued and never dropped. */
static void send_msg(struct sl_ctl_server *s, const void *msg, size_t len)
{
	struct outmsg *o;
	int rc;

	if (s->cfd < 0)
		return;
	if (s->outq_n == 0) {
		rc = send_now(s, msg, len);
		if (rc == 0)
			return;
		if (rc != -EAGAIN) {
			RTE_LOG(WARNING, SLUICE, "control socket: send failed: %s\n",
				strerror(-rc));
			return;
		}
	}
	if (s->outq_n == SL_OUTQ || len > SL_OUTMSG_MAX) {
		/* Cannot happen: nothing is read or taken while the queue is this full. */
		s->cnt[SL_CNT_drop_ctl_full]++;
		return;
	}
	o = &s->outq[(s->outq_head + s->outq_n) & (SL_OUTQ - 1)];
	memcpy(o->data, msg, len);
	o->len = (uint16_t)len;
	s->outq_n++;
}

static void reply(struct sl_ctl_server *s, uint32_t seq, uint16_t type, int status)
{
	struct sl_ctl_reply r = { .status = status, .req_type = type };

	sl_ctl_hdr_init(&r.h, SL_CTL_REPLY, sizeof(r), seq);
	send_msg(s, &r, sizeof(r));
}

static struct sl_cmd *cmd_new(uint16_t type, uint32_t seq)
{
	struct sl_cmd *c = calloc(1, sizeof(*c));

	if (c) {
		c->type = type;
		c->seq = seq;
	}
	return c;
}

static int post(struct sl_ctl_server *s, unsigned worker, struct sl_cmd *c)
{
	/* done_ring holds as many as cmd_ring: never have more out than that. */
	if (s->inflight[worker] >= rte_ring_get_capacity(s->ws[worker]->done_ring) ||
	    rte_ring_mp_enqueue(s->ws[worker]->cmd_ring, c) != 0)
		return -EBUSY;
	s->inflight[worker]++;
	return 0;
}

static struct ep_entry *ep_lookup(struct sl_ctl_server *s, uint32_t id)
{
	void *d;

	return rte_hash_lookup_data(s->eps, &id, &d) < 0 ? NULL : d;
}

static struct room_entry *room_lookup(struct sl_ctl_server *s, uint64_t id)
{
	void *d;

	return rte_hash_lookup_data(s->rooms, &id, &d) < 0 ? NULL : d;
}

static void ep_forget(struct sl_ctl_server *s, uint32_t id)
{
	struct ep_entry *e = ep_lookup(s, id);
	struct room_entry *r;

	if (!e)
		return;
	r = room_lookup(s, e->room);
	if (r && --r->n_eps == 0) {
		rte_hash_del_key(s->rooms, &e->room);
		free(r);
	}
	rte_hash_del_key(s->eps, &id);
	free(e);
	s->n_eps--;
}

static int ep_remember(struct sl_ctl_server *s, const struct sl_ctl_ep *m)
{
	struct room_entry *r = room_lookup(s, m->room_id);
	struct ep_entry *e;

	if (r && r->worker != m->worker)
		return -EXDEV;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r || rte_hash_add_key_data(s->rooms, &m->room_id, r) < 0) {
			free(r);
			free(e);
			return -ENOSPC;
		}
		r->worker = m->worker;
	}
	e->room = m->room_id;
	e->worker = m->worker;
	if (rte_hash_add_key_data(s->eps, &m->ep_id, e) < 0) {
		free(e);
		if (r->n_eps == 0) {
			rte_hash_del_key(s->rooms, &m->room_id);
			free(r);
		}
		return -ENOSPC;
	}
	r->n_eps++;
	s->n_eps++;
	return 0;
}

static void wipe_keys(struct sl_ctl_ep *m)
{
	explicit_bzero(m->rx.key, sizeof(m->rx.key));
	explicit_bzero(m->rx.salt, sizeof(m->rx.salt));
	explicit_bzero(m->tx.key, sizeof(m->tx.key));
	explicit_bzero(m->tx.salt, sizeof(m->tx.salt));
}

/* Create both SRTP contexts; the keys in m are wiped whatever happens. */
static int make_contexts(struct sl_ctl_ep *m, struct sl_cmd *c)
{
	c->u.ep.rx = sl_srtp_create(m->profile, m->rx.key, m->rx.salt, true, SL_EP_MAX_RX_SSRCS);
	c->u.ep.tx = sl_srtp_create(m->profile, m->tx.key, m->tx.salt, false, SL_EP_MAX_TX_SSRCS);
	wipe_keys(m);
	if (!c->u.ep.rx || !c->u.ep.tx) {
		sl_srtp_destroy(c->u.ep.rx);
		sl_srtp_destroy(c->u.ep.tx);
		return -EINVAL;
	}
	return 0;
}

/*
 * The peer of a 5-tuple must not be this dataplane itself: not our MAC, not
 * one of our addresses (IPv4, IPv6, link-local, v4-mapped). Multicast, zero,
 * loopback and the like are refused by sl_ctl_validate already.
 */
static int not_ours(const struct sl_ctl_server *s, const struct sl_ctl_addr *a)
{
	const struct sl_net_local *l = &s->cfg->local;
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(a->peer_mac, l->mac, 6))
		return -EINVAL;
	if (a->family == 4)
		return l->has_ip4 && !memcmp(a->remote_ip, l->ip4, 4) ? -EINVAL : 0;
	if ((l->has_ip6 && !memcmp(a->remote_ip, l->ip6, 16)) ||
	    !memcmp(a->remote_ip, l->ip6_ll, 16) ||
	    (l->has_ip4 && !memcmp(a->remote_ip, v4mapped, 12) &&
	     !memcmp(a->remote_ip + 12, l->ip4, 4)))
		return -EINVAL;
	return 0;
}

static int ep_add(struct sl_ctl_server *s, struct sl_ctl_ep *m, struct sl_cmd *c)
{
	int rc;

	if (m->worker >= s->n_workers || not_ours(s, &m->addr)) {
		wipe_keys(m);
		return -EINVAL;
	}
	if (ep_lookup(s, m->ep_id))
		return -EEXIST;
	if (s->n_eps >= s->cfg->max_endpoints * s->n_workers)
		return -ENOSPC;
	rc = make_contexts(m, c);
	if (rc)
		return rc;
	rc = ep_remember(s, m);
	if (rc) {
		sl_srtp_destroy(c->u.ep.rx);
		sl_srtp_destroy(c->u.ep.tx);
		return rc;
	}
	c->u.ep.m = *m;
	return (int)m->worker;
}

static int ep_update(struct sl_ctl_server *s, struct sl_ctl_ep *m, struct sl_cmd *c)
{
	struct ep_entry *e = ep_lookup(s, m->ep_id);
	int rc;

	if (!e) {
		wipe_keys(m);
		return -ENOENT;
	}
	if ((m->flags & SL_EP_UPD_ADDR) && not_ours(s, &m->addr)) {
		wipe_keys(m);
		return -EINVAL;
	}
	if (m->flags & SL_EP_UPD_KEYS) {
		rc = make_contexts(m, c);
		if (rc)
			return rc;
	}
	wipe_keys(m);
	c->u.ep.m = *m;
	return e->worker;
}

/* ROOM_REMOVE: one internal EP_REMOVE per endpoint, then the marker. */
static int room_remove(struct sl_ctl_server *s, const struct sl_ctl_room *m, uint32_t seq)
{
	struct room_entry *r = room_lookup(s, m->room_id);
	const void *key;
	void *data;
	uint32_t it = 0;
	int worker;

	if (!r)
		return -ENOENT;
	worker = r->worker;
	while (rte_hash_iterate(s->eps, &key, &data, &it) >= 0) {
		struct ep_entry *e = data;
		struct sl_cmd *c;

		if (e->room != m->room_id)
			continue;
		c = cmd_new(SL_CTL_EP_REMOVE, seq);
		if (!c)
			return -ENOMEM;
		c->internal = true;
		c->u.ref.ep_id = *(const uint32_t *)key;
		if (post(s, (unsigned)worker, c) != 0) {
			free(c);
			return -EBUSY;
		}
	}
	return worker;
}

/* PKT_DOWN: build the frame here; the owning worker only sends it. */
static int pkt_down(struct sl_ctl_server *s, const struct sl_ctl_pkt *m, struct sl_cmd *c)
{
	uint16_t port = rte_be_to_cpu_16(m->addr.local_port);
	struct sl_net_flow f;
	struct rte_mbuf *mb;
	size_t hlen;
	uint8_t *p;

	if (port < s->cfg->base_port || port - s->cfg->base_port >= s->n_workers)
		return -EADDRNOTAVAIL;
	if (not_ours(s, &m->addr))
		return -EINVAL;
	if (m->addr.family == 4
		    ? (!s->cfg->local.has_ip4 || memcmp(m->addr.local_ip, s->cfg->local.ip4, 4))
		    : (!s->cfg->local.has_ip6 || memcmp(m->addr.local_ip, s->cfg->local.ip6, 16)))
		return -EADDRNOTAVAIL;
	sl_flow_from_addr(&f, &m->addr, &s->cfg->local);
	hlen = sl_net_hdr_len(&f);
	if (m->data_len + hlen - SL_ETH_HLEN - (f.has_vlan ? SL_VLAN_HLEN : 0) > s->cfg->mtu)
		return -EMSGSIZE;
	mb = rte_pktmbuf_alloc(s->pool);
	if (!mb)
		return -ENOBUFS;
	p = (uint8_t *)rte_pktmbuf_append(mb, (uint16_t)(hlen + m->data_len));
	if (!p) {
		rte_pktmbuf_free(mb);
		return -EMSGSIZE;
	}
	memcpy(p + hlen, m->data, m->data_len);
	sl_net_write_udp(p, &f, m->data_len, true);
	c->u.pkt = mb;
	return port - s->cfg->base_port;
}

/* SUBSCRIBE/UNSUBSCRIBE/MUTE/EP_REMOVE: route to the endpoint's worker. */
static int route(struct sl_ctl_server *s, uint32_t ep_id, uint32_t other_id)
{
	struct ep_entry *e = ep_lookup(s, ep_id), *o;

	if (!e)
		return -ENOENT;
	if (other_id) {
		o = ep_lookup(s, other_id);
		if (!o)
			return -ENOENT;
		if (o->room != e->room)
			return -EINVAL;
	}
	return e->worker;
}

/* Prepare the command for a validated request; returns its worker or -errno. */
static int prepare(struct sl_ctl_server *s, uint8_t *msg, uint16_t type, struct sl_cmd *c)
{
	switch (type) {
	case SL_CTL_EP_ADD:
		return ep_add(s, (struct sl_ctl_ep *)msg, c);
	case SL_CTL_EP_UPDATE:
		return ep_update(s, (struct sl_ctl_ep *)msg, c);
	case SL_CTL_EP_REMOVE:
		memcpy(&c->u.ref, msg, sizeof(c->u.ref));
		return route(s, c->u.ref.ep_id, 0);
	case SL_CTL_SUBSCRIBE:
	case SL_CTL_UNSUBSCRIBE:
		memcpy(&c->u.sub, msg, sizeof(c->u.sub));
		return route(s, c->u.sub.subscriber, c->u.sub.publisher);
	case SL_CTL_MUTE:
		memcpy(&c->u.mute, msg, sizeof(c->u.mute));
		return route(s, c->u.mute.ep_id, 0);
	case SL_CTL_ROOM_REMOVE:
		memcpy(&c->u.room, msg, sizeof(c->u.room));
		return room_remove(s, &c->u.room, c->seq);
	case SL_CTL_PKT_DOWN:
		return pkt_down(s, (const struct sl_ctl_pkt *)msg, c);
	default:
		return -ENOTSUP;
	}
}

static void undo(struct sl_ctl_server *s, struct sl_cmd *c)
{
	if (c->type == SL_CTL_EP_ADD)
		ep_forget(s, c->u.ep.m.ep_id);
	if (c->type == SL_CTL_EP_ADD || c->type == SL_CTL_EP_UPDATE) {
		sl_srtp_destroy(c->u.ep.rx);
		sl_srtp_destroy(c->u.ep.tx);
	}
	if (c->type == SL_CTL_PKT_DOWN)
		rte_pktmbuf_free(c->u.pkt);
}

static void send_info(struct sl_ctl_server *s, uint32_t seq)
{
	struct sl_ctl_info m = {
		.n_workers = (uint16_t)s->n_workers,
		.base_port = (uint16_t)s->cfg->base_port,
		.has_ipv4 = s->cfg->local.has_ip4,
		.has_ipv6 = s->cfg->local.has_ip6,
		.max_endpoints = s->cfg->max_endpoints * s->n_workers,
	};

	memcpy(m.ipv4, s->cfg->local.ip4, 4);
	memcpy(m.ipv6, s->cfg->local.ip6, 16);
	sl_ctl_hdr_init(&m.h, SL_CTL_INFO, sizeof(m), seq);
	send_msg(s, &m, sizeof(m));
}

static void send_counters(struct sl_ctl_server *s, uint32_t seq)
{
	struct sl_ctl_counters m = { .n = SL_CNT_MAX };

	sl_counters_sum(s->ws, s->n_workers, s->cnt, m.value);
	sl_ctl_hdr_init(&m.h, SL_CTL_COUNTERS, sizeof(m), seq);
	send_msg(s, &m, sizeof(m));
}

static void send_worker_stats(struct sl_ctl_server *s, uint32_t seq)
{
	struct sl_ctl_worker_stats m;
	size_t len = sl_stats_workers(&m);

	sl_ctl_hdr_init(&m.h, SL_CTL_WORKER_STATS, (uint32_t)len, seq);
	send_msg(s, &m, len);
}

static void dispatch(struct sl_ctl_server *s, uint8_t *msg, size_t len)
{
	struct sl_ctl_hdr h = { 0 };
	struct sl_cmd *c;
	int rc;

	if (len >= sizeof(h))
		memcpy(&h, msg, sizeof(h));
	rc = len > SL_CTL_MAX_MSG ? -EMSGSIZE : sl_ctl_validate(msg, len, true);
	if (rc != 0) {
		struct sl_ctl_reply r;

		RTE_LOG(INFO, SLUICE,
			"control socket: refused a message of type %u, %zu bytes: %s\n", h.type,
			len, strerror(-rc));
		sl_ctl_reply_init(&r, msg, len, rc);
		send_msg(s, &r, sizeof(r));
		/* A refused message may still carry key bytes: wipe it all. */
		explicit_bzero(msg, RTE_MIN(len, sizeof(s->buf)));
		return;
	}
	if (h.type == SL_CTL_HELLO)
		return send_info(s, h.seq);
	if (h.type == SL_CTL_COUNTERS_GET)
		return send_counters(s, h.seq);
	if (h.type == SL_CTL_WORKER_STATS_GET)
		return send_worker_stats(s, h.seq);
	c = cmd_new(h.type, h.seq);
	rc = c ? prepare(s, msg, h.type, c) : -ENOMEM;
	if (rc >= 0 && post(s, (unsigned)rc, c) != 0) {
		undo(s, c);
		rc = -EBUSY;
	}
	if (rc < 0) {
		free(c);
		reply(s, h.seq, h.type, rc);
	}
	if (h.type == SL_CTL_EP_ADD || h.type == SL_CTL_EP_UPDATE)
		explicit_bzero(msg, len);
}

static void finish(struct sl_ctl_server *s, struct sl_cmd *c)
{
	sl_srtp_destroy(c->freed_rx);
	sl_srtp_destroy(c->freed_tx);
	if (c->type == SL_CTL_EP_ADD && c->status != 0)
		ep_forget(s, c->u.ep.m.ep_id);
	if (c->type == SL_CTL_EP_REMOVE && c->status == 0)
		ep_forget(s, c->u.ref.ep_id);
	if (c->type == SL_CTL_PKT_DOWN)
		rte_pktmbuf_free(c->u.pkt);
	if (!c->internal)
		reply(s, c->seq, c->type, c->status);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

/* Build the PKT_UP for mb in s->buf; returns its length. */
static size_t pkt_up_msg(struct sl_ctl_server *s, struct rte_mbuf *mb)
{
	struct sl_ctl_pkt *m = (struct sl_ctl_pkt *)s->buf;
	const struct sl_mbuf_meta *meta = rte_mbuf_to_priv(mb);
	size_t len = SL_CTL_PKT_FIXED + meta->payload_len;

	memset(m, 0, SL_CTL_PKT_FIXED);
	sl_ctl_hdr_init(&m->h, SL_CTL_PKT_UP, (uint32_t)len, 0);
	m->addr = meta->addr;
	m->kind = meta->kind;
	m->data_len = meta->payload_len;
	memcpy(m->data, rte_pktmbuf_mtod_offset(mb, const uint8_t *, meta->payload_off),
	       meta->payload_len);
	return len;
}

/*
 * Send one PKT_UP: 0 sent (or nobody to send it to), -EAGAIN no room now.
 * Queued replies and events go first: a PKT_UP never overtakes them.
 */
static int pkt_up(struct sl_ctl_server *s, struct rte_mbuf *mb)
{
	int rc;

	if (s->cfd < 0)
		return 0;
	if (s->outq_n)
		return -EAGAIN;
	rc = send_now(s, s->buf, pkt_up_msg(s, mb));
	if (rc != 0 && rc != -EAGAIN) {
		RTE_LOG(WARNING, SLUICE, "control socket: send failed: %s\n", strerror(-rc));
		return 0;
	}
	return rc;
}

/* STUN/DTLS from installed endpoints: kept (not dropped) until there is room. */
static void drain_prio(struct sl_ctl_server *s, unsigned w)
{
	for (unsigned i = 0; i < SL_DRAIN_PER_POLL; i++) {
		struct rte_mbuf *mb = s->held[w];

		s->held[w] = NULL;
		if (!mb && rte_ring_sc_dequeue(s->ws[w]->up_prio_ring, (void **)&mb) != 0)
			return;
		if (pkt_up(s, mb) == -EAGAIN) {
			s->held[w] = mb;
			return;
		}
		rte_pktmbuf_free(mb);
	}
}

/* Unvalidated STUN/DTLS and unknown-source RTP: dropped and counted when full. */
static void drain_up(struct sl_ctl_server *s, struct sl_worker *w)
{
	struct rte_mbuf *mb;

	for (unsigned i = 0;
	     i < SL_DRAIN_PER_POLL && rte_ring_sc_dequeue(w->up_ring, (void **)&mb) == 0; i++) {
		if (pkt_up(s, mb) == -EAGAIN)
			s->cnt[SL_CNT_drop_ctl_full]++;
		rte_pktmbuf_free(mb);
	}
}

static void drain_events(struct sl_ctl_server *s, struct sl_worker *w)
{
	struct sl_event_msg ev;

	/* Events stop at 3/4 of the queue, leaving room for replies; they wait
	 * in the worker's ring meanwhile. */
	for (unsigned i = 0; i < SL_DRAIN_PER_POLL && s->outq_n < SL_OUTQ * 3 / 4 &&
			     rte_ring_sc_dequeue_elem(w->ev_ring, &ev, sizeof(ev)) == 0;
	     i++) {
		struct sl_ctl_event m = {
			.ep_id = ev.ep_id, .type = ev.type, .value = ev.value, .count = ev.count
		};

		sl_ctl_hdr_init(&m.h, SL_CTL_EVENT, sizeof(m), 0);
		send_msg(s, &m, sizeof(m));
	}
}

/* Root, our own user, or a member of --ctl-group may drive the dataplane. */
static bool peer_allowed(const struct sl_ctl_server *s, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	gid_t groups[256];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		return false;
	if (cr.uid == 0 || cr.uid == geteuid())
		return true;
	if (!s->cfg->has_ctl_group)
		return false;
	if (cr.gid == s->cfg->ctl_gid)
		return true;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0)
		return false;
	for (size_t i = 0; i < len / sizeof(groups[0]); i++)
		if (groups[i] == s->cfg->ctl_gid)
			return true;
	return false;
}

static void accept_conn(struct sl_ctl_server *s)
{
	int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (!peer_allowed(s, fd)) {
		s->cnt[SL_CNT_ctl_refused]++;
		RTE_LOG(WARNING, SLUICE,
			"control socket: refused a connection from a process that is not root, "
			"our user or in --ctl-group\n");
		close(fd);
		return;
	}
	if (s->cfd >= 0) {
		s->cnt[SL_CNT_ctl_refused]++;
		RTE_LOG(WARNING, SLUICE,
			"control socket: a control plane is already connected; refusing another\n");
		close(fd);
		return;
	}
	s->cfd = fd;
	RTE_LOG(INFO, SLUICE, "control socket: control plane connected\n");
}

/* Read requests while their answers have room; stop when the queue is half full. */
static void read_conn(struct sl_ctl_server *s)
{
	for (int i = 0; i < 64 && s->cfd >= 0 && s->outq_n < SL_OUTQ / 2; i++) {
		ssize_t n = recv(s->cfd, s->buf, sizeof(s->buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			RTE_LOG(INFO, SLUICE,
				"control socket: control plane disconnected; media keeps "
				"flowing\n");
			conn_close(s);
			return;
		}
		dispatch(s, s->buf, (size_t)n);
	}
}

void sl_ctl_server_poll(struct sl_ctl_server *s, int timeout_ms)
{
	struct pollfd pfd[2] = { { .fd = s->lfd, .events = POLLIN }, { .fd = s->cfd } };
	bool held = false;
	struct sl_cmd *c;

	for (unsigned w = 0; w < s->n_workers; w++)
		held |= s->held[w] != NULL;
	if (s->outq_n < SL_OUTQ / 2)
		pfd[1].events |= POLLIN;
	if (s->outq_n || held)
		pfd[1].events |= POLLOUT;
	if (poll(pfd, s->cfd >= 0 ? 2 : 1, timeout_ms) > 0) {
		if (pfd[0].revents & POLLIN)
			accept_conn(s);
		if (s->cfd >= 0 && (pfd[1].revents & (POLLOUT | POLLHUP | POLLERR)))
			flush_out(s);
		if (s->cfd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			read_conn(s);
	}
	for (unsigned w = 0; w < s->n_workers; w++) {
		/* Each finished command gives at most one reply: take them while
		 * the queue has room; the rest wait in the done ring. */
		while (s->outq_n < SL_OUTQ &&
		       rte_ring_sc_dequeue(s->ws[w]->done_ring, (void **)&c) == 0) {
			s->inflight[w]--;
			finish(s, c);
		}
		drain_prio(s, w);
		drain_events(s, s->ws[w]);
		drain_up(s, s->ws[w]);
	}
}

void sl_ctl_server_destroy(struct sl_ctl_server *s)
{
	const void *key;
	void *data;
	uint32_t it = 0;

	if (!s)
		return;
	if (s->cfd >= 0)
		conn_close(s);
	if (s->lfd >= 0) {
		close(s->lfd);
		unlink(s->cfg->ctl_path);
	}
	while (s->eps && rte_hash_iterate(s->eps, &key, &data, &it) >= 0)
		free(data);
	it = 0;
	while (s->rooms && rte_hash_iterate(s->rooms, &key, &data, &it) >= 0)
		free(data);
	rte_hash_free(s->eps);
	rte_hash_free(s->rooms);
	explicit_bzero(s->buf, sizeof(s->buf));
	free(s->outq);
	free(s);
}
