/*
 * signalling.h - the signalling protocol (docs/signalling.md) over WebSockets.
 *
 * One struct sl_client per WebSocket (owned here, freed when the socket
 * closes). Messages are parsed with jansson, duplicate keys refused, and
 * dispatched to room.c; replies and errors are built here.
 */
#ifndef SLUICE_CP_SIGNAL_H
#define SLUICE_CP_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "http.h"

struct sl_participant;

struct sl_client {
	struct sl_ws *ws;         /* NULL in unit tests */
	struct sl_participant *p; /* after a successful join */
	bool left;
	/* The source address as a throttle key (IPv4-mapped, or an IPv6 /64
	 * prefix), when known (not in unit tests). Never logged. */
	uint8_t src_key[16];
	bool has_src;
	/* Test hook: when ws is NULL, sent messages are appended here. */
	json_t *sent;
};

extern const struct sl_http_handlers sl_signal_handlers;

/* Handle one text message (exposed for tests and the fuzzer). */
void sl_signal_message(struct sl_client *c, const char *text, size_t len);
void sl_signal_closed(struct sl_client *c);

/* Send a message (steals the reference). */
void sl_signal_send(struct sl_client *c, json_t *msg);
/* Send {"type":"error",...}; when fatal, close the connection after it. */
void sl_signal_error(struct sl_client *c, const char *code, const char *message, bool fatal);

#endif

#ifndef SLUICE_CP_SIGNAL_MSG
#define SLUICE_CP_SIGNAL_MSG
enum sl_msg_type { SL_MSG_JOIN = 1, SL_MSG_ANSWER, SL_MSG_LEAVE };

/* A parsed client message; strings point into root (alive until free). */
struct sl_signal_msg {
	int type;
	const char *room, *name; /* join; name "" when absent */
	const char *sdp;         /* answer */
	size_t sdp_len;
	uint32_t version; /* answer */
	json_t *root;
};

/*
 * Parse and validate one message (pure; safe on any bytes). Returns 0, or
 * -EINVAL with *code (a docs/signalling.md error code) and *why set.
 * sl_signal_msg_free releases m->root.
 */
int sl_signal_parse(const char *text, size_t len, struct sl_signal_msg *m, const char **code,
		    const char **why);
void sl_signal_msg_free(struct sl_signal_msg *m);
#endif
