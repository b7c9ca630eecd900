/*
 * dpctl.c - client of sluice-dataplane's control socket.
 *
 * The dataplane answers every request with one REPLY carrying its seq
 * (COUNTERS_GET and WORKER_STATS_GET with a message of their own type);
 * pending callbacks live in a hash keyed by seq until then. Everything
 * received is validated with sl_ctl_validate before it is looked at. If
 * the connection drops, the down handler runs (the caller tears down what
 * depended on it) and a timer reconnects.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>

#include "dpctl.h"
#include "log.h"

struct pending {
	sl_dpctl_reply_fn cb;
	uint32_t cookie;
	sl_dpctl_data_fn data; /* a request answered by its own message type */
	void *arg;
};

static struct {
	char path[108];
	struct sl_dpctl_handlers h;
	int fd;
	guint watch, retry;
	uint32_t seq;
	GHashTable *pending; /* seq -> struct pending */
	bool stopping;
} dp = { .fd = -1 };

static gboolean on_readable(gint fd, GIOCondition cond, gpointer arg);

static int open_socket(char *err, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 1 };
	int fd;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, dp.path);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		snprintf(err, n, "cannot connect to the dataplane at %s: %s", dp.path,
			 strerror(-e));
		close(fd);
		return e;
	}
	return fd;
}

/*
 * HELLO, then wait up to wait_ms for INFO (other messages before it are
 * dropped). This blocks the loop: 2 s at start-up, when there is nothing
 * else to serve, and 200 ms on a reconnect, so that a wedged dataplane
 * cannot stall signalling for long (a live one answers in microseconds).
 */
static int hello(int fd, struct sl_ctl_info *info, int wait_ms, char *err, size_t n)
{
	struct sl_ctl_hdr h;
	uint8_t buf[SL_CTL_MAX_MSG];

	sl_ctl_hdr_init(&h, SL_CTL_HELLO, sizeof(h), ++dp.seq);
	if (send(fd, &h, sizeof(h), MSG_NOSIGNAL) != sizeof(h))
		goto fail;
	for (int i = 0; i < wait_ms / 100; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 100) <= 0)
			continue;
		r = recv(fd, buf, sizeof(buf), 0);
		if (r <= 0)
			goto fail;
		if (sl_ctl_validate(buf, (size_t)r, false) == 0 &&
		    ((struct sl_ctl_hdr *)buf)->type == SL_CTL_INFO) {
			memcpy(info, buf, sizeof(*info));
			return 0;
		}
	}
fail:
	snprintf(err, n, "the dataplane did not answer HELLO");
	return -EPROTO;
}

static int connect_now(int wait_ms, char *err, size_t n)
{
	struct sl_ctl_info info;
	int fd = open_socket(err, n), r;

	if (fd < 0)
		return fd;
	r = hello(fd, &info, wait_ms, err, n);
	if (r) {
		close(fd);
		return r;
	}
	dp.fd = fd;
	dp.watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, NULL);
	sl_info("dataplane connected: %u workers, base port %u", info.n_workers, info.base_port);
	if (dp.h.up)
		dp.h.up(&info);
	return 0;
}

static gboolean retry_cb(gpointer arg)
{
	char err[256];

	(void)arg;
	if (connect_now(200, err, sizeof(err)) == 0) {
		dp.retry = 0;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void fail_pending(void)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, dp.pending);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct pending *p = v;

		g_hash_table_iter_steal(&it);
		if (p->data)
			p->data(NULL, 0, p->arg);
		else if (p->cb)
			p->cb(p->cookie, -ECONNRESET);
		g_free(p);
	}
}

static void lost(void)
{
	if (dp.fd < 0)
		return;
	sl_err("dataplane connection lost; reconnecting every 2 s");
	close(dp.fd);
	dp.fd = -1;
	dp.watch = 0;
	fail_pending();
	if (dp.h.down)
		dp.h.down();
	if (!dp.stopping && !dp.retry)
		dp.retry = g_timeout_add_seconds(2, retry_cb, NULL);
}

static void on_reply(const struct sl_ctl_reply *r)
{
	struct pending *p = g_hash_table_lookup(dp.pending, GUINT_TO_POINTER(r->h.seq));

	if (!p) {
		sl_debug("dataplane reply to unknown request %u", r->h.seq);
		return;
	}
	g_hash_table_steal(dp.pending, GUINT_TO_POINTER(r->h.seq));
	if (p->data)
		p->data(NULL, 0, p->arg); /* refused, or an older dataplane */
	else if (p->cb)
		p->cb(p->cookie, r->status);
	else if (r->status == -ENOENT && r->req_type == SL_CTL_ROOM_REMOVE)
		/* a meeting whose members never got media: the dataplane never had it */
		sl_debug("dataplane had no such room to remove");
	else if (r->status)
		sl_warn("dataplane refused request type %u: %s", r->req_type, strerror(-r->status));
	g_free(p);
}

/* COUNTERS, WORKER_STATS: the answer to a sl_dpctl_request. */
static void on_data(const uint8_t *buf, size_t n)
{
	const struct sl_ctl_hdr *h = (const void *)buf;
	struct pending *p = g_hash_table_lookup(dp.pending, GUINT_TO_POINTER(h->seq));

	if (!p || !p->data)
		return;
	g_hash_table_steal(dp.pending, GUINT_TO_POINTER(h->seq));
	p->data(buf, n, p->arg);
	g_free(p);
}

static void dispatch(const uint8_t *buf, size_t n)
{
	const struct sl_ctl_hdr *h = (const void *)buf;

	if (sl_ctl_validate(buf, n, false)) {
		sl_warn("dataplane sent an invalid message (%zu bytes); dropped", n);
		return;
	}
	switch (h->type) {
	case SL_CTL_REPLY:
		on_reply((const void *)buf);
		break;
	case SL_CTL_PKT_UP:
		if (dp.h.pkt_up)
			dp.h.pkt_up((const void *)buf);
		break;
	case SL_CTL_EVENT:
		if (dp.h.event)
			dp.h.event((const void *)buf);
		break;
	case SL_CTL_COUNTERS:
	case SL_CTL_WORKER_STATS:
		on_data(buf, n);
		break;
	default:
		break;
	}
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer arg)
{
	_Alignas(8) uint8_t buf[SL_CTL_MAX_MSG];

	(void)arg;
	for (int i = 0; i < 64; i++) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r > 0) {
			dispatch(buf, (size_t)r);
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR) && !(cond & (G_IO_HUP | G_IO_ERR)))
			return G_SOURCE_CONTINUE;
		dp.watch = 0; /* returning REMOVE destroys the source */
		lost();
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

int sl_dpctl_start(const char *path, const struct sl_dpctl_handlers *h, char *err, size_t n)
{
	int r;

	snprintf(dp.path, sizeof(dp.path), "%s", path);
	dp.h = *h;
	dp.pending = g_hash_table_new(g_direct_hash, g_direct_equal);
	r = connect_now(2000, err, n);
	if (r && !dp.retry)
		dp.retry = g_timeout_add_seconds(2, retry_cb, NULL);
	return r;
}

void sl_dpctl_stop(void)
{
	dp.stopping = true;
	if (dp.retry)
		g_source_remove(dp.retry);
	if (dp.watch)
		g_source_remove(dp.watch);
	if (dp.fd >= 0)
		close(dp.fd);
	dp.fd = -1;
	if (dp.pending) {
		GHashTableIter it;
		gpointer k, v;

		g_hash_table_iter_init(&it, dp.pending);
		while (g_hash_table_iter_next(&it, &k, &v))
			g_free(v);
		g_hash_table_destroy(dp.pending);
		dp.pending = NULL;
	}
}

bool sl_dpctl_up(void)
{
	return dp.fd >= 0;
}

int sl_dpctl_send(void *msg, sl_dpctl_reply_fn cb, uint32_t cookie)
{
	struct sl_ctl_hdr *h = msg;
	struct pending *p;

	if (dp.fd < 0)
		return -ENOTCONN;
	if (++dp.seq == 0)
		dp.seq = 1;
	h->seq = dp.seq;
	if (send(dp.fd, msg, h->len, MSG_NOSIGNAL) != (ssize_t)h->len) {
		int e = errno ? -errno : -EIO;

		sl_err("sending to the dataplane failed: %s", strerror(-e));
		return e;
	}
	p = g_new0(struct pending, 1);
	p->cb = cb;
	p->cookie = cookie;
	g_hash_table_insert(dp.pending, GUINT_TO_POINTER(h->seq), p);
	return 0;
}

int sl_dpctl_request(uint16_t type, sl_dpctl_data_fn cb, void *arg)
{
	struct sl_ctl_hdr h;
	struct pending *p;
	int r;

	sl_ctl_hdr_init(&h, type, sizeof(h), 0);
	r = sl_dpctl_send(&h, NULL, 0);
	if (r)
		return r;
	p = g_hash_table_lookup(dp.pending, GUINT_TO_POINTER(h.seq));
	p->data = cb;
	p->arg = arg;
	return 0;
}

int sl_dpctl_pkt_down(const struct sl_ctl_addr *to, const void *data, size_t len)
{
	struct sl_ctl_pkt m;

	if (len == 0 || len > SL_CTL_MAX_PKT)
		return -EMSGSIZE;
	memset(&m, 0, SL_CTL_PKT_FIXED);
	sl_ctl_hdr_init(&m.h, SL_CTL_PKT_DOWN, (uint32_t)(SL_CTL_PKT_FIXED + len), 0);
	m.addr = *to;
	m.data_len = (uint16_t)len;
	memcpy(m.data, data, len);
	return sl_dpctl_send(&m, NULL, 0);
}

int sl_dpctl_ep_remove(uint32_t ep_id)
{
	struct sl_ctl_ep_ref m = { .ep_id = ep_id };

	sl_ctl_hdr_init(&m.h, SL_CTL_EP_REMOVE, sizeof(m), 0);
	return sl_dpctl_send(&m, NULL, 0);
}
