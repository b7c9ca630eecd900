/*
 * transport.c - ICE-lite checks, DTLS handshakes and consent per participant.
 *
 * Only the control plane's own checks make a 5-tuple trusted: a STUN
 * binding request that validates against a participant's credentials
 * (stun.c) marks its source validated; DTLS from any other source is
 * dropped before it reaches OpenSSL (rtpengine ES2023-03). USE-CANDIDATE
 * nominates the tuple the dataplane sends media to. Consent freshness is
 * the time of the last valid check on the nominated tuple or of the last
 * MEDIA_ALIVE event (the dataplane only accepts media from that tuple, and
 * only when it authenticates).
 *
 * Participants are referred to by endpoint id across every callback
 * (dataplane replies, DTLS sends), so one freed meanwhile is not touched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "clock.h"
#include "dpctl.h"
#include "dtls.h"
#include "log.h"
#include "metrics.h"
#include "room.h"
#include "stun.h"
#include "transport.h"

static bool addr_eq(const struct sl_ctl_addr *a, const struct sl_ctl_addr *b)
{
	return a->family == b->family && a->remote_port == b->remote_port &&
	       a->local_port == b->local_port && !memcmp(a->remote_ip, b->remote_ip, 16) &&
	       !memcmp(a->local_ip, b->local_ip, 16);
}

static socklen_t to_sockaddr(const struct sl_ctl_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == 4) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = a->remote_port;
		memcpy(&s->sin_addr, a->remote_ip, 4);
		return sizeof(*s);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = a->remote_port;
	memcpy(&s6->sin6_addr, a->remote_ip, 16);
	return sizeof(*s6);
}

/* A 5-tuple as a hash key (the parts of sl_ctl_addr that name the path). */
struct tuple_key {
	uint8_t family;
	uint8_t pad;
	uint16_t remote_port, local_port;
	uint8_t remote_ip[16], local_ip[16];
};

static void tuple_key(struct tuple_key *k, const struct sl_ctl_addr *a)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	k->remote_port = a->remote_port;
	k->local_port = a->local_port;
	memcpy(k->remote_ip, a->remote_ip, 16);
	memcpy(k->local_ip, a->local_ip, 16);
}

static guint tuple_hash(gconstpointer v)
{
	const uint8_t *b = v;
	guint h = 2166136261u;

	for (size_t i = 0; i < sizeof(struct tuple_key); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static gboolean tuple_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, sizeof(struct tuple_key));
}

GHashTable *sl_transport_tuple_table(void)
{
	return g_hash_table_new_full(tuple_hash, tuple_equal, g_free, NULL);
}

/* The tuple maps to the participant that validated it last. */
static void tuple_set(const struct sl_ctl_addr *a, uint32_t ep)
{
	struct tuple_key k;

	tuple_key(&k, a);
	if (GPOINTER_TO_UINT(g_hash_table_lookup(sl_cp->by_tuple, &k)) == ep)
		return; /* the usual case: a keepalive on a known path */
	g_hash_table_replace(sl_cp->by_tuple, g_memdup2(&k, sizeof(k)), GUINT_TO_POINTER(ep));
}

static void tuple_drop(const struct sl_ctl_addr *a, uint32_t ep)
{
	struct tuple_key k;

	tuple_key(&k, a);
	if (GPOINTER_TO_UINT(g_hash_table_lookup(sl_cp->by_tuple, &k)) == ep)
		g_hash_table_remove(sl_cp->by_tuple, &k);
}

static void validated_touch(struct sl_participant *p, const struct sl_ctl_addr *a, uint64_t now)
{
	unsigned i, oldest = 0;

	for (i = 0; i < p->n_valid; i++)
		if (addr_eq(&p->valid[i].addr, a))
			break;
	if (i == p->n_valid) {
		if (p->n_valid < SL_MAX_VALIDATED) {
			i = p->n_valid++;
		} else {
			for (unsigned j = 1; j < p->n_valid; j++)
				if (p->valid[j].last_ms < p->valid[oldest].last_ms)
					oldest = j;
			i = oldest;
			tuple_drop(&p->valid[i].addr, p->ep_id);
		}
	}
	p->valid[i].addr = *a;
	p->valid[i].last_ms = now;
	tuple_set(a, p->ep_id);
}

static void ep_update_addr(struct sl_participant *p)
{
	struct sl_ctl_ep m;

	memset(&m, 0, sizeof(m));
	sl_ctl_hdr_init(&m.h, SL_CTL_EP_UPDATE, sizeof(m), 0);
	m.ep_id = p->ep_id;
	m.flags = SL_EP_UPD_ADDR;
	m.room_id = p->room->room_id;
	m.worker = p->room->worker;
	m.addr = p->nominated;
	p->ep_addr = m.addr;
	sl_dpctl_send(&m, NULL, 0);
}

static void dtls_send(void *arg, const uint8_t *data, size_t len);
static void dtls_state(struct sl_participant *p, enum sl_dtls_state st);

/* As the DTLS client: the ClientHello goes to a, a checked tuple. May free p. */
static void start_client(struct sl_participant *p, const struct sl_ctl_addr *a, uint64_t now)
{
	p->dtls_addr = *a;
	p->dtls =
		sl_dtls_new_client(sl_cp->cert, p->remote_fp, dtls_send, GUINT_TO_POINTER(p->ep_id),
				   now, sl_cp->cfg.handshake_timeout_s * 1000);
	if (p->dtls)
		dtls_state(p, sl_dtls_state(p->dtls));
}

static void handle_stun(const struct sl_ctl_pkt *pkt, uint64_t now)
{
	char ufrag[SL_STUN_MAX_UFRAG + 1];
	uint8_t resp[SL_CTL_MAX_PKT];
	struct sockaddr_storage ss;
	struct sl_stun_check chk;
	struct sl_participant *p;
	size_t rlen;
	socklen_t sl;

	if (sl_stun_local_ufrag(pkt->data, pkt->data_len, ufrag, sizeof(ufrag)) < 0)
		goto bad;
	p = g_hash_table_lookup(sl_cp->by_ufrag, ufrag);
	if (!p)
		goto bad;
	sl = to_sockaddr(&pkt->addr, &ss);
	if (sl_stun_answer(pkt->data, pkt->data_len, (struct sockaddr *)&ss, sl, p->ufrag, p->pwd,
			   p->have_answer ? p->remote_ufrag : NULL, resp, sizeof(resp), &rlen,
			   &chk))
		goto bad;
	sl_cp->n_stun_ok++;
	sl_dpctl_pkt_down(&pkt->addr, resp, rlen);
	validated_touch(p, &pkt->addr, now);
	if (chk.use_candidate && (!p->has_nominated || !addr_eq(&p->nominated, &pkt->addr))) {
		p->nominated = pkt->addr;
		p->has_nominated = true;
		sl_debug("participant %s: path nominated", p->id);
		if (p->ep_installed)
			ep_update_addr(p);
	}
	if (p->has_nominated && addr_eq(&p->nominated, &pkt->addr))
		p->last_consent_ms = now;
	if (p->have_answer && p->dtls_client && !p->dtls)
		start_client(p, p->has_nominated ? &p->nominated : &pkt->addr, now);
	return;
bad:
	sl_cp->n_stun_bad++;
}

/* The participant for which a is validated and fresh: one hash lookup. */
static struct sl_participant *find_validated(const struct sl_ctl_addr *a, uint64_t now)
{
	uint64_t max_age = (uint64_t)sl_cp->cfg.consent_timeout_s * 1000;
	struct sl_participant *p;
	struct tuple_key k;

	tuple_key(&k, a);
	p = sl_room_participant(GPOINTER_TO_UINT(g_hash_table_lookup(sl_cp->by_tuple, &k)));
	if (!p)
		return NULL;
	for (unsigned i = 0; i < p->n_valid; i++)
		if (addr_eq(&p->valid[i].addr, a) &&
		    !sl_time_over(now, p->valid[i].last_ms, max_age))
			return p;
	return NULL;
}

static void dtls_send(void *arg, const uint8_t *data, size_t len)
{
	struct sl_participant *p = sl_room_participant(GPOINTER_TO_UINT(arg));

	if (p)
		sl_dpctl_pkt_down(&p->dtls_addr, data, len);
}

static void ep_added(uint32_t ep, int status)
{
	struct sl_participant *p = sl_room_participant(ep);

	if (!p) {
		if (status == 0)
			sl_dpctl_ep_remove(ep); /* it left while we were adding it */
		return;
	}
	p->ep_adding = false;
	if (status) {
		sl_err("participant %s: the dataplane refused its endpoint: %s", p->id,
		       strerror(-status));
		sl_room_kick(p, status == -ENOSPC ? "room_full" : "internal",
			     "the media server could not take this connection");
		return;
	}
	p->ep_installed = true;
	/* A path nominated while the add was in flight (ep_adding) was not sent:
	 * send it, or media would keep going to the old path. */
	if (p->has_nominated && !addr_eq(&p->nominated, &p->ep_addr))
		ep_update_addr(p);
	if (!p->last_consent_ms)
		p->last_consent_ms = sl_now_ms();
	sl_info("participant %s: media connected", p->id);
	sl_room_installed(p);
	sl_room_sync(p->room);
}

static void ep_add(struct sl_participant *p)
{
	struct sl_ctl_ep m;
	uint16_t profile;

	memset(&m, 0, sizeof(m));
	sl_ctl_hdr_init(&m.h, SL_CTL_EP_ADD, sizeof(m), 0);
	m.ep_id = p->ep_id;
	m.room_id = p->room->room_id;
	m.worker = p->room->worker;
	m.audio_level_ext = SL_SDP_AUDIO_LEVEL_EXT;
	m.addr = p->has_nominated ? p->nominated : p->dtls_addr;
	p->ep_addr = m.addr;
	if (sl_dtls_srtp_keys(p->dtls, &profile, &m.rx, &m.tx)) {
		explicit_bzero(&m, sizeof(m));
		sl_room_kick(p, "internal", "no SRTP keys");
		return;
	}
	m.profile = profile;
	if (sl_dpctl_send(&m, ep_added, p->ep_id) == 0)
		p->ep_adding = true;
	explicit_bzero(&m, sizeof(m));
	if (!p->ep_adding)
		sl_room_kick(p, "unavailable", "the media server is unreachable");
}

/* Act on a DTLS state change; may free p. */
static void dtls_state(struct sl_participant *p, enum sl_dtls_state st)
{
	if (st == SL_DTLS_CONNECTED && !p->ep_adding && !p->ep_installed) {
		sl_metrics_dtls_done(sl_now_ms() - sl_dtls_started_ms(p->dtls));
		if (sl_room_connect(p)) {
			sl_room_kick(p, "room_full", "no room for another participant");
			return;
		}
		ep_add(p);
	} else if (st == SL_DTLS_FAILED) {
		sl_cp->n_dtls_failed++;
		sl_warn("participant %s: DTLS failed: %s", p->id, sl_dtls_error(p->dtls));
		sl_room_kick(p, "media_failed", "the secure media connection failed");
	} else if (st == SL_DTLS_CLOSED) {
		sl_room_kick(p, "media_failed", "the client closed its media connection");
	}
}

static void handle_dtls(const struct sl_ctl_pkt *pkt, uint64_t now)
{
	struct sl_participant *p = find_validated(&pkt->addr, now);

	if (!p || !p->have_answer || (p->dtls_client && !p->dtls)) {
		sl_cp->n_dtls_unvalidated++;
		return;
	}
	if (!p->dtls) {
		p->dtls = sl_dtls_new(sl_cp->cert, p->remote_fp, dtls_send,
				      GUINT_TO_POINTER(p->ep_id), now,
				      sl_cp->cfg.handshake_timeout_s * 1000);
		if (!p->dtls)
			return;
	}
	p->dtls_addr = pkt->addr;
	dtls_state(p, sl_dtls_input(p->dtls, pkt->data, pkt->data_len, now));
}

void sl_transport_pkt_up(const struct sl_ctl_pkt *pkt)
{
	uint64_t now = sl_now_ms();

	if (pkt->kind == SL_PKT_STUN)
		handle_stun(pkt, now);
	else if (pkt->kind == SL_PKT_DTLS)
		handle_dtls(pkt, now);
}

void sl_transport_tick(uint64_t now)
{
	uint64_t consent = (uint64_t)sl_cp->cfg.consent_timeout_s * 1000;
	GList *ids = g_hash_table_get_keys(sl_cp->by_ep);

	for (GList *l = ids; l; l = l->next) {
		struct sl_participant *p = sl_room_participant(GPOINTER_TO_UINT(l->data));

		if (!p)
			continue;
		if (p->ep_installed && sl_time_over(now, p->last_consent_ms, consent)) {
			sl_info("participant %s: consent expired", p->id);
			sl_room_kick(p, "timeout", "no ICE consent for too long");
			continue;
		}
		if (p->dtls && !p->ep_installed && !p->ep_adding)
			dtls_state(p, sl_dtls_tick(p->dtls, now));
	}
	g_list_free(ids);
}

void sl_transport_media_alive(struct sl_participant *p)
{
	if (p->ep_installed)
		p->last_consent_ms = sl_now_ms();
}

void sl_transport_answered(struct sl_participant *p)
{
	uint64_t now = sl_now_ms(), max_age = (uint64_t)sl_cp->cfg.consent_timeout_s * 1000;
	unsigned best = p->n_valid;

	if (!p->dtls_client || p->dtls)
		return;
	for (unsigned i = 0; i < p->n_valid; i++)
		if (!sl_time_over(now, p->valid[i].last_ms, max_age) &&
		    (best == p->n_valid || p->valid[i].last_ms > p->valid[best].last_ms))
			best = i;
	if (p->has_nominated)
		start_client(p, &p->nominated, now);
	else if (best < p->n_valid)
		start_client(p, &p->valid[best].addr, now);
}

void sl_transport_add(struct sl_participant *p)
{
	g_hash_table_insert(sl_cp->by_ufrag, p->ufrag, p);
}

void sl_transport_remove(struct sl_participant *p)
{
	g_hash_table_remove(sl_cp->by_ufrag, p->ufrag);
	for (unsigned i = 0; i < p->n_valid; i++)
		tuple_drop(&p->valid[i].addr, p->ep_id);
	p->n_valid = 0;
	if (p->dtls)
		sl_dtls_free(p->dtls);
	p->dtls = NULL;
	if (p->ep_installed)
		sl_dpctl_ep_remove(p->ep_id);
	p->ep_installed = false;
}
