/*
 * config.c - sluice-controlplane's command line.
 *
 * One table lists every option with its help text, so --help can never
 * disagree with what is parsed. --config FILE reads the same options as
 * `key = value` lines (common/conf.c) before the command line, which wins.
 * Every value is checked before anything starts, and a bad one is reported
 * with the option's name.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/conf.h>
#include <sluice/redis_addr.h>

#include "config.h"
#include "log.h"

#ifndef SL_DEFAULT_WEB_ROOT
#define SL_DEFAULT_WEB_ROOT "/usr/share/sluice/web"
#endif

enum kind { STR, U32, LEVEL, IP4, ADDR, ORIGIN, CHOICE, HOSTPORT, TURNURI, SECRET };

struct opt {
	const char *name, *arg, *help;
	enum kind kind;
	size_t off, size;
	uint32_t min, max; /* CHOICE: min is the index in choice_lists */
};

static const char *const moderators_words[] = { "first", "everyone", "token", NULL };
static const char *const guests_words[] = { "join", "wait", "deny", NULL };
/* Index = enum sl_jwt_alg; "none" is never accepted. */
static const char *const jwt_alg_words[] = { "-", "HS256", "RS256", "ES256", NULL };
static const char *const onoff_words[] = { "off", "on", NULL };
/* CHOICE options store the index of the word given, as an int. */
static const char *const *const choice_lists[] = { moderators_words, guests_words, jwt_alg_words,
						   onoff_words };

#define S(f) offsetof(struct sl_cp_config, f), sizeof(((struct sl_cp_config *)0)->f)
static const struct opt opts[] = {
	{ "listen", "ADDR",
	  "IPv4 or IPv6 address for HTTP and WebSocket, bound exactly (default 127.0.0.1)", ADDR,
	  S(listen), 0, 0 },
	{ "port", "N", "TCP port for HTTP and WebSocket (default 8080)", U32, S(port), 1, 65535 },
	{ "web-root", "DIR", "the web client's files (default " SL_DEFAULT_WEB_ROOT ")", STR,
	  S(web_root), 0, 0 },
	{ "dataplane-socket", "PATH",
	  "sluice-dataplane's control socket (default /run/sluice/dataplane.sock)", STR,
	  S(dp_socket), 0, 0 },
	{ "redis", "URL",
	  "room state: unix:/path or tcp://host:port (default: start an embedded redis-server on "
	  "a Unix socket)",
	  STR, S(redis), 0, 0 },
	{ "redis-server", "PATH", "binary for the embedded Redis (default redis-server)", STR,
	  S(redis_server), 0, 0 },
	{ "redis-user", "NAME",
	  "with --redis: the ACL user to AUTH as (needs --redis-password-file)", STR, S(redis_user),
	  0, 0 },
	{ "redis-password-file", "FILE",
	  "with --redis: AUTH with the first line of FILE (default: no AUTH)", STR,
	  S(redis_password_file), 0, 0 },
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
	{ "origin", "URL",
	  "a public origin of the web client, http(s)://host[:port]; repeatable, at most 8. "
	  "WebSockets with another Origin and requests with a Host that is no origin's host[:port] "
	  "(nor the listen address) are refused (default http://ADDR:PORT of --listen/--port, plus "
	  "http://localhost:PORT on loopback; required when --listen is 0.0.0.0 or ::)",
	  ORIGIN, S(origin), 0, 0 },
	{ "max-connections", "N",
	  "TCP connections at once, more are answered 503; lowered to fit the open-file limit "
	  "(default 1024)",
	  U32, S(max_connections), 1, 1000000 },
	{ "max-connections-per-ip", "N",
	  "TCP connections at once from one address (IPv6: one /64), 0 = no limit; behind a "
	  "reverse proxy every connection comes from the proxy (default 32)",
	  U32, S(max_connections_per_ip), 0, 1000000 },
	{ "idle-timeout", "S",
	  "ping a silent WebSocket after S/2 seconds, close it after S (default 60)", U32,
	  S(idle_timeout_s), 2, 3600 },
	{ "message-timeout", "S",
	  "an HTTP request head or a started WebSocket message must be complete within S seconds "
	  "(default 10)",
	  U32, S(message_timeout_s), 1, 300 },
	{ "send-queue-max", "BYTES",
	  "bytes queued for one WebSocket that does not read; over it the client is dropped "
	  "(default 1048576)",
	  U32, S(send_queue_max), 65536, 67108864 },
	{ "log-level", "LEVEL", "error, warn, info or debug (default info)", LEVEL, S(log_level), 0,
	  0 },
	/* Joins whose handshake has not completed yet, and join throttling. */
	{ "pending-max", "N",
	  "joins still in their ICE/DTLS handshake, whole server (default 256); more are told "
	  "'throttled'",
	  U32, S(pending_max), 1, 100000 },
	{ "pending-room-max", "N", "joins still in their handshake, per meeting (default 8)", U32,
	  S(pending_room_max), 1, 64 },
	{ "join-rate", "N",
	  "joins per minute from one source address (IPv6: per /64; default 180: several people "
	  "behind one NAT)",
	  U32, S(join_rate), 1, 1000000 },
	{ "join-burst", "N", "joins one source address may make at once (default 20)", U32,
	  S(join_burst), 1, 1000000 },
	{ "room-join-rate", "N", "joins per minute of one room name (default 60)", U32,
	  S(room_join_rate), 1, 1000000 },
	{ "room-join-burst", "N", "joins of one room name at once (default 20)", U32,
	  S(room_join_burst), 1, 1000000 },
	/* Entry control. */
	{ "min-room-name-bits", "N",
	  "refuse to create a meeting whose name scores under N bits ('weak_room_name'); 0 = "
	  "weak names are only flagged (default 0)",
	  U32, S(min_room_name_bits), 0, 128 },
	{ "moderators", "MODE",
	  "who moderates: first (the creator, and whom a moderator grants), everyone, or token "
	  "(a valid JWT with moderator: true; default first)",
	  CHOICE, S(moderators), 0, 0 },
	{ "guests", "MODE",
	  "with --moderators token, joins without a token: join, wait (in the lobby until a "
	  "moderator admits them) or deny (default join)",
	  CHOICE, S(guests), 1, 0 },
	{ "jwt-alg", "ALG",
	  "the one JWT algorithm accepted: HS256, RS256 or ES256 (default HS256 when --jwt-key is "
	  "given)",
	  CHOICE, S(jwt_alg), 2, 0 },
	{ "jwt-key", "FILE",
	  "JWT key: the HS256 secret (the file's bytes, one trailing newline removed, at least 32) "
	  "or the RS256/ES256 public key (PEM, never the private key); tokens are accepted only "
	  "when it is given",
	  STR, S(jwt_key), 0, 0 },
	{ "jwt-audience", "AUD", "a token's aud must be (or contain) AUD (default: not checked)",
	  STR, S(jwt_audience), 0, 0 },
	{ "jwt-issuer", "ISS", "a token's iss must be ISS (default: not checked)", STR,
	  S(jwt_issuer), 0, 0 },
	{ "jwt-leeway", "S", "clock skew allowed on a token's exp and nbf, 0-60 (default 30)", U32,
	  S(jwt_leeway_s), 0, 60 },
	{ "lobby-timeout", "S",
	  "a lobby entry not admitted within S seconds is turned away (default 300)", U32,
	  S(lobby_timeout_s), 10, 86400 },
	{ "lobby-max", "N", "entries waiting in one meeting's lobby (default 50)", U32,
	  S(lobby_max), 1, 10000 },
	{ "password-backoff-max", "S",
	  "wrong meeting passwords from one address: after 3, each wait doubles from 1 s up to S "
	  "(default 300)",
	  U32, S(password_backoff_max_s), 1, 86400 },
	{ "check-name-rate", "N",
	  "check_name requests per minute from one source address (default 120)", U32,
	  S(check_name_rate), 1, 1000000 },
	{ "check-name-burst", "N", "check_name requests one address may make at once (default 30)",
	  U32, S(check_name_burst), 1, 1000000 },
	{ "chat-rate", "N", "chat messages per minute from one participant (default 60)", U32,
	  S(chat_rate), 1, 60000 },
	{ "chat-burst", "N", "chat messages one participant may send at once (default 10)", U32,
	  S(chat_burst), 1, 1000 },
	{ "p2p", "on|off",
	  "with exactly two participants, let their browsers also connect directly and relay their "
	  "offers, answers and candidates (p2p); each then learns the other's IP address (default "
	  "on)",
	  CHOICE, S(p2p), 3, 0 },
	{ "metrics-listen", "ADDR:PORT",
	  "serve Prometheus metrics at http://ADDR:PORT/metrics, on a listener of their own "
	  "(IPv6: [ADDR]:PORT; default off)",
	  HOSTPORT, S(metrics_listen), 0, 0 },
	/* Several nodes sharing one Redis (state/store.c, docs/operators.md). */
	{ "node-id", "ID",
	  "this node's name in Redis, 1-32 of [A-Za-z0-9_-] (default: a random id per start)", STR,
	  S(node_id), 0, 0 },
	{ "public-url", "URL",
	  "this node's signalling WebSocket URL, ws(s)://host[:port]/path, sent to joins "
	  "redirected here; every node of a fleet needs one (default: none, no joins are sent "
	  "here)",
	  STR, S(public_url), 0, 0 },
	{ "node-ttl", "S",
	  "TTL of this node's heartbeat key sl:node:ID, refreshed every S/3 (default 15)", U32,
	  S(node_ttl_s), 3, 3600 },
	{ "placement-margin", "N",
	  "a new meeting goes to another node when that one has fewer participants by at least "
	  "N and by 20% of this node's (default 10)",
	  U32, S(placement_margin), 1, 1000000 },
	{ "placement-busy", "PERCENT",
	  "a node whose busiest dataplane worker is at least PERCENT busy gets no new meeting, and "
	  "sends its own new meetings to another node whatever the margin (default 80)",
	  U32, S(placement_busy), 1, 100 },
	{ "secret-file", "FILE",
	  "the 32-byte deployment secret that keys room names, created if missing; the same on "
	  "every node of a fleet (default STATE-DIR/secret)",
	  STR, S(secret_file), 0, 0 },
	/* TURN credentials in `joined` (transport/turn.c, docs/controlplane.md). */
	{ "turn-uri", "URI",
	  "a TURN server for browsers that cannot reach the dataplane directly, "
	  "turn:host[:port] or turns:host[:port], optionally ?transport=udp or ?transport=tcp; "
	  "repeatable, at most 8; needs --turn-secret-file or --turn-secret (default: none)",
	  TURNURI, S(turn_uri), 0, 0 },
	{ "turn-secret", "S",
	  "the TURN REST API shared secret (coturn's static-auth-secret); visible in ps, prefer "
	  "--turn-secret-file",
	  SECRET, S(turn_secret), 0, 0 },
	{ "turn-secret-file", "FILE", "the TURN REST API shared secret: the first line of FILE",
	  STR, S(turn_secret_file), 0, 0 },
	{ "turn-ttl", "S", "lifetime of the TURN credentials sent in joined (default 86400)", U32,
	  S(turn_ttl_s), 60, 604800 },
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
	c->join_rate = 180;
	c->join_burst = 20;
	c->room_join_rate = 60;
	c->room_join_burst = 20;
	c->moderators = SL_MOD_FIRST;
	c->guests = SL_GUESTS_JOIN;
	c->jwt_leeway_s = 30;
	c->lobby_timeout_s = 300;
	c->lobby_max = 50;
	c->password_backoff_max_s = 300;
	c->check_name_rate = 120;
	c->check_name_burst = 30;
	c->chat_rate = 60;
	c->chat_burst = 10;
	c->p2p = 1;
	c->max_connections = 1024;
	c->max_connections_per_ip = 32;
	c->idle_timeout_s = 60;
	c->message_timeout_s = 10;
	c->send_queue_max = 1024 * 1024;
	c->node_ttl_s = 15;
	c->placement_margin = 10;
	c->placement_busy = 80;
	c->turn_ttl_s = 86400;
}

/*
 * turn:host[:port] or turns:host[:port], then optionally ?transport=udp or
 * ?transport=tcp (RFC 7065). host is a DNS name, an IPv4 address or a
 * bracketed IPv6 one.
 */
static bool turn_uri_ok(const char *v)
{
	const char *h, *e;

	if (!strncmp(v, "turn:", 5))
		h = v + 5;
	else if (!strncmp(v, "turns:", 6))
		h = v + 6;
	else
		return false;
	if (*h == '[') {
		e = h + 1 + strspn(h + 1, "0123456789abcdefABCDEF:.");
		if (*e != ']' || e == h + 1)
			return false;
		e++;
	} else {
		e = h +
		    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
		if (e == h)
			return false;
	}
	if (*e == ':') {
		size_t d = strspn(e + 1, "0123456789");
		unsigned long p = strtoul(e + 1, NULL, 10);

		if (d < 1 || d > 5 || p < 1 || p > 65535)
			return false;
		e += 1 + d;
	}
	return !*e || !strcmp(e, "?transport=udp") || !strcmp(e, "?transport=tcp");
}

/*
 * http(s)://host[:port] with nothing after it (a trailing '/' is dropped),
 * lower-cased, the scheme's default port removed: the form browsers send
 * in Origin. host is a DNS name, an IPv4 address or a bracketed IPv6 one.
 */
static int origin_normalize(const char *v, char *out, size_t n)
{
	char buf[SL_CP_ORIGIN_LEN], *host, *end, *port = NULL;
	bool https;
	unsigned long p = 0;
	size_t len = strlen(v);

	if (len >= sizeof(buf))
		return -EINVAL;
	for (size_t i = 0; i <= len; i++)
		buf[i] = (char)tolower((unsigned char)v[i]);
	if (len && buf[len - 1] == '/')
		buf[--len] = 0;
	if (!strncmp(buf, "http://", 7))
		https = false;
	else if (!strncmp(buf, "https://", 8))
		https = true;
	else
		return -EINVAL;
	host = buf + (https ? 8 : 7);
	if (*host == '[') {
		end = strchr(host, ']');
		if (!end || end == host + 1)
			return -EINVAL;
		for (char *c = host + 1; c < end; c++)
			if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.')
				return -EINVAL;
		end++;
	} else {
		end = host;
		while (isalnum((unsigned char)*end) || *end == '.' || *end == '-')
			end++;
		if (end == host)
			return -EINVAL;
	}
	if (*end == ':') {
		port = end + 1;
		errno = 0;
		p = strtoul(port, &end, 10);
		if (errno || end == port || !isdigit((unsigned char)*port) || p < 1 || p > 65535)
			return -EINVAL;
		*(port - 1) = 0;
	}
	if (*end)
		return -EINVAL;
	if (port && p != (https ? 443u : 80u))
		snprintf(out, n, "%s://%s:%lu", https ? "https" : "http", host, p);
	else
		snprintf(out, n, "%s://%s", https ? "https" : "http", host);
	return 0;
}

int sl_cp_hostport(const char *v, struct sockaddr_storage *sa, unsigned *sa_len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(v, ':'), *port;
	unsigned long p;
	char *end;
	size_t hl;

	if (!colon || colon == v)
		return -EINVAL;
	port = colon + 1;
	hl = (size_t)(colon - v);
	if (v[0] == '[') {
		if (hl < 3 || v[hl - 1] != ']')
			return -EINVAL;
		v++;
		hl -= 2;
	}
	if (hl >= sizeof(host) || !isdigit((unsigned char)*port))
		return -EINVAL;
	memcpy(host, v, hl);
	host[hl] = 0;
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno || *end || p < 1 || p > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	if (colon[-1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -EINVAL;
		*sa_len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -EINVAL;
		*sa_len = sizeof(*s4);
	}
	return 0;
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
	printf("  %-26s %s\n", "--config FILE",
	       "read options from FILE first: 'key = value' lines, a key is a long option "
	       "without '--', '#' comments; the command line wins");
	printf("  %-26s %s\n  %-26s %s\n", "--help", "this text", "--version", "print the version");
}

static int set(struct sl_cp_config *c, const struct opt *o, const char *v, char *err, size_t n)
{
	char *p = (char *)c + o->off, *end;
	unsigned long x;
	struct in_addr a;
	struct in6_addr a6;
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
	case ADDR:
		if (strlen(v) >= o->size ||
		    (inet_pton(AF_INET, v, &a) != 1 && inet_pton(AF_INET6, v, &a6) != 1))
			goto bad;
		strcpy(p, v);
		return 0;
	case ORIGIN:
		if (c->n_origin >= SL_CP_MAX_ORIGINS) {
			snprintf(err, n, "--origin: at most %d origins", SL_CP_MAX_ORIGINS);
			return -EINVAL;
		}
		if (origin_normalize(v, c->origin[c->n_origin], SL_CP_ORIGIN_LEN))
			goto bad;
		c->n_origin++;
		return 0;
	case TURNURI:
		if (c->n_turn_uri >= SL_CP_MAX_TURN_URIS) {
			snprintf(err, n, "--turn-uri: at most %d URIs", SL_CP_MAX_TURN_URIS);
			return -EINVAL;
		}
		if (strlen(v) >= SL_CP_TURN_URI_LEN || !turn_uri_ok(v))
			goto bad;
		strcpy(c->turn_uri[c->n_turn_uri++], v);
		return 0;
	case SECRET: /* never echoed */
		if (!*v || strlen(v) >= o->size || strpbrk(v, "\r\n")) {
			snprintf(err, n, "--%s: needs 1-%zu bytes on one line", o->name,
				 o->size - 1);
			return -EINVAL;
		}
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
	case CHOICE:
		for (int i = 0; choice_lists[o->min][i]; i++)
			if (!strcmp(v, choice_lists[o->min][i]) && strcmp(v, "-")) {
				*(int *)p = i;
				return 0;
			}
		goto bad;
	case HOSTPORT: {
		struct sockaddr_storage ss;
		unsigned sl;

		if (strlen(v) >= o->size || sl_cp_hostport(v, &ss, &sl))
			goto bad;
		strcpy(p, v);
		return 0;
	}
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

/* --turn-uri needs exactly one of the secret options, and they need it. */
static int turn_derived(struct sl_cp_config *c, char *err, size_t n)
{
	static const char redis_opt[] = "--redis-password-file ";

	if (c->turn_secret[0] && c->turn_secret_file[0]) {
		explicit_bzero(c->turn_secret, sizeof(c->turn_secret));
		snprintf(err, n, "--turn-secret, --turn-secret-file: give only one of them");
		return -EINVAL;
	}
	if (!c->n_turn_uri) {
		if (c->turn_secret[0] || c->turn_secret_file[0]) {
			explicit_bzero(c->turn_secret, sizeof(c->turn_secret));
			snprintf(err, n, "--turn-secret%s: only with --turn-uri",
				 c->turn_secret_file[0] ? "-file" : "");
			return -EINVAL;
		}
		return 0;
	}
	if (!c->turn_secret[0] && !c->turn_secret_file[0]) {
		snprintf(err, n, "--turn-uri: give the shared secret with --turn-secret-file");
		return -EINVAL;
	}
	/* The Redis password's loader; its message names our option instead. */
	if (c->turn_secret_file[0] &&
	    sl_redis_password_load(c->turn_secret_file, c->turn_secret, err, n)) {
		char m[600];

		snprintf(m, sizeof(m), "--turn-secret-file %s",
			 strncmp(err, redis_opt, strlen(redis_opt)) ? err
								    : err + strlen(redis_opt));
		snprintf(err, n, "%s", m);
		return -EINVAL;
	}
	return 0;
}

static int derived(struct sl_cp_config *c, char *err, size_t n)
{
	struct in_addr a;
	bool v6 = strchr(c->listen, ':') != NULL;
	char port[8] = "", listen[sizeof(c->listen)];

	snprintf(listen, sizeof(listen), "%s", c->listen);
	if (!c->n_origin) {
		if (!strcmp(c->listen, "0.0.0.0") || !strcmp(c->listen, "::")) {
			snprintf(err, n,
				 "--listen %s: give the public address of the web client with "
				 "--origin "
				 "(e.g. --origin https://meet.example.com)",
				 c->listen);
			return -EINVAL;
		}
		if (c->port != 80)
			snprintf(port, sizeof(port), ":%u", c->port);
		snprintf(c->origin[c->n_origin++], SL_CP_ORIGIN_LEN, "http://%s%s%s%s",
			 v6 ? "[" : "", listen, v6 ? "]" : "", port);
		if ((!v6 && inet_pton(AF_INET, c->listen, &a) == 1 &&
		     (ntohl(a.s_addr) >> 24) == 127) ||
		    (v6 && !strcmp(c->listen, "::1")))
			snprintf(c->origin[c->n_origin++], SL_CP_ORIGIN_LEN, "http://localhost%s",
				 port);
	}
	if (c->jwt_key[0] && c->jwt_alg == SL_JWT_NONE)
		c->jwt_alg = SL_JWT_HS256;
	if (c->jwt_alg != SL_JWT_NONE && !c->jwt_key[0]) {
		snprintf(err, n, "--jwt-alg: give the key with --jwt-key");
		return -EINVAL;
	}
	if (c->moderators == SL_MOD_TOKEN && !c->jwt_key[0]) {
		snprintf(err, n,
			 "--moderators token: give the key that signs tokens with --jwt-key");
		return -EINVAL;
	}
	if (c->guests != SL_GUESTS_JOIN && c->moderators != SL_MOD_TOKEN) {
		snprintf(err, n,
			 "--guests: only with --moderators token (otherwise there are no guests)");
		return -EINVAL;
	}
	if (c->node_id[0] &&
	    strspn(c->node_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			       "0123456789_-") != strlen(c->node_id)) {
		snprintf(err, n, "--node-id: use 1-32 of A-Z a-z 0-9 _ -");
		return -EINVAL;
	}
	if (c->public_url[0] &&
	    ((strncmp(c->public_url, "ws://", 5) && strncmp(c->public_url, "wss://", 6)) ||
	     strpbrk(c->public_url, " \t\r\n\"#"))) {
		snprintf(err, n, "--public-url: give a ws:// or wss:// URL without a #fragment");
		return -EINVAL;
	}
	if (turn_derived(c, err, n))
		return -EINVAL;
	if (!c->secret_file[0])
		snprintf(c->secret_file, sizeof(c->secret_file), "%s/secret", c->state_dir);
	if (!c->cert[0])
		snprintf(c->cert, sizeof(c->cert), "%s/dtls-cert.pem", c->state_dir);
	if (!c->key[0])
		snprintf(c->key, sizeof(c->key), "%s/dtls-key.pem", c->state_dir);
	return 0;
}

/* One `key = value` line of a --config file. */
static int conf_line(void *ctx, const char *key, const char *v, char *err, size_t n)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		if (strcmp(opts[i].name, key))
			continue;
		if (!v) {
			snprintf(err, n, "%s: needs a value (%s)", key, opts[i].arg);
			return -EINVAL;
		}
		return set(ctx, &opts[i], v, err, n);
	}
	snprintf(err, n, "unknown option '%s' (see --help)", key);
	return -EINVAL;
}

int sl_cp_config_parse(struct sl_cp_config *c, int argc, char **argv, char *err, size_t errlen)
{
	struct option lo[N_OPTS + 4];
	bool cli_origin = false, cli_turn = false;
	int i, r;

	defaults(c);
	for (i = 0; i < (int)N_OPTS; i++)
		lo[i] = (struct option){ opts[i].name, required_argument, NULL, 256 + i };
	lo[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[i++] = (struct option){ "version", no_argument, NULL, 'V' };
	lo[i++] = (struct option){ "config", required_argument, NULL, 'c' };
	lo[i] = (struct option){ 0, 0, 0, 0 };
	opterr = 0;
	/* Pass 1: --help, --version, bad options, and the config files, in order. */
	optind = 0;
	while ((r = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (r == 'h') {
			usage();
			return 1;
		}
		if (r == 'V') {
			printf("sluice-controlplane %s\n", SL_VERSION);
			return 1;
		}
		if (r < 256 && r != 'c') {
			snprintf(err, errlen, "unknown or incomplete option '%s' (see --help)",
				 argv[optind - 1]);
			return -EINVAL;
		}
		if (r == 'c' && sl_conf_read(optarg, conf_line, c, err, errlen))
			return -EINVAL;
	}
	/* Pass 2: the command line over the files; its --origin and --turn-uri lists replace
	 * theirs. */
	optind = 0;
	while ((r = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (r < 256)
			continue;
		if (opts[r - 256].kind == ORIGIN && !cli_origin) {
			c->n_origin = 0;
			cli_origin = true;
		}
		if (opts[r - 256].kind == TURNURI && !cli_turn) {
			c->n_turn_uri = 0;
			cli_turn = true;
		}
		if (set(c, &opts[r - 256], optarg, err, errlen))
			return -EINVAL;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	return derived(c, err, errlen) ? -EINVAL : 0;
}
