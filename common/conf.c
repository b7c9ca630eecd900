/*
 * conf.c - the config files of both processes (--config FILE).
 *
 * An operator keeps settings in /etc/sluice/ as the long options written
 * `key = value`, one per line. This file only splits and checks lines; each
 * process hands every key and value to the same code that parses its
 * command line, so a setting means the same in both places. The whole file
 * is read at once, bounded, and every error names the file and the line.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sluice/conf.h>

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* One line [s, e): 0 when it is empty or a comment, else fn's result. */
static int one_line(const char *name, unsigned no, char *s, char *e, sl_conf_fn fn, void *ctx,
		    char *err, size_t errlen)
{
	char msg[256], *eq, *k_end, *v = NULL;

	*e = '\0';
	while (blank(*s))
		s++;
	if (!*s || *s == '#')
		return 0;
	for (char *p = s + 1; *p; p++)
		if (*p == '#' && blank(p[-1])) {
			*p = '\0';
			break;
		}
	e = s + strlen(s);
	while (e > s && blank(e[-1]))
		*--e = '\0';
	eq = strchr(s, '=');
	k_end = eq ? eq : e;
	while (k_end > s && blank(k_end[-1]))
		k_end--;
	if (eq) {
		v = eq + 1;
		while (blank(*v))
			v++;
	}
	*k_end = '\0';
	if (k_end == s) {
		snprintf(err, errlen, "config: %s:%u: expected 'key = value'", name, no);
		return -EINVAL;
	}
	for (char *p = s; p < k_end; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      (*p == '-' && p > s))) {
			snprintf(err, errlen,
				 "config: %s:%u: expected 'key = value' (a key is a long option "
				 "without "
				 "'--')",
				 name, no);
			return -EINVAL;
		}
	if (!strcmp(s, "config")) {
		snprintf(err, errlen, "config: %s:%u: 'config' cannot be set in a config file",
			 name, no);
		return -EINVAL;
	}
	msg[0] = '\0';
	if (fn(ctx, s, v, msg, sizeof(msg))) {
		snprintf(err, errlen, "config: %s:%u: %s", name, no, msg[0] ? msg : "not valid");
		return -EINVAL;
	}
	return 0;
}

int sl_conf_parse(const char *name, const char *text, size_t len, sl_conf_fn fn, void *ctx,
		  char *err, size_t errlen)
{
	char line[SL_CONF_MAX_LINE + 1];
	unsigned no = 0;
	size_t i = 0;

	if (len > SL_CONF_MAX_BYTES) {
		snprintf(err, errlen, "config: %s: larger than %d bytes", name, SL_CONF_MAX_BYTES);
		return -EINVAL;
	}
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "config: %s: contains a NUL byte (not a text file?)", name);
		return -EINVAL;
	}
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = (nl ? (size_t)(nl - text) : len) - i;

		no++;
		if (n > SL_CONF_MAX_LINE) {
			snprintf(err, errlen, "config: %s:%u: line longer than %d bytes", name, no,
				 SL_CONF_MAX_LINE);
			return -EINVAL;
		}
		memcpy(line, text + i, n);
		if (one_line(name, no, line, line + n, fn, ctx, err, errlen))
			return -EINVAL;
		i += n + 1;
	}
	return 0;
}

int sl_conf_read(const char *path, sl_conf_fn fn, void *ctx, char *err, size_t errlen)
{
	static char buf[SL_CONF_MAX_BYTES + 1];
	FILE *f = fopen(path, "r");
	size_t n;
	int e;

	if (!f) {
		e = errno;
		snprintf(err, errlen, "config: cannot open '%s': %s", path, strerror(e));
		return -EINVAL;
	}
	n = fread(buf, 1, sizeof(buf), f);
	e = ferror(f) ? errno : 0;
	fclose(f);
	if (e) {
		snprintf(err, errlen, "config: cannot read '%s': %s", path, strerror(e));
		return -EINVAL;
	}
	if (n > SL_CONF_MAX_BYTES) {
		snprintf(err, errlen, "config: %s: larger than %d bytes", path, SL_CONF_MAX_BYTES);
		return -EINVAL;
	}
	return sl_conf_parse(path, buf, n, fn, ctx, err, errlen);
}
