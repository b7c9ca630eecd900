/*
 * test_signalling.c - the signalling message parser and the log scrubber.
 *
 * sl_signal_parse is the first code that sees a client's bytes: every
 * error code of docs/signalling.md that it owns is produced here, and the
 * bounds on every member are checked at their edges. The log scrubber is
 * what keeps addresses out of library log lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>

#include "log.h"
#include "signalling.h"

static const char *parse_code(const char *text)
{
	struct sl_signal_msg m;
	const char *code = NULL, *why = NULL;
	int r = sl_signal_parse(text, strlen(text), &m, &code, &why);

	sl_signal_msg_free(&m);
	if (r == 0)
		return "ok";
	assert_non_null(why);
	return code;
}

static void test_join(void **state)
{
	struct sl_signal_msg m;
	const char *code, *why;
	const char *j = "{\"type\":\"join\",\"room\":\"bakmel-tosrin\",\"name\":\"Ada\"}";

	(void)state;
	assert_int_equal(sl_signal_parse(j, strlen(j), &m, &code, &why), 0);
	assert_int_equal(m.type, SL_MSG_JOIN);
	assert_string_equal(m.room, "bakmel-tosrin");
	assert_string_equal(m.name, "Ada");
	sl_signal_msg_free(&m);
	assert_string_equal(parse_code("{\"type\":\"join\",\"room\":\"r\"}"), "ok");
}

static void test_bounds(void **state)
{
	char buf[512];

	(void)state;
	snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"room\":\"%0128d\"}", 0);
	assert_string_equal(parse_code(buf), "ok");
	snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"room\":\"%0129d\"}", 0);
	assert_string_equal(parse_code(buf), "bad_field");
	snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"room\":\"r\",\"name\":\"%064d\"}", 0);
	assert_string_equal(parse_code(buf), "ok");
	snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"room\":\"r\",\"name\":\"%065d\"}", 0);
	assert_string_equal(parse_code(buf), "bad_field");
	assert_string_equal(parse_code("{\"type\":\"join\",\"room\":\"\"}"), "bad_field");
	/* jansson refuses \u0000 outright */
	assert_string_equal(parse_code("{\"type\":\"join\",\"room\":\"a\\u0000b\"}"), "bad_json");
	assert_string_equal(parse_code("{\"type\":\"join\",\"room\":\"a\\nb\"}"), "bad_field");
	assert_string_equal(parse_code("{\"type\":\"join\",\"room\":5}"), "bad_field");
	assert_string_equal(parse_code("{\"type\":\"join\",\"room\":\"r\",\"name\":[]}"),
			    "bad_field");
}

static void test_answer(void **state)
{
	(void)state;
	assert_string_equal(parse_code("{\"type\":\"answer\",\"sdp\":\"v=0\",\"version\":1}"),
			    "ok");
	assert_string_equal(parse_code("{\"type\":\"answer\",\"sdp\":\"v=0\",\"version\":0}"),
			    "bad_field");
	assert_string_equal(
		parse_code("{\"type\":\"answer\",\"sdp\":\"v=0\",\"version\":4294967296}"),
		"bad_field");
	assert_string_equal(parse_code("{\"type\":\"answer\",\"sdp\":\"\",\"version\":1}"),
			    "bad_field");
	assert_string_equal(parse_code("{\"type\":\"answer\",\"sdp\":\"v=0\",\"version\":\"1\"}"),
			    "bad_field");
	assert_string_equal(parse_code("{\"type\":\"answer\",\"version\":1}"), "bad_field");
}

static void test_refused(void **state)
{
	(void)state;
	assert_string_equal(parse_code("{\"type\":\"join\",\"type\":\"join\",\"room\":\"r\"}"),
			    "bad_json");
	assert_string_equal(parse_code("[1]"), "bad_json");
	assert_string_equal(parse_code("{\"type\":\"join\""), "bad_json");
	assert_string_equal(parse_code("\"join\""), "bad_json");
	assert_string_equal(parse_code(""), "bad_json");
	assert_string_equal(parse_code("{}"), "unknown_type");
	assert_string_equal(parse_code("{\"type\":7}"), "unknown_type");
	assert_string_equal(parse_code("{\"type\":\"kick\"}"), "unknown_type");
	assert_string_equal(parse_code("{\"type\":\"leave\"}"), "ok");
}

static void test_too_large(void **state)
{
	size_t n = 300 * 1024;
	char *big = malloc(n + 1);
	struct sl_signal_msg m;
	const char *code, *why;

	(void)state;
	memset(big, ' ', n);
	memcpy(big, "{\"type\":\"leave\"}", 16);
	big[n] = 0;
	assert_int_equal(sl_signal_parse(big, n, &m, &code, &why), -EINVAL);
	assert_string_equal(code, "too_large");
	sl_signal_msg_free(&m);
	free(big);
}

static void test_scrub(void **state)
{
	char a[] = "connection from 10.98.0.2:5000 failed";
	char b[] = "peer [fd99::2]:443 and ::ffff:127.0.0.1 gone";
	char c[] = "version 1.2 of 3 things: ok";

	(void)state;
	sl_log_scrub(a);
	assert_string_equal(a, "connection from * failed");
	sl_log_scrub(b);
	assert_null(strstr(b, "fd99"));
	assert_null(strstr(b, "127.0.0.1"));
	sl_log_scrub(c);
	assert_string_equal(c, "version 1.2 of 3 things: ok");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join),      cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_answer),    cmocka_unit_test(test_refused),
		cmocka_unit_test(test_too_large), cmocka_unit_test(test_scrub),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
