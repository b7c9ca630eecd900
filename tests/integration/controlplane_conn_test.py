#!/usr/bin/python3
"""controlplane_conn_test.py - sluice-controlplane's HTTP/WebSocket limits.

Usage: controlplane_conn_test.py PATH/TO/sluice-controlplane SRCDIR

Reuses controlplane_test.py's harness (fake dataplane, Redis, temporary
directory per case) and checks what a client can do to the server's
connections: caps per source and in total, idle and unfinished-message
timeouts, a client that never reads, a low open-file limit, Host and Origin
against --origin, protocol edges (binary frames, huge messages, huge
headers), --listen bound exactly (seen from a second network namespace this
test creates and removes), and the ROOM_REMOVE reply for a meeting without
media. Only loopback and addresses inside the test's own namespaces are used.
Output: "ok N - name" / "not ok N - name: why".
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import controlplane_test as ct  # noqa: E402  (re-executes under /usr/bin/python3 if needed)

import base64, contextlib, resource, shutil, socket, struct, subprocess, tempfile  # noqa: E402
import threading, time  # noqa: E402

from controlplane_test import Env, Fail, check, wait_until, read  # noqa: E402

# ---------------------------------------------------------------- a raw WebSocket client

def http_head(sock, timeout=5.0):
    """Read up to the end of the response head; returns (status or None, head bytes)."""
    sock.settimeout(timeout)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            b = sock.recv(4096)
            if not b:
                break
            buf += b
    except (socket.timeout, OSError):
        pass
    line = buf.split(b"\r\n", 1)[0].split()
    status = int(line[1]) if len(line) >= 2 and line[1].isdigit() else None
    return status, buf

def raw_ws(port, host=None, origin=None, src="127.0.0.1", rcvbuf=None, addr="127.0.0.1"):
    """Open a WebSocket by hand (no ping answers, no reads unless asked).
    Returns (socket, HTTP status or None when the server closed first)."""
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect((addr, port))
    key = base64.b64encode(os.urandom(16)).decode()
    req = (f"GET /ws HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
           f"Sec-WebSocket-Protocol: sluice-v1\r\n" + (f"Origin: {origin}\r\n" if origin else "") +
           "\r\n")
    try:
        s.sendall(req.encode())
    except OSError:
        return s, None
    status, _ = http_head(s)
    return s, status

def frame(payload, opcode=1, fin=True):
    """A masked client frame."""
    if isinstance(payload, str):
        payload = payload.encode()
    mask = os.urandom(4)
    n = len(payload)
    hdr = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        hdr += bytes([0x80 | n])
    elif n < 65536:
        hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

def read_frames(sock, timeout):
    """Server frames [(opcode, payload)] until the server closes the TCP
    connection or timeout; returns (frames, closed)."""
    sock.settimeout(0.2)
    buf, frames, end, closed = b"", [], time.monotonic() + timeout, False
    while time.monotonic() < end:
        try:
            b = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            closed = True
            break
        if not b:
            closed = True
            break
        buf += b
    while len(buf) >= 2:
        op, n, off = buf[0] & 0x0F, buf[1] & 0x7F, 2
        if n == 126:
            n, off = struct.unpack(">H", buf[2:4])[0], 4
        elif n == 127:
            n, off = struct.unpack(">Q", buf[2:10])[0], 10
        if len(buf) < off + n:
            break
        frames.append((op, buf[off:off + n]))
        buf = buf[off + n:]
    return frames, closed

def errors_in(frames):
    out = []
    for op, p in frames:
        if op == 1:
            with contextlib.suppress(ValueError):
                m = ct.json.loads(p)
                if m.get("type") == "error":
                    out.append((m.get("code"), m.get("fatal")))
    return out

def rss_kib(pid):
    for line in read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0

def cpu_s(pid):
    f = read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

def asan():
    with open(ct.CP_BIN, "rb") as f:
        return b"__asan_init" in f.read()

def http_get(port, headers="", addr="127.0.0.1"):
    with socket.create_connection((addr, port), timeout=5) as s:
        s.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}Connection: close\r\n\r\n"
                  .encode())
        return http_head(s)[0]

# ---------------------------------------------------------------- cases

def case_connection_caps():
    with Env(args=("--max-connections", "6", "--max-connections-per-ip", "4")) as env:
        mine = []
        for _ in range(4):
            s, st = raw_ws(env.port)
            check(st == 101, f"connection {len(mine) + 1} from one source got {st}")
            mine.append(s)
        s, st = raw_ws(env.port)
        check(st != 101, "a 5th connection from one source was accepted (cap 4)")
        check(st in (503, None), f"over the per-source cap: status {st}")
        s.close()
        others = []
        for src in ("127.0.0.2", "127.0.0.3"):
            s, st = raw_ws(env.port, src=src)
            check(st == 101, f"a connection from another source got {st}")
            others.append(s)
        s, st = raw_ws(env.port, src="127.0.0.4")
        check(st in (503, None), f"a 7th connection (total cap 6) got {st}")
        s.close()
        mine.pop().close()
        time.sleep(0.5)
        s, st = raw_ws(env.port)
        check(st == 101, f"after one closed, a new connection from that source got {st}")
        for s in mine + others + [s]:
            s.close()
        time.sleep(0.5)
        env.ws().join("Caps-Room-Alpha", "Cap Tester")

def case_idle_timeout():
    with Env(args=("--idle-timeout", "2")) as env:
        live = env.ws()  # websockets answers pings
        s, st = raw_ws(env.port)  # answers nothing
        check(st == 101, f"handshake {st}")
        t0 = time.monotonic()
        frames, closed = read_frames(s, 6)
        check(closed, "a silent WebSocket is still open 6 s after --idle-timeout 2")
        check(any(op == 9 for op, _ in frames), f"no ping before the close: {frames[:3]}")
        check(time.monotonic() - t0 >= 1.5, "closed before the idle timeout")
        s.close()
        live.join("Idle-Room-Bravo", "Ida Live")  # still open: it answered the pings

def case_message_deadline():
    with Env(args=("--message-timeout", "2")) as env:
        s, st = raw_ws(env.port)
        check(st == 101, f"handshake {st}")
        s.sendall(frame('{"type":"join","room":"' + "x" * 1000, fin=False))
        s.sendall(frame("y" * 1000, opcode=0, fin=False))  # ...and never the last fragment
        t0 = time.monotonic()
        frames, closed = read_frames(s, 6)
        check(closed, "an unfinished message still holds its connection 6 s later")
        check(("timeout", True) in errors_in(frames), f"no fatal 'timeout' error: {frames[:3]}")
        check(time.monotonic() - t0 >= 1.5, "dropped before the deadline")
        s.close()
        # a slow request head is dropped too
        with socket.create_connection(("127.0.0.1", env.port), timeout=5) as h:
            h.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            _, closed = read_frames(h, 6)
            check(closed, "an unfinished request head still holds its connection")

def case_send_queue():
    n_flood, n_msgs = 3, 120000
    with Env(args=("--send-queue-max", "65536")) as env:
        pid = env.cp.pid
        time.sleep(0.5)
        base = rss_kib(pid)
        socks = []
        for _ in range(n_flood):
            s, st = raw_ws(env.port, rcvbuf=4096)
            check(st == 101, f"handshake {st}")
            socks.append(s)
        blob = frame('{"type":"dance"}') * n_msgs  # each answered with an error; never read

        def flood(s):
            s.settimeout(30)
            with contextlib.suppress(OSError):
                s.sendall(blob)
        threads = [threading.Thread(target=flood, args=(s,)) for s in socks]
        for t in threads:
            t.start()
        peak, end = base, time.monotonic() + 4
        while any(t.is_alive() for t in threads) or time.monotonic() < end:
            peak = max(peak, rss_kib(pid))
            time.sleep(0.1)
        for t in threads:
            t.join()
        after = rss_kib(pid)
        print(f"# send queue: RSS baseline {base} KiB, peak {peak} KiB, at the end {after} KiB",
              flush=True)
        for s in socks:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            _, closed = read_frames(s, 5)
            check(closed, "a client that never reads was not dropped")
            s.close()
        check("over 65536 bytes queued" in read(env.err), "no log line for the dropped client")
        if not asan():  # ASan's quarantine keeps freed memory resident
            check(peak - base < 40 * 1024, f"RSS grew by {(peak - base) // 1024} MiB")
            check(after - base < 20 * 1024, f"RSS still {(after - base) // 1024} MiB up")
        env.ws().join("Queue-Room-Charlie", "Quentin Reader")

def case_fd_limit():
    def low_nofile():
        resource.setrlimit(resource.RLIMIT_NOFILE, (160, 160))
    with Env(args=("--message-timeout", "30", "--max-connections-per-ip", "0"),
             preexec=low_nofile) as env:
        pid = env.cp.pid
        socks, refused, t0 = [], 0, time.monotonic()
        for i in range(300):
            try:
                s, st = raw_ws(env.port)
            except OSError:
                st, s = None, None
            if st == 101:
                socks.append(s)
            else:
                refused += 1
                if s:
                    s.close()
        check(socks and refused, f"{len(socks)} accepted, {refused} refused of 300")
        print(f"# fd limit 160: {len(socks)} WebSockets accepted, {refused} refused", flush=True)
        c0 = cpu_s(pid)
        time.sleep(3)
        used = cpu_s(pid) - c0
        check(used < 0.6, f"the control plane used {used:.2f} s of CPU in 3 s while full")
        log = read(env.err)
        check(len(log) < 20000, f"{len(log)} bytes of log while full")
        check("repeated" in log, "repeated refusals were not counted in one line")
        # a new client gets an answer (here a clean refusal) at once, not a hang
        t1 = time.monotonic()
        try:
            st = http_get(env.port)
        except OSError as e:
            st = str(e)
        check(st in (200, 503) and time.monotonic() - t1 < 2,
              f"a new client got {st} after {time.monotonic() - t1:.1f} s while full")
        for s in socks:
            s.close()
        time.sleep(1)
        env.ws().join("Fd-Room-Delta", "Fiona Fds")

def case_origin_host():
    with Env() as env:
        p = env.port
        for host, origin, ok in [(f"127.0.0.1:{p}", None, True),
                                 (f"127.0.0.1:{p}", f"http://127.0.0.1:{p}", True),
                                 (f"localhost:{p}", f"http://localhost:{p}", True),
                                 (f"evil.example:{p}", f"http://evil.example:{p}", False),
                                 (f"evil.example:{p}", None, False),
                                 (f"127.0.0.1:{p}", f"http://evil.example:{p}", False),
                                 (f"127.0.0.1:{p}", "null", False)]:
            s, st = raw_ws(p, host=host, origin=origin)
            s.close()
            check((st == 101) == ok, f"Host {host} Origin {origin}: status {st}")
        check(http_get(p) == 200, "a plain request failed")
        with socket.create_connection(("127.0.0.1", p), timeout=5) as s:
            s.sendall(f"GET / HTTP/1.1\r\nHost: evil.example:{p}\r\n\r\n".encode())
            st = http_head(s)[0]
            check(st == 421, f"a page request for a foreign Host got {st}")
    with Env(args=("--origin", "https://Meet.Example.com/")) as env:
        p = env.port
        for host, origin, ok in [("meet.example.com", "https://meet.example.com", True),
                                 (f"127.0.0.1:{p}", "https://meet.example.com", True),
                                 (f"127.0.0.1:{p}", f"http://127.0.0.1:{p}", False),
                                 ("meet.example.com", "http://meet.example.com", False)]:
            s, st = raw_ws(p, host=host, origin=origin)
            s.close()
            check((st == 101) == ok, f"--origin https://meet.example.com: Host {host} "
                  f"Origin {origin}: status {st}")
    for bad in (["--origin", "ftp://x"], ["--origin", "http://a/b"], ["--origin", "http://a:0"],
                ["--listen", "0.0.0.0"], ["--listen", "localhost"]):
        r = subprocess.run([ct.CP_BIN, *bad], capture_output=True, text=True, timeout=10)
        check(r.returncode == 2 and bad[0] in r.stderr, f"{bad}: rc {r.returncode} {r.stderr!r}")

def case_protocol_edges():
    with Env() as env:
        ws = env.ws()
        ct.LOOP.run(ws.c.send(b'{"type":"join","room":"Binary-Room"}'), 5)
        ws.expect_error("bad_json")
        ws.join("Edges-Room-Echo", "Edgar Edges")  # the connection stays usable
        w2 = env.ws()
        with contextlib.suppress(ct.websockets.ConnectionClosed):
            w2.send("x" * (4 << 20))
        w2.expect_error("too_large", fatal=True)
        check(w2.closes(3), "the connection stays open after too_large")
        w3 = env.ws()
        with contextlib.suppress(ct.websockets.ConnectionClosed):
            ct.LOOP.run(w3.c.send(iter(["y" * (200 << 10)] * 3)), 10)  # 600 KiB in fragments
        w3.expect_error("too_large", fatal=True)
        check(w3.closes(3), "the connection stays open after a fragmented too_large")
        check(http_get(env.port, "X-Pad: " + "a" * 6000 + "\r\n") == 200,
              "a 6 KB request head was not served")
        st = http_get(env.port, "X-Pad: " + "a" * 8192 + "\r\n")
        check(st == 431, f"an 8 KB request head got {st}, not 431")
        env.ws().join("Edges-Room-Foxtrot", "Fred Edges")

def polled_fds(pid):
    """How many descriptors the control plane's main thread passes to poll()
    while it waits (GLib's loop); read from /proc/PID/syscall."""
    for _ in range(200):
        f = read(f"/proc/{pid}/syscall").split()
        # poll (x86_64: 7) or ppoll (x86_64: 271, aarch64: 73): nfds is the 2nd argument
        if len(f) > 2 and f[0] in ("7", "271", "73"):
            return int(f[2], 16)
        time.sleep(0.02)
    raise Fail("the control plane was never seen waiting in poll()")

def case_poll_constant():
    """Each loop wakeup (every ICE check) must not poll every WebSocket: lws's
    sockets sit in one epoll set behind one GLib source."""
    with Env(args=("--max-connections-per-ip", "0")) as env:
        time.sleep(0.3)
        base = polled_fds(env.cp.pid)
        socks = []
        for _ in range(40):
            s, st = raw_ws(env.port)
            check(st == 101, f"handshake {st}")
            socks.append(s)
        time.sleep(0.3)
        n = polled_fds(env.cp.pid)
        check(n <= base + 2, f"GLib polls {n} descriptors with 40 WebSockets open, {base} "
              "with none: every wakeup scans every connection")
        for s in socks:
            s.close()
        env.ws().join("Poll-Room-Golf", "Gail Poll")

def sh(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20)

def case_listen_exact():
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("# skipped: needs root and ip(8) for network namespaces", flush=True)
        return
    tag = f"slcp{os.getpid() % 100000}"
    ns_a, ns_b = tag + "a", tag + "b"
    a_ip, b_ip = "10.231.77.1", "10.231.77.2"
    try:
        for cmd in (["ip", "netns", "add", ns_a], ["ip", "netns", "add", ns_b],
                    ["ip", "link", "add", tag + "x", "netns", ns_a, "type", "veth", "peer",
                     "name", tag + "y", "netns", ns_b],
                    ["ip", "-n", ns_a, "addr", "add", a_ip + "/30", "dev", tag + "x"],
                    ["ip", "-n", ns_b, "addr", "add", b_ip + "/30", "dev", tag + "y"],
                    ["ip", "-n", ns_a, "link", "set", tag + "x", "up"],
                    ["ip", "-n", ns_b, "link", "set", tag + "y", "up"],
                    ["ip", "-n", ns_a, "link", "set", "lo", "up"],
                    ["ip", "-n", ns_b, "link", "set", "lo", "up"]):
            r = sh(*cmd)
            check(r.returncode == 0, f"{' '.join(cmd)}: {r.stderr.strip()}")

        def curl(ns, addr, port):
            r = sh("ip", "netns", "exec", ns, "curl", "-s", "-o", "/dev/null", "-w",
                   "%{http_code}", "--max-time", "3", f"http://{addr}:{port}/")
            return r.stdout.strip()
        with Env(wrap=("ip", "netns", "exec", ns_a)) as env:
            check(curl(ns_a, "127.0.0.1", env.port) == "200", "not reachable on loopback")
            got = curl(ns_b, a_ip, env.port)
            check(got == "000", f"--listen 127.0.0.1 answered {got} from another namespace")
            got = curl(ns_a, a_ip, env.port)
            check(got == "000", f"--listen 127.0.0.1 answered {got} on the veth address")
        port = ct.free_port()
        with Env(wrap=("ip", "netns", "exec", ns_a),
                 args=("--listen", a_ip, "--port", str(port))) as env:
            got = curl(ns_b, a_ip, port)
            check(got == "200", f"--listen {a_ip}: {got} from the other namespace")
            check(curl(ns_a, "127.0.0.1", port) == "000", f"--listen {a_ip} answered on loopback")
    finally:
        sh("ip", "netns", "del", ns_a)
        sh("ip", "netns", "del", ns_b)

def case_room_remove_enoent():
    with Env() as env:
        env.dp.status_for[ct.T_ROOM_REMOVE] = -2  # ENOENT: the dataplane never had the room
        ws = env.ws()
        ws.join("Enoent-Room-Golf", "Gil Nomedia")
        mark = env.dp.mark()
        ws.send({"type": "leave"})
        ws.expect("left")
        check(env.dp.wait(ct.is_type(ct.T_ROOM_REMOVE), 3, mark), "no ROOM_REMOVE")
        time.sleep(0.3)
        check("warn dataplane refused" not in read(env.err),
              "ROOM_REMOVE of a room without media is logged as a warning")

CASES = [("connection caps per source and in total", case_connection_caps),
         ("idle WebSockets are pinged, then closed", case_idle_timeout),
         ("unfinished messages and heads are dropped", case_message_deadline),
         ("a client that never reads is dropped, memory freed", case_send_queue),
         ("low open-file limit: clean refusals, no spin, short log", case_fd_limit),
         ("Host and Origin against --origin", case_origin_host),
         ("binary frames, huge messages, huge heads", case_protocol_edges),
         ("--listen binds exactly that address", case_listen_exact),
         ("ROOM_REMOVE of a meeting without media is not a warning", case_room_remove_enoent),
         ("GLib polls a constant number of descriptors, not one per WebSocket",
          case_poll_constant),
         ("stderr holds no personal data", ct.case_stderr_clean)]

def main():
    if len(sys.argv) != 3:
        sys.exit("usage: controlplane_conn_test.py PATH/TO/sluice-controlplane SRCDIR")
    ct.CP_BIN, ct.SRCDIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    only = os.environ.get("SL_CASES")  # e.g. SL_CASES=1,3 to run a few while debugging
    ct.run_and_exit(CASES, lambda n, name: not only or str(n) in only.split(","))

if __name__ == "__main__":
    main()
