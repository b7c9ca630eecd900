#!/usr/bin/python3
"""metrics_scrape.py - scrape the control plane's /metrics during an e2e meeting.

  metrics_scrape.py watch URL DIR    scrape URL every 0.5 s into DIR/NNNN.txt until
                                      DIR/stop exists (or the caller is gone, or 300 s)
  metrics_scrape.py check DIR WORD.. check the scrapes: the meeting was seen
                                      (sluice_participants > 0, then 0), the first worker's
                                      rx/tx packets grew, every busy ratio is within
                                      [0, 1], the dataplane was up, no WORD (room and
                                      display names, address prefixes) appears and every
                                      label value is from a fixed set; prints a summary.
"""
import json, os, re, sys, time, urllib.request

SAMPLE = re.compile(r"(sluice_[a-z0-9_]+)(?:\{(.*)\})? (\S+)\Z")
LABEL = re.compile(r'([a-z_]+)="([^"]*)"')
VALUE = re.compile(r"[a-z0-9_.]+|\+Inf\Z")

def watch(url, d):
    os.makedirs(d, exist_ok=True)
    parent, end, n = os.getppid(), time.monotonic() + 300, 0
    while time.monotonic() < end and not os.path.exists(os.path.join(d, "stop")) \
            and os.getppid() == parent:
        t = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=3) as r:
                body = r.read().decode()
            ms = (time.monotonic() - t) * 1000
            with open(os.path.join(d, f"{n:04d}.txt"), "w") as f:
                f.write(f"# scrape_ms {ms:.2f}\n" + body)
            n += 1
        except OSError:
            pass
        time.sleep(0.5)

def fail(why):
    print(f"metrics: {why}", file=sys.stderr)
    sys.exit(1)

def parse(body):
    out = {}
    for line in body.splitlines():
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            fail(f"not a sample: {line[:100]!r}")
        name, labels, value = m.groups()
        lab = tuple(sorted(LABEL.findall(labels or "")))
        for _, val in lab:
            if not VALUE.fullmatch(val):
                fail(f"label value {val!r} is not from a fixed set")
        out[(name, lab)] = float(value)
    return out

def check(d, words):
    files = sorted(f for f in os.listdir(d) if f.endswith(".txt"))
    if len(files) < 4:
        fail(f"only {len(files)} scrapes")
    scrapes, ms = [], []
    for f in files:
        body = open(os.path.join(d, f)).read()
        for w in words:
            if w in body:
                fail(f"{f} holds {w!r}")
        ms.append(float(body.split("\n", 1)[0].split()[2]))
        scrapes.append(parse(body.split("\n", 1)[1]))
    part = [s.get(("sluice_participants", ()), -1) for s in scrapes]
    if max(part) <= 0:
        fail(f"sluice_participants never above 0: {part}")
    if part[-1] != 0:
        fail(f"sluice_participants {part[-1]} after everyone left")
    if any(s.get(("sluice_dataplane_up", ()), 0) != 1 for s in scrapes):
        fail("sluice_dataplane_up was not 1 in every scrape")
    w0 = (("worker", "0"),)
    first, last = scrapes[0], scrapes[-1]
    for name in ("sluice_dataplane_worker_rx_packets_total",
                 "sluice_dataplane_worker_tx_packets_total"):
        if not last.get((name, w0), 0) > first.get((name, w0), 0) > -1:
            fail(f"{name} did not grow: {first.get((name, w0))} -> {last.get((name, w0))}")
    busy = [v for s in scrapes for (n, _), v in s.items()
            if n == "sluice_dataplane_worker_busy_ratio"]
    if not busy or any(not 0 <= b <= 1 for b in busy):
        fail(f"busy ratios {busy}")
    during = [s.get(("sluice_dataplane_worker_busy_ratio", w0)) for s, p in zip(scrapes, part)
              if p > 0]
    print(json.dumps(dict(
        scrapes=len(scrapes), bytes=len(open(os.path.join(d, files[-1])).read()),
        scrape_ms=[round(min(ms), 2), round(sorted(ms)[len(ms) // 2], 2), round(max(ms), 2)],
        participants_max=max(part), participants_after=part[-1],
        busy_idle=first.get(("sluice_dataplane_worker_busy_ratio", w0)),
        busy_during_max=max(during), busy_during_median=sorted(during)[len(during) // 2],
        rx_packets=last.get(("sluice_dataplane_worker_rx_packets_total", w0)),
        dtls_handshakes=last.get(("sluice_dtls_handshakes_total", (("result", "ok"),))),
        dtls_seconds_sum=last.get(("sluice_dtls_handshake_seconds_sum", ())))))

if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "watch":
        watch(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
