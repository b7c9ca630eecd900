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
#
# Several nodes (nodes.sh): redis_start runs one redis-server (user nobody,
# a Unix socket in the test's directory, no TCP) that redis() then talks to;
# e2e_add_dp K adds dataplane K in a namespace of its own with its own veth
# pair and EAL file prefix; cp_launch TAG PORT OPTIONS... starts one more
# control plane (files dpTAG.sock, stateTAG, cpTAG.out, cpTAG.err). Their
# processes are in e2e_pids, stopped on exit.

dp_pid= cp_pid= ch_pid= e2e_pids= e2e_extra_ns= e2e_extra_dp= e2e_redis_sock=
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
	for p in $ch_pid $cp_pid $e2e_pids $dp_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	for ns in "$dp_ns" "$cl_ns" $e2e_extra_ns; do ip netns del "$ns" 2>/dev/null || true; done
	for k in $(seq "${E2E_PEER_NS:-0}"); do ip netns del "sl-e2e-p$k-$id" 2>/dev/null || true; done
	rm -rf "/var/run/dpdk/sl-e2e-$id"
	for k in $e2e_extra_dp; do rm -rf "/var/run/dpdk/sl-e2e-$id-$k"; done
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

	dp_launch "$dp_ns" "d$id" 10.98.0.1 fd98::1 ""
	dp_pid=$dp_last_pid

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
	cp_start ${E2E_CP_ARGS:-}
}

# dp_launch NS IFACE IPV4 IPV6 TAG: sluice-dataplane on IFACE (net_af_packet)
# in namespace NS, control socket dpTAG.sock, log dpTAG.out, EAL file prefix
# sl-e2e-ID (sl-e2e-ID-TAG with a TAG); sets dp_last_pid once it is ready.
dp_launch() {
	local tag=$5
	ip netns exec "$1" env ${e2e_dp_env:-} "$build/dataplane/sluice-dataplane" \
		--vdev "net_af_packet0,iface=$2" --ipv4 "$3" --ipv6 "$4" --lcores 0,1 --huge off \
		--memory 512 --mbufs 8191 --history-mbufs 2047 --max-endpoints 64 \
		--file-prefix "sl-e2e-$id${tag:+-$tag}" --ctl-socket "$dir/dp$tag.sock" \
		--ctl-group nogroup >"$dir/dp$tag.out" 2>&1 &
	dp_last_pid=$!
	wait_for "$dir/dp$tag.out" "sluice-dataplane: ready" "$dp_last_pid" "dataplane$tag"
}

# e2e_add_dp K (after e2e_start; K = 2..9): dataplane K in its own namespace
# sl-e2e-dpK-ID on its own veth pair to the client namespace: the dataplane
# at 10.98.K.1 / fd98:K::1, the client end at 10.98.K.2/24, fd98:K::2/64;
# files dpK.sock and dpK.out, EAL file prefix sl-e2e-ID-K (both dataplanes
# run without hugepages, their workers on lcore 1).
e2e_add_dp() {
	local k=$1 ns="sl-e2e-dp$1-$id"
	ip netns add "$ns"
	e2e_extra_ns="$e2e_extra_ns $ns" e2e_extra_dp="$e2e_extra_dp $k"
	ip link add "d$k-$id" netns "$ns" type veth peer name "c$k-$id" netns "$cl_ns"
	ip -n "$ns" link set "d$k-$id" up
	ip netns exec "$ns" ethtool -K "d$k-$id" tx off rx off >/dev/null 2>&1 || true
	ip -n "$cl_ns" addr add "10.98.$k.2/24" dev "c$k-$id"
	ip -n "$cl_ns" addr add "fd98:$k::2/64" dev "c$k-$id" nodad
	ip -n "$cl_ns" link set "c$k-$id" up
	ip netns exec "$cl_ns" ethtool -K "c$k-$id" tx off >/dev/null
	dp_launch "$ns" "d$k-$id" "10.98.$k.1" "fd98:$k::1" "$k"
	e2e_pids="$dp_last_pid $e2e_pids"
}

# redis_start (before e2e_start): one redis-server for several control
# planes, as user nobody on the Unix socket $dir/redis/redis.sock (mode 0700,
# no TCP, nothing saved); redis() talks to it from then on.
redis_start() {
	mkdir -m 700 "$dir/redis"
	chown 65534:65534 "$dir/redis"
	e2e_redis_sock=$dir/redis/redis.sock
	setpriv --reuid=65534 --regid=65534 --clear-groups -- redis-server --port 0 \
		--unixsocket "$e2e_redis_sock" --unixsocketperm 700 --save '' --appendonly no \
		--dir "$dir/redis" >"$dir/redis/out" 2>&1 &
	e2e_pids="$! $e2e_pids"
	for _ in $(seq 50); do [ "$(redis PING 2>/dev/null)" = PONG ] && return 0; sleep 0.1; done
	fail "redis-server did not start"
}

# cp_start [OPTIONS...]: (re)starts the control plane with these extra
# options, logging to fresh cp.out/cp.err (stop the previous one first).
cp_start() {
	cp_launch "" 8080 "$@"
	cp_pid=$cp_last_pid
	for _ in $(seq 50); do [ "$(redis PING 2>/dev/null)" = PONG ] && break; sleep 0.1; done
}

# cp_launch TAG PORT [OPTIONS...]: a control plane on PORT in the client
# namespace, with dataplane socket dpTAG.sock, state directory stateTAG
# (made if missing), logs cpTAG.out and cpTAG.err; sets cp_last_pid once it
# is ready. A control plane other than the first (TAG non-empty) is added to
# e2e_pids.
cp_launch() {
	local tag=$1 port=$2
	shift 2
	rm -f "$dir/cp$tag.out" "$dir/cp$tag.err"
	if [ ! -d "$dir/state$tag" ]; then
		mkdir -m 700 "$dir/state$tag"
		chown 65534:65534 "$dir/state$tag"
	fi
	ip netns exec "$cl_ns" setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		"$dir/sluice-controlplane" --dataplane-socket "$dir/dp$tag.sock" \
		--state-dir "$dir/state$tag" --web-root "$dir/web" --port "$port" \
		--p2p "${E2E_P2P:-off}" "$@" >"$dir/cp$tag.out" 2>"$dir/cp$tag.err" &
	cp_last_pid=$!
	[ -z "$tag" ] || e2e_pids="$cp_last_pid $e2e_pids"
	wait_for "$dir/cp$tag.out" "sluice-controlplane: ready" "$cp_last_pid" "controlplane$tag"
}

# redis-cli on the control plane's embedded Redis. A meeting's keys are
# sl:{TAG}:*, so the tests look for what is left of meetings with
# --scan --pattern 'sl:{*'; the node's own heartbeat (sl:node:ID, sl:nodes)
# stays while the control plane runs.
# With redis_start, the shared redis-server instead.
redis() { redis-cli -s "${e2e_redis_sock:-$dir/state/redis.sock}" "$@"; }

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
