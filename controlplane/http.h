/*
 * http.h - the HTTP + WebSocket server (libwebsockets on the GLib loop).
 *
 * Serves the web client's static files from one directory and WebSocket
 * connections with subprotocol "sluice-v1". Whole text messages up to
 * SL_WS_MAX_MSG bytes are delivered; a longer one is reported with
 * too_large and the connection is closed. Sends are queued and written as
 * the socket allows; sl_ws_close closes after the queue is flushed.
 *
 * Ownership: struct sl_ws belongs to this module and lives until the close
 * callback returns; the user pointer returned by open is the caller's.
 */
#ifndef SLUICE_CP_HTTP_H
#define SLUICE_CP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define SL_WS_MAX_MSG (256 * 1024)

struct sl_ws;

struct sl_http_handlers {
	void *(*open)(struct sl_ws *ws); /* returns the connection's user pointer */
	void (*message)(void *user, const char *text, size_t len);
	void (*too_large)(void *user);
	void (*close)(void *user);
};

/* Returns 0 or -errno with err set. */
int sl_http_start(GMainLoop *loop, const char *addr, uint16_t port, const char *web_root,
		  const struct sl_http_handlers *h, char *err, size_t n);
/* Runs the loop until every WebSocket being closed has written its last
 * messages and closed, or for at most ms: before sl_http_stop, so that
 * clients get the reason. */
void sl_http_drain(GMainLoop *loop, unsigned ms);
void sl_http_stop(void);

/* Queue a text message (copied). Returns 0 or -ENOMEM / -EPIPE (closing). */
int sl_ws_send(struct sl_ws *ws, const char *text, size_t len);
/* Close once everything queued so far is sent. */
void sl_ws_close(struct sl_ws *ws);

#endif
