/*
 * signalling.h - the signalling protocol (docs/signalling.md) over WebSockets.
 *
 * One struct sl_client per WebSocket (owned here, freed when the socket
 * closes). Messages are parsed with jansson, duplicate keys refused, and
 * dispatched to room.c; replies and errors are built here.
 */
#ifndef SLUICE_CP_SIGNAL_H
#define SLUICE_CP_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "http.h"

struct sl_participant;
struct sl_lobby_entry;
struct sl_entry_pending;
struct sl_name_check;

#define SL_CLIENT_NAME_CHECKS 2 /* check_name answers one client may wait for */

struct sl_client {
	struct sl_ws *ws;                 /* NULL in unit tests */
	struct sl_participant *p;         /* after a successful join */
	struct sl_lobby_entry *lobby;     /* while waiting in a lobby (entry.c) */
	struct sl_entry_pending *pending; /* a join waiting for its password check (entry.c) */
	struct sl_name_check *checks[SL_CLIENT_NAME_CHECKS]; /* being scored (entry.c) */
	bool left;
	/* The source address as a throttle key (IPv4-mapped, or an IPv6 /64
	 * prefix), when known (not in unit tests). Never logged. */
	uint8_t src_key[16];
	bool has_src;
	/* Test hook: when ws is NULL, sent messages are appended here. */
	json_t *sent;
};

extern const struct sl_http_handlers sl_signal_handlers;

/* Handle one text message (exposed for tests and the fuzzer). */
void sl_signal_message(struct sl_client *c, const char *text, size_t len);
void sl_signal_closed(struct sl_client *c);

/* Send a message (steals the reference). */
void sl_signal_send(struct sl_client *c, json_t *msg);
/* Send {"type":"error",...}; when fatal, close the connection after it. */
void sl_signal_error(struct sl_client *c, const char *code, const char *message, bool fatal);
/* Send the non-fatal error `throttled` with retry_after (whole seconds). */
void sl_signal_throttled(struct sl_client *c, unsigned retry_after, const char *message);

#endif

#ifndef SLUICE_CP_SIGNAL_MSG
#define SLUICE_CP_SIGNAL_MSG
enum sl_msg_type {
	SL_MSG_JOIN = 1,
	SL_MSG_ANSWER,
	SL_MSG_LEAVE,
	SL_MSG_CHECK_NAME,
	SL_MSG_SET_PASSWORD,
	SL_MSG_LOCK,
	SL_MSG_LOBBY,
	SL_MSG_ADMIT,
	SL_MSG_DENY,
	SL_MSG_MUTE,
	SL_MSG_KICK,
	SL_MSG_GRANT_MODERATOR,
	SL_MSG_END_MEETING,
	SL_MSG_CHAT,
	SL_MSG_PERMISSIONS,
	SL_MSG_SCREENSHARE,
	SL_MSG_P2P,
	SL_MSG_SPEAKER_STATS,
};
#define SL_MSG_LAST SL_MSG_SPEAKER_STATS /* the highest type; move it when appending */
/* The wire name of a message type ("join"), or NULL for none (metrics labels). */
const char *sl_signal_type_name(int type);

#define SL_SIGNAL_MAX_CHAT 4096  /* bytes of UTF-8 */
#define SL_SIGNAL_MAX_P2P  16384 /* p2p: bytes of the payload, serialized compactly */

/* permissions: who may (chat, screenshare). */
enum sl_perm { SL_PERM_UNSET = -1, SL_PERM_ALL = 0, SL_PERM_MODERATORS = 1 };

#define SL_SIGNAL_MAX_PASSWORD 128
#define SL_SIGNAL_MAX_TOKEN    8192

/* A parsed client message; strings point into root (alive until free). */
struct sl_signal_msg {
	int type;
	const char *room, *name; /* join, check_name (room); name "" when absent */
	const char *password;    /* join (NULL: none), set_password (NULL: remove) */
	size_t password_len;
	const char *token; /* join; NULL when absent */
	const char *sdp;   /* answer */
	size_t sdp_len;
	uint32_t version;        /* answer */
	const char *participant; /* admit, deny, mute, kick, grant_moderator; chat, p2p: `to` */
	const char *text;        /* chat */
	size_t text_len;
	int perm_chat, perm_screenshare; /* permissions: enum sl_perm */
	uint8_t kind;                    /* mute: SL_SDP_KIND_AUDIO / _VIDEO */
	bool flag;       /* lock: locked; lobby, screenshare: enabled; mute: muted */
	json_t *payload; /* p2p: an object, borrowed from root */
	json_t *root;
};

/*
 * Parse and validate one message (pure; safe on any bytes). Returns 0, or
 * -EINVAL with *code (a docs/signalling.md error code) and *why set.
 * sl_signal_msg_free releases m->root.
 */
int sl_signal_parse(const char *text, size_t len, struct sl_signal_msg *m, const char **code,
		    const char **why);
/* Wipes the password and token strings, then releases m->root. */
void sl_signal_msg_free(struct sl_signal_msg *m);

/*
 * The rights check every message passes (pure): NULL when a member whose
 * role is moderator (or not) may send m, else the error code. to_self:
 * m names the sender itself (mute). Messages that are not moderation are
 * always allowed here.
 */
const char *sl_signal_right(const struct sl_signal_msg *m, bool moderator, bool to_self);
#endif
