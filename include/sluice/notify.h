/*
 * notify.h - telling systemd (Type=notify, WatchdogSec=) how a process is
 * doing (common/notify.c). Every call does nothing when the process was not
 * started by systemd (NOTIFY_SOCKET unset), or when built without libsystemd.
 */
#ifndef SLUICE_NOTIFY_H
#define SLUICE_NOTIFY_H

#include <stdint.h>

/* READY=1: start-up is complete. */
void sl_notify_ready(void);
/* STOPPING=1: shutting down. */
void sl_notify_stopping(void);
/* STATUS=text: a line systemctl status shows (e.g. "drained"). */
void sl_notify_status(const char *status);
/* WATCHDOG=1: the main loop is alive. */
void sl_notify_watchdog(void);
/* How often to call sl_notify_watchdog, in microseconds (half of
 * WATCHDOG_USEC), or 0 when systemd expects no watchdog pings. */
uint64_t sl_notify_watchdog_interval_us(void);

#endif
