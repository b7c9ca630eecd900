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
#      name or display name.
# Traffic stays inside the two namespaces this script creates; everything is
# removed on exit.
set -euo pipefail
build=$(realpath "${1:?usage: meeting.sh BUILD_DIR}")
src=$(cd "$(dirname "$0")/../.." && pwd)
id=$$
dp_ns=sl-e2e-dp-$id cl_ns=sl-e2e-cl-$id
dir=$(mktemp -d /tmp/sl-e2e.XXXXXX)
chmod 755 "$dir"
dp_pid= cp_pid= ch_pid=
cleanup() {
	for p in $ch_pid $cp_pid $dp_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	ip netns del "$dp_ns" 2>/dev/null || true
	ip netns del "$cl_ns" 2>/dev/null || true
	[ -n "${KEEP_E2E:-}" ] && { echo "kept $dir"; return; }
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in dp.out cp.err cp.out ai.out ch.out ch.err; do
		[ -f "$dir/$f" ] && { echo "--- $f"; tail -40 "$dir/$f"; }
	done
	exit 1
}
wait_for() { # file pattern pid what
	for _ in $(seq 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || fail "$4 exited"
		sleep 0.1
	done
	fail "$4 not ready"
}

# Node modules for the browser driver (playwright-core only; Chromium is Debian's).
if [ ! -d "$src/tests/e2e/node_modules/playwright-core" ]; then
	(cd "$src/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error) >/dev/null ||
		fail "npm ci in tests/e2e"
fi

ip netns add "$dp_ns"
ip netns add "$cl_ns"
ip link add "d$id" netns "$dp_ns" type veth peer name "c$id" netns "$cl_ns"
ip -n "$dp_ns" link set "d$id" up
ip netns exec "$dp_ns" ethtool -K "d$id" tx off rx off >/dev/null 2>&1 || true
ip -n "$cl_ns" link set lo up
ip -n "$cl_ns" addr add 10.98.0.2/24 dev "c$id"
ip -n "$cl_ns" addr add fd98::2/64 dev "c$id" nodad
ip -n "$cl_ns" link set "c$id" up
ip netns exec "$cl_ns" ethtool -K "c$id" tx off >/dev/null

ip netns exec "$dp_ns" "$build/dataplane/sluice-dataplane" --vdev "net_af_packet0,iface=d$id" \
	--ipv4 10.98.0.1 --ipv6 fd98::1 --lcores 0,1 --huge off --memory 512 --mbufs 8191 --history-mbufs 2047 \
	--max-endpoints 64 --file-prefix "sl-e2e-$id" --ctl-socket "$dir/dp.sock" --ctl-group nogroup \
	>"$dir/dp.out" 2>&1 &
dp_pid=$!
wait_for "$dir/dp.out" "sluice-dataplane: ready" "$dp_pid" dataplane

# The control plane runs unprivileged (user nobody, group nogroup): it needs
# only the dataplane's socket (root:nogroup 0660 through --ctl-group, the
# dataplane checks the peer's group) and its own state directory.
# The checkout may not be readable by nobody (a clone in a mktemp -d is
# 0700): run a copy of the binary and the web client from the test's own
# directory.
install -m 755 "$build/controlplane/sluice-controlplane" "$dir/sluice-controlplane"
cp -r "$src/web" "$dir/web"
chmod -R a+rX "$dir/web"
mkdir -m 700 "$dir/state"
chown 65534:65534 "$dir/state"
ip netns exec "$cl_ns" setpriv --reuid=65534 --regid=65534 --clear-groups -- \
	"$dir/sluice-controlplane" --dataplane-socket "$dir/dp.sock" \
	--state-dir "$dir/state" --web-root "$dir/web" --port 8080 \
	>"$dir/cp.out" 2>"$dir/cp.err" &
cp_pid=$!
wait_for "$dir/cp.out" "sluice-controlplane: ready" "$cp_pid" controlplane
redis() { ip netns exec "$cl_ns" redis-cli -s "$dir/state/redis.sock" "$@"; }
for _ in $(seq 50); do [ "$(redis PING 2>/dev/null)" = PONG ] && break; sleep 0.1; done

room="e2e-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
meeting() { ip netns exec "$cl_ns" node "$src/tests/e2e/meeting.mjs" --url http://127.0.0.1:8080/ "$@"; }

echo "== two Chromium participants"
out=$(meeting --room "$room" --participants 2 --names "Ada Lovelace,Grace Hopper" \
	--frames 100 --timeout-s 120 --leave) || fail "meeting: $out"
echo "$out"
m1=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["meeting"][0])')
# Both families are offered; Chromium prefers IPv6 (the churn run below is IPv4).
[ "$(echo "$out" | grep -o '"ipFamily":"IPv6"' | wc -l)" = 2 ] || fail "the meeting did not run over IPv6"


echo "== nothing left in Redis after the last leave"
sleep 1
keys=$(redis --scan --pattern 'sl:*')
[ -z "$keys" ] || fail "keys left in Redis: $keys"

echo "== publishers come and go: A, B, C meet; C leaves; D joins and reuses C's sections"
room2="e2e-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
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
keys=$(redis --scan --pattern 'sl:*')
[ -z "$keys" ] || fail "keys left in Redis after the second meeting: $keys"

echo "== logs carry no addresses, room names or display names"
kill "$cp_pid"; wait "$cp_pid" || fail "controlplane exit status"; cp_pid=
for f in cp.err cp.out; do
	for bad in "$room" "$room2" "Ada Lovelace" "Grace Hopper" "Katherine" "Mary Jackson" 10.98.0. 127.0.0.1; do
		grep -qF "$bad" "$dir/$f" && fail "$f contains '$bad'"
	done
	# Past the timestamp (first field), nothing may look like an address.
	addr_re='([0-9]{1,3}\.){3}[0-9]{1,3}|[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}'
	if cut -d' ' -f2- "$dir/$f" | grep -Eq "$addr_re"; then
		fail "$f contains an address: $(cut -d' ' -f2- "$dir/$f" | grep -E "$addr_re" | head -3)"
	fi
done
echo "meeting ids: $m1, $m2"
echo "e2e: 5 passed, 0 failed"
