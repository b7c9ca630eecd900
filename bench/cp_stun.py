#!/usr/bin/python3
"""cp_stun.py - control-plane CPU per ICE consent check, against N participants.

Usage: bench/cp_stun.py PATH/TO/sluice-controlplane [--n 100,1000,5000]
                        [--interval 5] [--seconds 20] [--json FILE]

Not a test (nothing here asserts a time). For each N it starts Redis, a
minimal fake dataplane (tests/integration/controlplane_test.py's wire
format; it answers every request and counts STUN answers) and
sluice-controlplane, opens N WebSockets that each join (32 per meeting),
then sends every participant's valid binding request (USE-CANDIDATE, the
participant's own source tuple) once every --interval seconds, evenly
spread, for --seconds. It reads the control plane's CPU time (utime +
stime from /proc) over that window (extended until the last answers
arrived) and prints CPU microseconds per check the control plane served
(its stun_ok counter at exit; the fake dataplane may miss answers when the
machine is loaded) and the share of one core that N participants' checks cost at that rate (us/check x N /
interval). It raises its open-file limit to the hard one (the control
plane inherits it) and runs the control plane with --max-connections
100000 --max-connections-per-ip 0 (all participants come from 127.0.0.1).

The participants join and answer their offer (publishing nothing) but do
not run DTLS (5,000 handshakes would
dominate the run); their ICE checks take the same path as a connected
one's (ufrag lookup, validation, answer, consent bookkeeping), and they
are kept by large --pending-* caps and a 120 s --handshake-timeout.
Chromium sends consent checks every ~5 s (RFC 7675 allows 4-6 s), pion
every 2 s on an idle pair; the default interval is 5 s.
"""
import argparse, asyncio, json, os, re, resource, socket, struct, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import controlplane_test as t  # noqa: E402 (wire format, STUN builder, Redis helper)
import websockets  # noqa: E402


RUNNING = []


class LeanDataplane:
    """Answers HELLO with INFO (capacity 65535) and every request with a REPLY;
    counts PKT_DOWNs. PKT_UPs are sent from the caller's thread."""
    def __init__(self, path):
        self.ls = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.ls.bind(path)
        self.ls.listen(1)
        self.conn, self.downs, self.lock = None, 0, threading.Lock()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        self.conn = self.ls.accept()[0]
        while True:
            try:
                b = self.conn.recv(65536)
            except OSError:
                return
            if not b:
                return
            ver, typ, ln, seq, _ = t.HDR.unpack_from(b)
            if typ == t.T_HELLO:
                info = t.INFO.pack(1, t.BASE_PORT, 1, 0, bytes(2), socket.inet_aton(t.DP_IP),
                                   bytes(16), 65535, 0)
                self.send(t.HDR.pack(1, t.T_INFO, 52, seq, 0) + info)
                continue
            self.send(t.HDR.pack(1, t.T_REPLY, 24, seq, 0) + t.REPLY.pack(0, typ, 0))
            if typ == t.T_PKT_DOWN:
                self.downs += 1

    def send(self, b):
        with self.lock:
            self.conn.send(b)

    def pkt_up(self, rport, data):
        body = t.PKT.pack(t.pack_addr(rport), t.K_STUN, 0, len(data), 0) + data
        self.send(t.HDR.pack(1, t.T_PKT_UP, 16 + len(body), 0, 0) + body)


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_answer(offer):
    """An answer that publishes nothing (no re-offers to the others), so the
    participant stays until --handshake-timeout without DTLS."""
    sdp = t.make_answer(offer, ":".join(["AB"] * 32))  # no DTLS: any sha-256 value
    return re.sub(r"a=sendonly\r\na=ssrc:\d+ cname:x", "a=inactive", sdp)


async def join_one(port, i):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["sluice-v1"],
                                  ping_interval=None, max_size=1 << 22)
    await ws.send(json.dumps(dict(type="join", room=f"bench-room-{i // 32}", name="b")))
    while True:
        m = json.loads(await ws.recv())
        if m["type"] == "offer":
            o = t.parse_offer(m["sdp"])
            # answered: no kick after the 15 s offer timeout
            await ws.send(json.dumps(dict(type="answer", version=m["version"],
                                          sdp=bench_answer(o))))
            return ws, (o["ufrag"], o["pwd"])
        if m["type"] == "error":
            raise SystemExit(f"join {i} refused: {m}")


async def join_all(port, n, batch=100):
    """Joins in concurrent batches: 5,000 one after the other would outlast
    the 120 s handshake timeout that keeps them."""
    out = []
    for b in range(0, n, batch):
        out += await asyncio.gather(*(join_one(port, i) for i in range(b, min(n, b + batch))))
    return [w for w, _ in out], [c for _, c in out]


async def drain(conns):
    async def one(ws):
        try:
            while True:
                await ws.recv()
        except Exception:
            pass
    await asyncio.gather(*(one(w) for w in conns))


def run_one(cp_bin, n, interval, seconds):
    d = tempfile.mkdtemp(prefix="slcp-bench-")
    redis = t.Redis(d)
    dp = LeanDataplane(os.path.join(d, "dp.sock"))
    port = t.free_port()
    cp = subprocess.Popen([cp_bin, "--dataplane-socket", os.path.join(d, "dp.sock"),
                           "--state-dir", os.path.join(d, "state"), "--listen", "127.0.0.1",
                           "--port", str(port), "--redis", "unix:" + redis.sock,
                           "--handshake-timeout", "120", "--pending-max", "100000",
                           "--pending-room-max", "32", "--join-burst", "1000000",
                           "--join-rate", "1000000", "--room-join-burst", "1000000",
                           "--max-connections", "100000", "--max-connections-per-ip", "0",
                           "--stats", "0", "--log-level", "info"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=open(os.path.join(d, "cp.err"), "w"))
    res = None
    try:
        cp.stdout.readline()  # "ready on port"
        print(f"controlplane pid {cp.pid}", file=sys.stderr, flush=True)
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True).start()
        tj = time.monotonic()
        conns, creds = asyncio.run_coroutine_threadsafe(join_all(port, n), loop).result(600)
        print(f"{n} joined and answered in {time.monotonic() - tj:.1f} s", file=sys.stderr,
              flush=True)
        asyncio.run_coroutine_threadsafe(drain(conns), loop)
        reqs = [t.stun_request(f"{u}:{t.CLIENT_UFRAG}", p, os.urandom(12)) for u, p in creds]
        time.sleep(1.0)
        period = interval / n
        d0, c0, t0 = dp.downs, cpu_s(cp.pid), time.monotonic()
        i = 0
        while True:
            due = t0 + i * period
            now = time.monotonic()
            if now - t0 >= seconds:
                break
            if due > now:
                time.sleep(due - now)
            k = i % n
            dp.pkt_up(20000 + k, reqs[k])  # one source tuple per participant
            i += 1
        # wait for the answers still on their way (a loaded client or server
        # lags), until all came or none for 2 s; the CPU read then covers them
        last, still = dp.downs, time.monotonic()
        while dp.downs - d0 < i and time.monotonic() - still < 2.0:
            time.sleep(0.1)
            if dp.downs != last:
                last, still = dp.downs, time.monotonic()
        c1, t1, d1 = cpu_s(cp.pid), time.monotonic(), dp.downs
        answered = d1 - d0
        us = (c1 - c0) / max(answered, 1) * 1e6
        res = dict(n=n, interval_s=interval, checks_sent=i, checks_answered=answered,
                   cpu_s=round(c1 - c0, 3), wall_s=round(t1 - t0, 2),
                   us_per_check=round(us, 1),
                   # the share of one core for N participants' keepalives at
                   # one check per interval each: us/check x N / interval
                   core_pct=round(us * n / interval / 1e4, 2))
        RUNNING.append(loop)  # left running: its connections die with the control plane
    finally:
        cp.terminate()
        cp.wait(10)
        # the checks the control plane validated (its exit stats): an answer
        # the fake dataplane's socket could not take is still a check served
        ok = [int(m) for m in re.findall(r"stun_ok=(\d+)", open(os.path.join(d, "cp.err")).read())]
        if res and ok:
            res["checks_processed"] = ok[-1]
            us = res["cpu_s"] / max(ok[-1], 1) * 1e6
            res["us_per_check"] = round(us, 1)
            res["core_pct"] = round(us * n / interval / 1e4, 2)
        redis.stop()
        subprocess.run(["rm", "-rf", d])
    return res


def raise_nofile():
    """N WebSockets need N descriptors here and in the control plane (which
    inherits the limit): raise the soft open-file limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main():
    raise_nofile()
    ap = argparse.ArgumentParser()
    ap.add_argument("cp")
    ap.add_argument("--n", default="100,1000,5000")
    ap.add_argument("--interval", type=float, default=5.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--json")
    a = ap.parse_args()
    out = []
    print(f"{'N':>6} {'checks':>8} {'answered':>8} {'served':>8} {'cpu s':>7} {'us/check':>9} "
          f"{'% core':>7}")
    for n in [int(x) for x in a.n.split(",")]:
        r = run_one(os.path.abspath(a.cp), n, a.interval, a.seconds)
        out.append(r)
        print(f"{r['n']:>6} {r['checks_sent']:>8} {r['checks_answered']:>8} "
              f"{r.get('checks_processed', '?'):>8} {r['cpu_s']:>7} "
              f"{r['us_per_check']:>9} {r['core_pct']:>7}", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
