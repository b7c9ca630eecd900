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
 */
#include <errno.h>
#include <fcntl.h>
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

#define RTE_LOGTYPE_SLUICE RTE_LOGTYPE_USER1
#define SL_DRAIN_PER_POLL  256

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

static int listen_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST; /* never remove anything but a stale socket */
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0660) != 0 ||
	    listen(fd, 4) != 0) {
		int rc = -errno;

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
	fd = listen_socket(cfg->ctl_path);
	if (!s->eps || !s->rooms || fd < 0) {
		fprintf(stderr, "ctl-socket: cannot listen on %s: %s\n", cfg->ctl_path,
			fd < 0 ? strerror(-fd) : "out of memory");
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

static void send_msg(struct sl_ctl_server *s, const void *msg, size_t len)
{
	if (s->cfd < 0)
		return;
	if (send(s->cfd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN)
		RTE_LOG(WARNING, SLUICE, "control socket: send failed: %s\n", strerror(errno));
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

static int ep_add(struct sl_ctl_server *s, struct sl_ctl_ep *m, struct sl_cmd *c)
{
	int rc;

	if (m->worker >= s->n_workers)
		return -EINVAL;
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

static void drain_up(struct sl_ctl_server *s, struct sl_worker *w)
{
	struct sl_ctl_pkt *m = (struct sl_ctl_pkt *)s->buf;
	struct rte_mbuf *mb;

	for (unsigned i = 0;
	     i < SL_DRAIN_PER_POLL && rte_ring_sc_dequeue(w->up_ring, (void **)&mb) == 0; i++) {
		const struct sl_mbuf_meta *meta = rte_mbuf_to_priv(mb);
		size_t len = SL_CTL_PKT_FIXED + meta->payload_len;

		memset(m, 0, SL_CTL_PKT_FIXED);
		sl_ctl_hdr_init(&m->h, SL_CTL_PKT_UP, (uint32_t)len, 0);
		m->addr = meta->addr;
		m->kind = meta->kind;
		m->data_len = meta->payload_len;
		memcpy(m->data, rte_pktmbuf_mtod_offset(mb, const uint8_t *, meta->payload_off),
		       meta->payload_len);
		rte_pktmbuf_free(mb);
		send_msg(s, m, len);
	}
}

static void drain_events(struct sl_ctl_server *s, struct sl_worker *w)
{
	struct sl_event_msg ev;

	for (unsigned i = 0;
	     i < SL_DRAIN_PER_POLL && rte_ring_sc_dequeue_elem(w->ev_ring, &ev, sizeof(ev)) == 0;
	     i++) {
		struct sl_ctl_event m = {
			.ep_id = ev.ep_id, .type = ev.type, .value = ev.value, .count = ev.count
		};

		sl_ctl_hdr_init(&m.h, SL_CTL_EVENT, sizeof(m), 0);
		send_msg(s, &m, sizeof(m));
	}
}

static void accept_conn(struct sl_ctl_server *s)
{
	int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (s->cfd >= 0) {
		RTE_LOG(WARNING, SLUICE,
			"control socket: a control plane is already connected; refusing another\n");
		close(fd);
		return;
	}
	s->cfd = fd;
	RTE_LOG(INFO, SLUICE, "control socket: control plane connected\n");
}

static void read_conn(struct sl_ctl_server *s)
{
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(s->cfd, s->buf, sizeof(s->buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			RTE_LOG(INFO, SLUICE,
				"control socket: control plane disconnected; media keeps "
				"flowing\n");
			close(s->cfd);
			s->cfd = -1;
			return;
		}
		dispatch(s, s->buf, (size_t)n);
	}
}

void sl_ctl_server_poll(struct sl_ctl_server *s, int timeout_ms)
{
	struct pollfd pfd[2] = { { .fd = s->lfd, .events = POLLIN },
				 { .fd = s->cfd, .events = POLLIN } };
	struct sl_cmd *c;

	if (poll(pfd, s->cfd >= 0 ? 2 : 1, timeout_ms) > 0) {
		if (pfd[0].revents & POLLIN)
			accept_conn(s);
		if (s->cfd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			read_conn(s);
	}
	for (unsigned w = 0; w < s->n_workers; w++) {
		while (rte_ring_sc_dequeue(s->ws[w]->done_ring, (void **)&c) == 0) {
			s->inflight[w]--;
			finish(s, c);
		}
		drain_up(s, s->ws[w]);
		drain_events(s, s->ws[w]);
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
		close(s->cfd);
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
	free(s);
}
