/*
 * test_password.c - controlplane/meeting/password.c: argon2id jobs on the
 * thread pool, delivered on the main context, and the guess guard.
 *
 * Jobs are real argon2id computations (tens of ms each); the test waits
 * for them by iterating the default main context, as the control plane's
 * loop does, with a 60 s watchdog so a lost callback fails instead of
 * hanging. The guard is pure and is driven with invented clock values.
 * The time of one hash and one verification is printed, never asserted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <argon2.h>
#include <cmocka.h>
#include <glib.h>

#include "password.h"

#define PREFIX "$argon2id$v=19$m=19456,t=2,p=1$"

struct res {
	int calls;
	bool ok;
	char hash[SL_PASSWORD_HASH_MAX];
	bool had_hash;
	GThread *thread;
	struct sl_password_job *self; /* cancelled from inside its own callback */
};

static GThread *main_thread;

static void done(void *user, bool ok, const char *hash)
{
	struct res *r = user;

	r->calls++;
	r->ok = ok;
	r->had_hash = hash != NULL;
	if (hash)
		g_strlcpy(r->hash, hash, sizeof(r->hash));
	r->thread = g_thread_self();
	if (r->self)
		sl_password_cancel(r->self);
}

static gboolean watchdog(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

/* Iterates the main context until *calls reaches n (and, with n < 0,
 * until no job is in flight). */
static void wait_calls(const int *calls, int n)
{
	bool expired = false;
	guint id = g_timeout_add_seconds(60, watchdog, &expired);

	while (!expired && (n >= 0 ? *calls < n : sl_password_in_flight() > 0))
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(id);
	assert_false(expired);
}

static void drain(void)
{
	wait_calls(NULL, -1);
}

static int setup(void **state)
{
	(void)state;
	return sl_password_init(2);
}

static int teardown(void **state)
{
	(void)state;
	sl_password_shutdown();
	return 0;
}

static double ms_since(gint64 t0)
{
	return (double)(g_get_monotonic_time() - t0) / 1000.0;
}

static void hash_sync(const char *pw, size_t len, struct res *r)
{
	memset(r, 0, sizeof(*r));
	assert_non_null(sl_password_hash(pw, len, done, r));
	wait_calls(&r->calls, 1);
	assert_int_equal(r->calls, 1);
}

static bool verify_sync(const char *hash, const char *pw, size_t len)
{
	struct res r = { 0 };

	assert_non_null(sl_password_verify(hash, pw, len, done, &r));
	assert_int_equal(r.calls, 0); /* never called back synchronously */
	wait_calls(&r.calls, 1);
	assert_int_equal(r.calls, 1);
	assert_false(r.had_hash);
	return r.ok;
}

static void test_hash_verify(void **state)
{
	struct res h;
	gint64 t0;
	double hash_ms, verify_ms;
	const char *s;

	(void)state;
	t0 = g_get_monotonic_time();
	hash_sync("correct horse", 13, &h);
	hash_ms = ms_since(t0);
	assert_true(h.ok);
	assert_true(h.had_hash);
	/* argon2id, v19, m = 19456 KiB, t = 2, p = 1; 16-byte salt, 32-byte hash (unpadded base64) */
	assert_int_equal(strncmp(h.hash, PREFIX, strlen(PREFIX)), 0);
	s = h.hash + strlen(PREFIX);
	assert_non_null(strchr(s, '$'));
	assert_int_equal(strchr(s, '$') - s, 22);
	assert_int_equal(strlen(strchr(s, '$') + 1), 43);

	t0 = g_get_monotonic_time();
	assert_true(verify_sync(h.hash, "correct horse", 13));
	verify_ms = ms_since(t0);
	assert_false(verify_sync(h.hash, "correct horsf", 13));
	assert_false(verify_sync(h.hash, "correct hors", 12));
	assert_false(verify_sync(h.hash, "correct horse ", 14));
	assert_false(verify_sync(h.hash, "Correct horse", 13));
	printf("password: one hash %.1f ms, one verify %.1f ms (argon2id m=19456 t=2 p=1)\n",
	       hash_ms, verify_ms);
}

static void test_lengths(void **state)
{
	char pw[SL_PASSWORD_MAX + 1];
	struct res h, r = { 0 };

	(void)state;
	memset(pw, 'x', sizeof(pw));
	pw[0] = '\0'; /* bytes, not a C string: a NUL inside counts */
	hash_sync(pw, SL_PASSWORD_MAX, &h);
	assert_true(h.ok);
	assert_true(verify_sync(h.hash, pw, SL_PASSWORD_MAX));
	assert_false(verify_sync(h.hash, pw, SL_PASSWORD_MAX - 1));

	/* Empty and 129 bytes are refused at once, with no callback. */
	assert_null(sl_password_hash(pw, 0, done, &r));
	assert_null(sl_password_hash(pw, SL_PASSWORD_MAX + 1, done, &r));
	assert_null(sl_password_verify(h.hash, pw, 0, done, &r));
	assert_null(sl_password_verify(h.hash, pw, SL_PASSWORD_MAX + 1, done, &r));
	assert_int_equal(sl_password_in_flight(), 0);
	assert_int_equal(r.calls, 0);
}

static void test_salted(void **state)
{
	struct res a, b;

	(void)state;
	hash_sync("same", 4, &a);
	hash_sync("same", 4, &b);
	assert_true(a.ok && b.ok);
	assert_string_not_equal(a.hash, b.hash);
	assert_true(verify_sync(a.hash, "same", 4));
	assert_true(verify_sync(b.hash, "same", 4));
}

/* An argon2id hash of "pw" made here with other parameters. */
static const char *made(uint32_t m, uint32_t t, uint32_t p, char *buf, size_t n)
{
	static const uint8_t salt[16] = "0123456789abcdef";

	assert_int_equal(argon2id_hash_encoded(t, m, p, "pw", 2, salt, sizeof(salt), 32, buf, n),
			 ARGON2_OK);
	return buf;
}

static void test_malformed(void **state)
{
	struct res h;
	char buf[300], heavy[256];
	const char *tail;

	(void)state;
	hash_sync("pw", 2, &h);
	tail = h.hash + strlen(PREFIX);
	assert_false(verify_sync("", "pw", 2));
	assert_false(verify_sync("garbage", "pw", 2));
	assert_false(verify_sync(NULL, "pw", 2));
	/* truncated */
	g_strlcpy(buf, h.hash, strlen(h.hash) - 5);
	assert_false(verify_sync(buf, "pw", 2));
	/* another variant of argon2 with the same salt and hash */
	snprintf(buf, sizeof(buf), "$argon2i$v=19$m=19456,t=2,p=1$%s", tail);
	assert_false(verify_sync(buf, "pw", 2));
	/* Valid hashes of "pw" whose parameters we do not pay for are refused;
	 * the heaviest we accept (64 MiB, 8 passes, one lane) passes. */
	assert_true(verify_sync(made(65536, 8, 1, buf, sizeof(buf)), "pw", 2));
	assert_false(verify_sync(made(65537, 2, 1, buf, sizeof(buf)), "pw", 2));
	assert_false(verify_sync(made(19456, 9, 1, buf, sizeof(buf)), "pw", 2));
	assert_false(verify_sync(made(19456, 2, 2, buf, sizeof(buf)), "pw", 2));
	/* and only their canonical spelling */
	snprintf(heavy, sizeof(heavy), "$argon2id$v=19$m=019456,t=2,p=1$%s", tail);
	assert_false(verify_sync(heavy, "pw", 2));
	/* longer than any hash we store, no NUL within SL_PASSWORD_HASH_MAX */
	memset(buf, 'a', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	memcpy(buf, h.hash, strlen(h.hash));
	assert_false(verify_sync(buf, "pw", 2));
	/* and the real one still passes */
	assert_true(verify_sync(h.hash, "pw", 2));
}

static void test_queue_bound(void **state)
{
	struct res r[SL_PASSWORD_QUEUE_MAX + 1];
	struct sl_password_job *j[SL_PASSWORD_QUEUE_MAX + 1];

	(void)state;
	memset(r, 0, sizeof(r));
	for (int i = 0; i < SL_PASSWORD_QUEUE_MAX; i++) {
		j[i] = sl_password_hash("pw", 2, done, &r[i]);
		assert_non_null(j[i]);
	}
	assert_int_equal(sl_password_in_flight(), SL_PASSWORD_QUEUE_MAX);
	assert_null(sl_password_hash("pw", 2, done, &r[SL_PASSWORD_QUEUE_MAX]));
	assert_null(sl_password_verify(PREFIX "x$y", "pw", 2, done, &r[SL_PASSWORD_QUEUE_MAX]));
	/* Cancelled jobs still count until their worker is done with them. */
	for (int i = 1; i < SL_PASSWORD_QUEUE_MAX; i++)
		sl_password_cancel(j[i]);
	assert_null(sl_password_hash("pw", 2, done, &r[SL_PASSWORD_QUEUE_MAX]));
	wait_calls(&r[0].calls, 1);
	drain();
	for (int i = 1; i <= SL_PASSWORD_QUEUE_MAX; i++)
		assert_int_equal(r[i].calls, 0);
	assert_int_equal(r[0].calls, 1);
	/* Room again. */
	j[0] = sl_password_hash("pw", 2, done, &r[SL_PASSWORD_QUEUE_MAX]);
	assert_non_null(j[0]);
	wait_calls(&r[SL_PASSWORD_QUEUE_MAX].calls, 1);
}

static void test_cancel(void **state)
{
	struct res running = { 0 }, queued = { 0 }, last = { 0 }, own = { 0 };
	struct sl_password_job *jr, *jq;
	int spins = 0;

	(void)state;
	/* One thread: the first job runs, the second waits behind it. */
	sl_password_shutdown();
	assert_int_equal(sl_password_init(1), 0);
	assert_int_equal(sl_password_init(1), -EALREADY);
	jr = sl_password_hash("pw", 2, done, &running);
	jq = sl_password_verify(PREFIX "AAAAAAAAAAAAAAAAAAAAAA$AAAA", "pw", 2, done, &queued);
	assert_non_null(jr);
	assert_non_null(jq);
	g_usleep(5000); /* the worker is inside argon2 for tens of ms */
	sl_password_cancel(jr);
	sl_password_cancel(jq);
	own.self = sl_password_hash("pw", 2, done, &own);
	assert_non_null(sl_password_hash("pw", 2, done, &last));
	wait_calls(&last.calls, 1);
	drain();
	/* the queue is FIFO on one thread: the cancelled ones were done first */
	assert_int_equal(running.calls, 0);
	assert_int_equal(queued.calls, 0);
	assert_int_equal(own.calls, 1);
	assert_true(own.ok);
	assert_int_equal(last.calls, 1);
	assert_int_equal(sl_password_in_flight(), 0);
	/* Nothing late arrives either. */
	while (g_main_context_iteration(NULL, FALSE) && spins++ < 100)
		;
	assert_int_equal(running.calls + queued.calls, 0);
}

static void test_main_thread(void **state)
{
	struct res h, v = { 0 };

	(void)state;
	hash_sync("pw", 2, &h);
	assert_ptr_equal(h.thread, main_thread);
	assert_non_null(sl_password_verify(h.hash, "pw", 2, done, &v));
	wait_calls(&v.calls, 1);
	assert_ptr_equal(v.thread, main_thread);
	assert_true(v.ok);
}

static void test_shutdown(void **state)
{
	struct res r[6];

	(void)state;
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 6; i++)
		assert_non_null(sl_password_hash("pw", 2, done, &r[i]));
	sl_password_shutdown();
	assert_int_equal(sl_password_in_flight(), 0);
	assert_null(sl_password_hash("pw", 2, done, &r[0]));
	for (int spins = 0; spins < 100 && g_main_context_iteration(NULL, FALSE); spins++)
		;
	for (int i = 0; i < 6; i++)
		assert_int_equal(r[i].calls, 0);
	assert_int_equal(sl_password_init(0), -EINVAL);
	assert_int_equal(sl_password_init(17), -EINVAL);
	assert_int_equal(sl_password_init(2), 0);
}

/* Guard. */

static const uint8_t K1[SL_PASSWORD_KEY] = { 1 };
static const uint8_t K2[SL_PASSWORD_KEY] = { 2 };

/* An obedient client: waits exactly what it is told, then fails again. */
static void schedule(unsigned max_s, const unsigned *want, int n)
{
	struct sl_password_guard *g = sl_password_guard_new(max_s, 100);
	uint64_t now = 1000000;

	for (int i = 0; i < n; i++) {
		assert_int_equal(sl_password_guard_check(g, K1, now), 0);
		sl_password_guard_failed(g, K1, now);
		assert_int_equal(sl_password_guard_check(g, K1, now), want[i]);
		if (want[i]) {
			assert_int_equal(
				sl_password_guard_check(g, K1, now + want[i] * 1000 - 1000), 1);
			assert_int_equal(sl_password_guard_check(g, K1, now + want[i] * 1000 - 1),
					 1);
		}
		assert_int_equal(sl_password_guard_check(g, K2, now), 0); /* others unaffected */
		now += want[i] * 1000;
	}
	sl_password_guard_free(g);
}

static void test_guard_schedule(void **state)
{
	/* failures 1..14 */
	static const unsigned w300[] = { 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300 };
	static const unsigned w2[] = { 0, 0, 0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 };
	static const unsigned w1[] = { 0, 0, 0, 1, 1, 1 };

	(void)state;
	schedule(300, w300, 14);
	schedule(2, w2, 14);
	schedule(1, w1, 6);
}

static void test_guard_passed(void **state)
{
	struct sl_password_guard *g = sl_password_guard_new(300, 100);

	(void)state;
	for (int i = 0; i < 6; i++)
		sl_password_guard_failed(g, K1, 5000);
	sl_password_guard_failed(g, K2, 5000);
	assert_int_equal(sl_password_guard_check(g, K1, 5000), 4);
	sl_password_guard_passed(g, K1);
	assert_int_equal(sl_password_guard_check(g, K1, 5000), 0);
	assert_int_equal(sl_password_guard_size(g), 1);
	/* the free tries are back */
	for (int i = 0; i < 3; i++) {
		sl_password_guard_failed(g, K1, 5000);
		assert_int_equal(sl_password_guard_check(g, K1, 5000), 0);
	}
	sl_password_guard_failed(g, K1, 5000);
	assert_int_equal(sl_password_guard_check(g, K1, 5000), 1);
	sl_password_guard_passed(g, K2);
	assert_int_equal(sl_password_guard_size(g), 1);
	sl_password_guard_free(g);
}

static void test_guard_prune(void **state)
{
	struct sl_password_guard *g = sl_password_guard_new(10, 100);

	(void)state;
	for (int i = 0; i < 20; i++)
		sl_password_guard_failed(g, K1, 1000); /* at the cap: 10 s */
	sl_password_guard_failed(g, K2, 5000);
	assert_int_equal(sl_password_guard_check(g, K1, 1000), 10);
	/* idle for 2 * max_s = 20 s */
	sl_password_guard_prune(g, 1000 + 20000 - 1);
	assert_int_equal(sl_password_guard_size(g), 2);
	sl_password_guard_prune(g, 1000 + 20000);
	assert_int_equal(sl_password_guard_size(g), 1);
	sl_password_guard_prune(g, 5000 + 20000);
	assert_int_equal(sl_password_guard_size(g), 0);
	/* a forgotten key starts over with its free tries */
	sl_password_guard_failed(g, K1, 30000);
	assert_int_equal(sl_password_guard_check(g, K1, 30000), 0);
	sl_password_guard_free(g);
}

static void test_guard_max_keys(void **state)
{
	struct sl_password_guard *g = sl_password_guard_new(300, 4);
	uint8_t k[SL_PASSWORD_KEY] = { 0 };
	uint64_t now = 1000;

	(void)state;
	/* A tracked key in backoff (5 failures: 2 s). */
	for (int i = 0; i < 5; i++)
		sl_password_guard_failed(g, K1, now);
	assert_int_equal(sl_password_guard_check(g, K1, now), 2);
	/* An attacker fills the table, and keeps trying new keys. */
	for (int i = 0; i < 1000; i++) {
		k[0] = 0x80;
		k[1] = (uint8_t)i;
		k[2] = (uint8_t)(i >> 8);
		sl_password_guard_failed(g, k, now + (uint64_t)i);
	}
	assert_int_equal(sl_password_guard_size(g), 4);
	/* The tracked key has not been forgotten, and still counts up. */
	assert_int_equal(sl_password_guard_check(g, K1, now + 1000), 1);
	sl_password_guard_failed(g, K1, now + 2000);
	assert_int_equal(sl_password_guard_check(g, K1, now + 2000), 4);
	/* A new key waits 1 s while the table is full, and is not added. */
	assert_int_equal(sl_password_guard_check(g, K2, now + 2000), 1);
	sl_password_guard_failed(g, K2, now + 2000);
	assert_int_equal(sl_password_guard_size(g), 4);
	assert_int_equal(sl_password_guard_check(g, K2, now + 2000), 1);
	/* Once the attacker's entries are idle for 2 * max_s, room is made. */
	now += 2000 + 600000;
	assert_int_equal(sl_password_guard_check(g, K2, now), 0);
	assert_int_equal(sl_password_guard_size(g), 0);
	sl_password_guard_failed(g, K2, now);
	assert_int_equal(sl_password_guard_size(g), 1);
	sl_password_guard_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify),    cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_salted),         cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_queue_bound),    cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_main_thread),    cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_guard_schedule), cmocka_unit_test(test_guard_passed),
		cmocka_unit_test(test_guard_prune),    cmocka_unit_test(test_guard_max_keys),
	};

	main_thread = g_thread_self();
	return cmocka_run_group_tests(tests, setup, teardown);
}
