/*
 * config.c - the dataplane's configuration: flags, config file, EAL args.
 *
 * One table lists every option with its parser and help text, so the
 * command line, the config file (`name = value` lines) and --help can never
 * disagree. Every value is checked here, before DPDK is touched, and a bad
 * one is reported with the option's name. The EAL's own arguments are built
 * from the result (lcores, devices, memory), so an operator never needs to
 * know EAL syntax; anything after `--` is passed to the EAL unchanged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include <sluice/conf.h>

#include "dp.h"

#define SL_ERR(err, len, ...) (snprintf((err), (len), __VA_ARGS__), -EINVAL)

struct opt {
	const char *name;
	const char *arg; /* NULL: flag without value */
	const char *help;
	int (*set)(struct sl_dp_config *c, const char *name, const char *v, char *err, size_t len);
	size_t off; /* for the integer setters */
	unsigned long min, max;
};

static int set_u32(struct sl_dp_config *c, const struct opt *o, const char *v, char *err,
		   size_t len)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || x < o->min || x > o->max)
		return SL_ERR(err, len, "%s: '%s' is not a number from %lu to %lu", o->name, v,
			      o->min, o->max);
	*(uint32_t *)((char *)c + o->off) = (uint32_t)x;
	return 0;
}

static int set_vdev(struct sl_dp_config *c, const char *n, const char *v, char *err, size_t len)
{
	if (c->n_vdev == SL_MAX_VDEVS)
		return SL_ERR(err, len, "%s: at most %d devices", n, SL_MAX_VDEVS);
	if (!*v || strchr(v, ' ') || strlen(v) >= sizeof(c->vdev[0]))
		return SL_ERR(err, len, "%s: '%s' is not a device spec", n, v);
	strcpy(c->vdev[c->n_vdev++], v);
	return 0;
}

static int set_pci(struct sl_dp_config *c, const char *n, const char *v, char *err, size_t len)
{
	if (c->n_pci == SL_MAX_VDEVS)
		return SL_ERR(err, len, "%s: at most %d devices", n, SL_MAX_VDEVS);
	if (!*v || strchr(v, ' ') || strlen(v) >= sizeof(c->pci[0]))
		return SL_ERR(err, len, "%s: '%s' is not a PCI address", n, v);
	strcpy(c->pci[c->n_pci++], v);
	return 0;
}

static char lcores_arg[256];

/* "0,1,2" or "0@0,1@1,2@1" (lcore@cpu): first is main, the rest workers. */
static int set_lcores(struct sl_dp_config *c, const char *n, const char *v, char *err, size_t len)
{
	char buf[256], *save = NULL, *tok;

	if (strlen(v) >= sizeof(buf))
		return SL_ERR(err, len, "%s: too long", n);
	strcpy(buf, v);
	c->n_lcores = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long id = strtoul(tok, &end, 10);

		if (end == tok || (*end && *end != '@') || id >= RTE_MAX_LCORE)
			return SL_ERR(err, len, "%s: '%s' is not an lcore (0-%d, optionally @cpu)",
				      n, tok, RTE_MAX_LCORE - 1);
		if (c->n_lcores == SL_MAX_WORKERS + 1)
			return SL_ERR(err, len, "%s: at most %d workers", n, SL_MAX_WORKERS);
		for (unsigned i = 0; i < c->n_lcores; i++)
			if (c->lcore[i] == id)
				return SL_ERR(err, len, "%s: lcore %lu named twice", n, id);
		c->lcore[c->n_lcores++] = (unsigned)id;
	}
	if (c->n_lcores < 2)
		return SL_ERR(err, len, "%s: need a main lcore and at least one worker, e.g. 0,1",
			      n);
	snprintf(lcores_arg, sizeof(lcores_arg), "%s", v);
	return 0;
}

static int set_ipv4(struct sl_dp_config *c, const char *n, const char *v, char *err, size_t len)
{
	if (inet_pton(AF_INET, v, c->local.ip4) != 1 || c->local.ip4[0] == 0 ||
	    c->local.ip4[0] >= 224 || c->local.ip4[0] == 127)
		return SL_ERR(err, len, "%s: '%s' is not a unicast IPv4 address", n, v);
	c->local.has_ip4 = true;
	return 0;
}

static int set_ipv6(struct sl_dp_config *c, const char *n, const char *v, char *err, size_t len)
{
	static const uint8_t zero[16], loop[16] = { [15] = 1 };

	if (inet_pton(AF_INET6, v, c->local.ip6) != 1 || c->local.ip6[0] == 0xff ||
	    !memcmp(c->local.ip6, zero, 16) || !memcmp(c->local.ip6, loop, 16))
		return SL_ERR(err, len, "%s: '%s' is not a unicast IPv6 address", n, v);
	c->local.has_ip6 = true;
	return 0;
}

static int set_mac(struct sl_dp_config *c, const char *n, const char *v, char *err, size_t len)
{
	unsigned b[6];
	char tail;

	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6 ||
	    strlen(v) != 17 || (b[0] & 1))
		return SL_ERR(err, len, "%s: '%s' is not a unicast MAC (aa:bb:cc:dd:ee:ff)", n, v);
	for (int i = 0; i < 6; i++)
		c->local.mac[i] = (uint8_t)b[i];
	c->has_mac = true;
	return 0;
}

static int set_path(struct sl_dp_config *c, const char *n, const char *v, char *err, size_t len)
{
	if (!*v || strlen(v) >= sizeof(c->ctl_path))
		return SL_ERR(err, len, "%s: path must be 1-%zu characters", n,
			      sizeof(c->ctl_path) - 1);
	strcpy(c->ctl_path, v);
	return 0;
}

/* The group that may use the control socket (resolved now, before DPDK). */
static int set_group(struct sl_dp_config *c, const char *n, const char *v, char *err, size_t len)
{
	struct group *g;
	char *end;
	unsigned long id;

	if (!*v)
		return SL_ERR(err, len, "%s: needs a group name or number", n);
	g = getgrnam(v);
	if (g) {
		c->ctl_gid = g->gr_gid;
	} else {
		errno = 0;
		id = strtoul(v, &end, 10);
		if (errno || *end || v[0] == '-' || id >= UINT32_MAX)
			return SL_ERR(err, len, "%s: no group '%s'", n, v);
		c->ctl_gid = (gid_t)id;
	}
	c->has_ctl_group = true;
	return 0;
}

static int set_prefix(struct sl_dp_config *c, const char *n, const char *v, char *err, size_t len)
{
	if (!*v || strlen(v) >= sizeof(c->file_prefix) || strpbrk(v, "/ "))
		return SL_ERR(err, len, "%s: '%s' is not a short name without '/' or spaces", n, v);
	strcpy(c->file_prefix, v);
	return 0;
}

static int set_huge(struct sl_dp_config *c, const char *n, const char *v, char *err, size_t len)
{
	if (!strcmp(v, "auto"))
		c->huge = SL_HUGE_AUTO;
	else if (!strcmp(v, "on"))
		c->huge = SL_HUGE_ON;
	else if (!strcmp(v, "off"))
		c->huge = SL_HUGE_OFF;
	else
		return SL_ERR(err, len, "%s: '%s' is not auto, on or off", n, v);
	return 0;
}

static int set_log(struct sl_dp_config *c, const char *n, const char *v, char *err, size_t len)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "error", RTE_LOG_ERR },
		{ "warning", RTE_LOG_WARNING },
		{ "info", RTE_LOG_INFO },
		{ "debug", RTE_LOG_DEBUG },
	};

	for (size_t i = 0; i < RTE_DIM(levels); i++) {
		if (!strcmp(v, levels[i].name)) {
			c->log_level = levels[i].level;
			return 0;
		}
	}
	return SL_ERR(err, len, "%s: '%s' is not error, warning, info or debug", n, v);
}

#define U32(field) .off = offsetof(struct sl_dp_config, field)

static const struct opt opts[] = {
	{ "vdev", "SPEC",
	  "virtual device, e.g. net_memif0,role=server,socket=/tmp/dp.sock (repeatable)", set_vdev,
	  0, 0, 0 },
	{ "pci", "BDF", "PCI device to use (repeatable); without any, EAL gets --no-pci", set_pci,
	  0, 0, 0 },
	{ "port-id", "N", "DPDK port to serve (default 0)", NULL, U32(port_id), 0,
	  RTE_MAX_ETHPORTS - 1 },
	{ "lcores", "LIST", "main lcore then workers, e.g. 0,1 or 0@0,1@1,2@1 (default 0,1)",
	  set_lcores, 0, 0, 0 },
	{ "ipv4", "ADDR", "our IPv4 address", set_ipv4, 0, 0, 0 },
	{ "ipv6", "ADDR", "our IPv6 address (at least one of --ipv4/--ipv6)", set_ipv6, 0, 0, 0 },
	{ "mac", "MAC", "set the port's MAC address", set_mac, 0, 0, 0 },
	{ "base-port", "N", "worker w serves UDP port N+w (default 10000)", NULL, U32(base_port),
	  1024, 65000 },
	{ "mtu", "N", "IP MTU: larger packets are dropped (default 1500)", NULL, U32(mtu), 576,
	  9000 },
	{ "ctl-socket", "PATH", "control socket (default " SL_CTL_DEFAULT_PATH ")", set_path, 0, 0,
	  0 },
	{ "ctl-group", "NAME",
	  "group owning the control socket (mode 0660); its members may connect (default: root "
	  "only)",
	  set_group, 0, 0, 0 },
	{ "mbufs", "N", "packet buffers (default 32767)", NULL, U32(mbufs), 1023, 16u << 20 },
	{ "history-mbufs", "N",
	  "NACK history buffers per worker, shared fairly by its video streams (default 16383)",
	  NULL, U32(history_mbufs), 255, 16u << 20 },
	{ "max-endpoints", "N", "endpoints per worker; the total is N x workers (default 1024)",
	  NULL, U32(max_endpoints), 2, 1u << 20 },
	{ "max-streams", "N", "publisher streams per worker (default 4096)", NULL, U32(max_streams),
	  2, 1u << 22 },
	{ "max-subs", "N", "subscriptions per worker (default 16384)", NULL, U32(max_subs), 2,
	  1u << 24 },
	{ "history", "N", "packets kept per video stream for NACK, power of two (default 512)",
	  NULL, U32(history), 0, 32768 },
	{ "rx-desc", "N", "RX descriptors per queue (default 1024)", NULL, U32(rx_desc), 32,
	  16384 },
	{ "tx-desc", "N", "TX descriptors per queue (default 1024)", NULL, U32(tx_desc), 32,
	  16384 },
	{ "huge", "MODE", "hugepages: auto, on or off (default auto)", set_huge, 0, 0, 0 },
	{ "memory", "MB", "memory for --huge off runs (default 1024)", NULL, U32(memory_mb), 64,
	  1u << 20 },
	{ "file-prefix", "NAME", "EAL file prefix (default sluice)", set_prefix, 0, 0, 0 },
	{ "timeout", "S", "endpoint liveness timeout in seconds (default 30)", NULL, U32(timeout_s),
	  1, 3600 },
	{ "level-interval", "MS", "audio level report interval (default 200)", NULL,
	  U32(level_interval_ms), 10, 60000 },
	{ "pli-interval", "MS", "minimum gap between keyframe requests per stream (default 500)",
	  NULL, U32(pli_interval_ms), 0, 60000 },
	{ "ingress-pps", "N", "packets per second an endpoint may send, 0 = no cap (default 3000)",
	  NULL, U32(ingress_pps), 0, 10000000 },
	{ "ingress-kbps", "N",
	  "kbit/s an endpoint may send (SRTP payload), 0 = no cap (default 20000)", NULL,
	  U32(ingress_kbps), 0, 100000000 },
	{ "ingress-burst-ms", "MS",
	  "ingress caps allow this many ms of their rate at once (default 200)", NULL,
	  U32(ingress_burst_ms), 1, 10000 },
	{ "nack-percent", "P",
	  "retransmissions per subscriber: P% of the stream's packet rate (default 25)", NULL,
	  U32(nack_percent), 1, 100 },
	{ "nack-burst", "N", "retransmissions a subscriber may get at once (default 64)", NULL,
	  U32(nack_burst), 1, 4096 },
	{ "nack-rtt-ms", "MS",
	  "a packet is retransmitted to a subscriber once per MS, 0 = no dedup (default 50)", NULL,
	  U32(nack_rtt_ms), 0, 5000 },
	{ "sr-interval", "MS",
	  "minimum gap between SRs forwarded per stream; one per compound always (default 200)",
	  NULL, U32(sr_interval_ms), 0, 60000 },
	{ "stats", "S",
	  "print counters every S seconds, 0 = only at exit; SIGUSR1 prints them on stderr "
	  "(default 0)",
	  NULL, U32(stats_s), 0, 86400 },
	{ "log-level", "LVL", "error, warning, info or debug (default info)", set_log, 0, 0, 0 },
};

void sl_config_defaults(struct sl_dp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->lcore[0] = 0;
	c->lcore[1] = 1;
	c->n_lcores = 2;
	snprintf(lcores_arg, sizeof(lcores_arg), "0,1");
	c->base_port = 10000;
	c->mtu = 1500;
	snprintf(c->ctl_path, sizeof(c->ctl_path), "%s", SL_CTL_DEFAULT_PATH);
	c->mbufs = 32767;
	c->history_mbufs = 16383;
	c->max_endpoints = 1024;
	c->max_streams = 4096;
	c->max_subs = 16384;
	c->history = 512;
	c->rx_desc = 1024;
	c->tx_desc = 1024;
	c->huge = SL_HUGE_AUTO;
	c->memory_mb = 1024;
	snprintf(c->file_prefix, sizeof(c->file_prefix), "sluice");
	c->timeout_s = 30;
	c->level_interval_ms = 200;
	c->pli_interval_ms = 500;
	c->ingress_pps = 3000;
	c->ingress_kbps = 20000;
	c->ingress_burst_ms = 200;
	c->nack_percent = 25;
	c->nack_burst = 64;
	c->nack_rtt_ms = 50;
	c->sr_interval_ms = 200;
	c->log_level = RTE_LOG_INFO;
}

static const struct opt *find_opt(const char *name)
{
	for (size_t i = 0; i < RTE_DIM(opts); i++)
		if (!strcmp(opts[i].name, name))
			return &opts[i];
	return NULL;
}

static int apply(struct sl_dp_config *c, const char *name, const char *v, char *err, size_t len)
{
	const struct opt *o = find_opt(name);

	if (!o)
		return SL_ERR(err, len, "unknown option '%s' (see --help)", name);
	if (!v)
		return SL_ERR(err, len, "%s: needs a value (%s)", name, o->arg);
	return o->set ? o->set(c, name, v, err, len) : set_u32(c, o, v, err, len);
}

static int apply_conf(void *ctx, const char *name, const char *v, char *err, size_t len)
{
	return apply(ctx, name, v, err, len);
}

void sl_config_usage(FILE *out)
{
	fprintf(out, "usage: sluice-dataplane [OPTIONS] [-- EXTRA-EAL-ARGS...]\n\n"
		     "The Sluice SFU dataplane: DPDK poll-mode SRTP forwarding.\n\n"
		     "  -c, --config FILE        read options from FILE ('name = value' lines)\n"
		     "  -h, --help               show this help\n");
	for (size_t i = 0; i < RTE_DIM(opts); i++) {
		char left[48];

		snprintf(left, sizeof(left), "--%s %s", opts[i].name, opts[i].arg);
		fprintf(out, "      %-22s %s\n", left, opts[i].help);
	}
}

static int check(struct sl_dp_config *c, char *err, size_t len)
{
	if (!c->local.has_ip4 && !c->local.has_ip6)
		return SL_ERR(err, len, "ipv4/ipv6: at least one local address is required");
	if (c->history & (c->history - 1))
		return SL_ERR(err, len, "history: %u is not a power of two", c->history);
	if (c->n_vdev == 0 && c->n_pci == 0)
		return SL_ERR(
			err, len,
			"vdev/pci: no device to serve (e.g. --vdev net_af_packet0,iface=eth1)");
	if (c->ingress_pps && (uint64_t)c->ingress_pps * c->ingress_burst_ms < 1000)
		return SL_ERR(
			err, len,
			"ingress-pps/ingress-burst-ms: %u packets/s for %u ms is less than one "
			"packet",
			c->ingress_pps, c->ingress_burst_ms);
	if (c->ingress_kbps && (uint64_t)c->ingress_kbps * c->ingress_burst_ms / 8 < c->mtu)
		return SL_ERR(err, len,
			      "ingress-kbps/ingress-burst-ms: %u kbit/s for %u ms is less than one "
			      "%u-byte packet",
			      c->ingress_kbps, c->ingress_burst_ms, c->mtu);
	if (c->base_port + c->n_lcores - 1 > 65535)
		return SL_ERR(err, len, "base-port: %u + workers exceeds 65535", c->base_port);
	return 0;
}

int sl_config_parse(int argc, char **argv, struct sl_dp_config *c, char *err, size_t errlen)
{
	bool cli_vdev = false, cli_pci = false;
	int i, rc;

	sl_config_defaults(c);
	/* The config file first, so that flags override it. */
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
		if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) {
			if (i + 1 >= argc)
				return SL_ERR(err, errlen, "config: needs a file name");
			rc = sl_conf_read(argv[++i], apply_conf, c, err, errlen);
			if (rc)
				return rc;
		} else if (!strncmp(argv[i], "--config=", 9)) {
			rc = sl_conf_read(argv[i] + 9, apply_conf, c, err, errlen);
			if (rc)
				return rc;
		}
	}
	/* A repeatable option given on the command line replaces the file's. */
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i], *eq;
		char name[64];

		if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			i++;
			continue;
		}
		if (!strncmp(a, "--config=", 9))
			continue;
		if (strncmp(a, "--", 2) != 0 || strlen(a) >= sizeof(name) + 2)
			return SL_ERR(err, errlen, "unexpected argument '%s' (see --help)", a);
		eq = strchr(a, '=');
		snprintf(name, sizeof(name), "%.*s", (int)(eq ? eq - a - 2 : (long)strlen(a) - 2),
			 a + 2);
		if (!strcmp(name, "vdev") && !cli_vdev) {
			c->n_vdev = 0;
			cli_vdev = true;
		}
		if (!strcmp(name, "pci") && !cli_pci) {
			c->n_pci = 0;
			cli_pci = true;
		}
		rc = apply(c, name, eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL), err, errlen);
		if (rc)
			return rc;
	}
	if (i < argc) { /* after "--": extra EAL arguments */
		c->eal_extra = argv + i + 1;
		c->n_eal_extra = argc - i - 1;
	}
	return check(c, err, errlen);
}

static bool hugepages_free(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long n = 0;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n > 0;
}

int sl_config_eal_args(const struct sl_dp_config *c, char **argv, int max)
{
	static char mem[32], main_lcore[16], prefix[96], loglvl[32];
	int n = 0;

#define PUSH(s)                                  \
	do {                                     \
		if (n < max - 1)                 \
			argv[n++] = (char *)(s); \
	} while (0)
	PUSH("sluice-dataplane");
	PUSH("--lcores");
	PUSH(lcores_arg);
	snprintf(main_lcore, sizeof(main_lcore), "%u", c->lcore[0]);
	PUSH("--main-lcore");
	PUSH(main_lcore);
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", c->file_prefix);
	PUSH(prefix);
	snprintf(loglvl, sizeof(loglvl), "--log-level=%d", c->log_level);
	PUSH(loglvl);
	if (c->huge == SL_HUGE_OFF || (c->huge == SL_HUGE_AUTO && !hugepages_free())) {
		PUSH("--no-huge");
		snprintf(mem, sizeof(mem), "-m%u", c->memory_mb);
		PUSH(mem);
	}
	if (c->n_pci == 0)
		PUSH("--no-pci");
	for (unsigned i = 0; i < c->n_pci; i++) {
		PUSH("-a");
		PUSH(c->pci[i]);
	}
	for (unsigned i = 0; i < c->n_vdev; i++) {
		PUSH("--vdev");
		PUSH(c->vdev[i]);
	}
	for (int i = 0; i < c->n_eal_extra; i++)
		PUSH(c->eal_extra[i]);
#undef PUSH
	argv[n] = NULL;
	return n;
}
