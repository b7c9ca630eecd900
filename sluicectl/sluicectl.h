/*
 * sluicectl.h - what the parts of sluicectl share: the parsed command and
 * the replies collected for it (docs/operators.md, "Operator API").
 */
#ifndef SLUICECTL_H
#define SLUICECTL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define CTL_ID_MAX    32  /* node ids: 1-32 of A-Z a-z 0-9 _ - */
#define CTL_NODES_MAX 256 /* nodes one request waits for */

enum ctl_target { TARGET_ALL, TARGET_NODE, TARGET_MEETING };

struct ctl {
	/* The command, checked. */
	const char *cmd;
	enum ctl_target target;
	char node[CTL_ID_MAX + 1]; /* "" = none */
	char meeting[33];          /* "" = none */
	char participant[33];      /* "" = none */
	const char *kind;          /* mute: "audio" or "video"; else NULL */
	char req[33];
	bool json;
	double timeout;
	/* The replies, one per node, in arrival order. */
	json_t *reply[CTL_NODES_MAX];
	size_t n_reply;
	/* Every node named by a reply (its node and peers), answered or not. */
	char known[CTL_NODES_MAX][CTL_ID_MAX + 1];
	size_t n_known;
};

bool ctl_node_id_ok(const char *s);
/* Print what the replies say (a table, or --json) and return the exit
 * status: 0 done, 1 failed. */
int ctl_report(const struct ctl *c);

#endif
