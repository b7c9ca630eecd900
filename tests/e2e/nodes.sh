#!/usr/bin/env bash
# nodes.sh BUILD_DIR - one meeting across a two-node deployment, through the
# real binaries (docs/operators.md "Several nodes").
#
# One redis-server (user nobody, Unix socket only) and two nodes on this
# machine, each a real sluice-dataplane (net_af_packet on a veth pair of its
# own, in a namespace of its own, its own EAL file prefix; node 1 at
# 10.98.0.1, node 2 at 10.98.2.1) and a sluice-controlplane (user nobody, in
# the client namespace) with its own --node-id, --public-url, --state-dir,
# port (8080, 8081) and --metrics-listen, the same --secret-file and
# --redis. Each node's --origin lists both pages' origins. Then:
#   1. A opens node 1's page (http://localhost:8080/) and joins room R:
#      node 1 owns the meeting; B opens node 2's page (http://localhost:8081/,
#      another origin) and joins R: node 2 answers 'redirect' with node 1's
#      URL, B's web client follows it (window.sluice.redirects: A 0, B 1),
#      and both decode >= 100 video frames and receive audio from the other,
#      in one meeting;
#   2. while both are in: node 1 holds 1 meeting and 2 participants; node 2
#      holds none, redirected 1 join and admitted none, and its dataplane
#      saw no STUN, DTLS or RTP (its /metrics);
#   3. after both leave: no sl:{*} key left in Redis;
#   4. no log of either node holds an address, the room or a display name.
# Both dataplanes busy-poll lcore 1 (their workers share that core; the
# machine may have only two), so media is slower than in meeting.sh but
# well within the test's bounds. Traffic stays inside the three namespaces
# this script creates; everything is removed on exit.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
e2e_init "${1:-}"
e2e_logs="dp.out cp.err cp.out dp2.out cp2.err cp2.out ch.err"

redis_start
head -c 32 /dev/urandom >"$dir/secret"
chown 65534:65534 "$dir/secret"
chmod 600 "$dir/secret"
# Named by host name, as a fleet would be: each control plane logs its own
# --public-url at start, and the logs must hold no address.
u1=http://localhost:8080 u2=http://localhost:8081
node_args() { # ID PORT METRICS-PORT
	echo "--redis unix:$e2e_redis_sock --secret-file $dir/secret --node-id $1" \
		"--public-url ws://localhost:$2/ws --origin $u1 --origin $u2" \
		"--metrics-listen 127.0.0.1:$3"
}
E2E_CP_ARGS="${E2E_CP_ARGS:-} $(node_args n1 8080 9464)"
e2e_start
e2e_add_dp 2
cp_launch 2 8081 $(node_args n2 8081 9465)
wait_for "$dir/cp.err" "redis connected" "$cp_pid" "node 1's redis connection"
wait_for "$dir/cp2.err" "redis connected" "$cp_last_pid" "node 2's redis connection"
# Both heartbeats seen: node 1 must know node 2 is there (and busier or not)
# for placement to be meaningful, and B's join at node 2 must find node 1's URL.
for _ in $(seq 100); do [ "$(redis SCARD sl:nodes)" = 2 ] && break; sleep 0.1; done
[ "$(redis SCARD sl:nodes)" = 2 ] || fail "sl:nodes: $(redis SMEMBERS sl:nodes)"

room=$(random_room)
echo "== A joins at node 1, B at node 2 and is redirected to node 1"
out=$(ip netns exec "$cl_ns" node "$src/tests/e2e/nodes.mjs" --url1 "$u1/" --url2 "$u2/" \
	--room "$room" --metrics1 http://127.0.0.1:9464/metrics \
	--metrics2 http://127.0.0.1:9465/metrics --frames 100 --timeout-s 120 --leave \
	2>"$dir/ch.err") || fail "nodes.mjs: $out"
echo "$out"
echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
def check(c, what):
    if not c:
        sys.exit("FAIL: " + what)
check(r["redirects"] == [0, 1], "redirects (A, B): %s, want [0, 1]" % r["redirects"])
check(len(set(r["meeting"])) == 1 and r["meeting"][0], "meetings: %s" % r["meeting"])
n1, n2 = r["metrics"]["node1"], r["metrics"]["node2"]
for k, want in (("sluice_meetings", 1), ("sluice_participants", 2),
                ("sluice_joins_total", 2), ("sluice_joins_redirected_total", 0)):
    check(n1.get(k) == want, "node 1 %s = %s, want %s" % (k, n1.get(k), want))
for k, want in (("sluice_meetings", 0), ("sluice_participants", 0),
                ("sluice_joins_total", 0), ("sluice_joins_redirected_total", 1),
                ("sluice_dataplane_stun_up_total", 0), ("sluice_dataplane_dtls_up_total", 0),
                ("sluice_dataplane_rtp_in_total", 0)):
    check(n2.get(k) == want, "node 2 %s = %s, want %s" % (k, n2.get(k), want))
' || fail "two nodes"

echo "== nothing left in Redis after both left"
for _ in $(seq 30); do [ -z "$(redis --scan --pattern 'sl:{*')" ] && break; sleep 0.1; done
keys=$(redis --scan --pattern 'sl:{*')
[ -z "$keys" ] || fail "keys left in Redis: $keys"

echo "== logs carry no addresses, room names or display names"
kill "$cp_pid"; wait "$cp_pid" || fail "node 1's controlplane exit status"; cp_pid=
kill "$cp_last_pid"; wait "$cp_last_pid" || fail "node 2's controlplane exit status"
check_logs_private "cp.err cp.out cp2.err cp2.out" "$room" "Ada Lovelace" "Grace Hopper" \
	10.98. 127.0.0.1 fd98:
echo "e2e nodes: 4 passed, 0 failed"
