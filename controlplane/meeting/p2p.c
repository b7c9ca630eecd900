/*
 * p2p.c - relaying `p2p` messages between the two members of a one-to-one
 * meeting (see p2p.h and docs/controlplane.md).
 *
 * The payload (an SDP or an ICE candidate for the other browser) is an
 * object of at most SL_SIGNAL_MAX_P2P bytes, checked by the parser and
 * passed on untouched: the control plane neither reads nor logs it (it
 * holds the sender's IP addresses). A message is relayed only with --p2p
 * on, only while the meeting has exactly two members past their handshake
 * and only to the other one; each participant has a GCRA rate
 * (SL_P2P_BURST at once, SL_P2P_RATE a minute) since every message is
 * work a peer makes the server do. Relayed and refused messages are
 * counted (p2p_messages, p2p_refused in the stats line).
 */
#include "p2p.h"
#include "clock.h"
#include "rate.h"
#include "room.h"

bool sl_p2p_possible(const struct sl_room *r)
{
	return sl_cp->cfg.p2p && r->n_connected == 2;
}

void sl_p2p_relay(struct sl_participant *p, struct sl_participant *to,
		  const struct sl_signal_msg *m)
{
	unsigned retry;

	if (!sl_cp->cfg.p2p) {
		sl_cp->n_p2p_refused++;
		sl_signal_error(p->client, "p2p_off", "this server does not relay p2p messages",
				false);
		return;
	}
	retry = sl_rate_take(&p->p2p_tat_ms, sl_rate_period(SL_P2P_RATE), SL_P2P_BURST,
			     sl_now_ms());
	if (retry) {
		sl_cp->n_p2p_refused++;
		sl_signal_throttled(p->client, retry, "too many p2p messages; wait a little");
		return;
	}
	if (to == p || !to->connected || !to->client) {
		sl_cp->n_p2p_refused++;
		sl_signal_error(p->client, "no_participant",
				"p2p goes to the other connected member of the meeting", false);
		return;
	}
	if (!p->connected || !sl_p2p_possible(p->room)) {
		sl_cp->n_p2p_refused++;
		sl_signal_error(p->client, "p2p_unavailable",
				"p2p needs exactly two connected members", false);
		return;
	}
	sl_cp->n_p2p++;
	sl_signal_send(to->client, json_pack("{s:s, s:s, s:O}", "type", "p2p", "from", p->id,
					     "payload", m->payload));
}
