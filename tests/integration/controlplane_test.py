#!/usr/bin/python3
"""controlplane_test.py - sluice-controlplane against a fake dataplane.

Usage: controlplane_test.py PATH/TO/sluice-controlplane SRCDIR

This program plays the dataplane itself: it listens on the control socket
(include/sluice/ctl.h), answers HELLO with INFO and every request with a
REPLY, records the requests and injects PKT_UP messages (STUN checks built
here, DTLS datagrams from a real `openssl s_client`). Clients speak the
signalling protocol (docs/signalling.md) over WebSockets. Each case runs its
own control plane, Redis (a redis-server started here on a Unix socket) and
fake dataplane in a temporary directory, removed afterwards. Only loopback
and Unix sockets are used. Output: "ok N - name" / "not ok N - name: why".
"""
import os
import sys

try:
    import websockets  # Debian 12: python3-websockets 10.4 (asyncio API only)
except ImportError:  # another python3 first on PATH: use the system one
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

import asyncio, contextlib, hashlib, hmac, json, re, select, shutil, socket
import struct, subprocess, tempfile, threading, time, traceback, zlib

# ---------------------------------------------------------------- ctl.h

HDR = struct.Struct("=HHIII")  # version, type, len, seq, rsvd
ADDR = struct.Struct("=BBH6s2s16s16s2sH")  # ports stay network-order bytes
KEY = struct.Struct("=32s14s2s")
EP = struct.Struct("=IIQHHB3s48s48s48s")  # ep_id flags room_id worker profile ale pad addr rx tx
EP_REF = struct.Struct("=II")
ROOM = struct.Struct("=Q")
PKT = struct.Struct("=48sBBHI")  # addr kind pad data_len pad2, then data
REPLY = struct.Struct("=iHH")
INFO = struct.Struct("=HHBB2s4s16sII")
assert HDR.size == 16 and ADDR.size == 48 and KEY.size == 48
assert HDR.size + EP.size == 184 and HDR.size + PKT.size == 72
assert HDR.size + INFO.size == 52 and HDR.size + REPLY.size == 24

(T_HELLO, T_EP_ADD, T_EP_UPDATE, T_EP_REMOVE, T_SUBSCRIBE, T_UNSUBSCRIBE, T_MUTE,
 T_ROOM_REMOVE, T_PKT_DOWN, T_COUNTERS_GET, T_WORKER_STATS_GET) = range(1, 12)
T_REPLY, T_INFO, T_PKT_UP, T_EVENT, T_COUNTERS, T_WORKER_STATS = 64, 65, 66, 67, 68, 69
WSTAT = struct.Struct("=IIII Q")  # n pool_size pool_in_use hist_size tsc_hz
WREC = struct.Struct("=QQQQQQII")  # rx/tx packets/bytes, busy_cycles, cycles, busy_ppm, hist_in_use
assert HDR.size + WSTAT.size == 40 and WREC.size == 56
EV_AUDIO_LEVEL, EV_TIMEOUT, EV_MEDIA_ALIVE = 1, 2, 4
K_STUN, K_DTLS = 1, 2
MSG_LEN = {T_HELLO: 16, T_EP_ADD: 184, T_EP_UPDATE: 184, T_EP_REMOVE: 24, T_SUBSCRIBE: 36,
           T_UNSUBSCRIBE: 36, T_MUTE: 24, T_ROOM_REMOVE: 24, T_COUNTERS_GET: 16,
           T_WORKER_STATS_GET: 16}

def counter_names():
    """The SL_COUNTERS(X) names of include/sluice/ctl.h, in order."""
    with open(os.path.join(SRCDIR, "include", "sluice", "ctl.h")) as f:
        body = re.search(r"#define SL_COUNTERS\(X\)(.*?)\n\n", f.read(), re.S).group(1)
    return re.findall(r"X\((\w+)\)", body)
PROFILES = {1: (16, 14), 7: (16, 12), 8: (32, 12)}  # key and salt lengths

DP_IP, CLIENT_IP, BASE_PORT = "10.98.0.1", "10.98.0.2", 10000
PEER_MAC = bytes.fromhex("02005e0a6202")

def pack_addr(rport):
    return ADDR.pack(4, 0, 0, PEER_MAC, struct.pack(">H", rport),
                     socket.inet_aton(CLIENT_IP) + bytes(12), socket.inet_aton(DP_IP) + bytes(12),
                     struct.pack(">H", BASE_PORT), 0)

def unpack_addr(b):
    fam, has_vlan, vlan, mac, rp, rip, lip, lp, pad = ADDR.unpack(b)
    return dict(family=fam, vlan=(has_vlan, vlan), mac=mac, rport=struct.unpack(">H", rp)[0],
                rip=socket.inet_ntoa(rip[:4]), lip=socket.inet_ntoa(lip[:4]),
                lport=struct.unpack(">H", lp)[0], clean=not pad and not any(rip[4:] + lip[4:]))

def addr_is(a, rport):
    return (a["family"] == 4 and a["vlan"] == (0, 0) and a["mac"] == PEER_MAC and a["clean"] and
            (a["rip"], a["rport"], a["lip"], a["lport"]) == (CLIENT_IP, rport, DP_IP, BASE_PORT))

def decode(typ, seq, b):
    m = dict(type=typ, seq=seq, t=time.monotonic())
    body = b[16:]
    if typ in (T_EP_ADD, T_EP_UPDATE):
        (m["ep_id"], m["flags"], m["room_id"], m["worker"], m["profile"], m["ale"], _, a,
         rx, tx) = EP.unpack(body)
        m["addr"], m["rx"], m["tx"] = unpack_addr(a), KEY.unpack(rx), KEY.unpack(tx)
    elif typ == T_EP_REMOVE:
        m["ep_id"] = EP_REF.unpack(body)[0]
    elif typ == T_ROOM_REMOVE:
        m["room_id"] = ROOM.unpack(body)[0]
    elif typ == T_MUTE:
        m["ep_id"], m["kind"], m["muted"] = struct.unpack_from("=IBB", body)
    elif typ == T_PKT_DOWN:
        a, m["kind"], pad, n, pad2 = PKT.unpack_from(body)
        m["addr"], m["data"], m["bad"] = unpack_addr(a), body[PKT.size:], (pad or pad2 or n != len(body) - PKT.size)
    return m

class Fail(Exception):
    pass

def check(cond, why):
    if not cond:
        raise Fail(why)

def wait_until(fn, timeout, why, step=0.05):
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise Fail(why)
        time.sleep(step)

class FakeDataplane:
    """The dataplane's side of the control socket, served by a thread."""
    def __init__(self, path, workers=1):
        self.path, self.workers = path, workers
        self.ls = self._listen()
        self.conn, self.msgs, self.errors, self.hellos = None, [], [], 0
        self.status_for = {}  # message type -> the status its REPLY carries (default 0)
        self.on_down = None  # called (in the thread) with every PKT_DOWN
        self.cond, self.send_lock, self.running = threading.Condition(), threading.Lock(), True
        self.down, self.cond_idle = False, threading.Event()
        self.defer, self.deferred = set(), []  # message types whose REPLY waits for release()
        self.fetches = 0  # COUNTERS_GET answered: every counter grows with it
        self.busy_ppm = 250000  # every worker's busy fraction in WORKER_STATS (millionths)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
    def _listen(self):
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ls.bind(self.path)
        ls.listen(4)
        return ls
    def crash(self):
        """Drop the connection and stop listening, as a dataplane that died."""
        with self.cond:
            self.down = True
        self.cond_idle.wait(2)
    def restart(self):
        with self.cond:
            self.down = False
    def _run(self):
        while self.running:
            if self.down is True:
                for sock in (self.conn, self.ls):
                    if sock:
                        sock.close()
                self.conn, self.ls = None, None
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
                self.down = "done"
                self.cond_idle.set()
            if self.down:
                time.sleep(0.05)
                continue
            if not self.ls:
                self.ls = self._listen()
            conn = self.conn
            r, _, _ = select.select([self.ls] + ([conn] if conn else []), [], [], 0.1)
            if self.ls in r:
                self.conn = self.ls.accept()[0]
            elif conn in r:
                try:
                    b = conn.recv(65536)
                except OSError:
                    b = b""
                if not b:
                    conn.close()
                    self.conn = None
                else:
                    self._handle(conn, b)
    def _send(self, conn, b):
        with self.send_lock:
            conn.send(b)
    def _reply(self, conn, b):
        with contextlib.suppress(OSError):  # the control plane went away (being stopped)
            self._send(conn, b)
    def _handle(self, conn, b):
        if len(b) < 16:
            self.errors.append(f"runt message of {len(b)} bytes")
            return
        ver, typ, ln, seq, rsvd = HDR.unpack_from(b)
        want = MSG_LEN.get(typ, 73 if typ == T_PKT_DOWN else None)
        if ver != 1 or ln != len(b) or rsvd or want is None or \
                (len(b) < want if typ == T_PKT_DOWN else len(b) != want):
            self.errors.append(f"malformed message: type {typ} len {len(b)} hdr.len {ln}")
        if typ == T_HELLO:
            self._reply(conn, HDR.pack(1, T_INFO, 52, seq, 0) + INFO.pack(
                self.workers, BASE_PORT, 1, 0, bytes(2), socket.inet_aton(DP_IP), bytes(16), 64, 0))
            self.hellos += 1
            return
        m = decode(typ, seq, b)
        if typ == T_PKT_DOWN and (m["bad"] or m["kind"] != 0):
            self.errors.append("malformed PKT_DOWN")
        reply = HDR.pack(1, T_REPLY, 24, seq, 0) + REPLY.pack(self.status_for.get(typ, 0), typ, 0)
        if typ in (T_COUNTERS_GET, T_WORKER_STATS_GET) and typ not in self.status_for:
            reply = self._stats(typ, seq)
        with self.cond:
            if typ in self.defer:
                self.deferred.append((conn, reply))
                reply = None
        if reply:
            self._reply(conn, reply)
        with self.cond:
            self.msgs.append(m)
            self.cond.notify_all()
        if typ == T_PKT_DOWN and self.on_down:
            self.on_down(m)
    def _stats(self, typ, seq):
        """COUNTERS (counter i = fetches * (i + 1)) or WORKER_STATS (worker w: rx
        packets 1000 * fetches + w, ..., busy_ppm over the last second: a
        quarter unless a test sets self.busy_ppm) for a request."""
        if typ == T_COUNTERS_GET:
            self.fetches += 1
            names = counter_names()
            body = struct.pack("=II", len(names), 0) + b"".join(
                struct.pack("=Q", self.fetches * (i + 1)) for i in range(len(names)))
            return HDR.pack(1, T_COUNTERS, 16 + len(body), seq, 0) + body
        k = max(self.fetches, 1)
        recs = b"".join(WREC.pack(1000 * k + w, 100000 * k + w, 900 * k + w, 90000 * k + w,
                                  250000000 * k, 1000000000 * k, self.busy_ppm, 5 + w)
                        for w in range(self.workers))
        body = WSTAT.pack(self.workers, 8191, 100, 16383, 2000000000) + recs
        return HDR.pack(1, T_WORKER_STATS, 16 + len(body), seq, 0) + body
    def release(self):
        """Sends the replies held back for the types in self.defer."""
        with self.cond:
            held, self.deferred = self.deferred, []
        for conn, reply in held:
            self._reply(conn, reply)
    def pkt_up(self, kind, rport, data):
        body = PKT.pack(pack_addr(rport), kind, 0, len(data), 0) + data
        self._send(self.conn, HDR.pack(1, T_PKT_UP, 16 + len(body), 0, 0) + body)
    def event(self, ep_id, typ, value=0, count=0):
        body = struct.pack("=IHHII", ep_id, typ, 0, value, count)
        self._send(self.conn, HDR.pack(1, T_EVENT, 16 + len(body), 0, 0) + body)
    def mark(self):
        with self.cond:
            return len(self.msgs)
    def wait(self, pred, timeout, since=0):
        """The first recorded message from index `since` on that satisfies pred, or None."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.msgs[since:]:
                    if pred(m):
                        return m
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
    def close(self):
        self.running = False
        self.thread.join(2)
        for s in (self.conn, self.ls):
            if s:
                s.close()

def is_type(t, **kw):
    return lambda m: m["type"] == t and all(m.get(k) == v for k, v in kw.items())

def down_to(rport):
    return lambda m: m["type"] == T_PKT_DOWN and m["addr"]["rport"] == rport

# ---------------------------------------------------------------- STUN (RFC 5389, 8445)

COOKIE = 0x2112A442

def stun_attr(t, v):
    return struct.pack(">HH", t, len(v)) + v + bytes(-len(v) % 4)

def stun_request(user, pwd, txid, integrity=True, fingerprint=True, flip=False):
    attrs = (stun_attr(0x0006, user.encode()) + stun_attr(0x0024, struct.pack(">I", 0x6E7F1EFF)) +
             stun_attr(0x802A, struct.pack(">Q", 0x1122334455667788)) + stun_attr(0x0025, b""))
    if integrity:  # the length field counts up to the end of MESSAGE-INTEGRITY
        mac = hmac.new(pwd.encode(), struct.pack(">HHI", 1, len(attrs) + 24, COOKIE) + txid + attrs,
                       hashlib.sha1).digest()
        if flip:
            mac = bytes([mac[0] ^ 0x01]) + mac[1:]
        attrs += stun_attr(0x0008, mac)
    if fingerprint:
        crc = zlib.crc32(struct.pack(">HHI", 1, len(attrs) + 8, COOKIE) + txid + attrs) ^ 0x5354554E
        attrs += stun_attr(0x8028, struct.pack(">I", crc & 0xFFFFFFFF))
    return struct.pack(">HHI", 1, len(attrs), COOKIE) + txid + attrs

def check_stun_response(b, txid, pwd, rport):
    check(len(b) >= 20, "STUN response too short")
    typ, ln, cookie = struct.unpack_from(">HHI", b)
    check(typ == 0x0101 and cookie == COOKIE, f"not a binding success response (type {typ:#06x})")
    check(b[8:20] == txid, "response txid differs from the request's")
    check(len(b) == 20 + ln, "response length field is wrong")
    attrs, off = {}, 20
    while off + 4 <= len(b):
        t, n = struct.unpack_from(">HH", b, off)
        attrs[t] = (off, b[off + 4:off + 4 + n])
        off += 4 + n + (-n % 4)
    check(0x0020 in attrs, "no XOR-MAPPED-ADDRESS")
    v = attrs[0x0020][1]
    port = struct.unpack(">H", v[2:4])[0] ^ (COOKIE >> 16)
    ip = socket.inet_ntoa(struct.pack(">I", struct.unpack(">I", v[4:8])[0] ^ COOKIE))
    check(v[1] == 1 and (ip, port) == (CLIENT_IP, rport), f"XOR-MAPPED-ADDRESS is {ip}:{port}")
    check(0x0008 in attrs, "no MESSAGE-INTEGRITY")
    mi_off, mi = attrs[0x0008]
    want = hmac.new(pwd.encode(), struct.pack(">HHI", typ, mi_off - 20 + 24, COOKIE) + txid +
                    b[20:mi_off], hashlib.sha1).digest()
    check(hmac.compare_digest(mi, want), "response MESSAGE-INTEGRITY does not verify")
    if 0x8028 in attrs:
        fp_off, fp = attrs[0x8028]
        check(struct.unpack(">I", fp)[0] == (zlib.crc32(b[:fp_off]) ^ 0x5354554E) & 0xFFFFFFFF,
              "response FINGERPRINT is wrong")

# ---------------------------------------------------------------- SDP

CLIENT_UFRAG, CLIENT_PWD = "cliUfrag", "clientPasswordOf24Chars+"

def parse_offer(sdp):
    o = dict(media=[], lines=sdp.splitlines())
    for line in o["lines"]:
        if line.startswith("m="):
            o["media"].append(dict(kind=line[2:].split()[0], mid=None, dir=None))
        elif line.startswith("a=mid:") and o["media"]:
            o["media"][-1]["mid"] = line[6:]
        elif line[2:] in ("sendonly", "recvonly", "inactive", "sendrecv") and o["media"]:
            o["media"][-1]["dir"] = line[2:]
        elif line.startswith("a=ice-ufrag:"):
            o["ufrag"] = line[12:]
        elif line.startswith("a=ice-pwd:"):
            o["pwd"] = line[10:]
    return o

def make_answer(offer, fingerprint, ssrc_base=1000, setup="active"):
    rev = dict(sendonly="recvonly", recvonly="sendonly", inactive="inactive", sendrecv="sendrecv")
    mids = [m["mid"] for m in offer["media"]]
    lines = ["v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
             "a=group:BUNDLE " + " ".join(mids), "a=msid-semantic: WMS *"]
    for i, m in enumerate(offer["media"]):
        audio = m["kind"] == "audio"
        lines += [f"m={m['kind']} 9 UDP/TLS/RTP/SAVPF {111 if audio else 96}", "c=IN IP4 0.0.0.0",
                  f"a=mid:{m['mid']}", f"a=ice-ufrag:{CLIENT_UFRAG}", f"a=ice-pwd:{CLIENT_PWD}",
                  f"a=fingerprint:sha-256 {fingerprint}", f"a=setup:{setup}", "a=rtcp-mux",
                  "a=rtpmap:111 opus/48000/2" if audio else "a=rtpmap:96 VP8/90000"]
        if i < 2:
            lines += ["a=sendonly", f"a=ssrc:{ssrc_base + i} cname:x"]
        else:
            lines.append("a=" + rev[m["dir"]])
    return "\r\n".join(lines) + "\r\n"

# ---------------------------------------------------------------- WebSocket client

class AsyncLoop:
    """websockets 10.4 is asyncio-only: its coroutines run on a loop in a thread."""
    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
    def run(self, coro, timeout):
        async def bounded():
            return await asyncio.wait_for(coro, timeout)
        return asyncio.run_coroutine_threadsafe(bounded(), self.loop).result(timeout + 5)
    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(2)

LOOP = None
ROOM_NAMES, NAMES = set(), set()  # used in joins: must never reach logs or Redis keys

class WS:
    def __init__(self, port):
        async def connect():
            return await websockets.connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["sluice-v1"],
                                            ping_interval=None, close_timeout=1, max_size=1 << 20)
        self.c = LOOP.run(connect(), 5)
    def send(self, obj):
        LOOP.run(self.c.send(obj if isinstance(obj, str) else json.dumps(obj)), 10)
    def recv(self, timeout):
        """The next message, None on timeout; raises Fail when the connection closed."""
        try:
            return json.loads(LOOP.run(self.c.recv(), timeout))
        except TimeoutError:
            return None
        except websockets.ConnectionClosed:
            raise Fail("the WebSocket closed")
    def expect(self, typ, timeout=5.0):
        end, seen = time.monotonic() + timeout, []
        while time.monotonic() < end:
            m = self.recv(end - time.monotonic())
            if m and m.get("type") == typ:
                return m
            if m and m.get("type") == "error":
                raise Fail(f"expected {typ}, got error {m.get('code')}: {m.get('message')}")
            if m:
                seen.append(m.get("type"))
        raise Fail(f"no '{typ}' message within {timeout} s (saw {seen})")
    def expect_error(self, code, fatal=False, timeout=5.0):
        m = self.recv(timeout)
        while m and m.get("type") == "participants":
            m = self.recv(timeout)
        check(m is not None, f"no error {code} within {timeout} s")
        check(m.get("type") == "error" and m.get("code") == code,
              f"expected error {code}, got {json.dumps(m)[:200]}")
        check(m.get("fatal") is fatal and isinstance(m.get("message"), str),
              f"error {code}: fatal should be {fatal}: {m}")
        return m
    def quiet(self, timeout):
        m = self.recv(timeout)
        check(m is None, f"unexpected message {json.dumps(m)[:200]}")
    def closes(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                self.recv(end - time.monotonic())
            except Fail:
                return True
        return False
    def join(self, room, name=None):
        ROOM_NAMES.add(room)
        msg = dict(type="join", room=room)
        if name is not None:
            NAMES.add(name)
            msg["name"] = name
        self.send(msg)
        return self.expect("joined"), self.expect("offer")
    def close(self):
        with contextlib.suppress(Exception):
            LOOP.run(self.c.close(), 3)

# ---------------------------------------------------------------- processes

class Redis:
    def __init__(self, d):
        self.dir, self.sock, self.p = d, os.path.join(d, "redis.sock"), None
        self.start()
    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.p = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", self.sock,
                                   "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                                   "--dir", self.dir], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        wait_until(lambda: self.cli("PING").strip() == "PONG", 5, "redis-server did not start")
    def stop(self):
        if self.p:
            stop_proc(self.p)
            self.p = None
    def cli(self, *args):
        return subprocess.run(["redis-cli", "-s", self.sock, *args], capture_output=True,
                              text=True, timeout=5).stdout
    def keys(self):
        """The meetings' keys sl:{T}:* (the node's heartbeat sl:node:ID and the
        set sl:nodes are always there: controlplane_nodes_test.py checks them)."""
        return sorted(k for k in self.cli("--scan", "--pattern", "sl:*").split()
                      if not k.startswith("sl:node"))
    def hgetall(self, k):
        lines = self.cli("HGETALL", k).splitlines()
        return dict(zip(lines[::2], lines[1::2]))

def stop_proc(p):
    p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def read(path):
    with contextlib.suppress(OSError), open(path, errors="replace") as f:
        return f.read()
    return ""

STDERR_LOGS = []  # the control plane's stderr, every run

class Env:
    """Redis, the fake dataplane and a control plane in one temporary directory."""
    def __init__(self, workers=1, args=(), wrap=(), preexec=None):
        self.dir = tempfile.mkdtemp(prefix="slcp-")
        self.cleanups, self.wss, self.cp, self.redis, self.dp = [], [], None, None, None
        self.next_rport = 40000
        try:
            self.redis = Redis(self.dir)
            self.dp = FakeDataplane(os.path.join(self.dir, "dp.sock"), workers)
            self.port, self.err = free_port(), os.path.join(self.dir, "cp.err")
            out = os.path.join(self.dir, "cp.out")
            with open(out, "w") as fo, open(self.err, "w") as fe:
                self.cp = subprocess.Popen(
                    [*wrap, CP_BIN, "--dataplane-socket", os.path.join(self.dir, "dp.sock"),
                     "--state-dir", os.path.join(self.dir, "state"), "--listen", "127.0.0.1",
                     "--port", str(self.port), "--web-root", os.path.join(SRCDIR, "web"),
                     "--consent-timeout", "5", "--handshake-timeout", "20",
                     "--redis", "unix:" + self.redis.sock, *args],
                    stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, preexec_fn=preexec)
            wait_until(lambda: self.cp.poll() is not None or (
                "ready on port" in read(out) and "redis connected" in read(self.err) and
                self.dp.hellos), 10, "the control plane did not start")
            check(self.cp.poll() is None, f"the control plane exited: {read(self.err)[-300:]}")
        except BaseException:
            self.close()
            raise
    def ws(self):
        w = WS(self.port)
        self.wss.append(w)
        return w
    def rport(self):
        self.next_rport += 1
        return self.next_rport
    def close(self):
        for fn in reversed(self.cleanups):
            fn()
        for w in self.wss:
            w.close()
        if self.cp:
            stop_proc(self.cp)
            STDERR_LOGS.append(read(self.err))
        if self.redis:
            self.redis.stop()
        if self.dp:
            self.dp.close()
        shutil.rmtree(self.dir, ignore_errors=True)
    def __enter__(self):
        return self
    def __exit__(self, et, ev, tb):
        try:
            if et is None:
                check(self.cp.poll() is None,
                      f"the control plane died (rc {self.cp.returncode}): {read(self.err)[-300:]}")
                check(not self.dp.errors, f"control socket protocol errors: {self.dp.errors[:3]}")
        finally:
            self.close()
        if et is None and self.cp:
            # A clean SIGTERM exit is 0; a sanitizer report (ASan builds) is not.
            check(self.cp.returncode == 0, f"the control plane exited with rc "
                  f"{self.cp.returncode} on SIGTERM: {STDERR_LOGS[-1][-600:]}")
    def stun_ok(self, offer, rport, timeout=2.0):
        """A valid USE-CANDIDATE check from rport; returns the checked response."""
        txid = os.urandom(12)
        mark = self.dp.mark()
        self.dp.pkt_up(K_STUN, rport, stun_request(f"{offer['ufrag']}:{CLIENT_UFRAG}", offer["pwd"], txid))
        m = self.dp.wait(down_to(rport), timeout, mark)
        check(m is not None, "no PKT_DOWN answers a valid STUN check")
        check(addr_is(m["addr"], rport), f"STUN response sent to the wrong tuple: {m['addr']}")
        check_stun_response(m["data"], txid, offer["pwd"], rport)
        return m

def every(period, fn):
    """Calls fn every `period` seconds in a thread; returns what stops it."""
    stop = threading.Event()

    def run():
        while not stop.wait(period):
            fn()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return lambda: (stop.set(), t.join(3))

class Relay:
    """Carries s_client's UDP datagrams as PKT_UP (DTLS) from the tuple rport and
    DTLS PKT_DOWNs to that tuple back to s_client."""
    def __init__(self, env, rport, peer=None):
        self.env, self.rport, self.peer, self.running = env, rport, peer, True
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        env.dp.on_down = self.down
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        env.cleanups.append(self.close)
    def _run(self):
        while self.running:
            try:
                data, self.peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.env.dp.pkt_up(K_DTLS, self.rport, data)
    def down(self, m):
        if m["addr"]["rport"] == self.rport and 20 <= m["data"][0] <= 63 and self.peer:
            with contextlib.suppress(OSError):  # closed: the case is over
                self.sock.sendto(m["data"], self.peer)
    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()

def openssl_dtls(env, cmd):
    """Run an openssl DTLS peer; its output collects in p.out; killed at cleanup."""
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    p.out = b""
    def reader():
        with contextlib.suppress(OSError, ValueError):
            for chunk in iter(lambda: os.read(p.stdout.fileno(), 4096), b""):
                p.out += chunk
    threading.Thread(target=reader, daemon=True).start()
    def stop():
        p.kill()
        p.wait()
        p.stdin.close()
        p.stdout.close()
    env.cleanups.append(stop)
    return p

def s_client(env, port, cert=None, profiles="SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"):
    """openssl s_client over DTLS 1.2 to 127.0.0.1:port; its output collects in p.out."""
    cmd = ["openssl", "s_client", "-dtls1_2", "-use_srtp", profiles, "-connect", f"127.0.0.1:{port}"]
    if cert:
        cmd += ["-cert", cert[0], "-key", cert[1], "-keymatexport", "EXTRACTOR-dtls_srtp",
                "-keymatexportlen", "60"]
    return openssl_dtls(env, cmd)

def s_server(env, port, cert, profiles="SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"):
    """openssl s_server over DTLS 1.2 on 127.0.0.1:port, asking for the client's
    certificate; its output collects in p.out."""
    p = openssl_dtls(env, ["openssl", "s_server", "-dtls1_2", "-use_srtp", profiles, "-accept",
                           f"127.0.0.1:{port}", "-cert", cert[0], "-key", cert[1], "-verify", "1",
                           "-naccept", "1", "-keymatexport", "EXTRACTOR-dtls_srtp",
                           "-keymatexportlen", "60"])
    wait_until(lambda: b"ACCEPT" in p.out or p.poll() is not None, 5, "s_server did not start")
    return p

def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def make_cert(d, name):
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-subj", "/CN=" + name, "-days", "2"], check=True, capture_output=True)
    return cert, key

def fingerprint(cert):
    out = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1]

def media_session(env, room, name, fp=None):
    """Join, answer with fingerprint fp (default: CERT's), pass a STUN check and run
    s_client through the relay. Returns a dict of what the steps produced."""
    ws = env.ws()
    joined, offer_msg = ws.join(room, name)
    offer = parse_offer(offer_msg["sdp"])
    ws.send(dict(type="answer", sdp=make_answer(offer, fp or fingerprint(CERT[0])),
                 version=offer_msg["version"]))
    ws.quiet(0.3)  # a refused answer would be an error here
    rport = env.rport()
    env.stun_ok(offer, rport)
    relay = Relay(env, rport)
    sc = s_client(env, relay.port, CERT)
    return dict(ws=ws, joined=joined, offer=offer, rport=rport, sc=sc, t_stun=time.monotonic())

# ---------------------------------------------------------------- cases

def case_signalling_errors():
    with Env() as env:
        ws = env.ws()
        for msg, code in [('{"type":', "bad_json"), ('{"type":"join","type":"join"}', "bad_json"),
                          ({"type": "dance"}, "unknown_type"), ({"type": "join"}, "bad_field"),
                          ({"type": "join", "room": "R" * 129}, "bad_field"),
                          ({"type": "join", "room": "Errors-Room-Ctl", "name": "Ctl\u0001Char"}, "bad_field"),
                          ({"type": "answer", "sdp": "v=0\r\n", "version": 1}, "not_joined")]:
            ws.send(msg)
            ws.expect_error(code)
        joined, offer = ws.join("Errors-Room-Kilo", "Eve Errorcase")
        ws.send({"type": "join", "room": "Errors-Room-Lima"})
        ws.expect_error("already_joined")
        ws.send({"type": "answer", "sdp": "v=0\r\n", "version": offer["version"] + 7})
        ws.expect_error("stale_answer")
        ws.send({"type": "answer", "sdp": "this is not SDP\r\nat all", "version": offer["version"]})
        ws.expect_error("bad_sdp")
        try:
            ws.send('{"type":"join","room":"' + "x" * (300 * 1024) + '"}')
        except websockets.ConnectionClosed:
            pass
        ws.expect_error("too_large", fatal=True)
        check(ws.closes(3), "the connection stays open after too_large")
        ws2 = env.ws()
        j2, _ = ws2.join("Errors-Room-Mike", "Frank Freshconn")
        check(j2["meeting"] != joined["meeting"], "two rooms share a meeting id")

def case_join_offer():
    with Env() as env:
        joined, offer = env.ws().join("Offer-Room-Oscar", "Olga Offertest")
        check(re.fullmatch(r"[0-9a-f]{32}", joined.get("meeting", "")), f"meeting id {joined.get('meeting')}")
        check(isinstance(joined.get("participant"), str) and isinstance(joined.get("participants"), list),
              "joined lacks participant or participants")
        check(offer.get("version") == 1 and offer.get("publish") == {"audio": "0", "video": "1"},
              f"offer version/publish: {offer.get('version')} {offer.get('publish')}")
        o = parse_offer(offer["sdp"])
        sdp = "\n".join(o["lines"])
        for want in ("a=ice-lite", "a=setup:actpass", "a=rtcp-mux"):
            check(want in o["lines"], f"offer lacks {want}")
        fp = re.search(r"^a=fingerprint:sha-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$", sdp, re.M)
        check(fp, "offer lacks a sha-256 fingerprint")
        own = fingerprint(os.path.join(env.dir, "state", "dtls-cert.pem"))
        check(fp.group(1) == own, "offer fingerprint is not that of the server's certificate")
        check(re.search(r"^a=candidate:\S+ 1 udp \d+ 10\.98\.0\.1 10000 typ host$", sdp, re.M),
              "offer lacks the candidate 10.98.0.1 10000")
        check(len(o.get("ufrag", "")) >= 4 and len(o.get("pwd", "")) >= 22, "offer lacks ice-ufrag/pwd")
        check([(m["kind"], m["mid"]) for m in o["media"]] == [("audio", "0"), ("video", "1")],
              f"offer sections {o['media']}")

def case_stun():
    with Env() as env:
        _, offer_msg = env.ws().join("Stun-Room-Papa", "Paul Stuntest")
        offer = parse_offer(offer_msg["sdp"])
        env.stun_ok(offer, env.rport())
        user, pwd = f"{offer['ufrag']}:{CLIENT_UFRAG}", offer["pwd"]
        bad = {"wrong ufrag": stun_request(f"Zz{offer['ufrag'][2:]}:{CLIENT_UFRAG}", pwd, os.urandom(12)),
               "bad integrity": stun_request(user, pwd, os.urandom(12), flip=True),
               "no FINGERPRINT": stun_request(user, pwd, os.urandom(12), fingerprint=False),
               "no MESSAGE-INTEGRITY": stun_request(user, pwd, os.urandom(12), integrity=False)}
        mark, ports = env.dp.mark(), {}
        for why, req in bad.items():
            ports[env.rport()] = why
            env.dp.pkt_up(K_STUN, env.next_rport, req)
        m = env.dp.wait(lambda m: m["type"] == T_PKT_DOWN, 1.0, mark)
        check(m is None, f"a check with {ports.get(m and m['addr']['rport'])} was answered")

def case_dtls_unvalidated():
    with Env() as env:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        u.settimeout(5)
        sc = s_client(env, u.getsockname()[1], profiles="SRTP_AEAD_AES_128_GCM")
        try:
            hello = u.recvfrom(4096)[0]
        except socket.timeout:
            raise Fail("s_client sent no ClientHello")
        finally:
            u.close()
            sc.kill()
        check(hello[0] == 22 and hello[13] == 1, "the captured datagram is no ClientHello")
        ws = env.ws()
        _, offer_msg = ws.join("Dtls-Room-Quebec", "Quinn Dtlstest")
        offer = parse_offer(offer_msg["sdp"])
        ws.send(dict(type="answer", sdp=make_answer(offer, fingerprint(CERT[0])),
                     version=offer_msg["version"]))
        ws.quiet(0.3)
        stranger, good = env.rport(), env.rport()
        mark = env.dp.mark()
        env.dp.pkt_up(K_DTLS, stranger, hello)
        check(env.dp.wait(is_type(T_PKT_DOWN), 1.0, mark) is None, "DTLS from an unchecked tuple answered")
        ws.quiet(0.1)
        env.stun_ok(offer, good)
        mark = env.dp.mark()
        env.dp.pkt_up(K_DTLS, stranger, hello)  # still unchecked while another tuple is
        check(env.dp.wait(is_type(T_PKT_DOWN), 1.0, mark) is None,
              "DTLS from an unchecked tuple answered once another tuple was checked")
        ws.quiet(0.1)
        env.dp.pkt_up(K_DTLS, good, hello)
        m = env.dp.wait(down_to(good), 2.0, mark)
        check(m is not None, "no DTLS answer to the validated tuple")
        check(addr_is(m["addr"], good), f"DTLS answer sent to {m['addr']}")
        check(m["data"][0] == 22 and m["data"][13] == 2, "the answer is no ServerHello flight")

def case_handshake_keys():
    with Env() as env:
        s = media_session(env, "Keys-Room-Romeo", "Rita Keytest")
        ep = env.dp.wait(is_type(T_EP_ADD), 10)
        check(ep is not None, f"no EP_ADD; s_client said: {s['sc'].out[-300:]!r}")
        check(ep["profile"] in (7, 1), f"profile {ep['profile']}")
        check(ep["room_id"] != 0 and ep["ep_id"] != 0 and ep["flags"] == 0 and ep["worker"] == 0,
              "EP_ADD ids/flags/worker")
        check(addr_is(ep["addr"], s["rport"]), f"EP_ADD addr {ep['addr']} is not the nominated tuple")
        kl, sl = PROFILES[ep["profile"]]
        for k in ("rx", "tx"):
            key, salt, pad = ep[k]
            check(any(key[:kl]) and any(salt[:sl]), f"{k} key or salt is zero")
            check(not any(key[kl:] + salt[sl:] + pad), f"{k} has bytes past the profile's lengths")
        out = wait_until(lambda: re.search(rb"Keying material: ([0-9A-Fa-f]+)", s["sc"].out), 3,
                         "s_client exported no keying material")
        km = bytes.fromhex(out.group(1).decode())
        check(ep["rx"][0][:kl] == km[:kl] and ep["rx"][1][:sl] == km[2 * kl:2 * kl + sl],
              "rx is not the client-write key and salt (RFC 5764 4.2)")
        check(ep["tx"][0][:kl] == km[kl:2 * kl] and ep["tx"][1][:sl] == km[2 * kl + sl:2 * kl + 2 * sl],
              "tx is not the server-write key and salt (RFC 5764 4.2)")
        s["ws"].expect("participants", 3)  # its handshake done: now it learns the members
        s["ws"].quiet(0.2)

def check_keys(ep, km, server):
    """EP_ADD keys against the peer's export (RFC 5764 4.2: client key, server
    key, client salt, server salt); server: we were the DTLS server."""
    kl, sl = PROFILES[ep["profile"]]
    ck, sk, cs, ss = km[:kl], km[kl:2 * kl], km[2 * kl:2 * kl + sl], km[2 * kl + sl:2 * kl + 2 * sl]
    rx, tx = ((ck, cs), (sk, ss)) if server else ((sk, ss), (ck, cs))
    check(ep["rx"][0][:kl] == rx[0] and ep["rx"][1][:sl] == rx[1], "rx is not the peer's write key and salt")
    check(ep["tx"][0][:kl] == tx[0] and ep["tx"][1][:sl] == tx[1], "tx is not our write key and salt")

def case_dtls_passive():
    """The answer says a=setup:passive: the server is the DTLS client of an
    openssl s_server; keys match its export, and its certificate must match."""
    for fp_cert, good in ((CERT, True), (OTHER_CERT, False)):
        with Env() as env:
            ws = env.ws()
            joined, offer_msg = ws.join("Passive-Room-Kilo", "Pat Passive")
            offer = parse_offer(offer_msg["sdp"])
            ws.send(dict(type="answer", version=offer_msg["version"],
                         sdp=make_answer(offer, fingerprint(fp_cert[0]), setup="passive")))
            ws.quiet(0.3)
            port, rport = free_udp_port(), env.rport()
            srv = s_server(env, port, CERT)
            Relay(env, rport, peer=("127.0.0.1", port))
            env.stun_ok(offer, rport)
            ep = env.dp.wait(is_type(T_EP_ADD), 10)
            if not good:
                ws.expect_error("media_failed", fatal=True, timeout=10)
                check(ep is None, "EP_ADD although the server's certificate does not match")
                continue
            check(ep is not None, f"no EP_ADD; s_server said: {srv.out[-300:]!r}")
            check(addr_is(ep["addr"], rport), f"EP_ADD addr {ep['addr']}")
            out = wait_until(lambda: re.search(rb"Keying material: ([0-9A-Fa-f]+)", srv.out), 3,
                             "s_server exported no keying material")
            check_keys(ep, bytes.fromhex(out.group(1).decode()), server=False)
            ws.expect("participants", 3)
            ws.quiet(0.2)

def case_dtls_active_refused_roles():
    """actpass in an answer is refused; active still works (case 'DTLS handshake')."""
    with Env() as env:
        ws = env.ws()
        _, offer_msg = ws.join("Passive-Room-Lima", "Pat Actpass")
        offer = parse_offer(offer_msg["sdp"])
        ws.send(dict(type="answer", version=offer_msg["version"],
                     sdp=make_answer(offer, fingerprint(CERT[0]), setup="actpass")))
        ws.expect_error("bad_sdp")

def case_path_change_while_adding():
    """A new path nominated while the dataplane is still adding the endpoint
    (Chromium switching candidate pairs at the start) must reach the
    dataplane once the endpoint is in: else media goes to the old path."""
    with Env() as env:
        env.dp.defer.add(T_EP_ADD)
        s = media_session(env, "Path-Room-Uniform", "Uma Pathchange")
        ep = env.dp.wait(is_type(T_EP_ADD), 10)
        check(ep is not None, "no EP_ADD")
        check(addr_is(ep["addr"], s["rport"]), f"EP_ADD addr {ep['addr']}")
        rport2 = env.rport()
        env.stun_ok(s["offer"], rport2)  # USE-CANDIDATE from a new tuple
        mark = env.dp.mark()
        env.dp.release()
        upd = env.dp.wait(lambda m: m["type"] == T_EP_UPDATE and m["ep_id"] == ep["ep_id"] and
                          addr_is(m["addr"], rport2), 3, mark)
        check(upd is not None, "the path nominated while the endpoint was being added never "
              "reached the dataplane (no EP_UPDATE with the new address)")

def case_fingerprint_mismatch():
    with Env() as env:
        s = media_session(env, "Mismatch-Room-Sierra", "Sam Mismatch", fp=fingerprint(OTHER_CERT[0]))
        s["ws"].expect_error("media_failed", fatal=True, timeout=10)
        time.sleep(0.3)
        check(env.dp.wait(is_type(T_EP_ADD), 0) is None, "EP_ADD despite a fingerprint mismatch")

def case_consent_timeout():
    with Env() as env:
        s = media_session(env, "Consent-Room-Tango", "Tina Consent")
        ep = env.dp.wait(is_type(T_EP_ADD), 10)
        check(ep is not None, "no EP_ADD")
        rm = env.dp.wait(is_type(T_EP_REMOVE, ep_id=ep["ep_id"]), 8.0 - (time.monotonic() - ep["t"]))
        check(rm is not None, "no EP_REMOVE within consent timeout + 3 s")
        check(rm["t"] - s["t_stun"] >= 4.5, f"consent expired {rm['t'] - s['t_stun']:.1f} s after the check")
        s["ws"].expect_error("timeout", fatal=True, timeout=2)

def case_media_alive_consent():
    """A connected peer that sends media and no ICE checks (the dataplane reports
    MEDIA_ALIVE) outlives --consent-timeout (5 s); one with neither is removed."""
    with Env() as env:
        a = media_session(env, "Alive-Room-Mike", "Mia Alive")
        ep_a = env.dp.wait(is_type(T_EP_ADD), 10)
        check(ep_a is not None, "no EP_ADD for the media sender")
        env.cleanups.append(every(1.0, lambda: env.dp.event(ep_a["ep_id"], EV_MEDIA_ALIVE)))
        mark = env.dp.mark()
        b = media_session(env, "Alive-Room-Mike", "Max Silent")
        ep_b = env.dp.wait(lambda m: m["type"] == T_EP_ADD and m["ep_id"] != ep_a["ep_id"], 10, mark)
        check(ep_b is not None, "no EP_ADD for the silent one")
        rm = env.dp.wait(is_type(T_EP_REMOVE, ep_id=ep_b["ep_id"]), 9, mark)
        check(rm is not None, "the peer with neither checks nor media was not removed")
        left = 9.0 - (time.monotonic() - a["t_stun"])
        if left > 0:
            time.sleep(left)
        check(env.dp.wait(is_type(T_EP_REMOVE, ep_id=ep_a["ep_id"]), 0) is None,
              "a peer sending media (MEDIA_ALIVE) was removed for lack of ICE checks")
        check(time.monotonic() - a["t_stun"] > 8.5, "the test did not outlast the consent timeout")
        err = None
        while (m := a["ws"].recv(0.2)):
            err = err or (m if m.get("type") == "error" else None)
        check(err is None, f"the media sender got {err}")

def redis_meetings(env):
    """{tag: [meeting hash, members hash]}; fails on keys or values that leak.
    Member values are display names by design (store.h); nothing else may hold
    a room name, a display name or a client address."""
    out = {}
    for k in env.redis.keys():
        if re.fullmatch(r"sl:\{[0-9a-f]{32}\}:owner", k):
            v = env.redis.cli("GET", k).strip()
            check(re.fullmatch(r"[0-9a-f]{16}", v), f"Redis {k} holds {v!r}, not a node id")
            continue
        mt = re.fullmatch(r"sl:\{([0-9a-f]{32})\}:(meeting|members)", k)
        check(mt, f"unexpected Redis key {k!r}")
        h = env.redis.hgetall(k)
        out.setdefault(mt.group(1), [{}, {}])[mt.group(2) == "members"] = h
        strict = list(h) + [k] + (list(h.values()) if mt.group(2) == "meeting" else [])
        for v in strict:
            check(not any(w in v for w in ROOM_NAMES | NAMES | {"10.98"}), f"Redis {k} holds {v!r}")
        for v in h.values():
            check(not any(w in v for w in ROOM_NAMES | {"10.98"}), f"Redis {k} holds {v!r}")
    return out

def case_leave():
    with Env() as env:
        room = "Leave-Room-Uniform"
        a, b = env.ws(), env.ws()
        ja, _ = a.join(room, "Ursula Leaver")
        jb, _ = b.join(room, "Victor Leaver")
        check(ja["meeting"] == jb["meeting"], "two joins of one room got different meetings")
        mt = wait_until(lambda: (lambda r: r if r and len(next(iter(r.values()))[1]) == 2 else None)(
            redis_meetings(env)), 3, "the meeting's members are not in Redis")
        check(len(mt) == 1, f"{len(mt)} meetings in Redis")
        meeting, members = next(iter(mt.values()))
        check(meeting.get("id") == ja["meeting"], f"Redis meeting hash {meeting}")
        check(members == {ja["participant"]: "Ursula Leaver", jb["participant"]: "Victor Leaver"},
              f"Redis members hash {members}")
        mark = env.dp.mark()
        for w in (a, b):
            w.send({"type": "leave"})
            w.expect("left")
        rr = env.dp.wait(is_type(T_ROOM_REMOVE), 3, mark)
        check(rr is not None and rr["room_id"] != 0, "no ROOM_REMOVE after the last leave")
        wait_until(lambda: not env.redis.keys(), 3, f"Redis keys left: {env.redis.keys()}")
        j3, _ = env.ws().join(room, "Ursula Leaver")
        check(j3["meeting"] != ja["meeting"], "a rejoin got the old meeting id")

def case_redis_down():
    with Env() as env:
        room = "Redis-Room-Victor"
        s = media_session(env, room, "Wanda Redis")
        ep = env.dp.wait(is_type(T_EP_ADD), 10)
        check(ep is not None, "no EP_ADD")
        env.cleanups.append(every(1.0, lambda: env.dp.pkt_up(K_STUN, s["rport"], stun_request(
            f"{s['offer']['ufrag']}:{CLIENT_UFRAG}", s["offer"]["pwd"], os.urandom(12)))))
        before = wait_until(lambda: redis_meetings(env), 3, "the meeting is not in Redis")
        env.redis.stop()
        wait_until(lambda: "redis connection lost" in read(env.err), 3,
                   "the control plane did not notice Redis going away")
        w2 = env.ws()
        w2.send({"type": "join", "room": "Redis-Room-Whiskey", "name": "Xavier Redis"})
        ROOM_NAMES.add("Redis-Room-Whiskey")
        NAMES.add("Xavier Redis")
        w2.expect_error("unavailable")
        time.sleep(1.0)
        env.redis.start()
        after = wait_until(lambda: redis_meetings(env), 3, "the meeting was not rewritten within 3 s")
        check(after == before, f"rewritten state differs: {after} vs {before}")
        env.ws().join(room, "Yusuf Redis")
        check(env.dp.wait(is_type(T_EP_REMOVE), 0) is None and env.dp.wait(is_type(T_ROOM_REMOVE), 0) is None,
              "media state was torn down while Redis was away")
        seen = []
        while (m := s["ws"].recv(0.2)):
            seen.append(m)
        check(not [m for m in seen if m.get("type") == "error"], f"the media client got {seen}")

def case_dataplane_restart():
    with Env() as env:
        a = env.ws()
        a.join("Restart-Room-Alfa", "Abel Restart")
        env.dp.crash()
        a.expect_error("unavailable", fatal=True)
        check(a.closes(3), "the connection stays open after the dataplane went away")
        b = env.ws()
        b.send({"type": "join", "room": "Restart-Room-Bravo", "name": "Bea Restart"})
        ROOM_NAMES.add("Restart-Room-Bravo")
        NAMES.add("Bea Restart")
        b.expect_error("unavailable")
        hellos = env.dp.hellos
        env.dp.restart()
        wait_until(lambda: env.dp.hellos > hellos, 5, "the control plane did not reconnect")
        time.sleep(0.2)
        env.ws().join("Restart-Room-Bravo", "Bea Restart")

def case_stale_endpoint():
    with Env() as env:
        # A participant of ours whose media went quiet is only logged (consent decides).
        s = media_session(env, "Stale-Room-Echo", "Ed Stale")
        ep = env.dp.wait(is_type(T_EP_ADD), 10)
        check(ep is not None, "no EP_ADD")
        mark = env.dp.mark()
        env.dp.event(ep["ep_id"], EV_TIMEOUT)
        check(env.dp.wait(is_type(T_EP_REMOVE), 1.0, mark) is None,
              "a media timeout of a live participant removed it before consent expired")
        # One left by an earlier control plane is removed once it is quiet.
        env.dp.event(0x7ead0001, EV_TIMEOUT)
        check(env.dp.wait(is_type(T_EP_REMOVE, ep_id=0x7ead0001), 2.0, mark) is not None,
              "a stale endpoint was not removed after its media timeout")
        s["ws"].close()

def answer(ws, offer_msg, ssrc_base):
    ws.send(dict(type="answer", sdp=make_answer(parse_offer(offer_msg["sdp"]), fingerprint(CERT[0]),
                                                ssrc_base), version=offer_msg["version"]))

def settle(ws, ssrc_base, last=None):
    """Answer every offer until none comes for 0.7 s; returns the last offer and
    its sections {mid: (direction, ssrc)}."""
    while (m := ws.recv(0.7)) is not None:
        check(m.get("type") != "error", f"error during renegotiation: {m}")
        if m.get("type") == "offer":
            last = m
            answer(ws, m, ssrc_base)
    check(last is not None, f"no offer came (ssrc base {ssrc_base})")
    secs = {}
    for sec in re.split(r"\r\n(?=m=)", last["sdp"])[1:]:
        mid = re.search(r"^a=mid:(\S+)", sec, re.M).group(1)
        ssrc = re.search(r"^a=ssrc:(\d+) ", sec, re.M)
        d = re.search(r"^a=(sendonly|recvonly|inactive|sendrecv)\r?$", sec, re.M).group(1)
        secs[mid] = (d, int(ssrc.group(1)) if ssrc else None)
    return last, secs

def join_and_settle(env, room, name, base):
    w = env.ws()
    joined, offer = w.join(room, name)
    answer(w, offer, base)
    return w, joined["participant"], offer

def case_renegotiation():
    """Three publish, one leaves, one joins: every re-offer is checked."""
    with Env() as env:
        room, ws, ids, first = "Reneg-Room-Foxtrot", {}, {}, {}
        bases = dict(a=1100, b=1200, c=1300, d=1400)
        for w in ("a", "b", "c"):
            ws[w], ids[w], first[w] = join_and_settle(env, room, f"{w.upper()} Reneg", bases[w])
        offers = {w: (first[w], None) for w in first}
        for _ in range(2):  # answers cross: settle until everyone is quiet
            for w in ("a", "b", "c"):
                offers[w] = settle(ws[w], bases[w], offers[w][0])
        msg, secs = offers["a"]
        sent = {v[1] for v in secs.values() if v[0] == "sendonly"}
        # Stream SSRCs are the server's own random choice, never a publisher's.
        check(len(sent) == 4 and not sent & {0, 1100, 1101, 1200, 1201, 1300, 1301},
              f"a is offered SSRCs {sorted(sent)}")
        a_ever = set(sent)
        check({t["participant"] for t in msg["tracks"]} == {ids["b"], ids["c"]},
              f"a's tracks {msg['tracks']}")
        c_mids = {t["mid"] for t in msg["tracks"] if t["participant"] == ids["c"]}
        # C leaves: its sections in a's offer go inactive; none disappear.
        ws["c"].send({"type": "leave"})
        ws["c"].expect("left")
        msg2, secs2 = settle(ws["a"], bases["a"])
        check(set(secs2) == set(secs), f"sections changed from {sorted(secs)} to {sorted(secs2)}")
        check(all(secs2[m][0] == "inactive" for m in c_mids), f"C's sections after it left: {secs2}")
        check({t["participant"] for t in msg2["tracks"]} == {ids["b"]}, f"a's tracks {msg2['tracks']}")
        settle(ws["b"], bases["b"])
        # D joins: in a's offer, its streams reuse C's sections.
        ws["d"], ids["d"], first_d = join_and_settle(env, room, "D Reneg", bases["d"])
        msg_d, secs_d = settle(ws["d"], bases["d"], first_d)
        msg3, secs3 = settle(ws["a"], bases["a"])
        d_mids = {t["mid"] for t in msg3["tracks"] if t["participant"] == ids["d"]}
        check(d_mids == c_mids, f"D got mids {sorted(d_mids)}, C's were {sorted(c_mids)}")
        check(set(secs3) == set(secs), f"the offer grew: {sorted(secs3)}")
        d_ssrcs = {secs3[m][1] for m in d_mids}
        check(len(d_ssrcs) == 2 and not d_ssrcs & (a_ever | {0, 1100, 1101, 1400, 1401}),
              f"D's SSRCs in a's offer reuse one: {secs3}")
        a_ever |= d_ssrcs
        _, secs_d = settle(ws["d"], bases["d"], msg_d)
        sent_d = {v[1] for v in secs_d.values() if v[0] == "sendonly"}
        check(len(sent_d) == 4 and not sent_d & {0, 1100, 1101, 1200, 1201, 1400, 1401},
              f"d is offered SSRCs {sorted(sent_d)}")
        # D leaves and E joins announcing D's SSRCs: a gets fresh ones again
        # (the old ones would repeat SRTP indices under a's key).
        ws["d"].send({"type": "leave"})
        ws["d"].expect("left")
        settle(ws["a"], bases["a"])
        settle(ws["b"], bases["b"])
        ws["e"], ids["e"], first_e = join_and_settle(env, room, "E Reneg", bases["d"])
        settle(ws["e"], bases["d"], first_e)
        msg4, secs4 = settle(ws["a"], bases["a"])
        e_mids = {t["mid"] for t in msg4["tracks"] if t["participant"] == ids["e"]}
        e_ssrcs = {secs4[m][1] for m in e_mids}
        check(len(e_ssrcs) == 2 and not e_ssrcs & (a_ever | {0, 1100, 1101, 1400, 1401}),
              f"E's SSRCs in a's offer reuse one: {sorted(e_ssrcs)}, ever {sorted(a_ever)}")

def case_consent_kick_in_meeting():
    """One member's consent expires while four others wait: only it goes; the
    others get their re-offer (a kick used to wrap the others' offer clock).
    The others only signal (no DTLS): a long handshake timeout keeps them."""
    with Env(args=("--handshake-timeout", "120")) as env:
        room, others = "Kick-Room-Juliett", []
        for n in range(4):
            w, _, offer = join_and_settle(env, room, f"Kim Stays{n}", 2100 + 100 * n)
            others.append((w, 2100 + 100 * n, offer))
        others = [(w, base) for w, base, offer in others if settle(w, base, offer)]
        for rnd in range(3):
            s = media_session(env, room, f"Kurt Kicked{rnd}")
            ep = env.dp.wait(lambda m, r=s["rport"]: m["type"] == T_EP_ADD and
                             m["addr"]["rport"] == r, 10)
            check(ep is not None, f"round {rnd}: no EP_ADD")
            for w, base in others:  # the newcomer's streams: everyone re-offered
                settle(w, base)
            rm = env.dp.wait(is_type(T_EP_REMOVE, ep_id=ep["ep_id"]), 9)
            check(rm is not None, f"round {rnd}: the silent member was not removed")
            s["ws"].expect_error("timeout", fatal=True, timeout=2)
            for w, base in others:
                m = w.recv(3)
                while m and m.get("type") == "participants":
                    m = w.recv(3)
                check(m is not None and m.get("type") == "offer",
                      f"round {rnd}: a remaining member got {m and json.dumps(m)[:160]}, not its re-offer")
                answer(w, m, base)
                settle(w, base, m)

def case_room_full():
    """--room-max counts members past their handshake: a join of a meeting with
    that many connected members is refused; other meetings are unaffected."""
    with Env(args=("--room-max", "2")) as env:
        for n in range(2):
            mark = env.dp.mark()
            media_session(env, "Full-Room-Golf", f"Gus Full{n}")
            check(env.dp.wait(is_type(T_EP_ADD), 10, mark) is not None, f"member {n} did not connect")
        w = env.ws()
        w.send({"type": "join", "room": "Full-Room-Golf", "name": "Gus Full2"})
        NAMES.add("Gus Full2")
        w.expect_error("room_full")
        env.ws().join("Full-Room-Hotel", "Hal Other")  # other meetings are unaffected

# Many joins from the test's one address: lift the join throttles and the
# per-address connection cap (tested in controlplane_conn_test.py).
FLOOD = ("--join-burst", "1000", "--join-rate", "100000", "--room-join-burst", "1000",
         "--max-connections-per-ip", "0")

def case_phantom_joins():
    """64 joins that never do ICE/DTLS (the fake dataplane's capacity is 64)
    do not make a real join fail: only connected endpoints count."""
    with Env(args=FLOOD) as env:
        for n in range(64):
            env.ws().join(f"Phantom-Room-{n}", "Phil Phantom")
        mark = env.dp.mark()
        s = media_session(env, "Phantom-Room-Real", "Rae Real")
        ep = env.dp.wait(is_type(T_EP_ADD), 10, mark)
        check(ep is not None, f"the real join did not connect; s_client said: {s['sc'].out[-200:]!r}")
        m = s["ws"].expect("participants", 3)  # its own handshake done: the list comes
        check([x["name"] for x in m["participants"]] == ["Rae Real"], f"list {m}")

def case_pending_caps():
    """Joins still in their handshake have their own caps (per meeting and in
    total) and are refused with 'throttled' and retry_after."""
    with Env(args=FLOOD + ("--pending-room-max", "3", "--pending-max", "5")) as env:
        for n in range(3):
            env.ws().join("Pending-Room-Kilo", f"Pam Pending{n}")
        w = env.ws()
        w.send({"type": "join", "room": "Pending-Room-Kilo", "name": "Pam Pending3"})
        NAMES.add("Pam Pending3")
        m = w.expect_error("throttled")
        check(isinstance(m.get("retry_after"), int) and 1 <= m["retry_after"] <= 21,
              f"retry_after {m.get('retry_after')}")
        for n in range(2):
            env.ws().join(f"Pending-Room-Lima{n}", "Pam Other")
        w = env.ws()
        w.send({"type": "join", "room": "Pending-Room-Mike", "name": "Pam Other"})
        w.expect_error("throttled")

def case_join_flood():
    """One source joining (guessing room names) as fast as it can is throttled
    after its burst (default 20), with retry_after in seconds. The rate is
    lowered to one a minute so that no token comes back while it runs."""
    with Env(args=("--join-rate", "1")) as env:
        results = []
        for n in range(24):
            w = env.ws()
            room = f"Guess-Room-{n}"
            ROOM_NAMES.add(room)
            w.send({"type": "join", "room": room})
            m = w.recv(5)
            while m and m.get("type") == "participants":
                m = w.recv(5)
            results.append(m.get("type") if m.get("type") != "error" else m.get("code"))
            if m.get("code") == "throttled":
                check(isinstance(m.get("retry_after"), int) and m["retry_after"] >= 1,
                      f"throttled without retry_after: {m}")
            w.close()
        check(results[:20] == ["joined"] * 20, f"the first joins: {results[:20]}")
        check(results[20:] == ["throttled"] * 4, f"joins after the burst: {results[20:]}")

def case_no_names_before_handshake():
    """A join learns member names only once its own handshake completes."""
    with Env() as env:
        a = media_session(env, "Names-Room-November", "Nora Named")
        check(env.dp.wait(is_type(T_EP_ADD), 10) is not None, "the first member did not connect")
        check(a["joined"]["participants"] == [], f"joined carried {a['joined']['participants']}")
        b = env.ws()
        joined, offer_msg = b.join("Names-Room-November", "Ned Newcomer")
        check(joined.get("participants") == [], f"joined carried names: {joined.get('participants')}")
        seen = []
        while (m := b.recv(0.5)):
            seen.append(m)
        check(not [m for m in seen if "Nora" in json.dumps(m)], f"names before the handshake: {seen}")
        # a, connected, does not learn the pending newcomer's name either
        while (m := a["ws"].recv(0.3)):
            check("Ned" not in json.dumps(m), f"a pending member was listed: {m}")
        mark = env.dp.mark()
        offer = parse_offer(offer_msg["sdp"])
        b.send(dict(type="answer", sdp=make_answer(offer, fingerprint(CERT[0])),
                    version=offer_msg["version"]))
        rport = env.rport()
        env.stun_ok(offer, rport)
        s_client(env, Relay(env, rport).port, CERT)
        check(env.dp.wait(is_type(T_EP_ADD), 10, mark) is not None, "the newcomer did not connect")
        m = b.expect("participants", 5)
        check(sorted(x["name"] for x in m["participants"]) == ["Ned Newcomer", "Nora Named"],
              f"list after the handshake: {m}")

def case_two_workers():
    with Env(workers=2) as env:
        ports = set()
        for room in ("Worker-Room-Charlie", "Worker-Room-Delta"):
            _, offer = env.ws().join(room, "Carl Worker")
            m = re.search(r"^a=candidate:\S+ 1 udp \d+ 10\.98\.0\.1 (\d+) typ host\r?$", offer["sdp"], re.M)
            check(m, "offer lacks a candidate")
            ports.add(int(m.group(1)))
        check(ports == {BASE_PORT, BASE_PORT + 1},
              f"two meetings on two workers should use ports 10000 and 10001, got {sorted(ports)}")

def case_stderr_clean():
    text = "".join(STDERR_LOGS)
    check(text, "no control plane stderr was captured")
    for word in sorted(ROOM_NAMES | NAMES | {CLIENT_IP}):
        check(word not in text, f"the control plane logged {word!r}")

CASES = [("signalling errors", case_signalling_errors), ("join and offer", case_join_offer),
         ("STUN checks", case_stun), ("DTLS from unvalidated tuples", case_dtls_unvalidated),
         ("DTLS handshake and SRTP keys", case_handshake_keys),
         ("a path nominated while the endpoint is being added", case_path_change_while_adding),
         ("fingerprint mismatch", case_fingerprint_mismatch),
         ("DTLS client role (answer a=setup:passive)", case_dtls_passive),
         ("a=setup:actpass in an answer is refused", case_dtls_active_refused_roles),
         ("consent timeout", case_consent_timeout),
         ("media counts as consent (MEDIA_ALIVE)", case_media_alive_consent), ("leave and Redis contents", case_leave),
         ("Redis down and back", case_redis_down), ("dataplane gone and back", case_dataplane_restart),
         ("meetings spread over workers", case_two_workers),
         ("a full meeting refuses joins", case_room_full),
         ("phantom joins do not fill the server", case_phantom_joins),
         ("pending joins have their own caps", case_pending_caps),
         ("a join flood from one source is throttled", case_join_flood),
         ("no member names before the handshake", case_no_names_before_handshake),
         ("renegotiation as publishers come and go", case_renegotiation),
         ("stale endpoints of an earlier control plane", case_stale_endpoint),
         ("a consent kick leaves the rest of the meeting", case_consent_kick_in_meeting),
         ("stderr holds no personal data", case_stderr_clean)]

def run_cases(cases, want):
    """Run the (name, fn) cases whose (number, name) want() accepts; prints
    TAP-like lines and returns (passed, failed)."""
    passed = failed = 0
    for n, (name, fn) in enumerate(cases, 1):
        if not want(n, name):
            continue
        try:
            fn()
            print(f"ok {n} - {name}", flush=True)
            passed += 1
        except Fail as e:
            print(f"not ok {n} - {name}: {e}", flush=True)
            failed += 1
        except Exception as e:
            print(f"not ok {n} - {name}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc()
            failed += 1
    return passed, failed

def run_and_exit(cases, want=lambda n, name: True):
    """Run cases (run_cases) on a fresh LOOP, print the totals and exit 1 if
    any failed: the main() of the test files that share this harness."""
    global LOOP
    LOOP = AsyncLoop()
    passed = failed = 0
    try:
        passed, failed = run_cases(cases, want)
    finally:
        LOOP.stop()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

def main():
    global CP_BIN, SRCDIR, LOOP, CERT, OTHER_CERT
    if len(sys.argv) != 3:
        sys.exit("usage: controlplane_test.py PATH/TO/sluice-controlplane SRCDIR")
    CP_BIN, SRCDIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    top = tempfile.mkdtemp(prefix="slcp-certs-")
    LOOP = AsyncLoop()
    passed = failed = 0
    try:
        CERT, OTHER_CERT = make_cert(top, "client"), make_cert(top, "other")
        only = os.environ.get("SLCP_ONLY")  # run only cases whose name contains this
        passed, failed = run_cases(CASES, lambda n, name: not only or only in name)
    finally:
        LOOP.stop()
        shutil.rmtree(top, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

if __name__ == "__main__":
    main()
