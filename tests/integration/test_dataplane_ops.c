/*
 * test_dataplane_ops.c - the dataplane under operational stress: a STUN
 * flood on the media port, a control plane that stops reading, SIGUSR1,
 * the control socket's permissions and peers, addresses nothing may be
 * sent to, and the memif peer going away mid-traffic.
 *
 * usage: test_dataplane_ops PATH-TO-sluice-dataplane
 *
 * One worker, driven over net_memif and the control socket (driver.c).
 * SL_OPS_DISCONNECTS=N runs the disconnect scenario N times (default 5);
 * SL_OPS_ONLY=NAME runs only the tests matching NAME.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "driver.h"

#define WAIT 1000

static const char *dp_path;
static struct drv_ep mk_ep(uint64_t room, uint8_t level_ext)
{
	struct drv_ep e = { .room = room,
			    .family = 4,
			    .profile = SL_SRTP_AEAD_AES_128_GCM,
			    .level_ext = level_ext };

	assert_int_equal(drv_ep_new(&e), 0);
	return e;
}

/* Read and drop whatever the control socket holds. */
static void ctl_drain(void)
{
	static uint8_t buf[SL_CTL_MAX_MSG];

	while (drv_next_up(buf, sizeof(buf), 100) == 0)
		;
}

static size_t stun_request(uint8_t *b, uint32_t tag)
{
	static const uint8_t hdr[8] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };

	memcpy(b, hdr, 8);
	memset(b + 8, 0, 12);
	memcpy(b + 8, &tag, 4);
	return 20;
}

/* ---- item: STUN flood from unknown tuples vs. an endpoint's checks ---- */

static void stun_flood_keeps_endpoint_checks(void **state)
{
	static uint8_t msg[SL_CTL_MAX_MSG];
	struct drv_ep e = mk_ep(700, 0);
	uint64_t rl0 = drv_counter(SL_CNT_drop_up_ratelimit);
	unsigned sent_checks = 0, got_checks = 0, flood = 0, flood_up = 0;
	long end, next_check;
	uint8_t stun[20];

	(void)state;
	ctl_drain();
	end = drv_now_ms() + 4000;
	next_check = drv_now_ms();
	while (drv_now_ms() < end) {
		/* As fast as the driver can: unknown tuples, 256 addresses, many ports. */
		for (int i = 0; i < 64; i++, flood++) {
			uint8_t src[4] = { 10, 1, (uint8_t)(flood >> 8), (uint8_t)flood };

			stun_request(stun, 0xf1000000u + flood);
			drv_send_udp_from(src, (uint16_t)(20000 + flood % 5000), 0, stun,
					  sizeof(stun));
		}
		if (drv_now_ms() >= next_check) { /* a consent check every 50 ms */
			int rc, tries = 0;

			/* The flood may fill the link's ring (a slow, e.g. sanitized,
			 * build): the check waits its turn to be sent, as on a wire. */
			stun_request(stun, 0xc0000000u + sent_checks);
			while ((rc = drv_send_udp(4, e.port, 0, stun, sizeof(stun))) == -EBUSY &&
			       ++tries < 50)
				;
			assert_int_equal(rc, 0);
			sent_checks++;
			next_check += 50;
		}
		while (drv_next_up(msg, sizeof(msg), 0) == 0) {
			struct sl_ctl_pkt *p = (struct sl_ctl_pkt *)msg;

			if (p->h.type != SL_CTL_PKT_UP)
				continue;
			if (ntohs(p->addr.remote_port) == e.port &&
			    !memcmp(p->addr.remote_ip, drv_my_ip4, 4))
				got_checks++;
			else
				flood_up++;
		}
	}
	end = drv_now_ms() + 1000;
	while (drv_now_ms() < end) {
		struct sl_ctl_pkt *p = (struct sl_ctl_pkt *)msg;

		if (drv_next_up(msg, sizeof(msg), 50) != 0)
			continue;
		if (p->h.type == SL_CTL_PKT_UP && ntohs(p->addr.remote_port) == e.port)
			got_checks++;
		else if (p->h.type == SL_CTL_PKT_UP)
			flood_up++;
	}
	printf("stun flood: %u flood packets sent, %u went up; endpoint checks %u/%u = %.1f%%\n",
	       flood, flood_up, got_checks, sent_checks, 100.0 * got_checks / sent_checks);
	assert_true(sent_checks >= 40);
	assert_true(got_checks * 100 >= sent_checks * 95);
	assert_true(drv_counter(SL_CNT_drop_up_ratelimit) > rl0);
	drv_ep_done(&e);
	ctl_drain();
}

/* ---- a control plane that stops reading loses no reply ---- */

static void replies_kept_when_not_reading(void **state)
{
	enum { N = 4000, SEQ0 = 0x40000000 };
	static uint8_t seen[N], buf[SL_CTL_MAX_MSG];
	struct drv_ep pub = mk_ep(710, 3), other = mk_ep(710, 0);
	int fd = drv_ctl_fd();
	unsigned sent = 0, replies = 0, events = 0, dup = 0, bad = 0, busy = 0;
	long end = drv_now_ms() + 30000;
	uint16_t rtp_seq = 0;

	(void)state;
	memset(seen, 0, sizeof(seen));
	while ((sent < N || replies < N) && drv_now_ms() < end) {
		ssize_t n;

		/* Ask without reading until the socket refuses more. */
		while (sent < N) {
			struct sl_ctl_mute m = { .ep_id = other.id,
						 .kind = SL_MEDIA_AUDIO,
						 .muted = (uint8_t)(sent & 1) };

			sl_ctl_hdr_init(&m.h, SL_CTL_MUTE, sizeof(m), SEQ0 + sent);
			if (send(fd, &m, sizeof(m), MSG_DONTWAIT) != (ssize_t)sizeof(m))
				break;
			sent++;
		}
		/* Meanwhile events are produced: audio levels of pub. */
		for (int k = 0; k < 5; k++) {
			uint8_t pkt[256];
			size_t len = drv_rtp(pkt, 0x7100, rtp_seq, 960u * rtp_seq, 40, 3, 30);

			rtp_seq++;
			drv_ep_send(&pub, pkt, len, false);
			usleep(60000);
		}
		/* Then read everything there is. */
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			struct sl_ctl_reply r;

			memcpy(&r, buf, sizeof(r.h));
			if (r.h.type == SL_CTL_EVENT)
				events++;
			if (r.h.type != SL_CTL_REPLY || r.h.seq < SEQ0)
				continue;
			memcpy(&r, buf, sizeof(r));
			if (r.h.seq - SEQ0 >= N || r.req_type != SL_CTL_MUTE ||
			    (r.status != 0 && r.status != -EBUSY)) {
				bad++;
				continue;
			}
			busy += r.status ==
				-EBUSY; /* the worker's command ring was full: an answer */
			dup += seen[r.h.seq - SEQ0]++ != 0;
			replies++;
		}
	}
	printf("not reading: %u requests, %u replies (%u -EBUSY), %u events, %u duplicates, %u "
	       "bad\n",
	       sent, replies, busy, events, dup, bad);
	assert_int_equal(sent, N);
	assert_int_equal(bad, 0);
	assert_int_equal(dup, 0);
	assert_int_equal(replies, N);
	assert_true(events > 0);
	drv_ep_done(&other);
	drv_ep_done(&pub);
	ctl_drain();
}

/* ---- SIGUSR1 prints the counters and the dataplane carries on ---- */

static unsigned count_lines(const char *path, const char *needle)
{
	char line[8192];
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

static void sigusr1_prints_counters(void **state)
{
	char log[128];
	struct sl_ctl_hdr h;
	struct sl_ctl_info info;
	unsigned before;

	(void)state;
	snprintf(log, sizeof(log), "%s/dataplane.log", drv_dir());
	before = count_lines(log, "counters: rx_packets=");
	assert_int_equal(kill(drv_pid(), SIGUSR1), 0);
	for (int i = 0; i < 40 && count_lines(log, "counters: rx_packets=") == before; i++)
		usleep(50000);
	assert_int_equal(count_lines(log, "counters: rx_packets="), before + 1);
	assert_int_equal(waitpid(drv_pid(), NULL, WNOHANG), 0); /* still running */
	memset(&h, 0, sizeof(h));
	assert_int_equal(drv_call_answer(&h, SL_CTL_HELLO, sizeof(h), &info, sizeof(info)), 0);
}

/* ---- addresses nothing may be sent to ---- */

static void pkt_down_to(const struct sl_ctl_addr *a, int want)
{
	static struct sl_ctl_pkt m;

	memset(&m, 0, sizeof(m));
	m.addr = *a;
	m.data_len = 4;
	memcpy(m.data, "abcd", 4);
	assert_int_equal(drv_call(&m, SL_CTL_PKT_DOWN, SL_CTL_PKT_FIXED + 4), want);
}

static void unsendable_addresses_refused(void **state)
{
	static const uint8_t macs[][6] = {
		{ 0, 0, 0, 0, 0, 0 },          { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x01, 0x00, 0x5e, 0, 0, 1 }, { 0x33, 0x33, 0, 0, 0, 1 },
		{ 0x02, 0, 0, 0, 0, 0x01 }, /* the dataplane's own */
	};
	static const uint8_t ip4s[][4] = {
		{ 0, 0, 0, 0 },   { 127, 0, 0, 1 },       { 224, 0, 0, 1 },
		{ 239, 1, 2, 3 }, { 255, 255, 255, 255 }, { 10, 0, 0, 1 }, /* ours */
	};
	static const uint8_t ip6s[][16] = {
		{ 0 },
		{ [15] = 1 },
		{ 0xff, 0x02, [15] = 1 },
		{ [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 },
		{ [10] = 0xff, [11] = 0xff, 224, 0, 0, 9 },
		{ [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 },          /* ours, v4-mapped */
		{ 0xfd, [15] = 1 },                                 /* ours */
		{ 0xfe, 0x80, [11] = 0xff, [12] = 0xfe, [15] = 1 }, /* our link-local */
	};
	struct sl_ctl_addr good = { .family = 4 }, a;
	struct drv_ep e = {
		.id = 7200, .room = 720, .family = 4, .profile = SL_SRTP_AEAD_AES_128_GCM
	};

	(void)state;
	memcpy(good.peer_mac, drv_my_mac, 6);
	memcpy(good.remote_ip, drv_my_ip4, 4);
	memcpy(good.local_ip, drv_dp_ip4, 4);
	good.remote_port = htons(9);
	good.local_port = htons(DRV_BASE_PORT);
	pkt_down_to(&good, 0);
	drv_drain(100);
	for (size_t i = 0; i < sizeof(macs) / sizeof(macs[0]); i++) {
		a = good;
		memcpy(a.peer_mac, macs[i], 6);
		pkt_down_to(&a, -EINVAL);
	}
	for (size_t i = 0; i < sizeof(ip4s) / sizeof(ip4s[0]); i++) {
		a = good;
		memcpy(a.remote_ip, ip4s[i], 4);
		pkt_down_to(&a, -EINVAL);
	}
	for (size_t i = 0; i < sizeof(ip6s) / sizeof(ip6s[0]); i++) {
		a = good;
		a.family = 6;
		memcpy(a.remote_ip, ip6s[i], 16);
		memcpy(a.local_ip, drv_dp_ip6, 16);
		pkt_down_to(&a, -EINVAL);
	}
	/* Nothing of that reached the wire. */
	assert_int_equal(drv_drain(200), 0);
	/* An endpoint at such an address is refused too (the driver adds 10.0.0.2 /
	 * fd00::2; make it the dataplane's own by sending from there is not
	 * possible, so check the message path with a loopback remote directly). */
	{
		struct sl_ctl_ep m;

		memset(&m, 0, sizeof(m));
		m.ep_id = e.id;
		m.room_id = e.room;
		m.profile = e.profile;
		m.addr = good;
		memcpy(m.addr.remote_ip, (uint8_t[]){ 127, 0, 0, 1 }, 4);
		memset(m.rx.key, 1, 16);
		memset(m.rx.salt, 2, 12);
		memset(m.tx.key, 3, 16);
		memset(m.tx.salt, 4, 12);
		assert_int_equal(drv_call(&m, SL_CTL_EP_ADD, sizeof(m)), -EINVAL);
		memset(&m, 0, sizeof(m));
		m.ep_id = e.id;
		m.room_id = e.room;
		m.profile = e.profile;
		m.addr = good;
		memcpy(m.addr.remote_ip, drv_dp_ip4, 4); /* ourselves */
		memset(m.rx.key, 1, 16);
		memset(m.rx.salt, 2, 12);
		memset(m.tx.key, 3, 16);
		memset(m.tx.salt, 4, 12);
		assert_int_equal(drv_call(&m, SL_CTL_EP_ADD, sizeof(m)), -EINVAL);
	}
	/* And a proper one still works. */
	assert_int_equal(drv_ep_new(&e), 0);
	drv_ep_done(&e);
}

/* ---- the control socket: mode, group, peers ---- */

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 2 };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* 1: the dataplane answered HELLO on this connection; 0: it closed it. */
static int hello(int fd)
{
	struct sl_ctl_hdr h;
	uint8_t buf[SL_CTL_MAX_MSG];
	ssize_t n;

	sl_ctl_hdr_init(&h, SL_CTL_HELLO, sizeof(h), 77);
	if (send(fd, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h))
		return 0;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return 0;
	memcpy(&h, buf, sizeof(h));
	return h.type == SL_CTL_INFO && h.seq == 77;
}

/* In a child with these credentials: connect and say HELLO; exit status = answered. */
static int hello_as(const char *path, uid_t uid, gid_t gid, const gid_t *groups, size_t n)
{
	int st;
	pid_t p = fork();

	if (p == 0) {
		int fd;

		if (setgroups(n, groups) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
			_exit(99);
		fd = connect_to(path);
		_exit(fd < 0 ? 98 : hello(fd));
	}
	if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void ctl_socket_mode_group_peers(void **state)
{
	char dir[64], sock[96], memif[96], log[96], prefix[64], vdev[160], line[256];
	struct group *g = getgrnam("nogroup");
	gid_t ng, other = 54321;
	struct stat st;
	bool ready = false;
	pid_t p;
	int a, b;

	(void)state;
	assert_non_null(g);
	ng = g->gr_gid;
	/* The test's own dataplane: root:root, 0660, a socket. */
	snprintf(sock, sizeof(sock), "%s/ctl.sock", drv_dir());
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_uid, 0);

	/* A second one with --ctl-group. */
	snprintf(dir, sizeof(dir), "/tmp/sl-it-ops-%d", getpid());
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	snprintf(memif, sizeof(memif), "%s/memif.sock", dir);
	snprintf(log, sizeof(log), "%s/dataplane.log", dir);
	snprintf(prefix, sizeof(prefix), "sl-it-ops-%d", getpid());
	snprintf(vdev, sizeof(vdev), "net_memif0,role=server,socket=%s,mac=02:00:00:00:00:01",
		 memif);
	p = fork();
	if (p == 0) {
		if (!freopen(log, "w", stdout) || dup2(fileno(stdout), 2) < 0)
			_exit(127);
		execl(dp_path, dp_path, "--vdev", vdev, "--ipv4", "10.0.0.1", "--lcores", "0,1",
		      "--huge", "off", "--memory", "256", "--mbufs", "2047", "--history-mbufs",
		      "255", "--max-endpoints", "4", "--max-streams", "8", "--max-subs", "8",
		      "--history", "16", "--file-prefix", prefix, "--ctl-socket", sock,
		      "--ctl-group", "nogroup", "--log-level", "warning", (char *)NULL);
		_exit(127);
	}
	assert_true(p > 0);
	for (int i = 0; i < 300 && !ready; i++) {
		FILE *f = fopen(log, "r");

		while (f && fgets(line, sizeof(line), f))
			ready |= strstr(line, "sluice-dataplane: ready") != NULL;
		if (f)
			fclose(f);
		if (!ready)
			usleep(50000);
	}
	assert_true(ready);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, ng);

	/* Root is served; a second connection while one is served is refused. */
	a = connect_to(sock);
	assert_true(a >= 0);
	assert_int_equal(hello(a), 1);
	b = connect_to(sock);
	assert_true(b >= 0);
	assert_int_equal(hello(b), 0);
	close(b);
	close(a);
	usleep(100000);

	/* Let anyone reach the file, so that only SO_PEERCRED decides. */
	assert_int_equal(chmod(sock, 0666), 0);
	assert_int_equal(hello_as(sock, 65534, other, NULL, 0), 0); /* nobody, no group */
	usleep(50000);
	assert_int_equal(hello_as(sock, 65534, ng, NULL, 0), 1); /* primary group */
	usleep(100000);
	assert_int_equal(hello_as(sock, 65534, other, &ng, 1), 1); /* supplementary */
	usleep(100000);
	a = connect_to(sock);
	assert_int_equal(hello(a), 1); /* root again */
	close(a);

	kill(p, SIGTERM);
	assert_int_equal(waitpid(p, NULL, 0), p);
	assert_int_equal(lstat(sock, &st), -1); /* removed */
	drv_remove_runtime("sl-it-ops", getpid());
	if (!getenv("SL_KEEP_LOGS")) {
		unlink(log);
		unlink(memif);
		rmdir(dir);
	}
}

/* ---- the memif peer going away mid-traffic ---- */

static void memif_peer_disconnects(void **state)
{
	const char *env = getenv("SL_OPS_DISCONNECTS");
	int rounds = env ? atoi(env) : 5, survived = 0, st = 0;
	struct drv_ep pub = mk_ep(730, 0);
	struct drv_ep subs[3] = { mk_ep(730, 0), mk_ep(730, 0), mk_ep(730, 0) };
	uint16_t seq = 0;
	uint8_t pkt[2048], got[2048];

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(drv_subscribe(&subs[i], &pub, 0x7300, 0x7310 + (uint32_t)i,
					       SL_MEDIA_AUDIO, false),
				 0);
	for (int r = 0; r < rounds; r++) {
		size_t len;
		int n = -1;

		/* Traffic in flight both ways, then our end goes away. */
		for (int k = 0; k < 200; k++, seq++) {
			len = drv_rtp(pkt, 0x7300, seq, 960u * seq, 1000, 0, 0);
			drv_ep_send(&pub, pkt, len, false);
		}
		assert_int_equal(drv_link(false), 0);
		usleep((useconds_t)(20000 + (r % 5) * 20000));
		if (waitpid(drv_pid(), &st, WNOHANG) != 0)
			fail_msg("round %d: the dataplane died while the peer was away (status %d, "
				 "signal %d)",
				 r, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
				 WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		assert_int_equal(drv_link(true), 0);
		drv_flush();
		drv_drain(20);
		/* Media flows again. */
		for (int tries = 0; tries < 5 && n < 0; tries++, seq++) {
			len = drv_rtp(pkt, 0x7300, seq, 960u * seq, 100, 0, 0);
			drv_ep_send(&pub, pkt, len, false);
			n = drv_ep_recv(&subs[0], got, 300, NULL);
		}
		if (n <= 0)
			fail_msg("round %d: no media after reconnecting", r);
		survived++;
	}
	printf("memif disconnects: %d/%d rounds survived\n", survived, rounds);
	drv_flush();
	for (int i = 0; i < 3; i++)
		drv_ep_done(&subs[i]);
	drv_ep_done(&pub);
	ctl_drain();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sigusr1_prints_counters),
		cmocka_unit_test(unsendable_addresses_refused),
		cmocka_unit_test(ctl_socket_mode_group_peers),
		cmocka_unit_test(stun_flood_keeps_endpoint_checks),
		cmocka_unit_test(replies_kept_when_not_reading),
		cmocka_unit_test(memif_peer_disconnects),
	};
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-sluice-dataplane\n", argv[0]);
		return 2;
	}
	dp_path = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("SL_OPS_ONLY")) /* e.g. memif_peer_disconnects */
		cmocka_set_test_filter(getenv("SL_OPS_ONLY"));
	if (drv_start(dp_path, 1, argv[0]) != 0)
		return 1;
	rc = cmocka_run_group_tests_name("dataplane operations", tests, NULL, NULL);
	drv_stop();
	return rc;
}
