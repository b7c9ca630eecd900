/*
 * password.h - meeting passwords: argon2id off the main loop, and the
 * backoff that throttles guessing (password.c).
 *
 * Hashing and verification cost tens of milliseconds and ~19 MiB each
 * (argon2id, m = 19 MiB, t = 2, p = 1), so they run on a GThreadPool and
 * report back on the GLib main context; the signalling loop never waits.
 * At most SL_PASSWORD_QUEUE_MAX jobs are queued or running: beyond that a
 * request is refused at once (the caller answers `throttled`). The worker
 * wipes its copy of the password as soon as it is hashed.
 *
 * The guess limiter is separate and pure (no threads): per key (a hash of
 * the meeting and the source address, made by the caller), the first
 * SL_PASSWORD_FREE_TRIES wrong passwords cost nothing, then each wait
 * doubles from 1 s up to max_s. A right password clears the key; an entry
 * untouched for 2 * max_s is forgotten; memory is bounded by max_keys.
 * Keys live in memory only and are never logged.
 */
#ifndef SLUICE_CP_PASSWORD_H
#define SLUICE_CP_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_PASSWORD_MAX        128 /* bytes */
#define SL_PASSWORD_HASH_MAX   128 /* an encoded argon2id hash, with its NUL */
#define SL_PASSWORD_QUEUE_MAX  64
#define SL_PASSWORD_FREE_TRIES 3

/* Called on the main context. hash: for sl_password_hash, the encoded
 * argon2id string ("$argon2id$v=19$m=...") or NULL on failure; ok: for
 * sl_password_verify, whether the password matched (constant time). */
typedef void (*sl_password_done)(void *user, bool ok, const char *hash);

struct sl_password_job;

/* Start the pool (threads: 1-16, all started now). 0, -EINVAL or -EALREADY.
 * Every call below but the guard's is made on the thread that iterates the
 * default GMainContext, which is where the callbacks run. */
int sl_password_init(unsigned threads);
/* Wait for running jobs and stop the pool; callbacks of cancelled jobs never run.
 * Jobs not started, and results not yet delivered, are dropped without a
 * callback and freed. */
void sl_password_shutdown(void);

/* Queue a hash or a verification of password (len bytes, copied). Returns
 * the job, or NULL when SL_PASSWORD_QUEUE_MAX jobs are already in flight
 * (or len is 0 or over SL_PASSWORD_MAX, or the pool is not started). done
 * runs exactly once unless the job is cancelled first, never from inside
 * these calls; the job is freed when it returns (the pointer is then dead).
 * A hash that is not an argon2id v19 string of at most 64 MiB, 8 passes and
 * one lane (or longer than SL_PASSWORD_HASH_MAX) verifies as a mismatch. */
struct sl_password_job *sl_password_hash(const char *password, size_t len, sl_password_done done,
					 void *user);
struct sl_password_job *sl_password_verify(const char *hash, const char *password, size_t len,
					   sl_password_done done, void *user);
/* The callback will not run (the job's memory is freed when the worker is
 * done with it). Safe to call from inside no callback but its own job's. */
void sl_password_cancel(struct sl_password_job *j);
unsigned sl_password_in_flight(void);

/* Guess limiter. */
#define SL_PASSWORD_KEY 16
struct sl_password_guard;
struct sl_password_guard *sl_password_guard_new(unsigned max_s, unsigned max_keys);
void sl_password_guard_free(struct sl_password_guard *g);
/* 0 when key may try now, else whole seconds (>= 1) to wait. A new key
 * when max_keys are in use waits 1 s. */
unsigned sl_password_guard_check(struct sl_password_guard *g, const uint8_t key[SL_PASSWORD_KEY],
				 uint64_t now_ms);
void sl_password_guard_failed(struct sl_password_guard *g, const uint8_t key[SL_PASSWORD_KEY],
			      uint64_t now_ms);
void sl_password_guard_passed(struct sl_password_guard *g, const uint8_t key[SL_PASSWORD_KEY]);
void sl_password_guard_prune(struct sl_password_guard *g, uint64_t now_ms);
unsigned sl_password_guard_size(const struct sl_password_guard *g);

#endif
