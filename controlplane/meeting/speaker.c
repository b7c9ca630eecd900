/*
 * speaker.c - dominant speaker and speaking time (see speaker.h).
 *
 * The dataplane reports, per endpoint and --level-interval (200 ms), the
 * loudest RFC 6464 level of the interval's voiced packets. A report at or
 * under SL_SPEAKER_VOICE_DBOV is voice: it credits the participant with the
 * time since its previous report (at most SL_SPEAKER_STEP_MS, by the
 * control plane's clock, so a burst of queued reports counts once). The
 * dominant speaker changes with hysteresis: the first voice of a meeting
 * without one takes it at once; after that, a challenger must be louder
 * (by SL_SPEAKER_MARGIN_DB than the dominant's last voiced level, or the
 * dominant silent for SL_SPEAKER_GAP_MS) in every voiced report for
 * SL_SPEAKER_HOLD_MS without a gap over SL_SPEAKER_GAP_MS. Silence keeps
 * the last speaker. A muted or departing dominant speaker leaves the
 * meeting with none until somebody speaks. Work per report is constant,
 * plus one pass over the members when the speaker changes; nothing is
 * allocated but the messages sent. Members that leave are dropped from the
 * stats with everything else about them.
 */
#include <string.h>

#include "clock.h"
#include "rate.h"
#include "room.h"
#include "signalling.h"
#include "speaker.h"

static bool speaking(const struct sl_participant *p, uint64_t now)
{
	return p->spk_voice_ms && sl_time_since(now, p->spk_voice_ms) <= SL_SPEAKER_GAP_MS;
}

static void take_over(struct sl_room *r, struct sl_participant *p)
{
	r->dominant = p;
	for (struct sl_participant *q = r->members; q; q = q->next)
		q->spk_louder_ms = 0; /* streaks were against the old speaker */
}

bool sl_speaker_level(struct sl_participant *p, uint8_t level, uint32_t count, uint64_t now)
{
	struct sl_room *r = p->room;
	struct sl_participant *d = r->dominant;
	uint64_t step = p->spk_event_ms ? sl_time_since(now, p->spk_event_ms) : SL_SPEAKER_STEP_MS;
	bool continuous;

	p->spk_event_ms = now;
	if (!p->connected || p->muted[SL_SDP_KIND_AUDIO]) {
		p->spk_louder_ms = 0;
		return false;
	}
	if (!count || level > SL_SPEAKER_VOICE_DBOV)
		return false; /* a pause: the streak survives a gap up to SL_SPEAKER_GAP_MS */
	p->speaking_ms += step < SL_SPEAKER_STEP_MS ? step : SL_SPEAKER_STEP_MS;
	continuous = speaking(p, now);
	p->spk_voice_ms = now;
	p->spk_level = level;
	if (d == p)
		return false;
	if (!d) {
		take_over(r, p);
		return true;
	}
	if (speaking(d, now) && level + SL_SPEAKER_MARGIN_DB > d->spk_level) {
		p->spk_louder_ms = 0; /* not louder */
		return false;
	}
	if (!p->spk_louder_ms || !continuous)
		p->spk_louder_ms = now;
	if (sl_time_since(now, p->spk_louder_ms) < SL_SPEAKER_HOLD_MS)
		return false;
	take_over(r, p);
	return true;
}

bool sl_speaker_drop(struct sl_participant *p)
{
	p->spk_louder_ms = 0;
	if (p->room->dominant != p)
		return false;
	take_over(p->room, NULL);
	return true;
}

json_t *sl_speaker_dominant_json(const struct sl_room *r)
{
	return json_pack("{s:s, s:s?}", "type", "dominant_speaker", "participant",
			 r->dominant ? r->dominant->id : NULL);
}

json_t *sl_speaker_stats_json(const struct sl_room *r)
{
	json_t *a = json_array();

	for (const struct sl_participant *p = r->members; p; p = p->next)
		if (p->connected)
			json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "participant", p->id,
							   "name", p->name, "speaking_ms",
							   (json_int_t)p->speaking_ms));
	return a;
}

static void announce(struct sl_room *r)
{
	sl_cp->n_speaker_changes++;
	sl_room_broadcast(r, sl_speaker_dominant_json(r), true);
}

void sl_speaker_event(uint32_t ep, uint32_t level, uint32_t count)
{
	struct sl_participant *p = sl_room_participant(ep);

	if (!p || level > 127)
		return;
	if (sl_speaker_level(p, (uint8_t)level, count, sl_now_ms()))
		announce(p->room);
}

void sl_speaker_connected(struct sl_participant *p)
{
	if (p->room->dominant && p->client)
		sl_signal_send(p->client, sl_speaker_dominant_json(p->room));
}

void sl_speaker_gone(struct sl_participant *p)
{
	struct sl_room *r = p->room;

	if (sl_speaker_drop(p) && !r->ending && r->members)
		announce(r);
}

void sl_speaker_stats(struct sl_participant *p)
{
	unsigned retry;

	if (!p->client)
		return;
	retry = sl_rate_take(&p->spk_stats_tat_ms, SL_SPEAKER_STATS_MS, SL_SPEAKER_STATS_BURST,
			     sl_now_ms());
	if (retry) {
		sl_signal_throttled(p->client, retry,
				    "too many speaker_stats requests; wait a little");
		return;
	}
	sl_cp->n_speaker_stats++;
	/* Names only to members past their handshake, as in `participants`. */
	sl_signal_send(p->client,
		       json_pack("{s:s, s:o}", "type", "speaker_stats", "stats",
				 p->connected ? sl_speaker_stats_json(p->room) : json_array()));
}
