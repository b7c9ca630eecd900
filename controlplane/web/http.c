/*
 * http.c - libwebsockets shim: static files and the signalling WebSocket.
 *
 * The only file that includes libwebsockets. lws runs on a libuv loop
 * (LWS_SERVER_OPTION_LIBUV, foreign loop) that is embedded in our GLib loop
 * as ONE GSource: libuv keeps every lws socket in its epoll set, GLib polls
 * only that set's descriptor, and before each poll the source asks
 * uv_backend_timeout() how long the loop may sleep (lws's timers; 0 while
 * lws has buffered data to parse or a socket's interest changed). So a
 * wakeup of the loop (an ICE check from the dataplane, say) costs the same
 * with 10 or 10,000 connections; with lws's GLib event library every
 * socket was a GSource of its own and every wakeup polled them all.
 * (Debian's lws is built without LWS_WITH_EXTERNAL_POLL, so the
 * ADD/DEL/CHANGE_MODE_POLL_FD callbacks are not available.) Connections
 * whose request head we are still reading sit in a second epoll set of our
 * own (http.epfd), also behind one GLib watch.
 *
 * lws has no listener of its own: we bind exactly
 * --listen, accept, and keep every connection in a struct conn that counts
 * against --max-connections (lowered to fit the open-file limit, less
 * SL_HTTP_FD_SPARE) and against its source's --max-connections-per-ip
 * (sources are hashed, never logged). Over a cap the connection is answered
 * 503 and closed at once. On EMFILE a spare descriptor is given up to
 * refuse the waiting client cleanly and accepting pauses for a moment. We
 * read the request head ourselves (431 past SL_HTTP_MAX_HEAD, closed past
 * --message-timeout) and then hand the socket and the head to lws; lws
 * tells protocols[0] when the connection is gone (LWS_CALLBACK_WSI_DESTROY)
 * and the counts drop.
 *
 * Each WebSocket's state is lws's per-session struct sl_ws: a receive
 * buffer that reassembles fragmented messages up to SL_WS_MAX_MSG, and a
 * queue of outgoing messages (each with LWS_PRE bytes of headroom) written
 * one per WRITEABLE callback, at most --send-queue-max bytes. A sweep every
 * second pings silent WebSockets, closes idle ones, drops messages not
 * completed in time and kills connections whose close did not complete.
 * lws's own log lines go through the address scrubber.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <libwebsockets.h>
#include <uv.h>

#include "http.h"
#include "log.h"

#define SL_CLOSE_GRACE_MS 2000 /* a closing WebSocket that cannot write is killed after */
#define SL_LINGER_MS      1000 /* after a 431, read and discard for this long */
#define SL_BACKOFF_MS     250  /* accepting pauses this long after EMFILE */
#define SL_EP_BATCH       64   /* ready request heads read per wakeup */

struct src {
	uint8_t key[16]; /* IPv4-mapped address, or an IPv6 /64 */
	unsigned n;
};

/* One accepted TCP connection, from accept() until lws destroys it. */
struct conn {
	struct conn *prev, *next; /* http.pending while we read the head */
	int fd;
	struct src *src;
	bool polled; /* in http.epfd */
	uint64_t deadline_ms;
	bool lingering; /* 431 sent: discarding until EOF or the deadline */
	size_t len;
	char *head; /* SL_HTTP_MAX_HEAD + 1 */
};

struct out_msg {
	struct out_msg *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE + len */
};

struct sl_ws {
	struct sl_ws *prev, *next; /* http.wss */
	struct lws *wsi;
	void *user;
	char *rx;
	size_t rx_len;
	struct out_msg *head, *tail;
	size_t queued;           /* bytes in the queue */
	uint64_t last_rx_ms;     /* any frame, pongs included */
	uint64_t msg_start_ms;   /* first fragment of an unfinished message; 0 = none */
	uint64_t close_start_ms; /* sl_ws_close or a drop; 0 = open */
	bool closing, too_large, draining, binary, ping_due, ping_sent, open;
	uint16_t close_status;
};

static struct {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct sl_http_handlers h;
	struct lws_http_mount mount;
	char web_root[512];
	const struct sl_cp_config *cfg;
	char hosts[2 * SL_CP_MAX_ORIGINS + 1][SL_CP_ORIGIN_LEN]; /* allowed Host values */
	unsigned n_hosts;
	int lfd, spare_fd, epfd;
	guint listen_watch, backoff, sweep, ep_watch;
	uv_loop_t uv;
	bool uv_ok;
	GSource *uv_src;
	GHashTable *srcs;
	struct conn *pending;
	struct conn *adopting;
	struct lws *adopt_wsi; /* created while adopting */
	bool adopt_destroyed;
	struct sl_ws *wss;
	struct sl_http_stats st;
} http = { .lfd = -1, .spare_fd = -1, .epfd = -1 };

/* ------------------------------------------------------------ accounting */

static guint src_hash(gconstpointer k)
{
	const uint8_t *b = k;
	guint h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static gboolean src_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, 16);
}

static void src_key(const struct sockaddr_storage *ss, uint8_t key[16])
{
	memset(key, 0, 16);
	if (ss->ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		/* one host has a whole /64; an IPv4-mapped address is itself */
		memcpy(key, a, memcmp(a, mapped, 12) ? 8 : 16);
	}
}

static void conn_forget(struct conn *c)
{
	if (c->src && !--c->src->n)
		g_hash_table_remove(http.srcs, c->src->key);
	c->src = NULL;
	http.st.conns--;
}

/* A pending connection (ours, not lws's) goes away. */
static void conn_free(struct conn *c)
{
	if (c->polled)
		epoll_ctl(http.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->fd >= 0)
		close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else if (http.pending == c)
		http.pending = c->next;
	if (c->next)
		c->next->prev = c->prev;
	conn_forget(c);
	free(c->head);
	free(c);
}

/* Refuse a connection we will not keep: what the client sent so far is
 * read first so that closing does not reset the answer away. */
static void refuse(int fd, const char *status)
{
	char buf[4096], resp[160];
	int n = snprintf(resp, sizeof(resp),
			 "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n"
			 "Retry-After: 5\r\n\r\n",
			 status);

	for (int i = 0; i < 4 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
	(void)!send(fd, resp, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/* ------------------------------------------------------------ the request head */

static uint64_t now_ms(void)
{
	return (uint64_t)(g_get_monotonic_time() / 1000);
}

static void adopt(struct conn *c)
{
	struct lws *wsi;
	int fd = c->fd;

	/* from now on lws's (libuv's) to watch */
	epoll_ctl(http.epfd, EPOLL_CTL_DEL, fd, NULL);
	c->polled = false;
	if (c->prev)
		c->prev->next = c->next;
	else
		http.pending = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->fd = -1;
	/* lws may parse the head, and even destroy the wsi, inside the call;
	 * the callbacks note which wsi was created and whether it is gone. */
	http.adopting = c;
	http.adopt_wsi = NULL;
	http.adopt_destroyed = false;
	wsi = lws_adopt_socket_vhost_readbuf(http.vh, fd, c->head, c->len);
	http.adopting = NULL;
	if (!http.adopt_wsi || http.adopt_destroyed || wsi != http.adopt_wsi) {
		/* lws closed fd */
		conn_forget(c);
		free(c->head);
		free(c);
		return;
	}
	free(c->head);
	c->head = NULL;
	lws_set_opaque_user_data(wsi, c); /* LWS_CALLBACK_WSI_DESTROY frees it */
}

static void start_linger(struct conn *c)
{
	static const char resp[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
				   "Content-Length: 0\r\nConnection: close\r\n\r\n";

	http.st.head_too_large++;
	sl_info("refused a request: head over %d bytes (431)", SL_HTTP_MAX_HEAD);
	(void)!send(c->fd, resp, sizeof(resp) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(c->fd, SHUT_WR);
	c->lingering = true;
	c->deadline_ms = now_ms() + SL_LINGER_MS;
}

/* A connection whose head we read is readable (or hung up). */
static void on_head(struct conn *c)
{
	ssize_t n;

	if (c->lingering) {
		char buf[4096];

		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			conn_free(c);
		return;
	}
	n = recv(c->fd, c->head + c->len, SL_HTTP_MAX_HEAD - c->len, 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_free(c);
		return;
	}
	if (n < 0)
		return;
	c->len += (size_t)n;
	c->head[c->len] = 0;
	/* the head ends at the first empty line; pipelined bytes after it go
	 * to lws too */
	if (strstr(c->head, "\r\n\r\n") || strstr(c->head, "\n\n")) {
		adopt(c);
		return;
	}
	if (c->len == SL_HTTP_MAX_HEAD || memchr(c->head, 0, c->len))
		start_linger(c);
}

/* ------------------------------------------------------------ accepting */

static gboolean on_listen(gint fd, GIOCondition cond, gpointer arg);

static gboolean resume_accept(gpointer arg)
{
	(void)arg;
	http.backoff = 0;
	if (http.spare_fd < 0)
		http.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	http.listen_watch = g_unix_fd_add(http.lfd, G_IO_IN, on_listen, NULL);
	return G_SOURCE_REMOVE;
}

/* Out of descriptors: refuse the first waiting client with the spare one,
 * then stop accepting for a moment instead of spinning on the listener. */
static void out_of_fds(int err)
{
	http.st.accept_backoff++;
	sl_warn("accept: no file descriptor left (errno %d); pausing new connections", err);
	if (http.spare_fd >= 0) {
		int c;

		close(http.spare_fd);
		http.spare_fd = -1;
		c = accept4(http.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c >= 0)
			refuse(c, "503 Service Unavailable");
	}
	http.listen_watch = 0;
	http.backoff = g_timeout_add(SL_BACKOFF_MS, resume_accept, NULL);
}

static void admit(int fd, const struct sockaddr_storage *ss)
{
	uint8_t key[16];
	struct src *s = NULL;
	struct conn *c;

	if (http.st.conns >= http.st.max_conns) {
		http.st.refused_full++;
		sl_warn("refused a connection: %u connections open (--max-connections)",
			http.st.conns);
		refuse(fd, "503 Service Unavailable");
		return;
	}
	if (http.cfg->max_connections_per_ip) {
		src_key(ss, key);
		s = g_hash_table_lookup(http.srcs, key);
		if (s && s->n >= http.cfg->max_connections_per_ip) {
			http.st.refused_per_ip++;
			sl_warn("refused a connection: its source has %u open "
				"(--max-connections-per-ip)",
				s->n);
			refuse(fd, "503 Service Unavailable");
			return;
		}
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->head = malloc(SL_HTTP_MAX_HEAD + 1);
	if (c && c->head) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

		if (!epoll_ctl(http.epfd, EPOLL_CTL_ADD, fd, &ev))
			c->polled = true;
	}
	if (!c || !c->head || !c->polled) {
		if (c)
			free(c->head);
		free(c);
		refuse(fd, "503 Service Unavailable");
		return;
	}
	if (http.cfg->max_connections_per_ip) {
		if (!s) {
			s = g_new0(struct src, 1);
			memcpy(s->key, key, 16);
			g_hash_table_insert(http.srcs, s->key, s);
		}
		s->n++;
		c->src = s;
	}
	http.st.conns++;
	c->fd = fd;
	c->deadline_ms = now_ms() + (uint64_t)http.cfg->message_timeout_s * 1000;
	c->next = http.pending;
	if (c->next)
		c->next->prev = c;
	http.pending = c;
}

static gboolean on_listen(gint fd, GIOCondition cond, gpointer arg)
{
	(void)cond;
	(void)arg;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int c = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				out_of_fds(errno);
				return G_SOURCE_REMOVE;
			}
			break; /* EAGAIN, or a client that gave up (ECONNABORTED) */
		}
		admit(c, &ss);
	}
	return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------ the event loop */

/*
 * libuv embedded in GLib: uv's epoll descriptor is one fd in GLib's poll,
 * and the GSource asks uv before every poll how long it may sleep (0 while
 * uv has work queued: lws's idle handle for buffered data, a socket whose
 * interest changed). Dispatch runs uv once without blocking.
 */
struct uv_gsource {
	GSource src;
	gpointer tag;
};

static gboolean uvs_prepare(GSource *s, gint *timeout)
{
	(void)s;
	uv_update_time(&http.uv);
	*timeout = uv_backend_timeout(&http.uv);
	return *timeout == 0;
}

static gboolean uvs_check(GSource *s)
{
	struct uv_gsource *u = (struct uv_gsource *)s;

	if (g_source_query_unix_fd(s, u->tag) & G_IO_IN)
		return TRUE;
	uv_update_time(&http.uv);
	return uv_backend_timeout(&http.uv) == 0;
}

static gboolean uvs_dispatch(GSource *s, GSourceFunc cb, gpointer arg)
{
	(void)s;
	(void)cb;
	(void)arg;
	uv_run(&http.uv, UV_RUN_NOWAIT);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs uvs_funcs = { .prepare = uvs_prepare,
				  .check = uvs_check,
				  .dispatch = uvs_dispatch };

/* Our own connections, while we read their request heads. */
static gboolean on_ready(gint fd, GIOCondition cond, gpointer arg)
{
	struct epoll_event ev[SL_EP_BATCH];
	int n = epoll_wait(fd, ev, SL_EP_BATCH, 0);

	(void)cond;
	(void)arg;
	for (int i = 0; i < n; i++)
		on_head(ev[i].data.ptr);
	return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------ WebSockets */

/* Close now, from outside an lws callback or asynchronously from inside. */
static void ws_kill(struct sl_ws *ws, bool sync)
{
	if (!ws->wsi)
		return;
	lws_set_timeout(ws->wsi, PENDING_TIMEOUT_USER_OK,
			sync ? LWS_TO_KILL_SYNC : LWS_TO_KILL_ASYNC);
}

static void ws_free_queue(struct sl_ws *ws)
{
	while (ws->head) {
		struct out_msg *m = ws->head;

		ws->head = m->next;
		free(m);
	}
	ws->tail = NULL;
	ws->queued = 0;
}

static void ws_close_status(struct sl_ws *ws, uint16_t status)
{
	if (!ws->wsi)
		return;
	if (!ws->closing) {
		ws->close_status = status;
		ws->close_start_ms = now_ms();
	}
	ws->closing = true;
	lws_callback_on_writable(ws->wsi);
}

static void deliver(struct sl_ws *ws, const void *in, size_t len)
{
	char *rx;
	bool last = lws_is_final_fragment(ws->wsi) && !lws_remaining_packet_payload(ws->wsi);

	if (!ws->msg_start_ms) {
		ws->msg_start_ms = now_ms();
		ws->binary = lws_frame_is_binary(ws->wsi);
	}
	if (ws->draining) {
		/* the rest of a message that was too large: read and dropped, so
		 * that closing does not reset the error away */
		if (last) {
			ws->draining = false;
			ws->msg_start_ms = 0;
			lws_callback_on_writable(ws->wsi);
		}
		return;
	}
	if (ws->closing)
		return;
	if (ws->rx_len + len > SL_WS_MAX_MSG) {
		ws->too_large = true;
		free(ws->rx);
		ws->rx = NULL;
		ws->rx_len = 0;
		http.h.too_large(ws->user);
		ws_close_status(ws, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
		if (last)
			ws->msg_start_ms = 0;
		else
			ws->draining = true;
		return;
	}
	rx = realloc(ws->rx, ws->rx_len + len + 1);
	if (!rx) {
		ws_close_status(ws, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
		return;
	}
	ws->rx = rx;
	memcpy(rx + ws->rx_len, in, len);
	ws->rx_len += len;
	rx[ws->rx_len] = 0;
	if (!last)
		return;
	ws->msg_start_ms = 0;
	if (ws->binary)
		http.h.protocol_error(ws->user, "bad_json",
				      "binary frames are not accepted: send JSON in text frames",
				      false);
	else
		http.h.message(ws->user, ws->rx, ws->rx_len);
	free(ws->rx);
	ws->rx = NULL;
	ws->rx_len = 0;
}

/* Write one queued message (or a ping); -1 asks lws to close. */
static int writeable(struct sl_ws *ws)
{
	struct out_msg *m = ws->head;

	if (ws->ping_due) {
		/* lws 4.1 reports only pongs with a payload */
		unsigned char ping[LWS_PRE + 4] = { [LWS_PRE] = 's', 'l', 'p', 'g' };

		ws->ping_due = false;
		ws->ping_sent = true;
		if (lws_write(ws->wsi, ping + LWS_PRE, 4, LWS_WRITE_PING) < 0)
			return -1;
		if (m || ws->closing)
			lws_callback_on_writable(ws->wsi);
		return 0;
	}
	if (m) {
		int r = lws_write(ws->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);

		ws->head = m->next;
		if (!ws->head)
			ws->tail = NULL;
		ws->queued -= m->len;
		free(m);
		if (r < 0)
			return -1;
		if (ws->head) {
			lws_callback_on_writable(ws->wsi);
			return 0;
		}
	}
	if (ws->closing && !ws->draining) {
		/* lws 4.1 sends no close frame when a callback returns -1 after
		 * lws_close_reason() (clients saw 1006, not the code): write it
		 * here, with lws's own close opcode (LWS_WRITE_CLOSE = 4, left
		 * out of the public enum); lws then sends no second one. */
		unsigned char cl[LWS_PRE + 2];

		cl[LWS_PRE] = (unsigned char)(ws->close_status >> 8);
		cl[LWS_PRE + 1] = (unsigned char)ws->close_status;
		lws_write(ws->wsi, cl + LWS_PRE, 2, (enum lws_write_protocol)4);
		lws_close_reason(ws->wsi, ws->close_status, NULL, 0);
		return -1;
	}
	return 0;
}

static void ws_unlink(struct sl_ws *ws)
{
	if (ws->prev)
		ws->prev->next = ws->next;
	else if (http.wss == ws)
		http.wss = ws->next;
	if (ws->next)
		ws->next->prev = ws->prev;
	ws->prev = ws->next = NULL;
}

static void closed(struct sl_ws *ws)
{
	if (ws->open)
		http.h.close(ws->user);
	ws->open = false;
	free(ws->rx);
	ws->rx = NULL;
	ws_free_queue(ws);
	ws_unlink(ws);
	ws->wsi = NULL;
}

/* ------------------------------------------------------------ Host and Origin */

static bool host_ok(struct lws *wsi)
{
	char host[SL_CP_ORIGIN_LEN];
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_HOST);

	if (n <= 0)
		return true; /* HTTP/1.0 tools; a browser always sends Host */
	if (n >= (int)sizeof(host) || lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		return false;
	for (unsigned i = 0; i < http.n_hosts; i++)
		if (!strcasecmp(host, http.hosts[i]))
			return true;
	return false;
}

/*
 * Cross-site WebSocket hijacking and DNS rebinding: a browser always sends
 * Origin, and it must be one of --origin. No Origin (a non-browser client)
 * is accepted; the Host is checked in any case.
 */
static bool origin_ok(struct lws *wsi)
{
	char origin[SL_CP_ORIGIN_LEN];
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);

	if (n <= 0)
		return true;
	if (n >= (int)sizeof(origin) ||
	    lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
		return false;
	for (unsigned i = 0; i < http.cfg->n_origin; i++)
		if (!strcasecmp(origin, http.cfg->origin[i]))
			return true;
	return false;
}

/* The allowed Host values: each origin's host[:port] (with and without the
 * scheme's default port), and the literal listen address:port (what a
 * reverse proxy that does not pass Host on sends; no DNS name involved). */
static void hosts_init(const struct sl_cp_config *cfg)
{
	bool v6 = strchr(cfg->listen, ':') != NULL;

	http.n_hosts = 0;
	for (unsigned i = 0; i < cfg->n_origin; i++) {
		const char *o = cfg->origin[i];
		bool https = !strncmp(o, "https://", 8);
		const char *hp = o + (https ? 8 : 7);
		const char *colon = strrchr(hp, ':');

		snprintf(http.hosts[http.n_hosts++], SL_CP_ORIGIN_LEN, "%s", hp);
		if (!colon || (hp[0] == '[' && colon < strchr(hp, ']')))
			snprintf(http.hosts[http.n_hosts++], SL_CP_ORIGIN_LEN, "%.240s:%u", hp,
				 https ? 443 : 80);
	}
	if (strcmp(cfg->listen, "0.0.0.0") && strcmp(cfg->listen, "::"))
		snprintf(http.hosts[http.n_hosts++], SL_CP_ORIGIN_LEN, "%s%s%s:%u", v6 ? "[" : "",
			 cfg->listen, v6 ? "]" : "", cfg->port);
}

/* ------------------------------------------------------------ lws callbacks */

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	struct conn *c;

	switch (reason) {
	case LWS_CALLBACK_WSI_CREATE:
		if (http.adopting && !http.adopt_wsi)
			http.adopt_wsi = wsi;
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (http.adopting && wsi == http.adopt_wsi)
			http.adopt_destroyed = true;
		c = lws_get_opaque_user_data(wsi);
		if (c) {
			lws_set_opaque_user_data(wsi, NULL);
			conn_forget(c);
			free(c->head);
			free(c);
		}
		return 0;
	case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
		if (!host_ok(wsi)) {
			http.st.bad_host++;
			sl_info("refused a request for a foreign Host (421)");
			lws_return_http_status(wsi, 421, NULL);
			return -1;
		}
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		 size_t len)
{
	struct sl_ws *ws = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (!host_ok(wsi)) {
			http.st.bad_host++;
			sl_warn("refused a WebSocket for a foreign Host");
			return -1;
		}
		if (!origin_ok(wsi)) {
			http.st.bad_origin++;
			sl_warn("refused a WebSocket from a foreign origin");
			return -1;
		}
		break;
	case LWS_CALLBACK_ESTABLISHED:
		memset(ws, 0, sizeof(*ws));
		ws->wsi = wsi;
		ws->open = true;
		ws->last_rx_ms = now_ms();
		ws->next = http.wss;
		if (ws->next)
			ws->next->prev = ws;
		http.wss = ws;
		ws->user = http.h.open(ws);
		break;
	case LWS_CALLBACK_RECEIVE:
		ws->last_rx_ms = now_ms();
		ws->ping_sent = false;
		deliver(ws, in, len);
		break;
	case LWS_CALLBACK_RECEIVE_PONG:
		ws->last_rx_ms = now_ms();
		ws->ping_sent = false;
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return writeable(ws);
	case LWS_CALLBACK_CLOSED:
		closed(ws);
		break;
	default:
		break;
	}
	return 0;
}

int sl_ws_send(struct sl_ws *ws, const char *text, size_t len)
{
	struct out_msg *m;

	if (!ws->wsi || ws->closing)
		return -EPIPE;
	if (ws->queued + len > http.cfg->send_queue_max) {
		/* a client that does not read: its memory goes now, the
		 * connection at the next turn of the loop */
		http.st.send_queue_dropped++;
		sl_warn("dropped a WebSocket: over %u bytes queued (--send-queue-max)",
			http.cfg->send_queue_max);
		ws_free_queue(ws);
		ws->closing = true;
		ws->close_start_ms = now_ms();
		ws_kill(ws, false);
		return -ENOBUFS;
	}
	m = malloc(sizeof(*m) + LWS_PRE + len);
	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->len = len;
	memcpy(m->buf + LWS_PRE, text, len);
	if (ws->tail)
		ws->tail->next = m;
	else
		ws->head = m;
	ws->tail = m;
	ws->queued += len;
	lws_callback_on_writable(ws->wsi);
	return 0;
}

void sl_ws_close(struct sl_ws *ws)
{
	ws_close_status(ws, ws->too_large ? LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE
					  : LWS_CLOSE_STATUS_NORMAL);
}

/* ------------------------------------------------------------ the sweep */

static gboolean sweep(gpointer arg)
{
	uint64_t now = now_ms(), idle = (uint64_t)http.cfg->idle_timeout_s * 1000,
		 msg = (uint64_t)http.cfg->message_timeout_s * 1000;
	struct conn *c, *cn;
	struct sl_ws *ws, *wn;

	(void)arg;
	for (c = http.pending; c; c = cn) {
		cn = c->next;
		if (now >= c->deadline_ms)
			conn_free(c); /* slow or lingering head */
	}
	for (ws = http.wss; ws; ws = wn) {
		wn = ws->next;
		if (ws->closing) {
			if (now - ws->close_start_ms >= SL_CLOSE_GRACE_MS)
				ws_kill(ws, true); /* it does not read: no close handshake */
		} else if (ws->msg_start_ms && now - ws->msg_start_ms >= msg) {
			http.st.msg_timeout++;
			sl_info("closing a WebSocket: a message was not completed within %u s",
				http.cfg->message_timeout_s);
			free(ws->rx);
			ws->rx = NULL;
			ws->rx_len = 0;
			ws->msg_start_ms = 0;
			http.h.protocol_error(ws->user, "timeout",
					      "a message was not completed in time", true);
			ws_close_status(ws, LWS_CLOSE_STATUS_POLICY_VIOLATION);
			ws->close_status = LWS_CLOSE_STATUS_POLICY_VIOLATION;
		} else if (now - ws->last_rx_ms >= idle) {
			http.st.idle_closed++;
			sl_info("closing a WebSocket: silent for %u s", http.cfg->idle_timeout_s);
			ws_close_status(ws, LWS_CLOSE_STATUS_GOINGAWAY);
		} else if (now - ws->last_rx_ms >= idle / 2 && !ws->ping_sent) {
			ws->ping_due = true;
			lws_callback_on_writable(ws->wsi);
		}
	}
	return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------ start, stop */

static void lws_log(int level, const char *line)
{
	if (strstr(line, "adopt_socket_readbuf: calling service"))
		return; /* lws 4.1 logs this at error level on every adoption */
	sl_log_scrubbed(level == LLL_ERR ? SL_LOG_ERR : SL_LOG_WARN, "libwebsockets", line);
}

static const struct lws_protocols protocols[] = {
	{ "http", cb_http, 0, 0, 0, NULL, 0 },
	{ "sluice-v1", cb_ws, sizeof(struct sl_ws), 64 * 1024, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* Security headers on every HTTP response: the page loads nothing from
 * elsewhere, and connects only to its own origin and to WebSockets (ws:
 * wss:, as index.html's own CSP): a 'redirect' sends the join to another
 * node's --public-url, another origin (docs/operators.md "Several nodes"). */
static const struct lws_protocol_vhost_options hdr[] = {
	{ &hdr[1], NULL, "content-security-policy:",
	  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; media-src 'self' "
	  "blob:; "
	  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'" },
	{ &hdr[2], NULL, "x-content-type-options:", "nosniff" },
	{ &hdr[3], NULL, "referrer-policy:", "no-referrer" },
	{ &hdr[4], NULL, "x-frame-options:", "DENY" },
	{ NULL, NULL, "permissions-policy:", "camera=(self), microphone=(self), geolocation=()" },
};

static int listen_on(const struct sl_cp_config *cfg, char *err, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, cfg->listen, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(cfg->port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, cfg->listen, &((struct sockaddr_in6 *)&ss)->sin6_addr) ==
		   1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(cfg->port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		snprintf(err, n, "--listen %s: not an IPv4 or IPv6 address", cfg->listen);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, n, "socket: %s", strerror(errno));
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 511)) {
		int e = errno;

		snprintf(err, n, "cannot listen on %s port %u: %s", cfg->listen, cfg->port,
			 strerror(e));
		close(fd);
		return -e;
	}
	http.lfd = fd;
	return 0;
}

int sl_http_start(GMainLoop *loop, const struct sl_cp_config *cfg, const struct sl_http_handlers *h,
		  char *err, size_t n)
{
	struct lws_context_creation_info info;
	void *loops[1] = { &http.uv };
	struct rlimit rl;
	int r;

	http.h = *h;
	http.cfg = cfg;
	hosts_init(cfg);
	/* Each connection may hold a socket and a file being served. */
	http.st.max_conns = cfg->max_connections;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY) {
		rlim_t fit = rl.rlim_cur > 2 * SL_HTTP_FD_SPARE
				     ? (rl.rlim_cur - SL_HTTP_FD_SPARE) / 2
				     : rl.rlim_cur / 4 + 1;

		if (fit < http.st.max_conns) {
			http.st.max_conns = (unsigned)fit;
			sl_info("at most %u connections: the open-file limit is %llu",
				http.st.max_conns, (unsigned long long)rl.rlim_cur);
		}
	}
	r = listen_on(cfg, err, n);
	if (r)
		return r;
	http.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (http.epfd < 0) {
		snprintf(err, n, "epoll_create1: %s", strerror(errno));
		return -errno;
	}
	r = uv_loop_init(&http.uv);
	if (r) {
		snprintf(err, n, "uv_loop_init: %s", uv_strerror(r));
		return r;
	}
	http.uv_ok = true;
	http.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	http.srcs = g_hash_table_new_full(src_hash, src_equal, NULL, g_free);
	snprintf(http.web_root, sizeof(http.web_root), "%s", cfg->web_root);
	http.mount = (struct lws_http_mount){
		.mountpoint = "/",
		.mountpoint_len = 1,
		.origin = http.web_root,
		.def = "index.html",
		.origin_protocol = LWSMPRO_FILE,
	};
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = protocols;
	info.mounts = &http.mount;
	info.headers = hdr;
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.foreign_loops = loops;
	info.timeout_secs = 20;
	info.keepalive_timeout = 5;
	info.max_http_header_data = SL_HTTP_MAX_HEAD;
	info.ka_time = 0;
	http.ctx = lws_create_context(&info);
	http.vh = http.ctx ? lws_get_vhost_by_name(http.ctx, "default") : NULL;
	if (!http.vh) {
		snprintf(err, n, "libwebsockets did not start");
		return -ENOMEM;
	}
	http.listen_watch = g_unix_fd_add(http.lfd, G_IO_IN, on_listen, NULL);
	http.ep_watch = g_unix_fd_add(http.epfd, G_IO_IN, on_ready, NULL);
	http.uv_src = g_source_new(&uvs_funcs, sizeof(struct uv_gsource));
	((struct uv_gsource *)http.uv_src)->tag =
		g_source_add_unix_fd(http.uv_src, uv_backend_fd(&http.uv), G_IO_IN);
	g_source_attach(http.uv_src, g_main_loop_get_context(loop));
	http.sweep = g_timeout_add(1000, sweep, NULL);
	return 0;
}

void sl_http_get_stats(struct sl_http_stats *s)
{
	*s = http.st;
}

/* Is a WebSocket still closing (its last messages not yet written)? */
static bool any_closing(void)
{
	for (struct sl_ws *ws = http.wss; ws; ws = ws->next)
		if (ws->wsi && ws->closing)
			return true;
	return false;
}

void sl_http_drain(GMainLoop *loop, unsigned ms)
{
	GMainContext *ctx = g_main_loop_get_context(loop);
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

	while (http.ctx && any_closing() && g_get_monotonic_time() < end) {
		if (!g_main_context_iteration(ctx, FALSE))
			g_usleep(1000);
	}
}

void sl_http_stop(void)
{
	if (http.listen_watch)
		g_source_remove(http.listen_watch);
	if (http.backoff)
		g_source_remove(http.backoff);
	if (http.sweep)
		g_source_remove(http.sweep);
	if (http.ep_watch)
		g_source_remove(http.ep_watch);
	if (http.uv_src) {
		g_source_destroy(http.uv_src);
		g_source_unref(http.uv_src);
	}
	http.uv_src = NULL;
	http.listen_watch = http.backoff = http.sweep = http.ep_watch = 0;
	while (http.pending)
		conn_free(http.pending);
	if (http.ctx)
		lws_context_destroy(http.ctx);
	if (http.uv_ok) {
		/* on a foreign loop lws closes its uv handles asynchronously: let
		 * them finish, then a second call frees the context */
		for (int i = 0; i < 100 && uv_run(&http.uv, UV_RUN_NOWAIT); i++)
			;
		if (http.ctx)
			lws_context_destroy(http.ctx);
		if (uv_loop_close(&http.uv))
			sl_warn("libuv: handles still open at exit");
		http.uv_ok = false;
	}
	http.ctx = NULL;
	http.vh = NULL;
	if (http.srcs)
		g_hash_table_destroy(http.srcs);
	http.srcs = NULL;
	if (http.lfd >= 0)
		close(http.lfd);
	if (http.spare_fd >= 0)
		close(http.spare_fd);
	if (http.epfd >= 0)
		close(http.epfd); /* after lws: it drops its sockets on the way out */
	http.lfd = http.spare_fd = http.epfd = -1;
}

int sl_ws_source(const struct sl_ws *ws, uint8_t key[16])
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = ws && ws->wsi ? (int)lws_get_socket_fd(ws->wsi) : -1;

	memset(&ss, 0, sizeof(ss));
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return -ENOTCONN;
	src_key(&ss, key);
	return 0;
}
