/*
 * store.h - meeting state in Redis (hiredis, async on the main loop).
 *
 * Keys of a meeting share the hash tag {T}, T = hex of the first 16 bytes
 * of HMAC-SHA256(deployment secret, room name): the room name itself is
 * never stored. Per meeting:
 *   sl:{T}:meeting  hash: id (random meeting id), worker, node, locked and
 *                   lobby ("0"/"1"), password (the argon2id hash, only
 *                   while one is set)
 *   sl:{T}:members  hash: participant id -> display name
 *   sl:{T}:owner    string: the id of the node that holds the meeting
 * Per node (docs/operators.md, "Several nodes"):
 *   sl:node:ID      hash: url (--public-url), participants, meetings,
 *                   endpoints, draining and drained ("0"/"1"), busy (the
 *                   busiest worker's busy fraction, "0.250000"); TTL --node-ttl
 *   sl:nodes        set of node ids (pruned when their hash expired)
 * Both carry a TTL (--meeting-ttl) refreshed every TTL/3 while the meeting
 * lives, so keys of a killed node expire; the last leave deletes both in
 * one DEL. No addresses, e-mails, tokens or passwords are ever written.
 *
 * This node's memory is the authority for its meetings: writes are fire
 * and forget (failures are logged), and every (re)connection rewrites all
 * of them. Joins are refused while the store is down (sl_store_up).
 */
#ifndef SLUICE_CP_STORE_H
#define SLUICE_CP_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "cp.h"

/* Connect to cfg->redis, or start an embedded redis-server on a Unix
 * socket in the state directory when it is empty. Reconnects (and restarts
 * the embedded server) in the background. Returns 0, or -errno with err
 * set when the configuration itself is unusable. */
int sl_store_start(const struct sl_cp_config *cfg, char *err, size_t n);
void sl_store_stop(void);
bool sl_store_up(void);

void sl_store_meeting_put(const struct sl_room *r); /* meeting and all members */
void sl_store_member_put(const struct sl_room *r, const struct sl_participant *p);
void sl_store_member_del(const struct sl_room *r, const struct sl_participant *p);
void sl_store_meeting_del(const struct sl_room *r); /* every key, one DEL */
/* locked, lobby and the password hash (HDEL when there is none). */
void sl_store_meeting_state(const struct sl_room *r);

#define SL_STORE_NODES_MAX 64 /* other nodes remembered for placement */

const char *sl_store_node_id(void);
/* This node's busiest dataplane worker's busy fraction (0..1), as of the
 * last heartbeat (asked of the dataplane then, answered by the next). */
double sl_store_busy(void);

enum sl_store_claim_result {
	SL_CLAIM_MINE,        /* this node owns the meeting: create or join it here */
	SL_CLAIM_OTHER,       /* another node does: url is its --public-url */
	SL_CLAIM_UNAVAILABLE, /* Redis failed, or the owner has no --public-url */
	SL_CLAIM_DRAINING,    /* nobody holds it, this node drains and no other can take it */
};
typedef void (*sl_store_claim_cb)(void *user, enum sl_store_claim_result res, const char *url);
struct sl_store_claim;

/* Find or claim the owner of the meeting with hash tag `tag` (one SET NX
 * GET; then HGET of the owner's URL). A meeting nobody owns is claimed for
 * the least-loaded node (maybe another one); one whose owner is gone (no
 * heartbeat) or is this node under an earlier id (same --public-url) is
 * taken over with a compare-and-set EVAL. cb runs once, later, unless
 * cancelled first. NULL (and no callback) when the store is down. */
struct sl_store_claim *sl_store_claim(const char *tag, sl_store_claim_cb cb, void *user);
void sl_store_claim_cancel(struct sl_store_claim *cl);

/* Drain (docs/operators.md, "Drain"): while on, a meeting nobody holds is
 * placed on the least-loaded other live node whatever the margin, or
 * refused (SL_CLAIM_DRAINING). The heartbeat says so at once. */
void sl_store_drain(bool on);
bool sl_store_draining(void);
/* Draining and no meeting left. The first time it becomes true the node
 * logs it and tells systemd; call after a meeting ended (cheap). */
bool sl_store_drained(void);
void sl_store_drained_check(void);

/* Up to max ids of the other live nodes (heartbeat younger than --node-ttl). */
unsigned sl_store_peers(const char **ids, unsigned max);
/* Counts up on every connection to Redis that came up. */
unsigned sl_store_generation(void);

struct redisReply;
/* cb(user, reply): reply NULL when the connection went away first. */
typedef void (*sl_store_reply_cb)(void *user, struct redisReply *reply);
/* Queue one command (argv with lengths: binary-safe) on the store's
 * connection. 0, or -ENOTCONN (down: cb is not called) or -EIO. */
int sl_store_command(sl_store_reply_cb cb, void *user, int argc, const char **argv,
		     const size_t *lens);

#endif
