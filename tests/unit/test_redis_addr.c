/*
 * test_redis_addr.c - the --redis URL and --redis-password-file reader
 * (common/redis_addr.c) that sluicectl uses.
 *
 * Both are operator input: every documented form must parse to the right
 * socket, host and port, everything else must be refused with a message
 * that repeats neither the URL nor the password.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <sluice/redis_addr.h>

static void test_forms(void **state)
{
	struct sl_redis_addr a;
	char err[256];

	(void)state;
	assert_int_equal(sl_redis_addr_parse("unix:/run/redis.sock", &a, err, sizeof(err)), 0);
	assert_string_equal(a.sock, "/run/redis.sock");
	assert_int_equal(sl_redis_addr_parse("tcp://10.0.0.5:6380", &a, err, sizeof(err)), 0);
	assert_string_equal(a.sock, "");
	assert_string_equal(a.host, "10.0.0.5");
	assert_int_equal(a.port, 6380);
	assert_int_equal(sl_redis_addr_parse("redis://redis.example:6379", &a, err, sizeof(err)),
			 0);
	assert_string_equal(a.host, "redis.example");
	assert_int_equal(a.port, 6379);
	assert_int_equal(sl_redis_addr_parse("tcp://::1:6379", &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "::1");
	assert_int_equal(a.port, 6379);
}

static void test_refused(void **state)
{
	static const char *const bad[] = { "unix:relative.sock",
					   "unix:",
					   "/run/redis.sock",
					   "tcp://host",
					   "tcp://:6379",
					   "tcp://host:0",
					   "tcp://host:65536",
					   "tcp://host:63x",
					   "tcp://host:+63",
					   "tcp://host:",
					   "redis://user:hunter2@host:6379",
					   "redis://host/0:6379",
					   "http://host:80",
					   "" };
	struct sl_redis_addr a;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(sl_redis_addr_parse(bad[i], &a, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "--redis"));
		assert_null(strstr(err, "hunter2"));
	}
}

static void write_file(const char *path, const char *s, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, n, f), n);
	fclose(f);
}

static void test_password(void **state)
{
	char path[] = "/tmp/sl-redis-pw-XXXXXX", pw[SL_REDIS_PASSWORD_MAX + 1], err[256];
	char big[SL_REDIS_PASSWORD_MAX + 2];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "s3cret\r\nsecond line\n", 20);
	assert_int_equal(sl_redis_password_load(path, pw, err, sizeof(err)), 0);
	assert_string_equal(pw, "s3cret");
	write_file(path, "only", 4);
	assert_int_equal(sl_redis_password_load(path, pw, err, sizeof(err)), 0);
	assert_string_equal(pw, "only");
	/* the longest accepted, then one byte more */
	memset(big, 'p', sizeof(big));
	write_file(path, big, SL_REDIS_PASSWORD_MAX - 1);
	assert_int_equal(sl_redis_password_load(path, pw, err, sizeof(err)), 0);
	assert_int_equal(strlen(pw), SL_REDIS_PASSWORD_MAX - 1);
	write_file(path, big, SL_REDIS_PASSWORD_MAX);
	assert_int_equal(sl_redis_password_load(path, pw, err, sizeof(err)), -EINVAL);
	assert_string_equal(pw, "");
	assert_null(strstr(err, "ppp"));
	write_file(path, "\nhunter2\n", 9);
	assert_int_equal(sl_redis_password_load(path, pw, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "hunter2"));
	unlink(path);
	assert_int_equal(sl_redis_password_load(path, pw, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--redis-password-file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_password),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
