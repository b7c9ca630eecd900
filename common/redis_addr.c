/*
 * redis_addr.c - the --redis URL and --redis-password-file of the programs
 * that use an external Redis (sluicectl; the control plane's store parses
 * the same forms).
 *
 * Only the forms the docs list are accepted; a message never repeats the
 * URL or the file's contents, so no password written there by mistake
 * reaches a terminal or a log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/redis_addr.h>

int sl_redis_addr_parse(const char *url, struct sl_redis_addr *a, char *err, size_t n)
{
	const char *colon;
	char *end;
	long port;

	memset(a, 0, sizeof(*a));
	if (!strncmp(url, "unix:", 5) && url[5] == '/' && strlen(url + 5) < sizeof(a->sock)) {
		strcpy(a->sock, url + 5);
		return 0;
	}
	if (!strncmp(url, "tcp://", 6))
		url += 6;
	else if (!strncmp(url, "redis://", 8))
		url += 8;
	else
		goto bad;
	colon = strrchr(url, ':');
	if (!colon || colon == url || (size_t)(colon - url) >= sizeof(a->host) ||
	    memchr(url, '@', (size_t)(colon - url)) || memchr(url, '/', (size_t)(colon - url)))
		goto bad;
	if (colon[1] < '0' || colon[1] > '9')
		goto bad;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		goto bad;
	memcpy(a->host, url, (size_t)(colon - url));
	a->host[colon - url] = 0;
	a->port = (int)port;
	return 0;
bad:
	snprintf(err, n, "--redis: use unix:/path/to/socket or tcp://host:port");
	return -EINVAL;
}

int sl_redis_password_load(const char *path, char pw[SL_REDIS_PASSWORD_MAX + 1], char *err,
			   size_t n)
{
	FILE *f = fopen(path, "r");
	size_t len;

	if (!f) {
		snprintf(err, n, "--redis-password-file %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	len = fread(pw, 1, SL_REDIS_PASSWORD_MAX, f);
	fclose(f);
	pw[len] = 0;
	pw[strcspn(pw, "\r\n")] = 0;
	if (!pw[0] || strlen(pw) == SL_REDIS_PASSWORD_MAX) {
		explicit_bzero(pw, SL_REDIS_PASSWORD_MAX + 1);
		snprintf(err, n, "--redis-password-file %s: needs one line of 1-%d bytes", path,
			 SL_REDIS_PASSWORD_MAX - 1);
		return -EINVAL;
	}
	return 0;
}
