/*
 * store.c - Redis backend for meeting state (see store.h for the keys).
 *
 * hiredis's async context runs on the GLib loop through its glib adapter.
 * A disconnect (Redis restarted, network) marks the store down and starts
 * a 1 s reconnect timer; on connect every meeting is rewritten from memory.
 * The embedded mode starts redis-server as a child bound to a Unix socket
 * only (no TCP port, no persistence: --save "" --appendonly no), killed
 * with us (PR_SET_PDEATHSIG), and restarted if it exits. An external Redis
 * with ACLs gets AUTH [--redis-user] PASSWORD (the first line of
 * --redis-password-file) as the first command of every connection, any
 * other a PING; the store is up only once Redis answered it.
 *
 * Several nodes (docs/operators.md, "Several nodes"): each publishes a
 * heartbeat hash sl:node:ID (url, participants, meetings, endpoints,
 * draining, drained) with a TTL of --node-ttl, lists its id in the set sl:nodes,
 * and reads every other node's hash back into a small cache (ids whose
 * hash expired are removed from the set). A meeting's owner is the key
 * sl:{T}:owner, claimed with SET NX and renewed with the meeting's keys;
 * sl_store_claim() does the claim, placing a new meeting on the least
 * loaded node first. A draining node (sl_store_drain) claims no meeting
 * for itself: it places every new one on another node, whatever the
 * margin, or refuses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/adapters/glib.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <sluice/notify.h>
#include <sluice/redis_addr.h>

#include "clock.h"
#include "dpctl.h"
#include "log.h"
#include "store.h"

static struct {
	const struct sl_cp_config *cfg;
	char sock[300]; /* unix socket path, or "" for TCP */
	char host[256];
	int port;
	redisAsyncContext *ac;
	GSource *src;
	bool up;
	bool embedded;
	bool stopping;
	pid_t child;
	guint retry, refresh, child_watch;
	char node[33];
	guint beat;
	uint32_t busy_ppm; /* ours, from the dataplane at the last heartbeat */
	bool busy_asking;
	struct node_entry {
		char id[33];
		char url[256];
		unsigned participants;
		uint32_t busy_ppm; /* its busiest worker's busy fraction, in millionths */
		bool draining;
		uint64_t seen_ms;
	} nodes[SL_STORE_NODES_MAX];
	unsigned n_nodes;
	char password[SL_REDIS_PASSWORD_MAX + 1]; /* "" = no AUTH */
	bool auth_warned;
	bool draining, drained_said;
	unsigned generation;
} st;

static void connect_now(void);

static gboolean retry_cb(gpointer arg)
{
	(void)arg;
	st.retry = 0;
	connect_now();
	return G_SOURCE_REMOVE;
}

static void schedule_retry(void)
{
	if (!st.retry)
		st.retry = g_timeout_add_seconds(1, retry_cb, NULL);
}

static void drop_source(void)
{
	if (st.src) {
		g_source_destroy(st.src);
		g_source_unref(st.src);
		st.src = NULL;
	}
}

static void on_reply(redisAsyncContext *ac, void *reply, void *what)
{
	redisReply *r = reply;

	(void)ac;
	if (!r)
		return; /* disconnected: the rewrite on reconnect covers it */
	if (r->type == REDIS_REPLY_ERROR)
		sl_warn("redis refused %s: %.*s", (const char *)what, (int)r->len, r->str);
}

static void cmd(const char *what, int argc, const char **argv)
{
	if (!st.up)
		return;
	if (redisAsyncCommandArgv(st.ac, on_reply, (void *)what, argc, argv, NULL) != REDIS_OK)
		sl_warn("redis: cannot queue %s", what);
}

static void key(char *out, size_t n, const struct sl_room *r, const char *what)
{
	snprintf(out, n, "sl:{%s}:%s", r->tag, what);
}

static void expire(const struct sl_room *r)
{
	char k1[64], k2[64], k3[64], ttl[16];

	key(k1, sizeof(k1), r, "meeting");
	key(k2, sizeof(k2), r, "members");
	key(k3, sizeof(k3), r, "owner");
	snprintf(ttl, sizeof(ttl), "%u", st.cfg->meeting_ttl_s);
	cmd("EXPIRE", 3, (const char *[]){ "EXPIRE", k1, ttl });
	cmd("EXPIRE", 3, (const char *[]){ "EXPIRE", k2, ttl });
	cmd("EXPIRE", 3, (const char *[]){ "EXPIRE", k3, ttl });
}

void sl_store_member_put(const struct sl_room *r, const struct sl_participant *p)
{
	char k[64];

	key(k, sizeof(k), r, "members");
	cmd("HSET members", 4, (const char *[]){ "HSET", k, p->id, p->name });
	expire(r);
}

void sl_store_member_del(const struct sl_room *r, const struct sl_participant *p)
{
	char k[64];

	key(k, sizeof(k), r, "members");
	cmd("HDEL members", 3, (const char *[]){ "HDEL", k, p->id });
}

void sl_store_meeting_state(const struct sl_room *r)
{
	char k[64];

	key(k, sizeof(k), r, "meeting");
	cmd("HSET meeting state", 6,
	    (const char *[]){ "HSET", k, "locked", r->locked ? "1" : "0", "lobby",
			      r->lobby_on ? "1" : "0" });
	if (r->pw_hash[0])
		cmd("HSET password", 4, (const char *[]){ "HSET", k, "password", r->pw_hash });
	else
		cmd("HDEL password", 3, (const char *[]){ "HDEL", k, "password" });
}

void sl_store_meeting_put(const struct sl_room *r)
{
	char k[64], w[8];

	key(k, sizeof(k), r, "meeting");
	snprintf(w, sizeof(w), "%u", r->worker);
	cmd("HSET meeting", 8,
	    (const char *[]){ "HSET", k, "id", r->meeting, "worker", w, "node", st.node });
	/* The owner key: normally claimed already (sl_store_claim); after a
	 * Redis restart it is written back, unless another node took it. */
	key(k, sizeof(k), r, "owner");
	cmd("SET owner", 4, (const char *[]){ "SET", k, st.node, "NX" });
	sl_store_meeting_state(r);
	for (const struct sl_participant *p = r->members; p; p = p->next)
		sl_store_member_put(r, p);
	expire(r);
}

void sl_store_meeting_del(const struct sl_room *r)
{
	char k1[64], k2[64], k3[64];

	key(k1, sizeof(k1), r, "meeting");
	key(k2, sizeof(k2), r, "members");
	key(k3, sizeof(k3), r, "owner");
	cmd("DEL meeting", 4, (const char *[]){ "DEL", k1, k2, k3 });
}

/* --- nodes: heartbeat, cache, placement, claims ---------------------------- */

static struct node_entry *node_find(const char *id)
{
	for (unsigned i = 0; i < st.n_nodes; i++)
		if (!strcmp(st.nodes[i].id, id))
			return &st.nodes[i];
	return NULL;
}

static void node_forget(const char *id)
{
	struct node_entry *e = node_find(id);

	if (e)
		*e = st.nodes[--st.n_nodes];
}

/* "0.250000" (a fraction, as the heartbeat writes it) -> 250000; anything
 * else -> 0, and never more than 1000000. */
static uint32_t busy_parse(const char *s)
{
	uint32_t ppm = 0, scale = 100000;

	if (s[0] == '1')
		return 1000000;
	if (s[0] != '0')
		return 0;
	if (s[1] == '.')
		for (s += 2; *s >= '0' && *s <= '9' && scale; s++, scale /= 10)
			ppm += (uint32_t)(*s - '0') * scale;
	return ppm;
}

/* Our dataplane's worker stats: keep the busiest worker's last-second figure. */
static void on_worker_stats(const void *msg, size_t len, void *arg)
{
	const struct sl_ctl_worker_stats *ws = msg;
	uint32_t max = 0;

	(void)arg;
	st.busy_asking = false;
	if (!ws || len < SL_CTL_WORKER_STATS_FIXED || ws->h.type != SL_CTL_WORKER_STATS)
		return; /* refused or lost: keep the last figure */
	for (uint32_t i = 0; i < ws->n && i < SL_CTL_MAX_WORKERS &&
			     SL_CTL_WORKER_STATS_FIXED + (i + 1) * sizeof(ws->w[0]) <= len;
	     i++)
		if (ws->w[i].busy_ppm > max)
			max = ws->w[i].busy_ppm;
	st.busy_ppm = max > 1000000 ? 1000000 : max;
}

double sl_store_busy(void)
{
	return st.busy_ppm / 1e6;
}

static void on_node(redisAsyncContext *ac, void *reply, void *arg)
{
	redisReply *r = reply;
	char *id = arg;
	struct node_entry *e;

	(void)ac;
	if (r && r->type == REDIS_REPLY_ERROR)
		sl_warn("redis refused HMGET node: %.*s", (int)r->len, r->str);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
		g_free(id);
		return;
	}
	if (r->element[0]->type != REDIS_REPLY_STRING) {
		/* Its heartbeat expired: the node is gone. */
		node_forget(id);
		cmd("SREM nodes", 3, (const char *[]){ "SREM", "sl:nodes", id });
		g_free(id);
		return;
	}
	e = node_find(id);
	if (!e && st.n_nodes < SL_STORE_NODES_MAX) {
		e = &st.nodes[st.n_nodes++];
		memset(e, 0, sizeof(*e));
		snprintf(e->id, sizeof(e->id), "%s", id);
	}
	if (e) {
		snprintf(e->url, sizeof(e->url), "%s", r->element[0]->str);
		e->participants = r->element[1]->type == REDIS_REPLY_STRING
					  ? (unsigned)strtoul(r->element[1]->str, NULL, 10)
					  : 0;
		e->draining = r->element[2]->type == REDIS_REPLY_STRING &&
			      strcmp(r->element[2]->str, "0");
		e->busy_ppm = r->element[3]->type == REDIS_REPLY_STRING
				      ? busy_parse(r->element[3]->str)
				      : 0;
		e->seen_ms = sl_now_ms();
	}
	g_free(id);
}

static void on_nodes(redisAsyncContext *ac, void *reply, void *arg)
{
	redisReply *r = reply;

	(void)ac;
	(void)arg;
	if (r && r->type == REDIS_REPLY_ERROR)
		sl_warn("redis refused SMEMBERS nodes: %.*s", (int)r->len, r->str);
	if (!r || r->type != REDIS_REPLY_ARRAY || !st.up)
		return;
	for (size_t i = 0; i < r->elements && i < 4 * SL_STORE_NODES_MAX; i++) {
		char k[64], *id;

		if (r->element[i]->type != REDIS_REPLY_STRING || r->element[i]->len > 32 ||
		    !strcmp(r->element[i]->str, st.node))
			continue;
		id = g_strdup(r->element[i]->str);
		snprintf(k, sizeof(k), "sl:node:%s", id);
		if (redisAsyncCommandArgv(st.ac, on_node, id, 6,
					  (const char *[]){ "HMGET", k, "url", "participants",
							    "draining", "busy" },
					  NULL) != REDIS_OK)
			g_free(id);
	}
}

/* Publish this node's load and read the others'. */
static gboolean beat_cb(gpointer arg)
{
	char k[64], ttl[16], parts[16], meetings[16], eps[16], busy[16];

	(void)arg;
	if (!st.busy_asking && sl_dpctl_up() &&
	    !sl_dpctl_request(SL_CTL_WORKER_STATS_GET, on_worker_stats, NULL))
		st.busy_asking = true; /* for the next heartbeat */
	if (!st.up)
		return G_SOURCE_CONTINUE;
	snprintf(k, sizeof(k), "sl:node:%s", st.node);
	snprintf(ttl, sizeof(ttl), "%u", st.cfg->node_ttl_s);
	snprintf(parts, sizeof(parts), "%u", sl_cp->n_participants);
	snprintf(meetings, sizeof(meetings), "%u", sl_cp->n_rooms);
	snprintf(eps, sizeof(eps), "%u", sl_cp->n_connected);
	snprintf(busy, sizeof(busy), "%u.%06u", st.busy_ppm / 1000000, st.busy_ppm % 1000000);
	cmd("HSET node", 16,
	    (const char *[]){ "HSET", k, "url", st.cfg->public_url, "participants", parts,
			      "meetings", meetings, "endpoints", eps, "draining",
			      st.draining ? "1" : "0", "drained", sl_store_drained() ? "1" : "0",
			      "busy", busy });
	cmd("EXPIRE node", 3, (const char *[]){ "EXPIRE", k, ttl });
	cmd("SADD nodes", 3, (const char *[]){ "SADD", "sl:nodes", st.node });
	if (redisAsyncCommandArgv(st.ac, on_nodes, NULL, 2,
				  (const char *[]){ "SMEMBERS", "sl:nodes" }, NULL) != REDIS_OK)
		sl_warn("redis: cannot queue SMEMBERS");
	return G_SOURCE_CONTINUE;
}

const char *sl_store_node_id(void)
{
	return st.node;
}

/* Where a new meeting goes. Each participant holds (or is about to hold) one
 * dataplane endpoint, and a worker's busy fraction says how much more its
 * core can take. Candidates: the live, non-draining nodes with a public URL
 * whose busiest worker is under --placement-busy; the best is the one with
 * the fewest participants (ties: the smaller id). It gets the meeting when
 * this node's busiest worker is at or over --placement-busy, or when it has
 * clearly fewer participants than this one (by --placement-margin and by
 * 20% of ours); else the meeting stays here.
 * While this node drains, the best candidate whatever the margin (NULL:
 * none). */
static const struct node_entry *place(void)
{
	const struct node_entry *best = NULL;
	uint64_t now = sl_now_ms(), ttl = (uint64_t)st.cfg->node_ttl_s * 1000;
	unsigned self = sl_cp->n_participants, margin = st.cfg->placement_margin;
	uint32_t full = st.cfg->placement_busy * 10000; /* percent -> ppm */

	if (self / 5 > margin)
		margin = self / 5;
	for (unsigned i = 0; i < st.n_nodes; i++) {
		const struct node_entry *e = &st.nodes[i];

		if (!e->url[0] || e->draining || sl_time_over(now, e->seen_ms, ttl) ||
		    e->busy_ppm >= full)
			continue;
		if (!best || e->participants < best->participants ||
		    (e->participants == best->participants && strcmp(e->id, best->id) < 0))
			best = e;
	}
	if (best && (st.draining || st.busy_ppm >= full || best->participants + margin <= self))
		return best;
	return NULL;
}

struct sl_store_claim {
	sl_store_claim_cb cb; /* NULL once cancelled */
	void *user;
	char owner[33];
	char key[64];    /* sl:{T}:owner */
	bool probe;      /* a GET, not a SET NX: draining, no node to place it on */
	char target[33]; /* take-over: the new owner (this node, or one placed while draining) */
	char target_url[256];
};

/* Compare-and-set: the owner key passes from a gone owner to this node. */
static const char take_over[] =
	"if redis.call('GET', KEYS[1]) == ARGV[1] then "
	"redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end return 0";

/* Who holds it, for a draining node: an EVAL, so that the commands a node
 * sends for meetings stay those of docs/operators.md, "Redis ACL". */
static const char probe[] = "return redis.call('GET', KEYS[1])";

static void claim_finish(struct sl_store_claim *cl, enum sl_store_claim_result res, const char *url)
{
	if (cl->cb)
		cl->cb(cl->user, res, url);
	g_free(cl);
}

static void on_take_over(redisAsyncContext *ac, void *reply, void *arg)
{
	redisReply *r = reply;
	struct sl_store_claim *cl = arg;

	(void)ac;
	if (r && r->type == REDIS_REPLY_ERROR)
		sl_warn("redis refused EVAL owner: %.*s", (int)r->len, r->str);
	if (!r || r->type != REDIS_REPLY_INTEGER || r->integer != 1)
		claim_finish(cl, SL_CLAIM_UNAVAILABLE, NULL);
	else if (strcmp(cl->target, st.node))
		claim_finish(cl, SL_CLAIM_OTHER, cl->target_url);
	else
		claim_finish(cl, SL_CLAIM_MINE, NULL);
}

static void on_owner_url(redisAsyncContext *ac, void *reply, void *arg)
{
	redisReply *r = reply;
	struct sl_store_claim *cl = arg;
	char ttl[16];

	(void)ac;
	if (!r) {
		claim_finish(cl, SL_CLAIM_UNAVAILABLE, NULL);
		return;
	}
	/* No heartbeat: the owner is gone. Our own URL: a previous run of this
	 * node under another id. Either way the meeting is taken over here. */
	if (r->type == REDIS_REPLY_NIL || (r->type == REDIS_REPLY_STRING && st.cfg->public_url[0] &&
					   !strcmp(r->str, st.cfg->public_url))) {
		/* Draining: taken over for another node, as a new meeting. */
		const struct node_entry *to = st.draining ? place() : NULL;

		if (st.draining && !to) {
			claim_finish(cl, SL_CLAIM_DRAINING, NULL);
			return;
		}
		snprintf(cl->target, sizeof(cl->target), "%s", to ? to->id : st.node);
		snprintf(cl->target_url, sizeof(cl->target_url), "%s", to ? to->url : "");
		snprintf(ttl, sizeof(ttl), "%u", to ? st.cfg->node_ttl_s : st.cfg->meeting_ttl_s);
		if (!st.up ||
		    redisAsyncCommandArgv(st.ac, on_take_over, cl, 7,
					  (const char *[]){ "EVAL", take_over, "1", cl->key,
							    cl->owner, cl->target, ttl },
					  NULL) != REDIS_OK)
			claim_finish(cl, SL_CLAIM_UNAVAILABLE, NULL);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR)
		sl_warn("redis refused HGET node: %.*s", (int)r->len, r->str);
	else if (r->type != REDIS_REPLY_STRING || !r->len)
		sl_warn("meeting owned by node %s, which has no --public-url: join refused",
			cl->owner);
	if (r->type != REDIS_REPLY_STRING || !r->len) {
		claim_finish(cl, SL_CLAIM_UNAVAILABLE, NULL);
		return;
	}
	claim_finish(cl, SL_CLAIM_OTHER, r->str);
}

static void on_claim(redisAsyncContext *ac, void *reply, void *arg)
{
	redisReply *r = reply;
	struct sl_store_claim *cl = arg;
	char k[64];

	(void)ac;
	if (!r || (r->type != REDIS_REPLY_NIL && r->type != REDIS_REPLY_STRING) ||
	    (r->type == REDIS_REPLY_STRING && r->len > 32)) {
		if (r && r->type == REDIS_REPLY_ERROR)
			sl_warn("redis refused SET owner: %.*s", (int)r->len, r->str);
		claim_finish(cl, SL_CLAIM_UNAVAILABLE, NULL);
		return;
	}
	/* nil: our SET took, cl->owner is the owner now; else the one before.
	 * A probe's nil: nobody holds it, and this node takes no new meeting. */
	if (r->type == REDIS_REPLY_NIL && cl->probe) {
		claim_finish(cl, SL_CLAIM_DRAINING, NULL);
		return;
	}
	if (r->type == REDIS_REPLY_STRING)
		snprintf(cl->owner, sizeof(cl->owner), "%s", r->str);
	if (!strcmp(cl->owner, st.node)) {
		claim_finish(cl, SL_CLAIM_MINE, NULL);
		return;
	}
	snprintf(k, sizeof(k), "sl:node:%s", cl->owner);
	if (!st.up || redisAsyncCommandArgv(st.ac, on_owner_url, cl, 3,
					    (const char *[]){ "HGET", k, "url" }, NULL) != REDIS_OK)
		claim_finish(cl, SL_CLAIM_UNAVAILABLE, NULL);
}

struct sl_store_claim *sl_store_claim(const char *tag, sl_store_claim_cb cb, void *user)
{
	struct sl_store_claim *cl;
	const struct node_entry *to;
	char k[64], ttl[16];

	if (!st.up)
		return NULL;
	cl = g_new0(struct sl_store_claim, 1);
	cl->cb = cb;
	cl->user = user;
	to = place();
	snprintf(cl->owner, sizeof(cl->owner), "%s", to ? to->id : st.node);
	snprintf(k, sizeof(k), "sl:{%s}:owner", tag);
	snprintf(cl->key, sizeof(cl->key), "%s", k);
	/* Claimed for another node: only --node-ttl, so that a node that dies
	 * before the redirected join reaches it does not hold the meeting for
	 * long; the join there renews it with the meeting's keys. */
	snprintf(ttl, sizeof(ttl), "%u", to ? st.cfg->node_ttl_s : st.cfg->meeting_ttl_s);
	/* Draining with nowhere to place it: only ask who holds it. */
	cl->probe = st.draining && !to;
	if (cl->probe ? redisAsyncCommandArgv(st.ac, on_claim, cl, 4,
					      (const char *[]){ "EVAL", probe, "1", k },
					      NULL) != REDIS_OK
		      : redisAsyncCommandArgv(
				st.ac, on_claim, cl, 7,
				(const char *[]){ "SET", k, cl->owner, "NX", "GET", "EX", ttl },
				NULL) != REDIS_OK) {
		g_free(cl);
		return NULL;
	}
	return cl;
}

void sl_store_claim_cancel(struct sl_store_claim *cl)
{
	if (cl)
		cl->cb = NULL;
}

void sl_store_drain(bool on)
{
	if (on != st.draining)
		sl_info("%s", on ? "draining: no new meeting is placed on this node"
				 : "undrained: this node takes new meetings again");
	st.draining = on;
	if (!on)
		st.drained_said = false;
	sl_store_drained_check();
	beat_cb(NULL); /* tell the other nodes now */
}

bool sl_store_draining(void)
{
	return st.draining;
}

bool sl_store_drained(void)
{
	return st.draining && !sl_cp->n_rooms;
}

void sl_store_drained_check(void)
{
	if (!sl_store_drained()) {
		st.drained_said = false;
		return;
	}
	if (st.drained_said)
		return;
	st.drained_said = true;
	sl_info("drained: no meeting left, the node can be stopped");
	sl_notify_status("drained");
	beat_cb(NULL);
}

unsigned sl_store_peers(const char **ids, unsigned max)
{
	uint64_t now = sl_now_ms(), ttl = (uint64_t)st.cfg->node_ttl_s * 1000;
	unsigned n = 0;

	for (unsigned i = 0; i < st.n_nodes && n < max; i++)
		if (!sl_time_over(now, st.nodes[i].seen_ms, ttl))
			ids[n++] = st.nodes[i].id;
	return n;
}

unsigned sl_store_generation(void)
{
	return st.generation;
}

struct cmd_cb {
	sl_store_reply_cb cb;
	void *user;
};

static void on_cmd_reply(redisAsyncContext *ac, void *reply, void *arg)
{
	struct cmd_cb *c = arg;

	(void)ac;
	c->cb(c->user, reply);
	g_free(c);
}

int sl_store_command(sl_store_reply_cb cb, void *user, int argc, const char **argv,
		     const size_t *lens)
{
	struct cmd_cb *c;

	if (!st.up || !st.ac)
		return -ENOTCONN;
	c = g_new(struct cmd_cb, 1);
	c->cb = cb;
	c->user = user;
	if (redisAsyncCommandArgv(st.ac, on_cmd_reply, c, argc, argv, lens) != REDIS_OK) {
		g_free(c);
		return -EIO;
	}
	return 0;
}

static gboolean refresh_cb(gpointer arg)
{
	(void)arg;
	for (const struct sl_room *r = sl_cp->rooms; r; r = r->next)
		expire(r);
	return G_SOURCE_CONTINUE;
}

static void now_up(void)
{
	st.up = true;
	st.generation++;
	st.auth_warned = false;
	sl_info("redis connected; rewriting %u meetings", sl_cp->n_rooms);
	for (const struct sl_room *r = sl_cp->rooms; r; r = r->next)
		sl_store_meeting_put(r);
	beat_cb(NULL);
}

/* The answer to the connection's first command: AUTH, or PING without a
 * password (so that a Redis that wants AUTH is not taken for up). */
static void on_first(redisAsyncContext *ac, void *reply, void *arg)
{
	redisReply *r = reply;

	(void)arg;
	if (!r)
		return; /* disconnected meanwhile: on_disconnect retries */
	if (r->type == REDIS_REPLY_STATUS && (!strcmp(r->str, "OK") || !strcmp(r->str, "PONG"))) {
		now_up();
		return;
	}
	if (!st.auth_warned)
		sl_err("redis refused %s (check --redis-user and --redis-password-file): %.*s; "
		       "retrying every second",
		       st.password[0] ? "AUTH" : "PING",
		       r->type == REDIS_REPLY_ERROR ? (int)r->len : 0,
		       r->type == REDIS_REPLY_ERROR ? r->str : "");
	st.auth_warned = true;
	redisAsyncDisconnect(ac); /* on_disconnect schedules the retry */
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	const char *argv[3] = { "PING" };
	int argc = 1;

	if (status != REDIS_OK) {
		sl_warn("redis: connection failed; retrying");
		st.ac = NULL; /* hiredis frees it after this callback */
		drop_source();
		schedule_retry();
		return;
	}
	if (st.password[0]) {
		argv[0] = "AUTH";
		if (st.cfg->redis_user[0])
			argv[argc++] = st.cfg->redis_user;
		argv[argc++] = st.password;
	}
	if (redisAsyncCommandArgv((redisAsyncContext *)ac, on_first, NULL, argc, argv, NULL) !=
	    REDIS_OK)
		sl_warn("redis: cannot queue %s", argv[0]);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	(void)ac;
	(void)status;
	if (st.stopping)
		return;
	if (st.up)
		sl_err("redis connection lost: joins are refused until it is back");
	st.up = false;
	st.ac = NULL;
	drop_source();
	schedule_retry();
}

static void connect_now(void)
{
	if (st.ac)
		return;
	st.ac = st.sock[0] ? redisAsyncConnectUnix(st.sock) : redisAsyncConnect(st.host, st.port);
	if (!st.ac || st.ac->err) {
		if (st.ac)
			redisAsyncFree(st.ac);
		st.ac = NULL;
		schedule_retry();
		return;
	}
	/* The adapter first: setting the connect callback arms the write
	 * event that reports the connection, through the adapter's hooks. */
	st.src = redis_source_new(st.ac);
	g_source_attach(st.src, NULL);
	redisAsyncSetConnectCallback(st.ac, on_connect);
	redisAsyncSetDisconnectCallback(st.ac, on_disconnect);
}

static void spawn_embedded(void);

static void on_child_exit(GPid pid, gint status, gpointer arg)
{
	(void)arg;
	(void)status;
	g_spawn_close_pid(pid);
	st.child = 0;
	st.child_watch = 0;
	sl_err("embedded redis-server exited; restarting it");
	spawn_embedded();
}

static void spawn_embedded(void)
{
	pid_t pid;

	unlink(st.sock);
	pid = fork();
	if (pid < 0) {
		sl_err("cannot start redis-server: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		execlp(st.cfg->redis_server, st.cfg->redis_server, "--port", "0", "--unixsocket",
		       st.sock, "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
		       "--loglevel", "warning", "--dir", st.cfg->state_dir, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", st.cfg->redis_server, strerror(errno));
		_exit(127);
	}
	st.child = pid;
	st.child_watch = g_child_watch_add(pid, on_child_exit, NULL);
}

int sl_store_start(const struct sl_cp_config *cfg, char *err, size_t n)
{
	st.cfg = cfg;
	if (cfg->node_id[0])
		snprintf(st.node, sizeof(st.node), "%s", cfg->node_id);
	else
		sl_random_hex(st.node, SL_ID_LEN / 2);
	if ((cfg->redis_user[0] || cfg->redis_password_file[0]) && !cfg->redis[0]) {
		snprintf(err, n,
			 "--redis-user and --redis-password-file are for an external Redis "
			 "(--redis)");
		return -EINVAL;
	}
	if (cfg->redis_user[0] && !cfg->redis_password_file[0]) {
		snprintf(err, n, "--redis-user: give the password with --redis-password-file");
		return -EINVAL;
	}
	if (cfg->redis_password_file[0] &&
	    sl_redis_password_load(cfg->redis_password_file, st.password, err, n))
		return -EINVAL;
	if (cfg->redis[0]) {
		struct sl_redis_addr a;

		if (sl_redis_addr_parse(cfg->redis, &a, err, n))
			return -EINVAL;
		_Static_assert(sizeof(st.sock) == sizeof(a.sock) &&
				       sizeof(st.host) == sizeof(a.host),
			       "redis address sizes");
		memcpy(st.sock, a.sock, sizeof(st.sock));
		memcpy(st.host, a.host, sizeof(st.host));
		st.port = a.port;
	} else {
		if (snprintf(st.sock, sizeof(st.sock), "%s/redis.sock", cfg->state_dir) >=
			    (int)sizeof(st.sock) ||
		    strlen(st.sock) >= 108) {
			snprintf(err, n, "--state-dir is too long for a Unix socket path");
			return -EINVAL;
		}
		st.embedded = true;
		spawn_embedded();
		for (int i = 0; i < 50 && access(st.sock, F_OK); i++)
			g_usleep(100000);
	}
	connect_now();
	st.refresh = g_timeout_add_seconds(cfg->meeting_ttl_s / 3, refresh_cb, NULL);
	st.beat = g_timeout_add_seconds(cfg->node_ttl_s / 3, beat_cb, NULL);
	sl_info("node %s%s%s", st.node, cfg->public_url[0] ? " at " : " (no --public-url)",
		cfg->public_url);
	return 0;
}

bool sl_store_up(void)
{
	return st.up;
}

void sl_store_stop(void)
{
	st.stopping = true;
	if (st.retry)
		g_source_remove(st.retry);
	if (st.refresh)
		g_source_remove(st.refresh);
	if (st.beat)
		g_source_remove(st.beat);
	st.retry = st.refresh = st.beat = 0;
	if (st.ac) {
		redisAsyncContext *ac = st.ac;

		st.stopping = true;
		st.ac = NULL;
		st.up = false;
		redisAsyncFree(ac);
	}
	drop_source();
	if (st.child) {
		if (st.child_watch)
			g_source_remove(st.child_watch);
		kill(st.child, SIGTERM);
		waitpid(st.child, NULL, 0);
		st.child = 0;
		unlink(st.sock);
	}
	explicit_bzero(st.password, sizeof(st.password));
}
