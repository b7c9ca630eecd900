/*
 * sluicectl.c - the operator's command line: options, the command and its
 * arguments, and one request over Redis (docs/operators.md, "sluicectl").
 *
 * A command becomes one XADD to the stream sl:ctl; every live node answers
 * into the list sl:ctl:reply:REQ, which is popped (BLPOP) until every node
 * the replies name has answered or --timeout has passed, then deleted.
 * output.c turns the replies into tables or JSON. Arguments are checked
 * here before Redis is touched (exit status 2). A room name (--room) is
 * hashed here with the deployment secret, as the nodes do, and neither it
 * nor the Redis password appears in any message.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <sluice/conf.h>
#include <sluice/redis_addr.h>

#include "sluicectl.h"

#ifndef SL_VERSION
#define SL_VERSION "unknown"
#endif

#define ROOM_MAX     1024 /* bytes of a --room name */
#define CTL_SETTLE_S 0.5  /* see exchange() */

static struct {
	char redis[320];
	char redis_user[256];
	char redis_password_file[PATH_MAX];
	char secret_file[PATH_MAX];
	char room[ROOM_MAX + 1];
	bool has_room;
	bool json;
	double timeout;
} o = { .redis = "unix:/var/lib/sluice/redis.sock",
	.secret_file = "/var/lib/sluice/secret",
	.timeout = 2.0 };

enum kind { STR, FLAG, SECONDS };

struct opt {
	const char *name, *arg, *help;
	enum kind kind;
	char *dst;
	size_t size;
};

static const struct opt opts[] = {
	{ "redis", "URL", "unix:PATH or tcp://HOST:PORT (default unix:/var/lib/sluice/redis.sock)",
	  STR, o.redis, sizeof(o.redis) },
	{ "redis-user", "USER", "the ACL user to AUTH as (needs --redis-password-file)", STR,
	  o.redis_user, sizeof(o.redis_user) },
	{ "redis-password-file", "FILE", "AUTH with the first line of FILE (default: no AUTH)", STR,
	  o.redis_password_file, sizeof(o.redis_password_file) },
	{ "secret-file", "FILE",
	  "the fleet's 32-byte deployment secret, for --room (default /var/lib/sluice/secret)", STR,
	  o.secret_file, sizeof(o.secret_file) },
	{ "room", "NAME", "the meeting of this room name (hashed here, never sent)", STR, o.room,
	  sizeof(o.room) },
	{ "json", NULL, "print the replies as one JSON document instead of tables", FLAG, NULL, 0 },
	{ "timeout", "SECONDS", "wait at most this long for the nodes' replies (default 2)",
	  SECONDS, NULL, 0 },
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(void)
{
	printf("sluicectl [OPTIONS] COMMAND [ARGS]\n"
	       "  nodes                          every node: id, url, load, draining/drained\n"
	       "  meetings [NODE]                every meeting: id, node, participants, age\n"
	       "  meeting MEETING                one meeting: its participants and their roles\n"
	       "  end MEETING                    end a meeting\n"
	       "  kick MEETING PARTICIPANT       send a participant away\n"
	       "  mute MEETING PARTICIPANT [audio|video]\n"
	       "  drain NODE | undrain NODE      take a node out of (back into) placement\n"
	       "  stats NODE                     a node's counters\n"
	       "MEETING is a meeting id or tag (32 hex digits), or --room NAME.\n"
	       "\nOptions:\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
			 opts[i].arg ? opts[i].arg : "");
		printf("  %-28s %s\n", left, opts[i].help);
	}
	printf("  %-28s %s\n", "--config FILE",
	       "read these long options from FILE as `key = value` lines first");
	printf("  %-28s %s\n", "--help", "this text");
	printf("  %-28s %s\n", "--version", "the version");
	printf("\nExit status: 0 done, 1 the command failed (an error reply, no such\n"
	       "meeting/node, no answer, Redis unreachable or refused), 2 usage error.\n");
}

static int set(const struct opt *p, const char *v, char *err, size_t n)
{
	char *end;
	double d;

	if (p->kind == FLAG) {
		if (!v || !strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes") ||
		    !strcmp(v, "1"))
			o.json = true;
		else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no") ||
			 !strcmp(v, "0"))
			o.json = false;
		else {
			snprintf(err, n, "--%s: on or off", p->name);
			return -EINVAL;
		}
		return 0;
	}
	if (!v) {
		snprintf(err, n, "--%s needs a value", p->name);
		return -EINVAL;
	}
	if (p->kind == SECONDS) {
		errno = 0;
		d = strtod(v, &end);
		if (errno || end == v || *end || !isfinite(d) || d <= 0 || d > 3600) {
			snprintf(err, n, "--%s: seconds, more than 0 and at most 3600", p->name);
			return -EINVAL;
		}
		o.timeout = d;
		return 0;
	}
	/* The room name is never repeated, not even its length. */
	if (!*v || strlen(v) >= p->size) {
		snprintf(err, n, "--%s: 1 to %zu bytes", p->name, p->size - 1);
		return -EINVAL;
	}
	if (p->dst == o.room)
		o.has_room = true;
	strcpy(p->dst, v);
	return 0;
}

static int conf_line(void *ctx, const char *key, const char *v, char *err, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < N_OPTS; i++)
		if (!strcmp(key, opts[i].name))
			return set(&opts[i], v, err, n);
	snprintf(err, n, "unknown option '%s'", key);
	return -EINVAL;
}

/* 1: done (--help, --version), 0: go on, -EINVAL: err set. */
static int parse_options(int argc, char **argv, char *err, size_t n)
{
	struct option lo[N_OPTS + 4];
	size_t i;
	int r;

	for (i = 0; i < N_OPTS; i++)
		lo[i] = (struct option){ opts[i].name,
					 opts[i].kind == FLAG ? no_argument : required_argument,
					 NULL, 256 + (int)i };
	lo[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[i++] = (struct option){ "version", no_argument, NULL, 'V' };
	lo[i++] = (struct option){ "config", required_argument, NULL, 'c' };
	lo[i] = (struct option){ 0, 0, 0, 0 };
	opterr = 0;
	/* Pass 1: --help, --version, bad options and the config files. */
	optind = 0;
	while ((r = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (r == 'h') {
			usage();
			return 1;
		}
		if (r == 'V') {
			printf("sluicectl %s\n", SL_VERSION);
			return 1;
		}
		if (r < 256 && r != 'c') {
			const char *a = argv[optind - 1];

			snprintf(err, n, "unknown or incomplete option '%.*s' (see --help)",
				 (int)strcspn(a, "="), a);
			return -EINVAL;
		}
		if (r == 'c' && sl_conf_read(optarg, conf_line, NULL, err, n))
			return -EINVAL;
	}
	/* Pass 2: the command line over the files. */
	optind = 0;
	while ((r = getopt_long(argc, argv, "h", lo, NULL)) != -1)
		if (r >= 256 && set(&opts[r - 256], optarg, err, n))
			return -EINVAL;
	if (o.redis_user[0] && !o.redis_password_file[0]) {
		snprintf(err, n, "--redis-user: give the password with --redis-password-file");
		return -EINVAL;
	}
	return 0;
}

bool ctl_node_id_ok(const char *s)
{
	size_t len = strlen(s);

	return len >= 1 && len <= CTL_ID_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == len;
}

/* Lower-case hex of 1 to max digits into out; false if it is not one. */
static bool hex_arg(const char *s, size_t min, size_t max, char *out)
{
	size_t len = strlen(s);

	if (len < min || len > max || strspn(s, "0123456789abcdefABCDEF") != len)
		return false;
	for (size_t i = 0; i <= len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	return true;
}

/* The room tag: hex of the first 16 bytes of HMAC-SHA256(secret, name),
 * as the nodes compute it (controlplane/meeting/room.c, state/store.h). */
static int room_tag(char tag[33], char *err, size_t n)
{
	uint8_t secret[33], key[32];
	unsigned klen = sizeof(key);
	ssize_t got;
	int fd;

	fd = open(o.secret_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, n, "--secret-file %.300s: %s", o.secret_file, strerror(errno));
		return -EINVAL;
	}
	got = read(fd, secret, sizeof(secret));
	close(fd);
	if (got != 32) {
		explicit_bzero(secret, sizeof(secret));
		snprintf(err, n, "--secret-file %.300s: want exactly 32 bytes", o.secret_file);
		return -EINVAL;
	}
	HMAC(EVP_sha256(), secret, 32, (const unsigned char *)o.room, strlen(o.room), key, &klen);
	explicit_bzero(secret, sizeof(secret));
	for (int i = 0; i < 16; i++)
		snprintf(tag + 2 * i, 3, "%02x", key[i]);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(o.room, sizeof(o.room));
	return 0;
}

/* The command and its arguments: 0, or -EINVAL (err set). A meeting or
 * participant argument is never repeated (it may be a mistyped room). */
static int parse_command(struct ctl *c, int argc, char **argv, char *err, size_t n)
{
	static const struct {
		const char *name;
		enum ctl_target target;
		int min, max; /* positional arguments after the command */
	} cmds[] = { { "nodes", TARGET_ALL, 0, 0 },       { "meetings", TARGET_ALL, 0, 1 },
		     { "meeting", TARGET_MEETING, 1, 1 }, { "end", TARGET_MEETING, 1, 1 },
		     { "kick", TARGET_MEETING, 2, 2 },    { "mute", TARGET_MEETING, 2, 3 },
		     { "drain", TARGET_NODE, 1, 1 },      { "undrain", TARGET_NODE, 1, 1 },
		     { "stats", TARGET_NODE, 1, 1 } };
	int i, nargs, k = 0;
	char **a;

	if (optind >= argc) {
		snprintf(err, n, "no command (see --help)");
		return -EINVAL;
	}
	for (i = 0; i < (int)(sizeof(cmds) / sizeof(cmds[0])); i++)
		if (!strcmp(argv[optind], cmds[i].name))
			break;
	if (i == (int)(sizeof(cmds) / sizeof(cmds[0]))) {
		snprintf(err, n, "unknown command '%.40s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	c->cmd = cmds[i].name;
	c->target = cmds[i].target;
	a = argv + optind + 1;
	nargs = argc - optind - 1;
	/* With --room, the MEETING argument is the room's. */
	if (o.has_room && c->target != TARGET_MEETING) {
		snprintf(err, n, "--room is for meeting, end, kick and mute");
		return -EINVAL;
	}
	if (nargs + o.has_room < cmds[i].min || nargs + o.has_room > cmds[i].max) {
		snprintf(err, n, "wrong number of arguments for '%s' (see --help)", c->cmd);
		return -EINVAL;
	}
	if (c->target == TARGET_MEETING) {
		if (o.has_room) {
			if (room_tag(c->meeting, err, n))
				return -ENOENT;
		} else if (!hex_arg(a[k++], 32, 32, c->meeting)) {
			snprintf(err, n,
				 "MEETING must be 32 hex digits (a meeting id or tag); for a room "
				 "name use --room NAME");
			return -EINVAL;
		}
		if (k < nargs && !hex_arg(a[k++], 16, 16, c->participant)) {
			snprintf(err, n, "PARTICIPANT must be a participant id (16 hex digits)");
			return -EINVAL;
		}
		if (!strcmp(c->cmd, "mute")) {
			c->kind = "audio";
			if (k < nargs) {
				if (strcmp(a[k], "audio") && strcmp(a[k], "video")) {
					snprintf(err, n, "mute: the kind is audio or video");
					return -EINVAL;
				}
				c->kind = a[k][0] == 'a' ? "audio" : "video";
			}
		}
	} else if (nargs == 1) {
		if (!ctl_node_id_ok(a[0])) {
			snprintf(err, n, "'%.40s' is not a node id (1-32 of A-Z a-z 0-9 _ -)",
				 a[0]);
			return -EINVAL;
		}
		strcpy(c->node, a[0]);
		if (!strcmp(c->cmd, "meetings"))
			c->target = TARGET_NODE;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timeval tv_of(double s)
{
	return (struct timeval){ .tv_sec = (time_t)s,
				 .tv_usec = (suseconds_t)((s - floor(s)) * 1e6) };
}

/* One command; false when it failed (a message printed). */
static bool redis_ok(redisContext *rc, redisReply *r, const char *what)
{
	if (!r) {
		fprintf(stderr, "sluicectl: Redis: %s failed: %s\n", what,
			rc->errstr[0] ? rc->errstr : "connection lost");
		return false;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "sluicectl: Redis refused %s: %.200s\n", what, r->str);
		freeReplyObject(r);
		return false;
	}
	return true;
}

static bool known(const struct ctl *c, const char *id)
{
	for (size_t i = 0; i < c->n_known; i++)
		if (!strcmp(c->known[i], id))
			return true;
	return false;
}

static void add_known(struct ctl *c, const char *id)
{
	if (ctl_node_id_ok(id) && !known(c, id) && c->n_known < CTL_NODES_MAX)
		strcpy(c->known[c->n_known++], id);
}

static bool answered(const struct ctl *c, const char *id)
{
	for (size_t i = 0; i < c->n_reply; i++)
		if (!strcmp(json_string_value(json_object_get(c->reply[i], "node")), id))
			return true;
	return false;
}

/* Keep one reply: a JSON object for this request from a node that has not
 * answered yet. */
static void take_reply(struct ctl *c, const char *s, size_t len)
{
	json_t *j = json_loadb(s, len, 0, NULL), *peers;
	const char *node = json_string_value(json_object_get(j, "node"));
	size_t i;
	json_t *p;

	if (!json_is_object(j) || !node || !ctl_node_id_ok(node) ||
	    !json_is_string(json_object_get(j, "req")) ||
	    strcmp(json_string_value(json_object_get(j, "req")), c->req) ||
	    !json_is_boolean(json_object_get(j, "ok"))) {
		fprintf(stderr, "sluicectl: ignoring a malformed reply\n");
		json_decref(j);
		return;
	}
	if (answered(c, node) || c->n_reply == CTL_NODES_MAX) {
		json_decref(j);
		return;
	}
	c->reply[c->n_reply++] = j;
	add_known(c, node);
	peers = json_object_get(j, "peers");
	json_array_foreach(peers, i, p) if (json_is_string(p)) add_known(c, json_string_value(p));
}

static bool all_answered(const struct ctl *c)
{
	for (size_t i = 0; i < c->n_known; i++)
		if (!answered(c, c->known[i]))
			return false;
	return c->n_known > 0;
}

/* A reply that settles the command whoever else may answer: the addressed
 * node's, a meeting's holder's (anything but not_here), or a bad_request. */
static bool decisive(const struct ctl *c)
{
	for (size_t i = 0; i < c->n_reply; i++) {
		const char *node = json_string_value(json_object_get(c->reply[i], "node"));
		const char *err = json_string_value(json_object_get(c->reply[i], "error"));

		if (err && !strcmp(err, "bad_request"))
			return true;
		if (c->node[0] && node && !strcmp(node, c->node))
			return true;
		if (c->target == TARGET_MEETING && (!err || strcmp(err, "not_here")))
			return true;
	}
	return false;
}

/* XADD, BLPOP until done, DEL: 0, or 1 (a message printed). */
static int exchange(struct ctl *c, const struct sl_redis_addr *a, const char *pw)
{
	const char *argv[20];
	char key[64], secs[32];
	double end = now_s() + c->timeout, settle;
	redisContext *rc;
	redisReply *r;
	int argc = 0, ret = 1;

	rc = a->sock[0] ? redisConnectUnixWithTimeout(a->sock, tv_of(c->timeout))
			: redisConnectWithTimeout(a->host, a->port, tv_of(c->timeout));
	if (!rc || rc->err) {
		fprintf(stderr, "sluicectl: cannot connect to Redis at %s: %s\n", o.redis,
			rc ? rc->errstr : "out of memory");
		goto out;
	}
	redisSetTimeout(rc, tv_of(c->timeout + 1));
	if (pw[0]) {
		argv[argc++] = "AUTH";
		if (o.redis_user[0])
			argv[argc++] = o.redis_user;
		argv[argc++] = pw;
		r = redisCommandArgv(rc, argc, argv, NULL);
		if (!redis_ok(rc, r, "AUTH (check --redis-user and --redis-password-file)"))
			goto out;
		freeReplyObject(r);
		argc = 0;
	}
	argv[argc++] = "XADD";
	argv[argc++] = "sl:ctl";
	argv[argc++] = "MAXLEN";
	argv[argc++] = "~";
	argv[argc++] = "1000";
	argv[argc++] = "*";
	argv[argc++] = "req";
	argv[argc++] = c->req;
	argv[argc++] = "cmd";
	argv[argc++] = c->cmd;
	if (c->node[0]) {
		argv[argc++] = "node";
		argv[argc++] = c->node;
	}
	if (c->meeting[0]) {
		argv[argc++] = "meeting";
		argv[argc++] = c->meeting;
	}
	if (c->participant[0]) {
		argv[argc++] = "participant";
		argv[argc++] = c->participant;
	}
	if (c->kind) {
		argv[argc++] = "kind";
		argv[argc++] = c->kind;
	}
	r = redisCommandArgv(rc, argc, argv, NULL);
	if (!redis_ok(rc, r, "XADD to sl:ctl"))
		goto out;
	freeReplyObject(r);
	snprintf(key, sizeof(key), "sl:ctl:reply:%s", c->req);
	/* A node knows the others as of its last heartbeat read (every
	 * --node-ttl/3): one that started since is in nobody's peers yet. So,
	 * unless a reply settles it, wait CTL_SETTLE_S (more than two of a
	 * node's 200 ms stream reads) for nodes nobody named. */
	settle = now_s() + CTL_SETTLE_S;
	if (settle > end)
		settle = end;
	for (;;) {
		double left = (all_answered(c) ? settle : end) - now_s();

		if (decisive(c) || left < 0.001)
			break;
		/* BLPOP's timeout 0 would wait forever: never below 1 ms. */
		snprintf(secs, sizeof(secs), "%.3f", left);
		redisSetTimeout(rc, tv_of(left + 2));
		r = redisCommandArgv(rc, 3, (const char *[]){ "BLPOP", key, secs }, NULL);
		if (!redis_ok(rc, r, "BLPOP of the replies"))
			goto out;
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		    r->element[1]->type == REDIS_REPLY_STRING)
			take_reply(c, r->element[1]->str, r->element[1]->len);
		else if (r->type != REDIS_REPLY_NIL) {
			freeReplyObject(r);
			fprintf(stderr, "sluicectl: Redis: unexpected answer to BLPOP\n");
			goto out;
		}
		freeReplyObject(r);
	}
	r = redisCommandArgv(rc, 2, (const char *[]){ "DEL", key }, NULL);
	if (!redis_ok(rc, r, "DEL of the reply list"))
		goto out;
	freeReplyObject(r);
	ret = 0;
out:
	if (rc)
		redisFree(rc);
	return ret;
}

int main(int argc, char **argv)
{
	static struct ctl c;
	char err[512], pw[SL_REDIS_PASSWORD_MAX + 1] = "";
	struct sl_redis_addr a;
	uint8_t rnd[16];
	int r;

	r = parse_options(argc, argv, err, sizeof(err));
	if (r == 1)
		return 0;
	if (!r)
		r = parse_command(&c, argc, argv, err, sizeof(err));
	if (!r)
		r = sl_redis_addr_parse(o.redis, &a, err, sizeof(err));
	if (r) {
		fprintf(stderr, "sluicectl: %s\n", err);
		return r == -ENOENT ? 1 : 2;
	}
	c.json = o.json;
	c.timeout = o.timeout;
	if (o.redis_password_file[0] &&
	    sl_redis_password_load(o.redis_password_file, pw, err, sizeof(err))) {
		fprintf(stderr, "sluicectl: %s\n", err);
		return 1;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		fprintf(stderr, "sluicectl: getrandom: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < 16; i++)
		snprintf(c.req + 2 * i, 3, "%02x", rnd[i]);
	r = exchange(&c, &a, pw);
	explicit_bzero(pw, sizeof(pw));
	if (!r)
		r = ctl_report(&c);
	for (size_t i = 0; i < c.n_reply; i++)
		json_decref(c.reply[i]);
	return r;
}
