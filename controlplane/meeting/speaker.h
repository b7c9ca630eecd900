/*
 * speaker.h - the meeting's dominant speaker and speaking time per
 * participant (speaker.c), from the audio levels the dataplane reports
 * (RFC 6464, SL_EV_AUDIO_LEVEL). Kept in memory for the meeting's lifetime
 * only, never in Redis, never logged.
 */
#ifndef SLUICE_CP_SPEAKER_H
#define SLUICE_CP_SPEAKER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cp.h"

/* A report at or under this level (dBov, 0 loudest, 127 silence) is voice;
 * others count as silence (comfort noise, a muted track, a quiet room). */
#define SL_SPEAKER_VOICE_DBOV 60
/* A challenger is louder when its level is this many dB under (louder
 * than) the dominant speaker's last voiced level, or when the dominant
 * speaker has been silent for SL_SPEAKER_GAP_MS. */
#define SL_SPEAKER_MARGIN_DB 6
/* ... and takes over once it has been louder for this long. */
#define SL_SPEAKER_HOLD_MS 1000
/* Voiced reports further apart than this are two utterances: the louder
 * streak starts again. */
#define SL_SPEAKER_GAP_MS 600
/* Speaking time credited per voiced report: the time since the previous
 * report, at most this (the dataplane reports every --level-interval,
 * 200 ms by default; a batch arriving at once is credited once). */
#define SL_SPEAKER_STEP_MS 250
/* speaker_stats requests: one per SL_SPEAKER_STATS_MS, SL_SPEAKER_STATS_BURST
 * at once (GCRA), then `throttled`. */
#define SL_SPEAKER_STATS_MS    500
#define SL_SPEAKER_STATS_BURST 5

/*
 * The detector (pure: only p, its meeting's members and now are read or
 * written). One report of p's endpoint: level (dBov) is the loudest of the
 * interval, count its voiced packets. Returns true when p's meeting has a
 * new dominant speaker (p). A participant whose audio is muted or whose
 * handshake has not completed is never credited nor chosen.
 */
bool sl_speaker_level(struct sl_participant *p, uint8_t level, uint32_t count, uint64_t now);
/* p may not be the dominant speaker any more (muted, leaving): true when
 * it was (the meeting has none now). Pure. */
bool sl_speaker_drop(struct sl_participant *p);
/* {"type":"dominant_speaker","participant": id or null} of r. */
json_t *sl_speaker_dominant_json(const struct sl_room *r);
/* [{"participant","name","speaking_ms"}] of r's members past their handshake. */
json_t *sl_speaker_stats_json(const struct sl_room *r);

/* An SL_EV_AUDIO_LEVEL of endpoint ep (main.c): unknown endpoints and
 * levels over 127 are ignored; a change is sent to every connected member. */
void sl_speaker_event(uint32_t ep, uint32_t level, uint32_t count);
/* p's handshake completed: it is told the dominant speaker, if any. */
void sl_speaker_connected(struct sl_participant *p);
/* p muted its audio, or left (already out of the member list): if it was
 * the dominant speaker, the others are told there is none. */
void sl_speaker_gone(struct sl_participant *p);
/* p asked for speaker_stats: answered to p alone (rate-limited). */
void sl_speaker_stats(struct sl_participant *p);

#endif
