/*
 * config.c - sluice-controlplane's command line.
 *
 * One table lists every option with its help text, so --help can never
 * disagree with what is parsed. Every value is checked before anything
 * starts, and a bad one is reported with the option's name.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

#ifndef SL_DEFAULT_WEB_ROOT
#define SL_DEFAULT_WEB_ROOT "/usr/share/sluice/web"
#endif

enum kind { STR, U32, LEVEL, IP4 };

struct opt {
	const char *name, *arg, *help;
	enum kind kind;
	size_t off, size;
	uint32_t min, max;
};

#define S(f) offsetof(struct sl_cp_config, f), sizeof(((struct sl_cp_config *)0)->f)
static const struct opt opts[] = {
	{ "listen", "ADDR", "address for HTTP and WebSocket (default 127.0.0.1)", STR, S(listen), 0,
	  0 },
	{ "port", "N", "TCP port for HTTP and WebSocket (default 8080)", U32, S(port), 1, 65535 },
	{ "web-root", "DIR", "the web client's files (default " SL_DEFAULT_WEB_ROOT ")", STR,
	  S(web_root), 0, 0 },
	{ "dataplane-socket", "PATH",
	  "sluice-dataplane's control socket (default /run/sluice/dataplane.sock)", STR,
	  S(dp_socket), 0, 0 },
	{ "redis", "URL",
	  "room state: unix:/path or redis://host:port (default: start an embedded redis-server on "
	  "a Unix socket)",
	  STR, S(redis), 0, 0 },
	{ "redis-server", "PATH", "binary for the embedded Redis (default redis-server)", STR,
	  S(redis_server), 0, 0 },
	{ "state-dir", "DIR",
	  "certificate, secret and embedded Redis socket (default /var/lib/sluice)", STR,
	  S(state_dir), 0, 0 },
	{ "cert", "FILE",
	  "DTLS certificate, PEM (default STATE-DIR/dtls-cert.pem, generated if missing)", STR,
	  S(cert), 0, 0 },
	{ "key", "FILE",
	  "DTLS private key, PEM (default STATE-DIR/dtls-key.pem, generated if missing)", STR,
	  S(key), 0, 0 },
	{ "advertise-ipv4", "IP", "address to put in ICE candidates (default: the dataplane's own)",
	  IP4, S(advertise_ipv4), 0, 0 },
	{ "room-max", "N",
	  "participants per meeting, 2-32 (default 32: each receives every other one's audio and "
	  "video in one 64-section offer)",
	  U32, S(room_max), 2, 32 },
	{ "consent-timeout", "S",
	  "remove an endpoint after S seconds without a valid ICE check (default 30, RFC 7675)",
	  U32, S(consent_timeout_s), 5, 300 },
	{ "handshake-timeout", "S",
	  "a join must complete ICE+DTLS within S seconds, else it is removed (default 10)", U32,
	  S(handshake_timeout_s), 2, 120 },
	{ "meeting-ttl", "S", "TTL of a meeting's Redis keys, refreshed every S/3 (default 60)",
	  U32, S(meeting_ttl_s), 6, 86400 },
	{ "stats", "S",
	  "log the counters every S seconds when they changed, 0 = only at exit (default 60)", U32,
	  S(stats_s), 0, 86400 },
	{ "log-level", "LEVEL", "error, warn, info or debug (default info)", LEVEL, S(log_level), 0,
	  0 },
	/* Joins whose handshake has not completed yet, and join throttling. */
	{ "pending-max", "N",
	  "joins still in their ICE/DTLS handshake, whole server (default 256); more are told "
	  "'throttled'",
	  U32, S(pending_max), 1, 100000 },
	{ "pending-room-max", "N", "joins still in their handshake, per meeting (default 8)", U32,
	  S(pending_room_max), 1, 64 },
	{ "join-rate", "N", "joins per minute from one source address (IPv6: per /64; default 30)",
	  U32, S(join_rate), 1, 1000000 },
	{ "join-burst", "N", "joins one source address may make at once (default 10)", U32,
	  S(join_burst), 1, 1000000 },
	{ "room-join-rate", "N", "joins per minute of one room name (default 60)", U32,
	  S(room_join_rate), 1, 1000000 },
	{ "room-join-burst", "N", "joins of one room name at once (default 20)", U32,
	  S(room_join_burst), 1, 1000000 },
};
#undef S
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static void defaults(struct sl_cp_config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->listen, "127.0.0.1");
	c->port = 8080;
	snprintf(c->web_root, sizeof(c->web_root), "%s", SL_DEFAULT_WEB_ROOT);
	strcpy(c->dp_socket, "/run/sluice/dataplane.sock");
	strcpy(c->redis_server, "redis-server");
	strcpy(c->state_dir, "/var/lib/sluice");
	c->room_max = 32;
	c->consent_timeout_s = 30;
	c->handshake_timeout_s = 10;
	c->meeting_ttl_s = 60;
	c->stats_s = 60;
	c->log_level = SL_LOG_INFO;
	c->pending_max = 256;
	c->pending_room_max = 8;
	c->join_rate = 30;
	c->join_burst = 10;
	c->room_join_rate = 60;
	c->room_join_burst = 20;
}

static void usage(void)
{
	printf("usage: sluice-controlplane [options]\n\n"
	       "Signalling (HTTP + WebSocket, with the web client), ICE-lite, DTLS-SRTP and\n"
	       "ephemeral rooms in Redis for sluice-dataplane. Runs unprivileged.\n\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		char left[48];

		snprintf(left, sizeof(left), "--%s %s", opts[i].name, opts[i].arg);
		printf("  %-26s %s\n", left, opts[i].help);
	}
	printf("  %-26s %s\n  %-26s %s\n", "--help", "this text", "--version", "print the version");
}

static int set(struct sl_cp_config *c, const struct opt *o, const char *v, char *err, size_t n)
{
	char *p = (char *)c + o->off, *end;
	unsigned long x;
	struct in_addr a;
	static const char *const levels[] = { "error", "warn", "info", "debug" };

	switch (o->kind) {
	case STR:
		if (!*v || strlen(v) >= o->size)
			goto bad;
		strcpy(p, v);
		return 0;
	case IP4:
		if (inet_pton(AF_INET, v, &a) != 1)
			goto bad;
		strcpy(p, v);
		return 0;
	case U32:
		errno = 0;
		x = strtoul(v, &end, 10);
		if (errno || end == v || *end || v[0] == '-' || x < o->min || x > o->max)
			goto bad;
		if (o->size == 2)
			*(uint16_t *)p = (uint16_t)x;
		else
			*(uint32_t *)p = (uint32_t)x;
		return 0;
	case LEVEL:
		for (int i = 0; i < 4; i++)
			if (!strcmp(v, levels[i])) {
				*(int *)p = i;
				return 0;
			}
		goto bad;
	}
bad:
	snprintf(err, n, "--%s: '%s' is not valid (%s)", o->name, v, o->help);
	return -EINVAL;
}

static void derived(struct sl_cp_config *c)
{
	if (!c->cert[0])
		snprintf(c->cert, sizeof(c->cert), "%s/dtls-cert.pem", c->state_dir);
	if (!c->key[0])
		snprintf(c->key, sizeof(c->key), "%s/dtls-key.pem", c->state_dir);
}

int sl_cp_config_parse(struct sl_cp_config *c, int argc, char **argv, char *err, size_t errlen)
{
	struct option lo[N_OPTS + 3];
	int i, r;

	defaults(c);
	for (i = 0; i < (int)N_OPTS; i++)
		lo[i] = (struct option){ opts[i].name, required_argument, NULL, 256 + i };
	lo[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[i++] = (struct option){ "version", no_argument, NULL, 'V' };
	lo[i] = (struct option){ 0, 0, 0, 0 };
	optind = 1;
	opterr = 0;
	while ((r = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (r == 'h') {
			usage();
			return 1;
		}
		if (r == 'V') {
			printf("sluice-controlplane %s\n", SL_VERSION);
			return 1;
		}
		if (r < 256) {
			snprintf(err, errlen, "unknown or incomplete option '%s' (see --help)",
				 argv[optind - 1]);
			return -EINVAL;
		}
		if (set(c, &opts[r - 256], optarg, err, errlen))
			return -EINVAL;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	derived(c);
	return 0;
}
