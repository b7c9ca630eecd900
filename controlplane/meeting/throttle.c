/*
 * throttle.c - token buckets for join throttling (see throttle.h).
 *
 * Tokens are kept in thousandths so integer arithmetic refills smoothly:
 * per_min tokens a minute is per_min thousandths every 60 ms. A GHashTable
 * maps the 16-byte key to its bucket; nothing is written anywhere else and
 * keys are never logged (they are addresses and room-name digests).
 */
#include <string.h>

#include <glib.h>

#include "clock.h"
#include "throttle.h"

struct bucket {
	uint8_t key[SL_THROTTLE_KEY];
	uint64_t milli; /* tokens x 1000 at `at` */
	uint64_t at;    /* ms */
};

struct sl_throttle {
	GHashTable *b; /* key -> struct bucket (key points into it) */
	uint64_t per_min, burst;
	unsigned max_keys;
};

unsigned sl_throttle_key_hash(const void *k)
{
	const uint8_t *p = k;
	guint h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < SL_THROTTLE_KEY; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

int sl_throttle_key_equal(const void *a, const void *b)
{
	return !memcmp(a, b, SL_THROTTLE_KEY);
}

struct sl_throttle *sl_throttle_new(uint32_t per_min, uint32_t burst, unsigned max_keys)
{
	struct sl_throttle *t = g_new0(struct sl_throttle, 1);

	t->b = g_hash_table_new_full(sl_throttle_key_hash, sl_throttle_key_equal, NULL, g_free);
	t->per_min = per_min ? per_min : 1;
	t->burst = burst ? burst : 1;
	t->max_keys = max_keys;
	return t;
}

void sl_throttle_free(struct sl_throttle *t)
{
	if (!t)
		return;
	g_hash_table_destroy(t->b);
	g_free(t);
}

/* The bucket's tokens (x 1000) at now, capped at burst. */
static uint64_t level(const struct sl_throttle *t, const struct bucket *b, uint64_t now)
{
	uint64_t ms = sl_time_since(now, b->at), cap = t->burst * 1000;
	uint64_t add = ms >= 60000 * t->burst ? cap : ms * t->per_min / 60;

	return b->milli + add >= cap ? cap : b->milli + add;
}

unsigned sl_throttle_take(struct sl_throttle *t, const uint8_t key[SL_THROTTLE_KEY],
			  uint64_t now_ms)
{
	struct bucket *b = g_hash_table_lookup(t->b, key);
	uint64_t have, wait_ms;

	if (!b) {
		if (g_hash_table_size(t->b) >= t->max_keys)
			sl_throttle_prune(t, now_ms);
		if (g_hash_table_size(t->b) >= t->max_keys)
			return 1;
		b = g_new0(struct bucket, 1);
		memcpy(b->key, key, SL_THROTTLE_KEY);
		b->milli = t->burst * 1000;
		b->at = now_ms;
		g_hash_table_insert(t->b, b->key, b);
	}
	have = level(t, b, now_ms);
	b->milli = have;
	b->at = now_ms;
	if (have >= 1000) {
		b->milli -= 1000;
		return 0;
	}
	/* ms until 1000 thousandths: (1000 - have) / (per_min / 60) */
	wait_ms = ((1000 - have) * 60 + t->per_min - 1) / t->per_min;
	return (unsigned)((wait_ms + 999) / 1000);
}

void sl_throttle_prune(struct sl_throttle *t, uint64_t now_ms)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, t->b);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (level(t, v, now_ms) >= t->burst * 1000)
			g_hash_table_iter_remove(&it);
}

unsigned sl_throttle_size(const struct sl_throttle *t)
{
	return g_hash_table_size(t->b);
}
