/*
 * test_ctlcmd.c - the operator command parser (controlplane/state/ctlcmd.c)
 * against the request table of docs/operators.md, "Operator API".
 *
 * Each case is one stream entry written as "field=value" strings (the
 * value is everything after the first '='); the cases with a NUL or other
 * odd bytes build their pairs by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctlcmd.h"

#define REQ     "req=0123456789abcdef0123456789abcdef"
#define MEETING "0123456789abcdef0123456789abcdef"
#define PART    "0011223344556677"

static enum sl_ctlcmd_result parse_n(struct sl_ctlcmd *c, const char *const *kv, size_t n)
{
	struct sl_ctlcmd_str f[16], v[16];

	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(kv[i], '=');

		assert_non_null(eq);
		f[i] = (struct sl_ctlcmd_str){ kv[i], (size_t)(eq - kv[i]) };
		v[i] = (struct sl_ctlcmd_str){ eq + 1, strlen(eq + 1) };
	}
	return sl_ctlcmd_parse(f, v, n, c);
}

#define PARSE(c, ...)                                    \
	parse_n(c, (const char *const[]){ __VA_ARGS__ }, \
		sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

static void every_command(void **state)
{
	struct sl_ctlcmd c;

	(void)state;
	assert_int_equal(PARSE(&c, REQ, "cmd=nodes"), SL_CTLCMD_OK);
	assert_int_equal(c.cmd, SL_CTLCMD_NODES);
	assert_string_equal(c.req, "0123456789abcdef0123456789abcdef");
	assert_string_equal(c.node, "");
	assert_int_equal(PARSE(&c, "cmd=meetings", REQ), SL_CTLCMD_OK);
	assert_int_equal(c.cmd, SL_CTLCMD_MEETINGS);
	assert_int_equal(PARSE(&c, REQ, "cmd=meetings", "node=n-1_A"), SL_CTLCMD_OK);
	assert_string_equal(c.node, "n-1_A");
	assert_int_equal(PARSE(&c, REQ, "cmd=meeting", "meeting=" MEETING), SL_CTLCMD_OK);
	assert_int_equal(c.cmd, SL_CTLCMD_MEETING);
	assert_string_equal(c.meeting, MEETING);
	assert_int_equal(PARSE(&c, REQ, "cmd=end", "meeting=" MEETING), SL_CTLCMD_OK);
	assert_int_equal(c.cmd, SL_CTLCMD_END);
	assert_int_equal(PARSE(&c, REQ, "cmd=kick", "meeting=" MEETING, "participant=" PART),
			 SL_CTLCMD_OK);
	assert_int_equal(c.cmd, SL_CTLCMD_KICK);
	assert_string_equal(c.participant, PART);
	assert_int_equal(PARSE(&c, REQ, "cmd=mute", "meeting=" MEETING, "participant=" PART),
			 SL_CTLCMD_OK);
	assert_int_equal(c.cmd, SL_CTLCMD_MUTE);
	assert_int_equal(c.kind, SL_CTLCMD_AUDIO);
	assert_int_equal(
		PARSE(&c, REQ, "kind=video", "cmd=mute", "meeting=" MEETING, "participant=" PART),
		SL_CTLCMD_OK);
	assert_int_equal(c.kind, SL_CTLCMD_VIDEO);
	assert_int_equal(
		PARSE(&c, REQ, "cmd=mute", "meeting=" MEETING, "participant=" PART, "kind=audio"),
		SL_CTLCMD_OK);
	assert_int_equal(c.kind, SL_CTLCMD_AUDIO);
	assert_int_equal(PARSE(&c, REQ, "cmd=drain", "node=a"), SL_CTLCMD_OK);
	assert_int_equal(c.cmd, SL_CTLCMD_DRAIN);
	assert_int_equal(PARSE(&c, REQ, "cmd=undrain", "node=a"), SL_CTLCMD_OK);
	assert_int_equal(c.cmd, SL_CTLCMD_UNDRAIN);
	assert_int_equal(PARSE(&c, REQ, "cmd=stats", "node=0123456789abcdef0123456789abcdef"),
			 SL_CTLCMD_OK);
	assert_int_equal(c.cmd, SL_CTLCMD_STATS);
	assert_string_equal(sl_ctlcmd_name(SL_CTLCMD_UNKNOWN), "unknown");
	assert_string_equal(sl_ctlcmd_name(SL_CTLCMD_UNDRAIN), "undrain");
	assert_string_equal(sl_ctlcmd_name((enum sl_ctlcmd_cmd)99), "unknown");
}

static void req_rules(void **state)
{
	struct sl_ctlcmd c;

	(void)state;
	assert_int_equal(PARSE(&c, "req=abcdefgh", "cmd=nodes"), SL_CTLCMD_OK); /* 8 */
	assert_int_equal(PARSE(&c, "req=abcdefg", "cmd=nodes"), SL_CTLCMD_DROP);
	assert_int_equal(PARSE(&c, "req=A-_z09xyz", "cmd=nodes"), SL_CTLCMD_OK);
	assert_int_equal(
		PARSE(&c, "req=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		      "cmd=nodes"),
		SL_CTLCMD_OK); /* 64 */
	assert_int_equal(strlen(c.req), 64);
	assert_int_equal(
		PARSE(&c, "req=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		      "cmd=nodes"),
		SL_CTLCMD_DROP); /* 65 */
	assert_int_equal(PARSE(&c, "req=abcd efgh", "cmd=nodes"), SL_CTLCMD_DROP);
	assert_int_equal(PARSE(&c, "req=abcd:efgh", "cmd=nodes"), SL_CTLCMD_DROP);
	assert_int_equal(PARSE(&c, "req=abcd/efgh", "cmd=nodes"), SL_CTLCMD_DROP);
	assert_int_equal(PARSE(&c, "cmd=nodes"), SL_CTLCMD_DROP);
	assert_int_equal(PARSE(&c, "REQ=abcdefgh", "cmd=nodes"), SL_CTLCMD_DROP);
	/* Repeated: which one would be answered? Neither. */
	assert_int_equal(PARSE(&c, "req=abcdefgh", "req=abcdefgh", "cmd=nodes"), SL_CTLCMD_DROP);
	/* Without req nothing else matters. */
	assert_int_equal(PARSE(&c, "cmd=bogus", "x=y"), SL_CTLCMD_DROP);
	assert_int_equal(parse_n(&c, NULL, 0), SL_CTLCMD_DROP);
}

static void bad_requests(void **state)
{
	struct sl_ctlcmd c;

	(void)state;
	/* cmd */
	assert_int_equal(PARSE(&c, REQ), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(c.cmd, SL_CTLCMD_UNKNOWN);
	assert_string_equal(c.req, "0123456789abcdef0123456789abcdef");
	assert_non_null(c.message);
	assert_int_equal(PARSE(&c, REQ, "cmd=reboot"), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(c.cmd, SL_CTLCMD_UNKNOWN);
	assert_int_equal(PARSE(&c, REQ, "cmd=NODES"), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=nodes "), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd="), SL_CTLCMD_BAD_REQUEST);
	/* unknown and repeated fields; the cmd is still known for the metric */
	assert_int_equal(PARSE(&c, REQ, "cmd=nodes", "extra=1"), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(c.cmd, SL_CTLCMD_NODES);
	assert_int_equal(PARSE(&c, REQ, "cmd=nodes", "=1"), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=nodes", "cmd=nodes"), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=drain", "node=a", "node=a"), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(c.cmd, SL_CTLCMD_DRAIN);
	/* missing required arguments */
	assert_int_equal(PARSE(&c, REQ, "cmd=drain"), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=undrain"), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=stats"), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=meeting"), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=end"), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=kick", "meeting=" MEETING), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=mute", "participant=" PART), SL_CTLCMD_BAD_REQUEST);
	/* fields the command does not take */
	assert_int_equal(PARSE(&c, REQ, "cmd=nodes", "node=a"), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=end", "meeting=" MEETING, "participant=" PART),
			 SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(
		PARSE(&c, REQ, "cmd=kick", "meeting=" MEETING, "participant=" PART, "kind=audio"),
		SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=drain", "node=a", "meeting=" MEETING),
			 SL_CTLCMD_BAD_REQUEST);
	/* bad values */
	assert_int_equal(PARSE(&c, REQ, "cmd=drain", "node="), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=drain", "node=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
			 SL_CTLCMD_BAD_REQUEST); /* 33 */
	assert_int_equal(PARSE(&c, REQ, "cmd=drain", "node=a.b"), SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=end", "meeting=0123456789ABCDEF0123456789abcdef"),
			 SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=end", "meeting=0123456789abcdef0123456789abcde"),
			 SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=end", "meeting=0123456789abcdef0123456789abcdef0"),
			 SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=end", "meeting=0123456789abcdef0123456789abcdeg"),
			 SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(PARSE(&c, REQ, "cmd=kick", "meeting=" MEETING, "participant=001122"),
			 SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(
		PARSE(&c, REQ, "cmd=mute", "meeting=" MEETING, "participant=" PART, "kind=screen"),
		SL_CTLCMD_BAD_REQUEST);
	assert_int_equal(
		PARSE(&c, REQ, "cmd=mute", "meeting=" MEETING, "participant=" PART, "kind="),
		SL_CTLCMD_BAD_REQUEST);
}

/* Values are bytes: a NUL inside one must not cut it short. */
static void binary_values(void **state)
{
	struct sl_ctlcmd c;
	struct sl_ctlcmd_str f[3] = { { "req", 3 }, { "cmd", 3 }, { "node", 4 } };
	struct sl_ctlcmd_str v[3] = { { "abcdefgh", 8 }, { "drain", 5 }, { "a\0b", 3 } };

	(void)state;
	assert_int_equal(sl_ctlcmd_parse(f, v, 3, &c), SL_CTLCMD_BAD_REQUEST);
	v[2].len = 1;
	assert_int_equal(sl_ctlcmd_parse(f, v, 3, &c), SL_CTLCMD_OK);
	assert_string_equal(c.node, "a");
	v[1] = (struct sl_ctlcmd_str){ "drain\0", 6 };
	assert_int_equal(sl_ctlcmd_parse(f, v, 3, &c), SL_CTLCMD_BAD_REQUEST);
	v[1] = (struct sl_ctlcmd_str){ "drain", 5 };
	f[2] = (struct sl_ctlcmd_str){ "node\0", 5 };
	assert_int_equal(sl_ctlcmd_parse(f, v, 3, &c), SL_CTLCMD_BAD_REQUEST);
	v[0] = (struct sl_ctlcmd_str){ "abcdefgh\0", 9 };
	assert_int_equal(sl_ctlcmd_parse(f, v, 3, &c), SL_CTLCMD_DROP);
	v[0] = (struct sl_ctlcmd_str){ "abcd\xff"
				       "efgh",
				       9 };
	assert_int_equal(sl_ctlcmd_parse(f, v, 3, &c), SL_CTLCMD_DROP);
	/* An empty pointer with length 0 (a value Redis did not give as a string). */
	v[0] = (struct sl_ctlcmd_str){ "abcdefgh", 8 };
	f[2] = (struct sl_ctlcmd_str){ NULL, 0 };
	assert_int_equal(sl_ctlcmd_parse(f, v, 3, &c), SL_CTLCMD_BAD_REQUEST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_command),
		cmocka_unit_test(req_rules),
		cmocka_unit_test(bad_requests),
		cmocka_unit_test(binary_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
