/*
 * metrics.c - Prometheus text format at /metrics, for the operator.
 *
 * A listener of its own (--metrics-listen ADDR:PORT; none without it) on the
 * GLib loop, apart from the public HTTP server: plain non-blocking sockets,
 * at most SL_METRICS_CONNS connections at once (more are closed at once),
 * a request head of at most SL_METRICS_REQ_MAX bytes (431 past it), only
 * GET /metrics (404 for other paths, 405 for other methods), one answer per
 * connection, then close; a connection is closed after SL_METRICS_TIMEOUT_S
 * whatever it did.
 *
 * A scrape asks the dataplane for fresh figures (SL_CTL_COUNTERS_GET and
 * SL_CTL_WORKER_STATS_GET, asynchronous: the loop never waits), and answers
 * when both replies are in, or after SL_METRICS_FETCH_MS without them:
 * scrapes arriving meanwhile share that one fetch; nothing is cached
 * between fetches. Without a dataplane the control plane's own metrics are
 * served with sluice_dataplane_up 0.
 *
 * Labels take values from fixed sets only: join refusal reasons, message
 * type names, worker numbers, counter names. Nothing a client chose (a room
 * name, a display name, an unknown message type) and no address ever
 * becomes a label.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>

#include "cp.h"
#include "ctlcmd.h"
#include "dpctl.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "password.h"
#include "signalling.h"
#include "store.h"

#define SL_METRICS_CONNS     4
#define SL_METRICS_REQ_MAX   2048
#define SL_METRICS_TIMEOUT_S 5
#define SL_METRICS_FETCH_MS  1000

/* Join refusals: the error codes of docs/signalling.md that refuse a join. */
static const char *const reasons[] = { "room_full",      "locked",        "password_required",
				       "weak_room_name", "auth_required", "bad_token",
				       "unavailable",    "throttled",     "draining",
				       "other" };
#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))

/* DTLS handshake latency buckets, seconds (upper bounds; +Inf implied). */
static const struct {
	uint64_t ms;
	const char *le;
} buckets[] = { { 10, "0.01" }, { 25, "0.025" }, { 50, "0.05" },  { 100, "0.1" }, { 250, "0.25" },
		{ 500, "0.5" }, { 1000, "1" },   { 2500, "2.5" }, { 5000, "5" },  { 10000, "10" } };
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

enum result {
	RES_OK,
	RES_NOT_FOUND,
	RES_BAD_METHOD,
	RES_BAD_REQUEST,
	RES_TOO_LARGE,
	RES_BUSY,
	RES_N
};
static const char *const results[RES_N] = { "ok",          "not_found", "bad_method",
					    "bad_request", "too_large", "busy" };

struct conn {
	int fd;
	guint watch, timer;
	bool waiting; /* for the dataplane's figures */
	char *out;
	size_t out_len, out_off;
	size_t req_len;
	char req[SL_METRICS_REQ_MAX];
};

static struct {
	int lfd;
	guint lwatch, lretry;
	struct conn *conns[SL_METRICS_CONNS];
	/* the fetch in progress */
	bool fetching;
	guint fetch_timer;
	unsigned fetch_gen, fetch_left;
	bool have_cnt, have_ws;
	struct sl_ctl_counters cnt;
	struct sl_ctl_worker_stats ws;
	/* counters kept here */
	uint64_t refused[N_REASONS];
	uint64_t msgs[SL_MSG_LAST + 1]; /* [0]: unknown */
	uint64_t dtls_ok, dtls_sum_ms, dtls_bucket[N_BUCKETS];
	uint64_t requests[RES_N];
	uint64_t redirected;
	uint64_t ctl[SL_CTLCMD_N][SL_CTL_RESULTS];
	uint64_t ctl_dropped;
	/* sl_metrics_counters_json: render_cp writes its counters here instead */
	json_t *json;
	char json_family[96];
	bool json_counter;
} mx = { .lfd = -1 };

/* sluice_ctl_commands_total's result label: ok or the reply's error code. */
static const char *const ctl_results[SL_CTL_RESULTS] = { "ok", "bad_request", "not_here",
							 "not_found" };

void sl_metrics_ctl_command(int cmd, const char *result)
{
	for (unsigned i = 0; i < SL_CTL_RESULTS; i++)
		if ((unsigned)cmd < SL_CTLCMD_N && !strcmp(result, ctl_results[i]))
			mx.ctl[cmd][i]++;
}

void sl_metrics_ctl_dropped(void)
{
	mx.ctl_dropped++;
}

void sl_metrics_join_refused(const char *code)
{
	size_t i;

	for (i = 0; i < N_REASONS - 1; i++)
		if (code && !strcmp(code, reasons[i]))
			break;
	mx.refused[i]++;
}

void sl_metrics_join_redirected(void)
{
	mx.redirected++;
}

void sl_metrics_message(int type)
{
	mx.msgs[type > 0 && type <= SL_MSG_LAST && sl_signal_type_name(type) ? type : 0]++;
}

void sl_metrics_dtls_done(uint64_t ms)
{
	mx.dtls_ok++;
	mx.dtls_sum_ms += ms;
	for (size_t i = 0; i < N_BUCKETS; i++)
		if (ms <= buckets[i].ms) {
			mx.dtls_bucket[i]++;
			break;
		}
}

/* ---- the exposition format ---- */

static void head(GString *o, const char *name, const char *type, const char *help)
{
	if (mx.json) {
		snprintf(mx.json_family, sizeof(mx.json_family), "%s", name);
		mx.json_counter = !strcmp(type, "counter");
		return;
	}
	g_string_append_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A counter into mx.json: sluice_X_total -> "X", a labelled one -> "X": {"LABEL VALUE": v}. */
static void json_val(const char *labels, uint64_t v)
{
	char k[96];
	const char *q1, *q2;
	size_t len = strlen(mx.json_family) - strlen("sluice_");
	GString *lv;
	json_t *o;

	if (!mx.json_counter)
		return;
	if (len > strlen("_total") && g_str_has_suffix(mx.json_family, "_total"))
		len -= strlen("_total");
	snprintf(k, sizeof(k), "%.*s", (int)len, mx.json_family + strlen("sluice_"));
	if (!labels) {
		json_object_set_new(mx.json, k, json_integer((json_int_t)v));
		return;
	}
	o = json_object_get(mx.json, k);
	if (!o) {
		o = json_object();
		json_object_set_new(mx.json, k, o);
	}
	/* The labels are ours (name="value"[,...]): the values, joined by "/". */
	lv = g_string_new(NULL);
	for (const char *p = labels; (q1 = strchr(p, '"')) && (q2 = strchr(q1 + 1, '"'));
	     p = q2 + 1) {
		if (lv->len)
			g_string_append_c(lv, '/');
		g_string_append_len(lv, q1 + 1, q2 - q1 - 1);
	}
	json_object_set_new(o, lv->str, json_integer((json_int_t)v));
	g_string_free(lv, TRUE);
}

static void val(GString *o, const char *name, const char *labels, uint64_t v)
{
	if (mx.json) {
		json_val(labels, v);
		return;
	}
	g_string_append_printf(o, "%s%s%s%s %" PRIu64 "\n", name, labels ? "{" : "",
			       labels ? labels : "", labels ? "}" : "", v);
}

static void fval(GString *o, const char *name, const char *labels, double v)
{
	if (mx.json)
		return;
	g_string_append_printf(o, "%s%s%s%s %.9g\n", name, labels ? "{" : "", labels ? labels : "",
			       labels ? "}" : "", v);
}

static void one(GString *o, const char *name, const char *type, const char *help, uint64_t v)
{
	head(o, name, type, help);
	val(o, name, NULL, v);
}

static void render_cp(GString *o)
{
	struct sl_http_stats h;
	char l[96];
	uint64_t cum = 0;

	one(o, "sluice_meetings", "gauge", "Meetings in progress on this node.", sl_cp->n_rooms);
	one(o, "sluice_participants", "gauge",
	    "Participants in meetings, their handshake done or not.", sl_cp->n_participants);
	one(o, "sluice_participants_connected", "gauge",
	    "Participants past their ICE/DTLS handshake.", sl_cp->n_connected);
	one(o, "sluice_joins_total", "counter", "Joins admitted into a meeting.", sl_cp->n_joins);
	head(o, "sluice_join_failures_total", "counter", "Joins refused, by reason.");
	for (size_t i = 0; i < N_REASONS; i++) {
		snprintf(l, sizeof(l), "reason=\"%s\"", reasons[i]);
		val(o, "sluice_join_failures_total", l, mx.refused[i]);
	}
	one(o, "sluice_lobby_waits_total", "counter", "Joins sent to a lobby to wait.",
	    sl_cp->n_lobby_waits);
	one(o, "sluice_name_checks_total", "counter", "check_name requests answered.",
	    sl_cp->n_check_name);
	one(o, "sluice_wrong_passwords_total", "counter", "Wrong meeting passwords.",
	    sl_cp->n_password_wrong);
	one(o, "sluice_bad_tokens_total", "counter", "Joins with a token that was refused.",
	    sl_cp->n_bad_token);
	one(o, "sluice_password_checks_in_flight", "gauge", "Meeting passwords being hashed now.",
	    sl_password_in_flight());
	head(o, "sluice_signalling_messages_total", "counter",
	     "Signalling messages received, by type (unknown: no known type).");
	for (int t = 0; t <= SL_MSG_LAST; t++) {
		const char *n = t ? sl_signal_type_name(t) : "unknown";

		if (!n)
			continue;
		snprintf(l, sizeof(l), "type=\"%s\"", n);
		val(o, "sluice_signalling_messages_total", l, mx.msgs[t]);
	}
	one(o, "sluice_signalling_bad_messages_total", "counter",
	    "Signalling messages refused as malformed, too large or not allowed.",
	    sl_cp->n_bad_messages);
	one(o, "sluice_chat_messages_total", "counter", "Chat messages delivered.", sl_cp->n_chat);
	one(o, "sluice_p2p_messages_total", "counter", "p2p messages relayed.", sl_cp->n_p2p);
	one(o, "sluice_p2p_refused_total", "counter", "p2p messages refused.",
	    sl_cp->n_p2p_refused);
	one(o, "sluice_speaker_changes_total", "counter", "Dominant speaker changes.",
	    sl_cp->n_speaker_changes);
	one(o, "sluice_speaker_stats_total", "counter", "speaker_stats requests answered.",
	    sl_cp->n_speaker_stats);
	head(o, "sluice_stun_checks_total", "counter",
	     "ICE connectivity checks: answered (ok) or dropped.");
	val(o, "sluice_stun_checks_total", "result=\"ok\"", sl_cp->n_stun_ok);
	val(o, "sluice_stun_checks_total", "result=\"dropped\"", sl_cp->n_stun_bad);
	head(o, "sluice_dtls_handshakes_total", "counter", "DTLS handshakes completed or failed.");
	val(o, "sluice_dtls_handshakes_total", "result=\"ok\"", mx.dtls_ok);
	val(o, "sluice_dtls_handshakes_total", "result=\"failed\"", sl_cp->n_dtls_failed);
	one(o, "sluice_dtls_unvalidated_dropped_total", "counter",
	    "DTLS datagrams from no ICE-validated path, dropped.", sl_cp->n_dtls_unvalidated);
	head(o, "sluice_dtls_handshake_seconds", "histogram",
	     "Completed DTLS handshakes: first datagram (or our ClientHello) to completion.");
	for (size_t i = 0; i < N_BUCKETS; i++) {
		cum += mx.dtls_bucket[i];
		snprintf(l, sizeof(l), "le=\"%s\"", buckets[i].le);
		val(o, "sluice_dtls_handshake_seconds_bucket", l, cum);
	}
	val(o, "sluice_dtls_handshake_seconds_bucket", "le=\"+Inf\"", mx.dtls_ok);
	fval(o, "sluice_dtls_handshake_seconds_sum", NULL, (double)mx.dtls_sum_ms / 1000.0);
	val(o, "sluice_dtls_handshake_seconds_count", NULL, mx.dtls_ok);
	one(o, "sluice_joins_redirected_total", "counter",
	    "Joins answered redirect: another node holds the meeting.", mx.redirected);
	one(o, "sluice_redis_up", "gauge", "1 while the control plane is connected to Redis.",
	    sl_store_up());
	head(o, "sluice_ctl_commands_total", "counter",
	     "Operator commands (Redis stream sl:ctl) executed, by cmd and result.");
	for (int c = 0; c < SL_CTLCMD_N; c++)
		for (int r = 0; r < SL_CTL_RESULTS; r++) {
			snprintf(l, sizeof(l), "cmd=\"%s\",result=\"%s\"", sl_ctlcmd_name(c),
				 ctl_results[r]);
			val(o, "sluice_ctl_commands_total", l, mx.ctl[c][r]);
		}
	one(o, "sluice_ctl_dropped_total", "counter",
	    "Operator stream entries dropped: no valid req to answer.", mx.ctl_dropped);
	one(o, "sluice_draining", "gauge", "1 while this node drains (takes no new meeting).",
	    sl_store_draining());
	one(o, "sluice_drained", "gauge", "1 when this node drains and holds no meeting any more.",
	    sl_store_drained());

	sl_http_get_stats(&h);
	one(o, "sluice_http_connections", "gauge", "Open HTTP/WebSocket connections.", h.conns);
	one(o, "sluice_http_max_connections", "gauge", "The cap on HTTP/WebSocket connections.",
	    h.max_conns);
	head(o, "sluice_http_refused_total", "counter", "HTTP connections or requests refused.");
	val(o, "sluice_http_refused_total", "reason=\"full\"", h.refused_full);
	val(o, "sluice_http_refused_total", "reason=\"per_ip\"", h.refused_per_ip);
	val(o, "sluice_http_refused_total", "reason=\"head_too_large\"", h.head_too_large);
	val(o, "sluice_http_refused_total", "reason=\"bad_host\"", h.bad_host);
	val(o, "sluice_http_refused_total", "reason=\"bad_origin\"", h.bad_origin);
	one(o, "sluice_http_accept_backoff_total", "counter",
	    "Times accepting paused for lack of file descriptors.", h.accept_backoff);
	one(o, "sluice_http_idle_closed_total", "counter", "WebSockets closed for silence.",
	    h.idle_closed);
	one(o, "sluice_http_message_timeouts_total", "counter",
	    "Requests or messages not completed in time.", h.msg_timeout);
	one(o, "sluice_http_send_queue_dropped_total", "counter",
	    "WebSockets dropped for not reading what they were sent.", h.send_queue_dropped);
	head(o, "sluice_metrics_requests_total", "counter",
	     "Requests to this metrics listener, by result.");
	for (int r = 0; r < RES_N; r++) {
		snprintf(l, sizeof(l), "result=\"%s\"", results[r]);
		val(o, "sluice_metrics_requests_total", l, mx.requests[r]);
	}
}

json_t *sl_metrics_counters_json(void)
{
	json_t *j = json_object();

	mx.json = j;
	render_cp(NULL);
	mx.json = NULL;
	return j;
}

/* SL_COUNTERS: drop_* as one family by reason, the SRTP errors again as one, the rest each. */
static void render_counters(GString *o)
{
	static const struct {
		const char *label;
		int cnt;
	} srtp[] = { { "auth", SL_CNT_drop_auth },
		     { "replay", SL_CNT_drop_replay },
		     { "other", SL_CNT_drop_srtp_other },
		     { "protect", SL_CNT_drop_protect } };
	unsigned n = mx.cnt.n < SL_CNT_MAX ? mx.cnt.n : SL_CNT_MAX;
	char name[96], l[96];
	bool drops = false;

	for (unsigned c = 0; c < n; c++) {
		if (!strncmp(sl_counter_names[c], "drop_", 5)) {
			drops = true;
			continue;
		}
		snprintf(name, sizeof(name), "sluice_dataplane_%s_total", sl_counter_names[c]);
		one(o, name, "counter", "Dataplane counter, summed over workers.", mx.cnt.value[c]);
	}
	if (drops) {
		head(o, "sluice_dataplane_drops_total", "counter",
		     "Packets the dataplane dropped, by reason.");
		for (unsigned c = 0; c < n; c++) {
			if (strncmp(sl_counter_names[c], "drop_", 5))
				continue;
			snprintf(l, sizeof(l), "reason=\"%s\"", sl_counter_names[c] + 5);
			val(o, "sluice_dataplane_drops_total", l, mx.cnt.value[c]);
		}
	}
	head(o, "sluice_dataplane_srtp_errors_total", "counter",
	     "SRTP/SRTCP packets that failed: authentication, replay, other unprotect errors, "
	     "protect errors (also in drops).");
	for (size_t i = 0; i < sizeof(srtp) / sizeof(srtp[0]); i++) {
		snprintf(l, sizeof(l), "error=\"%s\"", srtp[i].label);
		val(o, "sluice_dataplane_srtp_errors_total", l,
		    (unsigned)srtp[i].cnt < n ? mx.cnt.value[srtp[i].cnt] : 0);
	}
}

static void render_workers(GString *o)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} per[] = {
		{ "sluice_dataplane_worker_rx_packets_total", "Packets received, by worker.",
		  offsetof(struct sl_ctl_worker_stat, rx_packets) },
		{ "sluice_dataplane_worker_rx_bytes_total", "Bytes received, by worker.",
		  offsetof(struct sl_ctl_worker_stat, rx_bytes) },
		{ "sluice_dataplane_worker_tx_packets_total", "Packets sent, by worker.",
		  offsetof(struct sl_ctl_worker_stat, tx_packets) },
		{ "sluice_dataplane_worker_tx_bytes_total", "Bytes sent, by worker.",
		  offsetof(struct sl_ctl_worker_stat, tx_bytes) },
	};
	const struct sl_ctl_worker_stats *w = &mx.ws;
	double hz = w->tsc_hz ? (double)w->tsc_hz : 1.0;
	char l[32];

	one(o, "sluice_dataplane_workers", "gauge", "Dataplane worker lcores.", w->n);
	for (size_t f = 0; f < sizeof(per) / sizeof(per[0]); f++) {
		head(o, per[f].name, "counter", per[f].help);
		for (unsigned i = 0; i < w->n; i++) {
			uint64_t v;

			memcpy(&v, (const uint8_t *)&w->w[i] + per[f].off, sizeof(v));
			snprintf(l, sizeof(l), "worker=\"%u\"", i);
			val(o, per[f].name, l, v);
		}
	}
	head(o, "sluice_dataplane_worker_busy_ratio", "gauge",
	     "Fraction of the last second a worker spent in poll-loop turns that received "
	     "packets (0..1).");
	for (unsigned i = 0; i < w->n; i++) {
		snprintf(l, sizeof(l), "worker=\"%u\"", i);
		fval(o, "sluice_dataplane_worker_busy_ratio", l, w->w[i].busy_ppm / 1e6);
	}
	head(o, "sluice_dataplane_worker_busy_seconds_total", "counter",
	     "Seconds a worker spent in poll-loop turns that received packets.");
	for (unsigned i = 0; i < w->n; i++) {
		snprintf(l, sizeof(l), "worker=\"%u\"", i);
		fval(o, "sluice_dataplane_worker_busy_seconds_total", l, w->w[i].busy_cycles / hz);
	}
	head(o, "sluice_dataplane_worker_seconds_total", "counter",
	     "Seconds a worker's poll loop has run.");
	for (unsigned i = 0; i < w->n; i++) {
		snprintf(l, sizeof(l), "worker=\"%u\"", i);
		fval(o, "sluice_dataplane_worker_seconds_total", l, w->w[i].cycles / hz);
	}
	one(o, "sluice_dataplane_packet_mbufs", "gauge", "Mbufs in the shared packet pool.",
	    w->pool_size);
	one(o, "sluice_dataplane_packet_mbufs_in_use", "gauge",
	    "Mbufs of the shared packet pool in use.", w->pool_in_use);
	one(o, "sluice_dataplane_history_mbufs", "gauge",
	    "Mbufs in each worker's NACK history pool.", w->hist_size);
	head(o, "sluice_dataplane_worker_history_mbufs_in_use", "gauge",
	     "Mbufs of a worker's NACK history pool in use.");
	for (unsigned i = 0; i < w->n; i++) {
		snprintf(l, sizeof(l), "worker=\"%u\"", i);
		val(o, "sluice_dataplane_worker_history_mbufs_in_use", l, w->w[i].hist_in_use);
	}
}

static char *render(size_t *len)
{
	GString *o = g_string_sized_new(16384);

	render_cp(o);
	one(o, "sluice_dataplane_up", "gauge",
	    "1 when the dataplane answered this scrape's request for its counters.",
	    sl_dpctl_up() && mx.have_cnt);
	if (mx.have_cnt)
		render_counters(o);
	if (mx.have_ws)
		render_workers(o);
	*len = o->len;
	return g_string_free(o, FALSE);
}

/* ---- connections ---- */

static void conn_close(struct conn *c)
{
	for (int i = 0; i < SL_METRICS_CONNS; i++)
		if (mx.conns[i] == c)
			mx.conns[i] = NULL;
	if (c->watch)
		g_source_remove(c->watch);
	if (c->timer)
		g_source_remove(c->timer);
	close(c->fd);
	g_free(c->out);
	g_free(c);
}

static gboolean on_conn(gint fd, GIOCondition cond, gpointer arg);

static void conn_watch(struct conn *c, GIOCondition cond)
{
	if (c->watch)
		g_source_remove(c->watch);
	c->watch = cond ? g_unix_fd_add(c->fd, cond, on_conn, c) : 0;
}

/* Write what is left; close when done or on error. Returns false if c is gone. */
static bool conn_flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			conn_watch(c, G_IO_OUT);
			return true;
		}
		if (w <= 0)
			break;
		c->out_off += (size_t)w;
	}
	conn_close(c);
	return false;
}

static void respond(struct conn *c, enum result r, const char *status, const char *ctype,
		    char *body, size_t body_len)
{
	GString *o = g_string_sized_new(body_len + 256);

	mx.requests[r]++;
	g_string_append_printf(o,
			       "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			       "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
			       status, ctype, body_len,
			       r == RES_BAD_METHOD ? "Allow: GET\r\n" : "");
	g_string_append_len(o, body, (gssize)body_len);
	c->out_len = o->len;
	c->out = g_string_free(o, FALSE);
	c->out_off = 0;
	c->waiting = false;
	conn_watch(c, 0);
	conn_flush(c);
}

static void respond_text(struct conn *c, enum result r, const char *status)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	respond(c, r, status, "text/plain; charset=utf-8", body, (size_t)n);
}

static void finish_fetch(void)
{
	size_t len;
	char *body;

	if (mx.fetch_timer)
		g_source_remove(mx.fetch_timer);
	mx.fetch_timer = 0;
	mx.fetching = false;
	body = render(&len);
	for (int i = 0; i < SL_METRICS_CONNS; i++)
		if (mx.conns[i] && mx.conns[i]->waiting)
			respond(mx.conns[i], RES_OK, "200 OK",
				"text/plain; version=0.0.4; charset=utf-8", body, len);
	g_free(body);
}

static gboolean on_fetch_timeout(gpointer arg)
{
	(void)arg;
	mx.fetch_timer = 0;
	finish_fetch();
	return G_SOURCE_REMOVE;
}

static void on_data(const void *msg, size_t len, void *arg)
{
	const struct sl_ctl_hdr *h = msg;

	if (!mx.fetching || GPOINTER_TO_UINT(arg) != mx.fetch_gen)
		return; /* the answer to a fetch that timed out */
	if (h && h->type == SL_CTL_COUNTERS && len <= sizeof(mx.cnt)) {
		memset(&mx.cnt, 0, sizeof(mx.cnt));
		memcpy(&mx.cnt, msg, len);
		mx.have_cnt = true;
	} else if (h && h->type == SL_CTL_WORKER_STATS && len <= sizeof(mx.ws)) {
		memset(&mx.ws, 0, sizeof(mx.ws));
		memcpy(&mx.ws, msg, len);
		mx.have_ws = true;
	}
	if (--mx.fetch_left == 0)
		finish_fetch();
}

static void start_fetch(void)
{
	gpointer gen;

	if (mx.fetching)
		return;
	mx.fetching = true;
	mx.have_cnt = mx.have_ws = false;
	gen = GUINT_TO_POINTER(++mx.fetch_gen);
	mx.fetch_left = 2;
	if (sl_dpctl_request(SL_CTL_COUNTERS_GET, on_data, gen) ||
	    sl_dpctl_request(SL_CTL_WORKER_STATS_GET, on_data, gen)) {
		finish_fetch(); /* a reply to the first, if any, is stale now */
		return;
	}
	mx.fetch_timer = g_timeout_add(SL_METRICS_FETCH_MS, on_fetch_timeout, NULL);
}

/* A whole request head is in c->req: answer it. */
static void handle(struct conn *c)
{
	char *line = c->req, *eol = strchr(line, '\n'), *target, *version;

	if (eol)
		*eol = 0;
	target = strchr(line, ' ');
	version = target ? strchr(target + 1, ' ') : NULL;
	if (!target || !version || strncmp(version + 1, "HTTP/1.", 7)) {
		respond_text(c, RES_BAD_REQUEST, "400 Bad Request");
		return;
	}
	*target++ = 0;
	*version = 0;
	if (strcmp(line, "GET")) {
		respond_text(c, RES_BAD_METHOD, "405 Method Not Allowed");
		return;
	}
	if (strcmp(target, "/metrics") && strncmp(target, "/metrics?", 9)) {
		respond_text(c, RES_NOT_FOUND, "404 Not Found");
		return;
	}
	c->waiting = true;
	conn_watch(c, 0);
	start_fetch();
}

static gboolean on_conn(gint fd, GIOCondition cond, gpointer arg)
{
	struct conn *c = arg;
	ssize_t r;

	if (c->out) {
		c->watch = 0;
		conn_flush(c);
		return G_SOURCE_REMOVE;
	}
	(void)cond;
	r = recv(fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (r <= 0) {
		c->watch = 0;
		conn_close(c);
		return G_SOURCE_REMOVE;
	}
	c->req_len += (size_t)r;
	c->req[c->req_len] = 0;
	if (memchr(c->req, 0, c->req_len)) {
		c->watch = 0; /* respond replaces the watch: this one goes with REMOVE */
		respond_text(c, RES_BAD_REQUEST, "400 Bad Request");
		return G_SOURCE_REMOVE;
	}
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
		c->watch = 0;
		handle(c);
		return G_SOURCE_REMOVE;
	}
	if (c->req_len == sizeof(c->req) - 1) {
		c->watch = 0;
		respond_text(c, RES_TOO_LARGE, "431 Request Header Fields Too Large");
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean on_conn_timeout(gpointer arg)
{
	struct conn *c = arg;

	c->timer = 0;
	conn_close(c);
	return G_SOURCE_REMOVE;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer arg);

static gboolean relisten(gpointer arg)
{
	(void)arg;
	mx.lretry = 0;
	mx.lwatch = g_unix_fd_add(mx.lfd, G_IO_IN, on_accept, NULL);
	return G_SOURCE_REMOVE;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer arg)
{
	(void)cond;
	(void)arg;
	for (int k = 0; k < 16; k++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), slot = -1;
		struct conn *c;

		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* out of descriptors: try again in a second rather than spin */
				mx.lwatch = 0;
				mx.lretry = g_timeout_add_seconds(1, relisten, NULL);
				return G_SOURCE_REMOVE;
			}
			break;
		}
		for (int i = 0; i < SL_METRICS_CONNS && slot < 0; i++)
			if (!mx.conns[i])
				slot = i;
		if (slot < 0) {
			mx.requests[RES_BUSY]++;
			close(cfd);
			continue;
		}
		c = g_new0(struct conn, 1);
		c->fd = cfd;
		mx.conns[slot] = c;
		c->timer = g_timeout_add_seconds(SL_METRICS_TIMEOUT_S, on_conn_timeout, c);
		conn_watch(c, G_IO_IN | G_IO_HUP | G_IO_ERR);
	}
	return G_SOURCE_CONTINUE;
}

int sl_metrics_start(const struct sl_cp_config *cfg, char *err, size_t n)
{
	struct sockaddr_storage sa;
	unsigned sl;
	int on = 1, fd;

	if (!cfg->metrics_listen[0])
		return 0;
	if (sl_cp_hostport(cfg->metrics_listen, &sa, &sl)) {
		snprintf(err, n, "--metrics-listen %s: not ADDR:PORT", cfg->metrics_listen);
		return -EINVAL;
	}
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, n, "--metrics-listen: socket: %s", strerror(errno));
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (sa.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sa, sl) || listen(fd, 8)) {
		int e = errno;

		snprintf(err, n, "--metrics-listen %s: %s", cfg->metrics_listen, strerror(e));
		close(fd);
		return -e;
	}
	mx.lfd = fd;
	mx.lwatch = g_unix_fd_add(fd, G_IO_IN, on_accept, NULL);
	sl_info("metrics listener started");
	return 0;
}

void sl_metrics_stop(void)
{
	for (int i = 0; i < SL_METRICS_CONNS; i++)
		if (mx.conns[i])
			conn_close(mx.conns[i]);
	if (mx.fetch_timer)
		g_source_remove(mx.fetch_timer);
	mx.fetch_timer = 0;
	mx.fetching = false;
	mx.fetch_gen++; /* answers still on their way are ignored */
	if (mx.lwatch)
		g_source_remove(mx.lwatch);
	if (mx.lretry)
		g_source_remove(mx.lretry);
	mx.lwatch = mx.lretry = 0;
	if (mx.lfd >= 0)
		close(mx.lfd);
	mx.lfd = -1;
}
