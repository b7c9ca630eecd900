#!/usr/bin/python3
"""controlplane_web_test.py - the control plane serves the web client's
random-name files.

Usage: controlplane_web_test.py PATH/TO/sluice-controlplane SRCDIR

Reuses controlplane_test.py's harness (fake dataplane, Redis, temporary
directory) and fetches web/names.js, web/words.txt and its licence from the
control plane's static files: each must come back whole with a content type
the browser accepts (names.js is loaded as a script under the page's CSP
and fetches words.txt). Loopback only. Output: "ok N - name".
"""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import controlplane_test as ct  # noqa: E402

from controlplane_test import Env, check  # noqa: E402


def get(port, path):
    """GET path; returns (status line, {header: value}, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
                  .encode())
        buf = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            buf += b
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    return lines[0], hdrs, body


def case_name_files():
    with Env() as env:
        for name, ctype in (("names.js", "text/javascript"), ("words.txt", "text/plain"),
                            ("words-LICENSE.txt", "text/plain")):
            status, hdrs, body = get(env.port, "/" + name)
            check(" 200 " in status + " ", f"/{name}: {status}")
            got = hdrs.get("content-type", "").split(";")[0]
            check(got == ctype, f"/{name}: content-type {got!r}, want {ctype}")
            with open(os.path.join(ct.SRCDIR, "web", name), "rb") as f:
                check(body == f.read(), f"/{name}: body differs from web/{name}")


CASES = [("names.js, words.txt and its licence are served whole, as script and text",
          case_name_files)]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: controlplane_web_test.py PATH/TO/sluice-controlplane SRCDIR")
    ct.CP_BIN, ct.SRCDIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    ct.LOOP = ct.AsyncLoop()
    try:
        passed, failed = ct.run_cases(CASES, lambda n, name: True)
    finally:
        ct.LOOP.stop()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
