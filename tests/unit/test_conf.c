/*
 * test_conf.c - the config-file reader both processes use (common/conf.c).
 *
 * A config file is operator input: every setting must reach the option
 * parser exactly as written, and every malformed line must stop start-up
 * with the file and line named, never be skipped or half-applied.
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

#include <sluice/conf.h>

struct seen {
	int n;
	char key[16][64];
	char value[16][256];
	int is_null[16];
};

/* Records every setting; "bad" is refused like an unknown option. */
static int record(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	struct seen *s = ctx;

	if (!strcmp(key, "bad")) {
		snprintf(err, errlen, "unknown option '%s'", key);
		return -EINVAL;
	}
	assert_true(s->n < 16);
	snprintf(s->key[s->n], sizeof(s->key[0]), "%s", key);
	snprintf(s->value[s->n], sizeof(s->value[0]), "%s", value ? value : "");
	s->is_null[s->n] = value == NULL;
	s->n++;
	return 0;
}

static int parse(struct seen *s, const char *text, char *err)
{
	memset(s, 0, sizeof(*s));
	err[0] = '\0';
	return sl_conf_parse("test.conf", text, strlen(text), record, s, err, 256);
}

static void lines_and_comments(void **state)
{
	struct seen s;
	char err[256];

	(void)state;
	assert_int_equal(parse(&s,
			       "# a comment\n"
			       "\n"
			       "port = 8080\n"
			       "  listen=::1   # trailing comment\n"
			       "\tweb-root =  /srv/web dir \r\n"
			       "flag\n"
			       "other-flag = true\n"
			       "origin = https://a.example#frag\n"
			       "eq = a=b\n"
			       "empty =\n"
			       "last = no newline",
			       err),
			 0);
	assert_int_equal(s.n, 9);
	assert_string_equal(s.key[0], "port");
	assert_string_equal(s.value[0], "8080");
	assert_string_equal(s.key[1], "listen");
	assert_string_equal(s.value[1], "::1");
	assert_string_equal(s.value[2], "/srv/web dir");
	assert_string_equal(s.key[3], "flag");
	assert_true(s.is_null[3]);
	assert_string_equal(s.value[4], "true");
	assert_false(s.is_null[4]);
	assert_string_equal(s.value[5], "https://a.example#frag"); /* '#' not after a blank */
	assert_string_equal(s.value[6], "a=b");
	assert_string_equal(s.value[7], "");
	assert_false(s.is_null[7]);
	assert_string_equal(s.value[8], "no newline");
	assert_int_equal(parse(&s, "", err), 0);
	assert_int_equal(s.n, 0);
}

static void bad_lines_name_file_and_line(void **state)
{
	static const struct {
		const char *text, *expect;
	} cases[] = {
		{ "port = 1\nbad = 2\n", "test.conf:2: unknown option 'bad'" },
		{ "port = 1\n\n--port = 2\n", "test.conf:3: expected 'key = value'" },
		{ "= 2\n", "test.conf:1: expected 'key = value'" },
		{ "Port = 2\n", "test.conf:1:" },
		{ "port 2\n", "test.conf:1:" },
		{ "# x\nconfig = /etc/other.conf\n", "test.conf:2: 'config' cannot be set" },
		{ "config\n", "test.conf:1: 'config' cannot be set" },
	};
	struct seen s;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(&s, cases[i].text, err) != -EINVAL)
			fail_msg("case %zu accepted", i);
		if (!strstr(err, cases[i].expect))
			fail_msg("'%s': got '%s', want '%s'", cases[i].text, err, cases[i].expect);
	}
	/* Nothing after the bad line is applied. */
	assert_int_equal(parse(&s, "a = 1\nbad = 2\nc = 3\n", err), -EINVAL);
	assert_int_equal(s.n, 1);
}

static void bounds(void **state)
{
	static char big[SL_CONF_MAX_BYTES + 2];
	char line[SL_CONF_MAX_LINE + 16], err[256];
	struct seen s;

	(void)state;
	/* A NUL byte: not a text file. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(sl_conf_parse("t", "a = 1\0b = 2\n", 12, record, &s, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(s.n, 0);
	/* A line of exactly the limit is fine, one byte more is not. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "k = ", 4);
	line[SL_CONF_MAX_LINE] = '\0';
	assert_int_equal(parse(&s, line, err), 0);
	line[SL_CONF_MAX_LINE] = 'x';
	line[SL_CONF_MAX_LINE + 1] = '\0';
	assert_int_equal(parse(&s, line, err), -EINVAL);
	assert_non_null(strstr(err, "t.conf:1: line longer than"));
	/* The whole text. */
	memset(big, '\n', sizeof(big));
	assert_int_equal(sl_conf_parse("t", big, SL_CONF_MAX_BYTES, record, &s, err, sizeof(err)),
			 0);
	assert_int_equal(
		sl_conf_parse("t", big, SL_CONF_MAX_BYTES + 1, record, &s, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "larger than"));
}

static void files(void **state)
{
	char path[] = "/tmp/sl_test_conf_XXXXXX", err[256];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct seen s = { 0 };

	(void)state;
	fprintf(f, "port = 9000\n");
	fclose(f);
	assert_int_equal(sl_conf_read(path, record, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.value[0], "9000");
	/* One byte over the limit, even if every line is blank. */
	f = fopen(path, "w");
	for (int i = 0; i <= SL_CONF_MAX_BYTES; i++)
		fputc('\n', f);
	fclose(f);
	assert_int_equal(sl_conf_read(path, record, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "larger than"));
	unlink(path);
	assert_int_equal(sl_conf_read(path, record, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cannot open"));
	assert_non_null(strstr(err, path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_and_comments),
		cmocka_unit_test(bad_lines_name_file_and_line),
		cmocka_unit_test(bounds),
		cmocka_unit_test(files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
