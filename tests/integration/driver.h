/*
 * driver.h - the integration tests' side of the wire and of the socket.
 *
 * A test process starts the real sluice-dataplane (a child, net_memif
 * server), attaches to it as the memif client (its own DPDK EAL) and as the
 * control plane (the control socket). Simulated clients share one MAC and
 * have IPv4 10.0.0.2 / IPv6 fd00::2 with one UDP port each; the dataplane
 * is 10.0.0.1 / fd00::1, MAC 02:00:00:00:00:01.
 */
#ifndef SLUICE_TEST_DRIVER_H
#define SLUICE_TEST_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/ctl.h>
#include <sluice/net.h>
#include <sluice/srtp.h>

#define DRV_BASE_PORT 10000

extern const uint8_t drv_dp_mac[6], drv_my_mac[6];
extern const uint8_t drv_dp_ip4[4], drv_my_ip4[4], drv_dp_ip6[16], drv_my_ip6[16];

/* Options appended to the dataplane's command line (NULL-terminated), if set
 * before drv_start. */
extern const char *const *drv_extra_args;

/* Start the dataplane with n workers and attach; 0 or -errno. */
int drv_start(const char *dataplane, unsigned n_workers, const char *prog);
void drv_stop(void);
/* Remove /var/run/dpdk/WHAT-PID, the runtime directory DPDK leaves behind
 * for --file-prefix WHAT-PID. */
void drv_remove_runtime(const char *what, int pid);

/* The dataplane's pid and the run's directory (dataplane.log, ctl.sock, memif.sock). */
int drv_pid(void);
const char *drv_dir(void);
/* The control socket itself, for tests that pace their own reading. */
int drv_ctl_fd(void);
/* Take our end of the memif link down (the peer disconnects) or up again
 * (reconnect, then prove every worker's path as at start). 0 or -errno. */
int drv_link(bool up);

/* A received frame, parsed. */
struct drv_frame {
	uint8_t data[2048];
	uint16_t len;
	struct sl_net_info ni; /* valid when kind != 0 */
	const uint8_t *payload;
};

/* Send one UDP datagram from a client (family 4/6, client port) to worker w. */
int drv_send_udp(uint8_t family, uint16_t client_port, unsigned worker, const uint8_t *payload,
		 size_t len);
/* Same, from an arbitrary source (spoofing tests). */
int drv_send_udp_from(const uint8_t *src_ip4, uint16_t client_port, unsigned worker,
		      const uint8_t *payload, size_t len);
int drv_send_raw(const uint8_t *frame, size_t len);
/* Next frame within timeout_ms, or -ETIMEDOUT. UDP frames are parsed. */
int drv_recv(struct drv_frame *f, int timeout_ms);
/* Drain and count frames for timeout_ms. */
unsigned drv_drain(int timeout_ms);

/* Control plane. */
int drv_call(void *msg, uint16_t type, size_t len); /* status of the reply */
int drv_call_answer(void *msg, uint16_t type, size_t len, void *ans, size_t ans_len);
/* Next unsolicited message (PKT_UP, EVENT) within timeout_ms into buf. */
int drv_next_up(void *buf, size_t cap, int timeout_ms);
int drv_send_raw_ctl(const void *msg, size_t len); /* no wait */
uint64_t drv_counter(enum sl_counter c);

/* An endpoint as the tests use it. */
struct drv_ep {
	uint32_t id;
	uint64_t room;
	unsigned worker;
	uint8_t family;
	uint16_t port; /* client UDP port */
	uint16_t profile;
	uint8_t level_ext;
	struct sl_srtp *send; /* protects what the client sends (the ep's rx key) */
	struct sl_srtp *recv; /* unprotects what the client gets (the ep's tx key) */
};

int drv_ep_add(struct drv_ep *e);
/* Give e the next endpoint id and client port of this run, then add it. */
int drv_ep_new(struct drv_ep *e);
/* A client port no endpoint of this run uses. */
uint16_t drv_ep_port(void);
int drv_ep_remove(struct drv_ep *e);
void drv_ep_free(struct drv_ep *e);
/* Remove and free. */
void drv_ep_done(struct drv_ep *e);
int drv_subscribe(const struct drv_ep *sub, struct drv_ep *pub, uint32_t src, uint32_t dst,
		  uint8_t kind, bool unsubscribe);
int drv_mute(const struct drv_ep *e, uint8_t kind, bool muted);

/* Build an RTP packet: 12-byte header, optional audio-level extension, payload pattern. */
size_t drv_rtp(uint8_t *buf, uint32_t ssrc, uint16_t seq, uint32_t ts, size_t payload_len,
	       uint8_t level_ext, uint8_t level);
/* Protect (SRTP or SRTCP) in place with the endpoint's send key; returns the length. */
size_t drv_protect(struct drv_ep *e, uint8_t *buf, size_t len, bool rtcp);
/* Send an RTP/RTCP packet from the endpoint (protects a copy). */
int drv_ep_send(struct drv_ep *e, const uint8_t *plain, size_t len, bool rtcp);
/*
 * Receive the next media frame addressed to endpoint e within timeout_ms,
 * unprotect it into out (plaintext) and return its length; -ETIMEDOUT, or
 * -EBADMSG if it did not decrypt. Frames for other endpoints are kept for
 * later calls. out == NULL takes the frame without decrypting it (a loss).
 */
int drv_ep_recv(struct drv_ep *e, uint8_t *out, int timeout_ms, bool *rtcp);
/* Forget frames kept for any endpoint. */
void drv_flush(void);

/* Big-endian reads of packet fields, and a monotonic clock in ms. */
static inline uint16_t drv_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t drv_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

long drv_now_ms(void);

#endif
