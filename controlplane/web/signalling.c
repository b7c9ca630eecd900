/*
 * signalling.c - the JSON signalling protocol (docs/signalling.md).
 *
 * Parsing is a pure function (sl_signal_parse) so it can be fuzzed alone:
 * jansson with JSON_REJECT_DUPLICATES (identical keys must never be read
 * two ways), then every member checked for type and range. Dispatch hands
 * valid messages to room.c, which owns meetings and participants. Nothing
 * a client sends is ever logged.
 */
#include <errno.h>
#include <string.h>

#include "cp.h"
#include "entry.h"
#include "log.h"
#include "metrics.h"
#include "room.h"
#include "signalling.h"

void sl_signal_send(struct sl_client *c, json_t *msg)
{
	char *text;

	if (!msg)
		return;
	if (!c->ws) {
		if (c->sent)
			json_array_append(c->sent, msg);
		json_decref(msg);
		return;
	}
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (text) {
		sl_ws_send(c->ws, text, strlen(text));
		free(text);
	}
}

void sl_signal_error(struct sl_client *c, const char *code, const char *message, bool fatal)
{
	sl_signal_send(c, json_pack("{s:s, s:s, s:s, s:b}", "type", "error", "code", code,
				    "message", message, "fatal", fatal));
	if (fatal && c->ws)
		sl_ws_close(c->ws);
}

void sl_signal_throttled(struct sl_client *c, unsigned retry_after, const char *message)
{
	sl_signal_send(c, json_pack("{s:s, s:s, s:s, s:b, s:i}", "type", "error", "code",
				    "throttled", "message", message, "fatal", 0, "retry_after",
				    (json_int_t)retry_after));
}

void sl_signal_message(struct sl_client *c, const char *text, size_t len)
{
	struct sl_signal_msg m;
	const char *code, *why;

	if (sl_signal_parse(text, len, &m, &code, &why)) {
		sl_metrics_message(m.type);
		sl_cp->n_bad_messages++;
		sl_signal_error(c, code, why, !strcmp(code, "too_large"));
		sl_signal_msg_free(&m);
		return;
	}
	sl_metrics_message(m.type);
	if (c->left) {
		sl_signal_error(c, "not_joined", "this connection has left", false);
	} else if (m.type == SL_MSG_CHECK_NAME) {
		sl_entry_check_name(c, m.room);
	} else if (m.type == SL_MSG_JOIN) {
		if (c->p)
			sl_signal_error(c, "already_joined", "one join per connection", false);
		else
			sl_entry_join(c, &m);
	} else if (m.type == SL_MSG_LEAVE && (c->p || c->lobby || c->pending)) {
		if (c->p)
			sl_room_leave(c->p, "left");
		sl_entry_client_gone(c);
		c->left = true;
		sl_signal_send(c, json_pack("{s:s}", "type", "left"));
		if (c->ws)
			sl_ws_close(c->ws);
	} else if (!c->p) {
		sl_signal_error(c, "not_joined", "join first", false);
	} else if (m.type == SL_MSG_ANSWER) {
		sl_room_answer(c->p, m.sdp, m.sdp_len, m.version);
	} else {
		sl_entry_message(c, &m);
	}
	sl_signal_msg_free(&m);
}

void sl_signal_closed(struct sl_client *c)
{
	if (c->p)
		sl_room_leave(c->p, "closed");
	c->p = NULL;
	sl_entry_client_gone(c);
}

static void *on_open(struct sl_ws *ws)
{
	struct sl_client *c = g_new0(struct sl_client, 1);

	c->ws = ws;
	c->has_src = sl_ws_source(ws, c->src_key) == 0;
	return c;
}

static void on_message(void *user, const char *text, size_t len)
{
	sl_signal_message(user, text, len);
}

static void on_too_large(void *user)
{
	struct sl_client *c = user;

	sl_cp->n_bad_messages++;
	sl_signal_error(c, "too_large", "message over 256 KiB", true);
}

static void on_protocol_error(void *user, const char *code, const char *message, bool fatal)
{
	sl_cp->n_bad_messages++;
	sl_signal_error(user, code, message, fatal);
}

static void on_close(void *user)
{
	struct sl_client *c = user;

	sl_signal_closed(c);
	g_free(c);
}

const struct sl_http_handlers sl_signal_handlers = {
	.open = on_open,
	.message = on_message,
	.too_large = on_too_large,
	.protocol_error = on_protocol_error,
	.close = on_close,
};
