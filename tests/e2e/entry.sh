#!/usr/bin/env bash
# entry.sh BUILD_DIR - entry control and moderation through the real
# binaries and the web client (entry.mjs, headless Chromium): the room
# name's strength while typing; a moderator (the first joiner) sets a
# password and turns the lobby on; a second person gets the password prompt,
# is refused a wrong password, joins with the right one; a third waits in
# the lobby and is admitted through the UI and decodes video; the moderator
# mutes one participant (the others stop receiving it; it unmutes itself)
# and kicks another (kicked screen, connection closed, lists drop it); ends
# the meeting (no key left in Redis; the same name then joins with no
# password). Along the way: chat (markup stays text, private messages stay
# private, chat_history for the admitted entry, only moderators chat after
# the moderator says so). Afterwards Redis is empty and the logs hold no IP
# address, room name, display name, password or chat text. Same network and
# servers as meeting.sh (setup.sh); everything is removed on exit.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
e2e_init "${1:-}"
e2e_logs="dp.out cp1.err cp.err cp.out"
e2e_start

room=$(random_room)
password="pw-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
weak=letmein2024
names="Ada Lovelace,Grace Hopper,Mary Jackson"
chat_tag="chat-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"

echo "== password, lobby, mute, kick, end (Chromium through the web client)"
out=$(ip netns exec "$cl_ns" node "$src/tests/e2e/entry.mjs" --url http://127.0.0.1:8080/ \
	--room "$room" --password "$password" --weak-room "$weak" --names "$names" \
	--redis-sock "$dir/state/redis.sock" --chat-tag "$chat_tag" --frames 30 --timeout-s 80) ||
	fail "entry: $out"
echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("\n".join(r["steps"])); print(json.dumps(r["numbers"]))'

echo "== nothing left in Redis"
keys=$(redis --scan --pattern 'sl:{*')
[ -z "$keys" ] || fail "keys left in Redis: $keys"

echo "== --moderators token --guests wait: a moderator by ?token=, a guest denied from the lobby"
kill "$cp_pid"; wait "$cp_pid" || fail "controlplane exit status"; cp_pid=
mv "$dir/cp.out" "$dir/cp1.out"; mv "$dir/cp.err" "$dir/cp1.err"
head -c 32 /dev/urandom | base64 >"$dir/jwt.key"
chown 65534:65534 "$dir/jwt.key"; chmod 600 "$dir/jwt.key"
room3=$(random_room)
token=$("$src/scripts/make-jwt" --key "$dir/jwt.key" --room "$room3" --moderator \
	--name "Dorothy Vaughan" --ttl 300)
cp_start --moderators token --guests wait --jwt-key "$dir/jwt.key" \
	--check-name-rate 30 --check-name-burst 3
out=$(ip netns exec "$cl_ns" node "$src/tests/e2e/entry.mjs" --url http://127.0.0.1:8080/ \
	--room "$room3" --token "$token" --names "Dorothy Vaughan,Annie Easley" \
	--redis-sock "$dir/state/redis.sock" --timeout-s 40) || fail "entry (token): $out"
echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("\n".join(r["steps"]))'
sleep 0.5
keys=$(redis --scan --pattern 'sl:{*')
[ -z "$keys" ] || fail "keys left in Redis: $keys"

echo "== logs carry no addresses, room names, display names, passwords or tokens"
kill "$cp_pid"; wait "$cp_pid" || fail "controlplane exit status"; cp_pid=
check_logs_private "cp1.err cp1.out cp.err cp.out" "$room" "$room3" "$password" "$weak" "$token" \
	"${token%%.*}" "${token##*.}" "Ada Lovelace" "Grace Hopper" "Mary Jackson" "Dorothy" \
	"Annie Easley" "$chat_tag" "onerror" 10.98.0. 127.0.0.1
echo "e2e entry: 4 passed, 0 failed"
