/*
 * test_speaker.c - the dominant-speaker detector and speaking time
 * (controlplane/meeting/speaker.c) as a function of (participant, level,
 * count, time), and the little glue around it (what is sent, to whom),
 * with stubs for the room and signalling calls it makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "room.h"
#include "signalling.h"
#include "speaker.h"

/* ---- stubs: the clock, the endpoint table, the sends ---- */

static struct sl_cp test_cp;
struct sl_cp *sl_cp = &test_cp;
static uint64_t now_ms;
static struct sl_room room;
static struct sl_participant parts[4];
static struct sl_client clients[4];

uint64_t sl_now_ms(void)
{
	return now_ms;
}

struct sl_participant *sl_room_participant(uint32_t ep)
{
	for (unsigned i = 0; i < 4; i++)
		if (parts[i].room && parts[i].ep_id == ep)
			return &parts[i];
	return NULL;
}

void sl_signal_send(struct sl_client *c, json_t *msg)
{
	json_array_append_new(c->sent, msg);
}

void sl_room_broadcast(const struct sl_room *r, json_t *msg, bool connected_only)
{
	for (const struct sl_participant *p = r->members; p; p = p->next)
		if (p->client && (p->connected || !connected_only))
			sl_signal_send(p->client, json_incref(msg));
	json_decref(msg);
}

void sl_signal_throttled(struct sl_client *c, unsigned retry_after, const char *message)
{
	(void)message;
	sl_signal_send(c, json_pack("{s:s, s:s, s:i}", "type", "error", "code", "throttled",
				    "retry_after", (json_int_t)retry_after));
}

/* ---- fixture: a meeting of n connected members a, b, c (ep 1, 2, 3) ---- */

static int setup(void **state)
{
	(void)state;
	memset(&room, 0, sizeof(room));
	memset(parts, 0, sizeof(parts));
	memset(&test_cp, 0, sizeof(test_cp));
	now_ms = 100000;
	for (unsigned i = 0; i < 3; i++) {
		struct sl_participant *p = &parts[i];

		p->room = &room;
		p->client = &clients[i];
		clients[i] = (struct sl_client){ .p = p, .sent = json_array() };
		p->connected = true;
		p->ep_id = i + 1;
		snprintf(p->id, sizeof(p->id), "%016x", i + 0xa0);
		snprintf(p->name, sizeof(p->name), "Name %c", 'A' + i);
		p->next = i < 2 ? &parts[i + 1] : NULL;
	}
	room.members = &parts[0];
	room.n_members = room.n_connected = 3;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 4; i++)
		json_decref(clients[i].sent);
	memset(clients, 0, sizeof(clients));
	return 0;
}

#define A (&parts[0])
#define B (&parts[1])
#define C (&parts[2])

/* Reports of p every 200 ms from now for ms (advancing the clock); returns
 * how many of them changed the dominant speaker. */
static int talk(struct sl_participant *p, uint8_t level, uint64_t ms)
{
	int changes = 0;

	for (uint64_t t = 0; t < ms; t += 200) {
		changes += sl_speaker_level(p, level, 10, now_ms);
		now_ms += 200;
	}
	return changes;
}

/* a and b interleaved, both every 200 ms, for ms. Returns when (ms from
 * the start) the dominant speaker first became `who`, or -1. */
static int64_t both(uint8_t la, uint8_t lb, uint64_t ms, const struct sl_participant *who)
{
	int64_t at = -1;

	for (uint64_t t = 0; t < ms; t += 200) {
		sl_speaker_level(A, la, 10, now_ms);
		sl_speaker_level(B, lb, 10, now_ms + 5);
		if (at < 0 && room.dominant == who)
			at = (int64_t)t;
		now_ms += 200;
	}
	return at;
}

static void test_first_voice_takes_it(void **state)
{
	(void)state;
	assert_null(room.dominant);
	assert_false(sl_speaker_level(A, 127, 10, now_ms)); /* silence */
	assert_false(sl_speaker_level(A, SL_SPEAKER_VOICE_DBOV + 1, 10, now_ms + 200));
	assert_false(sl_speaker_level(A, 20, 0, now_ms + 400)); /* no voiced packet */
	assert_null(room.dominant);
	assert_true(sl_speaker_level(A, SL_SPEAKER_VOICE_DBOV, 10, now_ms + 600));
	assert_ptr_equal(room.dominant, A);
	assert_false(sl_speaker_level(A, 10, 10, now_ms + 800)); /* no change: no news */
}

/* A brief louder burst does not take over; sustained louder speech does,
 * after SL_SPEAKER_HOLD_MS. */
static void test_hysteresis(void **state)
{
	int64_t at;

	(void)state;
	talk(A, 40, 400);
	assert_ptr_equal(room.dominant, A);
	/* b is 20 dB louder for 800 ms while a keeps talking: a stays. */
	assert_int_equal(both(40, 20, 800, B), -1);
	assert_ptr_equal(room.dominant, A);
	/* a short pause of b, then louder again: the streak starts over. */
	now_ms += SL_SPEAKER_GAP_MS + 200;
	talk(A, 40, 200);
	assert_int_equal(both(40, 20, 800, B), -1);
	/* only SL_SPEAKER_MARGIN_DB - 1 louder: never */
	now_ms += SL_SPEAKER_GAP_MS + 200;
	assert_int_equal(both(40, 40 - SL_SPEAKER_MARGIN_DB + 1, 5000, B), -1);
	assert_ptr_equal(room.dominant, A);
	/* sustained: takes over after the hold time, not before */
	now_ms += SL_SPEAKER_GAP_MS + 200;
	at = both(40, 40 - SL_SPEAKER_MARGIN_DB, 3000, B);
	assert_int_equal(at, SL_SPEAKER_HOLD_MS);
	assert_ptr_equal(room.dominant, B);
	/* and a has to be louder for the hold time to get it back */
	assert_int_equal(both(10, 40, 3000, A), SL_SPEAKER_HOLD_MS);
}

/* Pauses between words (silent reports, or none, up to the gap) keep a
 * streak going: the take-over is timed by the clock, not the reports. */
static void test_streak_by_clock(void **state)
{
	(void)state;
	talk(A, 50, 200);
	now_ms += 5000; /* a falls silent: nothing more from it */
	assert_false(sl_speaker_level(B, 30, 10, now_ms));
	assert_false(sl_speaker_level(B, 127, 10, now_ms + 200)); /* a pause */
	assert_false(sl_speaker_level(B, 30, 10, now_ms + 500));
	assert_false(sl_speaker_level(B, 30, 10, now_ms + 999));
	assert_true(sl_speaker_level(B, 30, 10, now_ms + 1000));
	assert_ptr_equal(room.dominant, B);
	/* a burst of reports at one instant counts as no time at all */
	now_ms += 5000;
	for (int i = 0; i < 20; i++)
		assert_false(sl_speaker_level(C, 30, 10, now_ms));
	assert_ptr_equal(room.dominant, B);
	assert_int_equal(C->speaking_ms, SL_SPEAKER_STEP_MS);
}

/* A change of speaker starts every challenger's streak over: c, louder
 * than a for a while, must then be louder than b for the whole hold time. */
static void test_change_restarts_streaks(void **state)
{
	uint64_t b_at = 0, c_at = 0;

	(void)state;
	talk(A, 40, 200);
	for (uint64_t t = 0; t < 4000; t += 200) {
		sl_speaker_level(A, 40, 10, now_ms);
		if (sl_speaker_level(B, 20, 10, now_ms + 1))
			b_at = t;
		if (t >= 400 && sl_speaker_level(C, 5, 10, now_ms + 2))
			c_at = t;
		now_ms += 200;
	}
	assert_int_equal(b_at, SL_SPEAKER_HOLD_MS);
	assert_int_equal(c_at, b_at + SL_SPEAKER_HOLD_MS);
	assert_ptr_equal(room.dominant, C);
}

/* Silence keeps the last speaker, however long. */
static void test_silence_keeps(void **state)
{
	(void)state;
	talk(B, 30, 600);
	for (int i = 0; i < 100; i++) {
		assert_false(sl_speaker_level(A, 127, 10, now_ms));
		assert_false(sl_speaker_level(C, 90, 10, now_ms));
		now_ms += 200;
	}
	assert_ptr_equal(room.dominant, B);
}

/* A muted participant is never chosen nor credited; muting the dominant
 * speaker leaves none; one who left never comes back as it. */
static void test_muted_and_left(void **state)
{
	json_t *m;

	(void)state;
	A->muted[SL_SDP_KIND_AUDIO] = true;
	assert_int_equal(talk(A, 5, 3000), 0);
	assert_null(room.dominant);
	assert_int_equal(A->speaking_ms, 0);
	talk(B, 30, 400);
	assert_ptr_equal(room.dominant, B);
	/* b mutes itself: everyone is told there is no dominant speaker */
	B->muted[SL_SDP_KIND_AUDIO] = true;
	sl_speaker_gone(B);
	assert_null(room.dominant);
	assert_int_equal(test_cp.n_speaker_changes, 1);
	for (unsigned i = 0; i < 3; i++) {
		m = json_array_get(clients[i].sent, json_array_size(clients[i].sent) - 1);
		assert_string_equal(json_string_value(json_object_get(m, "type")),
				    "dominant_speaker");
		assert_true(json_is_null(json_object_get(m, "participant")));
	}
	assert_int_equal(talk(B, 5, 3000), 0); /* its muted reports change nothing */
	/* c speaks, then leaves (room.c unlinks it first) */
	sl_speaker_event(C->ep_id, 30, 10);
	assert_ptr_equal(room.dominant, C);
	B->next = NULL;
	sl_speaker_gone(C);
	C->room = NULL; /* freed: its endpoint is unknown from now on */
	assert_null(room.dominant);
	sl_speaker_event(3, 10, 10);
	assert_null(room.dominant);
	/* a member whose handshake has not completed is not chosen either */
	A->muted[SL_SDP_KIND_AUDIO] = false;
	A->connected = false;
	assert_int_equal(talk(A, 5, 2000), 0);
	assert_null(room.dominant);
}

/* speaking_ms: the clock time of voiced reports, at most
 * SL_SPEAKER_STEP_MS each; silence and quiet reports add nothing. */
static void test_speaking_time(void **state)
{
	(void)state;
	talk(A, 30, 2000); /* 10 reports, 200 ms apart */
	assert_int_equal(A->speaking_ms, SL_SPEAKER_STEP_MS + 9 * 200);
	talk(A, SL_SPEAKER_VOICE_DBOV + 1, 2000);
	talk(B, 127, 2000);
	assert_int_equal(A->speaking_ms, SL_SPEAKER_STEP_MS + 9 * 200);
	assert_int_equal(B->speaking_ms, 0);
	now_ms += 60000; /* a long silence: the next report adds one step */
	talk(A, 30, 200);
	assert_int_equal(A->speaking_ms, 2 * SL_SPEAKER_STEP_MS + 9 * 200);
}

/* The glue: one broadcast per change to connected members only; a new
 * connected member is told; stats go to the requester alone, with every
 * connected member, and are rate-limited; unknown endpoints and bad levels
 * are ignored. */
static void test_messages(void **state)
{
	json_t *m, *st;

	(void)state;
	C->connected = false;
	sl_speaker_event(99, 10, 10);
	sl_speaker_event(A->ep_id, 128, 10);
	assert_null(room.dominant);
	assert_int_equal(json_array_size(clients[0].sent), 0);
	sl_speaker_event(A->ep_id, 30, 10);
	sl_speaker_event(A->ep_id, 30, 10);
	assert_int_equal(test_cp.n_speaker_changes, 1);
	assert_int_equal(json_array_size(clients[0].sent), 1);
	assert_int_equal(json_array_size(clients[1].sent), 1);
	assert_int_equal(json_array_size(clients[2].sent), 0); /* not connected */
	m = json_array_get(clients[1].sent, 0);
	assert_string_equal(json_string_value(json_object_get(m, "type")), "dominant_speaker");
	assert_string_equal(json_string_value(json_object_get(m, "participant")), A->id);
	C->connected = true;
	sl_speaker_connected(C);
	m = json_array_get(clients[2].sent, 0);
	assert_string_equal(json_string_value(json_object_get(m, "participant")), A->id);

	now_ms += 1000;
	sl_speaker_stats(B);
	assert_int_equal(json_array_size(clients[0].sent), 1); /* a is not told */
	m = json_array_get(clients[1].sent, 1);
	assert_string_equal(json_string_value(json_object_get(m, "type")), "speaker_stats");
	st = json_object_get(m, "stats");
	assert_int_equal(json_array_size(st), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *e = json_array_get(st, i);

		assert_int_equal(json_object_size(e), 3);
		assert_string_equal(json_string_value(json_object_get(e, "participant")),
				    parts[i].id);
		assert_string_equal(json_string_value(json_object_get(e, "name")), parts[i].name);
		assert_int_equal(json_integer_value(json_object_get(e, "speaking_ms")),
				 i == 0 ? SL_SPEAKER_STEP_MS : 0);
	}
	for (int i = 1; i < SL_SPEAKER_STATS_BURST; i++)
		sl_speaker_stats(B);
	assert_int_equal(test_cp.n_speaker_stats, SL_SPEAKER_STATS_BURST);
	sl_speaker_stats(B);
	m = json_array_get(clients[1].sent, json_array_size(clients[1].sent) - 1);
	assert_string_equal(json_string_value(json_object_get(m, "code")), "throttled");
	assert_int_equal(json_integer_value(json_object_get(m, "retry_after")), 1);
	now_ms += SL_SPEAKER_STATS_MS;
	sl_speaker_stats(B);
	m = json_array_get(clients[1].sent, json_array_size(clients[1].sent) - 1);
	assert_string_equal(json_string_value(json_object_get(m, "type")), "speaker_stats");
	/* before its handshake completes a member learns no names */
	C->connected = false;
	sl_speaker_stats(C);
	m = json_array_get(clients[2].sent, json_array_size(clients[2].sent) - 1);
	assert_int_equal(json_array_size(json_object_get(m, "stats")), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_voice_takes_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hysteresis, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streak_by_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_restarts_streaks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silence_keeps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_muted_and_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_speaking_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
