#!/usr/bin/python3
"""controlplane_ctl_test.py - the operator API and drain, node side.

Usage: controlplane_ctl_test.py PATH/TO/sluice-controlplane SRCDIR

Nodes of controlplane_nodes_test.py (each a control plane with its own
fake dataplane, one redis-server for all) are driven through the Redis
stream sl:ctl with raw commands (redis-cli), as docs/operators.md,
"Operator API" and "Drain", specify: every command and the shape of its
replies, `not_here` from the nodes that do not hold what is named,
`bad_request`, entries without a valid req dropped and counted,
end/kick/mute as the WebSocket clients see them, and drain: a new meeting
placed on the other node whatever the margin, the node's own meetings
going on, `drained` (heartbeat, log line, metrics) once its last meeting
ended, `draining` refusals when no other node can take a meeting,
undrain, SIGUSR1. No reply names a room or a person.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import controlplane_test as ct  # noqa: E402  (re-executes under /usr/bin/python3 if needed)
import controlplane_nodes_test as nt  # noqa: E402

import hashlib, hmac, json, signal, time, urllib.request  # noqa: E402

from controlplane_test import Fail, check, wait_until, read  # noqa: E402

INFO_KEYS = {"id", "url", "participants", "meetings", "endpoints", "busy", "draining", "drained",
             "uptime_s"}
DRAINED_LOG = "drained: no meeting left, the node can be stopped"
REPLIES = []  # every reply text seen, for the names check


class Ctl:
    """The caller's side: XADD a command, collect the nodes' replies."""

    def __init__(self, cluster):
        self.c, self.n = cluster, 0
        self.settle()

    def settle(self):
        """Until every node knows every other one (heartbeats every second)."""
        end = time.monotonic() + 5
        while True:
            self.n += 1
            req = f"settle{self.n:04d}"
            self.send("req", req, "cmd", "nodes")
            try:
                self.replies(req)
                return
            except Fail:
                if time.monotonic() > end:
                    raise

    def send(self, *fields):
        self.c.redis.cli("XADD", "sl:ctl", "MAXLEN", "~", "1000", "*", *fields)

    def cmd(self, cmd, want=None, **args):
        """Returns {node id: reply} once every node (want: how many) answered."""
        self.n += 1
        req = f"test{self.n:04d}{os.urandom(4).hex()}"
        fields = ["req", req, "cmd", cmd]
        for k, v in args.items():
            fields += [k, v]
        self.send(*fields)
        return self.replies(req, want)

    def replies(self, req, want=None):
        want = want or len(self.c.nodes)
        key = f"sl:ctl:reply:{req}"
        wait_until(lambda: int(self.c.redis.cli("LLEN", key) or 0) >= want, 5,
                   f"fewer than {want} replies to {req}")
        time.sleep(0.3)  # nobody answers twice
        lines = self.c.redis.cli("LRANGE", key, "0", "-1").splitlines()
        ttl = int(self.c.redis.cli("TTL", key))
        self.c.redis.cli("DEL", key)
        check(0 < ttl <= 60, f"reply list TTL {ttl}")
        check(len(lines) == want, f"{len(lines)} replies to {req}, want {want}")
        out = {}
        for text in lines:
            REPLIES.append(text)
            r = json.loads(text)
            check(r["req"] == req and r["node"] not in out, f"reply {r}")
            others = sorted(x.name for x in self.c.nodes if x.name != r["node"])
            check(sorted(r["peers"]) == others, f"peers {r['peers']} of {r['node']}")
            base = {"req", "node", "peers", "ok"}
            if r["ok"] is False:
                check(set(r) == base | {"error", "message"} and isinstance(r["message"], str),
                      f"error reply {r}")
            else:
                check(r["ok"] is True and base <= set(r), f"reply {r}")
            out[r["node"]] = r
        return out


def metric(node, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{node.metrics_port}/metrics",
                                timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
    raise Fail(f"no {name} in the metrics of {node.name}")


def ctl_count(node, cmd, result):
    return metric(node, f'sluice_ctl_commands_total{{cmd="{cmd}",result="{result}"}}')


def errors(replies, code, nodes):
    for n in nodes:
        check(replies[n]["ok"] is False and replies[n]["error"] == code,
              f"{n}: expected {code}, got {replies[n]}")


def tag_of(cluster, room):
    with open(os.path.join(cluster.dir, "secret"), "rb") as f:
        secret = f.read()
    return hmac.new(secret, room.encode(), hashlib.sha256).digest()[:16].hex()


def fatal_error(w, code, timeout=5.0):
    """The next error (other messages skipped): code, fatal; then the close."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = w.recv(end - time.monotonic())
        if m and m.get("type") == "error":
            check(m.get("code") == code and m.get("fatal") is True, f"expected {code}: {m}")
            check(w.closes(3), f"the WebSocket stays open after {code}")
            return m
    raise Fail(f"no error {code}")


def joined(w, room, name):
    w.send(nt.join_msg(room, name))
    m = w.expect("joined")
    w.expect("offer")
    return m


def case_commands():
    """Every command and its replies over three nodes; end/kick/mute as the
    clients see them; bad requests; dropped entries."""
    c = nt.Cluster(3)
    try:
        n1, n2, n3 = c.nodes
        ctl = Ctl(c)
        # busy: the fake dataplane's 25%, once asked at one heartbeat and
        # published at the next.
        wait_until(lambda: all(v["info"]["busy"] == 0.25 for v in ctl.cmd("nodes").values()),
                   5, "busy never became the dataplane's 0.25")
        r = ctl.cmd("nodes")
        for x in c.nodes:
            check(set(r[x.name]) == {"req", "node", "peers", "ok", "info"}, f"nodes {r}")
            i = r[x.name]["info"]
            check(set(i) == INFO_KEYS and i["id"] == x.name and i["url"] == x.url and
                  i["participants"] == 0 and i["meetings"] == 0 and i["busy"] == 0.25 and
                  i["draining"] is False and i["drained"] is False and i["uptime_s"] >= 0,
                  f"info {i}")
        # A meeting on n1: alice (moderator), bob; carol waits in its lobby.
        room = "ctl-" + os.urandom(6).hex()
        a, b = n1.ws(), n1.ws()
        ja = joined(a, room, "alice")
        jb = joined(b, room, "bob")
        mid, bob = ja["meeting"], jb["participant"]
        a.send({"type": "lobby", "enabled": True})
        a.expect("meeting_state")
        cw = n1.ws()
        cw.send(nt.join_msg(room, "carol"))
        cw.expect("lobby_wait")
        tag = tag_of(c, room)

        r = ctl.cmd("meetings")
        check(r["n2"]["meetings"] == [] and r["n3"]["meetings"] == [], f"meetings {r}")
        ms = r["n1"]["meetings"]
        check(len(ms) == 1 and set(ms[0]) == {"meeting", "tag", "participants", "age_s"} and
              ms[0]["meeting"] == mid and ms[0]["tag"] == tag and ms[0]["participants"] == 2,
              f"n1 meetings {ms}")
        r = ctl.cmd("meetings", node="n2")
        check(r["n2"]["ok"] and r["n2"]["meetings"] == [], f"meetings of n2 {r}")
        errors(r, "not_here", ["n1", "n3"])

        for m in (mid, tag):
            r = ctl.cmd("meeting", meeting=m)
            errors(r, "not_here", ["n2", "n3"])
            d = r["n1"]["meeting"]
            check(set(d) == {"meeting", "tag", "age_s", "locked", "lobby", "password",
                             "lobby_waiting", "participants"} and d["meeting"] == mid and
                  d["tag"] == tag and d["lobby"] is True and d["locked"] is False and
                  d["password"] is False and d["lobby_waiting"] == 1, f"meeting {d}")
            ps = {p["id"]: p for p in d["participants"]}
            check(set(ps) == {ja["participant"], bob}, f"participants {ps}")
            check(ps[ja["participant"]]["role"] == "moderator" and ps[bob]["role"] ==
                  "participant", f"roles {ps}")
            for p in ps.values():
                check(set(p) == {"id", "role", "connected", "audio_muted", "video_muted",
                                 "screen"} and p["connected"] is False and
                      p["audio_muted"] is False and p["video_muted"] is False and
                      p["screen"] is False, f"participant {p}")

        # mute: as a moderator's, by "operator"
        r = ctl.cmd("mute", meeting=mid, participant=bob, kind="video")
        errors(r, "not_here", ["n2", "n3"])
        check(r["n1"]["muted"] == bob and r["n1"]["kind"] == "video", f"mute {r['n1']}")
        m = b.expect("muted")
        check(m == {"type": "muted", "participant": bob, "kind": "video", "by": "operator",
                    "muted": True}, f"bob saw {m}")
        r = ctl.cmd("mute", meeting=tag, participant=bob)
        check(r["n1"]["kind"] == "audio" and b.expect("muted")["kind"] == "audio", "mute audio")
        d = ctl.cmd("meeting", meeting=mid)["n1"]["meeting"]
        p = [p for p in d["participants"] if p["id"] == bob][0]
        check(p["audio_muted"] and p["video_muted"], f"bob after the mutes {p}")

        # kick: an unknown participant, then bob
        r = ctl.cmd("kick", meeting=mid, participant="00" * 8)
        errors(r, "not_found", ["n1"])
        errors(r, "not_here", ["n2", "n3"])
        r = ctl.cmd("kick", meeting=mid, participant=bob)
        check(r["n1"]["kicked"] == bob, f"kick {r['n1']}")
        fatal_error(b, "kicked")

        # end: alice and carol (in the lobby) are sent away
        r = ctl.cmd("end", meeting=tag)
        errors(r, "not_here", ["n2", "n3"])
        check(r["n1"]["ended"] == 2, f"end {r['n1']}")
        for w in (a, cw):
            e = fatal_error(w, "ended")
            check(e["message"] == "ended by the operator", f"end message {e}")
        r = ctl.cmd("meeting", meeting=mid)
        errors(r, "not_here", ["n1", "n2", "n3"])
        check(n1.metric("sluice_meetings") == 0, "the meeting is still there")

        # stats, drain/undrain of another node
        r = ctl.cmd("stats", node="n1")
        errors(r, "not_here", ["n2", "n3"])
        s = r["n1"]["stats"]
        check(set(r["n1"]) == {"req", "node", "peers", "ok", "info", "stats"}, f"stats {r}")
        check(s["joins"] == metric(n1, "sluice_joins_total") == 2 and
              s["ctl_commands"]["kick/ok"] == 1 and s["ctl_commands"]["kick/not_found"] == 1 and
              s["ctl_dropped"] == 0 and s["lobby_waits"] == 1 and
              s["join_failures"]["draining"] == 0 and "meetings" not in s,
              f"stats of n1 {s}")
        r = ctl.cmd("undrain", node="n3")
        errors(r, "not_here", ["n1", "n2"])
        check(r["n3"]["info"]["draining"] is False, f"undrain {r['n3']}")

        # bad requests: every node says so, and counts them
        for fields in (["cmd", "nodes", "extra", "1"], ["cmd", "reboot"], ["cmd", "kick",
                       "meeting", mid], ["cmd", "drain", "node", "n1", "node", "n1"],
                       ["cmd", "end", "meeting", mid.upper()], ["cmd", "nodes", "node", "n1"],
                       ["cmd", "mute", "meeting", mid, "participant", bob, "kind", "screen"],
                       []):
            ctl.n += 1
            req = f"bad{ctl.n:04d}xyz"
            ctl.send("req", req, *fields)
            r = ctl.replies(req)
            errors(r, "bad_request", ["n1", "n2", "n3"])
        for x in c.nodes:
            check(ctl_count(x, "unknown", "bad_request") == 2 and
                  ctl_count(x, "nodes", "bad_request") == 2 and
                  ctl_count(x, "kick", "bad_request") == 1 and
                  ctl_count(x, "nodes", "ok") >= 2, f"ctl metrics of {x.name}")
        # entries without a valid req: dropped, counted, answered nowhere
        for fields in (["cmd", "nodes"], ["req", "short", "cmd", "nodes"],
                       ["req", "abcdefgh", "req", "abcdefgh", "cmd", "nodes"],
                       ["req", "a b c d e f g h", "cmd", "nodes"]):
            ctl.send(*fields)
        wait_until(lambda: all(metric(x, "sluice_ctl_dropped_total") == 4 for x in c.nodes), 3,
                   "dropped entries not counted on every node")
        check(not [k for k in c.redis.cli("--scan", "--pattern", "sl:ctl:reply:*").split()],
              "a reply to a dropped entry")
        text = "\n".join(REPLIES)
        for s in ct.ROOM_NAMES | ct.NAMES:
            check(s not in text, "a room or display name in a reply")
        c.check_no_names()
    finally:
        c.close()


def heartbeat(c, node):
    return c.redis.hgetall(f"sl:node:{node}")


def case_drain():
    """Drain: new meetings go to the other node, own meetings go on, drained
    once the last one ended; refusals when no node can take a meeting;
    undrain; SIGUSR1."""
    c = nt.Cluster(2)
    try:
        n1, n2 = c.nodes
        ctl = Ctl(c)
        old = "old-" + os.urandom(6).hex()
        a = n1.ws()
        joined(a, old, "alice")
        r = ctl.cmd("drain", node="n1")
        errors(r, "not_here", ["n2"])
        i = r["n1"]["info"]
        check(i["draining"] is True and i["drained"] is False and i["meetings"] == 1,
              f"drain {i}")
        check(heartbeat(c, "n1").get("draining") == "1" and
              heartbeat(c, "n1").get("drained") == "0", f"heartbeat {heartbeat(c, 'n1')}")
        check(metric(n1, "sluice_draining") == 1 and metric(n1, "sluice_drained") == 0,
              "draining metrics")
        # a new meeting at n1 goes to n2 (n1 carries 1, n2 0: under the margin)
        w = n1.ws()
        w.send(nt.join_msg("new-" + os.urandom(6).hex(), "bob"))
        m = nt.first_reply(w)
        check(m == {"type": "redirect", "url": n2.url}, f"a new meeting at a draining node: {m}")
        # its own meeting's joins go on
        joined(n1.ws(), old, "carol")
        check(DRAINED_LOG not in read(n1.err), "drained while a meeting is left")
        # the last meeting ends: drained, once
        for w in n1.wss:
            w.close()
        wait_until(lambda: DRAINED_LOG in read(n1.err), 5, "no drained log line")
        wait_until(lambda: heartbeat(c, "n1").get("drained") == "1", 3, "heartbeat not drained")
        check(metric(n1, "sluice_drained") == 1, "sluice_drained")
        i = ctl.cmd("nodes")["n1"]["info"]
        check(i["draining"] and i["drained"] and i["meetings"] == 0, f"nodes {i}")
        time.sleep(0.5)  # a few more ticks of the 200 ms timer
        # with n2 draining too, n1 has nowhere to place a meeting: refused
        check(ctl.cmd("drain", node="n2")["n2"]["info"]["drained"] is True, "drain n2")
        time.sleep(1.5)  # n1 read n2's heartbeat
        w = n1.ws()
        w.send(nt.join_msg("nowhere-" + os.urandom(6).hex(), "dave"))
        w.expect_error("draining")
        check(metric(n1, 'sluice_join_failures_total{reason="draining"}') == 1,
              "draining refusals not counted")
        # undrain: n1 takes meetings again
        i = ctl.cmd("undrain", node="n1")["n1"]["info"]
        check(i["draining"] is False and i["drained"] is False, f"undrain {i}")
        check(heartbeat(c, "n1").get("draining") == "0" and metric(n1, "sluice_draining") == 0,
              "undrain: heartbeat or metric")
        joined(n1.ws(), "again-" + os.urandom(6).hex(), "erin")
        # once per drain (a repeat would show now: the log writes "[repeated N
        # more times]" of a line when another one comes)
        check(read(n1.err).count(DRAINED_LOG) == 1, "the drained line is logged more than once")
        # SIGUSR1 drains as well (n1 holds a meeting: not drained yet)
        n1.cp.send_signal(signal.SIGUSR1)
        wait_until(lambda: heartbeat(c, "n1").get("draining") == "1", 3, "SIGUSR1: no drain")
        check(metric(n1, "sluice_draining") == 1 and metric(n1, "sluice_drained") == 0,
              "SIGUSR1 metrics")
        check(ctl_count(n1, "drain", "ok") == 1 and ctl_count(n2, "drain", "not_here") == 1,
              "drain commands not counted")
        c.check_no_names()
    finally:
        c.close()


CASES = [("operator commands and replies", case_commands),
         ("drain, drained, undrain, SIGUSR1", case_drain)]

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: controlplane_ctl_test.py PATH/TO/sluice-controlplane SRCDIR")
    ct.CP_BIN, ct.SRCDIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    ct.run_and_exit(CASES)
