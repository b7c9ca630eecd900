/*
 * output.c - what sluicectl prints: the nodes' replies read as the
 * operator API says (docs/operators.md, "Reply"), as aligned tables or, with
 * --json, one JSON document, and the exit status they mean.
 *
 * A reply comes from a node, not from the operator: every value is checked
 * for its type (a missing or odd one prints as "-"), and control characters
 * in strings are replaced before they reach a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluicectl.h"

/* ------------------------------------------------------------ tables */

#define COLS_MAX 8

struct table {
	size_t ncol, nrow, cap;
	char **cell; /* nrow * ncol strings, row 0 is the header */
};

static void cell_clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void table_row(struct table *t, const char *const *v)
{
	if (t->nrow == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **cell = realloc(t->cell, cap * t->ncol * sizeof(*cell));

		if (!cell) {
			fprintf(stderr, "sluicectl: out of memory\n");
			exit(1);
		}
		t->cell = cell;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncol; i++) {
		char *s = strdup(v[i] ? v[i] : "-");

		if (!s) {
			fprintf(stderr, "sluicectl: out of memory\n");
			exit(1);
		}
		cell_clean(s);
		t->cell[t->nrow * t->ncol + i] = s;
	}
	t->nrow++;
}

/* Print and free: columns two spaces apart, the last one not padded. */
static void table_print(struct table *t)
{
	size_t w[COLS_MAX] = { 0 };

	for (size_t r = 0; r < t->nrow; r++)
		for (size_t i = 0; i < t->ncol; i++)
			if (strlen(t->cell[r * t->ncol + i]) > w[i])
				w[i] = strlen(t->cell[r * t->ncol + i]);
	for (size_t r = 0; r < t->nrow; r++) {
		for (size_t i = 0; i < t->ncol; i++) {
			char *s = t->cell[r * t->ncol + i];

			if (i + 1 < t->ncol)
				printf("%-*s  ", (int)w[i], s);
			else
				printf("%s\n", s);
			free(s);
		}
	}
	free(t->cell);
	t->cell = NULL;
	t->nrow = t->cap = 0;
}

/* ------------------------------------------------------------ values */

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : NULL;
}

static const char *num(json_t *o, const char *k, char *buf, size_t n)
{
	json_t *v = json_object_get(o, k);

	if (json_is_integer(v))
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, n, "%g", json_real_value(v));
	else
		return NULL;
	return buf;
}

static const char *yesno(json_t *o, const char *k, const char *yes, const char *no)
{
	json_t *v = json_object_get(o, k);

	return json_is_boolean(v) ? (json_is_true(v) ? yes : no) : NULL;
}

/* "45s", "3m05s", "2h03m", "4d05h". */
static const char *dur(json_t *o, const char *k, char *buf, size_t n)
{
	json_t *v = json_object_get(o, k);
	long long s;

	if (!json_is_number(v) || json_number_value(v) < 0)
		return NULL;
	s = (long long)json_number_value(v);
	if (s < 60)
		snprintf(buf, n, "%llds", s);
	else if (s < 3600)
		snprintf(buf, n, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, n, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, n, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
	return buf;
}

static const char *node_state(json_t *info)
{
	if (!json_is_object(info))
		return NULL;
	if (json_is_true(json_object_get(info, "drained")))
		return "drained";
	return json_is_true(json_object_get(info, "draining")) ? "draining" : "active";
}

static void clean_print(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void json_out(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	printf("\n");
}

/* ------------------------------------------------------------ sorting */

static int by_key(const void *a, const void *b, const char *k1, const char *k2)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *s = str(x, k1), *t = str(y, k1);
	int r = strcmp(s ? s : "", t ? t : "");

	if (r || !k2)
		return r;
	s = str(x, k2);
	t = str(y, k2);
	return strcmp(s ? s : "", t ? t : "");
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int by_id(const void *a, const void *b)
{
	return by_key(a, b, "id", NULL);
}

static int by_node_meeting(const void *a, const void *b)
{
	return by_key(a, b, "node", "meeting");
}

/* ------------------------------------------------------------ commands */

static bool is_error(json_t *reply, const char *code)
{
	const char *e = str(reply, "error");

	return !json_is_true(json_object_get(reply, "ok")) && e && !strcmp(e, code);
}

static void print_error(json_t *reply)
{
	const char *m = str(reply, "message"), *e = str(reply, "error");

	fprintf(stderr, "sluicectl: node ");
	clean_print(stderr, str(reply, "node"));
	fprintf(stderr, ": ");
	clean_print(stderr, m ? m : "failed");
	if (e) {
		fprintf(stderr, " (");
		clean_print(stderr, e);
		fprintf(stderr, ")");
	}
	fprintf(stderr, "\n");
}

static void info_row(struct table *t, json_t *info, const char *id)
{
	char b[5][32];
	json_t *busy = json_object_get(info, "busy");
	const char *pct = NULL;

	if (json_is_number(busy)) {
		snprintf(b[4], sizeof(b[4]), "%.0f%%", json_number_value(busy) * 100);
		pct = b[4];
	}
	table_row(t,
		  (const char *[]){ id ? id : str(info, "id"), str(info, "url"),
				    num(info, "participants", b[0], sizeof(b[0])),
				    num(info, "meetings", b[1], sizeof(b[1])),
				    num(info, "endpoints", b[2], sizeof(b[2])), pct,
				    node_state(info), dur(info, "uptime_s", b[3], sizeof(b[3])) });
}

static const char *const info_head[] = { "ID",        "URL",  "PARTICIPANTS", "MEETINGS",
					 "ENDPOINTS", "BUSY", "STATE",        "UPTIME" };

/* Broadcast commands: nodes, meetings. */
static int report_all(const struct ctl *c)
{
	bool nodes = !strcmp(c->cmd, "nodes");
	json_t *list = json_array(), *e;
	struct table t = { .ncol = nodes ? 8 : 4 };
	size_t i, k;
	int rc = 0;

	for (i = 0; i < c->n_reply; i++) {
		json_t *r = c->reply[i], *ms;

		if (!json_is_true(json_object_get(r, "ok"))) {
			print_error(r);
			rc = 1;
			continue;
		}
		if (nodes) {
			json_t *info = json_object_get(r, "info");

			if (json_is_object(info)) {
				if (!str(info, "id"))
					json_object_set(info, "id", json_object_get(r, "node"));
				json_array_append(list, info);
			}
			continue;
		}
		ms = json_object_get(r, "meetings");
		json_array_foreach(ms, k, e)
		{
			json_t *m;

			if (!json_is_object(e))
				continue;
			m = json_copy(e);
			json_object_set(m, "node", json_object_get(r, "node"));
			json_array_append_new(list, m);
		}
	}
	{
		/* Sorted through a plain array of the elements. */
		size_t n = json_array_size(list);
		json_t **v = calloc(n ? n : 1, sizeof(*v));

		for (i = 0; i < n; i++)
			v[i] = json_incref(json_array_get(list, i));
		qsort(v, n, sizeof(*v), nodes ? by_id : by_node_meeting);
		json_array_clear(list);
		for (i = 0; i < n; i++)
			json_array_append_new(list, v[i]);
		free(v);
	}
	if (c->json) {
		json_out(list);
	} else if (nodes) {
		table_row(&t, info_head);
		json_array_foreach(list, i, e) info_row(&t, e, NULL);
		for (i = 0; i < c->n_known; i++) {
			bool got = false;

			for (k = 0; k < c->n_reply && !got; k++)
				got = !strcmp(str(c->reply[k], "node"), c->known[i]);
			if (!got)
				table_row(&t, (const char *[]){ c->known[i], NULL, NULL, NULL, NULL,
								NULL, "no answer", NULL });
		}
		table_print(&t);
	} else {
		char b[2][32];

		table_row(&t, (const char *[]){ "MEETING", "NODE", "PARTICIPANTS", "AGE" });
		json_array_foreach(list, i, e)
			table_row(&t, (const char *[]){ str(e, "meeting"), str(e, "node"),
							num(e, "participants", b[0], sizeof(b[0])),
							dur(e, "age_s", b[1], sizeof(b[1])) });
		table_print(&t);
	}
	json_decref(list);
	return rc;
}

static void print_meeting(json_t *r)
{
	json_t *m = json_object_get(r, "meeting"), *ps = json_object_get(m, "participants"), *p;
	struct table t = { .ncol = 2 };
	char b[2][32];
	size_t i;

	table_row(&t, (const char *[]){ "meeting", str(m, "meeting") });
	table_row(&t, (const char *[]){ "tag", str(m, "tag") });
	table_row(&t, (const char *[]){ "node", str(r, "node") });
	table_row(&t, (const char *[]){ "age", dur(m, "age_s", b[0], sizeof(b[0])) });
	table_row(&t, (const char *[]){ "locked", yesno(m, "locked", "yes", "no") });
	table_row(&t, (const char *[]){ "lobby", yesno(m, "lobby", "on", "off") });
	table_row(&t, (const char *[]){ "password", yesno(m, "password", "set", "none") });
	table_row(&t, (const char *[]){ "waiting", num(m, "lobby_waiting", b[1], sizeof(b[1])) });
	table_print(&t);
	printf("\n");
	t.ncol = 6;
	table_row(&t, (const char *[]){ "ID", "ROLE", "CONNECTED", "AUDIO", "VIDEO", "SCREEN" });
	json_array_foreach(ps, i, p)
		table_row(&t, (const char *[]){ str(p, "id"), str(p, "role"),
						yesno(p, "connected", "yes", "no"),
						yesno(p, "audio_muted", "muted", "on"),
						yesno(p, "video_muted", "muted", "on"),
						yesno(p, "screen", "yes", "no") });
	table_print(&t);
}

static void print_result(const struct ctl *c, json_t *r)
{
	char b[32];

	if (c->json) {
		json_out(r);
		return;
	}
	if (!strcmp(c->cmd, "meeting")) {
		print_meeting(r);
	} else if (!strcmp(c->cmd, "meetings")) {
		/* meetings NODE: handled by report_all's table on this one reply. */
	} else if (!strcmp(c->cmd, "end")) {
		printf("ended meeting %s on node ", c->meeting);
		clean_print(stdout, str(r, "node"));
		printf(": %s participant(s) sent away\n", num(r, "ended", b, sizeof(b)) ? b : "-");
	} else if (!strcmp(c->cmd, "kick")) {
		printf("kicked participant %s from meeting %s on node ", c->participant,
		       c->meeting);
		clean_print(stdout, str(r, "node"));
		printf("\n");
	} else if (!strcmp(c->cmd, "mute")) {
		printf("muted the %s of participant %s in meeting %s on node ", c->kind,
		       c->participant, c->meeting);
		clean_print(stdout, str(r, "node"));
		printf("\n");
	} else if (!strcmp(c->cmd, "stats")) {
		json_t *info = json_object_get(r, "info"), *stats = json_object_get(r, "stats");
		struct table t = { .ncol = 2 };
		const char *k;
		json_t *v;
		size_t n = json_object_size(stats), i = 0;
		const char **keys = calloc(n ? n : 1, sizeof(*keys));

		table_row(&t, (const char *[]){ "node", str(r, "node") });
		table_row(&t, (const char *[]){ "url", str(info, "url") });
		table_row(&t, (const char *[]){ "state", node_state(info) });
		table_row(&t, (const char *[]){ "uptime", dur(info, "uptime_s", b, sizeof(b)) });
		json_object_foreach(stats, k, v) keys[i++] = k;
		qsort(keys, n, sizeof(*keys), by_str);
		for (i = 0; i < n; i++)
			table_row(&t,
				  (const char *[]){ keys[i], num(stats, keys[i], b, sizeof(b)) });
		free(keys);
		table_print(&t);
	} else { /* drain, undrain */
		struct table t = { .ncol = 8 };

		table_row(&t, info_head);
		info_row(&t, json_object_get(r, "info"), str(r, "node"));
		table_print(&t);
	}
}

/* Addressed commands: the one reply that is not not_here. */
static int report_one(const struct ctl *c)
{
	bool by_node = c->target == TARGET_NODE, silent = false;

	for (size_t i = 0; i < c->n_reply; i++) {
		json_t *r = c->reply[i];

		if (is_error(r, "not_here"))
			continue;
		if (!json_is_true(json_object_get(r, "ok"))) {
			print_error(r);
			return 1;
		}
		if (!strcmp(c->cmd, "meetings")) {
			struct ctl one = *c;

			one.reply[0] = r;
			one.n_reply = 1;
			one.n_known = 0;
			return report_all(&one);
		}
		print_result(c, r);
		return 0;
	}
	for (size_t i = 0; i < c->n_known; i++) {
		bool got = false;

		for (size_t k = 0; k < c->n_reply && !got; k++)
			got = !strcmp(str(c->reply[k], "node"), c->known[i]);
		if (!got && (!by_node || !strcmp(c->known[i], c->node))) {
			fprintf(stderr, "sluicectl: node %s did not answer\n", c->known[i]);
			silent = true;
		}
	}
	/* A silent node may hold it: "no such" only when all answered. */
	if (!silent)
		fprintf(stderr, "sluicectl: no such %s\n", by_node ? "node" : "meeting");
	return 1;
}

int ctl_report(const struct ctl *c)
{
	int rc;

	if (!c->n_reply) {
		fprintf(stderr,
			"sluicectl: no node answered within %g s (is any node up and reading "
			"sl:ctl?)\n",
			c->timeout);
		return 1;
	}
	for (size_t i = 0; i < c->n_reply; i++)
		if (is_error(c->reply[i], "bad_request")) {
			print_error(c->reply[i]);
			return 1;
		}
	rc = c->target == TARGET_ALL ? report_all(c) : report_one(c);
	if (c->target == TARGET_ALL)
		for (size_t i = 0; i < c->n_known; i++) {
			bool got = false;

			for (size_t k = 0; k < c->n_reply && !got; k++)
				got = !strcmp(str(c->reply[k], "node"), c->known[i]);
			if (!got) {
				fprintf(stderr, "sluicectl: node %s did not answer\n", c->known[i]);
				rc = 1;
			}
		}
	return rc;
}
