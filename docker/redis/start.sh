#!/bin/sh
# Starts the compose file's Redis: docker/redis/users.acl with the sluice
# user's password, read from the Docker secret redis_password, and the
# sluice-operator user's, from redis_operator_password (each file's first
# line, as --redis-password-file reads it), put in the ACL as SHA-256
# hashes in a private temporary file. Redis takes no comment in an ACL
# file: the copy it reads has only the user lines.
# Tests run it elsewhere: SLUICE_SECRETS (default /run/secrets),
# SLUICE_REDIS_ETC (default /etc/sluice/redis), TMPDIR (default /tmp), and
# arguments passed on to redis-server after the config file.
set -eu
secrets=${SLUICE_SECRETS:-/run/secrets}
etc=${SLUICE_REDIS_ETC:-/etc/sluice/redis}
tmp=${TMPDIR:-/tmp}
hash_of() {
	pw=$(head -n 1 "$secrets/$1" | tr -d '\r')
	if [ -z "$pw" ]; then
		echo "redis: $secrets/$1 is empty" >&2
		exit 1
	fi
	printf '%s' "$pw" | sha256sum | cut -d ' ' -f 1
}
node=$(hash_of redis_password)
operator=$(hash_of redis_operator_password)
umask 077
sed -n -e "s/@PASSWORD_SHA256@/#$node/" -e "s/@OPERATOR_PASSWORD_SHA256@/#$operator/" \
	-e '/^user /p' "$etc/users.acl" >"$tmp/users.acl"
exec redis-server "$etc/redis.conf" --aclfile "$tmp/users.acl" "$@"
