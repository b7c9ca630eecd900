#!/usr/bin/env bash
# p2p.sh BUILD_DIR - one-to-one meetings peer-to-peer (p2p.mjs).
#
# The network of setup.sh plus two client namespaces on one bridge
# (E2E_PEER_NS=2: 10.98.0.11 and 10.98.0.12, fd98::11 and fd98::12) that
# reach each other and the dataplane (10.98.0.1) directly; the control plane
# listens on 10.98.0.2 with --p2p on. One Chromium runs in each namespace
# (through a wrapper that runs it under `ip netns exec`). p2p.mjs checks that
# two participants end up on a host-to-host direct connection and stop
# sending through the SFU, that a third participant brings everyone back to
# the SFU (everyone decodes everyone), that they go direct again once it
# leaves, and that a direct path that breaks falls back to the SFU. The
# control plane's logs hold no address, room or display name afterwards.
# Everything is removed on exit.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
e2e_init "${1:-}"
e2e_logs="dp.out cp.err cp.out p2p.err"
E2E_PEER_NS=2 E2E_P2P=on E2E_CP_ARGS="--listen 10.98.0.2"
export E2E_PEER_NS E2E_P2P E2E_CP_ARGS
e2e_start

for k in 1 2; do
	printf '#!/bin/sh\nexec ip netns exec %s /usr/bin/chromium "$@"\n' "sl-e2e-p$k-$id" \
		>"$dir/chromium-$k"
	chmod 755 "$dir/chromium-$k"
done

room=$(random_room)
echo "== two participants go direct, a third brings them back to the SFU, a broken path too"
out=$(node "$src/tests/e2e/p2p.mjs" --url http://10.98.0.2:8080/ --room "$room" \
	--chromium-a "$dir/chromium-1" --chromium-b "$dir/chromium-2" \
	--ns-b "sl-e2e-p2-$id" --names "Ada Direct,Bea Direct,Cy Third" --timeout-s 60 \
	2>"$dir/p2p.err") || fail "p2p: $out"
echo "$out"

echo "== logs carry no addresses, room names or display names"
kill "$cp_pid"; wait "$cp_pid" || fail "controlplane exit status"; cp_pid=
check_logs_private "cp.err cp.out" "$room" "Ada Direct" "Bea Direct" "Cy Third" 10.98.0.
grep -q "p2p_messages=[1-9]" "$dir/cp.out" "$dir/cp.err" || fail "no p2p message counted"
echo "e2e: 2 passed, 0 failed"
