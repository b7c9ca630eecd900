#!/usr/bin/env bash
# demo_test.sh BUILD_DIR - scripts/demo, the README's first command:
#   1. with its port taken it exits non-zero, says why and suggests --port,
#      never prints the URL, and leaves nothing behind (namespace, veth,
#      /var/run/dpdk/sluice-demo, its /tmp directory);
#   2. a --seconds run prints the URL only once HTTP answers, runs the
#      control plane as nobody, tells a joined participant the server is
#      shutting down when it stops (control plane first: no "dataplane
#      connection lost"), exits 0 and leaves nothing behind;
#   3. Ctrl-C (SIGINT to its process group, as a terminal sends it) stops it
#      the same way, with status 130;
#   4. a control plane that dies while it runs makes a --seconds run exit
#      non-zero, saying so;
#   5. options after `--` reach the control plane (an unknown one makes the
#      demo exit non-zero; a --jwt-key file only root can read is copied
#      for nobody);
#   6. --nodes 2: both pages answer, both nodes' heartbeats are in the
#      demo's own Redis (its socket; it and both control planes as nobody),
#      node2 and sluicectl have node1's secret, a join at node2 of a meeting
#      node1 holds gets `redirect` to node1's URL, both /metrics answer
#      (node1: 1 participant; node2: 1 redirect), the sluicectl line is
#      printed, exit 0, nothing of either node left behind; with node2's
#      port taken it exits non-zero naming that port, nothing left behind.
# The demo's servers listen on 127.0.0.1 and on the veth pair it creates.
set -euo pipefail
build=$(realpath "${1:?usage: demo_test.sh BUILD_DIR}")
src=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/sl-demo-test.XXXXXX)
demo_pid="" holder_pid=""
cleanup() {
	[ -z "$holder_pid" ] || kill "$holder_pid" 2>/dev/null || true
	[ -z "$demo_pid" ] || { kill -INT -- "-$demo_pid" 2>/dev/null && wait "$demo_pid"; } || true
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	[ -f "$dir/out" ] && { echo "--- demo output"; tail -40 "$dir/out"; }
	exit 1
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
free_ports2() { # P such that P and P+1 are free
	python3 -c 'import socket
while True:
    a, b = socket.socket(), socket.socket()
    a.bind(("127.0.0.1", 0))
    p = a.getsockname()[1]
    try:
        b.bind(("127.0.0.1", p + 1))
    except (OSError, OverflowError):
        continue
    print(p)
    break'
}
tmp_dirs() { find /tmp -maxdepth 1 -name 'sluice-demo.*' | sort; }
before=$(tmp_dirs)
nothing_left() {
	local s
	for s in "" 2; do
		! ip netns list | grep -qw "sluice-dp$s" || fail "namespace sluice-dp$s left behind"
		! ip link show "sl-host$s" >/dev/null 2>&1 || fail "veth sl-host$s left behind"
		[ ! -e "/var/run/dpdk/sluice-demo$s" ] || fail "/var/run/dpdk/sluice-demo$s left behind"
	done
	[ "$(tmp_dirs)" = "$before" ] || fail "a /tmp/sluice-demo.* directory left behind"
}
demo() { "$src/scripts/demo" --build "$build" "$@"; }
# Starts the demo as a terminal's foreground job would run: in its own
# process group (what Ctrl-C reaches), SIGINT not ignored (bash ignores it
# in its background jobs); waits for the URL.
start_demo() {
	setsid /usr/bin/python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$src/scripts/demo" --build "$build" "$@" >"$dir/out" 2>&1 &
	demo_pid=$!
	for _ in $(seq 600); do
		grep -q "demo: open http" "$dir/out" && return 0
		kill -0 "$demo_pid" 2>/dev/null || fail "the demo exited before printing the URL"
		sleep 0.1
	done
	fail "no URL within 60 s"
}
# A participant over the signalling WebSocket: joins, prints what it gets.
participant() { # port room
	/usr/bin/python3 - "$@" <<'EOF'
import asyncio, json, sys, websockets
async def main(port, room):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["sluice-v1"],
                                  ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "join", "room": room}))
        try:
            async for raw in ws:
                msg = json.loads(raw)
                print(msg.get("type"), msg.get("code", ""), msg.get("message", ""), flush=True)
        except websockets.ConnectionClosed:
            pass
    print("closed", flush=True)
asyncio.run(asyncio.wait_for(main(int(sys.argv[1]), sys.argv[2]), 60))
EOF
}

echo "== port taken: non-zero exit, the reason and --port, nothing left behind"
port=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(120)' "$port" &
holder_pid=$!
sleep 0.5
rc=0
demo --port "$port" --seconds 5 >"$dir/out" 2>&1 || rc=$?
kill "$holder_pid"; wait "$holder_pid" 2>/dev/null || true; holder_pid=
[ "$rc" != 0 ] || fail "the demo exited 0 with its port taken"
grep -q -- "--port" "$dir/out" || fail "no hint to use --port"
grep -q "port $port" "$dir/out" || fail "the message does not name the port"
! grep -q "demo: open http" "$dir/out" || fail "the URL was printed although the port was taken"
nothing_left
echo "exit $rc: $(grep 'demo:' "$dir/out" | tail -1)"

echo "== options after -- go to the control plane: an unknown one stops the demo, non-zero"
port=$(free_port)
rc=0
demo --port "$port" --seconds 5 -- --no-such-option >"$dir/out" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "the demo exited 0 with a bad control-plane option"
grep -q -- "no-such-option" "$dir/out" || fail "the control plane's complaint is not shown"
! grep -q "demo: open http" "$dir/out" || fail "the URL was printed although the control plane failed"
nothing_left
echo "exit $rc: $(grep 'demo:' "$dir/out" | tail -1)"

echo "== --seconds: URL once HTTP answers, control plane as nobody, participants told, exit 0"
echo "   (with control-plane options after --; a root-only --jwt-key file is copied for nobody)"
port=$(free_port)
head -c 32 /dev/urandom | base64 >"$dir/jwt.key"
chmod 600 "$dir/jwt.key"
start_demo --port "$port" --seconds 10 -- --moderators everyone --jwt-key "$dir/jwt.key"
python3 -c 'import sys, urllib.request
assert urllib.request.urlopen(sys.argv[1], timeout=2).status == 200' "http://127.0.0.1:$port/" ||
	fail "the URL was printed but HTTP does not answer"
cp=$(ps -o pid=,comm= --ppid "$demo_pid" | awk '$2 ~ /^sluice-contro/ {print $1}')
[ -n "$cp" ] || fail "no control plane among the demo's children"
[ "$(ps -o user= -p "$cp")" = nobody ] || fail "the control plane runs as $(ps -o user= -p "$cp")"
args=$(ps -o args= -p "$cp")
[[ $args == *"--moderators everyone --jwt-key /tmp/sluice-demo."*/jwt-key.* ]] ||
	fail "the control plane did not get the options after --: $args"
participant "$port" demo-test >"$dir/ws" 2>&1 || fail "participant: $(cat "$dir/ws")"
rc=0
wait "$demo_pid" || rc=$?
demo_pid=
[ "$rc" = 0 ] || fail "the --seconds run exited $rc"
grep -q "^joined" "$dir/ws" || fail "the participant did not join: $(cat "$dir/ws")"
grep -q "^error unavailable .*shutting down" "$dir/ws" ||
	fail "the participant was not told the server is shutting down: $(cat "$dir/ws")"
grep -q "shutting down" "$dir/out" || fail "the control plane did not log shutting down"
! grep -q "connection lost" "$dir/out" || fail "the control plane lost the dataplane while stopping"
nothing_left
cat "$dir/ws"

echo "== Ctrl-C: the same orderly stop, exit 130"
port=$(free_port)
start_demo --port "$port"
kill -INT -- "-$demo_pid"
rc=0
wait "$demo_pid" || rc=$?
demo_pid=
[ "$rc" = 130 ] || fail "Ctrl-C: exit $rc, not 130"
grep -q "shutting down" "$dir/out" || fail "Ctrl-C: the control plane did not log shutting down"
! grep -q "connection lost" "$dir/out" || fail "Ctrl-C: the control plane lost the dataplane while stopping"
nothing_left

echo "== the control plane dies: a --seconds run exits non-zero"
port=$(free_port)
start_demo --port "$port" --seconds 20
cp=$(ps -o pid=,comm= --ppid "$demo_pid" | awk '$2 ~ /^sluice-contro/ {print $1}')
[ -n "$cp" ] || fail "no control plane among the demo's children"
kill -KILL "$cp"
rc=0
wait "$demo_pid" || rc=$?
demo_pid=
[ "$rc" != 0 ] || fail "the demo exited 0 although its control plane died"
grep -q "sluice-controlplane stopped on its own" "$dir/out" || fail "no reason given"
nothing_left
echo "exit $rc: $(grep 'demo:' "$dir/out" | tail -1)"
echo "== --nodes 2: both pages, both heartbeats, a redirect from node2 to node1, both /metrics, exit 0"
port=$(free_ports2)
mport=$(free_ports2)
# (the participant at node1 does no ICE and sends no answer: it must last
# the run, which ends before the 15 s answer timeout)
start_demo --nodes 2 --port "$port" --metrics-port "$mport" --seconds 12 -- --handshake-timeout 60
run=$(sed -n 's|.*the fleet: .*sluicectl --redis unix:\(/tmp/sluice-demo\.[^/ ]*\)/redis/redis.sock .*|\1|p' "$dir/out" | head -1)
[ -n "$run" ] || fail "no sluicectl line naming the demo's Redis socket"
grep -q "the fleet: .*/sluicectl/sluicectl --redis unix:$run/redis/redis.sock --secret-file $run/secret nodes" "$dir/out" ||
	fail "the sluicectl line is not the one expected"
cmp -s "$run/state/secret" "$run/state2/secret" && cmp -s "$run/state/secret" "$run/secret" ||
	fail "the nodes (or sluicectl) do not share node1's secret"
for p in "$port" $((port + 1)); do
	python3 -c 'import sys, urllib.request
assert urllib.request.urlopen(sys.argv[1], timeout=2).status == 200' "http://127.0.0.1:$p/" ||
		fail "the page on port $p does not answer"
done
for c in $(ps -o pid=,comm= --ppid "$demo_pid" | awk '$2 ~ /^(sluice-contro|redis-server)/ {print $1}'); do
	[ "$(ps -o user= -p "$c")" = nobody ] || fail "$(ps -o comm= -p "$c") runs as $(ps -o user= -p "$c")"
	[[ $(ps -o args= -p "$c") != *sluice-controlplane* || $(ps -o args= -p "$c") == *"--handshake-timeout 60" ]] ||
		fail "a control plane did not get the options after --: $(ps -o args= -p "$c")"
done
[ "$(ps -o comm= --ppid "$demo_pid" | grep -c -e '^sluice-contro' -e '^redis-server')" = 3 ] ||
	fail "not two control planes and one redis-server among the demo's children"
for n in 1 2; do
	url=$(redis-cli -s "$run/redis/redis.sock" hget "sl:node:node$n" url)
	[ "$url" = "ws://localhost:$((port + n - 1))/ws" ] || fail "sl:node:node$n url is '$url'"
done
participant "$port" demo-fleet >"$dir/ws" 2>&1 &
p1=$!
for _ in $(seq 100); do grep -q "^joined" "$dir/ws" && break; sleep 0.1; done
grep -q "^joined" "$dir/ws" || fail "no join at node1: $(cat "$dir/ws")"
# node1's page follows a redirect to node2 (its Origin is node1's page).
/usr/bin/python3 - $((port + 1)) demo-fleet >"$dir/ws2" 2>&1 <<'EOF' || fail "join at node2: $(cat "$dir/ws2")"
import asyncio, json, sys, websockets
async def main(port, room):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["sluice-v1"],
                                  origin=f"http://127.0.0.1:{port - 1}", ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "join", "room": room}))
        print(await ws.recv(), flush=True)
asyncio.run(asyncio.wait_for(main(int(sys.argv[1]), sys.argv[2]), 20))
EOF
python3 -c 'import json, sys
m = json.loads(open(sys.argv[1]).read())
assert m == {"type": "redirect", "url": sys.argv[2]}, m' "$dir/ws2" "ws://localhost:$port/ws" ||
	fail "the join at node2 was not redirected to node1: $(cat "$dir/ws2")"
metric() { # port name: its value, or nothing
	python3 -c 'import sys, urllib.request
for l in urllib.request.urlopen(sys.argv[1], timeout=2).read().decode().splitlines():
    if l.split(" ")[0] == sys.argv[2]: print(l.split(" ")[1])' "http://127.0.0.1:$1/metrics" "$2"
}
[ "$(metric "$mport" sluice_participants)" = 1 ] || fail "node1's sluice_participants is not 1"
[ "$(metric $((mport + 1)) sluice_participants)" = 0 ] || fail "node2's sluice_participants is not 0"
[ "$(metric $((mport + 1)) sluice_joins_redirected_total)" = 1 ] ||
	fail "node2's sluice_joins_redirected_total is not 1"
# The printed sluicectl line, run as printed: both nodes answer, and the
# meeting is node1's.
line=$(sed -n 's|.*the fleet: \(.*sluicectl --redis .* nodes\)$|\1|p' "$dir/out" | head -1)
(cd "$src" && eval "$line") >"$dir/ctl" 2>&1 || fail "the printed sluicectl line failed: $(cat "$dir/ctl")"
grep -q "^node1 .* active" "$dir/ctl" && grep -q "^node2 .* active" "$dir/ctl" ||
	fail "sluicectl nodes does not list both nodes as active: $(cat "$dir/ctl")"
(cd "$src" && eval "${line% nodes} --json meetings") >"$dir/ctl.json" 2>&1 ||
	fail "sluicectl meetings failed: $(cat "$dir/ctl.json")"
python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
assert len(m) == 1 and m[0]["node"] == "node1" and m[0]["participants"] == 1, m' "$dir/ctl.json" ||
	fail "sluicectl meetings: $(cat "$dir/ctl.json")"
cat "$dir/ctl"
rc=0
wait "$demo_pid" || rc=$?
demo_pid=
wait "$p1" || true
[ "$rc" = 0 ] || fail "the --nodes 2 run exited $rc"
grep -q "^error unavailable .*shutting down" "$dir/ws" ||
	fail "node1's participant was not told the server is shutting down: $(cat "$dir/ws")"
! grep -q "connection lost" "$dir/out" || fail "a control plane lost its dataplane or Redis while stopping"
nothing_left
cat "$dir/ws" "$dir/ws2"

echo "== --nodes 2 with node2's port taken: non-zero exit naming it, nothing left behind"
port=$(free_ports2)
mport=$(free_ports2)
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(120)' $((port + 1)) &
holder_pid=$!
sleep 0.5
rc=0
demo --nodes 2 --port "$port" --metrics-port "$mport" --seconds 5 >"$dir/out" 2>&1 || rc=$?
kill "$holder_pid"; wait "$holder_pid" 2>/dev/null || true; holder_pid=
[ "$rc" != 0 ] || fail "the demo exited 0 with node2's port taken"
grep -q "node2 sluice-controlplane could not listen on 127.0.0.1 port $((port + 1))" "$dir/out" ||
	fail "the message does not name node2's port"
! grep -q "demo: open http" "$dir/out" || fail "the URL was printed although node2 failed"
nothing_left
echo "exit $rc: $(grep 'demo:.*could not listen' "$dir/out")"
echo "demo: 7 passed, 0 failed"
