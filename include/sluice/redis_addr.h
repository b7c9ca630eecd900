/*
 * redis_addr.h - where an external Redis is and how to log in to it
 * (--redis, --redis-password-file), for every program that talks to one.
 */
#ifndef SLUICE_REDIS_ADDR_H
#define SLUICE_REDIS_ADDR_H

#include <stddef.h>

/* A password line is shorter than this. */
#define SL_REDIS_PASSWORD_MAX 512

struct sl_redis_addr {
	char sock[300]; /* Unix socket path, or "" for TCP */
	char host[256];
	int port;
};

/*
 * Parse "unix:/PATH", "tcp://HOST:PORT" or its alias "redis://HOST:PORT"
 * (HOST may be an IPv6 address: the last ':' ends it). Returns 0, or
 * -EINVAL with a message in err that does not repeat the URL.
 */
int sl_redis_addr_parse(const char *url, struct sl_redis_addr *a, char *err, size_t n);

/*
 * Read the first line of path (a Docker or systemd secret) into pw
 * (SL_REDIS_PASSWORD_MAX + 1 bytes): 1 to SL_REDIS_PASSWORD_MAX - 1 bytes,
 * "\r" or "\n" ending it. Returns 0, or -EINVAL with err set (naming the file,
 * never the password) and pw wiped.
 */
int sl_redis_password_load(const char *path, char pw[SL_REDIS_PASSWORD_MAX + 1], char *err,
			   size_t n);

#endif
