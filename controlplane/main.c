/*
 * main.c - sluice-controlplane: start-up, the main loop, shutdown.
 *
 * Start-up order: options; state directory, deployment secret and DTLS
 * certificate (generated at first start); the dataplane connection (retried
 * in the background if the dataplane is not up yet); Redis (embedded unless
 * --redis); then HTTP. Everything runs on one GLib main loop. SIGINT or
 * SIGTERM ends every meeting (clients are told), stops the embedded Redis
 * and exits 0. SIGUSR1 puts the node in draining (docs/operators.md,
 * "Drain"). Core dumps are disabled: this process holds keys. Under
 * systemd (Type=notify) it reports READY=1 once HTTP is up, STOPPING=1 on
 * the signal, and pings the watchdog from the loop (common/notify.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib-unix.h>

#include <sluice/notify.h>

#include "clock.h"
#include "ctl.h"
#include "dpctl.h"
#include "dtls.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "room.h"
#include "signalling.h"
#include "speaker.h"
#include "store.h"
#include "offload.h"
#include "throttle.h"
#include "transport.h"

static struct sl_cp cp;
struct sl_cp *sl_cp = &cp;

uint64_t sl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void sl_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("getrandom");
			abort(); /* no randomness: nothing here can be safe */
		}
		p += r;
		n -= (size_t)r;
	}
}

void sl_random_hex(char *out, size_t n)
{
	uint8_t b[64];

	sl_random(b, n);
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	explicit_bzero(b, sizeof(b));
}

/* The deployment secret keys room-name HMACs: 32 random bytes, created at
 * first start with mode 0600 and read back afterwards. */
static int load_secret(const char *path, uint8_t secret[32], char *err, size_t n)
{
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, secret, 32);

		close(fd);
		if (r == 32)
			return 0;
		snprintf(err, n, "%.300s is damaged (want 32 bytes); remove it to make a new one",
			 path);
		return -EINVAL;
	}
	sl_random(secret, 32);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, secret, 32) != 32) {
		snprintf(err, n, "cannot write %.300s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

static void on_dp_up(const struct sl_ctl_info *info)
{
	cp.info = *info;
}

static void on_dp_down(void)
{
	sl_room_drop_all("unavailable", "the media server restarted; please rejoin");
}

/*
 * Events from the dataplane. MEDIA_ALIVE (authenticated media from the
 * nominated tuple) renews consent (transport.c). The media timeout: for a
 * participant we know, consent decides; this is only logged. An endpoint we do not know
 * was left by an earlier control plane (media outlives a control-plane
 * restart, but nobody can renew it now): once it has gone quiet, remove it.
 */
static void on_event(const struct sl_ctl_event *e)
{
	struct sl_participant *p = sl_room_participant(e->ep_id);

	if (e->type == SL_EV_MEDIA_ALIVE && p) {
		sl_transport_media_alive(p);
		return;
	}
	if (e->type == SL_EV_AUDIO_LEVEL) {
		sl_speaker_event(e->ep_id, e->value, e->count);
		return;
	}
	if (e->type != SL_EV_TIMEOUT)
		return;
	if (p) {
		sl_info("participant %s: no media for a while", p->id);
	} else {
		sl_info("removing quiet endpoint %u left by an earlier control plane", e->ep_id);
		sl_dpctl_ep_remove(e->ep_id);
	}
}

/* Counters for the operator: numbers only, nothing about anyone. */
static void log_stats(void)
{
	struct sl_http_stats h;

	sl_http_get_stats(&h);
	sl_info("stats: connections=%u max_connections=%u refused_full=%" PRIu64
		" refused_per_ip=%" PRIu64 " accept_backoff=%" PRIu64 " head_too_large=%" PRIu64
		" bad_host=%" PRIu64 " bad_origin=%" PRIu64 " idle_closed=%" PRIu64
		" message_timeout=%" PRIu64 " send_queue_dropped=%" PRIu64,
		h.conns, h.max_conns, h.refused_full, h.refused_per_ip, h.accept_backoff,
		h.head_too_large, h.bad_host, h.bad_origin, h.idle_closed, h.msg_timeout,
		h.send_queue_dropped);
	sl_info("stats: meetings=%u participants=%u connected=%u joins=%" PRIu64
		" joins_refused=%" PRIu64 " joins_throttled=%" PRIu64 " bad_messages=%" PRIu64
		" stun_ok=%" PRIu64 " stun_dropped=%" PRIu64 " dtls_unvalidated_dropped=%" PRIu64
		" dtls_failed=%" PRIu64,
		cp.n_rooms, cp.n_participants, cp.n_connected, cp.n_joins, cp.n_join_refused,
		cp.n_join_throttled, cp.n_bad_messages, cp.n_stun_ok, cp.n_stun_bad,
		cp.n_dtls_unvalidated, cp.n_dtls_failed);
	sl_info("stats: name_checks=%" PRIu64 " wrong_passwords=%" PRIu64 " bad_tokens=%" PRIu64
		" lobby_waits=%" PRIu64 " password_checks_in_flight=%u chat_messages=%" PRIu64
		" speaker_changes=%" PRIu64 " speaker_stats=%" PRIu64,
		cp.n_check_name, cp.n_password_wrong, cp.n_bad_token, cp.n_lobby_waits,
		sl_password_in_flight(), cp.n_chat, cp.n_speaker_changes, cp.n_speaker_stats);
	sl_info("stats: p2p_messages=%" PRIu64 " p2p_refused=%" PRIu64, cp.n_p2p, cp.n_p2p_refused);
}

static void maybe_log_stats(uint64_t now)
{
	static uint64_t last_ms, last_sum;
	struct sl_http_stats h;
	uint64_t sum;

	sl_http_get_stats(&h);
	sum = cp.n_rooms + cp.n_participants + cp.n_joins + cp.n_join_refused +
	      cp.n_join_throttled + cp.n_connected + cp.n_bad_messages + cp.n_stun_bad +
	      cp.n_check_name + cp.n_password_wrong + cp.n_bad_token + cp.n_lobby_waits +
	      cp.n_chat + cp.n_speaker_changes + cp.n_speaker_stats + cp.n_dtls_unvalidated +
	      cp.n_dtls_failed + h.conns + h.refused_full + h.refused_per_ip + h.accept_backoff +
	      h.head_too_large + h.bad_host + h.bad_origin + h.idle_closed + h.msg_timeout +
	      h.send_queue_dropped;
	sum += cp.n_p2p + cp.n_p2p_refused;

	if (!cp.cfg.stats_s || sl_time_since(now, last_ms) < (uint64_t)cp.cfg.stats_s * 1000)
		return;
	last_ms = now;
	if (sum != last_sum)
		log_stats();
	last_sum = sum;
}

static gboolean tick(gpointer arg)
{
	uint64_t now = sl_now_ms();

	(void)arg;
	sl_transport_tick(now);
	sl_room_tick(now);
	maybe_log_stats(now);
	sl_log_tick();
	return G_SOURCE_CONTINUE;
}

/* systemd's watchdog: pinged from the loop, so a stuck loop is restarted. */
static gboolean watchdog_tick(gpointer arg)
{
	(void)arg;
	sl_notify_watchdog();
	return G_SOURCE_CONTINUE;
}

static gboolean on_signal(gpointer arg)
{
	(void)arg;
	sl_info("shutting down");
	sl_notify_stopping();
	g_main_loop_quit(cp.loop);
	return G_SOURCE_REMOVE;
}

/* SIGUSR1: drain (docs/operators.md, "Drain"), as `sluicectl drain`. */
static gboolean on_usr1(gpointer arg)
{
	(void)arg;
	sl_info("SIGUSR1: drain");
	sl_store_drain(true);
	return G_SOURCE_CONTINUE;
}

static int start(char *err, size_t n)
{
	static const struct sl_dpctl_handlers dh = {
		.pkt_up = sl_transport_pkt_up, .event = on_event, .up = on_dp_up, .down = on_dp_down
	};

	if (mkdir(cp.cfg.state_dir, 0700) && errno != EEXIST) {
		snprintf(err, n, "--state-dir %s: %s", cp.cfg.state_dir, strerror(errno));
		return -errno;
	}
	if (load_secret(cp.cfg.secret_file, cp.secret, err, n))
		return -EINVAL;
	cp.cert = sl_dtls_cert_new(cp.cfg.cert, cp.cfg.key, err, n);
	if (!cp.cert)
		return -EINVAL;
	cp.loop = g_main_loop_new(NULL, FALSE);
	cp.by_ufrag = g_hash_table_new(g_str_hash, g_str_equal);
	cp.by_ep = g_hash_table_new(g_direct_hash, g_direct_equal);
	cp.by_tuple = sl_transport_tuple_table();
	cp.join_by_src = sl_throttle_new(cp.cfg.join_rate, cp.cfg.join_burst, 65536);
	cp.join_by_room = sl_throttle_new(cp.cfg.room_join_rate, cp.cfg.room_join_burst, 65536);
	cp.check_by_src = sl_throttle_new(cp.cfg.check_name_rate, cp.cfg.check_name_burst, 65536);
	cp.pw_guard = sl_password_guard_new(cp.cfg.password_backoff_max_s, 65536);
	cp.pw_checking =
		g_hash_table_new_full(sl_throttle_key_hash, sl_throttle_key_equal, g_free, NULL);
	if (cp.cfg.jwt_key[0] && sl_jwt_key_load(&cp.jwt, &cp.cfg, err, n))
		return -EINVAL;
	/* argon2id takes ~19 MiB and tens of ms per check: a few threads. */
	if (sl_password_init(MIN(MAX(g_get_num_processors() / 2, 1), 4))) {
		snprintf(err, n, "cannot start the password threads");
		return -ENOMEM;
	}
	cp.name_pool = sl_offload_new(1); /* one thread: answers in order */
	if (!cp.name_pool) {
		snprintf(err, n, "cannot start the name-check thread");
		return -ENOMEM;
	}
	sl_random(&cp.next_ep_id, sizeof(cp.next_ep_id));
	if (sl_dpctl_start(cp.cfg.dp_socket, &dh, err, n))
		sl_warn("%s; retrying every 2 s (joins are refused until then)", err);
	if (sl_store_start(&cp.cfg, err, n))
		return -EINVAL;
	sl_ctl_start();
	if (sl_http_start(cp.loop, &cp.cfg, &sl_signal_handlers, err, n))
		return -EADDRINUSE;
	if (sl_metrics_start(&cp.cfg, err, n))
		return -EADDRINUSE;
	g_timeout_add(1000, tick, NULL);
	g_unix_signal_add(SIGINT, on_signal, NULL);
	g_unix_signal_add(SIGTERM, on_signal, NULL);
	g_unix_signal_add(SIGUSR1, on_usr1, NULL);
	return 0;
}

static void stop(void)
{
	sl_room_drop_all("unavailable", "the server is shutting down");
	if (cp.loop)
		sl_http_drain(cp.loop, 1000); /* so every participant reads why */
	sl_http_stop();
	sl_metrics_stop();
	sl_ctl_stop();
	sl_store_stop();
	sl_dpctl_stop();
	if (cp.cert)
		sl_dtls_cert_free(cp.cert);
	if (cp.by_ufrag)
		g_hash_table_destroy(cp.by_ufrag);
	if (cp.by_ep)
		g_hash_table_destroy(cp.by_ep);
	if (cp.by_tuple)
		g_hash_table_destroy(cp.by_tuple);
	sl_password_shutdown(); /* cancels nothing: rooms are gone, their jobs cancelled */
	sl_offload_free(cp.name_pool);
	sl_throttle_free(cp.join_by_src);
	sl_throttle_free(cp.join_by_room);
	sl_throttle_free(cp.check_by_src);
	sl_password_guard_free(cp.pw_guard);
	if (cp.pw_checking)
		g_hash_table_destroy(cp.pw_checking);
	sl_jwt_key_free(&cp.jwt);
	if (cp.loop)
		g_main_loop_unref(cp.loop);
	explicit_bzero(cp.secret, sizeof(cp.secret));
}

/* Every connection costs a descriptor: use all the kernel lets us have
 * (the soft limit is often 1024 while the hard one is far higher). Capped so
 * that per-descriptor tables stay small; http.c fits its caps to the result. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 65536) {
		rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct rlimit no_core = { 0, 0 };
	char err[512];
	uint64_t wd_us;
	int r;

	setrlimit(RLIMIT_CORE, &no_core);
	raise_fd_limit();
	prctl(PR_SET_DUMPABLE, 0);
	r = sl_cp_config_parse(&cp.cfg, argc, argv, err, sizeof(err));
	if (r)
		return r > 0 ? 0 : (fprintf(stderr, "sluice-controlplane: %s\n", err), 2);
	sl_log_level = cp.cfg.log_level;
	if (start(err, sizeof(err))) {
		fprintf(stderr, "sluice-controlplane: %s\n", err);
		stop();
		return 1;
	}
	printf("sluice-controlplane: ready on port %u\n", cp.cfg.port);
	fflush(stdout);
	sl_notify_ready();
	wd_us = sl_notify_watchdog_interval_us();
	if (wd_us) {
		sl_notify_watchdog();
		g_timeout_add(MAX(wd_us / 1000, 1), watchdog_tick, NULL);
	}
	g_main_loop_run(cp.loop);
	log_stats();
	stop();
	sl_log_flush();
	return 0;
}
