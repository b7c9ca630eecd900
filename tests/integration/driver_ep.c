/*
 * driver_ep.c - simulated endpoints for the integration tests: install
 * them in the dataplane, send SRTP from them, receive and decrypt what the
 * dataplane sends them.
 *
 * Keys are derived from the endpoint id so a failure can be reproduced;
 * each client-side SRTP context is libsrtp2's stock implementation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "driver.h"

static void key_of(uint32_t id, uint8_t dir, struct sl_ctl_key *k, uint16_t profile)
{
	unsigned kl = sl_srtp_profile_key_len(profile), sl = sl_srtp_profile_salt_len(profile);

	memset(k, 0, sizeof(*k));
	for (unsigned i = 0; i < kl; i++)
		k->key[i] = (uint8_t)(id * 29 + dir * 101 + i);
	for (unsigned i = 0; i < sl; i++)
		k->salt[i] = (uint8_t)(id * 13 + dir * 7 + i * 3);
}

int drv_ep_add(struct drv_ep *e)
{
	struct sl_ctl_ep m;
	struct sl_ctl_key k;

	memset(&m, 0, sizeof(m));
	m.ep_id = e->id;
	m.room_id = e->room;
	m.worker = (uint16_t)e->worker;
	m.profile = e->profile;
	m.audio_level_ext = e->level_ext;
	m.addr.family = e->family;
	memcpy(m.addr.peer_mac, drv_my_mac, 6);
	memcpy(m.addr.remote_ip, e->family == 4 ? drv_my_ip4 : drv_my_ip6, e->family == 4 ? 4 : 16);
	memcpy(m.addr.local_ip, e->family == 4 ? drv_dp_ip4 : drv_dp_ip6, e->family == 4 ? 4 : 16);
	m.addr.remote_port = htons(e->port);
	m.addr.local_port = htons((uint16_t)(DRV_BASE_PORT + e->worker));
	key_of(e->id, 1, &m.rx, e->profile);
	key_of(e->id, 2, &m.tx, e->profile);
	key_of(e->id, 1, &k, e->profile);
	e->send = sl_srtp_create(e->profile, k.key, k.salt, false, 16);
	key_of(e->id, 2, &k, e->profile);
	e->recv = sl_srtp_create(e->profile, k.key, k.salt, true, 64);
	if (!e->send || !e->recv)
		return -ENOMEM;
	return drv_call(&m, SL_CTL_EP_ADD, sizeof(m));
}

int drv_ep_remove(struct drv_ep *e)
{
	struct sl_ctl_ep_ref m = { .ep_id = e->id };

	return drv_call(&m, SL_CTL_EP_REMOVE, sizeof(m));
}

static uint16_t next_port = 30000;

uint16_t drv_ep_port(void)
{
	return next_port++;
}

int drv_ep_new(struct drv_ep *e)
{
	static uint32_t next_id = 1;

	e->id = next_id++;
	e->port = drv_ep_port();
	return drv_ep_add(e);
}

void drv_ep_done(struct drv_ep *e)
{
	drv_ep_remove(e);
	drv_ep_free(e);
}

long drv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void drv_ep_free(struct drv_ep *e)
{
	sl_srtp_destroy(e->send);
	sl_srtp_destroy(e->recv);
	e->send = e->recv = NULL;
}

int drv_subscribe(const struct drv_ep *sub, struct drv_ep *pub, uint32_t src, uint32_t dst,
		  uint8_t kind, bool unsubscribe)
{
	struct sl_ctl_sub m = { .subscriber = sub->id,
				.publisher = pub->id,
				.src_ssrc = src,
				.dst_ssrc = dst,
				.kind = kind };
	uint8_t got[2048];
	bool rtcp = false;
	uint64_t limited = drv_counter(SL_CNT_drop_pli_ratelimit);
	int r = drv_call(&m, unsubscribe ? SL_CTL_UNSUBSCRIBE : SL_CTL_SUBSCRIBE, sizeof(m));

	if (r || unsubscribe || kind != SL_MEDIA_VIDEO)
		return r;
	/* A new video subscriber needs a keyframe: the publisher gets a PLI
	 * for src at once, unless the stream's keyframe limiter held it back
	 * (a PLI went out within pli-interval; its keyframe serves both). */
	if (drv_counter(SL_CNT_drop_pli_ratelimit) > limited)
		return 0;
	r = drv_ep_recv(pub, got, 1000, &rtcp);
	if (r < 12 || !rtcp || got[1] != 206 || (got[0] & 0x1f) != 1 ||
	    ((uint32_t)got[8] << 24 | (uint32_t)got[9] << 16 | (uint32_t)got[10] << 8 | got[11]) !=
		    src)
		return -EPROTO;
	return 0;
}

int drv_mute(const struct drv_ep *e, uint8_t kind, bool muted)
{
	struct sl_ctl_mute m = { .ep_id = e->id, .kind = kind, .muted = muted };

	return drv_call(&m, SL_CTL_MUTE, sizeof(m));
}

size_t drv_rtp(uint8_t *buf, uint32_t ssrc, uint16_t seq, uint32_t ts, size_t payload_len,
	       uint8_t level_ext, uint8_t level)
{
	size_t off = 12;

	memset(buf, 0, 12);
	buf[0] = 0x80;
	buf[1] = 111;
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	buf[4] = (uint8_t)(ts >> 24);
	buf[5] = (uint8_t)(ts >> 16);
	buf[6] = (uint8_t)(ts >> 8);
	buf[7] = (uint8_t)ts;
	buf[8] = (uint8_t)(ssrc >> 24);
	buf[9] = (uint8_t)(ssrc >> 16);
	buf[10] = (uint8_t)(ssrc >> 8);
	buf[11] = (uint8_t)ssrc;
	if (level_ext) { /* RFC 8285 one-byte form, RFC 6464 voice + level */
		buf[0] |= 0x10;
		memcpy(buf + 12,
		       (uint8_t[]){ 0xbe, 0xde, 0x00, 0x01, (uint8_t)(level_ext << 4),
				    (uint8_t)(0x80 | level), 0, 0 },
		       8);
		off = 20;
	}
	for (size_t i = 0; i < payload_len; i++)
		buf[off + i] = (uint8_t)(seq * 7 + ssrc + i);
	return off + payload_len;
}

size_t drv_protect(struct drv_ep *e, uint8_t *buf, size_t len, bool rtcp)
{
	struct sl_srtp_op op = { .ctx = e->send,
				 .buf = buf,
				 .len = (uint16_t)len,
				 .cap = (uint16_t)(len + SL_SRTCP_MAX_TRAILER) };

	if ((rtcp ? sl_srtcp_protect_burst(&op, 1) : sl_srtp_protect_burst(&op, 1)) != 1)
		return 0;
	return op.len;
}

int drv_ep_send(struct drv_ep *e, const uint8_t *plain, size_t len, bool rtcp)
{
	uint8_t buf[2048];
	size_t n;

	if (len + SL_SRTCP_MAX_TRAILER > sizeof(buf))
		return -EMSGSIZE;
	memcpy(buf, plain, len);
	n = drv_protect(e, buf, len, rtcp);
	if (!n)
		return -EINVAL;
	return drv_send_udp(e->family, e->port, e->worker, buf, n);
}

/* Is this frame media from the dataplane to endpoint e? */
static bool for_ep(const struct drv_frame *f, const struct drv_ep *e)
{
	const uint8_t *want = e->family == 4 ? drv_my_ip4 : drv_my_ip6;

	return f->ni.kind == SL_NET_UDP && f->ni.ip_version == e->family &&
	       !memcmp(f->ni.dst_ip, want, e->family == 4 ? 4 : 16) &&
	       ntohs(f->ni.dst_port) == e->port &&
	       ntohs(f->ni.src_port) == DRV_BASE_PORT + e->worker &&
	       !memcmp(f->data, drv_my_mac, 6) && !memcmp(f->data + 6, drv_dp_mac, 6);
}

static struct drv_frame kept_frames[1024];
static unsigned kept_n;

void drv_flush(void)
{
	kept_n = 0;
}

static int take(struct drv_ep *e, struct drv_frame *out, int timeout_ms)
{
	for (unsigned i = 0; i < kept_n; i++) {
		if (for_ep(&kept_frames[i], e)) {
			*out = kept_frames[i];
			memmove(&kept_frames[i], &kept_frames[i + 1],
				(kept_n - i - 1) * sizeof(*out));
			kept_n--;
			out->payload = out->data + out->ni.payload_off;
			return 0;
		}
	}
	while (drv_recv(out, timeout_ms) == 0) {
		if (for_ep(out, e))
			return 0;
		if (out->ni.kind == SL_NET_UDP && kept_n < 1024)
			kept_frames[kept_n++] = *out;
	}
	return -ETIMEDOUT;
}

int drv_ep_recv(struct drv_ep *e, uint8_t *out, int timeout_ms, bool *rtcp)
{
	static struct drv_frame f;
	struct sl_srtp_op op;
	bool is_rtcp;

	if (take(e, &f, timeout_ms) != 0)
		return -ETIMEDOUT;
	if (!out) /* lost on the way: never decrypted, as if it never came */
		return 0;
	memcpy(out, f.payload, f.ni.payload_len);
	is_rtcp = sl_demux(out, f.ni.payload_len) == SL_DEMUX_RTCP;
	op = (struct sl_srtp_op){
		.ctx = e->recv, .buf = out, .len = f.ni.payload_len, .cap = f.ni.payload_len
	};
	if ((is_rtcp ? sl_srtcp_unprotect_burst(&op, 1) : sl_srtp_unprotect_burst(&op, 1)) != 1)
		return -EBADMSG;
	if (rtcp)
		*rtcp = is_rtcp;
	return op.len;
}
