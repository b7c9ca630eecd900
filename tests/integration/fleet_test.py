#!/usr/bin/python3
"""fleet_test.py - a three-node fleet driven by sluicectl, on the shipped Redis ACL.

Usage: fleet_test.py PATH/TO/sluice-controlplane PATH/TO/sluice-dataplane
                     PATH/TO/sluicectl SRCDIR

One redis-server runs with docker/redis/users.acl as shipped (its password
placeholders filled in the way docker/redis/start.sh does, plus an admin
user for this test's own look at the keys), so the node user `sluice` and
the operator user `sluice-operator` have exactly the rights the deployment
gives them. Three nodes share it: n1 with the real dataplane (net_null, no
hugepages; root only, else n1 gets a fake one too), n2 and n3 with the fake
dataplane of controlplane_test.py. Then every sluicectl command against
them (docs/operators.md "Operator API", "Drain", "sluicectl"): nodes (the
real dataplane's worker load reaches the table), meetings, meeting (by id
and by --room), mute, kick, end, stats, drain to `drained` and undrain; and
the ACL refusals: no AUTH, a wrong password, the node's user trying to
write a command, the operator's user trying to read a meeting's keys. No
node may log a refused Redis command (the ACL lacks nothing it sends), no
room or display name may reach Redis, a log or sluicectl's output, and
every command Redis saw (MONITOR) touched keys of one hash slot only, as a
Redis Cluster needs.
Only Unix sockets and loopback are used.
Output: "ok N - name" / "not ok N - name: why".
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import controlplane_test as ct  # noqa: E402  (re-executes under /usr/bin/python3 if needed)
import controlplane_nodes_test as nt  # noqa: E402

import hashlib, hmac, json, shutil, subprocess, tempfile, time  # noqa: E402

from controlplane_test import Fail, check, wait_until, read  # noqa: E402

DP_BIN = CTL_BIN = None
PASSWORDS = {"sluice": os.urandom(12).hex(), "sluice-operator": os.urandom(12).hex(),
             "admin": os.urandom(12).hex()}


class AclRedis(ct.Redis):
    """redis-server with docker/redis/users.acl (and an admin user for the test)."""
    def __init__(self, d):
        with open(os.path.join(ct.SRCDIR, "docker", "redis", "users.acl")) as f:
            acl = f.read()
        for user, placeholder in (("sluice", "@PASSWORD_SHA256@"),
                                  ("sluice-operator", "@OPERATOR_PASSWORD_SHA256@")):
            check(placeholder in acl, f"users.acl has no {placeholder}")
            acl = acl.replace(placeholder,
                              "#" + hashlib.sha256(PASSWORDS[user].encode()).hexdigest())
        # As docker/redis/start.sh renders it: the user lines only.
        acl = "".join(l + "\n" for l in acl.splitlines() if l.startswith("user "))
        acl += f"user admin on >{PASSWORDS['admin']} ~* &* +@all\n"
        self.acl = os.path.join(d, "users.acl")
        with open(self.acl, "w") as f:
            f.write(acl)
        for user, pw in PASSWORDS.items():
            with open(os.path.join(d, user + ".pw"), "w") as f:
                f.write(pw + "\n")
        super().__init__(d)

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.p = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", self.sock,
                                   "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                                   "--dir", self.dir, "--aclfile", self.acl],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  stdin=subprocess.DEVNULL)
        wait_until(lambda: self.cli("PING").strip() == "PONG", 5, "redis-server did not start")

    def cli(self, *args, user="admin"):
        auth = ["--user", user, "--pass", PASSWORDS[user], "--no-auth-warning"] if user else []
        return subprocess.run(["redis-cli", "-s", self.sock, *auth, *args], capture_output=True,
                              text=True, timeout=5).stdout

    def pw(self, user):
        return os.path.join(self.dir, user + ".pw")


class RealDataplane:
    """sluice-dataplane on net_null without hugepages (root only). no-rx=1: a
    net_null port otherwise receives packets without end, and its worker
    is 100% busy, which placement (--placement-busy) rightly avoids."""
    def __init__(self, d):
        self.sock, self.err = os.path.join(d, "dp.sock"), os.path.join(d, "dp.err")
        self.prefix = f"sl-fleet-{os.getpid()}"
        env = {**os.environ}
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        with open(os.path.join(d, "dp.out"), "w") as fo, open(self.err, "w") as fe:
            self.p = subprocess.Popen(
                [DP_BIN, "--vdev", "net_null0,no-rx=1", "--ipv4", "10.97.0.1", "--lcores", "0,1",
                 "--huge", "off", "--memory", "256", "--mbufs", "4095", "--history-mbufs", "255",
                 "--max-streams", "64", "--max-subs", "64", "--max-endpoints", "16",
                 "--file-prefix", self.prefix, "--ctl-socket", self.sock],
                stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, env=env)
        wait_until(lambda: self.p.poll() is not None or os.path.exists(self.sock), 30,
                   "the dataplane did not start")
        check(self.p.poll() is None, f"the dataplane exited: {read(self.err)[-600:]}")

    def close(self):
        if self.p:
            ct.stop_proc(self.p)
            self.p = None
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)


class Fleet:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="slfleet-")
        self.nodes, self.redis, self.real, self.monitor = [], None, None, None
        try:
            self.redis = AclRedis(self.dir)
            self.monitor_out = open(os.path.join(self.dir, "monitor"), "w")
            self.monitor = subprocess.Popen(
                ["redis-cli", "-s", self.redis.sock, "--user", "admin", "--pass",
                 PASSWORDS["admin"], "--no-auth-warning", "MONITOR"],
                stdout=self.monitor_out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            auth = ["--redis-user", "sluice", "--redis-password-file", self.redis.pw("sluice")]
            if os.geteuid() == 0:
                self.real = RealDataplane(self.dir)
            else:
                print("# not root: n1 gets a fake dataplane too", flush=True)
            for i in range(3):
                self.nodes.append(nt.Node(self.dir, self.redis, f"n{i + 1}", auth,
                                          dp_sock=self.real.sock if self.real and i == 0
                                          else None))
            wait_until(lambda: all(self.redis.cli("EXISTS", f"sl:node:{x.name}").strip() == "1"
                                   for x in self.nodes), 5, "no heartbeat keys")
            time.sleep(1.5)
        except BaseException:
            self.close()
            raise

    def ctl(self, *args, user="sluice-operator", want=0):
        """sluicectl as `user`; returns (stdout, stderr); checks the exit status."""
        auth = ["--redis-user", user, "--redis-password-file", self.redis.pw(user)] if user else []
        r = subprocess.run([CTL_BIN, "--redis", "unix:" + self.redis.sock, *auth,
                            "--secret-file", os.path.join(self.dir, "secret"), *args],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == want, f"sluicectl {' '.join(args)}: rc {r.returncode}, want {want}: "
              f"{r.stderr[-400:]!r}")
        for s in ct.ROOM_NAMES | ct.NAMES:
            check(s not in r.stdout and s not in r.stderr, f"sluicectl printed a name: {s}")
        return r.stdout, r.stderr

    def ctl_json(self, *args):
        return json.loads(self.ctl("--json", *args)[0])

    def tag(self, room):
        with open(os.path.join(self.dir, "secret"), "rb") as f:
            return hmac.new(f.read(), room.encode(), hashlib.sha256).digest()[:16].hex()

    def close(self):
        try:
            for x in self.nodes:
                x.close()
        finally:
            if self.monitor:
                ct.stop_proc(self.monitor)
                self.monitor_out.close()
            if self.real:
                self.real.close()
            if self.redis:
                self.redis.stop()
            shutil.rmtree(self.dir, ignore_errors=True)


def crc16(data):
    """CRC16-XMODEM, Redis Cluster's key hash."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def slot(key):
    """The hash slot of a key: of its {tag} when it has a non-empty one."""
    a = key.find("{")
    if a >= 0:
        b = key.find("}", a + 1)
        if b > a + 1:
            key = key[a + 1:b]
    return crc16(key.encode()) % 16384


def command_keys(args):
    """The keys of one command as MONITOR shows it (the commands the nodes
    and sluicectl send, and this test's own reads)."""
    cmd = args[0].upper()
    if cmd in ("AUTH", "PING", "MONITOR", "SCAN", "KEYS", "ACL", "HELLO", "CLIENT", "COMMAND",
               "INFO", "SELECT"):
        return []
    if cmd == "DEL" or cmd == "EXISTS":
        return args[1:]
    if cmd == "BLPOP":
        return args[1:-1]
    if cmd in ("EVAL", "EVALSHA"):
        return args[3:3 + int(args[2])]
    if cmd == "XREAD":
        rest = args[[a.upper() for a in args].index("STREAMS") + 1:]
        return rest[:len(rest) // 2]
    return args[1:2]


def check_one_slot_per_command(path):
    """Every command touched keys of one hash slot: the layout a Redis
    Cluster needs (docs/operators.md, "Several nodes", Redis Cluster)."""
    import re
    n = multi = 0
    with open(path, errors="replace") as f:
        for line in f:
            args = [a.encode().decode("unicode_escape") for a in
                    re.findall(r'"((?:[^"\\]|\\.)*)"', line)]
            if not args:
                continue
            keys = command_keys(args)
            n += 1
            multi += len(keys) > 1
            check(len({slot(k) for k in keys}) <= 1,
                  f"a command over several hash slots: {args[:6]}")
    check(n > 100 and multi > 0, f"MONITOR saw {n} commands, {multi} with several keys")
    print(f"# {n} commands seen by MONITOR, {multi} with several keys, each within one slot",
          flush=True)


def recv_until(w, pred, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = w.recv(end - time.monotonic())
        if m and pred(m):
            return m
    return None


def case_fleet():
    f = Fleet()
    try:
        n1, n2, n3 = f.nodes
        # nodes: every node, the real dataplane's load included.
        nodes = f.ctl_json("nodes")
        check(isinstance(nodes, list), f"nodes --json is not a list: {nodes}")
        by_id = {x["id"]: x for x in nodes}
        check(set(by_id) == {"n1", "n2", "n3"}, f"nodes: {sorted(by_id)}")
        for x in nodes:
            check(0 <= x["busy"] <= 1 and x["url"] == f.nodes[int(x["id"][1]) - 1].url and
                  x["draining"] is False and x["drained"] is False, f"node info {x}")
        check(by_id["n2"]["busy"] == 0.25, f"n2's busy is not its fake dataplane's: {by_id['n2']}")
        table = f.ctl("nodes")[0]
        check(all(n in table for n in ("n1", "n2", "n3")) and "ID" in table, f"table {table!r}")

        # Two meetings: A on n2 (two participants), B on n1.
        room_a, room_b = "fleet-a-" + os.urandom(6).hex(), "fleet-b-" + os.urandom(6).hex()
        wa1, wa2 = n2.ws(), n2.ws()
        wa1.send(nt.join_msg(room_a, "alice"))
        ja1 = nt.first_reply(wa1)
        wa2.send(nt.join_msg(room_a, "bob"))
        ja2 = nt.first_reply(wa2)
        wb = n1.ws()
        wb.send(nt.join_msg(room_b, "carol"))
        jb = nt.first_reply(wb)
        check(ja1["type"] == ja2["type"] == jb["type"] == "joined", f"joins {ja1} {ja2} {jb}")
        meetings = f.ctl_json("meetings")
        where = {m["tag"]: m for m in meetings}
        check(set(where) == {f.tag(room_a), f.tag(room_b)}, f"meetings {meetings}")
        check(where[f.tag(room_a)]["node"] == "n2" and
              where[f.tag(room_a)]["participants"] == 2 and
              where[f.tag(room_b)]["node"] == "n1", f"meetings {meetings}")
        check(len(f.ctl_json("meetings", "n1")) == 1, "meetings n1")
        # meeting: by --room and by id; ids and roles, nothing else about people.
        m = f.ctl_json("meeting", "--room", room_a)
        mm = m.get("meeting", m)
        ids = {p["id"] for p in mm["participants"]}
        check(ids == {ja1["participant"], ja2["participant"]}, f"meeting {m}")
        check(all(p["role"] in ("moderator", "participant") for p in mm["participants"]), f"{m}")
        byid = f.ctl_json("meeting", where[f.tag(room_a)]["meeting"])
        check(byid.get("meeting", byid)["tag"] == f.tag(room_a), f"meeting by id {byid}")
        # mute, kick, end reach the participants.
        f.ctl("mute", "--room", room_a, ja2["participant"])
        mu = recv_until(wa2, lambda x: x.get("type") == "muted")
        check(mu is not None and mu.get("by") == "operator" and
              mu.get("participant") == ja2["participant"] and mu.get("kind") == "audio",
              f"bob was not told of the operator's mute: {mu}")
        f.ctl("kick", "--room", room_a, ja2["participant"])
        k = recv_until(wa2, lambda x: x.get("type") == "error")
        check(k is not None and k.get("code") == "kicked", f"kick: {k}")
        f.ctl("end", where[f.tag(room_b)]["meeting"])
        e = recv_until(wb, lambda x: x.get("type") == "error")
        check(e is not None and e.get("code") == "ended", f"end: {e}")
        wait_until(lambda: f.tag(room_b) not in {x["tag"] for x in f.ctl_json("meetings")}, 3,
                   "the ended meeting is still listed")
        # Unknown meeting and node: a clear failure.
        _, err = f.ctl("end", "0" * 32, want=1)
        check("no such meeting" in err, f"end of no meeting: {err!r}")
        f.ctl("drain", "n9", want=1)
        # stats: the node's counters, the real dataplane's among them.
        st = f.ctl_json("stats", "n1")
        check(isinstance(st.get("stats"), dict) and st["stats"], f"stats {st}")
        # drain n3 (idle): drained at once; new meetings at n3 go elsewhere.
        d = f.ctl_json("drain", "n3")
        check(d["info"]["draining"] is True and d["info"]["drained"] is True, f"drain {d}")
        time.sleep(1.5)  # heartbeats
        w = n3.ws()
        w.send(nt.join_msg("fleet-c-" + os.urandom(6).hex(), "dave"))
        r = nt.first_reply(w)
        check(r["type"] == "redirect" and r["url"] in (n1.url, n2.url), f"draining n3: {r}")
        check({x["id"]: x for x in f.ctl_json("nodes")}["n3"]["drained"] is True,
              "nodes does not show n3 drained")
        f.ctl("undrain", "n3")
        check({x["id"]: x for x in f.ctl_json("nodes")}["n3"]["draining"] is False,
              "undrain did not take")
        # ACL refusals.
        _, err = f.ctl("nodes", user=None, want=1)
        check("NOAUTH" in err or "auth" in err.lower(), f"no AUTH: {err!r}")
        with open(f.redis.pw("sluice-operator") + ".bad", "w") as fo:
            fo.write("wrong\n")
        r = subprocess.run([CTL_BIN, "--redis", "unix:" + f.redis.sock, "--redis-user",
                            "sluice-operator", "--redis-password-file",
                            f.redis.pw("sluice-operator") + ".bad", "nodes"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and "wrong" not in r.stderr, f"bad password: {r}")
        _, err = f.ctl("nodes", user="sluice", want=1)  # the node's user may not XADD
        check("NOPERM" in err or "permission" in err.lower(), f"node user XADD: {err!r}")
        owner = f"sl:{{{f.tag(room_a)}}}:owner"
        for args in (("GET", owner), ("HGETALL", "sl:node:n1"), ("KEYS", "*"),
                     ("XADD", "sl:other", "*", "a", "b"), ("XREAD", "STREAMS", "sl:ctl", "0")):
            out = f.redis.cli(*args, user="sluice-operator")
            check("NOPERM" in out, f"operator {args}: {out!r}")
        check("NOAUTH" in f.redis.cli("GET", owner, user=None), "an unauthenticated client got in")
        # Nothing refused a node, nothing leaked.
        for x in f.nodes:
            check("redis refused" not in read(x.err), f"{x.name}: {read(x.err)[-400:]}")
        nt.Cluster.check_no_names(f)
        # The meetings end (DEL of three keys of one tag) with the nodes.
        for x in f.nodes:
            x.close()
        f.nodes = []
        time.sleep(0.3)
        check_one_slot_per_command(os.path.join(f.dir, "monitor"))
    finally:
        f.close()


CASES = [("a fleet driven by sluicectl on the shipped ACL", case_fleet)]

if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: fleet_test.py CONTROLPLANE DATAPLANE SLUICECTL SRCDIR")
    ct.CP_BIN, DP_BIN, CTL_BIN, ct.SRCDIR = (os.path.abspath(a) for a in sys.argv[1:])
    ct.run_and_exit(CASES, lambda n, name: True)
