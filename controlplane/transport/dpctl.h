/*
 * dpctl.h - the control plane's side of the dataplane control socket.
 *
 * One connection per process. Requests are sent whole (the socket is
 * SOCK_SEQPACKET, sends block for at most a second); each may carry a
 * callback that runs when the dataplane's REPLY arrives, with a cookie
 * (normally an endpoint id, so a participant freed meanwhile is simply not
 * found again). Packets and events from the dataplane go to the handlers.
 */
#ifndef SLUICE_CP_DPCTL_H
#define SLUICE_CP_DPCTL_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/ctl.h>

typedef void (*sl_dpctl_reply_fn)(uint32_t cookie, int status);

struct sl_dpctl_handlers {
	void (*pkt_up)(const struct sl_ctl_pkt *p);
	void (*event)(const struct sl_ctl_event *e);
	void (*up)(const struct sl_ctl_info *info); /* (re)connected */
	void (*down)(void);                         /* connection lost */
};

/*
 * Connect to path, say HELLO and wait (up to 2 s) for INFO. On failure,
 * retry every 2 s in the background when retry is set. Returns 0 when
 * connected now, -errno otherwise (err says why).
 */
int sl_dpctl_start(const char *path, const struct sl_dpctl_handlers *h, char *err, size_t n);
void sl_dpctl_stop(void);
bool sl_dpctl_up(void);

/*
 * Send a request (its header's type and len must be set; seq is filled
 * here). cb may be NULL. Returns 0 or -errno (not connected, send failed:
 * cb is then not called). The caller wipes key-bearing messages after.
 */
int sl_dpctl_send(void *msg, sl_dpctl_reply_fn cb, uint32_t cookie);

/*
 * A request answered by a message of its own rather than a REPLY
 * (SL_CTL_COUNTERS_GET, SL_CTL_WORKER_STATS_GET): cb gets that message
 * (validated) and its length, or (NULL, 0) when the dataplane refused the
 * request or the connection was lost. Returns 0 (cb will be called, unless
 * the control plane stops first) or -errno (cb is not called).
 */
typedef void (*sl_dpctl_data_fn)(const void *msg, size_t len, void *arg);
int sl_dpctl_request(uint16_t type, sl_dpctl_data_fn cb, void *arg);

/* Helpers that build and send one message. */
int sl_dpctl_pkt_down(const struct sl_ctl_addr *to, const void *data, size_t len);
int sl_dpctl_ep_remove(uint32_t ep_id);

#endif
