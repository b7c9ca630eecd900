/*
 * notify.c - readiness, shutdown and watchdog pings for systemd.
 *
 * Both units are Type=notify with WatchdogSec=: a process says READY=1 once
 * it serves, STOPPING=1 when it starts to shut down, and WATCHDOG=1 from its
 * main loop at half the interval systemd asks for, so a hung loop is
 * restarted. sd_notify() is a no-op when NOTIFY_SOCKET is unset, which is
 * how the processes run outside systemd and in the tests.
 */
#include <sluice/notify.h>

#ifdef SL_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

void sl_notify_ready(void)
{
	sd_notify(0, "READY=1");
}

void sl_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void sl_notify_status(const char *status)
{
	sd_notifyf(0, "STATUS=%s", status);
}

void sl_notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

uint64_t sl_notify_watchdog_interval_us(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec / 2 ? usec / 2 : 1;
}
#else
void sl_notify_ready(void)
{
}

void sl_notify_status(const char *status)
{
	(void)status;
}

void sl_notify_stopping(void)
{
}

void sl_notify_watchdog(void)
{
}

uint64_t sl_notify_watchdog_interval_us(void)
{
	return 0;
}
#endif
