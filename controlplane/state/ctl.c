/*
 * ctl.c - the operator API's node side (docs/operators.md, "Operator API"
 * and "Drain").
 *
 * Every 200 ms, on the store's one Redis connection and never blocking it,
 * the node reads what was added to the stream sl:ctl since its last read
 * (XREAD COUNT 64, no BLOCK), parses each entry (ctlcmd.c), executes it
 * and pushes one JSON reply onto sl:ctl:reply:REQ (RPUSH, EXPIRE 60). On
 * every (re)connection it starts from the stream's last entry (XREVRANGE
 * + - COUNT 1), so a command is seen once, by the nodes up when it was
 * written. One read is in flight at a time; a reply of an earlier
 * connection is ignored.
 *
 * Replies name meetings by their random id and tag and participants by
 * their random id and role: never a room name, a display name or an
 * address. The same tick notices when a draining node's last meeting has
 * ended (sl_store_drained_check).
 */
#include <string.h>

#include <glib.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "clock.h"
#include "ctl.h"
#include "ctlcmd.h"
#include "entry.h"
#include "log.h"
#include "metrics.h"
#include "room.h"
#include "store.h"

#define CTL_PERIOD_MS 200
#define CTL_STREAM    "sl:ctl"
#define CTL_COUNT     64
#define CTL_REPLY_TTL "60"

static struct {
	guint timer;
	unsigned gen; /* the store connection last_id belongs to */
	bool have_last, busy, warned;
	char last[64]; /* the last stream id read */
	uint64_t start_ms;
} ctl;

static void on_push(void *user, struct redisReply *r)
{
	(void)user;
	if (r && r->type == REDIS_REPLY_ERROR)
		sl_warn("redis refused an operator reply: %.*s", (int)r->len, r->str);
}

static json_t *peers(void)
{
	const char *ids[SL_STORE_NODES_MAX];
	unsigned n = sl_store_peers(ids, SL_STORE_NODES_MAX);
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, json_string(ids[i]));
	return a;
}

static json_t *info(void)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:f, s:b, s:b, s:I}", "id", sl_store_node_id(),
			 "url", sl_cp->cfg.public_url, "participants",
			 (json_int_t)sl_cp->n_participants, "meetings", (json_int_t)sl_cp->n_rooms,
			 "endpoints", (json_int_t)sl_cp->n_connected, "busy", sl_store_busy(),
			 "draining", sl_store_draining(), "drained", sl_store_drained(), "uptime_s",
			 (json_int_t)(sl_time_since(sl_now_ms(), ctl.start_ms) / 1000));
}

/* One reply: res (stolen) holds the result keys when error is NULL. */
static void answer(const struct sl_ctlcmd *c, json_t *res, const char *error, const char *message)
{
	json_t *j = json_pack("{s:s, s:s, s:o, s:b}", "req", c->req, "node", sl_store_node_id(),
			      "peers", peers(), "ok", !error);
	char key[sizeof("sl:ctl:reply:") + SL_CTLCMD_REQ_MAX], *text;

	if (error) {
		json_object_set_new(j, "error", json_string(error));
		json_object_set_new(j, "message", json_string(message));
	} else if (res) {
		json_object_update(j, res);
	}
	json_decref(res);
	sl_metrics_ctl_command(c->cmd, error ? error : "ok");
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return;
	snprintf(key, sizeof(key), "sl:ctl:reply:%s", c->req);
	if (sl_store_command(on_push, NULL, 3, (const char *[]){ "RPUSH", key, text }, NULL) ||
	    sl_store_command(on_push, NULL, 3, (const char *[]){ "EXPIRE", key, CTL_REPLY_TTL },
			     NULL))
		sl_warn("redis: cannot queue an operator reply");
	free(text);
}

static uint64_t age_s(const struct sl_room *r)
{
	return sl_time_since(sl_now_ms(), r->created_ms) / 1000;
}

static struct sl_room *find_room(const char *m)
{
	for (struct sl_room *r = sl_cp->rooms; r; r = r->next)
		if (!r->ending && (!strcmp(r->meeting, m) || !strcmp(r->tag, m)))
			return r;
	return NULL;
}

static struct sl_participant *find_member(struct sl_room *r, const char *id)
{
	for (struct sl_participant *p = r->members; p; p = p->next)
		if (!strcmp(p->id, id))
			return p;
	return NULL;
}

static json_t *meetings(void)
{
	json_t *a = json_array();

	for (const struct sl_room *r = sl_cp->rooms; r; r = r->next)
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I}", "meeting", r->meeting,
						   "tag", r->tag, "participants",
						   (json_int_t)r->n_members, "age_s",
						   (json_int_t)age_s(r)));
	return a;
}

static json_t *meeting(const struct sl_room *r)
{
	json_t *ps = json_array();

	for (const struct sl_participant *p = r->members; p; p = p->next)
		json_array_append_new(ps,
				      json_pack("{s:s, s:s, s:b, s:b, s:b, s:b}", "id", p->id,
						"role", p->moderator ? "moderator" : "participant",
						"connected", p->connected, "audio_muted",
						p->muted[SL_SDP_KIND_AUDIO], "video_muted",
						p->muted[SL_SDP_KIND_VIDEO], "screen", p->sharing));
	return json_pack("{s:s, s:s, s:I, s:b, s:b, s:b, s:I, s:o}", "meeting", r->meeting, "tag",
			 r->tag, "age_s", (json_int_t)age_s(r), "locked", r->locked, "lobby",
			 r->lobby_on, "password", r->pw_hash[0] != 0, "lobby_waiting",
			 (json_int_t)r->n_lobby, "participants", ps);
}

/* The commands about a meeting: meeting, end, kick, mute. */
static void on_meeting(const struct sl_ctlcmd *c)
{
	struct sl_room *r = find_room(c->meeting);
	struct sl_participant *p = NULL;
	unsigned n;
	uint8_t kind;

	if (!r) {
		answer(c, NULL, "not_here", "that meeting is not on this node");
		return;
	}
	if (c->cmd == SL_CTLCMD_KICK || c->cmd == SL_CTLCMD_MUTE) {
		p = find_member(r, c->participant);
		if (!p) {
			answer(c, NULL, "not_found", "that participant is not in this meeting");
			return;
		}
	}
	switch (c->cmd) {
	case SL_CTLCMD_MEETING:
		answer(c, json_pack("{s:o}", "meeting", meeting(r)), NULL, NULL);
		break;
	case SL_CTLCMD_END:
		n = r->n_members + r->n_lobby;
		sl_info("meeting %s ended by the operator", r->meeting);
		sl_room_end(r,
			    json_pack("{s:s, s:s, s:s, s:b}", "type", "error", "code", "ended",
				      "message", "ended by the operator", "fatal", 1),
			    "operator");
		answer(c, json_pack("{s:I}", "ended", (json_int_t)n), NULL, NULL);
		break;
	case SL_CTLCMD_KICK:
		sl_info("participant %s removed by the operator from meeting %s", p->id,
			r->meeting);
		answer(c, json_pack("{s:s}", "kicked", p->id), NULL, NULL);
		sl_room_kick(p, "kicked", "removed from the meeting by the operator");
		break;
	default: /* SL_CTLCMD_MUTE */
		kind = c->kind == SL_CTLCMD_VIDEO ? SL_SDP_KIND_VIDEO : SL_SDP_KIND_AUDIO;
		sl_entry_operator_mute(p, kind);
		answer(c,
		       json_pack("{s:s, s:s}", "muted", p->id, "kind",
				 c->kind == SL_CTLCMD_VIDEO ? "video" : "audio"),
		       NULL, NULL);
		break;
	}
}

static void execute(const struct sl_ctlcmd *c)
{
	bool mine = !c->node[0] || !strcmp(c->node, sl_store_node_id());

	switch (c->cmd) {
	case SL_CTLCMD_NODES:
		answer(c, json_pack("{s:o}", "info", info()), NULL, NULL);
		break;
	case SL_CTLCMD_MEETINGS:
		if (mine)
			answer(c, json_pack("{s:o}", "meetings", meetings()), NULL, NULL);
		else
			answer(c, NULL, "not_here", "that node is not this one");
		break;
	case SL_CTLCMD_MEETING:
	case SL_CTLCMD_END:
	case SL_CTLCMD_KICK:
	case SL_CTLCMD_MUTE:
		on_meeting(c);
		break;
	default: /* drain, undrain, stats: node is required */
		if (!mine) {
			answer(c, NULL, "not_here", "that node is not this one");
			break;
		}
		if (c->cmd == SL_CTLCMD_STATS) {
			answer(c,
			       json_pack("{s:o, s:o}", "info", info(), "stats",
					 sl_metrics_counters_json()),
			       NULL, NULL);
			break;
		}
		sl_info("%s asked by the operator", sl_ctlcmd_name(c->cmd));
		sl_store_drain(c->cmd == SL_CTLCMD_DRAIN);
		answer(c, json_pack("{s:o}", "info", info()), NULL, NULL);
		break;
	}
}

static void entry(const redisReply *fields)
{
	size_t n = fields->elements / 2;
	struct sl_ctlcmd_str *f = g_new0(struct sl_ctlcmd_str, n + 1);
	struct sl_ctlcmd_str *v = g_new0(struct sl_ctlcmd_str, n + 1);
	struct sl_ctlcmd c;

	for (size_t i = 0; i < n; i++) {
		const redisReply *a = fields->element[2 * i], *b = fields->element[2 * i + 1];

		if (a->type == REDIS_REPLY_STRING)
			f[i] = (struct sl_ctlcmd_str){ a->str, a->len };
		if (b->type == REDIS_REPLY_STRING)
			v[i] = (struct sl_ctlcmd_str){ b->str, b->len };
	}
	switch (sl_ctlcmd_parse(f, v, n, &c)) {
	case SL_CTLCMD_DROP:
		sl_metrics_ctl_dropped();
		break;
	case SL_CTLCMD_BAD_REQUEST:
		answer(&c, NULL, "bad_request", c.message);
		break;
	default:
		execute(&c);
		break;
	}
	g_free(f);
	g_free(v);
}

static bool stale(void *user, redisReply *r)
{
	ctl.busy = false;
	if (!r || GPOINTER_TO_UINT(user) != sl_store_generation())
		return true;
	if (r->type == REDIS_REPLY_ERROR) {
		if (!ctl.warned)
			sl_warn("redis refused reading %s: %.*s", CTL_STREAM, (int)r->len, r->str);
		ctl.warned = true;
		return true;
	}
	return false;
}

/* A stream entry: [id, [field, value, ...]]; the id is remembered. */
static const redisReply *entry_id(const redisReply *e)
{
	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING || e->element[0]->len >= sizeof(ctl.last))
		return NULL;
	memcpy(ctl.last, e->element[0]->str, e->element[0]->len);
	ctl.last[e->element[0]->len] = 0;
	return e->element[1]->type == REDIS_REPLY_ARRAY ? e->element[1] : NULL;
}

static void on_last(void *user, struct redisReply *r)
{
	if (stale(user, r) || r->type != REDIS_REPLY_ARRAY)
		return;
	snprintf(ctl.last, sizeof(ctl.last), "0-0");
	if (r->elements)
		entry_id(r->element[0]);
	ctl.have_last = true;
}

/* [[stream, [entry, ...]]], or nil when nothing is new. */
static void on_read(void *user, struct redisReply *r)
{
	const redisReply *entries;

	if (stale(user, r) || r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2 ||
	    r->element[0]->element[1]->type != REDIS_REPLY_ARRAY)
		return;
	entries = r->element[0]->element[1];
	for (size_t i = 0; i < entries->elements && i < CTL_COUNT; i++) {
		const redisReply *fields = entry_id(entries->element[i]);

		if (fields)
			entry(fields);
		else
			sl_metrics_ctl_dropped();
	}
}

static gboolean tick(gpointer arg)
{
	unsigned gen = sl_store_generation();
	void *user = GUINT_TO_POINTER(gen);
	char count[16];

	(void)arg;
	sl_store_drained_check();
	if (!sl_store_up() || ctl.busy)
		return G_SOURCE_CONTINUE;
	if (gen != ctl.gen) {
		ctl.gen = gen;
		ctl.have_last = ctl.warned = false;
	}
	snprintf(count, sizeof(count), "%d", CTL_COUNT);
	if (!ctl.have_last)
		ctl.busy = !sl_store_command(
			on_last, user, 6,
			(const char *[]){ "XREVRANGE", CTL_STREAM, "+", "-", "COUNT", "1" }, NULL);
	else
		ctl.busy = !sl_store_command(on_read, user, 6,
					     (const char *[]){ "XREAD", "COUNT", count, "STREAMS",
							       CTL_STREAM, ctl.last },
					     NULL);
	return G_SOURCE_CONTINUE;
}

void sl_ctl_start(void)
{
	ctl.start_ms = sl_now_ms();
	ctl.gen = sl_store_generation();
	ctl.timer = g_timeout_add(CTL_PERIOD_MS, tick, NULL);
}

void sl_ctl_stop(void)
{
	if (ctl.timer)
		g_source_remove(ctl.timer);
	ctl.timer = 0;
}
