#!/usr/bin/env bash
# speaker.sh BUILD_DIR - the dominant speaker and speaker stats through the
# real binaries and the web client (speaker.mjs, headless Chromium): the
# dataplane reads the audio levels (RFC 6464) of real Chromium audio, the
# control plane picks the one unmuted participant as the dominant speaker in
# every window and gives it the most speaking time; when another unmutes
# (as loud: no take-over) and the first falls silent, the other takes over
# after the hold time. Prints the take-over time. The logs hold no IP
# address, room name or display name afterwards. Same network and servers
# as meeting.sh (setup.sh); everything is removed on exit.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
e2e_init "${1:-}"
e2e_start

room=$(random_room)
names="Ada Speaker,Grace Muted,Mary Muted"

echo "== one unmuted participant is the dominant speaker everywhere, then another"
out=$(ip netns exec "$cl_ns" node "$src/tests/e2e/speaker.mjs" --url http://127.0.0.1:8080/ \
	--room "$room" --names "$names" --timeout-s 60) || fail "speaker: $out"
echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("\n".join(r["steps"])); print(json.dumps(r["numbers"]))'

echo "== logs carry no addresses, room names or display names"
kill "$cp_pid"; wait "$cp_pid" || fail "controlplane exit status"; cp_pid=
grep -q 'speaker_changes=[1-9]' "$dir/cp.err" || fail "no speaker change counted in the stats line"
check_logs_private "cp.err cp.out" "$room" "Ada Speaker" "Grace Muted" "Mary Muted" 10.98.0. 127.0.0.1
echo "e2e speaker: 2 passed, 0 failed"
