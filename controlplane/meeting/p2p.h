/*
 * p2p.h - one-to-one meetings peer-to-peer (p2p.c): the control plane
 * relays the two browsers' offer, answer and ICE candidates opaquely, so
 * they can also connect directly; the SFU path stays as the fallback.
 */
#ifndef SLUICE_CP_P2P_H
#define SLUICE_CP_P2P_H

#include <stdbool.h>

#include "cp.h"
#include "signalling.h"

#define SL_P2P_BURST 100 /* p2p messages one participant may send at once */
#define SL_P2P_RATE  600 /* ... and a minute after that */

/* Whether p's meeting may go peer-to-peer now (--p2p on, exactly two
 * members past their handshake); the `p2p` member of `joined` is
 * sl_cp->cfg.p2p. */
bool sl_p2p_possible(const struct sl_room *r);
/* A p2p message from p to `to` (a member of p's meeting): relayed as
 * {"type":"p2p","from":..., "payload":...} or refused with an error. */
void sl_p2p_relay(struct sl_participant *p, struct sl_participant *to,
		  const struct sl_signal_msg *m);

#endif
