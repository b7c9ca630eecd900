#!/usr/bin/python3
"""cp_password.py - signalling latency for other clients while password joins arrive.

Usage: bench/cp_password.py PATH/TO/sluice-controlplane [--joins 50] [--over 1.0]
                            [--probes 8] [--json FILE]

Not a test (nothing here asserts a time). Meeting passwords are argon2id
hashes (m = 19 MiB, t = 2): each check costs tens of milliseconds of CPU,
so the control plane runs them on a thread pool and its single-threaded
loop must keep answering everyone else. This starts Redis, the fake
dataplane of tests/integration/controlplane_test.py and the control plane
(join throttles lifted: every client is on loopback), then:

  * --probes moderators, each in a meeting of its own, toggle their
    meeting's lock every 20 ms and time the round trip to the
    `meeting_state` that answers it: the latency other clients see;
  * phase "idle": 3 s of probes alone (the reference, same run);
  * phase "joins": --joins clients join one meeting that has a password,
    spread evenly over --over seconds, each from its own loopback source
    address (127.0.0.x: the guess guard allows one check in flight per
    meeting and address); two in five send a wrong password. Probes run
    until the last join is answered.

It prints, per phase, the probe round trips (p50, p99, max, in ms), how long
the joins took to be answered, and the control plane's CPU; the issue's
target is a p99 under 5 ms during the joins.
"""
import argparse, asyncio, json, os, random, shutil, statistics, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import controlplane_test as t  # noqa: E402 (fake dataplane, Redis, Env)
import websockets  # noqa: E402

PASSWORD = "bench-password-1234"


async def connect(port, src="127.0.0.1"):
    return await websockets.connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["sluice-v1"],
                                    ping_interval=None, close_timeout=1, max_size=1 << 20,
                                    local_addr=(src, 0))


async def recv_type(ws, *types):
    while True:
        m = json.loads(await ws.recv())
        if m.get("type") in types or (m.get("type") == "error" and "error" in types):
            return m


async def probe(port, n, stop, out):
    ws = await connect(port)
    await ws.send(json.dumps(dict(type="join", room=f"Probe-Room-{n}-Quiet-Otter", name="p")))
    await recv_type(ws, "joined")
    locked = False
    while not stop.is_set():
        locked = not locked
        t0 = time.perf_counter()
        await ws.send(json.dumps(dict(type="lock", locked=locked)))
        await recv_type(ws, "meeting_state")
        out.append((time.monotonic(), (time.perf_counter() - t0) * 1000))
        await asyncio.sleep(0.02)
    await ws.close()


async def joiner(port, i, delay, results):
    await asyncio.sleep(delay)
    ws = await connect(port, f"127.0.0.{10 + i}")
    wrong = i % 5 in (1, 3)
    t0 = time.perf_counter()
    await ws.send(json.dumps(dict(type="join", room="Bench-Room-Locked-Walrus", name=f"j{i}",
                                  password="not-it" if wrong else PASSWORD)))
    m = await recv_type(ws, "joined", "lobby_wait", "error")
    results.append(dict(wrong=wrong, ms=(time.perf_counter() - t0) * 1000,
                        got=m.get("code") or m.get("type")))
    return ws


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def summary(rtts):
    if not rtts:
        return dict(n=0)
    s = sorted(rtts)
    return dict(n=len(s), p50_ms=round(statistics.median(s), 3),
                p99_ms=round(s[min(len(s) - 1, int(len(s) * 0.99))], 3), max_ms=round(s[-1], 3))


async def run(env, a):
    port = env.port
    mod = await connect(port)
    await mod.send(json.dumps(dict(type="join", room="Bench-Room-Locked-Walrus", name="m")))
    await recv_type(mod, "joined")
    await mod.send(json.dumps(dict(type="set_password", password=PASSWORD)))
    await recv_type(mod, "meeting_state")
    stop, samples = asyncio.Event(), []
    probes = [asyncio.create_task(probe(port, n, stop, samples)) for n in range(a.probes)]
    await asyncio.sleep(0.5)
    c0, t0 = cpu_s(env.cp.pid), time.monotonic()
    await asyncio.sleep(3.0)
    c1, t1 = cpu_s(env.cp.pid), time.monotonic()
    results = []
    socks = await asyncio.gather(*[joiner(port, i, a.over * i / a.joins, results)
                                   for i in range(a.joins)])
    c2, t2 = cpu_s(env.cp.pid), time.monotonic()
    stop.set()
    await asyncio.gather(*probes)
    for ws in socks + [mod]:
        await ws.close()
    idle = [ms for ts, ms in samples if t0 <= ts < t1]
    busy = [ms for ts, ms in samples if t1 <= ts < t2]
    got = {}
    for r in results:
        got[r["got"]] = got.get(r["got"], 0) + 1
    return dict(
        joins=a.joins, over_s=a.over, probes=a.probes,
        idle=dict(summary(idle), cpu_share=round((c1 - c0) / (t1 - t0), 3)),
        joins_phase=dict(summary(busy), seconds=round(t2 - t1, 2),
                         cpu_share=round((c2 - c1) / (t2 - t1), 3)),
        join_answers=got,
        join_ms=dict(p50=round(statistics.median(r["ms"] for r in results), 1),
                     max=round(max(r["ms"] for r in results), 1)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("cp")
    p.add_argument("--joins", type=int, default=50)
    p.add_argument("--over", type=float, default=1.0)
    p.add_argument("--probes", type=int, default=8)
    p.add_argument("--json")
    a = p.parse_args()
    if not 1 <= a.joins <= 200:
        sys.exit("--joins: 1-200 (one loopback source address each)")
    t.CP_BIN = os.path.abspath(a.cp)
    t.SRCDIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    t.LOOP = t.AsyncLoop()
    try:
        with t.Env(args=t.FLOOD + ("--pending-room-max", "64")) as env:
            res = asyncio.run_coroutine_threadsafe(run(env, a), t.LOOP.loop).result(120)
    finally:
        t.LOOP.stop()
    print(f"{'phase':<8} {'probes':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'cp cpu':>7}")
    for name, ph in (("idle", res["idle"]), ("joins", res["joins_phase"])):
        print(f"{name:<8} {ph.get('n', 0):>7} {ph.get('p50_ms', 0):>8} {ph.get('p99_ms', 0):>8} "
              f"{ph.get('max_ms', 0):>8} {ph['cpu_share']:>7}")
    print(f"{a.joins} password joins over {a.over} s answered in {res['joins_phase']['seconds']} s "
          f"(per join p50 {res['join_ms']['p50']} ms, max {res['join_ms']['max']} ms): "
          f"{res['join_answers']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
