/*
 * chat.c - chat messages and the meeting's public history (see chat.h).
 *
 * The history is a ring of the last SL_CHAT_HISTORY public messages,
 * allocated on the first one and wiped when the meeting ends. Each
 * participant has a GCRA rate (--chat-rate a minute, --chat-burst at
 * once): a message over it is refused with `throttled` and reaches no one.
 * Message text is never logged; messages are only counted (`chat_messages`
 * in the stats line).
 */
#include <string.h>

#include "chat.h"
#include "clock.h"
#include "room.h"
#include "rate.h"

struct chat_msg {
	char id[24];
	char from[SL_ID_LEN + 1];
	char name[65];
	char *text;
	uint64_t ts; /* ms since the meeting began */
};

struct sl_chat_log {
	struct chat_msg ring[SL_CHAT_HISTORY];
	unsigned head, n; /* oldest at head */
};

static json_t *chat_json(const struct chat_msg *c, bool private)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I}", "type", "chat", "id", c->id, "from",
			 c->from, "name", c->name, "text", c->text, "private", private, "ts",
			 (json_int_t)c->ts);
}

static void msg_clear(struct chat_msg *c)
{
	if (c->text) {
		explicit_bzero(c->text, strlen(c->text));
		g_free(c->text);
	}
	explicit_bzero(c, sizeof(*c));
}

void sl_chat_send(struct sl_participant *p, struct sl_participant *to,
		  const struct sl_signal_msg *m)
{
	struct sl_room *r = p->room;
	struct chat_msg c = { 0 }, *slot;
	uint64_t now = sl_now_ms();
	unsigned retry;
	json_t *out;

	if (r->chat_moderators && !p->moderator) {
		sl_signal_error(p->client, "not_moderator", "only moderators may chat now", false);
		return;
	}
	retry = sl_rate_take(&p->chat_tat_ms, sl_rate_period(sl_cp->cfg.chat_rate),
			     sl_cp->cfg.chat_burst, now);
	if (retry) {
		sl_signal_throttled(p->client, retry, "too many chat messages; wait a little");
		return;
	}
	snprintf(c.id, sizeof(c.id), "%" G_GUINT64_FORMAT, ++r->chat_next_id);
	snprintf(c.from, sizeof(c.from), "%s", p->id);
	snprintf(c.name, sizeof(c.name), "%s", p->name);
	c.text = g_strndup(m->text, m->text_len);
	c.ts = sl_time_since(now, r->created_ms);
	sl_cp->n_chat++;
	if (to) {
		out = chat_json(&c, true);
		sl_signal_send(p->client, json_incref(out));
		if (to != p && to->client)
			sl_signal_send(to->client, json_incref(out));
		json_decref(out);
		msg_clear(&c);
		return;
	}
	sl_room_broadcast(r, chat_json(&c, false), false);
	if (!r->chat)
		r->chat = g_new0(struct sl_chat_log, 1);
	if (r->chat->n == SL_CHAT_HISTORY) {
		msg_clear(&r->chat->ring[r->chat->head]);
		r->chat->head = (r->chat->head + 1) % SL_CHAT_HISTORY;
		r->chat->n--;
	}
	slot = &r->chat->ring[(r->chat->head + r->chat->n) % SL_CHAT_HISTORY];
	*slot = c; /* the history owns the text now */
	r->chat->n++;
}

json_t *sl_chat_history(const struct sl_room *r)
{
	json_t *a = json_array();

	for (unsigned i = 0; r->chat && i < r->chat->n; i++) {
		json_array_append_new(
			a, chat_json(&r->chat->ring[(r->chat->head + i) % SL_CHAT_HISTORY], false));
	}
	return json_pack("{s:s, s:o}", "type", "chat_history", "messages", a);
}

void sl_chat_free(struct sl_room *r)
{
	if (!r->chat)
		return;
	for (unsigned i = 0; i < SL_CHAT_HISTORY; i++)
		msg_clear(&r->chat->ring[i]);
	g_free(r->chat);
	r->chat = NULL;
}
