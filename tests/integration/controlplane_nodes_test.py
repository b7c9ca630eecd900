#!/usr/bin/python3
"""controlplane_nodes_test.py - several control planes sharing one Redis.

Usage: controlplane_nodes_test.py PATH/TO/sluice-controlplane SRCDIR

Two or three nodes (each a control plane with its own fake dataplane from
controlplane_test.py, --node-id, --public-url, one --secret-file) share ONE
redis-server: the ownership race of many concurrent first joins, redirects
to the owner, placement of a new meeting on the idle node, a node killed
with SIGKILL (its meetings taken over once its heartbeat expired, nothing
left after the TTLs), a node restarted under another id, an owner without
--public-url, bad options, and no room name or display name in any Redis
key or value (docs/operators.md, "Several
nodes"). Short TTLs: --node-ttl 3, --meeting-ttl 6.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import controlplane_test as ct  # noqa: E402  (re-executes under /usr/bin/python3 if needed)

import hashlib, hmac, random, shutil, signal, subprocess, tempfile, time, urllib.request  # noqa: E402

from controlplane_test import Fail, check, wait_until, read  # noqa: E402

# Joins of the race come all at once from one address: no throttling here.
OPEN = ["--join-rate", "1000000", "--join-burst", "1000000", "--room-join-rate", "1000000",
        "--room-join-burst", "1000000", "--max-connections-per-ip", "0",
        "--pending-room-max", "64", "--pending-max", "1000"]


class Node:
    def __init__(self, top, redis, name, args=(), public=True, port=None, dp_sock=None):
        """dp_sock: the control socket of a real dataplane already running;
        else the node gets a fake dataplane of its own."""
        self.name, self.dir = name, os.path.join(top, name)
        os.mkdir(self.dir)
        self.dp = None if dp_sock else ct.FakeDataplane(os.path.join(self.dir, "dp.sock"))
        dp_sock = dp_sock or os.path.join(self.dir, "dp.sock")
        self.port = port or ct.free_port()
        self.url = f"ws://127.0.0.1:{self.port}/ws"
        self.metrics_port = ct.free_port()
        self.err, out = os.path.join(self.dir, "cp.err"), os.path.join(self.dir, "cp.out")
        with open(out, "w") as fo, open(self.err, "w") as fe:
            self.cp = subprocess.Popen(
                [ct.CP_BIN, "--dataplane-socket", dp_sock,
                 "--state-dir", os.path.join(self.dir, "state"), "--listen", "127.0.0.1",
                 "--port", str(self.port), "--web-root", os.path.join(ct.SRCDIR, "web"),
                 "--handshake-timeout", "60", "--redis", "unix:" + redis.sock,
                 "--node-id", name, *(["--public-url", self.url] if public else []),
                 "--secret-file", os.path.join(top, "secret"), "--node-ttl", "3",
                 "--meeting-ttl", "6", "--metrics-listen", f"127.0.0.1:{self.metrics_port}",
                 *OPEN, *args],
                stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)
        wait_until(lambda: self.cp.poll() is not None or (
            "ready on port" in read(out) and "redis connected" in read(self.err) and
            (self.dp.hellos if self.dp else "dataplane connected" in read(self.err))), 10,
            f"node {name} did not start")
        check(self.cp.poll() is None, f"node {name} exited: {read(self.err)[-300:]}")
        self.wss = []

    def ws(self):
        w = ct.WS(self.port)
        self.wss.append(w)
        return w

    def metric(self, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
        raise Fail(f"no {name} in the metrics of {self.name}")

    def kill(self):
        """kill -9 of both processes (the fake dataplane is this test's thread)."""
        self.cp.send_signal(signal.SIGKILL)
        self.cp.wait()
        if self.dp:
            self.dp.close()
        self.cp = None

    def close(self):
        for w in self.wss:
            w.close()
        if self.cp:
            ct.stop_proc(self.cp)
            rc = self.cp.returncode
            ct.STDERR_LOGS.append(read(self.err))
            if self.dp:
                self.dp.close()
            check(rc == 0, f"node {self.name} exited with rc {rc}: {read(self.err)[-600:]}")


class Cluster:
    def __init__(self, n, args=()):
        self.dir = tempfile.mkdtemp(prefix="slnodes-")
        self.nodes, self.redis = [], None
        try:
            self.redis = ct.Redis(self.dir)
            for i in range(n):
                self.nodes.append(Node(self.dir, self.redis, f"n{i + 1}", args))
            # Every node's heartbeat is in Redis, and every node read the others'.
            wait_until(lambda: all(self.redis.cli("EXISTS", f"sl:node:{x.name}").strip() == "1"
                                   for x in self.nodes), 5, "no heartbeat keys")
            time.sleep(1.5)
        except BaseException:
            self.close()
            raise

    def by_url(self, url):
        for x in self.nodes:
            if x.url == url:
                return x
        raise Fail(f"redirect to an unknown URL {url}")

    def check_no_names(self):
        """(5) No room name or display name in any key or value."""
        dump, names = [], []
        for k in self.redis.cli("--scan", "--pattern", "*").split():
            dump.append(k)
            t = self.redis.cli("TYPE", k).strip()
            if t == "string":
                dump.append(self.redis.cli("GET", k))
            elif t == "set":
                dump.append(self.redis.cli("SMEMBERS", k))
            elif k.endswith(":members"):
                # participant id -> display name, by design (store.h): the
                # ids are checked with the rest, the names only for room names.
                h = self.redis.hgetall(k)
                dump.extend(h)
                names.extend(h.values())
            else:
                dump.append(self.redis.cli("HGETALL", k))
        text, names = "\n".join(dump), "\n".join(names)
        check(len(dump) > 3, "nothing in Redis to check")
        for s in ct.ROOM_NAMES | ct.NAMES:
            check(s not in text, f"a room or display name reached Redis: {s}")
        for s in ct.ROOM_NAMES:
            check(s not in names, "a room name reached a members hash")
        for log in [read(x.err) for x in self.nodes if x.err]:
            for s in ct.ROOM_NAMES | ct.NAMES:
                check(s not in log, "a room or display name reached a log")

    def close(self):
        try:
            for x in self.nodes:
                x.close()
        finally:
            if self.redis:
                self.redis.stop()
            shutil.rmtree(self.dir, ignore_errors=True)


def first_reply(w, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = w.recv(end - time.monotonic())
        if m and m.get("type") != "participants":
            return m
    raise Fail("no answer to a join")


def join_msg(room, name):
    ct.ROOM_NAMES.add(room)
    ct.NAMES.add(name)
    return dict(type="join", room=room, name=name)


def case_race_and_redirect():
    """(1) 100 concurrent first joins of one room over three nodes: one owner
    key; each join joined on the owner or was redirected to it. (2) a
    redirected join works at the URL it was given."""
    c = Cluster(3)
    try:
        check(os.path.getsize(os.path.join(c.dir, "secret")) == 32, "--secret-file not made")
        room = "race-" + os.urandom(6).hex()
        conns = []
        for i in range(100):
            x = c.nodes[i % 3]
            conns.append((x, x.ws()))
        order = list(enumerate(conns))
        random.shuffle(order)  # no node is always first
        for i, (x, w) in order:
            w.send(join_msg(room, f"racer{i:03d}x"))
        answers = [(x, first_reply(w)) for x, w in conns]
        owners = [k for k in c.redis.keys() if k.endswith(":owner")]
        check(len(owners) == 1, f"{len(owners)} owner keys")
        owner_id = c.redis.cli("GET", owners[0]).strip()
        owner = [x for x in c.nodes if x.name == owner_id]
        check(len(owner) == 1, f"owner {owner_id!r} is no node")
        owner = owner[0]
        joined = redirected = 0
        for x, m in answers:
            if m["type"] == "joined":
                check(x is owner, f"joined on {x.name}, not on the owner {owner.name}")
                joined += 1
            elif m["type"] == "redirect":
                check(x is not owner, "the owner redirected a join of its own meeting")
                check(m.get("url") == owner.url and set(m) == {"type", "url"},
                      f"redirect to {m} instead of {owner.url}")
                redirected += 1
            else:
                check(x is owner and m["type"] == "error" and
                      m.get("code") in ("room_full", "throttled"),
                      f"join at {x.name} answered {m}")
        check(joined >= 2 and redirected >= 50, f"{joined} joined, {redirected} redirected")
        print(f"# race: {joined} joined on {owner.name}, {redirected} redirected", flush=True)
        counted = [x.metric("sluice_joins_redirected_total") for x in c.nodes]
        check(sum(counted) == redirected and counted[c.nodes.index(owner)] == 0,
              f"sluice_joins_redirected_total {counted}, {redirected} redirects seen")
        # (2) A fresh meeting: its first join at n1 makes n1 the owner; a join
        # at n2 is redirected to n1's URL, and joining there works.
        for x, w in conns:
            w.close()
        room2 = "redir-" + os.urandom(6).hex()
        a = c.nodes[0].ws()
        a.send(join_msg(room2, "alice"))
        check(first_reply(a)["type"] == "joined", "first join of a new meeting")
        b = c.nodes[1].ws()
        b.send(join_msg(room2, "bob"))
        m = first_reply(b)
        check(m == {"type": "redirect", "url": c.nodes[0].url}, f"expected a redirect, got {m}")
        port = int(m["url"].split(":")[2].split("/")[0])
        b2 = ct.WS(port)
        c.nodes[0].wss.append(b2)
        b2.send(join_msg(room2, "bob"))
        check(first_reply(b2)["type"] == "joined", "the redirected join did not join")
        c.check_no_names()
    finally:
        c.close()


def case_placement():
    """(3) n1 carries 4 participants, n2 none: a new meeting's join at n1
    is redirected to n2, which owns it; one at n2 stays there."""
    c = Cluster(2, ["--placement-margin", "2"])
    try:
        n1, n2 = c.nodes
        room = "busy-" + os.urandom(6).hex()
        for i in range(4):
            w = n1.ws()
            w.send(join_msg(room, f"busy{i}x"))
            check(first_reply(w)["type"] == "joined", "loading n1")
        time.sleep(1.5)  # n1 and n2 published their load and read each other's
        new = "fresh-" + os.urandom(6).hex()
        w = n1.ws()
        w.send(join_msg(new, "carol"))
        m = first_reply(w)
        check(m == {"type": "redirect", "url": n2.url}, f"expected a redirect to n2, got {m}")
        owners = {k: c.redis.cli("GET", k).strip() for k in c.redis.keys()
                  if k.endswith(":owner")}
        check(sorted(owners.values()) == ["n1", "n2"], f"owners {owners}")
        placed = [k for k, v in owners.items() if v == "n2"][0]
        ttl = int(c.redis.cli("TTL", placed))
        check(0 < ttl <= 3, f"a key claimed for another node lives {ttl} s, not --node-ttl")
        w2 = n2.ws()
        w2.send(join_msg(new, "carol"))
        check(first_reply(w2)["type"] == "joined", "the placed meeting did not start on n2")
        wait_until(lambda: int(c.redis.cli("TTL", placed)) > 3, 3,
                   "n2 did not renew the owner key with --meeting-ttl")
        # The idle node keeps a new meeting of its own.
        w3 = n2.ws()
        w3.send(join_msg("idle-" + os.urandom(6).hex(), "dave"))
        check(first_reply(w3)["type"] == "joined", "n2 sent away a meeting it should keep")
        c.check_no_names()
    finally:
        c.close()


def case_placement_busy():
    """(3b) Worker load: a node whose busiest worker is at or over
    --placement-busy (80%) gets no new meeting even when idle, and sends its
    own new meetings away even when the participant margin says stay."""
    c = Cluster(2, ["--placement-margin", "2"])

    def busy(node, ppm):
        node.dp.busy_ppm = ppm
        want = f"0.{ppm:06d}"
        wait_until(lambda: c.redis.cli("HGET", f"sl:node:{node.name}", "busy").strip() == want,
                   5, f"{node.name} did not publish busy {want}")
        time.sleep(1.5)  # the other node read it

    def load(node, n):
        room = "load-" + os.urandom(6).hex()
        for i in range(n):
            w = node.ws()
            w.send(join_msg(room, f"load{i}x"))
            check(first_reply(w)["type"] == "joined", f"loading {node.name}")

    try:
        n1, n2 = c.nodes
        load(n1, 4)
        busy(n2, 900000)
        w = n1.ws()
        w.send(join_msg("stay-" + os.urandom(6).hex(), "gina"))
        m = first_reply(w)
        check(m["type"] == "joined", f"a new meeting went to a full node: {m}")
        busy(n2, 250000)
        load(n2, 4)  # n1 5 participants, n2 4: within the margin
        time.sleep(1.5)  # n2 published its load and n1 read it
        w = n1.ws()
        w.send(join_msg("calm-" + os.urandom(6).hex(), "hank"))
        check(first_reply(w)["type"] == "joined", "margin 2: 5 vs 4 should stay")
        busy(n1, 950000)
        w = n1.ws()
        w.send(join_msg("away-" + os.urandom(6).hex(), "ivan"))
        m = first_reply(w)
        check(m == {"type": "redirect", "url": n2.url}, f"a full node kept a new meeting: {m}")
        c.check_no_names()
    finally:
        c.close()


def case_killed_node():
    """(4) n1 owns two meetings and is killed with SIGKILL. Once its heartbeat
    expired (--node-ttl), a join at n2 of the first takes it over at once;
    the second's keys expire after --meeting-ttl, then a join at n2 creates
    it there. sl:nodes forgets n1."""
    c = Cluster(2)
    try:
        n1, n2 = c.nodes
        with open(os.path.join(c.dir, "secret"), "rb") as f:
            secret = f.read()
        rooms = ["doomed-" + os.urandom(6).hex() for _ in range(2)]
        tags = [hmac.new(secret, r.encode(), hashlib.sha256).digest()[:16].hex() for r in rooms]
        for r in rooms:
            w = n1.ws()
            w.send(join_msg(r, "erin"))
            check(first_reply(w)["type"] == "joined", "first join")
            w2 = n2.ws()
            w2.send(join_msg(r, "frank"))
            check(first_reply(w2)["type"] == "redirect", "a join at n2 while n1 owns it")
        for t in tags:
            check(c.redis.cli("GET", f"sl:{{{t}}}:owner").strip() == "n1", "owner key of n1")
        t0 = time.monotonic()
        n1.kill()
        wait_until(lambda: c.redis.cli("EXISTS", "sl:node:n1").strip() == "0", 6,
                   "the killed node's heartbeat stayed")
        w3 = n2.ws()
        w3.send(join_msg(rooms[0], "frank"))
        check(first_reply(w3)["type"] == "joined", "n2 did not take over a gone node's meeting")
        check(c.redis.cli("GET", f"sl:{{{tags[0]}}}:owner").strip() == "n2", "owner not n2")
        wait_until(lambda: not [k for k in c.redis.keys() if tags[1] in k], 10,
                   "keys of the killed node's meeting stayed")
        print(f"# keys of the killed node gone after {time.monotonic() - t0:.1f} s", flush=True)
        w4 = n2.ws()
        w4.send(join_msg(rooms[1], "frank"))
        check(first_reply(w4)["type"] == "joined", "the meeting did not restart on n2")
        check(c.redis.cli("GET", f"sl:{{{tags[1]}}}:owner").strip() == "n2", "owner not n2")
        # n2 forgets the dead node: sl:nodes holds only n2 after its next beats.
        wait_until(lambda: c.redis.cli("SMEMBERS", "sl:nodes").split() == ["n2"], 5,
                   "the dead node stayed in sl:nodes")
    finally:
        c.close()


def case_restarted_node():
    """A node killed and started again under another id with the same
    --public-url takes its old meetings over at once (no redirect to
    itself, no wait for the TTLs)."""
    c = Cluster(1)
    try:
        n1 = c.nodes[0]
        room = "again-" + os.urandom(6).hex()
        w = n1.ws()
        w.send(join_msg(room, "ivan"))
        check(first_reply(w)["type"] == "joined", "first join")
        n1.kill()
        c.nodes.append(Node(c.dir, c.redis, "n1b", port=n1.port))
        check(c.redis.cli("EXISTS", "sl:node:n1").strip() == "1", "the old heartbeat is gone")
        w2 = c.nodes[1].ws()
        w2.send(join_msg(room, "ivan"))
        m = first_reply(w2)
        check(m["type"] == "joined", f"the restarted node answered {m}")
        owners = [c.redis.cli("GET", k).strip() for k in c.redis.keys() if k.endswith(":owner")]
        check(owners == ["n1b"], f"owners {owners}")
    finally:
        c.close()


def case_no_public_url():
    """An owner without --public-url: a join at another node is refused with
    'unavailable' (no redirect can be built)."""
    d = tempfile.mkdtemp(prefix="slnodes-")
    redis = ct.Redis(d)
    nodes = []
    try:
        nodes.append(Node(d, redis, "n1"))
        nodes.append(Node(d, redis, "n2", public=False))
        room = "nourl-" + os.urandom(6).hex()
        w = nodes[1].ws()
        w.send(join_msg(room, "gina"))
        check(first_reply(w)["type"] == "joined", "first join at n2")
        w2 = nodes[0].ws()
        w2.send(join_msg(room, "hank"))
        m = first_reply(w2)
        check(m.get("type") == "error" and m.get("code") == "unavailable",
              f"expected unavailable, got {m}")
        check("no --public-url" in read(nodes[0].err), "the refusal was not logged")
    finally:
        for x in nodes:
            x.close()
        redis.stop()
        shutil.rmtree(d, ignore_errors=True)


def case_bad_options():
    """--node-id and --public-url are checked at start-up; --secret-file is
    created when missing and read back (32 bytes) otherwise."""
    d = tempfile.mkdtemp(prefix="slnodes-")
    try:
        for args, want in ((["--node-id", "a b"], "--node-id"),
                           (["--node-id", "x" * 33], "--node-id"),
                           (["--public-url", "http://n1.example/ws"], "--public-url"),
                           (["--public-url", "ws://n1.example/ws#room"], "--public-url"),
                           (["--secret-file", os.path.join(d, "short")], "want 32 bytes")):
            with open(os.path.join(d, "short"), "wb") as f:
                f.write(b"x" * 31)
            r = subprocess.run([ct.CP_BIN, "--state-dir", os.path.join(d, "state"), *args],
                               capture_output=True, text=True, timeout=10)
            check(r.returncode != 0 and want in r.stderr, f"{args}: rc {r.returncode} "
                  f"{r.stderr[-300:]!r}")
    finally:
        shutil.rmtree(d, ignore_errors=True)


CASES = [("ownership race and redirect", case_race_and_redirect),
         ("placement on the idle node", case_placement),
         ("placement by worker load", case_placement_busy),
         ("a killed node leaves nothing behind", case_killed_node),
         ("a node restarted under another id", case_restarted_node),
         ("an owner without --public-url", case_no_public_url),
         ("bad --node-id, --public-url, --secret-file", case_bad_options)]

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: controlplane_nodes_test.py PATH/TO/sluice-controlplane SRCDIR")
    ct.CP_BIN, ct.SRCDIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    only = os.environ.get("SL_CASES")
    want = {int(x) for x in only.split(",")} if only else None
    ct.run_and_exit(CASES, lambda n, name: want is None or n in want)
