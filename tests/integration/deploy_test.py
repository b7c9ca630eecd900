#!/usr/bin/python3
"""deploy_test.py - what the systemd units rely on: --config and sd_notify.

Usage: deploy_test.py PATH/TO/sluice-controlplane PATH/TO/sluice-dataplane SRCDIR

Runs each binary with its settings in a config file (--config FILE, the
command line overriding some of them) and with NOTIFY_SOCKET pointing at a
Unix datagram socket this test listens on, the way systemd runs a
Type=notify unit with WatchdogSec=: READY=1 must arrive once the process
serves, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM. A bad
config line must stop the process (status 2) with the file and line named.
The control plane gets a fake dataplane and a redis-server on Unix sockets
(controlplane_test.py); the dataplane a net_null device without hugepages
(root only: skipped otherwise). Only loopback and Unix sockets are used.
Output: "ok N - name" / "not ok N - name: why".
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import controlplane_test as ct  # noqa: E402  (re-executes under /usr/bin/python3 if needed)

import http.client, shutil, signal, socket, subprocess, tempfile, time  # noqa: E402

from controlplane_test import Fail, check, wait_until, read, free_port  # noqa: E402

CP_BIN = DP_BIN = SRCDIR = None


class Notify:
    """A NOTIFY_SOCKET: every datagram received, as (monotonic time, text)."""
    def __init__(self, d):
        self.path = os.path.join(d, "notify.sock")
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(self.path)
        self.s.settimeout(0.05)
        self.msgs = []
    def poll(self):
        while True:
            try:
                b = self.s.recv(4096)
            except (socket.timeout, BlockingIOError):
                return self.msgs
            self.msgs.append((time.monotonic(), b.decode(errors="replace")))
    def seen(self, text):
        return [t for t, m in self.poll() if text in m.split("\n")]
    def close(self):
        self.s.close()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def http_ok(port, host=None):
    """GET / answered 200 (with Host: host when given)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        c.request("GET", "/", headers={"Host": host} if host else {})
        return c.getresponse().status == 200
    except OSError:
        return False
    finally:
        c.close()


def stop(p, timeout=10):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise Fail("did not exit within 10 s of SIGTERM")


class CpEnv:
    """A fake dataplane and a redis-server for control planes started by a case."""
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sldeploy-")
        self.redis = ct.Redis(self.dir)
        self.dp = ct.FakeDataplane(os.path.join(self.dir, "dp.sock"))
        self.procs = []
    def conf(self, port, extra=""):
        return write(os.path.join(self.dir, "cp.conf"),
                     "# sluice-controlplane settings for the test\n"
                     f"listen = 127.0.0.1\nport = {port}\n"
                     f"web-root = {os.path.join(SRCDIR, 'web')}\n"
                     f"dataplane-socket = {os.path.join(self.dir, 'dp.sock')}\n"
                     f"state-dir = {os.path.join(self.dir, 'state')}\n"
                     f"redis = unix:{self.redis.sock}  # the test's own\n" + extra)
    def start(self, args, env=None, name="cp"):
        out, err = os.path.join(self.dir, name + ".out"), os.path.join(self.dir, name + ".err")
        with open(out, "w") as fo, open(err, "w") as fe:
            p = subprocess.Popen([CP_BIN, *args], stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                                 env={**os.environ, **(env or {})})
        self.procs.append(p)
        return p, out, err
    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.redis.stop()
        self.dp.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def case_cp_config():
    e = CpEnv()
    try:
        a, b = free_port(), free_port()
        conf = e.conf(a)
        # Everything from the file.
        p, out, err = e.start(["--config", conf], name="cp1")
        wait_until(lambda: p.poll() is not None or f"ready on port {a}" in read(out), 10,
                   "not ready with the file's port")
        check(p.poll() is None, f"exited: {read(err)[-300:]}")
        wait_until(lambda: http_ok(a), 5, f"no HTTP on the file's port {a}")
        check(stop(p) == 0, f"rc {p.returncode} on SIGTERM: {read(err)[-600:]}")
        # The command line wins, before or after --config.
        for args in (["--port", str(b), "--config", conf], ["--config", conf, f"--port={b}"]):
            p, out, err = e.start(args, name="cp2")
            wait_until(lambda: p.poll() is not None or f"ready on port {b}" in read(out), 10,
                       f"{args}: not ready on the command line's port")
            check(http_ok(b) and not http_ok(a), f"{args}: serves on the wrong port")
            check(stop(p) == 0, f"rc {p.returncode} on SIGTERM: {read(err)[-600:]}")
        # A repeatable option: the file's origins apply, unless the command
        # line gives its own, which replace them.
        conf = e.conf(a, "origin = https://meet.example.com\n")
        for args, file_host_ok in ((["--config", conf], True),
                                   (["--config", conf, "--origin", "https://other.example.com"],
                                    False)):
            p, out, err = e.start(args, name="cp3")
            wait_until(lambda: p.poll() is not None or f"ready on port {a}" in read(out), 10,
                       f"{args}: not ready")
            check(http_ok(a, "meet.example.com") == file_host_ok,
                  f"{args}: Host meet.example.com {'refused' if file_host_ok else 'served'}")
            check(http_ok(a, "other.example.com") != file_host_ok,
                  f"{args}: Host other.example.com {'served' if file_host_ok else 'refused'}")
            check(stop(p) == 0, f"rc {p.returncode} on SIGTERM: {read(err)[-600:]}")
        # Bad files stop it before anything starts, naming the file and line.
        bad = [("port = 1\nno-such-option = 3\n", ":2: unknown option 'no-such-option'"),
               ("\n\n\nport = 0\n", ":4: --port: '0' is not valid"),
               ("config = /etc/sluice/other.conf\n", ":1: 'config' cannot be set"),
               ("port\n", ":1: port: needs a value"),
               ("port 8080\n", ":1: expected 'key = value'")]
        for text, want in bad:
            path = write(os.path.join(e.dir, "bad.conf"), text)
            p, out, err = e.start(["--config", path], name="bad")
            check(p.wait(10) == 2, f"{text!r}: rc {p.returncode}, want 2")
            check(f"config: {path}{want}" in read(err), f"{text!r}: stderr {read(err)!r}")
        p, out, err = e.start(["--config", os.path.join(e.dir, "missing.conf")], name="bad")
        check(p.wait(10) == 2 and "cannot open" in read(err), f"missing file: {read(err)!r}")
        check("--config FILE" in subprocess.run([CP_BIN, "--help"], capture_output=True,
                                                text=True).stdout, "--config not in --help")
    finally:
        e.close()


def case_cp_notify():
    e = CpEnv()
    n = Notify(e.dir)
    try:
        port = free_port()
        p, out, err = e.start(["--config", e.conf(port)], name="cpn",
                              env={"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": "400000"})
        wait_until(lambda: p.poll() is not None or n.seen("READY=1"), 10, "no READY=1")
        check(p.poll() is None, f"exited: {read(err)[-300:]}")
        check(f"ready on port {port}" in read(out), "READY=1 before 'ready' was printed")
        check(http_ok(port), "READY=1 but no HTTP")
        t0 = time.monotonic()
        wait_until(lambda: len([t for t in n.seen("WATCHDOG=1") if t > t0]) >= 3, 3,
                   f"fewer than 3 WATCHDOG=1 in 3 s at WATCHDOG_USEC=400000: {n.poll()}")
        check(not n.seen("STOPPING=1"), "STOPPING=1 before SIGTERM")
        check(stop(p) == 0, f"rc {p.returncode} on SIGTERM: {read(err)[-600:]}")
        wait_until(lambda: n.seen("STOPPING=1"), 2, "no STOPPING=1 on SIGTERM")
        # Without WATCHDOG_USEC: READY=1, no watchdog pings.
        n.msgs.clear()
        p, out, err = e.start(["--config", e.conf(port)], name="cpn2",
                              env={"NOTIFY_SOCKET": n.path})
        wait_until(lambda: p.poll() is not None or n.seen("READY=1"), 10, "no READY=1 (2)")
        time.sleep(0.5)
        check(not n.seen("WATCHDOG=1"), "WATCHDOG=1 without WATCHDOG_USEC")
        check(stop(p) == 0, f"rc {p.returncode} on SIGTERM: {read(err)[-600:]}")
    finally:
        n.close()
        e.close()


def case_redis_acl():
    """An external Redis whose default user is off: the control plane AUTHs
    as an ACL user limited to sl:* keys and the commands it uses."""
    e = CpEnv()
    try:
        pw = os.urandom(12).hex()
        pwfile = write(os.path.join(e.dir, "redis-password"), pw + "\n")
        acl = ["ACL", "SETUSER", "node", "on", ">" + pw, "~sl:*", "resetchannels", "-@all",
               "+hset", "+hdel", "+del", "+expire", "+set", "+hget", "+hmget", "+sadd",
               "+smembers", "+srem", "+eval"]
        check(e.redis.cli(*acl).strip() == "OK", "ACL SETUSER failed")
        # The test's own view of the keys (node may not SCAN).
        check(e.redis.cli("ACL", "SETUSER", "admin", "on", ">" + pw, "~*", "+@all").strip() ==
              "OK", "ACL SETUSER admin failed")
        check(e.redis.cli("ACL", "SETUSER", "default", "off").strip() == "OK", "default on")

        def admin_cli(*args):
            return subprocess.run(["redis-cli", "-s", e.redis.sock, "--user", "admin", "--pass", pw,
                                   "--no-auth-warning", *args], capture_output=True, text=True,
                                  timeout=5).stdout
        port = free_port()
        # Without AUTH (or with a wrong password) Redis refuses every write:
        # the store must not call itself connected.
        badpw = write(os.path.join(e.dir, "bad-password"), "wrong\n")
        for args in ([], ["--redis-user", "node", "--redis-password-file", badpw]):
            p, out, err = e.start(["--config", e.conf(port), *args], name="noauth")
            wait_until(lambda: p.poll() is not None or f"ready on port {port}" in read(out), 10,
                       "not ready")
            if args:
                wait_until(lambda: "redis refused AUTH" in read(err) or not args, 5,
                           f"no AUTH error logged: {read(err)[-300:]}")
                check(pw not in read(err) and "wrong" not in read(err).split("AUTH")[0],
                      "a password in the log")
            time.sleep(1.5)
            check("redis connected" not in read(err), f"{args}: connected without AUTH")
            check(stop(p) == 0, f"rc {p.returncode}: {read(err)[-600:]}")
        # The right user and password: connected, and a meeting's keys written.
        p, out, err = e.start(["--config", e.conf(port, "redis-user = node\n"
                                                       f"redis-password-file = {pwfile}\n")],
                              name="auth")
        wait_until(lambda: p.poll() is not None or "redis connected" in read(err), 10,
                   f"not connected with AUTH: {read(err)[-300:]}")
        wait_until(lambda: e.dp.hellos, 5, "no HELLO")
        w = ct.WS(port)
        try:
            w.send(dict(type="join", room="deploy-acl-room", name="A"))
            w.expect("joined")
            wait_until(lambda: admin_cli("--scan", "--pattern", "sl:*").split(), 5,
                       f"no meeting keys in Redis: {read(err)[-300:]}")
        finally:
            w.close()
        check(pw not in read(err) + read(out), "the password in the log")
        # Every command the store sends (owner claim, heartbeat) is in the ACL.
        check("redis refused" not in read(err), f"a command outside the ACL: {read(err)[-600:]}")
        check(stop(p) == 0, f"rc {p.returncode}: {read(err)[-600:]}")
        # Misuse is refused at start-up.
        for args, want in ((["--redis-user", "node"], "--redis-password-file"),):
            p, out, err = e.start(["--config", e.conf(port), *args], name="misuse")
            check(p.wait(10) == 1 and want in read(err), f"{args}: {read(err)!r}")
    finally:
        e.close()


def case_redis_tcp():
    """--redis tcp://HOST:PORT (and its alias redis://) reaches a Redis on
    TCP loopback; malformed URLs stop the start with a message naming --redis."""
    e = CpEnv()
    rport = free_port()
    rs = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                           "--save", "", "--appendonly", "no", "--dir", e.dir],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: subprocess.run(["redis-cli", "-p", str(rport), "PING"],
                                          capture_output=True, text=True).stdout.strip() == "PONG",
                   10, "redis-server on TCP did not start")
        port = free_port()
        for scheme in ("tcp", "redis"):
            p, out, err = e.start(["--config", e.conf(port), "--redis",
                                   f"{scheme}://127.0.0.1:{rport}"], name=scheme)
            wait_until(lambda: p.poll() is not None or "redis connected" in read(err), 10,
                       f"{scheme}:// not connected: {read(err)[-300:]}")
            check(stop(p) == 0, f"rc {p.returncode}: {read(err)[-600:]}")
        for bad in ("tcp://", "tcp://127.0.0.1", "tcp://127.0.0.1:0", "tcp://:6379",
                    "http://127.0.0.1:6379", "unix:relative.sock"):
            p, out, err = e.start(["--config", e.conf(port), "--redis", bad], name="bad")
            check(p.wait(10) != 0 and "--redis" in read(err), f"{bad}: {read(err)!r}")
    finally:
        rs.kill()
        rs.wait()
        e.close()


def case_dp_config_notify():
    if os.geteuid() != 0:
        print("# the dataplane needs root: skipped")
        return
    d = tempfile.mkdtemp(prefix="sldeploy-dp-")
    n = Notify(d)
    p = None
    try:
        conf = write(os.path.join(d, "dp.conf"),
                     "# sluice-dataplane settings for the test\n"
                     "vdev = net_null0\nipv4 = 10.97.0.1\nlcores = 0,1\n"
                     "huge = off\nmemory = 256\nmbufs = 4095\nhistory-mbufs = 255\n"
                     "max-streams = 64\nmax-subs = 64\nmax-endpoints = 16\n"
                     f"file-prefix = sl-deploy-{os.getpid()}\n"
                     f"ctl-socket = {os.path.join(d, 'from-file.sock')}\n")
        ctl = os.path.join(d, "ctl.sock")
        out, err = os.path.join(d, "dp.out"), os.path.join(d, "dp.err")
        env = {**os.environ, "NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": "400000"}
        # DPDK keeps its start-up allocations until exit: no leak report.
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        with open(out, "w") as fo, open(err, "w") as fe:
            p = subprocess.Popen([DP_BIN, "--config", conf, "--ctl-socket", ctl],
                                 stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, env=env)
        wait_until(lambda: p.poll() is not None or n.seen("READY=1"), 30, "no READY=1")
        check(p.poll() is None, f"exited: {read(err)[-600:]}")
        check("sluice-dataplane: ready" in read(out), "READY=1 before 'ready' was printed")
        check(os.path.exists(ctl) and not os.path.exists(os.path.join(d, "from-file.sock")),
              "--ctl-socket on the command line did not win over the file")
        t0 = time.monotonic()
        wait_until(lambda: len([t for t in n.seen("WATCHDOG=1") if t > t0]) >= 3, 3,
                   f"fewer than 3 WATCHDOG=1 in 3 s at WATCHDOG_USEC=400000: {n.poll()}")
        check(stop(p) == 0, f"rc {p.returncode} on SIGTERM: {read(err)[-600:]}")
        wait_until(lambda: n.seen("STOPPING=1"), 2, "no STOPPING=1 on SIGTERM")
        # A bad line stops it before DPDK starts (status 2), naming file and line.
        bad = write(os.path.join(d, "bad.conf"), "vdev = net_null0\n\nbase-port = 80\n")
        r = subprocess.run([DP_BIN, "--config", bad, "--ipv4", "10.97.0.1"], env=env,
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 2 and f"config: {bad}:3: base-port" in r.stderr,
              f"bad line: rc {r.returncode}, {r.stderr!r}")
    finally:
        if p and p.poll() is None:
            p.kill()
            p.wait()
        n.close()
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(f"/var/run/dpdk/sl-deploy-{os.getpid()}", ignore_errors=True)


CASES = [("control plane: --config, the command line wins, bad lines", case_cp_config),
         ("control plane: READY=1, WATCHDOG=1, STOPPING=1", case_cp_notify),
         ("control plane: external Redis with an ACL user", case_redis_acl),
         ("control plane: --redis tcp://HOST:PORT", case_redis_tcp),
         ("dataplane: --config, READY=1, WATCHDOG=1, STOPPING=1", case_dp_config_notify)]


def main():
    global CP_BIN, DP_BIN, SRCDIR
    if len(sys.argv) != 4:
        sys.exit("usage: deploy_test.py PATH/TO/sluice-controlplane PATH/TO/sluice-dataplane "
                 "SRCDIR")
    CP_BIN, DP_BIN, SRCDIR = (os.path.abspath(a) for a in sys.argv[1:])
    ct.CP_BIN, ct.SRCDIR = CP_BIN, SRCDIR
    ct.run_and_exit(CASES)


if __name__ == "__main__":
    main()
