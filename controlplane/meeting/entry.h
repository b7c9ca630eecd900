/*
 * entry.h - who gets into a meeting and with which rights: join decisions
 * (tokens, weak names, lock, password, lobby), roles, and the moderation
 * messages (entry.c). docs/signalling.md, "Entry control", is the contract.
 *
 * Owns struct sl_lobby_entry (a join waiting for a moderator: a WebSocket
 * and a display name, no dataplane endpoint, no offer) and struct
 * sl_entry_pending (a join waiting for its password check on the
 * argon2 pool). Both are freed here; the client points at them while they
 * live, and they point back at the client.
 */
#ifndef SLUICE_CP_ENTRY_H
#define SLUICE_CP_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "cp.h"
#include "signalling.h"

/* check_name: answer name_strength (throttled per source). */
void sl_entry_check_name(struct sl_client *c, const char *room);
/* join: decide, then enter, wait in the lobby, or refuse. */
void sl_entry_join(struct sl_client *c, const struct sl_signal_msg *m);
/* A message of a member that is not join/answer/leave/check_name:
 * moderation (rights checked here). */
void sl_entry_message(struct sl_client *c, const struct sl_signal_msg *m);
/* c left or closed while in a lobby or waiting for a password check. */
void sl_entry_client_gone(struct sl_client *c);

/* The last member of r left (r not ending): true when r must stay (lobby
 * entries waiting for a moderator, --guests wait); otherwise the entries
 * are told `ended` and removed, and the caller frees r. */
bool sl_entry_keep_room(struct sl_room *r);
/* A member of r left: with --moderators first, a meeting without a
 * moderator gets one (the longest-present participant). */
void sl_entry_member_left(struct sl_room *r);
/* Send msg to every lobby entry of r, close them and remove them (r is
 * ending). Does not steal msg. */
void sl_entry_lobby_close(struct sl_room *r, json_t *msg);
/* Once a second: lobby timeouts. */
void sl_entry_tick(uint64_t now_ms);
/* The operator mutes t's kind (SL_SDP_KIND_AUDIO/_VIDEO) as a moderator
 * would: every member is told `muted` with `by` "operator". */
void sl_entry_operator_mute(struct sl_participant *t, uint8_t kind);

#endif
