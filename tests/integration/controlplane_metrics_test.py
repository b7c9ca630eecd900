#!/usr/bin/python3
"""controlplane_metrics_test.py - Prometheus metrics at /metrics (--metrics-listen).

Usage: controlplane_metrics_test.py PATH/TO/sluice-controlplane SRCDIR

The control plane, Redis and the fake dataplane of controlplane_test.py
(which answers SL_CTL_COUNTERS_GET and SL_CTL_WORKER_STATS_GET with
figures that grow on every request). Every scrape is parsed strictly as the
Prometheus text format (version 0.0.4): every line a # HELP, # TYPE or
sample, every name sluice_*, each family HELP'd and TYPE'd once before its
samples, no sample twice, histogram buckets cumulative. Label values must
come from fixed sets: no room name, display name or IP address used in the
test may appear anywhere in a scrape. SL_CASES=1,3 runs only those cases.
Output: "ok N - name" / "not ok N - name: why".
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import controlplane_entry_test as et  # noqa: E402
import controlplane_test as ct  # noqa: E402

import re  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from controlplane_test import Env, check  # noqa: E402
from controlplane_entry_test import join_msg, msgs, state_of  # noqa: E402

NAME = re.compile(r"sluice_[a-z0-9_]+\Z")
LABELS = re.compile(r'([a-z_][a-z0-9_]*)="([^"\\\n]*)"(?:,|\Z)')
SAMPLE = re.compile(r"(sluice_[a-z0-9_]+)(?:\{(.*)\})? (\S+)\Z")
LABEL_VALUE = re.compile(r"[a-z0-9_.+]+|\+Inf\Z")
SCRAPE_MS = []  # every scrape's duration, for the report

def parse(body):
    """Strict text-format parse: {(name, labels-tuple): value}, {family: type}."""
    check(body.endswith("\n"), "the exposition does not end with a newline")
    types, helps, samples, family = {}, set(), {}, None
    for n, line in enumerate(body[:-1].split("\n"), 1):
        where = f"line {n} {line[:100]!r}"
        if line.startswith("# HELP "):
            name, _, text = line[7:].partition(" ")
            check(NAME.match(name) and text, f"bad HELP: {where}")
            check(name not in helps, f"HELP twice for {name}")
            helps.add(name)
            family = name
            continue
        if line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            check(NAME.match(name) and typ in ("counter", "gauge", "histogram"), f"bad TYPE: {where}")
            check(name not in types, f"TYPE twice for {name}")
            check(name == family, f"TYPE without its HELP just before: {where}")
            types[name] = typ
            continue
        m = SAMPLE.match(line)
        check(m, f"not a sample: {where}")
        name, labels, value = m.groups()
        fam = family if family in types else None
        check(fam, f"sample before any TYPE: {where}")
        ok = name == fam or (types[fam] == "histogram" and name in (fam + "_bucket", fam + "_sum",
                                                                    fam + "_count"))
        check(ok, f"sample {name} not of the family {fam} it follows: {where}")
        lab = ()
        if labels is not None:
            pairs, pos = [], 0
            for lm in LABELS.finditer(labels):
                check(lm.start() == pos, f"bad labels: {where}")
                pairs.append(lm.groups())
                pos = lm.end()
            check(pos == len(labels) and pairs, f"bad labels: {where}")
            check(len({k for k, _ in pairs}) == len(pairs), f"a label twice: {where}")
            lab = tuple(sorted(pairs))
        try:
            v = float(value)
        except ValueError:
            raise ct.Fail(f"bad value: {where}")
        check(v == v and (types[fam] == "gauge" or v >= 0), f"bad value: {where}")
        check((name, lab) not in samples, f"sample twice: {where}")
        samples[(name, lab)] = v
    for fam, typ in types.items():
        check(any(k[0].startswith(fam) for k in samples), f"family {fam} has no sample")
        if typ == "histogram":
            b = [(k, v) for k, v in samples.items() if k[0] == fam + "_bucket"]
            les = [float(dict(k[1])["le"]) for k, _ in b]
            check(les == sorted(les) and les[-1] == float("inf"), f"{fam}: buckets {les}")
            vals = [v for _, v in b]
            check(vals == sorted(vals), f"{fam}: buckets not cumulative {vals}")
            check(vals[-1] == samples[(fam + "_count", ())], f"{fam}: +Inf != count")
    return samples, types

def http(port, request, timeout=5.0, host="127.0.0.1"):
    """Send raw bytes, return (status, body) of the answer ('' status: closed without one)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        s.sendall(request)
        data = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
        except ConnectionResetError:
            pass
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].decode(errors="replace")
    return status, body.decode(errors="replace"), head.decode(errors="replace")

def scrape(port, host="127.0.0.1"):
    t = time.monotonic()
    status, body, head = http(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", host=host)
    SCRAPE_MS.append((time.monotonic() - t) * 1000)
    check(status == "HTTP/1.1 200 OK", f"GET /metrics: {status!r}")
    check("text/plain; version=0.0.4" in head, f"content type: {head}")
    m = re.search(r"Content-Length: (\d+)", head)
    check(m and int(m.group(1)) == len(body.encode()), "Content-Length disagrees with the body")
    samples, types = parse(body)
    return samples, types, body

def v(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))

def no_personal_data(body, words):
    for w in sorted(words):
        check(w not in body, f"the metrics hold {w!r}")
    for line in body.split("\n"):
        if line.startswith("#") or "{" not in line:
            continue
        for _, val in LABELS.findall(line[line.index("{") + 1:line.rindex("}")]):
            check(LABEL_VALUE.fullmatch(val), f"label value {val!r} is not from a fixed set")

def listening(pid):
    """TCP ports the process listens on (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        t = os.readlink(f"/proc/{pid}/fd/{fd}") if os.path.exists(f"/proc/{pid}/fd/{fd}") else ""
        m = re.fullmatch(r"socket:\[(\d+)\]", t)
        if m:
            inodes.add(m.group(1))
    ports = set()
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(f).read().split("\n")[1:]:
            p = line.split()
            if len(p) > 9 and p[3] == "0A" and p[9] in inodes:
                ports.add(int(p[1].rsplit(":", 1)[1], 16))
    return ports

def metrics_env(**kw):
    port = ct.free_port()
    env = Env(args=("--metrics-listen", f"127.0.0.1:{port}", *kw.pop("args", ())), **kw)
    env.mport = port
    return env

# ---------------------------------------------------------------- cases

def case_off_by_default():
    """Without --metrics-listen the control plane listens on its HTTP port only."""
    with Env() as env:
        check(listening(env.cp.pid) == {env.port}, f"listening on {listening(env.cp.pid)}")
    with metrics_env() as env:
        check(listening(env.cp.pid) == {env.port, env.mport},
              f"with the option, listening on {listening(env.cp.pid)}")

def case_bad_option():
    """A bad --metrics-listen stops the start with a message naming it (exit 2);
    an address in use stops it too (exit 1)."""
    for bad in ("127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "1.2.3:80",
                "localhost:9100", "::1:9100", "[::1]", "[::1]9100", "[127.0.0.1]:9100",
                "127.0.0.1:9100x", ":9100", "127.0.0.1:-1", "[]:80", ""):
        r = subprocess.run([ct.CP_BIN, "--metrics-listen", bad], capture_output=True, text=True,
                           timeout=10)
        check(r.returncode == 2 and "--metrics-listen" in r.stderr,
              f"--metrics-listen {bad!r}: rc {r.returncode}, {r.stderr.strip()[:200]!r}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        d = tempfile.mkdtemp(prefix="slmx-")
        try:
            r = subprocess.run([ct.CP_BIN, "--metrics-listen", f"127.0.0.1:{port}",
                                "--port", str(ct.free_port()), "--state-dir", d + "/state",
                                "--dataplane-socket", d + "/none.sock",
                                "--redis", "unix:" + d + "/none.redis"],
                               capture_output=True, text=True, timeout=20)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        check(r.returncode == 1 and "--metrics-listen" in r.stderr and "in use" in r.stderr,
              f"a port in use: rc {r.returncode}, {r.stderr.strip()[-200:]!r}")

def case_counters_move():
    """Meetings, participants, joins, refusals by reason, message types (an
    unknown type is 'unknown', never its text), a DTLS handshake in the
    histogram, Redis, and the dataplane's counters and workers, all moving;
    nothing personal anywhere."""
    with metrics_env(args=("--join-burst", "3", "--join-rate", "1"), workers=2) as env:
        s0, types, body0 = scrape(env.mport)
        check(types.get("sluice_participants") == "gauge", "no sluice_participants gauge")
        check(v(s0, "sluice_participants") == 0 and v(s0, "sluice_meetings") == 0, "not idle")
        check(v(s0, "sluice_dataplane_up") == 1 and v(s0, "sluice_redis_up") == 1, "up gauges")
        check(types.get("sluice_dtls_handshake_seconds") == "histogram", "no DTLS histogram")
        check(v(s0, "sluice_dataplane_workers") == 2, "worker count")
        room, names = "Metrics-Room-Quartz-Heron", ["Mia Metricsperson", "Max Lockedout"]
        s = ct.media_session(env, room, names[0])  # join 1, and a DTLS handshake
        ct.NAMES.add(names[0])
        ct.ROOM_NAMES.add(room)
        check(env.dp.wait(ct.is_type(ct.T_EP_ADD), 10) is not None, "no EP_ADD")
        a = s["ws"]
        a.send(dict(type="lock", locked=True))
        state_of(a, locked=True)
        b = env.ws()
        b.send(join_msg(room, names[1]))  # join 2: locked
        b.expect_error("locked")
        c = env.ws()
        c.send(join_msg("Metrics-Room-Other-Lake", "Cid Throttled"))  # join 3: still in the burst
        c.expect("joined")
        d = env.ws()
        d.send(join_msg("Metrics-Room-Third-Fern", "Dee Throttled"))  # join 4: throttled
        d.expect_error("throttled")
        secret_type = "Secret-Type-Pelican-Name"
        for w, m in ((b, {"type": secret_type}), (b, {"type": "dance"}), (b, '{"type":')):
            w.send(m)
            msgs(w, 0.2)
        s1, _, body1 = scrape(env.mport)
        check(v(s1, "sluice_participants") == 2 and v(s1, "sluice_meetings") == 2,
              f"participants {v(s1, 'sluice_participants')} meetings {v(s1, 'sluice_meetings')}")
        check(v(s1, "sluice_participants_connected") == 1, "connected")
        check(v(s1, "sluice_joins_total") == 2, f"joins {v(s1, 'sluice_joins_total')}")
        for reason, want in (("locked", 1), ("throttled", 1), ("room_full", 0), ("other", 0)):
            got = v(s1, "sluice_join_failures_total", reason=reason)
            check(got == want, f"join failures {reason}: {got}, expected {want}")
        for typ, want in (("join", 4), ("lock", 1), ("answer", 1), ("chat", 0)):
            got = v(s1, "sluice_signalling_messages_total", type=typ)
            check(got == want, f"messages {typ}: {got}, expected {want}")
        check(v(s1, "sluice_signalling_messages_total", type="unknown") == 3, "unknown types")
        check(v(s1, "sluice_signalling_bad_messages_total") >= 3, "bad messages")
        check(v(s1, "sluice_dtls_handshakes_total", result="ok") == 1, "DTLS ok")
        check(v(s1, "sluice_dtls_handshake_seconds_count") == 1 and
              0 < v(s1, "sluice_dtls_handshake_seconds_sum") < 20, "DTLS histogram")
        check(v(s1, "sluice_stun_checks_total", result="ok") >= 1, "STUN ok")
        for name in ("sluice_dataplane_rx_packets_total", "sluice_dataplane_tx_bytes_total",
                     "sluice_dataplane_link_fault_recovered_total"):
            check(v(s1, name) > v(s0, name), f"{name} did not grow")
        for reason in ("runt", "auth", "link_down"):
            check(v(s1, "sluice_dataplane_drops_total", reason=reason) >
                  v(s0, "sluice_dataplane_drops_total", reason=reason), f"drops {reason}")
        check(v(s1, "sluice_dataplane_drop_runt_total") is None, "drop_ counters outside drops")
        check(v(s1, "sluice_dataplane_srtp_errors_total", error="auth") ==
              v(s1, "sluice_dataplane_drops_total", reason="auth"), "srtp errors")
        for w in ("0", "1"):
            for name in ("sluice_dataplane_worker_rx_packets_total",
                         "sluice_dataplane_worker_tx_bytes_total",
                         "sluice_dataplane_worker_busy_seconds_total",
                         "sluice_dataplane_worker_seconds_total"):
                check(v(s1, name, worker=w) > v(s0, name, worker=w), f"{name} worker {w}")
            check(v(s1, "sluice_dataplane_worker_busy_ratio", worker=w) == 0.25, "busy ratio")
            check(v(s1, "sluice_dataplane_worker_history_mbufs_in_use", worker=w) == 5 + int(w),
                  "history mbufs")
        check(v(s1, "sluice_dataplane_worker_rx_packets_total", worker="1") ==
              v(s1, "sluice_dataplane_worker_rx_packets_total", worker="0") + 1, "per worker")
        check(v(s1, "sluice_dataplane_packet_mbufs") == 8191 and
              v(s1, "sluice_dataplane_packet_mbufs_in_use") == 100, "packet pool")
        check(v(s1, "sluice_metrics_requests_total", result="ok") >= 1, "own requests")
        words = {room, secret_type, *names, "Metrics-Room-Other-Lake", "Cid Throttled",
                 "Metrics-Room-Third-Fern", "Dee Throttled", ct.CLIENT_IP, ct.DP_IP, "127.0.0.1",
                 "Mia", "Lockedout", "Pelican"}
        for body in (body0, body1):
            no_personal_data(body, words)
        print(f"# /metrics: {len(body1)} bytes, {len(s1)} samples, {len(types)} families, "
              f"scrape {min(SCRAPE_MS):.1f}-{max(SCRAPE_MS):.1f} ms", flush=True)

def case_dataplane_down():
    """Without a dataplane, or with one that does not answer within a second,
    the control plane's own metrics are served with sluice_dataplane_up 0."""
    with metrics_env() as env:
        env.dp.defer = {ct.T_COUNTERS_GET, ct.T_WORKER_STATS_GET}
        t = time.monotonic()
        s, _, _ = scrape(env.mport)
        took = time.monotonic() - t
        check(0.8 < took < 3, f"a silent dataplane: the scrape took {took:.2f} s")
        check(v(s, "sluice_dataplane_up") == 0 and v(s, "sluice_participants") == 0,
              "silent dataplane: up or participants")
        env.dp.defer = set()
        env.dp.release()  # late answers to a fetch that gave up: ignored
        s, _, _ = scrape(env.mport)
        check(v(s, "sluice_dataplane_up") == 1, "the dataplane answers again")
        env.dp.crash()
        wait = ct.wait_until
        wait(lambda: v(scrape(env.mport)[0], "sluice_dataplane_up") == 0, 5, "dataplane down")
        s, _, _ = scrape(env.mport)
        check(v(s, "sluice_dataplane_rx_packets_total") is None and
              v(s, "sluice_dataplane_workers") is None, "dataplane figures without a dataplane")
        check(v(s, "sluice_meetings") == 0, "own metrics without a dataplane")
        env.dp.restart()
        wait(lambda: v(scrape(env.mport)[0], "sluice_dataplane_up") == 1, 10, "dataplane back")

def case_requests():
    """Only GET /metrics: 404 elsewhere, 405 for other methods, 400 for no
    HTTP, 431 past 2 KiB of head; four connections at once, more closed;
    a silent connection closed after 5 s; the scrape itself counted."""
    with metrics_env() as env:
        p = env.mport
        for req, want in ((b"GET / HTTP/1.1\r\n\r\n", "404"),
                          (b"GET /metricsx HTTP/1.1\r\n\r\n", "404"),
                          (b"GET /metrics/../x HTTP/1.0\r\n\r\n", "404"),
                          (b"GET /metrics?x=1 HTTP/1.0\r\n\r\n", "200"),
                          (b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "405"),
                          (b"HEAD /metrics HTTP/1.1\r\n\r\n", "405"),
                          (b"hello there\r\n\r\n", "400"),
                          (b"GET /metrics SPDY/3\r\n\r\n", "400"),
                          (b"GET /metrics HTTP/1.1\r\nX: \x00\r\n\r\n", "400"),
                          (b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 3000 + b"\r\n\r\n", "431"),
                          (b"GET /metrics HTTP/1.1\n\n", "200")):
            status, body, _ = http(p, req)
            check(status.split(" ")[1:2] == [want], f"{req[:40]!r}: {status!r}, expected {want}")
        idle = [socket.create_connection(("127.0.0.1", p)) for _ in range(4)]
        try:
            time.sleep(0.3)
            extra = socket.create_connection(("127.0.0.1", p))
            extra.settimeout(2)
            try:
                got = extra.recv(100)
            except (ConnectionResetError, socket.timeout) as e:
                got = e
            extra.close()
            check(got == b"" or isinstance(got, ConnectionResetError),
                  f"a fifth connection was not closed at once: {got!r}")
            t = time.monotonic()
            idle[0].settimeout(8)
            check(idle[0].recv(100) == b"", "an idle connection got data")
            took = time.monotonic() - t
            check(3 < took < 7, f"an idle connection closed after {took:.1f} s")
        finally:
            for s in idle:
                s.close()
        time.sleep(0.2)
        s, _, _ = scrape(p)
        check(v(s, "sluice_metrics_requests_total", result="busy") >= 1, "busy not counted")
        check(v(s, "sluice_metrics_requests_total", result="not_found") == 3, "404s counted")
        check(v(s, "sluice_metrics_requests_total", result="too_large") == 1, "431 counted")

def case_ipv6():
    """An IPv6 literal in brackets."""
    port = ct.free_port()
    with Env(args=("--metrics-listen", f"[::1]:{port}")) as env:
        s, _, _ = scrape(port, host="::1")
        check(v(s, "sluice_dataplane_up") == 1, "IPv6 scrape")
        _ = env

def case_logs_clean():
    logs = "".join(ct.STDERR_LOGS)
    check(logs, "no control plane stderr was captured")
    for word in sorted(ct.ROOM_NAMES | ct.NAMES):
        check(word not in logs, f"the control plane logged {word[:20]!r}")

CASES = [("off unless --metrics-listen", case_off_by_default),
         ("a bad --metrics-listen is refused", case_bad_option),
         ("counters move, no personal data", case_counters_move),
         ("a dataplane down or silent", case_dataplane_down),
         ("only GET /metrics, bounded", case_requests), ("IPv6 listener", case_ipv6),
         ("no room or display name in the logs", case_logs_clean)]

if __name__ == "__main__":
    et.main("controlplane_metrics_test.py", CASES)
