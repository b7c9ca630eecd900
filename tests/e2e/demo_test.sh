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
#      for nobody).
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
tmp_dirs() { find /tmp -maxdepth 1 -name 'sluice-demo.*' | sort; }
before=$(tmp_dirs)
nothing_left() {
	! ip netns list | grep -qw sluice-dp || fail "namespace sluice-dp left behind"
	! ip link show sl-host >/dev/null 2>&1 || fail "veth sl-host left behind"
	[ ! -e /var/run/dpdk/sluice-demo ] || fail "/var/run/dpdk/sluice-demo left behind"
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
echo "demo: 5 passed, 0 failed"
