# setup.sh - sourced by the end-to-end scripts (meeting.sh, big.sh, entry.sh): the
# network and the two servers they share.
#
# e2e_init BUILD_DIR sets build, src, id, dp_ns, cl_ns and dir (a fresh
# directory for logs and sockets), installs the browser driver's node
# modules if missing, and arranges for cleanup on exit. e2e_start then
# builds the network - the dataplane on one end of a veth pair in its own
# namespace (net_af_packet), the client namespace on the other end
# (10.98.0.2/24, fd98::2/64) - and starts sluice-dataplane (10.98.0.1,
# fd98::1) and sluice-controlplane (user nobody, embedded Redis, port 8080
# inside the client namespace). Everything is removed on exit: both
# namespaces (and the veth pair with them), the DPDK runtime directory and
# the test's directory (kept with KEEP_E2E=1). e2e_dp_env (VAR=value ...)
# sets the dataplane's environment apart from the rest. E2E_CP_ARGS adds options to
# the control plane's command line (e.g. --log-level debug); cp_start
# restarts it with other options (entry.sh). The control plane runs with
# --p2p off unless E2E_P2P=on (p2p.sh): the other scripts count media
# through the SFU, which a two-participant meeting would otherwise leave.
# E2E_PEER_NS=N (p2p.sh) puts N more client namespaces on the same link:
# a bridge in the client namespace joins the dataplane's veth and one veth
# per namespace sl-e2e-pK-ID (10.98.0.1K/24, fd98::1K/64, K = 1..N), which
# reach each other and the dataplane directly, and the control plane at
# 10.98.0.2 (with --listen 10.98.0.2).

dp_pid= cp_pid= ch_pid=
e2e_logs="dp.out cp.err cp.out"

e2e_init() {
	build=$(realpath "${1:?usage: $0 BUILD_DIR}")
	src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	id=$$
	dp_ns=sl-e2e-dp-$id cl_ns=sl-e2e-cl-$id
	dir=$(mktemp -d /tmp/sl-e2e.XXXXXX)
	chmod 755 "$dir"
	trap cleanup EXIT
	# Node modules for the browser driver (playwright-core only; Chromium is Debian's).
	if [ ! -d "$src/tests/e2e/node_modules/playwright-core" ]; then
		(cd "$src/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error) >/dev/null ||
			fail "npm ci in tests/e2e"
	fi
}

cleanup() {
	for p in $ch_pid $cp_pid $dp_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	ip netns del "$dp_ns" 2>/dev/null || true
	ip netns del "$cl_ns" 2>/dev/null || true
	for k in $(seq "${E2E_PEER_NS:-0}"); do ip netns del "sl-e2e-p$k-$id" 2>/dev/null || true; done
	rm -rf "/var/run/dpdk/sl-e2e-$id"
	[ -n "${KEEP_E2E:-}" ] && { echo "kept $dir"; return; }
	rm -rf "$dir"
}

fail() {
	echo "FAIL: $*"
	for f in $e2e_logs; do
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

e2e_start() {
	ip netns add "$dp_ns"
	ip netns add "$cl_ns"
	ip link add "d$id" netns "$dp_ns" type veth peer name "c$id" netns "$cl_ns"
	ip -n "$dp_ns" link set "d$id" up
	ip netns exec "$dp_ns" ethtool -K "d$id" tx off rx off >/dev/null 2>&1 || true
	ip -n "$cl_ns" link set lo up
	local cl_if="c$id"
	if [ "${E2E_PEER_NS:-0}" -gt 0 ]; then
		cl_if="b$id"
		ip -n "$cl_ns" link add "$cl_if" type bridge
		ip -n "$cl_ns" link set "c$id" master "$cl_if" up
		for k in $(seq "$E2E_PEER_NS"); do
			local ns="sl-e2e-p$k-$id"
			ip netns add "$ns"
			ip link add "p$k-$id" netns "$cl_ns" type veth peer name "q$k-$id" netns "$ns"
			ip -n "$cl_ns" link set "p$k-$id" master "$cl_if" up
			ip netns exec "$cl_ns" ethtool -K "p$k-$id" tx off >/dev/null
			ip -n "$ns" link set lo up
			ip -n "$ns" addr add "10.98.0.1$k/24" dev "q$k-$id"
			ip -n "$ns" addr add "fd98::1$k/64" dev "q$k-$id" nodad
			ip -n "$ns" link set "q$k-$id" up
			ip netns exec "$ns" ethtool -K "q$k-$id" tx off >/dev/null
		done
	fi
	ip -n "$cl_ns" addr add 10.98.0.2/24 dev "$cl_if"
	ip -n "$cl_ns" addr add fd98::2/64 dev "$cl_if" nodad
	ip -n "$cl_ns" link set "$cl_if" up
	ip netns exec "$cl_ns" ethtool -K "c$id" tx off >/dev/null

	ip netns exec "$dp_ns" env ${e2e_dp_env:-} "$build/dataplane/sluice-dataplane" --vdev "net_af_packet0,iface=d$id" \
		--ipv4 10.98.0.1 --ipv6 fd98::1 --lcores 0,1 --huge off --memory 512 --mbufs 8191 \
		--history-mbufs 2047 --max-endpoints 64 --file-prefix "sl-e2e-$id" \
		--ctl-socket "$dir/dp.sock" --ctl-group nogroup >"$dir/dp.out" 2>&1 &
	dp_pid=$!
	wait_for "$dir/dp.out" "sluice-dataplane: ready" "$dp_pid" dataplane

	# The control plane runs unprivileged (user nobody, group nogroup): it
	# needs only the dataplane's socket (root:nogroup 0660 through
	# --ctl-group; the dataplane checks the peer's group) and its own state
	# directory.
	# The checkout may not be readable by nobody (a clone in a mktemp -d is
	# 0700): run a copy of the binary and the web client from the test's own
	# directory.
	install -m 755 "$build/controlplane/sluice-controlplane" "$dir/sluice-controlplane"
	cp -r "$src/web" "$dir/web"
	chmod -R a+rX "$dir/web"
	mkdir -m 700 "$dir/state"
	chown 65534:65534 "$dir/state"
	cp_start ${E2E_CP_ARGS:-}
}

# cp_start [OPTIONS...]: (re)starts the control plane with these extra
# options, logging to fresh cp.out/cp.err (stop the previous one first).
cp_start() {
	rm -f "$dir/cp.out" "$dir/cp.err"
	ip netns exec "$cl_ns" setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		"$dir/sluice-controlplane" --dataplane-socket "$dir/dp.sock" \
		--state-dir "$dir/state" --web-root "$dir/web" --port 8080 --p2p "${E2E_P2P:-off}" "$@" \
		>"$dir/cp.out" 2>"$dir/cp.err" &
	cp_pid=$!
	wait_for "$dir/cp.out" "sluice-controlplane: ready" "$cp_pid" controlplane
	for _ in $(seq 50); do [ "$(redis PING 2>/dev/null)" = PONG ] && break; sleep 0.1; done
}

# redis-cli on the control plane's embedded Redis. A meeting's keys are
# sl:{TAG}:*, so the tests look for what is left of meetings with
# --scan --pattern 'sl:{*'; the node's own heartbeat (sl:node:ID, sl:nodes)
# stays while the control plane runs.
redis() { ip netns exec "$cl_ns" redis-cli -s "$dir/state/redis.sock" "$@"; }

random_room() { echo "e2e-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# check_logs_private "FILE..." WORD...: the control plane's log files (in
# $dir) hold none of the words (room names, display names, secrets,
# address prefixes) and, past the timestamp (first field), nothing that
# looks like an IPv4 or IPv6 address.
check_logs_private() {
	local files=$1 f bad
	local addr_re='([0-9]{1,3}\.){3}[0-9]{1,3}|[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}'
	shift
	for f in $files; do
		for bad in "$@"; do
			grep -qF -- "$bad" "$dir/$f" && fail "$f contains '$bad'"
		done
		if cut -d' ' -f2- "$dir/$f" | grep -Eq "$addr_re"; then
			fail "$f contains an address: $(cut -d' ' -f2- "$dir/$f" | grep -E "$addr_re" | head -3)"
		fi
	done
	return 0
}
