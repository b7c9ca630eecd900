#!/usr/bin/env bash
# ping_netns.sh DATAPLANE - the real kernel talks to the real dataplane.
#
# Creates two network namespaces joined by a veth pair, runs the dataplane
# on one end with net_af_packet, and from the other end resolves it by ARP
# and NDP and pings it over IPv4 and IPv6. Checks the replies and the
# dataplane's counters, then removes everything. Traffic stays inside the
# namespaces this test creates.
set -euo pipefail
dp=${1:?usage: ping_netns.sh path/to/sluice-dataplane}
id=$$
dp_ns=sl-t-dp-$id cl_ns=sl-t-cl-$id
dir=$(mktemp -d /tmp/sl-ping.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$dp_ns" 2>/dev/null || true
	ip netns del "$cl_ns" 2>/dev/null || true
	rm -rf "$dir" "/var/run/dpdk/sl-ping-$id"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- dataplane output"; cat "$dir/out" || true; exit 1; }

ip netns add "$dp_ns"
ip netns add "$cl_ns"
ip link add "d$id" netns "$dp_ns" type veth peer name "c$id" netns "$cl_ns"
ip -n "$dp_ns" link set "d$id" up
ip -n "$cl_ns" link set lo up
ip -n "$cl_ns" addr add 10.99.0.2/24 dev "c$id"
ip -n "$cl_ns" addr add fd99::2/64 dev "c$id" nodad
ip -n "$cl_ns" link set "c$id" up
ip netns exec "$cl_ns" ethtool -K "c$id" tx off >/dev/null

ip netns exec "$dp_ns" "$dp" --vdev "net_af_packet0,iface=d$id" --ipv4 10.99.0.1 --ipv6 fd99::1 \
	--lcores 0,1 --huge off --memory 256 --mbufs 4095 --history-mbufs 255 --max-streams 64 \
	--max-subs 64 --max-endpoints 16 --file-prefix "sl-ping-$id" --ctl-socket "$dir/ctl.sock" \
	>"$dir/out" 2>&1 &
pid=$!
for _ in $(seq 150); do
	grep -q "sluice-dataplane: ready" "$dir/out" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || fail "dataplane exited"
	sleep 0.1
done
grep -q "sluice-dataplane: ready" "$dir/out" || fail "dataplane not ready"

ip netns exec "$cl_ns" ping -c 3 -i 0.2 -W 2 10.99.0.1 >"$dir/ping4" || fail "IPv4 ping: $(cat "$dir/ping4")"
ip netns exec "$cl_ns" ping -6 -c 3 -i 0.2 -W 2 fd99::1 >"$dir/ping6" || fail "IPv6 ping: $(cat "$dir/ping6")"
grep -q "3 received" "$dir/ping4" || fail "IPv4: $(cat "$dir/ping4")"
grep -q "3 received" "$dir/ping6" || fail "IPv6: $(cat "$dir/ping6")"
ip -n "$cl_ns" neigh show 10.99.0.1 | grep -q lladdr || fail "no ARP entry for the dataplane"
ip -n "$cl_ns" -6 neigh show fd99::1 | grep -q lladdr || fail "no NDP entry for the dataplane"
# A ping to an address that is not the dataplane's gets no answer.
if ip netns exec "$cl_ns" ping -c 1 -W 1 10.99.0.3 >/dev/null 2>&1; then fail "10.99.0.3 answered"; fi

kill "$pid"
wait "$pid" || fail "dataplane exited with an error on SIGTERM"
pid=
counters=$(grep '^counters:' "$dir/out" | tail -1)
for want in arp_replies= ndp_replies= icmp_echo_replies=6; do
	echo "$counters" | grep -q "$want" || fail "counters lack $want: $counters"
done
echo "ping_netns: ARP, NDP, ICMP and ICMPv6 echo answered; $counters"
echo "1 passed, 0 failed"
