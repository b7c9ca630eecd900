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

#include <stddef.h>
#include <stdint.h>

#include "cp.h"

struct sl_client;

void sl_room_join(struct sl_client *c, const char *room_name, const char *display_name);
void sl_room_answer(struct sl_participant *p, const char *sdp, size_t len, uint32_t version);
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
