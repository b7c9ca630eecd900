#!/usr/bin/env bash
# e2ee.sh BUILD_DIR - end-to-end encryption in the web client (web/e2ee.js).
#
# On the network of setup.sh (the dataplane in its own namespace, the
# control plane, Chromium), e2ee.mjs runs four Chromium participants in one
# room: A and B with the same passphrase decode each other; C (another
# passphrase) decodes nothing of theirs, its receivers count the frames that
# fail to decrypt; A drops D's clear frames; the frames C received from A
# are, byte for byte (SHA-256), the ciphertexts A's senders emitted and
# none is a plaintext; D, which joined with it off, cannot turn it on;
# mid-meeting, C takes A's passphrase (A decodes it), B turns encryption off
# and on again. Then the control plane's logs hold neither passphrase (they never leave the browser: e2ee.mjs also checks every
# WebSocket message). The server is not changed or told anything.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
e2e_init "${1:-}"
e2e_start

room=$(random_room)
echo "== four Chromium participants, end-to-end encryption: A, B same passphrase, C another, D off"
out=$(ip netns exec "$cl_ns" node "$src/tests/e2e/e2ee.mjs" --url http://127.0.0.1:8080/ \
	--room "$room" --frames 100 --timeout-s 150) || fail "e2ee: $out"
echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("\n".join(r["steps"])); print(json.dumps(r["numbers"]))'
pass=$(echo "$out" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["passphrases"]))')

echo "== the logs hold no passphrase, room name or address"
kill "$cp_pid"; wait "$cp_pid" || fail "controlplane exit status"; cp_pid=
# shellcheck disable=SC2086
check_logs_private "cp.err cp.out" "$room" $pass 10.98.0. 127.0.0.1
echo "e2e: e2ee passed"
