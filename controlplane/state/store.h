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

#endif
