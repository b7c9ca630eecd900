#!/usr/bin/python3
"""dataplane_telemetry_test.py - the dataplane's figures for the operator.

Usage: dataplane_telemetry_test.py PATH/TO/sluice-dataplane SRCDIR

Runs the real sluice-dataplane (one worker, no hugepages) on a net_null
port twice: once receiving as fast as the PMD makes packets (every poll
turn busy), once with no-rx (every turn idle). Each time it reads
 - DPDK telemetry (/var/run/dpdk/PREFIX/dpdk_telemetry.v2, the socket
   dpdk-telemetry.py reads): /sluice/counters must name every counter of
   SL_COUNTERS in include/sluice/ctl.h, /sluice/workers the per-worker
   figures, with busy_ppm near 1000000 when flooded and 0 when idle;
 - the control socket: SL_CTL_COUNTERS_GET and SL_CTL_WORKER_STATS_GET
   answered with well-formed COUNTERS and WORKER_STATS.
No packet leaves the process (net_null). Output: "ok N - name" lines.
"""
import json, os, re, shutil, socket, struct, subprocess, sys, tempfile, time

HDR = struct.Struct("=HHIII")
WSTAT = struct.Struct("=IIIIQ")
WREC = struct.Struct("=QQQQQQII")
T_COUNTERS_GET, T_WORKER_STATS_GET, T_COUNTERS, T_WORKER_STATS = 10, 11, 68, 69

class Fail(Exception):
    pass

def check(cond, why):
    if not cond:
        raise Fail(why)

def counter_names(src):
    with open(os.path.join(src, "include", "sluice", "ctl.h")) as f:
        body = re.search(r"#define SL_COUNTERS\(X\)(.*?)\n\n", f.read(), re.S).group(1)
    return re.findall(r"X\((\w+)\)", body)

def telemetry(path, cmd):
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(5)
        s.connect(path)
        hello = json.loads(s.recv(16384))
        check("version" in hello, f"telemetry greeting {hello}")
        s.send(cmd.encode())
        return json.loads(s.recv(65536))[cmd]

def ctl(path, *types):
    """Ask the control socket each request type in turn, on ONE connection
    (the dataplane serves one client at a time: a second connection made
    before it has seen the first one close is refused). [(type, body)]."""
    out = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(5)
        s.connect(path)
        for i, typ in enumerate(types):
            seq = 77 + i
            s.send(HDR.pack(1, typ, 16, seq, 0))
            while True:
                b = s.recv(4096)
                ver, t, ln, got, rsvd = HDR.unpack_from(b)
                if got == seq:
                    check(ver == 1 and ln == len(b) and not rsvd, f"bad answer header {t} {ln}")
                    out.append((t, b[16:]))
                    break
    return out

def run(dp, src, no_rx):
    d = tempfile.mkdtemp(prefix="sltel-")
    prefix = f"sl-tel-{os.getpid()}-{int(no_rx)}"
    vdev = "net_null0" + (",no-rx=1" if no_rx else "")
    out = open(os.path.join(d, "out"), "w+")
    p = subprocess.Popen([dp, "--vdev", vdev, "--ipv4", "10.0.0.1", "--lcores", "0,1",
                          "--huge", "off", "--memory", "256", "--mbufs", "4095",
                          "--history-mbufs", "255", "--max-streams", "64", "--max-subs", "64",
                          "--max-endpoints", "16", "--file-prefix", prefix,
                          "--ctl-socket", os.path.join(d, "ctl.sock")],
                         stdout=out, stderr=subprocess.STDOUT)
    tel = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
    try:
        end = time.monotonic() + 20
        while time.monotonic() < end and p.poll() is None:
            out.seek(0)
            if "sluice-dataplane: ready" in out.read() and os.path.exists(tel):
                break
            time.sleep(0.1)
        out.seek(0)
        check(p.poll() is None and os.path.exists(tel), f"dataplane not up: {out.read()[-500:]}")
        names = counter_names(src)
        c1 = telemetry(tel, "/sluice/counters")
        check(list(c1) == names, f"/sluice/counters names: {list(c1)[:5]}... vs ctl.h")
        check(all(isinstance(v, int) and v >= 0 for v in c1.values()), "counter values")
        check("/sluice/counters" in telemetry(tel, "/"), "commands list lacks /sluice/counters")
        time.sleep(1.5)  # a full second of busy accounting (the worker may be preempted: the
        # figures read later are at least those read earlier, not necessarily more)
        w = telemetry(tel, "/sluice/workers")
        c2 = telemetry(tel, "/sluice/counters")
        check(w["n_workers"] == 1 and w["pool_size"] == 4095 and w["hist_size"] == 255 and
              0 <= w["pool_in_use"] <= 4095 and w["tsc_hz"] > 0, f"/sluice/workers: {w}")
        w0 = w["worker_0"]
        check(0 < w0["busy_cycles"] <= w0["cycles"] or (no_rx and w0["busy_cycles"] == 0),
              f"cycles {w0}")
        check(0 <= w0["busy_ppm"] <= 1000000 and 0 <= w0["hist_in_use"] <= 255, f"{w0}")
        if no_rx:
            check(w0["busy_ppm"] == 0 and w0["rx_packets"] == 0 and c2["rx_packets"] == 0,
                  f"idle worker: {w0}")
        else:
            check(w0["busy_ppm"] > 900000, f"flooded worker busy_ppm {w0['busy_ppm']}")
            check(c2["rx_packets"] > c1["rx_packets"] > 0, "rx_packets did not grow")
            check(c2["drop_not_for_us"] > 0, "null frames not dropped as not_for_us")
        # The same over the control socket.
        (t, body), (t2, body2) = ctl(os.path.join(d, "ctl.sock"), T_COUNTERS_GET,
                                     T_WORKER_STATS_GET)
        n, pad = struct.unpack_from("=II", body)
        check(t == T_COUNTERS and n == len(names) and not pad and len(body) == 8 + 8 * n,
              f"COUNTERS: type {t} n {n} len {len(body)}")
        t, body = t2, body2
        check(t == T_WORKER_STATS and len(body) == WSTAT.size + WREC.size,
              f"WORKER_STATS: type {t} len {len(body)}")
        n, size, in_use, hist, hz = WSTAT.unpack_from(body)
        rx, rxb, tx, txb, busy, cycles, ppm, hin = WREC.unpack_from(body, WSTAT.size)
        check(n == 1 and size == 4095 and in_use <= size and hist == 255 and hz == w["tsc_hz"],
              f"WORKER_STATS fixed part {n} {size} {in_use} {hist} {hz}")
        check(busy <= cycles and cycles >= w0["cycles"] and ppm <= 1000000 and
              (rx == 0 if no_rx else rx >= w0["rx_packets"] > 0),
              f"WORKER_STATS record {(rx, busy, cycles, ppm, hin)} after telemetry's {w0}")
        return w0["busy_ppm"]
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        out.close()
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)

def main():
    if len(sys.argv) != 3:
        sys.exit("usage: dataplane_telemetry_test.py PATH/TO/sluice-dataplane SRCDIR")
    dp, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    failed = 0
    for n, (name, no_rx) in enumerate((("a flooded worker", False), ("an idle worker", True)), 1):
        try:
            ppm = run(dp, src, no_rx)
            print(f"ok {n} - {name}: busy fraction {ppm / 1e6:.3f}", flush=True)
        except Fail as e:
            print(f"not ok {n} - {name}: {e}", flush=True)
            failed += 1
    sys.exit(1 if failed else 0)

if __name__ == "__main__":
    main()
