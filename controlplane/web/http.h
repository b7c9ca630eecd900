/*
 * http.h - the HTTP + WebSocket server (libwebsockets on the GLib loop).
 *
 * Serves the web client's static files from one directory and WebSocket
 * connections with subprotocol "sluice-v1". This module owns the listening
 * socket (bound to exactly --listen) and accepts connections itself, so it
 * can count them per source and in total, answer 503 over the caps, read
 * the request head (431 over SL_HTTP_MAX_HEAD) and back off on EMFILE
 * before handing each connection to libwebsockets. Whole text messages up
 * to SL_WS_MAX_MSG bytes are delivered; a longer one is reported with
 * too_large, drained, and the connection closed. Binary messages and
 * messages not completed within --message-timeout are reported with
 * protocol_error. Sends are queued and written as the socket allows;
 * sl_ws_close closes after the queue is flushed; a connection whose queue
 * passes --send-queue-max is dropped at once.
 *
 * Ownership: struct sl_ws belongs to this module and lives until the close
 * callback returns; the user pointer returned by open is the caller's.
 */
#ifndef SLUICE_CP_HTTP_H
#define SLUICE_CP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "config.h"

#define SL_WS_MAX_MSG    (256 * 1024)
#define SL_HTTP_MAX_HEAD 8192 /* request line + headers, bytes */
#define SL_HTTP_FD_SPARE 64   /* fds kept for Redis, the dataplane, files, DTLS */

struct sl_ws;

struct sl_http_handlers {
	void *(*open)(struct sl_ws *ws); /* returns the connection's user pointer */
	void (*message)(void *user, const char *text, size_t len);
	void (*too_large)(void *user);
	/* refuse something the client did (code as in docs/signalling.md) */
	void (*protocol_error)(void *user, const char *code, const char *message, bool fatal);
	void (*close)(void *user);
};

/* Counters for the operator. */
struct sl_http_stats {
	uint64_t refused_full, refused_per_ip, accept_backoff, head_too_large, bad_host, bad_origin,
		idle_closed, msg_timeout, send_queue_dropped;
	unsigned conns, max_conns;
};

/* Listen on cfg->listen:cfg->port. Returns 0 or -errno with err set. */
int sl_http_start(GMainLoop *loop, const struct sl_cp_config *cfg, const struct sl_http_handlers *h,
		  char *err, size_t n);
void sl_http_get_stats(struct sl_http_stats *s);
/* Runs the loop until every WebSocket being closed has written its last
 * messages and closed, or for at most ms: before sl_http_stop, so that
 * clients get the reason. */
void sl_http_drain(GMainLoop *loop, unsigned ms);
void sl_http_stop(void);

/* Queue a text message (copied). Returns 0 or -ENOMEM / -EPIPE (closing). */
int sl_ws_send(struct sl_ws *ws, const char *text, size_t len);
/* Close once everything queued so far is sent. */
void sl_ws_close(struct sl_ws *ws);
/* The connection's source for throttling, as the connection caps count it
 * (an IPv4 address IPv4-mapped, an IPv6 /64; never log it): 0 or -ENOTCONN. */
int sl_ws_source(const struct sl_ws *ws, uint8_t key[16]);

#endif
