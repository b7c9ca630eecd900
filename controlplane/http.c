/*
 * http.c - libwebsockets shim: static files and the signalling WebSocket.
 *
 * The only file that includes libwebsockets. lws runs on our GLib loop
 * (LWS_SERVER_OPTION_GLIB). Each WebSocket's state is lws's per-session
 * struct sl_ws: a receive buffer that reassembles fragmented messages up to
 * SL_WS_MAX_MSG, and a queue of outgoing messages (each with LWS_PRE bytes
 * of headroom) written one per WRITEABLE callback. lws's own log lines go
 * through the address scrubber.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "http.h"
#include "log.h"

struct out_msg {
	struct out_msg *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE + len */
};

struct sl_ws {
	struct lws *wsi;
	void *user;
	char *rx;
	size_t rx_len;
	struct out_msg *head, *tail;
	bool closing, too_large, open;
};

static struct {
	struct lws_context *ctx;
	struct sl_http_handlers h;
	struct lws_http_mount mount;
	char origin[512];
	unsigned n_closing; /* WebSockets closing, their last messages not yet written */
} http;

static void deliver(struct sl_ws *ws, const void *in, size_t len)
{
	char *rx;

	if (ws->too_large || ws->closing)
		return;
	if (ws->rx_len + len > SL_WS_MAX_MSG) {
		ws->too_large = true;
		free(ws->rx);
		ws->rx = NULL;
		ws->rx_len = 0;
		http.h.too_large(ws->user);
		sl_ws_close(ws);
		return;
	}
	rx = realloc(ws->rx, ws->rx_len + len + 1);
	if (!rx) {
		sl_ws_close(ws);
		return;
	}
	ws->rx = rx;
	memcpy(rx + ws->rx_len, in, len);
	ws->rx_len += len;
	rx[ws->rx_len] = 0;
	if (!lws_is_final_fragment(ws->wsi) || lws_remaining_packet_payload(ws->wsi))
		return;
	http.h.message(ws->user, ws->rx, ws->rx_len);
	free(ws->rx);
	ws->rx = NULL;
	ws->rx_len = 0;
}

/* Write one queued message; -1 asks lws to close. */
static int writeable(struct sl_ws *ws)
{
	struct out_msg *m = ws->head;

	if (m) {
		int r = lws_write(ws->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);

		ws->head = m->next;
		if (!ws->head)
			ws->tail = NULL;
		free(m);
		if (r < 0)
			return -1;
		if (ws->head) {
			lws_callback_on_writable(ws->wsi);
			return 0;
		}
	}
	if (ws->closing) {
		lws_close_reason(ws->wsi,
				 ws->too_large ? LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE
					       : LWS_CLOSE_STATUS_NORMAL,
				 NULL, 0);
		return -1;
	}
	return 0;
}

static void closed(struct sl_ws *ws)
{
	if (ws->open)
		http.h.close(ws->user);
	ws->open = false;
	free(ws->rx);
	while (ws->head) {
		struct out_msg *m = ws->head;

		ws->head = m->next;
		free(m);
	}
	ws->tail = NULL;
	if (ws->closing)
		http.n_closing--;
	ws->wsi = NULL;
}

/*
 * Cross-site WebSocket hijacking: a browser always sends Origin, and a page
 * from another site must not drive a participant's session. Accept no
 * Origin (non-browser clients) or one equal to http(s)://Host.
 */
static bool origin_ok(struct lws *wsi)
{
	char origin[300], host[256], want[300];

	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
		return true;
	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0 ||
	    lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		return false;
	snprintf(want, sizeof(want), "http://%s", host);
	if (!strcmp(origin, want))
		return true;
	snprintf(want, sizeof(want), "https://%s", host);
	return !strcmp(origin, want);
}

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		 size_t len)
{
	struct sl_ws *ws = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (!origin_ok(wsi)) {
			sl_warn("refused a WebSocket from a foreign origin");
			return -1;
		}
		break;
	case LWS_CALLBACK_ESTABLISHED:
		memset(ws, 0, sizeof(*ws));
		ws->wsi = wsi;
		ws->open = true;
		ws->user = http.h.open(ws);
		break;
	case LWS_CALLBACK_RECEIVE:
		deliver(ws, in, len);
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
	lws_callback_on_writable(ws->wsi);
	return 0;
}

void sl_ws_close(struct sl_ws *ws)
{
	if (!ws->wsi || ws->closing)
		return;
	ws->closing = true;
	http.n_closing++;
	lws_callback_on_writable(ws->wsi);
}

static void lws_log(int level, const char *line)
{
	sl_log_scrubbed(level == LLL_ERR ? SL_LOG_ERR : SL_LOG_WARN, "libwebsockets", line);
}

static const struct lws_protocols protocols[] = {
	{ "http", lws_callback_http_dummy, 0, 0, 0, NULL, 0 },
	{ "sluice-v1", cb_ws, sizeof(struct sl_ws), 64 * 1024, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* Security headers on every HTTP response: the page may talk only to its
 * own origin and load nothing from elsewhere. */
static const struct lws_protocol_vhost_options hdr[] = {
	{ &hdr[1], NULL, "content-security-policy:",
	  "default-src 'self'; connect-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
	  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'" },
	{ &hdr[2], NULL, "x-content-type-options:", "nosniff" },
	{ &hdr[3], NULL, "referrer-policy:", "no-referrer" },
	{ &hdr[4], NULL, "x-frame-options:", "DENY" },
	{ NULL, NULL, "permissions-policy:", "camera=(self), microphone=(self), geolocation=()" },
};

int sl_http_start(GMainLoop *loop, const char *addr, uint16_t port, const char *web_root,
		  const struct sl_http_handlers *h, char *err, size_t n)
{
	struct lws_context_creation_info info;
	void *loops[1] = { loop };

	http.h = *h;
	snprintf(http.origin, sizeof(http.origin), "%s", web_root);
	http.mount = (struct lws_http_mount){
		.mountpoint = "/",
		.mountpoint_len = 1,
		.origin = http.origin,
		.def = "index.html",
		.origin_protocol = LWSMPRO_FILE,
	};
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = addr;
	info.protocols = protocols;
	info.mounts = &http.mount;
	info.headers = hdr;
	info.options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.foreign_loops = loops;
	info.timeout_secs = 20;
	info.ka_time = 0;
	http.ctx = lws_create_context(&info);
	if (!http.ctx) {
		snprintf(err, n, "cannot listen on %s port %u (in use? bad address?)", addr, port);
		return -EADDRINUSE;
	}
	return 0;
}

void sl_http_drain(GMainLoop *loop, unsigned ms)
{
	GMainContext *ctx = g_main_loop_get_context(loop);
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

	while (http.ctx && http.n_closing && g_get_monotonic_time() < end) {
		if (!g_main_context_iteration(ctx, FALSE))
			g_usleep(1000);
	}
}

void sl_http_stop(void)
{
	if (http.ctx)
		lws_context_destroy(http.ctx);
	http.ctx = NULL;
}
