#!/usr/bin/python3
"""controlplane_web_test.py - the control plane serves the web client's
files.

Usage: controlplane_web_test.py PATH/TO/sluice-controlplane SRCDIR

Reuses controlplane_test.py's harness (fake dataplane, Redis, temporary
directory) and fetches the page's scripts (web/signalling.js, ui.js,
media.js, screen.js, p2p.js, speaker.js, e2ee.js, app.js, names.js and the worker
e2ee-worker.js), web/words.txt and its licence from the control
plane's static files: each must come back whole with a content type the
browser accepts (the scripts are loaded under the page's CSP, and names.js
fetches words.txt), and index.html must load the client's scripts in their
order. The scripts never turn text into markup (no HTML-parsing sinks:
names and chat texts from the network go in with textContent only).
Loopback only. Output: "ok N - name".
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


# The client's classic scripts, in the order index.html loads them.
SCRIPTS = ("names.js", "signalling.js", "ui.js", "media.js", "screen.js", "p2p.js", "speaker.js",
           "e2ee.js", "app.js")
# Scripts the page starts as workers (e2ee.js's), served but not in a <script> tag.
WORKERS = ("e2ee-worker.js",)


def case_files():
    with Env() as env:
        for name, ctype in ([(s, "text/javascript") for s in SCRIPTS + WORKERS] +
                            [("words.txt", "text/plain"), ("words-LICENSE.txt", "text/plain")]):
            status, hdrs, body = get(env.port, "/" + name)
            check(" 200 " in status + " ", f"/{name}: {status}")
            got = hdrs.get("content-type", "").split(";")[0]
            check(got == ctype, f"/{name}: content-type {got!r}, want {ctype}")
            with open(os.path.join(ct.SRCDIR, "web", name), "rb") as f:
                check(body == f.read(), f"/{name}: body differs from web/{name}")


def case_page_loads_scripts():
    with Env() as env:
        status, _, body = get(env.port, "/")
        check(" 200 " in status + " ", f"/: {status}")
        page = body.decode()
        at = [page.find(f'<script src="{s}"></script>') for s in SCRIPTS]
        check(all(i >= 0 for i in at), f"/ loads {[s for s, i in zip(SCRIPTS, at) if i < 0]}")
        check(at == sorted(at), f"/ loads the scripts out of order: {at}")
        check(page.count("<script") == len(SCRIPTS), "/ loads other scripts")


def csp_sources(policy, directive):
    for d in policy.split(";"):
        words = d.split()
        if words and words[0] == directive:
            return set(words[1:])
    return None


def case_csp_allows_redirect():
    """Both the header's CSP and index.html's let the page open a WebSocket to
    another node (a 'redirect' to its --public-url), and nothing else elsewhere."""
    with Env() as env:
        _, hdrs, body = get(env.port, "/")
        meta = body.decode().split('http-equiv="Content-Security-Policy" content="')[1]
        for where, policy in (("header", hdrs.get("content-security-policy", "")),
                              ("index.html", meta.split('"')[0])):
            got = csp_sources(policy, "connect-src")
            check(got == {"'self'", "ws:", "wss:"}, f"{where}: connect-src {got}")


# Ways a script could parse a string as HTML or code.
HTML_SINKS = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
              "createContextualFragment", "DOMParser", "srcdoc", "eval(", "new Function",
              "setTimeout('", 'setTimeout("')


def case_no_html_sinks():
    for name in SCRIPTS + WORKERS:
        with open(os.path.join(ct.SRCDIR, "web", name), encoding="utf-8") as f:
            text = f.read()
        found = [s for s in HTML_SINKS if s in text]
        check(not found, f"web/{name} uses {found}")


CASES = [("the scripts, words.txt and its licence are served whole, as script and text",
          case_files),
         ("the page loads the client's scripts in order", case_page_loads_scripts),
         ("the CSP lets the page follow a redirect to another node", case_csp_allows_redirect),
         ("the scripts use no HTML-parsing sink", case_no_html_sinks)]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: controlplane_web_test.py PATH/TO/sluice-controlplane SRCDIR")
    ct.CP_BIN, ct.SRCDIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    ct.run_and_exit(CASES)


if __name__ == "__main__":
    main()
