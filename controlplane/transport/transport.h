/*
 * transport.h - ICE-lite and DTLS for each participant (transport.c).
 *
 * STUN from the dataplane is validated (stun.c) against the participant
 * whose ufrag it names and answered through packet-down; the source
 * 5-tuple then counts as validated for a while, and USE-CANDIDATE makes it
 * the nominated one. DTLS from a validated 5-tuple drives the
 * participant's handshake (dtls.c); anything else is dropped and counted.
 * When the answer said a=setup:passive we are the DTLS client instead: our
 * ClientHello goes to the first checked tuple once the answer is in.
 * When DTLS connects, the endpoint goes into the dataplane with its keys
 * (wiped right after). Consent (RFC 7675): an installed endpoint with
 * neither a valid check on its nominated tuple nor authenticated media from
 * it (the dataplane's MEDIA_ALIVE events) for --consent-timeout seconds is
 * removed. Media counts because browsers send checks only on idle pairs: a
 * peer busy both ways may send none.
 */
#ifndef SLUICE_CP_TRANSPORT_H
#define SLUICE_CP_TRANSPORT_H

#include <stdint.h>

#include <glib.h>

#include <sluice/ctl.h>

#include "cp.h"

void sl_transport_pkt_up(const struct sl_ctl_pkt *pkt);
void sl_transport_tick(uint64_t now_ms);
/* The dataplane saw authenticated SRTP/SRTCP from p's tuple (MEDIA_ALIVE):
 * that counts as consent freshness too. */
void sl_transport_media_alive(struct sl_participant *p);
/* Register a new participant's ufrag (after its credentials are set). */
void sl_transport_add(struct sl_participant *p);
/* p's answer was taken: as the DTLS client, start once a tuple is checked. */
void sl_transport_answered(struct sl_participant *p);
/* The table of validated 5-tuples (sl_cp->by_tuple): one lookup per DTLS
 * datagram, whatever the number of participants. */
GHashTable *sl_transport_tuple_table(void);
/* Forget p: DTLS freed, endpoint removed from the dataplane, tables. */
void sl_transport_remove(struct sl_participant *p);

#endif
