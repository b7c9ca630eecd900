#!/usr/bin/python3
"""check_systemd.py - the systemd units and example config files (systemd/).

Usage: check_systemd.py SRCDIR PATH/TO/sluice-dataplane PATH/TO/sluice-controlplane

1. `systemd-analyze verify` on both units, copied to a temporary directory
   with ExecStart pointing at the built binaries (verify checks that they
   exist); any message it prints (an unknown key, a bad value) fails too,
   since verify itself exits 0 for those.
2. The settings the deployment relies on are there (Type=notify, the
   watchdog, the control plane's user and sandbox, the dataplane's
   hugepages and CPU pinning, the runtime and state directories).
3. The example /etc/sluice/*.conf files are valid for the built binaries:
   each is read with --config and then --help, which exits 0 only when every
   line was accepted (2, naming the line, otherwise). The dataplane's
   ctl-group is replaced by 0: the group 'sluice' exists only where
   systemd/sluice.sysusers was installed.
Touches nothing outside its temporary directory.
"""
import os, re, shutil, subprocess, sys, tempfile

src, dp, cp = (os.path.abspath(a) for a in sys.argv[1:4])
failures = []


def fail(why):
    failures.append(why)
    print("FAIL:", why)


def units():
    return {n: open(os.path.join(src, "systemd", n)).read()
            for n in ("sluice-dataplane.service", "sluice-controlplane.service")}


def settings(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2).strip())
    return out


tmp = tempfile.mkdtemp(prefix="slsystemd-")
try:
    paths = []
    for name, text in units().items():
        binary = dp if "dataplane" in name else cp
        text, n = re.subn(r"^ExecStart=\S+", "ExecStart=" + binary, text, flags=re.M)
        if n != 1:
            fail(f"{name}: expected one ExecStart=, found {n}")
        p = os.path.join(tmp, name)
        with open(p, "w") as f:
            f.write(text)
        paths.append(p)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", *paths], cwd=tmp,
                       capture_output=True, text=True, timeout=120)
    msgs = (r.stdout + r.stderr).strip()
    if r.returncode or msgs:
        fail(f"systemd-analyze verify (rc {r.returncode}): {msgs}")

    want = {
        "sluice-dataplane.service": {
            "Type": "notify", "User": "root", "Restart": "on-failure",
            "RuntimeDirectory": "sluice", "Requires": "dev-hugepages.mount",
            "WatchdogSec": None, "CPUAffinity": None, "LimitCORE": "0",
        },
        "sluice-controlplane.service": {
            "Type": "notify", "User": "sluice", "Restart": "on-failure",
            "NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
            "StateDirectory": "sluice", "WatchdogSec": None, "LimitCORE": "0",
        },
    }
    for name, text in units().items():
        s = settings(text)
        for k, v in want[name].items():
            if k not in s or (v is not None and v not in " ".join(s[k]).split()):
                fail(f"{name}: needs {k}={v or '...'} (has {s.get(k)})")
        if "--config /etc/sluice/" not in " ".join(s.get("ExecStart", [])):
            fail(f"{name}: ExecStart= does not read its settings from /etc/sluice/")
    cps = settings(units()["sluice-controlplane.service"])
    if "sluice-dataplane.service" not in " ".join(cps.get("After", [])):
        fail("sluice-controlplane.service: must start after sluice-dataplane.service")

    # The example config files, as the binaries read them.
    dconf = open(os.path.join(src, "systemd", "dataplane.conf")).read()
    dconf, n = re.subn(r"^ctl-group = sluice$", "ctl-group = 0", dconf, flags=re.M)
    if n != 1:
        fail("systemd/dataplane.conf: expected 'ctl-group = sluice'")
    with open(os.path.join(tmp, "dataplane.conf"), "w") as f:
        f.write(dconf)
    for binary, conf in ((dp, os.path.join(tmp, "dataplane.conf")),
                         (cp, os.path.join(src, "systemd", "controlplane.conf"))):
        r = subprocess.run([binary, "--config", conf, "--help"], capture_output=True, text=True,
                           timeout=30)
        if r.returncode != 0:
            fail(f"{conf} refused by {os.path.basename(binary)}: {r.stderr.strip()}")
    # ... and a bad line is refused that way (so the check above can fail).
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("no-such-option = 1\n")
    for binary in (dp, cp):
        r = subprocess.run([binary, "--config", bad, "--help"], capture_output=True, text=True,
                           timeout=30)
        if r.returncode != 2 or f"{bad}:1:" not in r.stderr:
            fail(f"{os.path.basename(binary)} --config BAD --help: rc {r.returncode}, "
                 f"{r.stderr.strip()!r}")
    sysusers = open(os.path.join(src, "systemd", "sluice.sysusers")).read()
    if not re.search(r"^u sluice ", sysusers, re.M):
        fail("systemd/sluice.sysusers: no user sluice")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"check_systemd: {len(failures)} problem(s)")
sys.exit(1 if failures else 0)
