#!/usr/bin/env bash
# inside.sh BUILD_DIR - inside a meeting, through the real binaries and the
# web client (inside.mjs, headless Chromium), all of it end-to-end
# encrypted: chat, public and private; speaker stats; screen sharing (a third
# publish mid, a track labelled "screen", decoded by the others at the
# screen's size) and its permission (a moderator restricts it: shares stop,
# others are refused). Afterwards Redis is empty, the control plane exits
# cleanly (under ASan: no leak), and its logs hold no IP address, room
# name or display name. Same network and servers as meeting.sh (setup.sh);
# everything is removed on exit.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
e2e_init "${1:-}"
# The control plane under ASan checks for leaks when it exits (the
# dataplane cannot: DPDK's start-up allocations live until exit).
if [ -n "${ASAN_OPTIONS:-}" ]; then
	dp_asan=$ASAN_OPTIONS
	export ASAN_OPTIONS=${ASAN_OPTIONS//detect_leaks=0/detect_leaks=1}
	e2e_dp_env="ASAN_OPTIONS=$dp_asan"
fi
# One join in its handshake per meeting: the web client's retry after 'throttled'.
E2E_CP_ARGS="--pending-room-max 1 ${E2E_CP_ARGS:-}"
e2e_start

room=$(random_room)
names="Ada Lovelace,Grace Hopper,Mary Jackson"
chat_tag="chat-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
passphrase="e2ee-$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')"

echo "== screen sharing and its permission (Chromium through the web client)"
out=$(ip netns exec "$cl_ns" node "$src/tests/e2e/inside.mjs" --url http://127.0.0.1:8080/ \
	--room "$room" --names "$names" --redis-sock "$dir/state/redis.sock" --chat-tag "$chat_tag" --passphrase "$passphrase" --timeout-s 150) ||
	fail "inside: $out"
echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("\n".join(r["steps"])); print(json.dumps(r["numbers"]))'

echo "== nothing left in Redis; the logs carry no addresses, room names or display names"
keys=$(redis --scan --pattern 'sl:{*')
[ -z "$keys" ] || fail "keys left in Redis: $keys"
kill "$cp_pid"; wait "$cp_pid" || fail "controlplane exit status"; cp_pid=
check_logs_private "cp.err cp.out" "$room" "Ada Lovelace" "Grace Hopper" "Mary Jackson" \
	"$chat_tag" "$passphrase" 10.98.0. 127.0.0.1
echo "e2e inside: 2 passed, 0 failed"
