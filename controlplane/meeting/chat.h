/*
 * chat.h - the meeting's chat (chat.c): relayed by the control plane,
 * public or private, with the public history kept in memory for the
 * meeting's lifetime only (never in Redis, never logged).
 */
#ifndef SLUICE_CP_CHAT_H
#define SLUICE_CP_CHAT_H

#include <jansson.h>

#include "cp.h"
#include "signalling.h"

#define SL_CHAT_HISTORY 500 /* public messages a late joiner gets */

/* A chat message from p (to: NULL for everyone, else the recipient, a
 * member of p's meeting). Checks permissions.chat and p's rate. */
void sl_chat_send(struct sl_participant *p, struct sl_participant *to,
		  const struct sl_signal_msg *m);
/* {"type":"chat_history","messages":[...]} of r (new reference). */
json_t *sl_chat_history(const struct sl_room *r);
/* Wipe and free r's history (the meeting ends). */
void sl_chat_free(struct sl_room *r);

#endif
