/*
 * throttle.h - token buckets keyed by 16 bytes, in memory only (throttle.c).
 *
 * Used to throttle joins per source address and per room name. A key's
 * bucket holds up to `burst` tokens and refills at `per_min` a minute; a
 * bucket that has refilled completely is forgotten (it is the same as a new
 * one), so memory follows recent activity, and a hard cap on keys bounds it.
 */
#ifndef SLUICE_CP_THROTTLE_H
#define SLUICE_CP_THROTTLE_H

#include <stdint.h>

#define SL_THROTTLE_KEY 16

struct sl_throttle;

struct sl_throttle *sl_throttle_new(uint32_t per_min, uint32_t burst, unsigned max_keys);
void sl_throttle_free(struct sl_throttle *t);
/* Take a token for key: 0 when one was taken, else the whole seconds (>= 1)
 * until one will be there. When max_keys keys are all busy, a new key is
 * refused for a second. */
unsigned sl_throttle_take(struct sl_throttle *t, const uint8_t key[SL_THROTTLE_KEY],
			  uint64_t now_ms);
/* Forget buckets that have refilled; call now and then. */
void sl_throttle_prune(struct sl_throttle *t, uint64_t now_ms);
unsigned sl_throttle_size(const struct sl_throttle *t);
/* GHashTable functions for 16-byte keys (also the password guard's). */
unsigned sl_throttle_key_hash(const void *key);
int sl_throttle_key_equal(const void *a, const void *b);

#endif
