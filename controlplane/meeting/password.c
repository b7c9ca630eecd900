/*
 * password.c - meeting passwords: argon2id hashing and verification on a
 * thread pool, and the guess guard (see password.h).
 *
 * One argon2id computation costs tens of milliseconds and 19 MiB, far too
 * much for the signalling loop, so each one is a job on a pool of worker
 * threads (offload.c) started by sl_password_init. A job is created,
 * counted and finally freed on the main thread only; the worker owns
 * nothing but the job's password copy (wiped as soon as argon2 is done
 * with it) and its result, delivered back on the main loop. Cancelling
 * only raises a flag, so the memory outlives every side that may still
 * touch it.
 *
 * Verification goes through argon2id_verify, whose final comparison
 * (argon2_compare in libargon2's argon2.c) ORs the XOR of every byte pair
 * and has no early exit: it takes the same time wherever the first
 * difference lies. The stored hash's parameters are checked before it is
 * handed to libargon2, which would otherwise allocate whatever memory a
 * tampered string asks for.
 *
 * The guard is a GHashTable of 16-byte keys, as in throttle.c; it never
 * evicts a live entry, so filling the table cannot wipe anyone's backoff.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <argon2.h>
#include <glib.h>

#include "clock.h"
#include "offload.h"
#include "password.h"
#include "throttle.h"

_Static_assert(SL_PASSWORD_KEY == SL_THROTTLE_KEY, "the guard keys its table like throttle.c");

#define T_COST   2
#define M_COST   19456 /* KiB */
#define LANES    1
#define SALT_LEN 16
#define HASH_LEN 32
#define M_MAX    65536 /* KiB: the heaviest stored hash we agree to verify */
#define T_MAX    8
#define POOL_MAX 16

enum job_kind { JOB_HASH, JOB_VERIFY };

struct sl_password_job {
	struct sl_offload_job base; /* first */
	enum job_kind kind;
	bool bad;    /* verify: the stored hash was unusable */
	bool ok;     /* result of a verification */
	bool hashed; /* result of a hash: hash[] holds it */
	size_t len;
	char pw[SL_PASSWORD_MAX];
	char hash[SL_PASSWORD_HASH_MAX]; /* verify: input; hash: output */
	sl_password_done done;
	void *user;
};

static struct sl_offload *pool;

static void job_release(struct sl_offload_job *b)
{
	struct sl_password_job *j = (struct sl_password_job *)b;

	explicit_bzero(j, sizeof(*j));
	g_free(j);
}

/* Main thread: the worker is done with j and it was not cancelled. */
static void deliver(struct sl_offload_job *b)
{
	struct sl_password_job *j = (struct sl_password_job *)b;

	if (j->kind == JOB_HASH)
		j->done(j->user, j->hashed, j->hashed ? j->hash : NULL);
	else
		j->done(j->user, j->ok, NULL);
}

/* Reads one decimal number of 1-9 digits at *p, without leading zeros. */
static bool read_u32(const char **p, uint32_t *v)
{
	int n = 0;

	*v = 0;
	if (**p == '0')
		return false;
	while (**p >= '0' && **p <= '9' && n < 9) {
		*v = *v * 10 + (uint32_t)(**p - '0');
		(*p)++;
		n++;
	}
	return n > 0 && !(**p >= '0' && **p <= '9');
}

static bool expect(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n))
		return false;
	*p += n;
	return true;
}

/* An argon2id v19 string whose cost we are willing to pay. */
static bool params_ok(const char *enc)
{
	const char *p = enc;
	uint32_t m, t, par;

	return expect(&p, "$argon2id$v=19$m=") && read_u32(&p, &m) && expect(&p, ",t=") &&
	       read_u32(&p, &t) && expect(&p, ",p=") && read_u32(&p, &par) && *p == '$' && m >= 8 &&
	       m <= M_MAX && t >= 1 && t <= T_MAX && par == LANES;
}

static bool fill_salt(uint8_t *salt, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(salt + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static void work_hash(struct sl_password_job *j)
{
	uint8_t salt[SALT_LEN];

	j->hashed = fill_salt(salt, sizeof(salt)) &&
		    argon2id_hash_encoded(T_COST, M_COST, LANES, j->pw, j->len, salt, sizeof(salt),
					  HASH_LEN, j->hash, sizeof(j->hash)) == ARGON2_OK;
	explicit_bzero(j->pw, sizeof(j->pw));
	explicit_bzero(salt, sizeof(salt));
	if (!j->hashed)
		explicit_bzero(j->hash, sizeof(j->hash));
}

static void work_verify(struct sl_password_job *j)
{
	j->ok = !j->bad && params_ok(j->hash) &&
		argon2id_verify(j->hash, j->pw, j->len) == ARGON2_OK;
	explicit_bzero(j->pw, sizeof(j->pw));
}

/* Worker thread. */
static void work(struct sl_offload_job *b)
{
	struct sl_password_job *j = (struct sl_password_job *)b;

	if (j->kind == JOB_HASH)
		work_hash(j);
	else
		work_verify(j);
	explicit_bzero(j->pw, sizeof(j->pw));
}

int sl_password_init(unsigned threads)
{
	if (pool)
		return -EALREADY;
	if (threads < 1 || threads > POOL_MAX)
		return -EINVAL;
	pool = sl_offload_new(threads);
	return pool ? 0 : -EAGAIN;
}

void sl_password_shutdown(void)
{
	sl_offload_free(pool); /* running jobs are waited for, the rest dropped */
	pool = NULL;
}

static struct sl_password_job *submit(enum job_kind kind, const char *password, size_t len,
				      sl_password_done done, void *user)
{
	struct sl_password_job *j;

	if (!pool || !done || !password || len == 0 || len > SL_PASSWORD_MAX ||
	    sl_offload_live(pool) >= SL_PASSWORD_QUEUE_MAX)
		return NULL;
	j = g_new0(struct sl_password_job, 1);
	j->base.work = work;
	j->base.deliver = deliver;
	j->base.release = job_release;
	j->kind = kind;
	j->len = len;
	memcpy(j->pw, password, len);
	j->done = done;
	j->user = user;
	return j;
}

static struct sl_password_job *start(struct sl_password_job *j)
{
	sl_offload_push(pool, &j->base);
	return j;
}

struct sl_password_job *sl_password_hash(const char *password, size_t len, sl_password_done done,
					 void *user)
{
	struct sl_password_job *j = submit(JOB_HASH, password, len, done, user);

	return j ? start(j) : NULL;
}

struct sl_password_job *sl_password_verify(const char *hash, const char *password, size_t len,
					   sl_password_done done, void *user)
{
	struct sl_password_job *j = submit(JOB_VERIFY, password, len, done, user);
	size_t n;

	if (!j)
		return NULL;
	n = hash ? strnlen(hash, sizeof(j->hash)) : sizeof(j->hash);
	if (n < sizeof(j->hash))
		memcpy(j->hash, hash, n);
	else
		j->bad = true; /* answered "no" like any wrong password */
	return start(j);
}

void sl_password_cancel(struct sl_password_job *j)
{
	if (j)
		sl_offload_cancel(&j->base);
}

unsigned sl_password_in_flight(void)
{
	return sl_offload_live(pool);
}

/* Guess guard. */

struct guess {
	uint8_t key[SL_PASSWORD_KEY];
	uint32_t fails;
	uint64_t until; /* ms: no try before */
	uint64_t last;  /* ms: last failure */
};

struct sl_password_guard {
	GHashTable *g; /* key -> struct guess (key points into it) */
	unsigned max_s, max_keys;
	uint64_t pruned_at; /* ms: last prune forced by a full table */
	bool pruned;
};

struct sl_password_guard *sl_password_guard_new(unsigned max_s, unsigned max_keys)
{
	struct sl_password_guard *g = g_new0(struct sl_password_guard, 1);

	g->g = g_hash_table_new_full(sl_throttle_key_hash, sl_throttle_key_equal, NULL, g_free);
	g->max_s = max_s ? max_s : 1;
	g->max_keys = max_keys ? max_keys : 1;
	return g;
}

void sl_password_guard_free(struct sl_password_guard *g)
{
	if (!g)
		return;
	g_hash_table_destroy(g->g);
	g_free(g);
}

/* Seconds to wait after the fails-th failure: 0 for the free ones, then 1, 2, 4... max_s. */
static unsigned wait_s(const struct sl_password_guard *g, uint32_t fails)
{
	uint32_t k;

	if (fails <= SL_PASSWORD_FREE_TRIES)
		return 0;
	k = fails - SL_PASSWORD_FREE_TRIES - 1;
	if (k >= 31 || (1u << k) >= g->max_s)
		return g->max_s;
	return 1u << k;
}

/* A full table is scanned at most once a second, so a flood of new keys
 * costs one O(max_keys) pass a second, not one per request. */
static bool full(struct sl_password_guard *g, uint64_t now_ms)
{
	if (g_hash_table_size(g->g) < g->max_keys)
		return false;
	if (!g->pruned || sl_time_since(now_ms, g->pruned_at) >= 1000) {
		g->pruned = true;
		g->pruned_at = now_ms;
		sl_password_guard_prune(g, now_ms);
	}
	return g_hash_table_size(g->g) >= g->max_keys;
}

unsigned sl_password_guard_check(struct sl_password_guard *g, const uint8_t key[SL_PASSWORD_KEY],
				 uint64_t now_ms)
{
	struct guess *e = g_hash_table_lookup(g->g, key);

	if (!e)
		return full(g, now_ms) ? 1 : 0;
	if (e->until <= now_ms)
		return 0;
	return (unsigned)((e->until - now_ms + 999) / 1000);
}

void sl_password_guard_failed(struct sl_password_guard *g, const uint8_t key[SL_PASSWORD_KEY],
			      uint64_t now_ms)
{
	struct guess *e = g_hash_table_lookup(g->g, key);

	if (!e) {
		/* Full: the key is not tracked, and check() keeps it waiting. */
		if (full(g, now_ms))
			return;
		e = g_new0(struct guess, 1);
		memcpy(e->key, key, SL_PASSWORD_KEY);
		g_hash_table_insert(g->g, e->key, e);
	}
	if (e->fails < UINT32_MAX)
		e->fails++;
	e->last = now_ms;
	e->until = now_ms + (uint64_t)wait_s(g, e->fails) * 1000;
}

void sl_password_guard_passed(struct sl_password_guard *g, const uint8_t key[SL_PASSWORD_KEY])
{
	g_hash_table_remove(g->g, key);
}

void sl_password_guard_prune(struct sl_password_guard *g, uint64_t now_ms)
{
	uint64_t idle = (uint64_t)g->max_s * 2000;
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, g->g);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (sl_time_since(now_ms, ((struct guess *)v)->last) >= idle)
			g_hash_table_iter_remove(&it);
}

unsigned sl_password_guard_size(const struct sl_password_guard *g)
{
	return g_hash_table_size(g->g);
}
