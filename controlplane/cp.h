/*
 * cp.h - the control plane's shared state: the server, rooms, participants.
 *
 * One thread, one GLib main loop. Every struct here is owned by the module
 * named in its comment and freed only there; other modules keep pointers
 * only for the length of a call, and refer to participants across
 * asynchronous boundaries (dataplane replies, Redis replies, timers) by
 * their numeric endpoint id, looked up again when the answer comes.
 */
#ifndef SLUICE_CP_H
#define SLUICE_CP_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include <sluice/ctl.h>

#include "config.h"
#include "jwt.h"
#include "password.h"
#include "sdp.h"

struct sl_ws;
struct sl_http;
struct sl_dtls;
struct sl_dtls_cert;
struct sl_store;
struct sl_dpctl;
struct sl_throttle;
struct sl_offload;

#define SL_ID_LEN        16 /* random ids: 64 bits as hex */
#define SL_MAX_VALIDATED 4  /* ICE-validated 5-tuples kept per participant */

/* What a participant publishes, one stream each: microphone, camera and
 * screen (index of pub_ssrc and sl_slot.src). A screen is video. */
enum sl_source { SL_SRC_AUDIO = 1, SL_SRC_VIDEO = 2, SL_SRC_SCREEN = 3, SL_SRC_N = 4 };

/* One m= section of a participant's current offer (room.c). */
struct sl_slot {
	uint8_t kind;      /* SL_SDP_KIND_AUDIO / _VIDEO */
	uint8_t src;       /* enum sl_source: what it publishes, or (SENDONLY) carries */
	uint8_t dir;       /* our direction: RECVONLY (publish), SENDONLY, INACTIVE */
	bool publish;      /* a publish slot (audio, video, screen): never reused for others */
	bool subscribed;   /* SENDONLY: the dataplane subscription exists */
	bool answered;     /* the client answered an offer containing this slot */
	uint32_t src_ep;   /* SENDONLY: publisher's endpoint id */
	uint32_t src_ssrc; /* SENDONLY: publisher's SSRC */
	uint32_t dst_ssrc; /* SENDONLY: what this participant sees */
	char mid[8];
};

/* A 5-tuple that passed an ICE check, with when (transport.c). */
struct sl_validated {
	struct sl_ctl_addr addr;
	uint64_t last_ms;
};

/* A participant: one WebSocket, one ICE/DTLS transport, one dataplane
 * endpoint (room.c owns it; transport.c owns the ICE/DTLS fields). */
struct sl_participant {
	struct sl_room *room;
	struct sl_participant *next; /* in room->members */
	struct sl_client *client;    /* NULL once the WebSocket is gone */
	char id[SL_ID_LEN + 1];
	char name[65];  /* display name; never logged */
	uint32_t ep_id; /* dataplane endpoint id, unique */
	uint64_t joined_ms;
	bool connected;       /* DTLS done: counts against --room-max and the dataplane (room.c) */
	bool moderator;       /* role (entry.c) */
	bool muted[3];        /* by kind (1 audio, 2 video): the dataplane drops it (entry.c) */
	uint64_t chat_tat_ms; /* chat rate: theoretical arrival time (chat.c) */
	uint64_t screen_tat_ms; /* screenshare rate (entry.c) */
	uint64_t p2p_tat_ms;    /* p2p rate: theoretical arrival time (p2p.c) */
	/* Audio levels and speaking time (speaker.c); gone with the participant. */
	uint64_t spk_event_ms;     /* the last level report */
	uint64_t spk_voice_ms;     /* the last voiced one */
	uint64_t spk_louder_ms;    /* since when it is louder than the dominant speaker; 0: not */
	uint64_t speaking_ms;      /* voiced time in this meeting */
	uint64_t spk_stats_tat_ms; /* speaker_stats rate (GCRA) */
	uint8_t spk_level;         /* dBov of the last voiced report (0 loudest) */

	/* ICE */
	char ufrag[9];
	char pwd[25];
	char remote_ufrag[SL_SDP_TOKEN];
	uint8_t remote_fp[32];
	bool have_answer;
	bool dtls_client; /* the answer said a=setup:passive: we are the DTLS client */
	struct sl_validated valid[SL_MAX_VALIDATED];
	unsigned n_valid;
	struct sl_ctl_addr nominated;
	bool has_nominated;
	uint64_t last_consent_ms;

	/* DTLS and the dataplane endpoint */
	struct sl_dtls *dtls;
	struct sl_ctl_addr dtls_addr;
	bool ep_adding;             /* EP_ADD sent, no reply yet */
	bool ep_installed;          /* the dataplane has the endpoint */
	struct sl_ctl_addr ep_addr; /* the address last sent in EP_ADD/EP_UPDATE */

	/* Media: what it publishes, what it is offered. */
	uint32_t pub_ssrc[SL_SRC_N]; /* by enum sl_source; 0 = none */
	bool sharing;                /* asked to share a screen, and may (room.c) */
	unsigned screen_slot;        /* index of its screen publish slot; 0 = none yet */
	struct sl_slot slots[SL_SDP_MAX_MEDIA];
	unsigned n_slots;
	/* Every dst SSRC its endpoint was ever given (room.c): never again. */
	uint32_t dst_used[SL_CTL_MAX_DST_SSRCS];
	unsigned n_dst_used;
	struct sl_sdp_offer *offer; /* the last offer sent */
	uint32_t offer_version;
	bool offer_pending; /* sent, not answered */
	bool reoffer;       /* something changed while pending */
	uint64_t offer_sent_ms;
};

/* A meeting in progress on this node (room.c). */
struct sl_room {
	uint8_t key[32];                 /* HMAC-SHA256(secret, room name) */
	char tag[33];                    /* hex of the first 16 bytes: the Redis hash tag */
	char meeting[SL_ID_LEN * 2 + 1]; /* random meeting id, 128 bits */
	uint64_t room_id;                /* the dataplane's room id, random */
	uint16_t worker;
	unsigned n_members;
	unsigned n_connected; /* members past their handshake; the rest are pending */
	struct sl_participant *members;
	struct sl_room *next;
	/* Entry control (entry.c); gone with the meeting. */
	bool locked, lobby_on, ending;
	char pw_hash[SL_PASSWORD_HASH_MAX]; /* argon2id, encoded; "" = no password */
	struct sl_password_job *pw_job;     /* set_password being hashed */
	struct sl_lobby_entry *lobby;       /* waiting, oldest first */
	unsigned n_lobby;
	/* Inside the meeting (chat.c); gone with it. */
	uint64_t created_ms;
	bool chat_moderators, screenshare_moderators; /* permissions: moderators only */
	uint64_t chat_next_id;
	struct sl_chat_log *chat;        /* public history, NULL until the first message */
	struct sl_participant *dominant; /* the dominant speaker, or NULL (speaker.c) */
};

/* The whole server (main.c). */
struct sl_cp {
	struct sl_cp_config cfg;
	GMainLoop *loop;
	struct sl_http *http;
	struct sl_dtls_cert *cert;
	struct sl_store *store;
	struct sl_dpctl *dp;
	uint8_t secret[32];      /* per-deployment: room-name HMAC key */
	struct sl_ctl_info info; /* from the dataplane's HELLO */
	struct sl_room *rooms;
	unsigned n_rooms;
	unsigned n_participants;
	unsigned n_connected;               /* participants past their handshake */
	struct sl_throttle *join_by_src;    /* joins per source address (room.c) */
	struct sl_throttle *join_by_room;   /* joins per room name */
	struct sl_throttle *check_by_src;   /* check_name per source address (entry.c) */
	struct sl_password_guard *pw_guard; /* wrong passwords per (meeting, source) */
	GHashTable *pw_checking;            /* guard keys with a check in flight (entry.c) */
	struct sl_jwt_key jwt;              /* alg SL_JWT_NONE: no tokens accepted */
	struct sl_offload *name_pool;       /* check_name scoring (entry.c) */
	GHashTable *by_ufrag;               /* ufrag -> participant */
	GHashTable *by_ep;                  /* ep_id (GUINT_TO_POINTER) -> participant */
	GHashTable *by_tuple; /* ICE-validated 5-tuple (transport.c, key owned) -> ep_id */
	uint32_t next_ep_id;
	/* counters, for the operator (no personal data) */
	uint64_t n_stun_ok, n_stun_bad, n_dtls_unvalidated, n_dtls_failed, n_joins, n_join_refused,
		n_bad_messages, n_join_throttled, n_check_name, n_password_wrong, n_bad_token,
		n_lobby_waits, n_chat, n_speaker_changes, n_speaker_stats;
	uint64_t n_p2p, n_p2p_refused; /* p2p messages relayed, refused (p2p.c) */
};

extern struct sl_cp *sl_cp; /* the one server of this process */

/* Monotonic milliseconds. */
uint64_t sl_now_ms(void);
/* Fill buf with n random bytes from the OS CSPRNG; aborts only at start-up
 * if the kernel has none (getrandom never fails after boot). */
void sl_random(void *buf, size_t n);
/* n random bytes as 2n lower-case hex chars + NUL. */
void sl_random_hex(char *out, size_t n);

#endif
