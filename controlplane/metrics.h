/*
 * metrics.h - Prometheus metrics at /metrics on a listener of its own (metrics.c).
 *
 * Off unless --metrics-listen is given. Every metric is named sluice_*;
 * labels take values from fixed sets only (a reason, a message type, a
 * worker number), never a room name, a display name or an address.
 */
#ifndef SLUICE_CP_METRICS_H
#define SLUICE_CP_METRICS_H

#include <stdint.h>

#include <jansson.h>

#include "config.h"

#define SL_CTL_RESULTS 4 /* ok, bad_request, not_here, not_found */

/* Listen on cfg->metrics_listen (nothing when it is ""). Returns 0 or -errno with err set. */
int sl_metrics_start(const struct sl_cp_config *cfg, char *err, size_t n);
void sl_metrics_stop(void);

/* A join refused with this error code (docs/signalling.md); codes outside the
 * fixed set count as "other". "throttled" for every throttled join. */
void sl_metrics_join_refused(const char *code);
/* A join answered `redirect` (another node holds the meeting). */
void sl_metrics_join_redirected(void);
/* A signalling message received, by type (enum sl_msg_type; 0 = unknown or unreadable). */
void sl_metrics_message(int type);
/* A DTLS handshake completed after ms milliseconds. */
void sl_metrics_dtls_done(uint64_t ms);
/* An operator command (enum sl_ctlcmd_cmd) answered with result: "ok" or its error code. */
void sl_metrics_ctl_command(int cmd, const char *result);
/* An operator stream entry without a valid req, dropped. */
void sl_metrics_ctl_dropped(void);
/* The control plane's counters (those of /metrics, by the same numbers) as
 * one JSON object: names without sluice_ and _total; a labelled counter
 * is an object by label value (several labels: values joined by "/"). */
json_t *sl_metrics_counters_json(void);

#endif
