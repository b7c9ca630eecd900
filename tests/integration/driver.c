/*
 * driver.c - starts the real dataplane and plays both its network and its
 * control plane for the integration tests.
 *
 * The dataplane runs as a child process with a net_memif server port; this
 * process is the memif client (its own EAL, --no-huge, its own file prefix
 * so runs never collide) and the control socket's client. Clients' SRTP
 * uses libsrtp2's stock types (sl_srtp_init(false)): an implementation
 * independent of the dataplane's OpenSSL-backed ones. Frames received for
 * one endpoint while a test waits for another are kept, so tests can read
 * each subscriber's stream in turn.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "driver.h"

const uint8_t drv_dp_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
const uint8_t drv_my_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
const uint8_t drv_dp_ip4[4] = { 10, 0, 0, 1 };
const uint8_t drv_my_ip4[4] = { 10, 0, 0, 2 };
const uint8_t drv_dp_ip6[16] = { 0xfd, [15] = 1 };
const uint8_t drv_my_ip6[16] = { 0xfd, [15] = 2 };

static pid_t dp_pid;
static int ctl = -1;
static uint32_t seq;
static char dir[64];
static struct rte_mempool *pool;
static uint16_t n_queues = 1; /* one per dataplane worker; we send on queue 0 only */
static uint8_t up_q[64][SL_CTL_MAX_MSG];
static size_t up_len[64];
static unsigned up_head, up_n;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *const *drv_extra_args;

static int spawn(const char *dataplane, unsigned n_workers)
{
	char vdev[160], sock[96], prefix[64], log[96];
	const char *lcores = n_workers == 1 ? "0,1" : "0@0,1@1,2@1";
	const char *argv[64] = { dataplane,  "--vdev",           vdev,      "--ipv4",
				 "10.0.0.1", "--ipv6",           "fd00::1", "--lcores",
				 lcores,     "--huge",           "off",     "--memory",
				 "512",      "--mbufs",          "8191",    "--history-mbufs",
				 "2047",     "--max-streams",    "256",     "--max-subs",
				 "4096",     "--max-endpoints",  "64",      "--history",
				 "128",      "--timeout",        "2",       "--pli-interval",
				 "500",      "--level-interval", "100",     "--file-prefix",
				 prefix,     "--ctl-socket",     sock,      "--log-level",
				 "warning" };
	unsigned n = 0;

	while (argv[n])
		n++;
	for (unsigned i = 0; drv_extra_args && drv_extra_args[i] && n < 63; i++)
		argv[n++] = drv_extra_args[i];

	snprintf(vdev, sizeof(vdev),
		 "net_memif0,role=server,socket=%s/memif.sock,mac=02:00:00:00:00:01", dir);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	snprintf(prefix, sizeof(prefix), "sl-it-dp-%d", getpid());
	snprintf(log, sizeof(log), "%s/dataplane.log", dir);
	dp_pid = fork();
	if (dp_pid < 0)
		return -errno;
	if (dp_pid == 0) {
		/* A test that aborts on a failed assertion takes the dataplane
		 * with it instead of leaving it polling. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (!freopen(log, "w", stdout) || dup2(fileno(stdout), 2) < 0)
			_exit(127);
		execv(dataplane, (char *const *)argv);
		_exit(127);
	}
	return 0;
}

static int wait_ready(void)
{
	char path[96], line[256];
	long end = now_ms() + 20000;

	snprintf(path, sizeof(path), "%s/dataplane.log", dir);
	while (now_ms() < end) {
		FILE *f = fopen(path, "r");
		bool ready = false;

		while (f && fgets(line, sizeof(line), f))
			ready |= strstr(line, "sluice-dataplane: ready") != NULL;
		if (f)
			fclose(f);
		if (ready)
			return 0;
		if (waitpid(dp_pid, NULL, WNOHANG) == dp_pid) {
			dp_pid = 0;
			return -ECHILD;
		}
		usleep(50000);
	}
	return -ETIMEDOUT;
}

static int eal_attach(const char *prog, unsigned n_workers)
{
	char vdev[160], prefix[64];
	char *argv[] = { (char *)prog,
			 "-l",
			 "0",
			 "--no-huge",
			 "-m",
			 "256",
			 "--no-pci",
			 "--no-shconf",
			 "--log-level=3",
			 "--file-prefix",
			 prefix,
			 "--vdev",
			 vdev,
			 NULL };
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_link link = { 0 };

	snprintf(vdev, sizeof(vdev),
		 "net_memif0,role=client,socket=%s/memif.sock,mac=02:00:00:00:00:02", dir);
	snprintf(prefix, sizeof(prefix), "sl-it-drv-%d", getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		return -EIO;
	pool = rte_pktmbuf_pool_create("drv", 8191, 128, 0, 2048 + RTE_PKTMBUF_HEADROOM, 0);
	n_queues = (uint16_t)n_workers;
	if (!pool || rte_eth_dev_configure(0, n_queues, n_queues, &conf) != 0)
		return -EIO;
	for (uint16_t q = 0; q < n_queues; q++)
		if (rte_eth_rx_queue_setup(0, q, 1024, 0, NULL, pool) != 0 ||
		    rte_eth_tx_queue_setup(0, q, 1024, 0, NULL) != 0)
			return -EIO;
	if (rte_eth_dev_start(0) != 0)
		return -EIO;
	for (int i = 0; i < 100 && !link.link_status; i++) {
		rte_eth_link_get_nowait(0, &link);
		usleep(50000);
	}
	return link.link_status ? 0 : -ENOLINK;
}

static int ctl_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ctl.sock", dir);
	ctl = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (ctl < 0 || connect(ctl, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -errno;
	return setsockopt(ctl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/*
 * memif reports link-up before every ring is usable, so a test's first
 * packet could meet a full TX ring. Before any test runs, prove each
 * worker's transmit path: a PKT_DOWN out of every worker's port, retried
 * until it arrives on the wire.
 */
static int probe_paths(unsigned n_workers)
{
	static struct sl_ctl_pkt m;
	static struct drv_frame f;

	for (unsigned w = 0; w < n_workers; w++) {
		bool seen = false;

		for (int tries = 0; tries < 50 && !seen; tries++) {
			memset(&m, 0, sizeof(m));
			m.addr.family = 4;
			memcpy(m.addr.peer_mac, drv_my_mac, 6);
			memcpy(m.addr.remote_ip, drv_my_ip4, 4);
			memcpy(m.addr.local_ip, drv_dp_ip4, 4);
			m.addr.remote_port = htons(9);
			m.addr.local_port = htons((uint16_t)(DRV_BASE_PORT + w));
			m.data_len = 4;
			memcpy(m.data, "ping", 4);
			if (drv_call(&m, SL_CTL_PKT_DOWN, SL_CTL_PKT_FIXED + 4) != 0)
				return -EIO;
			while (!seen && drv_recv(&f, 100) == 0)
				seen = f.ni.kind == SL_NET_UDP && ntohs(f.ni.dst_port) == 9 &&
				       ntohs(f.ni.src_port) == DRV_BASE_PORT + w;
		}
		if (!seen)
			return -ENOLINK;
	}
	drv_drain(50);
	return 0;
}

int drv_pid(void)
{
	return dp_pid;
}

const char *drv_dir(void)
{
	return dir;
}

int drv_ctl_fd(void)
{
	return ctl;
}

int drv_link(bool up)
{
	struct rte_eth_link link = { 0 };

	if (!up)
		return rte_eth_dev_stop(0);
	if (rte_eth_dev_start(0) != 0)
		return -EIO;
	for (int i = 0; i < 200 && !link.link_status; i++) {
		rte_eth_link_get_nowait(0, &link);
		usleep(10000);
	}
	return link.link_status ? probe_paths(n_queues) : -ENOLINK;
}

int drv_start(const char *dataplane, unsigned n_workers, const char *prog)
{
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/sl-it-%d", getpid());
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	if (sl_srtp_init(false) != 0)
		return -ENOMEM;
	rc = spawn(dataplane, n_workers);
	if (rc == 0)
		rc = wait_ready();
	if (rc == 0)
		rc = eal_attach(prog, n_workers);
	if (rc == 0)
		rc = ctl_connect();
	if (rc == 0)
		rc = probe_paths(n_workers);
	if (rc != 0) {
		fprintf(stderr, "driver: start failed (%s); dataplane log in %s\n", strerror(-rc),
			dir);
		drv_stop();
	}
	return rc;
}

void drv_stop(void)
{
	char cmd[96];

	if (ctl >= 0)
		close(ctl);
	ctl = -1;
	if (dp_pid > 0) {
		int st;

		kill(dp_pid, SIGTERM);
		for (int i = 0; i < 100 && waitpid(dp_pid, &st, WNOHANG) == 0; i++)
			usleep(50000);
		if (waitpid(dp_pid, &st, WNOHANG) == 0) {
			kill(dp_pid, SIGKILL);
			waitpid(dp_pid, &st, 0);
		}
		dp_pid = 0;
	}
	if (pool)
		rte_eth_dev_stop(0);
	if (dir[0] && !getenv("SL_KEEP_LOGS")) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "driver: could not remove %s\n", dir);
	}
	/* DPDK leaves each process's runtime directory behind: the dataplane's
	 * (it has exited) and ours (nothing of it is needed from here on). */
	drv_remove_runtime("sl-it-dp", getpid());
	drv_remove_runtime("sl-it-drv", getpid());
}

void drv_remove_runtime(const char *what, int pid)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s-%d", what, pid);
	if (system(cmd) != 0)
		fprintf(stderr, "driver: could not remove /var/run/dpdk/%s-%d\n", what, pid);
}

/* ---- the wire ---- */

int drv_send_raw(const uint8_t *frame, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *p;

	if (!m)
		return -ENOMEM;
	p = rte_pktmbuf_append(m, (uint16_t)len);
	if (!p) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	memcpy(p, frame, len);
	for (int i = 0; i < 1000; i++) {
		if (rte_eth_tx_burst(0, 0, &m, 1) == 1)
			return 0;
		usleep(100);
	}
	rte_pktmbuf_free(m);
	return -EBUSY;
}

static int send_udp(uint8_t family, const uint8_t *src_ip, uint16_t port, unsigned worker,
		    const uint8_t *payload, size_t len)
{
	uint8_t frame[2048];
	struct sl_net_flow f = { .family = family };
	size_t h;

	memcpy(f.src_mac, drv_my_mac, 6);
	memcpy(f.dst_mac, drv_dp_mac, 6);
	memcpy(f.src_ip, src_ip, family == 4 ? 4 : 16);
	memcpy(f.dst_ip, family == 4 ? drv_dp_ip4 : drv_dp_ip6, family == 4 ? 4 : 16);
	f.src_port = htons(port);
	f.dst_port = htons((uint16_t)(DRV_BASE_PORT + worker));
	h = sl_net_hdr_len(&f);
	if (h + len > sizeof(frame))
		return -EMSGSIZE;
	memcpy(frame + h, payload, len);
	sl_net_write_udp(frame, &f, len, true);
	return drv_send_raw(frame, h + len);
}

int drv_send_udp(uint8_t family, uint16_t client_port, unsigned worker, const uint8_t *payload,
		 size_t len)
{
	return send_udp(family, family == 4 ? drv_my_ip4 : drv_my_ip6, client_port, worker, payload,
			len);
}

int drv_send_udp_from(const uint8_t *src_ip4, uint16_t client_port, unsigned worker,
		      const uint8_t *payload, size_t len)
{
	return send_udp(4, src_ip4, client_port, worker, payload, len);
}

/* Parse a frame from the dataplane as seen by whatever address it is for. */
static void parse(struct drv_frame *f)
{
	struct sl_net_local l = { .has_ip4 = true, .has_ip6 = true };

	memcpy(l.mac, f->data, 6);
	if (f->len >= 34 && f->data[12] == 0x08 && f->data[13] == 0x00)
		memcpy(l.ip4, f->data + 30, 4);
	if (f->len >= 54 && f->data[12] == 0x86 && f->data[13] == 0xdd)
		memcpy(l.ip6, f->data + 38, 16);
	if (sl_net_parse(f->data, f->len, &l, 0, &f->ni) != SL_NET_OK)
		memset(&f->ni, 0, sizeof(f->ni));
	f->payload = f->data + f->ni.payload_off;
}

int drv_recv(struct drv_frame *f, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	struct rte_mbuf *m;

	static uint16_t q;

	do {
		q = (uint16_t)((q + 1) % n_queues);
		if (rte_eth_rx_burst(0, q, &m, 1) == 1) {
			f->len = (uint16_t)RTE_MIN(rte_pktmbuf_data_len(m), sizeof(f->data));
			memcpy(f->data, rte_pktmbuf_mtod(m, void *), f->len);
			rte_pktmbuf_free(m);
			parse(f);
			return 0;
		}
		usleep(50);
	} while (now_ms() < end);
	return -ETIMEDOUT;
}

unsigned drv_drain(int timeout_ms)
{
	static struct drv_frame f;
	unsigned n = 0;

	while (drv_recv(&f, timeout_ms) == 0)
		n++;
	return n;
}

/* ---- the control socket ---- */

int drv_send_raw_ctl(const void *msg, size_t len)
{
	return send(ctl, msg, len, 0) == (ssize_t)len ? 0 : -errno;
}

static void keep_up(const uint8_t *buf, size_t n)
{
	unsigned slot = (up_head + up_n) % 64;

	if (up_n == 64)
		return;
	memcpy(up_q[slot], buf, n);
	up_len[slot] = n;
	up_n++;
}

int drv_call_answer(void *msg, uint16_t type, size_t len, void *ans, size_t ans_len)
{
	static uint8_t buf[SL_CTL_MAX_MSG];
	uint32_t s = ++seq;

	sl_ctl_hdr_init(msg, type, (uint32_t)len, s);
	if (drv_send_raw_ctl(msg, len) != 0)
		return -EIO;
	for (;;) {
		ssize_t n = recv(ctl, buf, sizeof(buf), 0);
		struct sl_ctl_hdr h;

		if (n < (ssize_t)sizeof(h))
			return -ETIMEDOUT;
		memcpy(&h, buf, sizeof(h));
		if (h.seq != s || (h.type != SL_CTL_REPLY && !ans)) {
			keep_up(buf, (size_t)n);
			continue;
		}
		if (h.type == SL_CTL_REPLY) {
			struct sl_ctl_reply r;

			memcpy(&r, buf, sizeof(r));
			return r.status;
		}
		memcpy(ans, buf, RTE_MIN((size_t)n, ans_len));
		return 0;
	}
}

int drv_call(void *msg, uint16_t type, size_t len)
{
	return drv_call_answer(msg, type, len, NULL, 0);
}

int drv_next_up(void *buf, size_t cap, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	uint8_t tmp[SL_CTL_MAX_MSG];

	while (up_n == 0) {
		ssize_t n = recv(ctl, tmp, sizeof(tmp), MSG_DONTWAIT);

		if (n > 0) {
			keep_up(tmp, (size_t)n);
			break;
		}
		if (now_ms() >= end)
			return -ETIMEDOUT;
		usleep(1000);
	}
	memcpy(buf, up_q[up_head], RTE_MIN(up_len[up_head], cap));
	up_head = (up_head + 1) % 64;
	up_n--;
	return 0;
}

uint64_t drv_counter(enum sl_counter c)
{
	static struct sl_ctl_counters m;
	struct sl_ctl_hdr h;

	memset(&h, 0, sizeof(h));
	if (drv_call_answer(&h, SL_CTL_COUNTERS_GET, sizeof(h), &m, sizeof(m)) != 0)
		return UINT64_MAX;
	return m.value[c];
}
