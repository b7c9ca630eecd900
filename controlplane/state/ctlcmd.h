/*
 * ctlcmd.h - one entry of the operator stream sl:ctl, parsed (ctlcmd.c).
 *
 * docs/operators.md, "Operator API": an entry is a list of field/value
 * pairs (any bytes, NUL included). The parser checks them against the
 * request table and fills struct sl_ctlcmd; it touches no state, so the
 * unit test and the fuzzer link it alone.
 */
#ifndef SLUICE_CP_CTLCMD_H
#define SLUICE_CP_CTLCMD_H

#include <stdbool.h>
#include <stddef.h>

enum sl_ctlcmd_cmd {
	SL_CTLCMD_UNKNOWN, /* no cmd, or not one of the below */
	SL_CTLCMD_NODES,
	SL_CTLCMD_MEETINGS,
	SL_CTLCMD_MEETING,
	SL_CTLCMD_END,
	SL_CTLCMD_KICK,
	SL_CTLCMD_MUTE,
	SL_CTLCMD_DRAIN,
	SL_CTLCMD_UNDRAIN,
	SL_CTLCMD_STATS,
	SL_CTLCMD_N
};

enum sl_ctlcmd_kind { SL_CTLCMD_AUDIO, SL_CTLCMD_VIDEO };

enum sl_ctlcmd_result {
	SL_CTLCMD_OK,          /* cmd and its arguments are valid */
	SL_CTLCMD_BAD_REQUEST, /* req is valid (answer it), the rest is not: see message */
	SL_CTLCMD_DROP,        /* no valid req: cannot be answered */
};

#define SL_CTLCMD_REQ_MIN  8
#define SL_CTLCMD_REQ_MAX  64
#define SL_CTLCMD_NODE_MAX 32

struct sl_ctlcmd {
	char req[SL_CTLCMD_REQ_MAX + 1];
	enum sl_ctlcmd_cmd cmd;
	char node[SL_CTLCMD_NODE_MAX + 1]; /* "" when absent */
	char meeting[33];                  /* "" when absent */
	char participant[17];              /* "" when absent */
	enum sl_ctlcmd_kind kind;          /* SL_CTLCMD_AUDIO when absent */
	const char *message;               /* BAD_REQUEST: why, English, static */
};

/* One string of the entry: ptr and length (not NUL-terminated). */
struct sl_ctlcmd_str {
	const char *ptr;
	size_t len;
};

/* Parse n field/value pairs (fields[i], values[i]) into out. */
enum sl_ctlcmd_result sl_ctlcmd_parse(const struct sl_ctlcmd_str *fields,
				      const struct sl_ctlcmd_str *values, size_t n,
				      struct sl_ctlcmd *out);

/* "nodes", ... ; "unknown" for SL_CTLCMD_UNKNOWN (the metric label). */
const char *sl_ctlcmd_name(enum sl_ctlcmd_cmd cmd);

#endif
