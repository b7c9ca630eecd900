/*
 * log.h - the control plane's log: one line per event on stderr.
 *
 * Privacy rule (docs/controlplane.md): log lines name participants, rooms
 * and endpoints only by their random ids. Never pass an IP address, a room
 * name, a display name, a token or key material to these functions.
 * Messages from libraries (libwebsockets) go through sl_log_scrubbed, which
 * masks anything that looks like an address.
 */
#ifndef SLUICE_CP_LOG_H
#define SLUICE_CP_LOG_H

#include <stddef.h>

enum sl_log_level { SL_LOG_ERR = 0, SL_LOG_WARN, SL_LOG_INFO, SL_LOG_DEBUG };

extern int sl_log_level;

void sl_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log a library's line with IPv4/IPv6-looking tokens replaced by "*". */
void sl_log_scrubbed(int level, const char *who, const char *line);
/* Write the count of a repeated line whose window has ended (call every
 * second) / in any case (at exit). */
void sl_log_tick(void);
void sl_log_flush(void);
/* Replace address-looking tokens in s (NUL-terminated) in place. */
void sl_log_scrub(char *s);

#define sl_err(...)  sl_log(SL_LOG_ERR, __VA_ARGS__)
#define sl_warn(...) sl_log(SL_LOG_WARN, __VA_ARGS__)
#define sl_info(...) sl_log(SL_LOG_INFO, __VA_ARGS__)
#define sl_debug(...)                                      \
	do {                                               \
		if (sl_log_level >= SL_LOG_DEBUG)          \
			sl_log(SL_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
