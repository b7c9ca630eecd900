/*
 * room.h - meetings and participants: join, offer/answer, subscriptions,
 * leave. Owns struct sl_room and struct sl_participant (cp.h).
 *
 * A meeting exists while it has members: the first join creates it with a
 * fresh random meeting id and dataplane room id, the last leave removes it
 * from the dataplane and Redis at once. Media wiring is reconciled rather
 * than patched: sl_room_sync compares what each participant should receive
 * with what its last offer and the dataplane have, re-offers when the
 * offer must change, and subscribes what is answered and installed.
 */
#ifndef SLUICE_CP_ROOM_H
#define SLUICE_CP_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cp.h"

struct sl_client;

/* The meeting of that key on this node, or NULL. */
struct sl_room *sl_room_find(const uint8_t key[32]);
/* A new meeting (no members yet), written to Redis. */
struct sl_room *sl_room_create(const uint8_t key[32]);
/* c becomes a member of r (entry.c decided it may): `joined` is sent and
 * offers follow. NULL when the meeting or the dataplane is full (the
 * client is told room_full). */
struct sl_participant *sl_room_enter(struct sl_client *c, struct sl_room *r,
				     const char *display_name, bool moderator);
/* Send msg (a fatal message: ended, an error) to every lobby entry and
 * member, close their connections and remove the meeting at once: every
 * endpoint, key and Redis key. Steals msg. r is freed. */
void sl_room_end(struct sl_room *r, json_t *msg, const char *why);
/* Send msg to every member with a connection (only those past their
 * handshake when connected_only). Steals msg. */
void sl_room_broadcast(const struct sl_room *r, json_t *msg, bool connected_only);
/* {"locked", "lobby", "password"} of r (new reference). */
json_t *sl_room_state_json(const struct sl_room *r);
/* Tell the dataplane p's mute state of kind (now, or once installed). */
void sl_room_send_mute(const struct sl_participant *p, uint8_t kind);
/* p's endpoint was installed in the dataplane: apply its mutes. */
void sl_room_installed(struct sl_participant *p);
void sl_room_answer(struct sl_participant *p, const char *sdp, size_t len, uint32_t version);
/* p starts (on) or stops sharing a screen: its screen publish slot (added
 * at the end of its offer the first time) becomes recvonly or inactive, p
 * is re-offered, every connected member is told `screenshare`, and the
 * others subscribe once p's answer names the stream. The caller checks
 * the meeting's permission. -ENOSPC: no m= section left. */
int sl_room_screenshare(struct sl_participant *p, bool on);
/* Remove p from its meeting and free it (why: for the log: "left", "closed", ...). */
void sl_room_leave(struct sl_participant *p, const char *why);
/* Tell p's client a fatal error, close its WebSocket, and remove p. */
void sl_room_kick(struct sl_participant *p, const char *code, const char *message);
/* p's DTLS handshake completed: count it against --room-max and the
 * dataplane's capacity (0), or -ENOSPC when either is full. Sends the
 * member list to p and the other connected members. */
int sl_room_connect(struct sl_participant *p);
/* Reconcile offers and subscriptions of every member. */
void sl_room_sync(struct sl_room *r);
/* Once a second: offer and handshake timeouts. */
void sl_room_tick(uint64_t now_ms);
/* The dataplane went away: every participant is told and removed. */
void sl_room_drop_all(const char *code, const char *message);
/* The participant whose dataplane endpoint is ep, or NULL (gone). */
struct sl_participant *sl_room_participant(uint32_t ep);
/* HMAC-SHA256(secret, name) -> key; the room's tag is hex of key[0..15]. */
void sl_room_key(const uint8_t secret[32], const char *name, uint8_t key[32]);

#endif
