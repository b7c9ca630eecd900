/*
 * clock.h - wrap-safe comparisons of the control plane's monotonic
 * millisecond times (sl_now_ms).
 *
 * Times are read at different moments: a tick reads `now` once, and code it
 * calls may stamp a later sl_now_ms() on something before the tick compares
 * it with `now`. A plain unsigned `now - then` then wraps to a huge number
 * and every timeout fires at once. Every elapsed-time test in the control
 * plane goes through these: a time in the future counts as no time passed.
 */
#ifndef SLUICE_CP_CLOCK_H
#define SLUICE_CP_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Milliseconds from then to now; 0 when then is later than now. */
static inline uint64_t sl_time_since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

/* True when more than span ms passed from then to now (never if then > now). */
static inline bool sl_time_over(uint64_t now, uint64_t then, uint64_t span)
{
	return sl_time_since(now, then) > span;
}

#endif
