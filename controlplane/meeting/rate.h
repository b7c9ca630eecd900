/*
 * rate.h - one GCRA rate held by its owner: a participant's chat, screen
 * share toggles, p2p relays, speaker_stats requests.
 *
 * *tat is the owner's theoretical arrival time (0 at first). A turn is
 * taken every period_ms on average, up to burst at once. Header-only, so
 * that the small libraries of the control plane (and their unit tests)
 * can use it without linking anything.
 */
#ifndef SLUICE_CP_RATE_H
#define SLUICE_CP_RATE_H

#include <stdint.h>

/* Take a turn at now_ms: 0 when taken, else the whole seconds (>= 1)
 * until one will be there. */
static inline unsigned sl_rate_take(uint64_t *tat, uint64_t period_ms, unsigned burst,
				    uint64_t now_ms)
{
	uint64_t tol = period_ms * (burst ? burst - 1 : 0), at = *tat > now_ms ? *tat : now_ms;

	if (at - now_ms > tol)
		return (unsigned)((at - now_ms - tol + 999) / 1000);
	*tat = at + period_ms;
	return 0;
}

/* The period of `per_min` turns a minute (at least 1 ms). */
static inline uint64_t sl_rate_period(unsigned per_min)
{
	return per_min && per_min <= 60000 ? 60000 / per_min : 1;
}

#endif
