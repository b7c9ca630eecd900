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
	assert_string_equal(parse_code("{\"type\":\"kick_all\"}"), "unknown_type");
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

/* The entry-control messages: each member's type and bounds. */
static void test_entry_messages(void **state)
{
	static const struct {
		const char *text, *code;
	} cases[] = {
		{ "{\"type\":\"check_name\",\"room\":\"BrightOtter\"}", "ok" },
		{ "{\"type\":\"check_name\"}", "bad_field" },
		{ "{\"type\":\"check_name\",\"room\":\"\"}", "bad_field" },
		{ "{\"type\":\"join\",\"room\":\"r\",\"password\":\"pw\"}", "ok" },
		{ "{\"type\":\"join\",\"room\":\"r\",\"password\":\"\"}", "bad_field" },
		{ "{\"type\":\"join\",\"room\":\"r\",\"password\":null}", "bad_field" },
		{ "{\"type\":\"join\",\"room\":\"r\",\"password\":1}", "bad_field" },
		{ "{\"type\":\"join\",\"room\":\"r\",\"token\":\"a.b.c\"}", "ok" },
		{ "{\"type\":\"join\",\"room\":\"r\",\"token\":\"\"}", "bad_field" },
		{ "{\"type\":\"join\",\"room\":\"r\",\"token\":{}}", "bad_field" },
		{ "{\"type\":\"set_password\",\"password\":\"s3cret\"}", "ok" },
		{ "{\"type\":\"set_password\",\"password\":null}", "ok" },
		{ "{\"type\":\"set_password\"}", "bad_field" },
		{ "{\"type\":\"set_password\",\"password\":\"\"}", "bad_field" },
		{ "{\"type\":\"set_password\",\"password\":true}", "bad_field" },
		{ "{\"type\":\"lock\",\"locked\":true}", "ok" },
		{ "{\"type\":\"lock\",\"locked\":\"yes\"}", "bad_field" },
		{ "{\"type\":\"lock\"}", "bad_field" },
		{ "{\"type\":\"lobby\",\"enabled\":false}", "ok" },
		{ "{\"type\":\"lobby\",\"enabled\":0}", "bad_field" },
		{ "{\"type\":\"admit\",\"participant\":\"0123456789abcdef\"}", "ok" },
		{ "{\"type\":\"deny\",\"participant\":\"0123456789abcdef\"}", "ok" },
		{ "{\"type\":\"admit\",\"participant\":\"../x\"}", "bad_field" },
		{ "{\"type\":\"admit\"}", "bad_field" },
		{ "{\"type\":\"kick\",\"participant\":\"ABCDEF\"}", "bad_field" },
		{ "{\"type\":\"kick\",\"participant\":\"abc\"}", "ok" },
		{ "{\"type\":\"grant_moderator\",\"participant\":7}", "bad_field" },
		{ "{\"type\":\"mute\",\"participant\":\"ab\",\"kind\":\"audio\"}", "ok" },
		{ "{\"type\":\"mute\",\"participant\":\"ab\",\"kind\":\"video\","
		  "\"muted\":false}",
		  "ok" },
		{ "{\"type\":\"mute\",\"participant\":\"ab\",\"kind\":\"screen\"}", "bad_field" },
		{ "{\"type\":\"mute\",\"participant\":\"ab\",\"kind\":\"audio\",\"muted\":1}",
		  "bad_field" },
		{ "{\"type\":\"end_meeting\"}", "ok" },
		{ "{\"type\":\"chat\",\"text\":\"hi <b>\"}", "ok" },
		{ "{\"type\":\"chat\",\"text\":\"hi\",\"to\":\"ab12\"}", "ok" },
		{ "{\"type\":\"chat\",\"text\":\"\"}", "bad_field" },
		{ "{\"type\":\"chat\"}", "bad_field" },
		{ "{\"type\":\"chat\",\"text\":\"a\\u0000b\"}", "bad_json" },
		{ "{\"type\":\"chat\",\"text\":\"hi\",\"to\":\"XY\"}", "bad_field" },
		{ "{\"type\":\"chat\",\"text\":\"hi\",\"to\":5}", "bad_field" },
		{ "{\"type\":\"permissions\",\"chat\":\"moderators\"}", "ok" },
		{ "{\"type\":\"permissions\",\"screenshare\":\"all\"}", "ok" },
		{ "{\"type\":\"permissions\",\"chat\":\"all\",\"screenshare\":\"moderators\"}",
		  "ok" },
		{ "{\"type\":\"permissions\"}", "bad_field" },
		{ "{\"type\":\"permissions\",\"chat\":\"some\"}", "bad_field" },
		{ "{\"type\":\"permissions\",\"chat\":true}", "bad_field" },
		{ "{\"type\":\"screenshare\",\"enabled\":true}", "ok" },
		{ "{\"type\":\"screenshare\",\"enabled\":false}", "ok" },
		{ "{\"type\":\"screenshare\"}", "bad_field" },
		{ "{\"type\":\"screenshare\",\"enabled\":1}", "bad_field" },
		{ "{\"type\":\"p2p\",\"to\":\"ab12\",\"payload\":{\"sdp\":\"v=0\"}}", "ok" },
		{ "{\"type\":\"p2p\",\"to\":\"ab12\",\"payload\":{}}", "ok" },
		{ "{\"type\":\"p2p\",\"to\":\"ab12\"}", "bad_field" },
		{ "{\"type\":\"p2p\",\"to\":\"ab12\",\"payload\":\"v=0\"}", "bad_field" },
		{ "{\"type\":\"p2p\",\"to\":\"ab12\",\"payload\":[]}", "bad_field" },
		{ "{\"type\":\"p2p\",\"to\":\"ab12\",\"payload\":null}", "bad_field" },
		{ "{\"type\":\"p2p\",\"payload\":{}}", "bad_field" },
		{ "{\"type\":\"p2p\",\"to\":\"AB\",\"payload\":{}}", "bad_field" },
		{ "{\"type\":\"p2p\",\"to\":7,\"payload\":{}}", "bad_field" },
		{ "{\"type\":\"speaker_stats\"}", "ok" },
		{ "{\"type\":\"speaker_stats\",\"extra\":[1]}", "ok" },
	};
	char buf[9000];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = parse_code(cases[i].text);

		if (strcmp(got, cases[i].code))
			fail_msg("%s: %s, expected %s", cases[i].text, got, cases[i].code);
	}
	snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"room\":\"r\",\"password\":\"%0128d\"}", 0);
	assert_string_equal(parse_code(buf), "ok");
	snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"room\":\"r\",\"password\":\"%0129d\"}", 0);
	assert_string_equal(parse_code(buf), "bad_field");
	snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"room\":\"r\",\"token\":\"%08192d\"}", 0);
	assert_string_equal(parse_code(buf), "ok");
	snprintf(buf, sizeof(buf), "{\"type\":\"join\",\"room\":\"r\",\"token\":\"%08193d\"}", 0);
	assert_string_equal(parse_code(buf), "bad_field");
	snprintf(buf, sizeof(buf), "{\"type\":\"chat\",\"text\":\"%04096d\"}", 0);
	assert_string_equal(parse_code(buf), "ok");
	snprintf(buf, sizeof(buf), "{\"type\":\"chat\",\"text\":\"%04097d\"}", 0);
	assert_string_equal(parse_code(buf), "bad_field");
	{
		/* p2p: the payload {"x":"..."} is capped at 16384 bytes serialized. */
		static char big[20000];

		snprintf(big, sizeof(big),
			 "{\"type\":\"p2p\",\"to\":\"ab\",\"payload\":{\"x\":\"%016376d\"}}", 0);
		assert_string_equal(parse_code(big), "ok");
		snprintf(big, sizeof(big),
			 "{\"type\":\"p2p\",\"to\":\"ab\",\"payload\":{\"x\":\"%016377d\"}}", 0);
		assert_string_equal(parse_code(big), "bad_field");
	}
}

/* The parsed values, and that secrets are wiped when the message is freed. */
static void test_entry_values(void **state)
{
	struct sl_signal_msg m;
	const char *code, *why;
	const char *j = "{\"type\":\"join\",\"room\":\"r\",\"password\":\"hunter2\","
			"\"token\":\"t.o.k\"}";
	const char *mu = "{\"type\":\"mute\",\"participant\":\"ab12\",\"kind\":\"video\"}";
	char *pw, *tok;

	(void)state;
	assert_int_equal(sl_signal_parse(j, strlen(j), &m, &code, &why), 0);
	assert_string_equal(m.password, "hunter2");
	assert_int_equal(m.password_len, 7);
	assert_string_equal(m.token, "t.o.k");
	/* jansson keeps the strings alive in root until free: check the wipe
	 * through a reference of our own. */
	json_incref(m.root);
	pw = (char *)m.password;
	tok = (char *)m.token;
	{
		json_t *root = m.root;

		sl_signal_msg_free(&m);
		assert_int_equal(pw[0], 0);
		assert_memory_equal(pw, "\0\0\0\0\0\0\0", 7);
		assert_int_equal(tok[0], 0);
		json_decref(root);
	}
	assert_int_equal(sl_signal_parse(mu, strlen(mu), &m, &code, &why), 0);
	assert_int_equal(m.type, SL_MSG_MUTE);
	assert_string_equal(m.participant, "ab12");
	assert_int_equal(m.kind, 2);
	assert_true(m.flag); /* muted defaults to true */
	sl_signal_msg_free(&m);
}

/* Every message type x role: which are refused, with which code. */
static void test_rights(void **state)
{
	static const struct {
		const char *text;
		const char *participant, *moderator; /* code for each role; NULL = allowed */
		bool to_self;
	} cases[] = {
		{ "{\"type\":\"join\",\"room\":\"r\"}", NULL, NULL, false },
		{ "{\"type\":\"answer\",\"sdp\":\"v=0\",\"version\":1}", NULL, NULL, false },
		{ "{\"type\":\"leave\"}", NULL, NULL, false },
		{ "{\"type\":\"check_name\",\"room\":\"r\"}", NULL, NULL, false },
		{ "{\"type\":\"set_password\",\"password\":\"p\"}", "not_moderator", NULL, false },
		{ "{\"type\":\"set_password\",\"password\":null}", "not_moderator", NULL, false },
		{ "{\"type\":\"lock\",\"locked\":true}", "not_moderator", NULL, false },
		{ "{\"type\":\"lock\",\"locked\":false}", "not_moderator", NULL, false },
		{ "{\"type\":\"lobby\",\"enabled\":true}", "not_moderator", NULL, false },
		{ "{\"type\":\"admit\",\"participant\":\"ab\"}", "not_moderator", NULL, false },
		{ "{\"type\":\"deny\",\"participant\":\"ab\"}", "not_moderator", NULL, false },
		{ "{\"type\":\"kick\",\"participant\":\"ab\"}", "not_moderator", NULL, false },
		{ "{\"type\":\"grant_moderator\",\"participant\":\"ab\"}", "not_moderator", NULL,
		  false },
		{ "{\"type\":\"end_meeting\"}", "not_moderator", NULL, false },
		{ "{\"type\":\"permissions\",\"chat\":\"all\"}", "not_moderator", NULL, false },
		/* chat, screenshare: decided by the meeting's permissions, not by the table */
		{ "{\"type\":\"chat\",\"text\":\"x\"}", NULL, NULL, false },
		{ "{\"type\":\"screenshare\",\"enabled\":true}", NULL, NULL, false },
		/* p2p: anyone (whether it is relayed is p2p.c's decision) */
		{ "{\"type\":\"p2p\",\"to\":\"ab\",\"payload\":{}}", NULL, NULL, false },
		/* speaker_stats: any member */
		{ "{\"type\":\"speaker_stats\"}", NULL, NULL, false },
		/* mute: anyone mutes and unmutes itself; a moderator mutes others;
		 * nobody unmutes someone else. */
		{ "{\"type\":\"mute\",\"participant\":\"ab\",\"kind\":\"audio\"}", NULL, NULL,
		  true },
		{ "{\"type\":\"mute\",\"participant\":\"ab\",\"kind\":\"audio\",\"muted\":false}",
		  NULL, NULL, true },
		{ "{\"type\":\"mute\",\"participant\":\"ab\",\"kind\":\"audio\"}", "not_moderator",
		  NULL, false },
		{ "{\"type\":\"mute\",\"participant\":\"ab\",\"kind\":\"video\",\"muted\":false}",
		  "not_allowed", "not_allowed", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sl_signal_msg m;
		const char *code, *why, *want[2] = { cases[i].participant, cases[i].moderator };

		assert_int_equal(
			sl_signal_parse(cases[i].text, strlen(cases[i].text), &m, &code, &why), 0);
		for (int mod = 0; mod < 2; mod++) {
			const char *got = sl_signal_right(&m, mod, cases[i].to_self);

			if (!got != !want[mod] || (got && strcmp(got, want[mod])))
				fail_msg("%s as %s: %s, expected %s", cases[i].text,
					 mod ? "moderator" : "participant", got ? got : "allowed",
					 want[mod] ? want[mod] : "allowed");
		}
		sl_signal_msg_free(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join),           cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_answer),         cmocka_unit_test(test_refused),
		cmocka_unit_test(test_too_large),      cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_entry_messages), cmocka_unit_test(test_entry_values),
		cmocka_unit_test(test_rights),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
