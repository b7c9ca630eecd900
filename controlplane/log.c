/*
 * log.c - stderr logging with levels, and a scrubber for library messages.
 *
 * Our own call sites never pass personal data (see log.h). Library lines
 * are not under our control, so before they are written every token that
 * could be an IPv4 or IPv6 address (digits and dots, or hex digits and
 * colons with at least two colons) is replaced by "*".
 *
 * A line identical to the one before (same level, same text) within
 * SL_LOG_REPEAT_S seconds is not written again but counted; the count is
 * written as one line when another line comes, when the window ends
 * (sl_log_tick) or at exit (sl_log_flush). An error repeated a million
 * times a second costs two lines per window.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

int sl_log_level = SL_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

#define SL_LOG_REPEAT_S 10

static struct {
	char msg[512];
	int level;
	unsigned long repeats;
	time_t since;
} last = { .level = -1 };

static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void write_line(int level, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s %s\n", when, ts.tv_nsec / 1000000, level_names[level], msg);
}

void sl_log_flush(void)
{
	char msg[600];

	if (!last.repeats)
		return;
	snprintf(msg, sizeof(msg), "%s [repeated %lu more times]", last.msg, last.repeats);
	last.repeats = 0;
	write_line(last.level, msg);
}

void sl_log_tick(void)
{
	if (last.repeats && mono_s() - last.since >= SL_LOG_REPEAT_S)
		sl_log_flush();
}

static void emit(int level, const char *msg)
{
	time_t now = mono_s();

	if (level == last.level && now - last.since < SL_LOG_REPEAT_S && !strcmp(msg, last.msg)) {
		last.repeats++;
		return;
	}
	sl_log_flush();
	write_line(level, msg);
	snprintf(last.msg, sizeof(last.msg), "%s", msg);
	last.level = level;
	last.since = now;
}

void sl_log(int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (level > sl_log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, msg);
}

static bool addr_char(char c)
{
	return isxdigit((unsigned char)c) || c == '.' || c == ':';
}

/* A run of [0-9a-fA-F.:] is an address if it has 3 dots and no hex
 * letters (IPv4, maybe with :port), or at least 2 colons (IPv6). */
static bool looks_like_addr(const char *s, size_t n)
{
	size_t dots = 0, colons = 0, letters = 0;

	for (size_t i = 0; i < n; i++) {
		dots += s[i] == '.';
		colons += s[i] == ':';
		letters += isalpha((unsigned char)s[i]) != 0;
	}
	return (dots == 3 && letters == 0) || colons >= 2;
}

void sl_log_scrub(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		size_t n = 0;

		while (addr_char(r[n]))
			n++;
		if (n && looks_like_addr(r, n)) {
			*w++ = '*';
			r += n;
		} else if (n) {
			memmove(w, r, n);
			w += n;
			r += n;
		} else {
			*w++ = *r++;
		}
	}
	*w = 0;
}

void sl_log_scrubbed(int level, const char *who, const char *line)
{
	char msg[512];
	size_t n;

	if (level > sl_log_level)
		return;
	snprintf(msg, sizeof(msg), "%s: %s", who, line);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = 0;
	sl_log_scrub(msg);
	emit(level, msg);
}
