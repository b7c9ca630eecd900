/*
 * entry.c - entry control: the join decision, the lobby, roles and the
 * moderation messages (see entry.h; docs/signalling.md, "Entry control").
 *
 * A join is decided by one function, decide(), in the documented order
 * (token, new meeting and weak name, lock, password, lobby). The only
 * asynchronous step is the password check on the argon2 pool: the join
 * waits as a struct sl_entry_pending, and when the answer comes back
 * decide() runs again from the start with the hash it was checked
 * against, so a meeting that ended, was locked or changed its password
 * meanwhile is judged as it is now. Only one check per (meeting, source
 * address) runs at a time, and wrong ones back off (password.c).
 * A join of a meeting this node does not hold first asks Redis who owns it
 * (sl_store_claim, the same struct sl_entry_pending): when this node does
 * (it may have just claimed it), decide() runs; when another node does, the
 * client gets `redirect` with that node's URL.
 *
 * Every moderation message passes sl_signal_right() against the sender's
 * role first; only then is its target looked up, so a participant learns
 * nothing from a refused message.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "chat.h"
#include "p2p.h"
#include "clock.h"
#include "dpctl.h"
#include "entry.h"
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "offload.h"
#include "room.h"
#include "speaker.h"
#include "store.h"
#include "rate.h"
#include "throttle.h"

#define SCREEN_RATE  20 /* screenshare changes a minute per participant */
#define SCREEN_BURST 6

struct sl_lobby_entry {
	struct sl_room *room;
	struct sl_lobby_entry *next;
	struct sl_client *client;
	char id[SL_ID_LEN + 1];
	char name[65];
	bool guest; /* --guests wait: only a moderator lets it in */
	uint64_t since_ms;
};

/* What a join asked for, kept while its password is checked. */
struct join_req {
	uint8_t key[32]; /* the room name's HMAC */
	char room[129];  /* for the weak-name check if the meeting must be created */
	char name[65];
	char password[SL_PASSWORD_MAX + 1];
	size_t password_len;
	bool has_token, token_moderator;
	bool name_checked; /* the weak-name check passed before the owner look-up */
};

struct sl_entry_pending {
	struct sl_client *client;
	struct sl_password_job *job;
	struct sl_store_claim *claim; /* the owner look-up in flight */
	bool owner_lookup;            /* else a password check */
	struct join_req req;
	char hash[SL_PASSWORD_HASH_MAX]; /* what the password is checked against */
	uint8_t guard[SL_PASSWORD_KEY];
};

static void refuse_throttled(struct sl_client *c, unsigned retry_after, const char *message)
{
	sl_cp->n_join_throttled++;
	sl_metrics_join_refused("throttled");
	sl_signal_throttled(c, retry_after, message);
}

static void refuse(struct sl_client *c, const char *code, const char *message)
{
	sl_cp->n_join_refused++;
	sl_metrics_join_refused(code);
	sl_signal_error(c, code, message, false);
}

/* Seconds until the oldest pending join of r (NULL: of the server) times out. */
static unsigned pending_wait(const struct sl_room *r, uint64_t now)
{
	uint64_t hs = (uint64_t)sl_cp->cfg.handshake_timeout_s * 1000, best = hs;

	for (const struct sl_room *q = r ? r : sl_cp->rooms; q; q = r ? NULL : q->next)
		for (const struct sl_participant *p = q->members; p; p = p->next) {
			uint64_t since = sl_time_since(now, p->joined_ms);

			if (!p->connected && hs - (since < hs ? since : hs) < best)
				best = hs - (since < hs ? since : hs);
		}
	return (unsigned)(best / 1000 + 1);
}

/* Tokens per source address and per room name: taken by every join. */
static bool join_throttles(struct sl_client *c, const uint8_t key[32])
{
	uint64_t now = sl_now_ms();
	unsigned wait;

	if (c->has_src && (wait = sl_throttle_take(sl_cp->join_by_src, c->src_key, now))) {
		refuse_throttled(c, wait, "too many joins from this address; try again later");
		return false;
	}
	if ((wait = sl_throttle_take(sl_cp->join_by_room, key, now))) {
		refuse_throttled(c, wait, "too many joins of this meeting; try again later");
		return false;
	}
	return true;
}

/* Joins still in their handshake, per meeting and in all: checked when a
 * join is about to hold dataplane resources. */
static bool pending_caps(struct sl_client *c, const struct sl_room *r)
{
	uint64_t now = sl_now_ms();

	if (r && r->n_members - r->n_connected >= sl_cp->cfg.pending_room_max) {
		refuse_throttled(c, pending_wait(r, now),
				 "too many joins of this meeting in progress; try again later");
		return false;
	}
	if (sl_cp->n_participants - sl_cp->n_connected >= sl_cp->cfg.pending_max) {
		refuse_throttled(c, pending_wait(NULL, now),
				 "too many joins in progress; try again later");
		return false;
	}
	return true;
}

/*
 * check_name: libzxcvbn costs up to several milliseconds for a long
 * repetitive name, so the score is computed on a worker thread (one, in
 * order: a client's answers come back in the order it asked). A client
 * waits for at most SL_CLIENT_NAME_CHECKS answers, the server for
 * NAME_CHECKS_MAX; beyond either the answer is `throttled`.
 */
#define NAME_CHECKS_MAX 64

struct sl_name_check {
	struct sl_offload_job base; /* first */
	struct sl_client *client;   /* NULL once it went away */
	char room[129];
	unsigned min_bits;
	struct sl_names_score score;
};

static void name_work(struct sl_offload_job *b)
{
	struct sl_name_check *k = (struct sl_name_check *)b;

	sl_names_score(k->room, k->min_bits, &k->score);
	explicit_bzero(k->room, sizeof(k->room));
}

static void name_forget(struct sl_name_check *k)
{
	struct sl_client *c = k->client;

	for (int i = 0; c && i < SL_CLIENT_NAME_CHECKS; i++)
		if (c->checks[i] == k)
			c->checks[i] = NULL;
	k->client = NULL;
}

static void name_deliver(struct sl_offload_job *b)
{
	struct sl_name_check *k = (struct sl_name_check *)b;
	struct sl_client *c = k->client;
	json_t *reasons = json_array();

	name_forget(k);
	for (unsigned i = 0; i < k->score.n_reasons; i++)
		json_array_append_new(reasons, json_string(k->score.reasons[i]));
	sl_signal_send(c, json_pack("{s:s, s:f, s:b, s:o}", "type", "name_strength", "bits",
				    (double)(long)(k->score.bits * 10) / 10, "weak", k->score.weak,
				    "reasons", reasons));
}

static void name_release(struct sl_offload_job *b)
{
	struct sl_name_check *k = (struct sl_name_check *)b;

	name_forget(k);
	explicit_bzero(k, sizeof(*k));
	g_free(k);
}

void sl_entry_check_name(struct sl_client *c, const char *room)
{
	struct sl_name_check *k;
	unsigned wait;
	int slot = -1;

	if (c->has_src && (wait = sl_throttle_take(sl_cp->check_by_src, c->src_key, sl_now_ms()))) {
		sl_signal_throttled(c, wait,
				    "too many name checks from this address; try again later");
		return;
	}
	for (int i = 0; i < SL_CLIENT_NAME_CHECKS && slot < 0; i++)
		if (!c->checks[i])
			slot = i;
	if (slot < 0 || sl_offload_live(sl_cp->name_pool) >= NAME_CHECKS_MAX) {
		sl_signal_throttled(c, 1, "name checks are busy; try again");
		return;
	}
	sl_cp->n_check_name++;
	k = g_new0(struct sl_name_check, 1);
	k->base.work = name_work;
	k->base.deliver = name_deliver;
	k->base.release = name_release;
	k->client = c;
	snprintf(k->room, sizeof(k->room), "%s", room);
	k->min_bits = sl_cp->cfg.min_room_name_bits;
	c->checks[slot] = k;
	sl_offload_push(sl_cp->name_pool, &k->base);
}

/* --- the lobby --------------------------------------------------------- */

static void lobby_update(const struct sl_room *r, const struct sl_participant *only)
{
	json_t *a = json_array(), *msg;

	for (const struct sl_lobby_entry *e = r->lobby; e; e = e->next)
		json_array_append_new(a, json_pack("{s:s, s:s}", "id", e->id, "name", e->name));
	msg = json_pack("{s:s, s:o}", "type", "lobby_update", "waiting", a);
	for (const struct sl_participant *p = r->members; p; p = p->next)
		if (p->client && p->moderator && (!only || p == only))
			sl_signal_send(p->client, json_incref(msg));
	json_decref(msg);
}

static void lobby_unlink(struct sl_lobby_entry *e)
{
	struct sl_room *r = e->room;
	struct sl_lobby_entry **pp = &r->lobby;

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	r->n_lobby--;
	if (e->client)
		e->client->lobby = NULL;
	explicit_bzero(e, sizeof(*e));
	g_free(e);
}

/* Turn e away with msg (stolen) and close its connection. */
static void lobby_turn_away(struct sl_lobby_entry *e, json_t *msg)
{
	struct sl_client *c = e->client;

	if (c) {
		sl_signal_send(c, msg);
		c->left = true;
		if (c->ws)
			sl_ws_close(c->ws);
	} else {
		json_decref(msg);
	}
	lobby_unlink(e);
}

static void lobby_add(struct sl_client *c, struct sl_room *r, const char *name, bool guest)
{
	struct sl_lobby_entry *e, **tail = &r->lobby;

	if (r->n_lobby >= sl_cp->cfg.lobby_max) {
		refuse(c, "room_full", "the lobby is full; try again later");
		return;
	}
	e = g_new0(struct sl_lobby_entry, 1);
	e->room = r;
	e->client = c;
	sl_random_hex(e->id, SL_ID_LEN / 2);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->guest = guest;
	e->since_ms = sl_now_ms();
	while (*tail)
		tail = &(*tail)->next;
	*tail = e;
	r->n_lobby++;
	c->lobby = e;
	sl_cp->n_lobby_waits++;
	sl_info("lobby entry %s waits in meeting %s (%u waiting)", e->id, r->meeting, r->n_lobby);
	sl_signal_send(c, json_pack("{s:s}", "type", "lobby_wait"));
	lobby_update(r, NULL);
}

/* A moderator lets e in. False (e stays) when the meeting is full. */
static bool lobby_admit(struct sl_lobby_entry *e)
{
	struct sl_room *r = e->room;
	struct sl_client *c = e->client;
	char name[65];

	if (r->n_connected >= sl_cp->cfg.room_max ||
	    sl_cp->n_connected >= sl_cp->info.max_endpoints)
		return false;
	snprintf(name, sizeof(name), "%s", e->name);
	sl_info("lobby entry %s admitted to meeting %s", e->id, r->meeting);
	lobby_unlink(e);
	if (sl_room_enter(c, r, name, sl_cp->cfg.moderators == SL_MOD_EVERYONE) &&
	    c->p->moderator && r->lobby)
		lobby_update(r, c->p);
	explicit_bzero(name, sizeof(name));
	return true;
}

void sl_entry_lobby_close(struct sl_room *r, json_t *msg)
{
	while (r->lobby)
		lobby_turn_away(r->lobby, json_incref(msg));
}

bool sl_entry_keep_room(struct sl_room *r)
{
	json_t *msg;

	if (!r->lobby)
		return false;
	/* Entries that wait for a moderator (token mode) may wait for one to
	 * come; otherwise nobody is left to admit them. */
	if (sl_cp->cfg.moderators == SL_MOD_TOKEN)
		return true;
	msg = json_pack("{s:s}", "type", "ended");
	sl_entry_lobby_close(r, msg);
	json_decref(msg);
	return false;
}

/* A meeting with neither members nor lobby entries ends. */
static void end_if_empty(struct sl_room *r)
{
	if (!r->members && !r->lobby)
		sl_room_end(r, json_pack("{s:s}", "type", "ended"), "empty");
}

/* --- roles --------------------------------------------------------------- */

static void set_moderator(struct sl_participant *p)
{
	struct sl_room *r = p->room;

	if (p->moderator)
		return;
	p->moderator = true;
	sl_info("participant %s is a moderator of meeting %s", p->id, r->meeting);
	for (struct sl_participant *q = r->members; q; q = q->next)
		if (q->client && (q->connected || q == p))
			sl_signal_send(q->client,
				       json_pack("{s:s, s:s, s:s}", "type", "role", "participant",
						 p->id, "role", "moderator"));
	if (r->lobby)
		lobby_update(r, p);
}

void sl_entry_member_left(struct sl_room *r)
{
	struct sl_participant *oldest = NULL;

	if (sl_cp->cfg.moderators != SL_MOD_FIRST)
		return;
	for (struct sl_participant *p = r->members; p; p = p->next) {
		if (p->moderator)
			return;
		if (!oldest || (p->connected && !oldest->connected) ||
		    (p->connected == oldest->connected && p->joined_ms < oldest->joined_ms))
			oldest = p;
	}
	if (oldest)
		set_moderator(oldest);
}

/* --- the join decision -------------------------------------------------- */

static void decide(struct sl_client *c, struct join_req *q, const char *verified);
static bool weak_name(struct sl_client *c, const struct join_req *q);

static void guard_key(const struct sl_room *r, const struct sl_client *c,
		      uint8_t out[SL_PASSWORD_KEY])
{
	uint8_t buf[sizeof(r->meeting) + 16], md[SHA256_DIGEST_LENGTH];

	memcpy(buf, r->meeting, sizeof(r->meeting));
	memset(buf + sizeof(r->meeting), 0, 16);
	if (c->has_src)
		memcpy(buf + sizeof(r->meeting), c->src_key, 16);
	SHA256(buf, sizeof(buf), md);
	memcpy(out, md, SL_PASSWORD_KEY);
}

static void pending_free(struct sl_entry_pending *pe)
{
	if (!pe->owner_lookup)
		g_hash_table_remove(sl_cp->pw_checking, pe->guard);
	if (pe->client)
		pe->client->pending = NULL;
	explicit_bzero(pe, sizeof(*pe));
	g_free(pe);
}

static void verify_done(void *user, bool ok, const char *hash)
{
	struct sl_entry_pending *pe = user;
	struct sl_client *c = pe->client;
	struct join_req q = pe->req;
	char checked[SL_PASSWORD_HASH_MAX];
	uint8_t guard[SL_PASSWORD_KEY];

	(void)hash;
	memcpy(checked, pe->hash, sizeof(checked));
	memcpy(guard, pe->guard, sizeof(guard));
	pe->job = NULL;
	pending_free(pe); /* first: decide() may start another check */
	if (!ok) {
		sl_password_guard_failed(sl_cp->pw_guard, guard, sl_now_ms());
		sl_cp->n_password_wrong++;
		refuse(c, "password_required", "this meeting needs its password");
	} else {
		sl_password_guard_passed(sl_cp->pw_guard, guard);
		decide(c, &q, checked);
	}
	explicit_bzero(&q, sizeof(q));
	explicit_bzero(checked, sizeof(checked));
}

/* Check q's password against r's, on the pool. */
static void verify_start(struct sl_client *c, struct join_req *q, const struct sl_room *r)
{
	struct sl_entry_pending *pe;
	uint8_t key[SL_PASSWORD_KEY];
	unsigned wait;

	guard_key(r, c, key);
	wait = sl_password_guard_check(sl_cp->pw_guard, key, sl_now_ms());
	if (wait) {
		refuse_throttled(c, wait, "too many wrong passwords; try again later");
		return;
	}
	if (g_hash_table_contains(sl_cp->pw_checking, key)) {
		refuse_throttled(c, 1, "a password from this address is being checked");
		return;
	}
	pe = g_new0(struct sl_entry_pending, 1);
	pe->client = c;
	pe->req = *q;
	memcpy(pe->guard, key, sizeof(key));
	snprintf(pe->hash, sizeof(pe->hash), "%s", r->pw_hash);
	pe->job = sl_password_verify(r->pw_hash, q->password, q->password_len, verify_done, pe);
	if (!pe->job) {
		explicit_bzero(pe, sizeof(*pe));
		g_free(pe);
		refuse_throttled(c, 1, "the server is busy checking passwords; try again");
		return;
	}
	g_hash_table_add(sl_cp->pw_checking, g_memdup2(key, sizeof(key)));
	c->pending = pe;
}

static void enter(struct sl_client *c, struct sl_room *r, const struct join_req *q, bool moderator)
{
	if (pending_caps(c, r) && sl_room_enter(c, r, q->name, moderator) && moderator && r->lobby)
		lobby_update(r, c->p);
	end_if_empty(r); /* refused: a meeting created for nobody goes */
}

static void decide(struct sl_client *c, struct join_req *q, const char *verified)
{
	const struct sl_cp_config *cfg = &sl_cp->cfg;
	bool guest = cfg->moderators == SL_MOD_TOKEN && !q->has_token;
	struct sl_room *r = sl_room_find(q->key);

	if (!r) {
		if (!q->name_checked && weak_name(c, q))
			return;
		r = sl_room_create(q->key);
		if (guest) {
			lobby_add(c, r, q->name, true);
			end_if_empty(r);
			return;
		}
		enter(c, r, q,
		      cfg->moderators == SL_MOD_TOKEN ? q->token_moderator
						      : true /* first and everyone */);
		return;
	}
	if (r->locked && !q->token_moderator) {
		refuse(c, "locked", "this meeting is locked");
		return;
	}
	if (q->token_moderator) {
		enter(c, r, q, true);
		return;
	}
	if (r->pw_hash[0]) {
		if (q->password_len) {
			if (verified && !CRYPTO_memcmp(verified, r->pw_hash, sizeof(r->pw_hash)))
				enter(c, r, q, cfg->moderators == SL_MOD_EVERYONE);
			else
				verify_start(c, q, r);
			return;
		}
		if (!r->lobby_on && !guest) {
			refuse(c, "password_required", "this meeting needs its password");
			return;
		}
	}
	if (r->lobby_on || guest) {
		lobby_add(c, r, q->name, guest);
		return;
	}
	enter(c, r, q, cfg->moderators == SL_MOD_EVERYONE);
}

static bool weak_name(struct sl_client *c, const struct join_req *q)
{
	struct sl_names_score sc;

	if (!sl_cp->cfg.min_room_name_bits)
		return false;
	sl_names_score(q->room, sl_cp->cfg.min_room_name_bits, &sc);
	if (sc.bits >= sl_cp->cfg.min_room_name_bits)
		return false;
	refuse(c, "weak_room_name", "this room name is too easy to guess; choose another");
	return true;
}

static void claim_done(void *user, enum sl_store_claim_result res, const char *url)
{
	struct sl_entry_pending *pe = user;
	struct sl_client *c = pe->client;
	struct join_req q = pe->req;

	pe->claim = NULL;
	pending_free(pe);
	if (res == SL_CLAIM_MINE && !sl_dpctl_up())
		res = SL_CLAIM_UNAVAILABLE; /* the dataplane went away meanwhile */
	if (res == SL_CLAIM_MINE) {
		q.name_checked = true;
		decide(c, &q, NULL);
	} else if (res == SL_CLAIM_OTHER) {
		sl_metrics_join_redirected();
		sl_signal_send(c, json_pack("{s:s, s:s}", "type", "redirect", "url", url));
	} else if (res == SL_CLAIM_DRAINING) {
		refuse(c, "draining", "this server is being drained and takes no new meeting");
	} else {
		refuse(c, "unavailable", "the server cannot take joins right now; try again");
	}
	explicit_bzero(&q, sizeof(q));
}

/* A meeting this node does not hold: who owns it? */
static void claim_start(struct sl_client *c, struct join_req *q)
{
	struct sl_entry_pending *pe;
	char tag[33];

	if (weak_name(c, q))
		return;
	for (int i = 0; i < 16; i++)
		snprintf(tag + 2 * i, 3, "%02x", q->key[i]);
	pe = g_new0(struct sl_entry_pending, 1);
	pe->client = c;
	pe->req = *q;
	pe->owner_lookup = true;
	pe->claim = sl_store_claim(tag, claim_done, pe);
	if (!pe->claim) {
		explicit_bzero(pe, sizeof(*pe));
		g_free(pe);
		refuse(c, "unavailable", "the server cannot take joins right now; try again");
		return;
	}
	c->pending = pe;
}

/* The token: verified, or the join refused. */
static bool take_token(struct sl_client *c, const struct sl_signal_msg *m, struct join_req *q)
{
	struct sl_jwt_claims cl;
	const char *why = "invalid token";

	if (!m->token) {
		if (sl_cp->cfg.moderators == SL_MOD_TOKEN && sl_cp->cfg.guests == SL_GUESTS_DENY) {
			refuse(c, "auth_required", "this server admits only users with a token");
			return false;
		}
		return true;
	}
	if (sl_cp->jwt.alg == SL_JWT_NONE) {
		sl_cp->n_bad_token++;
		refuse(c, "bad_token", "this server accepts no tokens");
		return false;
	}
	if (sl_jwt_verify(&sl_cp->jwt, m->token, m->room, (int64_t)time(NULL), &cl, &why)) {
		sl_cp->n_bad_token++;
		refuse(c, "bad_token", why);
		return false;
	}
	q->has_token = true;
	q->token_moderator = cl.moderator;
	if (cl.name[0])
		snprintf(q->name, sizeof(q->name), "%s", cl.name);
	explicit_bzero(&cl, sizeof(cl));
	return true;
}

void sl_entry_join(struct sl_client *c, const struct sl_signal_msg *m)
{
	struct join_req q;

	if (c->lobby || c->pending) {
		sl_signal_error(c, "already_joined", "a join is already in progress", false);
		return;
	}
	if (!sl_dpctl_up() || !sl_store_up()) {
		refuse(c, "unavailable", "the server cannot take joins right now; try again");
		return;
	}
	memset(&q, 0, sizeof(q));
	sl_room_key(sl_cp->secret, m->room, q.key);
	if (!join_throttles(c, q.key))
		goto out;
	snprintf(q.room, sizeof(q.room), "%s", m->room);
	snprintf(q.name, sizeof(q.name), "%s", m->name);
	if (m->password) {
		memcpy(q.password, m->password, m->password_len);
		q.password_len = m->password_len;
	}
	if (take_token(c, m, &q)) {
		if (sl_room_find(q.key))
			decide(c, &q, NULL);
		else
			claim_start(c, &q);
	}
out:
	explicit_bzero(&q, sizeof(q));
}

void sl_entry_client_gone(struct sl_client *c)
{
	for (int i = 0; i < SL_CLIENT_NAME_CHECKS; i++)
		if (c->checks[i]) {
			sl_offload_cancel(&c->checks[i]->base);
			name_forget(c->checks[i]);
		}
	if (c->pending) {
		struct sl_entry_pending *pe = c->pending;

		if (pe->claim)
			sl_store_claim_cancel(pe->claim);
		else if (pe->job)
			sl_password_cancel(pe->job);
		pending_free(pe);
	}
	if (c->lobby) {
		struct sl_room *r = c->lobby->room;

		sl_info("lobby entry %s left meeting %s", c->lobby->id, r->meeting);
		lobby_unlink(c->lobby);
		lobby_update(r, NULL);
		end_if_empty(r);
	}
}

void sl_entry_tick(uint64_t now)
{
	uint64_t limit = (uint64_t)sl_cp->cfg.lobby_timeout_s * 1000;

	for (struct sl_room *r = sl_cp->rooms, *rn; r; r = rn) {
		bool changed = false;

		rn = r->next;
		for (struct sl_lobby_entry *e = r->lobby, *en; e; e = en) {
			en = e->next;
			if (sl_time_over(now, e->since_ms, limit)) {
				lobby_turn_away(e, json_pack("{s:s, s:s}", "type", "denied",
							     "reason", "timeout"));
				changed = true;
			}
		}
		if (changed) {
			lobby_update(r, NULL);
			end_if_empty(r);
		}
	}
}

/* --- moderation ---------------------------------------------------------- */

static struct sl_participant *member(const struct sl_room *r, const char *id)
{
	for (struct sl_participant *p = r->members; p; p = p->next)
		if (!strcmp(p->id, id))
			return p;
	return NULL;
}

static struct sl_lobby_entry *waiting(const struct sl_room *r, const char *id)
{
	for (struct sl_lobby_entry *e = r->lobby; e; e = e->next)
		if (!strcmp(e->id, id))
			return e;
	return NULL;
}

static void state_changed(struct sl_room *r)
{
	json_t *st = sl_room_state_json(r);

	json_object_set_new(st, "type", json_string("meeting_state"));
	sl_store_meeting_state(r);
	sl_room_broadcast(r, st, false);
}

static void password_hashed(void *user, bool ok, const char *hash)
{
	struct sl_room *r = user;

	(void)ok;
	r->pw_job = NULL;
	if (!hash) {
		sl_err("meeting %s: the password could not be hashed", r->meeting);
		return;
	}
	snprintf(r->pw_hash, sizeof(r->pw_hash), "%s", hash);
	sl_info("meeting %s: password set", r->meeting);
	state_changed(r);
}

static void set_password(struct sl_participant *p, const struct sl_signal_msg *m)
{
	struct sl_room *r = p->room;

	if (r->pw_job) {
		sl_password_cancel(r->pw_job);
		r->pw_job = NULL;
	}
	if (!m->password) {
		bool had = r->pw_hash[0] != 0;

		explicit_bzero(r->pw_hash, sizeof(r->pw_hash));
		if (had) {
			sl_info("meeting %s: password removed", r->meeting);
			state_changed(r);
		}
		return;
	}
	r->pw_job = sl_password_hash(m->password, m->password_len, password_hashed, r);
	if (!r->pw_job)
		sl_signal_throttled(p->client, 1,
				    "the server is busy hashing passwords; try again");
}

/* The lobby was turned off: entries get in when nothing else guards the
 * meeting; guests (who wait for a moderator in any case) stay. */
static void lobby_opened(struct sl_room *r)
{
	for (struct sl_lobby_entry *e = r->lobby, *en; e; e = en) {
		en = e->next;
		if (e->guest)
			continue;
		if (r->locked)
			lobby_turn_away(
				e, json_pack("{s:s, s:s}", "type", "denied", "reason", "locked"));
		else if (r->pw_hash[0])
			lobby_turn_away(e, json_pack("{s:s, s:s}", "type", "denied", "reason",
						     "password_required"));
		else if (!lobby_admit(e))
			lobby_turn_away(e, json_pack("{s:s, s:s}", "type", "denied", "reason",
						     "room_full"));
	}
	lobby_update(r, NULL);
}

/* by: a member, or NULL for the operator (`by` is then "operator"). */
static void mute(struct sl_participant *by, struct sl_participant *t, uint8_t kind, bool muted)
{
	const char *by_id = by ? by->id : "operator";

	t->muted[kind] = muted;
	sl_room_send_mute(t, kind);
	sl_info("participant %s %s %s of %s", by_id, muted ? "muted" : "unmuted",
		kind == SL_SDP_KIND_AUDIO ? "audio" : "video", t->id);
	for (struct sl_participant *q = t->room->members; q; q = q->next)
		if (q->client && (q->connected || q == t || q == by))
			sl_signal_send(q->client,
				       json_pack("{s:s, s:s, s:s, s:s, s:b}", "type", "muted",
						 "participant", t->id, "kind",
						 kind == SL_SDP_KIND_AUDIO ? "audio" : "video",
						 "by", by_id, "muted", muted));
	if (muted && kind == SL_SDP_KIND_AUDIO)
		sl_speaker_gone(t); /* after `muted`: it is no longer the speaker */
}

void sl_entry_operator_mute(struct sl_participant *t, uint8_t kind)
{
	mute(NULL, t, kind, true);
}

static void kick(struct sl_participant *by, struct sl_participant *t)
{
	struct sl_client *c = t->client;

	sl_info("participant %s removed %s from meeting %s", by->id, t->id, t->room->meeting);
	if (c) {
		sl_signal_send(c, json_pack("{s:s, s:s}", "type", "kicked", "by", by->id));
		c->left = true;
		if (c->ws)
			sl_ws_close(c->ws);
	}
	sl_room_leave(t, "kicked");
}

/* admit, deny: the target is a lobby entry. */
static void lobby_decision(struct sl_participant *p, const struct sl_signal_msg *m)
{
	struct sl_room *r = p->room;
	struct sl_lobby_entry *e = waiting(r, m->participant);

	if (!e) {
		sl_signal_error(p->client, "no_participant", "nobody with that id is waiting",
				false);
		return;
	}
	if (m->type == SL_MSG_DENY) {
		sl_info("lobby entry %s denied by %s", e->id, p->id);
		lobby_turn_away(e, json_pack("{s:s, s:s}", "type", "denied", "reason", "denied"));
	} else if (!lobby_admit(e)) {
		sl_signal_error(p->client, "room_full", "no room for another participant", false);
		return;
	}
	lobby_update(r, NULL);
}

/* permissions.screenshare became "moderators": the others' screens stop.
 * The list is walked again after each stop (a stop broadcasts and
 * re-offers, but removes nobody). */
static void stop_screens(struct sl_room *r)
{
	for (struct sl_participant *q = r->members; q; q = q->next)
		if (q->sharing && !q->moderator)
			sl_room_screenshare(q, false);
}

/* screenshare: start or stop sharing a screen, if permissions allow. Each
 * change re-offers the whole meeting: at most SCREEN_RATE a minute. */
static void screenshare(struct sl_participant *p, bool on)
{
	unsigned retry;

	if (on && p->room->screenshare_moderators && !p->moderator) {
		sl_signal_error(p->client, "not_moderator",
				"only moderators may share a screen in this meeting", false);
		return;
	}
	if (p->sharing == on)
		return;
	retry = sl_rate_take(&p->screen_tat_ms, sl_rate_period(SCREEN_RATE), SCREEN_BURST,
			     sl_now_ms());
	if (retry) {
		sl_signal_throttled(p->client, retry, "screen sharing turned on and off too often");
		return;
	}
	if (sl_room_screenshare(p, on))
		sl_signal_error(p->client, "room_full", "no m= section left for a screen", false);
}

void sl_entry_message(struct sl_client *c, const struct sl_signal_msg *m)
{
	struct sl_participant *p = c->p, *t = NULL;
	struct sl_room *r = p->room;
	bool self = m->participant && !strcmp(m->participant, p->id);
	const char *no = sl_signal_right(m, p->moderator, self);

	if (no) {
		sl_signal_error(c, no,
				!strcmp(no, "not_moderator")
					? "only a moderator may do that"
					: "only a participant may unmute itself",
				false);
		return;
	}
	if (m->participant && m->type != SL_MSG_ADMIT && m->type != SL_MSG_DENY &&
	    !(t = member(r, m->participant))) {
		sl_signal_error(c, "no_participant", "nobody with that id is in this meeting",
				false);
		return;
	}
	switch (m->type) {
	case SL_MSG_SET_PASSWORD:
		set_password(p, m);
		break;
	case SL_MSG_LOCK:
		if (r->locked != m->flag) {
			r->locked = m->flag;
			sl_info("meeting %s %s", r->meeting, m->flag ? "locked" : "unlocked");
			state_changed(r);
		}
		break;
	case SL_MSG_LOBBY:
		if (r->lobby_on != m->flag) {
			r->lobby_on = m->flag;
			sl_info("meeting %s: lobby %s", r->meeting, m->flag ? "on" : "off");
			state_changed(r);
			if (!m->flag)
				lobby_opened(r);
		}
		break;
	case SL_MSG_ADMIT:
	case SL_MSG_DENY:
		lobby_decision(p, m);
		break;
	case SL_MSG_MUTE:
		mute(p, t, m->kind, m->flag);
		break;
	case SL_MSG_KICK:
		kick(p, t);
		break;
	case SL_MSG_GRANT_MODERATOR:
		set_moderator(t);
		break;
	case SL_MSG_CHAT:
		sl_chat_send(p, t, m);
		break;
	case SL_MSG_P2P:
		sl_p2p_relay(p, t, m);
		break;
	case SL_MSG_PERMISSIONS:
		if (m->perm_chat != SL_PERM_UNSET)
			r->chat_moderators = m->perm_chat == SL_PERM_MODERATORS;
		if (m->perm_screenshare != SL_PERM_UNSET)
			r->screenshare_moderators = m->perm_screenshare == SL_PERM_MODERATORS;
		state_changed(r);
		if (r->screenshare_moderators)
			stop_screens(r);
		break;
	case SL_MSG_SCREENSHARE:
		screenshare(p, m->flag);
		break;
	case SL_MSG_SPEAKER_STATS:
		sl_speaker_stats(p);
		break;
	case SL_MSG_END_MEETING:
		sl_info("meeting %s ended by %s", r->meeting, p->id);
		sl_room_end(r, json_pack("{s:s}", "type", "ended"), "ended");
		break;
	default:
		break;
	}
}
