#!/bin/sh
# Starts the compose file's Redis: docker/redis/users.acl with the sluice
# user's password, read from the Docker secret redis_password (its first
# line, as the control plane's --redis-password-file reads it), put in the
# ACL as a SHA-256 hash in a private temporary file.
set -eu
pw=$(head -n 1 /run/secrets/redis_password | tr -d '\r')
if [ -z "$pw" ]; then
	echo "redis: /run/secrets/redis_password is empty" >&2
	exit 1
fi
hash=$(printf '%s' "$pw" | sha256sum | cut -d ' ' -f 1)
umask 077
sed "s/@PASSWORD_SHA256@/#$hash/" /etc/sluice/redis/users.acl >/tmp/users.acl
exec redis-server /etc/sluice/redis/redis.conf --aclfile /tmp/users.acl
