#!/usr/bin/python3
"""sluicectl_test.py - sluicectl against a Redis and two fake nodes.

Usage: sluicectl_test.py PATH/TO/sluicectl SRCDIR

A redis-server on a Unix socket in a temporary directory (the Redis helper
of controlplane_test.py) and FAKE NODES played by a thread here: it reads
the stream sl:ctl (XREAD, with a minimal RESP client), records every entry
and answers it as docs/operators.md ("Operator API") says, for nodes n1 and
n2 (n1 holds meeting M1 of room "Room One", n2 meeting M2), optionally
naming a silent n3 among their peers. Cases: every command's table and
--json output, the fields each command sends, --room hashing with the
secret file, not_here from all (no such meeting/node), a silent node (the
timeout and exit status 1), a bad_request reply, usage errors (exit 2),
--config, Redis unreachable, an ACL user with exactly the documented
commands and users missing one of them (NOPERM, exit 1), a wrong password,
the stream's cap (MAXLEN ~ 1000).
Output: "ok N - name" / "not ok N - name: why".
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import controlplane_test as ct  # noqa: E402  (re-executes under /usr/bin/python3 if needed)

import hashlib, hmac, json, re, shutil, socket, subprocess, tempfile, threading, time  # noqa: E402

from controlplane_test import Fail, check  # noqa: E402

BIN = None
SECRET = bytes(range(1, 33))
ROOM = "Room One"
TAG1 = hmac.new(SECRET, ROOM.encode(), hashlib.sha256).digest()[:16].hex()
M1, M2, TAG2 = "a1" * 16, "b2" * 16, "c3" * 16
P1, P2, P3 = "0123456789abcdef", "fedcba9876543210", "00000000000000aa"
FIELDS = {"req", "cmd", "node", "meeting", "participant", "kind"}

# ---------------------------------------------------------------- RESP


class Resp:
    """A minimal blocking RESP2 client over a Unix socket."""
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return self._read()

    def _read(self):
        line = self.f.readline()
        if not line:
            raise EOFError("redis closed the connection")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            b = self.f.read(n + 2)[:-2]
            return b.decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError(f"bad RESP {line!r}")

    def close(self):
        self.s.close()


# ---------------------------------------------------------------- fake nodes


def info(node, draining=False):
    n = {"n1": (5, 1, 6, 0.25, 3725), "n2": (1, 1, 1, 0.5, 42)}[node]
    return {"id": node, "url": f"wss://{node}.example/ws", "participants": n[0],
            "meetings": n[1], "endpoints": n[2], "busy": n[3], "draining": draining,
            "drained": False, "uptime_s": n[4]}


class FakeNodes:
    """n1 and n2 answering every command of sl:ctl; silent ones only named."""
    def __init__(self, sock, silent=(), mode=None):
        self.sock, self.silent, self.mode = sock, list(silent), mode
        self.entries, self.draining = [], {"n1": False, "n2": False}
        self.meetings = {
            "n1": {"meeting": M1, "tag": TAG1, "age_s": 125, "locked": True, "lobby": False,
                   "password": True, "lobby_waiting": 2,
                   "participants": [{"id": P1, "role": "moderator", "connected": True,
                                     "audio_muted": False, "video_muted": True,
                                     "screen": True},
                                    {"id": P2, "role": "guest", "connected": False,
                                     "audio_muted": True, "video_muted": False,
                                     "screen": False}]},
            "n2": {"meeting": M2, "tag": TAG2, "age_s": 7, "locked": False, "lobby": True,
                   "password": False, "lobby_waiting": 0,
                   "participants": [{"id": P3, "role": "moderator", "connected": True,
                                     "audio_muted": False, "video_muted": False,
                                     "screen": False}]}}
        self.r = Resp(sock)
        last = self.r.cmd("XREVRANGE", "sl:ctl", "+", "-", "COUNT", "1")
        self.last = last[0][0] if last else "0-0"
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        w = Resp(self.sock)
        while self.running:
            got = self.r.cmd("XREAD", "COUNT", "64", "BLOCK", "100", "STREAMS", "sl:ctl",
                             self.last)
            for _, entries in got or []:
                for eid, flat in entries:
                    self.last = eid
                    f = dict(zip(flat[::2], flat[1::2]))
                    self.entries.append(f)
                    reps = [self.answer(node, f) for node in ("n1", "n2")]
                    if self.mode == "extra" and reps[0]:
                        reps.append(reps[0])  # n1 answers twice: one is left behind
                    reps = [json.dumps(x) for x in reps if x is not None]
                    key = "sl:ctl:reply:" + f.get("req", "")
                    # each node on its own, as real ones; the extra one in the
                    # same RPUSH, so that it is there before sluicectl's DEL
                    for i, group in enumerate(
                            [reps] if self.mode == "extra" else [[x] for x in reps]):
                        if i and self.mode == "unnamed":
                            time.sleep(0.3)  # n2, named by nobody, answers later
                        if group:
                            w.cmd("RPUSH", key, *group)
                            w.cmd("EXPIRE", key, "60")
        w.close()

    def answer(self, node, f):
        req = f.get("req", "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", req):
            return None
        peers = [x for x in ("n1", "n2") if x != node] + self.silent
        if self.mode == "unnamed":
            peers = []  # n2 started after n1's last heartbeat read: nobody names it
        base = {"req": req, "node": node, "peers": peers}

        def err(code, msg):
            return dict(base, ok=False, error=code, message=msg)
        if self.mode == "bad_request" or set(f) - FIELDS:
            return err("bad_request", "the participant field is not valid")
        cmd, m = f.get("cmd"), self.meetings.get(node)
        here = m is not None and f.get("meeting") in (m["meeting"], m["tag"])
        if cmd == "nodes":
            return dict(base, ok=True, info=info(node, self.draining[node]))
        if cmd == "meetings":
            if f.get("node", node) != node:
                return err("not_here", "not this node")
            return dict(base, ok=True, meetings=[
                {k: m[k] for k in ("meeting", "tag", "age_s")} |
                {"participants": len(m["participants"])}])
        if cmd in ("meeting", "end", "kick", "mute"):
            if not here:
                return err("not_here", "no such meeting here")
            if cmd == "meeting":
                return dict(base, ok=True, meeting=m)
            if cmd == "end":
                return dict(base, ok=True, ended=len(m["participants"]))
            if f.get("participant") not in [p["id"] for p in m["participants"]]:
                return err("not_found", "no such participant in this meeting")
            if cmd == "kick":
                return dict(base, ok=True, kicked=f["participant"])
            return dict(base, ok=True, muted=f["participant"], kind=f.get("kind"))
        if cmd in ("drain", "undrain", "stats"):
            if f.get("node") != node:
                return err("not_here", "not this node")
            if cmd != "stats":
                self.draining[node] = cmd == "drain"
                return dict(base, ok=True, info=info(node, self.draining[node]))
            return dict(base, ok=True, info=info(node, self.draining[node]),
                        stats={"joins": 12, "ctl_commands": 3, "bytes_in": 1000000})
        return err("bad_request", "unknown command")

    def close(self):
        self.running = False
        self.thread.join(2)
        self.r.close()


# ---------------------------------------------------------------- harness

class Env:
    def __init__(self, silent=(), mode=None):
        self.dir = tempfile.mkdtemp(prefix="slctl-")
        self.redis = ct.Redis(self.dir)
        self.secret = os.path.join(self.dir, "secret")
        with open(self.secret, "wb") as f:
            f.write(SECRET)
        self.nodes = FakeNodes(self.redis.sock, silent, mode)

    def run(self, *args, timeout="1", json_out=False, redis=None):
        base = [BIN, "--redis", redis or "unix:" + self.redis.sock, "--secret-file", self.secret,
                "--timeout", timeout]
        n = len(self.nodes.entries)
        t = time.monotonic()
        r = subprocess.run(base + list(args), capture_output=True, text=True, timeout=20)
        r.elapsed = time.monotonic() - t
        r.entries = self.nodes.entries[n:]
        if json_out and r.returncode == 0:
            r.doc = json.loads(r.stdout)
        return r

    def close(self):
        self.nodes.close()
        self.redis.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def env_case(fn, **kw):
    def case():
        e = Env(**kw)
        try:
            fn(e)
        finally:
            e.close()
    return case


def ok(r, what):
    check(r.returncode == 0, f"{what}: rc {r.returncode}, stderr {r.stderr!r}")
    return r


def rows(out):
    return [re.split(r"\s{2,}", line.strip()) for line in out.strip().splitlines()]


def sent(r, **want):
    """The one entry the command wrote, with exactly these fields (+ req)."""
    check(len(r.entries) == 1, f"{len(r.entries)} entries written")
    f = r.entries[0]
    check(re.fullmatch(r"[0-9a-f]{32}", f.get("req", "")), f"req {f.get('req')!r}")
    check({k: v for k, v in f.items() if k != "req"} == want, f"sent {f}, want {want}")


# ---------------------------------------------------------------- cases

def c_nodes(e):
    r = ok(e.run("nodes"), "nodes")
    sent(r, cmd="nodes")
    t = rows(r.stdout)
    check(t[0] == ["ID", "URL", "PARTICIPANTS", "MEETINGS", "ENDPOINTS", "BUSY", "STATE",
                   "UPTIME"], f"header {t[0]}")
    check(t[1] == ["n1", "wss://n1.example/ws", "5", "1", "6", "25%", "active", "1h02m"],
          f"row {t[1]}")
    check(t[2] == ["n2", "wss://n2.example/ws", "1", "1", "1", "50%", "active", "42s"],
          f"row {t[2]}")
    check(len(t) == 3 and r.elapsed < 0.9, f"{len(t)} rows, {r.elapsed:.2f} s (all answered)")
    # the columns are aligned: every row's URL starts where the header's does
    lines = r.stdout.splitlines()
    check(len({line.index(x) for line, x in zip(lines, ("URL", "wss:", "wss:"))}) == 1,
          "columns not aligned")
    j = ok(e.run("--json", "nodes", json_out=True), "nodes --json").doc
    check(j == [info("n1"), info("n2")], f"json {j}")
    # a reply left in the list (n1 answering twice) is deleted with it
    e.nodes.mode = "extra"
    r = ok(e.run("nodes"), "nodes, n1 answering twice")
    check(len(rows(r.stdout)) == 3, f"table {r.stdout!r}")
    key = "sl:ctl:reply:" + r.entries[0]["req"]
    check(e.redis.cli("EXISTS", key).strip() == "0", "the reply list was not deleted")


def c_meetings(e):
    r = ok(e.run("meetings"), "meetings")
    sent(r, cmd="meetings")
    check(rows(r.stdout) == [["MEETING", "NODE", "PARTICIPANTS", "AGE"], [M1, "n1", "2", "2m05s"],
                             [M2, "n2", "1", "7s"]], f"table {r.stdout!r}")
    j = ok(e.run("meetings", "--json", json_out=True), "meetings --json").doc
    check(j == [{"meeting": M1, "tag": TAG1, "age_s": 125, "participants": 2, "node": "n1"},
                {"meeting": M2, "tag": TAG2, "age_s": 7, "participants": 1, "node": "n2"}],
          f"json {j}")
    r = ok(e.run("meetings", "n2"), "meetings n2")
    sent(r, cmd="meetings", node="n2")
    check(rows(r.stdout) == [["MEETING", "NODE", "PARTICIPANTS", "AGE"], [M2, "n2", "1", "7s"]],
          f"table {r.stdout!r}")
    r = e.run("meetings", "n9")
    check(r.returncode == 1 and "no such node" in r.stderr, f"n9: {r.returncode} {r.stderr!r}")


def c_meeting(e):
    r = ok(e.run("meeting", M1.upper()), "meeting")
    sent(r, cmd="meeting", meeting=M1)
    head, parts = r.stdout.split("\n\n")
    h = dict(x for x in rows(head))
    check(h == {"meeting": M1, "tag": TAG1, "node": "n1", "age": "2m05s", "locked": "yes",
                "lobby": "off", "password": "set", "waiting": "2"}, f"header {h}")
    check(rows(parts) == [["ID", "ROLE", "CONNECTED", "AUDIO", "VIDEO", "SCREEN"],
                          [P1, "moderator", "yes", "on", "muted", "yes"],
                          [P2, "guest", "no", "muted", "on", "no"]], f"participants {parts!r}")
    j = ok(e.run("--json", "meeting", TAG2, json_out=True), "meeting --json").doc
    check(j["node"] == "n2" and j["ok"] is True and j["meeting"] == e.nodes.meetings["n2"] and
          j["req"] == e.nodes.entries[-1]["req"], f"json {j}")
    r = e.run("meeting", "d4" * 16, timeout="5")
    check(r.returncode == 1 and r.stderr.strip() == "sluicectl: no such meeting" and
          r.elapsed < 2, f"unknown meeting: {r.returncode} {r.stderr!r} {r.elapsed:.2f} s")


def c_actions(e):
    r = ok(e.run("end", M2), "end")
    sent(r, cmd="end", meeting=M2)
    check(r.stdout == f"ended meeting {M2} on node n2: 1 participant(s) sent away\n",
          f"end: {r.stdout!r}")
    r = ok(e.run("kick", M1, P2.upper()), "kick")
    sent(r, cmd="kick", meeting=M1, participant=P2)
    check(r.stdout == f"kicked participant {P2} from meeting {M1} on node n1\n", r.stdout)
    j = ok(e.run("kick", M1, P2, "--json", json_out=True), "kick --json").doc
    check(j["kicked"] == P2 and j["node"] == "n1", f"json {j}")
    r = e.run("kick", M1, "abcdefabcdefabcd")
    check(r.returncode == 1 and "no such participant in this meeting (not_found)" in r.stderr,
          f"not_found: {r.returncode} {r.stderr!r}")
    r = ok(e.run("mute", M1, P1), "mute")
    sent(r, cmd="mute", meeting=M1, participant=P1, kind="audio")
    check(r.stdout == f"muted the audio of participant {P1} in meeting {M1} on node n1\n",
          r.stdout)
    r = ok(e.run("mute", TAG2, P3, "video"), "mute video")
    sent(r, cmd="mute", meeting=TAG2, participant=P3, kind="video")
    j = ok(e.run("--json", "mute", TAG2, P3, "video", json_out=True), "mute --json").doc
    check(j["muted"] == P3 and j["kind"] == "video", f"json {j}")


def c_drain_stats(e):
    r = ok(e.run("drain", "n2"), "drain")
    sent(r, cmd="drain", node="n2")
    check(rows(r.stdout)[1] == ["n2", "wss://n2.example/ws", "1", "1", "1", "50%", "draining",
                                "42s"], f"drain: {r.stdout!r}")
    t = rows(ok(e.run("nodes"), "nodes").stdout)
    check(t[2][6] == "draining" and t[1][6] == "active", f"nodes after drain {t}")
    j = ok(e.run("--json", "undrain", "n2", json_out=True), "undrain").doc
    check(j["info"]["draining"] is False and j["node"] == "n2", f"undrain json {j}")
    check(e.nodes.entries[-1] == {"req": j["req"], "cmd": "undrain", "node": "n2"},
          f"undrain sent {e.nodes.entries[-1]}")
    r = ok(e.run("stats", "n1"), "stats")
    sent(r, cmd="stats", node="n1")
    check(rows(r.stdout) == [["node", "n1"], ["url", "wss://n1.example/ws"], ["state", "active"],
                             ["uptime", "1h02m"], ["bytes_in", "1000000"],
                             ["ctl_commands", "3"], ["joins", "12"]], f"stats {r.stdout!r}")
    j = ok(e.run("stats", "n1", "--json", json_out=True), "stats --json").doc
    check(j["stats"] == {"joins": 12, "ctl_commands": 3, "bytes_in": 1000000}, f"json {j}")
    for cmd in ("stats", "drain", "undrain"):
        r = e.run(cmd, "n7")
        check(r.returncode == 1 and r.stderr.strip() == "sluicectl: no such node",
              f"{cmd} n7: {r.returncode} {r.stderr!r}")


def c_room(e):
    r = ok(e.run("--room", ROOM, "meeting"), "--room meeting")
    sent(r, cmd="meeting", meeting=TAG1)
    check(M1 in r.stdout and ROOM not in r.stdout + r.stderr, f"{r.stdout!r}")
    r = ok(e.run("kick", "--room", ROOM, P1), "--room kick")
    sent(r, cmd="kick", meeting=TAG1, participant=P1)
    r = e.run("--room", "Another room", "end")
    check(r.returncode == 1 and "no such meeting" in r.stderr and "Another" not in r.stderr,
          f"other room: {r.returncode} {r.stderr!r}")
    other = hmac.new(SECRET, b"Another room", hashlib.sha256).digest()[:16].hex()
    check(r.entries[0]["meeting"] == other, f"tag {r.entries}")
    stream = e.redis.cli("XRANGE", "sl:ctl", "-", "+")
    check(ROOM not in stream and "Another" not in stream, "a room name reached Redis")
    # the secret file must hold exactly 32 bytes; a missing one is an error (1)
    with open(e.secret, "ab") as f:
        f.write(b"x")
    r = e.run("--room", ROOM, "meeting")
    check(r.returncode == 1 and "32 bytes" in r.stderr and not r.entries, f"33 bytes: {r.stderr!r}")
    r = subprocess.run([BIN, "--secret-file", e.secret + ".none", "--room", ROOM, "meeting"],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 1 and "--secret-file" in r.stderr and ROOM not in r.stderr, r.stderr)


def c_silent(e):
    r = e.run("nodes", timeout="0.6")
    check(r.returncode == 1 and "node n3 did not answer" in r.stderr, f"{r.returncode} {r.stderr!r}")
    t = rows(r.stdout)
    check([x[0] for x in t[1:]] == ["n1", "n2", "n3"] and t[3][1:] == ["-"] * 5 +
          ["no answer", "-"], f"table {t}")
    check(0.55 <= r.elapsed < 3, f"took {r.elapsed:.2f} s with --timeout 0.6")
    j = e.run("--json", "nodes", timeout="0.3")
    check(j.returncode == 1 and [x["id"] for x in json.loads(j.stdout)] == ["n1", "n2"],
          f"json {j.stdout!r}")
    r = e.run("stats", "n3", timeout="0.3")
    check(r.returncode == 1 and r.stderr.strip() == "sluicectl: node n3 did not answer", r.stderr)
    r = e.run("meeting", "d4" * 16, timeout="0.3")
    check(r.returncode == 1 and "node n3 did not answer" in r.stderr and
          "no such meeting" not in r.stderr, r.stderr)
    # the holder answered: the silent node does not matter, nor is it waited for
    r = ok(e.run("meeting", M1, timeout="2"), "meeting with n3 silent")
    check(r.elapsed < 1.5, f"{r.elapsed:.2f} s: waited for a silent node after the holder")
    # nobody at all
    e.nodes.close()
    r = e.run("nodes", timeout="0.3")
    check(r.returncode == 1 and "no node answered" in r.stderr, f"{r.returncode} {r.stderr!r}")


def c_unnamed(e):
    """A node no reply names (it started after the others' last heartbeat
    read) still answers within the settling time, and is counted."""
    r = ok(e.run("--json", "nodes", timeout="3"), "nodes with n2 unnamed")
    check([x["id"] for x in json.loads(r.stdout)] == ["n1", "n2"], f"json {r.stdout!r}")
    check(r.elapsed < 2, f"{r.elapsed:.2f} s: waited for the timeout")


def c_bad_request(e):
    r = e.run("kick", M1, P1)
    check(r.returncode == 1 and "the participant field is not valid (bad_request)" in r.stderr
          and not r.stdout, f"{r.returncode} {r.stderr!r}")
    r = e.run("--json", "nodes")
    check(r.returncode == 1 and "bad_request" in r.stderr and not r.stdout, r.stderr)


def c_capped(e):
    """XADD ... MAXLEN ~ 1000: the stream stays near 1000 entries."""
    e.redis.cli("EVAL", "for i = 1, 1500 do redis.call('XADD', 'sl:ctl', '*', 'x', 'y') end", "0")
    check(int(e.redis.cli("XLEN", "sl:ctl")) >= 1500, "filling the stream")
    ok(e.run("nodes", timeout="3"), "nodes on a long stream")
    n = int(e.redis.cli("XLEN", "sl:ctl"))
    check(1000 <= n <= 1100, f"XLEN {n} after sluicectl's XADD")


def c_usage():
    d = tempfile.mkdtemp(prefix="slctl-")
    try:
        for args in ([], ["frobnicate"], ["meeting"], ["meeting", "abc"], ["end", "Secret Room"],
                     ["meeting", "g" * 32], ["kick", M1], ["kick", M1, "xyz"],
                     ["kick", M1, "1" * 33], ["kick", M1, "abcdef"], ["kick", M1, "1" * 17],
                     ["mute", M1, P1, "both"], ["nodes", "extra"],
                     ["meetings", "bad node"], ["stats"], ["stats", "x" * 33],
                     ["drain", "a/b"], ["--room", "Secret Room", "nodes"],
                     ["--room", "Secret Room", "meeting", M1], ["--timeout", "0", "nodes"],
                     ["--timeout", "abc", "nodes"], ["--frob", "nodes"],
                     ["--redis", "http://x:1", "nodes"], ["--redis", "tcp://host", "nodes"],
                     ["--redis-user", "u", "nodes"], ["--config", os.path.join(d, "none"), "nodes"]):
            r = subprocess.run([BIN, "--redis", "unix:" + os.path.join(d, "no.sock"), *args],
                               capture_output=True, text=True, timeout=10)
            check(r.returncode == 2 and r.stderr.startswith("sluicectl: ") and
                  len(r.stderr.splitlines()) == 1 and not r.stdout and "Secret" not in r.stderr,
                  f"{args}: rc {r.returncode} {r.stderr!r}")
        r = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=10)
        check(r.returncode == 0 and r.stdout.startswith("sluicectl [OPTIONS] COMMAND [ARGS]\n") and
              "--redis-password-file FILE" in r.stdout, r.stdout)
        # the usage block is the one in docs/operators.md
        with open(os.path.join(SRCDIR, "docs", "operators.md")) as f:
            doc = f.read()
        block = r.stdout.split("\n\n")[0] + "\n"
        check("```\n" + block + "```" in doc, "--help's command list is not the one in the docs")
        r = subprocess.run([BIN, "--version"], capture_output=True, text=True, timeout=10)
        check(r.returncode == 0 and re.fullmatch(r"sluicectl \S+\n", r.stdout), r.stdout)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def c_config(e):
    conf = os.path.join(e.dir, "sluicectl.conf")
    with open(conf, "w") as f:
        f.write(f"# operator defaults\nredis = unix:{e.redis.sock}\njson\ntimeout = 0.5\n"
                f"secret-file = {e.secret}\n")
    r = subprocess.run([BIN, "--config", conf, "nodes"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 0 and [x["id"] for x in json.loads(r.stdout)] == ["n1", "n2"],
          f"{r.returncode} {r.stdout!r} {r.stderr!r}")
    # the command line wins over the file
    r = subprocess.run([BIN, "--config", conf, "--redis", "unix:/nonexistent/x.sock", "nodes"],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 1 and "cannot connect" in r.stderr, r.stderr)
    with open(conf, "a") as f:
        f.write("colour = blue\n")
    r = subprocess.run([BIN, "--config", conf, "nodes"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 2 and f"{conf}:6" in r.stderr and "colour" in r.stderr, r.stderr)


def c_unreachable():
    d = tempfile.mkdtemp(prefix="slctl-")
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        for url in ("unix:" + os.path.join(d, "none.sock"), f"tcp://127.0.0.1:{port}",
                    f"redis://127.0.0.1:{port}"):
            r = subprocess.run([BIN, "--redis", url, "--timeout", "1", "nodes"],
                               capture_output=True, text=True, timeout=10)
            check(r.returncode == 1 and r.stderr.startswith("sluicectl: cannot connect to Redis")
                  and len(r.stderr.splitlines()) == 1, f"{url}: {r.returncode} {r.stderr!r}")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def doc_acl():
    """The operator's ACL rules as docs/operators.md ("sluicectl") gives them."""
    with open(os.path.join(SRCDIR, "docs", "operators.md")) as f:
        m = re.search(r"^ACL SETUSER operator on >PASSWORD (.*)$", f.read(), re.M)
    check(m, "no operator ACL line in docs/operators.md")
    return m.group(1).split()


def c_acl(e):
    ACL = doc_acl()
    check(ACL == ["resetkeys", "~sl:ctl", "~sl:ctl:reply:*", "resetchannels", "-@all", "+xadd",
                  "+blpop", "+del"], f"documented ACL {ACL}")
    pw = os.path.join(e.dir, "pw")
    with open(pw, "w") as f:
        f.write("s3cret-Pa55\n")

    def user(name, rules):
        check(e.redis.cli("ACL", "SETUSER", name, "reset", "on", ">s3cret-Pa55", *rules).strip()
              == "OK", f"ACL SETUSER {name}")

    def as_user(name, *args, pwfile=pw):
        return e.run("--redis-user", name, "--redis-password-file", pwfile, *args)
    user("ops", ACL)
    r = ok(as_user("ops", "nodes"), "ACL user ops")
    check(len(rows(r.stdout)) == 3, r.stdout)
    ok(as_user("ops", "kick", M1, P1), "ACL user ops kick")
    for missing in ("+xadd", "+blpop", "+del"):
        user("weak", [x for x in ACL if x != missing])
        r = as_user("weak", "nodes")
        check(r.returncode == 1 and "NOPERM" in r.stderr and len(r.stderr.splitlines()) == 1,
              f"without {missing}: {r.returncode} {r.stderr!r}")
    user("nokeys", ["resetkeys", "~other:*", "-@all", "+xadd", "+blpop", "+del"])
    r = as_user("nokeys", "nodes")
    check(r.returncode == 1 and "NOPERM" in r.stderr, f"keys: {r.returncode} {r.stderr!r}")
    bad = os.path.join(e.dir, "badpw")
    with open(bad, "w") as f:
        f.write("wrong-Pa55\n")
    r = as_user("ops", "nodes", pwfile=bad)
    check(r.returncode == 1 and "AUTH" in r.stderr and "wrong-Pa55" not in r.stderr and
          not r.entries, f"wrong password: {r.returncode} {r.stderr!r}")
    # a default user that needs a password: NOAUTH without one
    e.redis.cli("CONFIG", "SET", "requirepass", "s3cret-Pa55")
    try:
        r = e.run("nodes")
        check(r.returncode == 1 and "NOAUTH" in r.stderr, f"no AUTH: {r.returncode} {r.stderr!r}")
        r = ok(e.run("--redis-password-file", pw, "nodes", timeout="0.3"), "password only")
    finally:
        e.redis.cli("-a", "s3cret-Pa55", "--no-auth-warning", "CONFIG", "SET", "requirepass", "")
    empty = os.path.join(e.dir, "empty")
    open(empty, "w").close()
    r = as_user("ops", "nodes", pwfile=empty)
    check(r.returncode == 1 and "--redis-password-file" in r.stderr, r.stderr)


CASES = [("nodes: table and --json", env_case(c_nodes)),
         ("meetings [NODE]: table and --json", env_case(c_meetings)),
         ("meeting: header, participants, --json, no such meeting", env_case(c_meeting)),
         ("end, kick, mute: fields, output, not_found", env_case(c_actions)),
         ("drain, undrain, stats, no such node", env_case(c_drain_stats)),
         ("--room hashes the name with the secret file", env_case(c_room)),
         ("a silent node: timeout, no answer, exit 1", env_case(c_silent, silent=["n3"])),
         ("a bad_request reply", env_case(c_bad_request, mode="bad_request")),
         ("a node nobody names yet is waited for a moment", env_case(c_unnamed, mode="unnamed")),
         ("usage errors exit 2, --help, --version", c_usage),
         ("--config", env_case(c_config)),
         ("Redis unreachable", c_unreachable),
         ("ACL users: the documented commands, NOPERM, AUTH", env_case(c_acl)),
         ("the stream is capped at about 1000 entries", env_case(c_capped))]

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: sluicectl_test.py PATH/TO/sluicectl SRCDIR")
    BIN, SRCDIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    ct.SRCDIR = SRCDIR
    only = os.environ.get("SL_CASES")
    want = {int(x) for x in only.split(",")} if only else None
    ct.run_and_exit(CASES, lambda n, name: want is None or n in want)
