/*
 * ctlcmd.c - the parser of one operator command (docs/operators.md,
 * "Operator API"; see ctlcmd.h).
 *
 * Every string comes from whoever can write to Redis, so it is taken as
 * bytes: lengths are checked before anything is copied, and a value is
 * accepted only when every byte is in its field's alphabet (which also
 * keeps NULs out). An entry whose `req` is missing, repeated or invalid is
 * dropped, since no reply key can be built; any other fault is answered
 * `bad_request` with a fixed message that never echoes the input.
 */
#include <string.h>

#include "ctlcmd.h"

static const char *const names[SL_CTLCMD_N] = {
	[SL_CTLCMD_UNKNOWN] = "unknown",   [SL_CTLCMD_NODES] = "nodes",
	[SL_CTLCMD_MEETINGS] = "meetings", [SL_CTLCMD_MEETING] = "meeting",
	[SL_CTLCMD_END] = "end",           [SL_CTLCMD_KICK] = "kick",
	[SL_CTLCMD_MUTE] = "mute",         [SL_CTLCMD_DRAIN] = "drain",
	[SL_CTLCMD_UNDRAIN] = "undrain",   [SL_CTLCMD_STATS] = "stats",
};

enum field { F_REQ, F_CMD, F_NODE, F_MEETING, F_PARTICIPANT, F_KIND, F_N };
static const char *const fields_known[F_N] = { "req",     "cmd",         "node",
					       "meeting", "participant", "kind" };

/* Which fields each command needs (R) or may have (O). */
enum { NO, O, R };
static const unsigned char takes[SL_CTLCMD_N][F_N] = {
	/*                   req cmd node meeting participant kind */
	[SL_CTLCMD_NODES] = { R, R, NO, NO, NO, NO },
	[SL_CTLCMD_MEETINGS] = { R, R, O, NO, NO, NO },
	[SL_CTLCMD_MEETING] = { R, R, NO, R, NO, NO },
	[SL_CTLCMD_END] = { R, R, NO, R, NO, NO },
	[SL_CTLCMD_KICK] = { R, R, NO, R, R, NO },
	[SL_CTLCMD_MUTE] = { R, R, NO, R, R, O },
	[SL_CTLCMD_DRAIN] = { R, R, R, NO, NO, NO },
	[SL_CTLCMD_UNDRAIN] = { R, R, R, NO, NO, NO },
	[SL_CTLCMD_STATS] = { R, R, R, NO, NO, NO },
};

const char *sl_ctlcmd_name(enum sl_ctlcmd_cmd cmd)
{
	return (unsigned)cmd < SL_CTLCMD_N ? names[cmd] : names[SL_CTLCMD_UNKNOWN];
}

static bool is(const struct sl_ctlcmd_str *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len == n && !memcmp(s->ptr, lit, n);
}

/* min..max bytes of A-Z a-z 0-9 _ - */
static bool id_chars(const struct sl_ctlcmd_str *s, size_t min, size_t max)
{
	if (s->len < min || s->len > max)
		return false;
	for (size_t i = 0; i < s->len; i++) {
		char c = s->ptr[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* exactly n lower-case hex digits */
static bool hex(const struct sl_ctlcmd_str *s, size_t n)
{
	if (s->len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s->ptr[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static void copy(char *out, const struct sl_ctlcmd_str *s)
{
	memcpy(out, s->ptr, s->len);
	out[s->len] = 0;
}

static enum sl_ctlcmd_result bad(struct sl_ctlcmd *out, const char *message)
{
	out->message = message;
	return SL_CTLCMD_BAD_REQUEST;
}

enum sl_ctlcmd_result sl_ctlcmd_parse(const struct sl_ctlcmd_str *fields,
				      const struct sl_ctlcmd_str *values, size_t n,
				      struct sl_ctlcmd *out)
{
	const struct sl_ctlcmd_str *val[F_N] = { 0 };
	unsigned count[F_N] = { 0 };
	bool unknown = false;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		unsigned f;

		for (f = 0; f < F_N && !is(&fields[i], fields_known[f]); f++)
			;
		if (f == F_N) {
			unknown = true;
			continue;
		}
		if (!count[f]++)
			val[f] = &values[i];
	}
	/* The request id first: without one nobody can be answered. */
	if (count[F_REQ] != 1 || !id_chars(val[F_REQ], SL_CTLCMD_REQ_MIN, SL_CTLCMD_REQ_MAX))
		return SL_CTLCMD_DROP;
	copy(out->req, val[F_REQ]);
	if (val[F_CMD])
		for (unsigned c = 1; c < SL_CTLCMD_N; c++)
			if (is(val[F_CMD], names[c]))
				out->cmd = c;
	if (unknown)
		return bad(out, "unknown field");
	for (unsigned f = 0; f < F_N; f++)
		if (count[f] > 1)
			return bad(out, "repeated field");
	if (!val[F_CMD])
		return bad(out, "cmd is missing");
	if (out->cmd == SL_CTLCMD_UNKNOWN)
		return bad(out, "unknown cmd");
	for (unsigned f = F_NODE; f < F_N; f++) {
		if (takes[out->cmd][f] == R && !val[f])
			return bad(out, f == F_NODE      ? "node is missing"
					: f == F_MEETING ? "meeting is missing"
							 : "participant is missing");
		if (takes[out->cmd][f] == NO && val[f])
			return bad(out, "a field this cmd does not take");
	}
	if (val[F_NODE]) {
		if (!id_chars(val[F_NODE], 1, SL_CTLCMD_NODE_MAX))
			return bad(out, "node: 1-32 of A-Z a-z 0-9 _ -");
		copy(out->node, val[F_NODE]);
	}
	if (val[F_MEETING]) {
		if (!hex(val[F_MEETING], 32))
			return bad(out, "meeting: 32 lower-case hex digits");
		copy(out->meeting, val[F_MEETING]);
	}
	if (val[F_PARTICIPANT]) {
		if (!hex(val[F_PARTICIPANT], 16))
			return bad(out, "participant: 16 lower-case hex digits");
		copy(out->participant, val[F_PARTICIPANT]);
	}
	if (val[F_KIND]) {
		if (is(val[F_KIND], "video"))
			out->kind = SL_CTLCMD_VIDEO;
		else if (!is(val[F_KIND], "audio"))
			return bad(out, "kind: audio or video");
	}
	return SL_CTLCMD_OK;
}
