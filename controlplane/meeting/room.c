/*
 * room.c - meetings and participants (see room.h).
 *
 * Media wiring is a reconciliation: for each participant, the set of
 * streams it should receive is every other member's published SSRC. Its
 * offer's sendonly slots are compared with that set: slots of streams that
 * went away become inactive (and are reused for new streams of the same
 * kind, so the SDP does not grow forever), missing streams get a slot, and
 * any change means a new offer (at most one outstanding per participant).
 * Slots the client has answered are subscribed in the dataplane once both
 * endpoints are installed. Running it again changes nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "chat.h"
#include "clock.h"
#include "dpctl.h"
#include "dtls.h"
#include "entry.h"
#include "log.h"
#include "metrics.h"
#include "room.h"
#include "signalling.h"
#include "speaker.h"
#include "store.h"
#include "throttle.h"
#include "transport.h"
#include "turn.h"

#define OFFER_TIMEOUT_MS 15000
#define OFFER_MAX        65536

void sl_room_key(const uint8_t secret[32], const char *name, uint8_t key[32])
{
	unsigned len = 32;

	HMAC(EVP_sha256(), secret, 32, (const unsigned char *)name, strlen(name), key, &len);
}

struct sl_room *sl_room_find(const uint8_t key[32])
{
	for (struct sl_room *r = sl_cp->rooms; r; r = r->next)
		if (!CRYPTO_memcmp(r->key, key, 32))
			return r;
	return NULL;
}

/* The worker with the fewest meetings. */
static uint16_t pick_worker(void)
{
	unsigned n = sl_cp->info.n_workers ? sl_cp->info.n_workers : 1, best = 0;
	unsigned count[64] = { 0 };

	for (struct sl_room *r = sl_cp->rooms; r; r = r->next)
		if (r->worker < 64)
			count[r->worker]++;
	for (unsigned w = 1; w < n && w < 64; w++)
		if (count[w] < count[best])
			best = w;
	return (uint16_t)best;
}

struct sl_room *sl_room_create(const uint8_t key[32])
{
	struct sl_room *r = g_new0(struct sl_room, 1);

	memcpy(r->key, key, 32);
	for (int i = 0; i < 16; i++)
		snprintf(r->tag + 2 * i, 3, "%02x", key[i]);
	sl_random_hex(r->meeting, SL_ID_LEN);
	do
		sl_random(&r->room_id, sizeof(r->room_id));
	while (!r->room_id);
	r->worker = pick_worker();
	r->next = sl_cp->rooms;
	sl_cp->rooms = r;
	sl_cp->n_rooms++;
	r->created_ms = sl_now_ms();
	sl_info("meeting %s created on worker %u", r->meeting, r->worker);
	sl_store_meeting_put(r);
	return r;
}

static void room_free(struct sl_room *r)
{
	struct sl_room **pp = &sl_cp->rooms;
	struct sl_ctl_room m = { .room_id = r->room_id };

	while (*pp != r)
		pp = &(*pp)->next;
	*pp = r->next;
	sl_cp->n_rooms--;
	if (r->pw_job)
		sl_password_cancel(r->pw_job);
	sl_chat_free(r);
	sl_ctl_hdr_init(&m.h, SL_CTL_ROOM_REMOVE, sizeof(m), 0);
	sl_dpctl_send(&m, NULL, 0);
	sl_store_meeting_del(r);
	sl_info("meeting %s ended", r->meeting);
	explicit_bzero(r, sizeof(*r));
	g_free(r);
}

/* n random characters from [A-Za-z0-9] (rejection sampling: no bias). */
static void random_token(char *out, size_t n)
{
	static const char alnum[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t i = 0;

	while (i < n) {
		uint8_t b[32];

		sl_random(b, sizeof(b));
		for (size_t j = 0; j < sizeof(b) && i < n; j++)
			if (b[j] < 248) /* 248 = 4 * 62 */
				out[i++] = alnum[b[j] % 62];
	}
	out[n] = 0;
}

static struct sl_participant *participant_new(struct sl_room *r, struct sl_client *c,
					      const char *name)
{
	struct sl_participant *p = g_new0(struct sl_participant, 1);

	p->room = r;
	p->client = c;
	sl_random_hex(p->id, SL_ID_LEN / 2);
	snprintf(p->name, sizeof(p->name), "%s", name);
	do
		p->ep_id = sl_cp->next_ep_id++;
	while (!p->ep_id || g_hash_table_contains(sl_cp->by_ep, GUINT_TO_POINTER(p->ep_id)));
	do /* 47 bits: a clash is unlikely, but the ufrag is the lookup key */
		random_token(p->ufrag, 8);
	while (g_hash_table_contains(sl_cp->by_ufrag, p->ufrag));
	random_token(p->pwd, 24);
	p->joined_ms = sl_now_ms();
	p->slots[0] = (struct sl_slot){ .kind = SL_SDP_KIND_AUDIO,
					.src = SL_SRC_AUDIO,
					.dir = SL_SDP_RECVONLY,
					.publish = true,
					.mid = "0" };
	p->slots[1] = (struct sl_slot){ .kind = SL_SDP_KIND_VIDEO,
					.src = SL_SRC_VIDEO,
					.dir = SL_SDP_RECVONLY,
					.publish = true,
					.mid = "1" };
	p->n_slots = 2;
	p->offer = g_new0(struct sl_sdp_offer, 1);
	sl_random(&p->offer->session_id, sizeof(p->offer->session_id));
	p->offer->session_id >>= 1; /* o= wants a number that fits 63 bits */
	p->next = r->members;
	r->members = p;
	r->n_members++;
	sl_cp->n_participants++;
	g_hash_table_insert(sl_cp->by_ep, GUINT_TO_POINTER(p->ep_id), p);
	sl_transport_add(p);
	return p;
}

/* Members past their handshake: only they are listed, and only they get
 * lists (a join that has not completed ICE and DTLS learns no names). */
static json_t *participant_list(const struct sl_room *r)
{
	json_t *a = json_array();

	for (const struct sl_participant *p = r->members; p; p = p->next)
		if (p->connected)
			json_array_append_new(
				a, json_pack("{s:s, s:s, s:s, s:{s:b, s:b}}", "id", p->id, "name",
					     p->name, "role",
					     p->moderator ? "moderator" : "participant", "muted",
					     "audio", p->muted[SL_SDP_KIND_AUDIO], "video",
					     p->muted[SL_SDP_KIND_VIDEO]));
	return a;
}

void sl_room_broadcast(const struct sl_room *r, json_t *msg, bool connected_only)
{
	for (const struct sl_participant *p = r->members; p; p = p->next)
		if (p->client && (p->connected || !connected_only))
			sl_signal_send(p->client, json_incref(msg));
	json_decref(msg);
}

json_t *sl_room_state_json(const struct sl_room *r)
{
	return json_pack("{s:b, s:b, s:b, s:{s:s, s:s}}", "locked", r->locked, "lobby", r->lobby_on,
			 "password", r->pw_hash[0] != 0, "permissions", "chat",
			 r->chat_moderators ? "moderators" : "all", "screenshare",
			 r->screenshare_moderators ? "moderators" : "all");
}

void sl_room_send_mute(const struct sl_participant *p, uint8_t kind)
{
	struct sl_ctl_mute m = { .ep_id = p->ep_id, .kind = kind, .muted = p->muted[kind] };

	if (!p->ep_installed)
		return; /* applied when the endpoint is installed (sl_room_installed) */
	sl_ctl_hdr_init(&m.h, SL_CTL_MUTE, sizeof(m), 0);
	sl_dpctl_send(&m, NULL, 0);
}

void sl_room_installed(struct sl_participant *p)
{
	for (uint8_t kind = SL_SDP_KIND_AUDIO; kind <= SL_SDP_KIND_VIDEO; kind++)
		if (p->muted[kind])
			sl_room_send_mute(p, kind);
}

static void broadcast_participants(const struct sl_room *r)
{
	for (const struct sl_participant *p = r->members; p; p = p->next)
		if (p->client && p->connected)
			sl_signal_send(p->client, json_pack("{s:s, s:o}", "type", "participants",
							    "participants", participant_list(r)));
}

int sl_room_connect(struct sl_participant *p)
{
	struct sl_room *r = p->room;

	if (p->connected)
		return 0;
	if (r->n_connected >= sl_cp->cfg.room_max ||
	    sl_cp->n_connected >= sl_cp->info.max_endpoints)
		return -ENOSPC;
	p->connected = true;
	r->n_connected++;
	sl_cp->n_connected++;
	broadcast_participants(r);
	sl_speaker_connected(p);
	return 0;
}

struct sl_participant *sl_room_enter(struct sl_client *c, struct sl_room *r,
				     const char *display_name, bool moderator)
{
	struct sl_participant *p;
	json_t *joined, *ice;

	/* Only members past their handshake count against the caps. */
	if (r->n_connected >= sl_cp->cfg.room_max ||
	    sl_cp->n_connected >= sl_cp->info.max_endpoints) {
		sl_cp->n_join_refused++;
		sl_metrics_join_refused("room_full");
		sl_signal_error(c, "room_full", "no room for another participant", false);
		return NULL;
	}
	p = participant_new(r, c, display_name);
	p->moderator = moderator;
	c->p = p;
	sl_store_member_put(r, p);
	sl_cp->n_joins++;
	sl_info("participant %s joined meeting %s (%u members%s)", p->id, r->meeting, r->n_members,
		moderator ? ", moderator" : "");
	/* No names yet: the list follows once this join's handshake completes. */
	joined = json_pack("{s:s, s:s, s:s, s:[], s:s, s:o, s:b}", "type", "joined", "participant",
			   p->id, "meeting", r->meeting, "participants", "role",
			   moderator ? "moderator" : "participant", "meeting_state",
			   sl_room_state_json(r), "p2p", sl_cp->cfg.p2p);
	/* TURN credentials (transport/turn.c), only when --turn-uri is given. */
	ice = sl_turn_ice_servers(sl_cp->cfg.turn_uri, sl_cp->cfg.n_turn_uri,
				  sl_cp->cfg.turn_secret, sl_cp->cfg.turn_ttl_s, time(NULL), p->id);
	if (joined && ice)
		json_object_set_new(joined, "iceServers", ice);
	else
		json_decref(ice);
	sl_signal_send(c, joined);
	sl_signal_send(c, sl_chat_history(r));
	sl_room_sync(r);
	return p;
}

struct sl_participant *sl_room_participant(uint32_t ep)
{
	return g_hash_table_lookup(sl_cp->by_ep, GUINT_TO_POINTER(ep));
}

/* Fill p->offer from p->slots and the server's transport details. */
static void offer_fill(struct sl_participant *p)
{
	struct sl_sdp_offer *o = p->offer;
	const struct sl_ctl_info *in = &sl_cp->info;

	o->version = ++p->offer_version;
	snprintf(o->ice_ufrag, sizeof(o->ice_ufrag), "%s", p->ufrag);
	snprintf(o->ice_pwd, sizeof(o->ice_pwd), "%s", p->pwd);
	snprintf(o->fingerprint, sizeof(o->fingerprint), "%s",
		 sl_dtls_cert_fingerprint(sl_cp->cert));
	o->cand_ip4[0] = o->cand_ip6[0] = 0;
	if (sl_cp->cfg.advertise_ipv4[0])
		snprintf(o->cand_ip4, sizeof(o->cand_ip4), "%s", sl_cp->cfg.advertise_ipv4);
	else if (in->has_ipv4)
		inet_ntop(AF_INET, in->ipv4, o->cand_ip4, sizeof(o->cand_ip4));
	if (in->has_ipv6)
		inet_ntop(AF_INET6, in->ipv6, o->cand_ip6, sizeof(o->cand_ip6));
	o->port = (uint16_t)(in->base_port + p->room->worker);
	o->n_media = p->n_slots;
	for (unsigned i = 0; i < p->n_slots; i++) {
		const struct sl_slot *s = &p->slots[i];
		struct sl_sdp_offer_media *m = &o->media[i];
		struct sl_participant *q =
			s->dir == SL_SDP_SENDONLY ? sl_room_participant(s->src_ep) : NULL;

		memset(m, 0, sizeof(*m));
		m->kind = s->kind;
		m->dir = s->dir;
		snprintf(m->mid, sizeof(m->mid), "%s", s->mid);
		if (s->dir == SL_SDP_SENDONLY) {
			m->ssrc = s->dst_ssrc;
			snprintf(m->msid_stream, sizeof(m->msid_stream), "%s", q ? q->id : "gone");
			snprintf(m->msid_track, sizeof(m->msid_track), "%s-%c", q ? q->id : "gone",
				 "?avs"[s->src]);
		}
	}
}

/* tracks[].label, by enum sl_source. */
static const char *const source_label[SL_SRC_N] = { "", "microphone", "camera", "screen" };

static void send_offer(struct sl_participant *p)
{
	char *sdp = g_malloc(OFFER_MAX);
	json_t *tracks = json_array(), *publish;
	int n;

	offer_fill(p);
	n = sl_sdp_write_offer(p->offer, sdp, OFFER_MAX);
	if (n < 0) {
		g_free(sdp);
		json_decref(tracks);
		sl_err("participant %s: cannot write an offer (%d)", p->id, n);
		sl_signal_error(p->client, "internal", "the server could not build an offer",
				false);
		return;
	}
	for (unsigned i = 0; i < p->n_slots; i++) {
		const struct sl_slot *s = &p->slots[i];
		const struct sl_participant *q = sl_room_participant(s->src_ep);

		if (s->dir == SL_SDP_SENDONLY && q)
			json_array_append_new(
				tracks,
				json_pack("{s:s, s:s, s:s, s:s}", "mid", s->mid, "kind",
					  s->kind == SL_SDP_KIND_AUDIO ? "audio" : "video", "label",
					  source_label[s->src], "participant", q->id));
	}
	publish = json_pack("{s:s, s:s}", "audio", "0", "video", "1");
	if (p->sharing)
		json_object_set_new(publish, "screen", json_string(p->slots[p->screen_slot].mid));
	p->offer_pending = true;
	p->reoffer = false;
	p->offer_sent_ms = sl_now_ms();
	sl_signal_send(p->client, json_pack("{s:s, s:s, s:i, s:o, s:o}", "type", "offer", "sdp",
					    sdp, "version", (json_int_t)p->offer_version, "publish",
					    publish, "tracks", tracks));
	g_free(sdp);
}

static bool slot_wanted(const struct sl_room *r, const struct sl_participant *p,
			const struct sl_slot *s)
{
	const struct sl_participant *q = sl_room_participant(s->src_ep);

	return q && q != p && q->room == r && q->pub_ssrc[s->src] == s->src_ssrc;
}

static bool has_slot(const struct sl_participant *p, uint32_t ep, uint8_t src, uint32_t ssrc)
{
	for (unsigned i = 2; i < p->n_slots; i++) {
		const struct sl_slot *s = &p->slots[i];

		if (s->dir == SL_SDP_SENDONLY && s->src_ep == ep && s->src == src &&
		    s->src_ssrc == ssrc)
			return true;
	}
	return false;
}

/* ssrc is one of the streams p publishes. */
static bool publishes(const struct sl_participant *p, uint32_t ssrc)
{
	for (unsigned src = SL_SRC_AUDIO; src < SL_SRC_N; src++)
		if (p->pub_ssrc[src] == ssrc)
			return true;
	return false;
}

/*
 * A fresh SSRC for a stream p receives. It names an SRTP stream under p's
 * key, so it is random (CSPRNG), never 0, never one p publishes, and never
 * one p's endpoint was given before (an old SSRC would reuse keystream).
 * The caller checks p->n_dst_used < SL_CTL_MAX_DST_SSRCS first (past it
 * the dataplane refuses the subscription: the participant must rejoin).
 */
static uint32_t pick_dst_ssrc(struct sl_participant *p)
{
	uint32_t v;
	bool used;

	do {
		sl_random(&v, sizeof(v));
		used = !v || publishes(p, v);
		for (unsigned i = 0; i < p->n_dst_used && !used; i++)
			used = p->dst_used[i] == v;
	} while (used);
	p->dst_used[p->n_dst_used++] = v;
	return v;
}

/* p now publishes on one of its dst SSRCs: that stream must move. */
static bool dst_clashes(const struct sl_participant *p, const struct sl_slot *s)
{
	return publishes(p, s->dst_ssrc);
}

/* Send SUBSCRIBE or UNSUBSCRIBE for p's slot s. */
static int send_sub(const struct sl_participant *p, const struct sl_slot *s, uint16_t type)
{
	struct sl_ctl_sub m = { .subscriber = p->ep_id,
				.publisher = s->src_ep,
				.src_ssrc = s->src_ssrc,
				.dst_ssrc = s->dst_ssrc,
				.kind = s->kind };

	sl_ctl_hdr_init(&m.h, type, sizeof(m), 0);
	return sl_dpctl_send(&m, NULL, 0);
}

static void unsubscribe(struct sl_participant *p, struct sl_slot *s)
{
	struct sl_participant *q = sl_room_participant(s->src_ep);

	if (s->subscribed && q && q->ep_installed && p->ep_installed)
		send_sub(p, s, SL_CTL_UNSUBSCRIBE);
	s->subscribed = false;
}

/* Bring p's slots in line with what the room publishes. True if changed. */
static bool slots_reconcile(struct sl_participant *p)
{
	struct sl_room *r = p->room;
	bool changed = false;

	for (unsigned i = 2; i < p->n_slots; i++) {
		struct sl_slot *s = &p->slots[i];

		if (!s->publish && s->dir == SL_SDP_SENDONLY &&
		    (!slot_wanted(r, p, s) || dst_clashes(p, s))) {
			unsubscribe(p, s);
			s->dir = SL_SDP_INACTIVE;
			s->answered = false;
			changed = true;
		}
	}
	for (struct sl_participant *q = r->members; q; q = q->next) {
		for (uint8_t src = SL_SRC_AUDIO; src < SL_SRC_N; src++) {
			uint8_t kind = src == SL_SRC_AUDIO ? SL_SDP_KIND_AUDIO : SL_SDP_KIND_VIDEO;
			struct sl_slot *s = NULL;

			if (q == p || !q->pub_ssrc[src] ||
			    has_slot(p, q->ep_id, src, q->pub_ssrc[src]))
				continue;
			if (p->n_dst_used >= SL_CTL_MAX_DST_SSRCS) {
				sl_warn("participant %s: no stream SSRC left; it must rejoin",
					p->id);
				continue;
			}
			for (unsigned i = 2; i < p->n_slots && !s; i++)
				if (!p->slots[i].publish && p->slots[i].dir == SL_SDP_INACTIVE &&
				    p->slots[i].kind == kind && !p->offer_pending)
					s = &p->slots[i];
			if (!s && p->n_slots < SL_SDP_MAX_MEDIA) {
				s = &p->slots[p->n_slots];
				memset(s, 0, sizeof(*s));
				snprintf(s->mid, sizeof(s->mid), "%u", p->n_slots++);
				s->kind = kind;
			}
			if (!s) {
				sl_warn("participant %s: no m= section left for another stream",
					p->id);
				continue;
			}
			s->dir = SL_SDP_SENDONLY;
			s->src = src;
			s->src_ep = q->ep_id;
			s->src_ssrc = q->pub_ssrc[src];
			s->dst_ssrc = pick_dst_ssrc(p);
			s->answered = s->subscribed = false;
			changed = true;
		}
	}
	return changed;
}

static void subscribe_answered(struct sl_participant *p)
{
	if (!p->ep_installed)
		return;
	for (unsigned i = 2; i < p->n_slots; i++) {
		struct sl_slot *s = &p->slots[i];
		struct sl_participant *q = sl_room_participant(s->src_ep);

		if (s->dir != SL_SDP_SENDONLY || !s->answered || s->subscribed || !q ||
		    !q->ep_installed)
			continue;
		if (send_sub(p, s, SL_CTL_SUBSCRIBE) == 0)
			s->subscribed = true;
	}
}

void sl_room_sync(struct sl_room *r)
{
	for (struct sl_participant *p = r->members; p; p = p->next) {
		bool changed = slots_reconcile(p);

		if (p->client && (changed || p->offer_version == 0 || p->reoffer)) {
			if (p->offer_pending)
				p->reoffer = true;
			else
				send_offer(p);
		}
		subscribe_answered(p);
	}
}

/* Learn what p publishes from its answer: the primary SSRC of the publish
 * sections when the client sends there (the screen's only while p shares:
 * a screen p may not share is never forwarded). True if it changed. */
static bool learn_publish(struct sl_participant *p, const struct sl_sdp *a)
{
	bool changed = false;

	for (unsigned i = 0; i < a->n_media && i < p->n_slots; i++) {
		const struct sl_sdp_media *m = &a->media[i];
		const struct sl_slot *s = &p->slots[i];
		uint32_t ssrc = 0;

		if (!s->publish)
			continue;
		if (!m->rejected && (m->dir == SL_SDP_SENDONLY || m->dir == SL_SDP_SENDRECV) &&
		    m->n_ssrc && i < p->offer->n_media &&
		    p->offer->media[i].dir == SL_SDP_RECVONLY &&
		    (s->src != SL_SRC_SCREEN || p->sharing))
			ssrc = m->ssrc[0];
		/* An SSRC another of p's streams has already is not a new stream. */
		for (unsigned src = SL_SRC_AUDIO; src < SL_SRC_N && ssrc; src++)
			if (src != s->src && p->pub_ssrc[src] == ssrc)
				ssrc = 0;
		if (p->pub_ssrc[s->src] != ssrc) {
			p->pub_ssrc[s->src] = ssrc;
			changed = true;
		}
	}
	return changed;
}

int sl_room_screenshare(struct sl_participant *p, bool on)
{
	struct sl_room *r = p->room;
	struct sl_slot *s;

	if (p->sharing == on)
		return 0;
	if (on && !p->screen_slot) {
		if (p->n_slots >= SL_SDP_MAX_MEDIA)
			return -ENOSPC;
		p->screen_slot = p->n_slots;
		s = &p->slots[p->n_slots];
		*s = (struct sl_slot){ .kind = SL_SDP_KIND_VIDEO,
				       .src = SL_SRC_SCREEN,
				       .publish = true };
		snprintf(s->mid, sizeof(s->mid), "%u", p->n_slots++);
	}
	s = &p->slots[p->screen_slot];
	s->dir = on ? SL_SDP_RECVONLY : SL_SDP_INACTIVE;
	s->answered = false;
	p->sharing = on;
	p->pub_ssrc[SL_SRC_SCREEN] = 0; /* learnt from the answer to the next offer */
	p->reoffer = true;
	sl_info("participant %s %s sharing a screen", p->id, on ? "starts" : "stops");
	sl_room_broadcast(r,
			  json_pack("{s:s, s:s, s:b}", "type", "screenshare", "participant", p->id,
				    "enabled", on),
			  false);
	sl_room_sync(r);
	return 0;
}

static int take_answer(struct sl_participant *p, const struct sl_sdp *a, const char **err)
{
	if (sl_sdp_check_answer(a, p->offer, err))
		return -EINVAL;
	if (p->have_answer && memcmp(p->remote_fp, a->fingerprint, 32)) {
		*err = "the DTLS fingerprint may not change";
		return -EINVAL;
	}
	if (p->have_answer && strcmp(p->remote_ufrag, a->ice_ufrag)) {
		*err = "ICE restarts are not supported";
		return -EINVAL;
	}
	if (p->have_answer && p->dtls_client != (a->setup == SL_SDP_SETUP_PASSIVE)) {
		*err = "the DTLS role (a=setup) may not change";
		return -EINVAL;
	}
	p->dtls_client = a->setup == SL_SDP_SETUP_PASSIVE;
	memcpy(p->remote_fp, a->fingerprint, 32);
	snprintf(p->remote_ufrag, sizeof(p->remote_ufrag), "%s", a->ice_ufrag);
	p->have_answer = true;
	return 0;
}

void sl_room_answer(struct sl_participant *p, const char *text, size_t len, uint32_t version)
{
	struct sl_sdp *a;
	const char *err = "unreadable";
	uint32_t ep = p->ep_id;

	if (!p->offer_pending || version != p->offer_version) {
		sl_signal_error(p->client, "stale_answer", "that is not the outstanding offer",
				false);
		return;
	}
	a = g_malloc0(sizeof(*a));
	if (sl_sdp_parse(text, len, a, &err) || take_answer(p, a, &err)) {
		g_free(a);
		sl_cp->n_bad_messages++;
		sl_signal_error(p->client, "bad_sdp", err, false);
		return;
	}
	p->offer_pending = false;
	for (unsigned i = 0; i < p->n_slots; i++) {
		struct sl_slot *s = &p->slots[i];
		const struct sl_sdp_offer_media *m = &p->offer->media[i];

		s->answered = i < p->offer->n_media && s->dir != SL_SDP_INACTIVE &&
			      m->dir == s->dir &&
			      (s->dir != SL_SDP_SENDONLY || m->ssrc == s->dst_ssrc);
	}
	if (learn_publish(p, a))
		sl_debug("participant %s publishes audio %s, video %s, screen %s", p->id,
			 p->pub_ssrc[SL_SRC_AUDIO] ? "yes" : "no",
			 p->pub_ssrc[SL_SRC_VIDEO] ? "yes" : "no",
			 p->pub_ssrc[SL_SRC_SCREEN] ? "yes" : "no");
	g_free(a);
	sl_transport_answered(p); /* may remove p (a handshake that cannot start) */
	if (sl_room_participant(ep) == p)
		sl_room_sync(p->room);
}

void sl_room_leave(struct sl_participant *p, const char *why)
{
	struct sl_room *r = p->room;
	struct sl_participant **pp = &r->members;

	bool was_connected = p->connected;

	sl_info("participant %s left meeting %s (%s)", p->id, r->meeting, why);
	sl_transport_remove(p);
	if (p->connected) {
		r->n_connected--;
		sl_cp->n_connected--;
	}
	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	r->n_members--;
	sl_cp->n_participants--;
	g_hash_table_remove(sl_cp->by_ep, GUINT_TO_POINTER(p->ep_id));
	sl_speaker_gone(p); /* out of the list: not told itself */
	if (p->client)
		p->client->p = NULL;
	sl_store_member_del(r, p);
	g_free(p->offer);
	explicit_bzero(p, sizeof(*p));
	g_free(p);
	if (!r->members) {
		if (r->ending || !sl_entry_keep_room(r))
			room_free(r);
		return;
	}
	if (r->ending)
		return;
	sl_entry_member_left(r);
	if (was_connected)
		broadcast_participants(r);
	sl_room_sync(r);
}

void sl_room_end(struct sl_room *r, json_t *msg, const char *why)
{
	bool freed = false;

	r->ending = true;
	sl_entry_lobby_close(r, msg);
	while (!freed && r->members) {
		struct sl_participant *p = r->members;

		freed = r->n_members == 1; /* the last leave frees r */
		if (p->client) {
			sl_signal_send(p->client, json_incref(msg));
			p->client->left = true;
			if (p->client->ws)
				sl_ws_close(p->client->ws);
		}
		sl_room_leave(p, why);
	}
	if (!freed)
		room_free(r); /* a meeting of lobby entries only */
	json_decref(msg);
}

void sl_room_kick(struct sl_participant *p, const char *code, const char *message)
{
	struct sl_client *c = p->client;

	if (c) {
		sl_signal_error(c, code, message, true);
		c->left = true;
	}
	sl_room_leave(p, code);
}

void sl_room_tick(uint64_t now)
{
	uint64_t hs = (uint64_t)sl_cp->cfg.handshake_timeout_s * 1000;
	static uint64_t last_prune;

	if (sl_time_over(now, last_prune, 10000)) {
		sl_throttle_prune(sl_cp->join_by_src, now);
		sl_throttle_prune(sl_cp->join_by_room, now);
		sl_throttle_prune(sl_cp->check_by_src, now);
		sl_password_guard_prune(sl_cp->pw_guard, now);
		last_prune = now;
	}
	sl_entry_tick(now);

	for (struct sl_room *r = sl_cp->rooms, *rn; r; r = rn) {
		rn = r->next; /* a kick may free r */
		for (struct sl_participant *p = r->members, *pn; p; p = pn) {
			pn = p->next;
			if (p->offer_pending &&
			    sl_time_over(now, p->offer_sent_ms, OFFER_TIMEOUT_MS))
				sl_room_kick(p, "timeout", "no answer to the offer in time");
			else if (!p->connected && sl_time_over(now, p->joined_ms, hs))
				sl_room_kick(p, "timeout", "ICE and DTLS did not complete in time");
		}
	}
}

void sl_room_drop_all(const char *code, const char *message)
{
	while (sl_cp->rooms)
		sl_room_end(sl_cp->rooms,
			    json_pack("{s:s, s:s, s:s, s:b}", "type", "error", "code", code,
				      "message", message, "fatal", 1),
			    code);
}
