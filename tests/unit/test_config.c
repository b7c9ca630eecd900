/*
 * test_config.c - the dataplane's configuration parsing.
 *
 * An operator's typo must stop the process with a message naming the
 * setting, never start it half-configured; the config file and the flags
 * must mean the same; and the EAL arguments must follow from them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp.h"

#define BASE "sluice-dataplane", "--vdev", "net_null0", "--ipv4", "10.0.0.1"

static int parse(struct sl_dp_config *c, char *err, int argc, char **argv)
{
	return sl_config_parse(argc, argv, c, err, 256);
}

#define PARSE(c, err, ...)                                                       \
	parse(c, err, (int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)), \
	      (char *[]){ __VA_ARGS__ })

static void defaults_and_flags(void **state)
{
	struct sl_dp_config c;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&c, err, BASE), 0);
	assert_int_equal(c.base_port, 10000);
	assert_int_equal(c.n_lcores, 2);
	assert_int_equal(c.history, 512);
	assert_true(c.local.has_ip4);
	assert_false(c.local.has_ip6);
	assert_int_equal(PARSE(&c, err, BASE, "--base-port", "20000", "--lcores", "0@0,1@1,2@1",
			       "--ipv6", "fd00::1", "--mac", "02:00:00:00:00:07", "--history=64"),
			 0);
	assert_int_equal(c.base_port, 20000);
	assert_int_equal(c.n_lcores, 3);
	assert_int_equal(c.lcore[2], 2);
	assert_int_equal(c.history, 64);
	assert_true(c.local.has_ip6);
	assert_int_equal(c.local.mac[5], 7);
}

static void bad_values_name_the_setting(void **state)
{
	static const struct {
		const char *flag, *value, *expect;
	} cases[] = {
		{ "--base-port", "70000", "base-port" },
		{ "--base-port", "-1", "base-port" },
		{ "--base-port", "12x", "base-port" },
		{ "--lcores", "0", "lcores" },
		{ "--lcores", "0,0", "lcores" },
		{ "--lcores", "a,b", "lcores" },
		{ "--ipv4", "300.1.1.1", "ipv4" },
		{ "--ipv4", "127.0.0.1", "ipv4" },
		{ "--ipv6", "ff02::1", "ipv6" },
		{ "--mac", "01:00:00:00:00:01", "mac" },
		{ "--mac", "02:00:00:00:00", "mac" },
		{ "--history", "100", "history" },
		{ "--huge", "maybe", "huge" },
		{ "--log-level", "loud", "log-level" },
		{ "--mbufs", "10", "mbufs" },
		{ "--file-prefix", "a/b", "file-prefix" },
		{ "--nonsense", "1", "nonsense" },
	};
	struct sl_dp_config c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(
			PARSE(&c, err, BASE, (char *)cases[i].flag, (char *)cases[i].value),
			-EINVAL);
		if (!strstr(err, cases[i].expect))
			fail_msg("%s %s: message '%s' does not name %s", cases[i].flag,
				 cases[i].value, err, cases[i].expect);
	}
	assert_int_equal(PARSE(&c, err, "sluice-dataplane", "--vdev", "net_null0"), -EINVAL);
	assert_non_null(strstr(err, "ipv4/ipv6"));
	assert_int_equal(PARSE(&c, err, "sluice-dataplane", "--ipv4", "10.0.0.1"), -EINVAL);
	assert_non_null(strstr(err, "vdev"));
	assert_int_equal(PARSE(&c, err, BASE, "--base-port"), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(PARSE(&c, err, BASE, "--help"), 1);
}

static void config_file_and_override(void **state)
{
	char path[] = "/tmp/sl_test_config_XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct sl_dp_config c;
	char err[256];

	(void)state;
	fprintf(f, "# a comment\nvdev = net_null0\n  ipv4 = 10.1.2.3  # trailing\n\nbase-port = "
		   "30000\n");
	fclose(f);
	assert_int_equal(PARSE(&c, err, "sluice-dataplane", "-c", path), 0);
	assert_int_equal(c.base_port, 30000);
	assert_int_equal(c.local.ip4[3], 3);
	assert_int_equal(
		PARSE(&c, err, "sluice-dataplane", "--base-port", "40000", "--config", path), 0);
	assert_int_equal(c.base_port, 40000); /* flags win over the file */
	f = fopen(path, "w");
	fprintf(f, "vdev = net_null0\nipv4 = 10.1.2.3\nthis line is wrong\n");
	fclose(f);
	assert_int_equal(PARSE(&c, err, "sluice-dataplane", "-c", path), -EINVAL);
	assert_non_null(strstr(err, ":3:"));
	/* A repeatable option on the command line replaces the file's list. */
	f = fopen(path, "w");
	fprintf(f, "vdev = net_null0\nvdev = net_null1\npci = 0000:01:00.0\nipv4 = 10.1.2.3\n");
	fclose(f);
	assert_int_equal(PARSE(&c, err, "sluice-dataplane", "--config", path), 0);
	assert_int_equal(c.n_vdev, 2);
	assert_int_equal(c.n_pci, 1);
	assert_int_equal(
		PARSE(&c, err, "sluice-dataplane", "--vdev", "net_null7", "--config=", path),
		-EINVAL); /* "--config=" with nothing: cannot open '' */
	assert_int_equal(PARSE(&c, err, "sluice-dataplane", "--vdev", "net_null7", "-c", path), 0);
	assert_int_equal(c.n_vdev, 1);
	assert_string_equal(c.vdev[0], "net_null7");
	assert_int_equal(c.n_pci, 1); /* not given on the command line: the file's */
	/* Nesting is refused, with the file and line. */
	f = fopen(path, "w");
	fprintf(f, "vdev = net_null0\nconfig = /etc/sluice/other.conf\n");
	fclose(f);
	assert_int_equal(PARSE(&c, err, "sluice-dataplane", "-c", path), -EINVAL);
	assert_non_null(strstr(err, ":2: 'config' cannot be set"));
	unlink(path);
	assert_int_equal(PARSE(&c, err, "sluice-dataplane", "-c", path), -EINVAL);
	assert_non_null(strstr(err, "cannot open"));
}

static bool has_arg(char **argv, int argc, const char *a)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], a))
			return true;
	return false;
}

static void eal_args(void **state)
{
	struct sl_dp_config c;
	char err[256], *argv[64];
	int argc;

	(void)state;
	assert_int_equal(PARSE(&c, err, BASE, "--huge", "off", "--memory", "256", "--lcores", "3,5",
			       "--", "--extra-eal"),
			 0);
	argc = sl_config_eal_args(&c, argv, 64);
	assert_true(has_arg(argv, argc, "--no-huge"));
	assert_true(has_arg(argv, argc, "-m256"));
	assert_true(has_arg(argv, argc, "--no-pci"));
	assert_true(has_arg(argv, argc, "net_null0"));
	assert_true(has_arg(argv, argc, "3,5"));
	assert_true(has_arg(argv, argc, "--extra-eal"));
	assert_null(argv[argc]);
	assert_int_equal(PARSE(&c, err, BASE, "--huge", "on", "--pci", "0000:01:00.0"), 0);
	argc = sl_config_eal_args(&c, argv, 64);
	assert_false(has_arg(argv, argc, "--no-huge"));
	assert_false(has_arg(argv, argc, "--no-pci"));
	assert_true(has_arg(argv, argc, "0000:01:00.0"));
}

/* The policing options (police.c): defaults, values, refusals, --help. */
static void policing_options(void **state)
{
	static const struct {
		const char *flag, *value, *expect;
	} bad[] = {
		{ "--ingress-pps", "-5", "ingress-pps" },
		{ "--ingress-pps", "1x", "ingress-pps" },
		{ "--ingress-kbps", "100000001", "ingress-kbps" },
		{ "--ingress-burst-ms", "0", "ingress-burst-ms" },
		{ "--nack-percent", "0", "nack-percent" },
		{ "--nack-percent", "101", "nack-percent" },
		{ "--nack-burst", "0", "nack-burst" },
		{ "--nack-rtt-ms", "99999", "nack-rtt-ms" },
		{ "--sr-interval", "abc", "sr-interval" },
	};
	static const char *const names[] = { "--ingress-pps",      "--ingress-kbps",
					     "--ingress-burst-ms", "--nack-percent",
					     "--nack-burst",       "--nack-rtt-ms",
					     "--sr-interval" };
	struct sl_dp_config c;
	char err[256], *help = NULL;
	size_t help_len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(PARSE(&c, err, BASE), 0);
	assert_int_equal(c.ingress_pps, 3000);
	assert_int_equal(c.ingress_kbps, 20000);
	assert_int_equal(c.ingress_burst_ms, 200);
	assert_int_equal(c.nack_percent, 25);
	assert_int_equal(c.nack_burst, 64);
	assert_int_equal(c.nack_rtt_ms, 50);
	assert_int_equal(c.sr_interval_ms, 200);
	assert_int_equal(PARSE(&c, err, BASE, "--ingress-pps", "0", "--ingress-kbps", "0",
			       "--nack-percent", "100", "--nack-burst", "8", "--nack-rtt-ms", "0",
			       "--sr-interval", "0", "--ingress-burst-ms", "1"),
			 0);
	assert_int_equal(c.ingress_pps, 0);
	assert_int_equal(c.ingress_kbps, 0);
	assert_int_equal(c.nack_percent, 100);
	assert_int_equal(c.nack_burst, 8);
	assert_int_equal(c.nack_rtt_ms, 0);
	assert_int_equal(c.sr_interval_ms, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(PARSE(&c, err, BASE, (char *)bad[i].flag, (char *)bad[i].value),
				 -EINVAL);
		if (!strstr(err, bad[i].expect))
			fail_msg("%s %s: message '%s' does not name %s", bad[i].flag, bad[i].value,
				 err, bad[i].expect);
	}
	/* A bucket that cannot hold one packet is refused, naming both settings. */
	assert_int_equal(PARSE(&c, err, BASE, "--ingress-pps", "5", "--ingress-burst-ms", "100"),
			 -EINVAL);
	assert_non_null(strstr(err, "ingress-pps/ingress-burst-ms"));
	assert_int_equal(PARSE(&c, err, BASE, "--ingress-kbps", "100", "--ingress-burst-ms", "100"),
			 -EINVAL);
	assert_non_null(strstr(err, "ingress-kbps/ingress-burst-ms"));
	f = open_memstream(&help, &help_len);
	assert_non_null(f);
	sl_config_usage(f);
	fclose(f);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strstr(help, names[i]))
			fail_msg("--help does not list %s", names[i]);
	free(help);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_and_flags),
		cmocka_unit_test(bad_values_name_the_setting),
		cmocka_unit_test(config_file_and_override),
		cmocka_unit_test(eal_args),
		cmocka_unit_test(policing_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
