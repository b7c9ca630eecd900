/*
 * config.h - sluice-controlplane's options (config.c).
 */
#ifndef SLUICE_CP_CONFIG_H
#define SLUICE_CP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/redis_addr.h> /* SL_REDIS_PASSWORD_MAX */

#define SL_CP_MAX_ORIGINS   8
#define SL_CP_ORIGIN_LEN    256
#define SL_CP_MAX_TURN_URIS 8
#define SL_CP_TURN_URI_LEN  256

struct sl_cp_config {
	char listen[64]; /* HTTP/WebSocket address: an IPv4 or IPv6 literal */
	uint16_t port;
	char web_root[512];
	char dp_socket[108];
	char redis[256];               /* "" = embedded; unix:/path or redis://host:port */
	char redis_server[256];        /* binary for the embedded Redis */
	char redis_user[128];          /* "" = AUTH with the password only (or none) */
	char redis_password_file[512]; /* "" = no AUTH */
	char state_dir[256];
	char cert[512];
	char key[512];
	char advertise_ipv4[16]; /* "" = the dataplane's own address */
	uint32_t room_max;
	uint32_t consent_timeout_s;
	uint32_t handshake_timeout_s;
	uint32_t meeting_ttl_s;
	uint32_t stats_s;
	int log_level;
	/* Joins before their handshake completes, and join throttling (room.c). */
	uint32_t pending_max;      /* handshakes in progress, whole server */
	uint32_t pending_room_max; /* handshakes in progress, per meeting */
	uint32_t join_rate;        /* joins per minute per source address */
	uint32_t join_burst;
	uint32_t room_join_rate; /* joins per minute per meeting (room name) */
	uint32_t room_join_burst;
	/* Who may connect (http.c). */
	char origin[SL_CP_MAX_ORIGINS][SL_CP_ORIGIN_LEN]; /* normalized: scheme://host[:port] */
	unsigned n_origin;
	uint32_t max_connections;        /* TCP connections in total (clamped by the fd limit) */
	uint32_t max_connections_per_ip; /* per source address (IPv6: per /64); 0 = no limit */
	uint32_t idle_timeout_s;         /* WebSocket: ping after S/2 of silence, close after S */
	uint32_t message_timeout_s;      /* a request head or a WebSocket message must complete */
	uint32_t send_queue_max;         /* bytes queued for one WebSocket before it is dropped */
	/* Entry control (meeting/). */
	uint32_t min_room_name_bits;     /* 0 = weak names are only flagged */
	int moderators;                  /* enum sl_moderators */
	int guests;                      /* enum sl_guests: who has no token, with SL_MOD_TOKEN */
	int jwt_alg;                     /* enum sl_jwt_alg; SL_JWT_NONE when no --jwt-key */
	char jwt_key[512];               /* file: HS256 secret or RS256/ES256 public key PEM */
	char jwt_audience[256];          /* "" = aud not checked */
	char jwt_issuer[256];            /* "" = iss not checked */
	uint32_t jwt_leeway_s;           /* clock skew allowed on exp/nbf, <= 60 */
	uint32_t lobby_timeout_s;        /* a lobby entry not admitted by then is turned away */
	uint32_t lobby_max;              /* lobby entries per meeting */
	uint32_t password_backoff_max_s; /* longest wait after wrong passwords */
	uint32_t check_name_rate;        /* check_name per minute per source address */
	uint32_t check_name_burst;
	uint32_t chat_rate; /* chat messages per minute per participant */
	uint32_t chat_burst;
	int p2p;                 /* 1: one-to-one meetings may go peer-to-peer (meeting/p2p.c) */
	char metrics_listen[64]; /* ADDR:PORT or [ADDR6]:PORT of /metrics (metrics.c); "" = off */
	/* Several nodes, one Redis (state/store.c). */
	char node_id[33];          /* "" = random per start */
	char public_url[256];      /* this node's signalling WebSocket URL; "" = none */
	uint32_t node_ttl_s;       /* TTL of sl:node:ID, refreshed every S/3 */
	uint32_t placement_margin; /* participants another node must have fewer to get a meeting */
	uint32_t placement_busy;   /* percent: a node whose busiest worker is this busy is full */
	char secret_file[512];     /* the deployment secret (default STATE-DIR/secret) */
	/* TURN credentials handed out in `joined` (transport/turn.c). */
	char turn_uri[SL_CP_MAX_TURN_URIS]
		     [SL_CP_TURN_URI_LEN]; /* turn(s):host[:port][?transport] */
	unsigned n_turn_uri;
	char turn_secret[SL_REDIS_PASSWORD_MAX + 1]; /* TURN REST API shared secret; never logged */
	char turn_secret_file[512];                  /* "" = the secret comes from --turn-secret */
	uint32_t turn_ttl_s;                         /* credential lifetime */
};

enum sl_moderators { SL_MOD_FIRST, SL_MOD_EVERYONE, SL_MOD_TOKEN };
enum sl_guests { SL_GUESTS_JOIN, SL_GUESTS_WAIT, SL_GUESTS_DENY };
enum sl_jwt_alg { SL_JWT_NONE, SL_JWT_HS256, SL_JWT_RS256, SL_JWT_ES256 };

/*
 * Parse argv into c: defaults, then every --config FILE in order, then the
 * rest of the command line (which wins). Returns 0, 1 when --help or
 * --version was printed (exit 0), or -EINVAL with a message naming the
 * option written into err.
 */
/*
 * An ADDR:PORT (IPv4 literal) or [ADDR]:PORT (IPv6 literal), port 1-65535,
 * into a socket address. Returns 0 or -EINVAL.
 */
struct sockaddr_storage;
int sl_cp_hostport(const char *v, struct sockaddr_storage *sa, unsigned *sa_len);

int sl_cp_config_parse(struct sl_cp_config *c, int argc, char **argv, char *err, size_t errlen);

#endif
