#!/usr/bin/env bash
# meeting.sh BUILD_DIR - whole meetings through the real binaries.
#
# Builds a small network: the dataplane on one end of a veth pair in its own
# namespace (net_af_packet), and the control plane (unprivileged, with its
# embedded Redis), headless Chromium and aiortc in a second namespace on the
# other end. Then:
#   1. two Chromium participants join one room through the web client and
#      each decodes >= 100 video frames and receives audio from the other,
#      over DTLS-SRTP (getStats: dtlsState connected, an SRTP cipher) and
#      IPv6 (the dataplane offers both families; step 3 runs over IPv4);
#   2. after both leave, no key of that meeting is left in Redis, and a
#      rejoin with the same name gets a different meeting id;
#   3. publishers come and go: three Chromium participants meet, one leaves,
#      a fourth joins; everyone decodes the newcomer (re-offers reuse the
#      leaver's sections);
#   4. aiortc (an independent WebRTC stack) and Chromium exchange media;
#   5. the control plane's and dataplane's logs hold no IP address, room
#      name or display name;
#   6. /metrics (--metrics-listen 127.0.0.1:9464), scraped every 0.5 s before,
#      during and after step 1 (metrics_scrape.py): sluice_participants > 0
#      during and 0 after, worker 0's rx/tx packets grew, every busy ratio within [0, 1],
#      and no room name, display name or address in any scrape.
# Traffic stays inside the two namespaces this script creates; everything is
# removed on exit.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
e2e_init "${1:-}"
e2e_logs="dp.out cp.err cp.out ai.out ch.out ch.err"
E2E_CP_ARGS="${E2E_CP_ARGS:-} --metrics-listen 127.0.0.1:9464"
e2e_start

room=$(random_room)
meeting() { ip netns exec "$cl_ns" node "$src/tests/e2e/meeting.mjs" --url http://127.0.0.1:8080/ "$@"; }

ip netns exec "$cl_ns" /usr/bin/python3 "$src/tests/e2e/metrics_scrape.py" watch \
	http://127.0.0.1:9464/metrics "$dir/metrics" &
mx_pid=$!
sleep 1.5 # idle scrapes first

echo "== two Chromium participants"
out=$(meeting --room "$room" --participants 2 --names "Ada Lovelace,Grace Hopper" \
	--frames 100 --timeout-s 120 --leave) || fail "meeting: $out"
echo "$out"
m1=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["meeting"][0])')
# Both families are offered; Chromium prefers IPv6 (the churn run below is IPv4).
[ "$(echo "$out" | grep -o '"ipFamily":"IPv6"' | wc -l)" = 2 ] || fail "the meeting did not run over IPv6"


echo "== nothing left in Redis after the last leave"
sleep 1
mkdir -p "$dir/metrics" && touch "$dir/metrics/stop"
wait "$mx_pid"
keys=$(redis --scan --pattern 'sl:{*')
[ -z "$keys" ] || fail "keys left in Redis: $keys"

echo "== publishers come and go: A, B, C meet; C leaves; D joins and reuses C's sections"
room2=$(random_room)
out=$(ip netns exec "$cl_ns" node "$src/tests/e2e/churn.mjs" --url http://127.0.0.1:8080/ \
	--room "$room2" --frames 50 --timeout-s 120 --ipv4) || fail "churn: $out"
echo "$out" | grep -q '"ipFamily":"IPv4"' || fail "the churn run did not use IPv4"
echo "$out"

echo "== aiortc and Chromium in the same room (a rejoin of the same name)"
# Chromium first; aiortc joins seconds later, so it must get a keyframe on
# request (it never asks for one itself).
meeting --room "$room" --participants 1 --names "Mary Jackson" --expect-peer-count 1 \
	--frames 100 --timeout-s 120 --stay-s 8 --leave >"$dir/ch.out" 2>"$dir/ch.err" &
ch_pid=$!
sleep 4
ip netns exec "$cl_ns" /usr/bin/python3 "$src/tests/e2e/aiortc_peer.py" --ws ws://127.0.0.1:8080/ws \
	--room "$room" --name "Katherine Johnson" --frames 100 --timeout-s 120 >"$dir/ai.out" 2>&1 ||
	fail "aiortc peer"
cat "$dir/ai.out"
wait "$ch_pid" || fail "meeting with aiortc: $(cat "$dir/ch.out" "$dir/ch.err")"
ch_pid=
out=$(cat "$dir/ch.out")
echo "$out"
m2=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["meeting"][0])')
[ -n "$m1" ] && [ -n "$m2" ] && [ "$m1" != "$m2" ] || fail "rejoin got meeting $m2, first was $m1"
sleep 1
keys=$(redis --scan --pattern 'sl:{*')
[ -z "$keys" ] || fail "keys left in Redis after the second meeting: $keys"

echo "== logs carry no addresses, room names or display names"
kill "$cp_pid"; wait "$cp_pid" || fail "controlplane exit status"; cp_pid=
check_logs_private "cp.err cp.out" "$room" "$room2" "Ada Lovelace" "Grace Hopper" "Katherine" \
	"Mary Jackson" 10.98.0. 127.0.0.1
echo "== /metrics during and after the first meeting"
/usr/bin/python3 "$src/tests/e2e/metrics_scrape.py" check "$dir/metrics" "$room" "$room2" \
	"Ada Lovelace" "Grace Hopper" "Ada" "Grace" 10.98.0. fd98: || fail "metrics"
echo "meeting ids: $m1, $m2"
echo "e2e: 6 passed, 0 failed"
