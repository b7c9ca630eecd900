#!/usr/bin/python3
"""check_docker.py - the docker/ files, without a Docker engine.

Usage: check_docker.py SRCDIR PATH/TO/sluice-dataplane PATH/TO/sluice-controlplane

1. docker/docker-compose.yml parses (python3-yaml), its services are exactly
   redis, dataplane, controlplane and proxy, and every file it names from
   the repository exists (build contexts, Dockerfiles); every host path it
   names (volumes, secrets) is explained in docs/operators.md.
2. Every Dockerfile installs packages only through scripts/install-deps
   --only GROUP (no apt-get/dpkg/pip of its own, so no list can drift from
   install-deps), with SLUICE_APT_CLEAN=1, and the groups exist.
3. A lint (hadolint is not in Debian 12; it also runs when present): FROM
   only debian:12 or an earlier stage, nothing `latest`, no ADD, COPY
   sources that exist, ENTRYPOINT/CMD in exec form, a USER in the last
   stage, not root except for the dataplane.
4. The runtime groups cover the built binaries: the package of every
   library each binary is linked against (readelf NEEDED, dpkg -S) is in
   install-deps' dataplane or controlplane group, or is in every debian:12
   image (libc6, libgcc-s1: a sanitized build links the latter).
5. The pieces agree: the control plane's config names the dataplane's
   socket, the Redis socket and the ACL user; the ACL allows exactly the
   commands controlplane/state/*.c send, on sl:* keys only, with the
   default user off; the operator's user sluice-operator exactly the
   commands sluicectl sends, on sl:ctl and sl:ctl:reply:* only; ctl-group is the control plane's gid in its image;
   the config files are accepted by the built binaries (--config FILE
   --help exits 0 only when every line is valid).
6. docker/redis/start.sh, run outside a container with its paths moved
   (SLUICE_SECRETS, SLUICE_REDIS_ETC, TMPDIR), starts a Redis whose ACL
   refuses the unauthenticated, lets each user do its part and nothing of
   the other's (Redis refuses a whole ACL file for one bad line: the
   shipped file's comments once made it refuse this one).
"""
import os, re, shlex, shutil, subprocess, sys

import yaml

src, dp_bin, cp_bin = (os.path.abspath(a) for a in sys.argv[1:4])
D = os.path.join(src, "docker")
failures = []


def fail(why):
    failures.append(why)
    print("FAIL:", why)


def text(*parts):
    with open(os.path.join(src, *parts)) as f:
        return f.read()


def conf(path):
    out = {}
    for line in text(path).splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out


def groups(names):
    r = subprocess.run([os.path.join(src, "scripts", "install-deps"), "--list", "--only", names],
                       capture_output=True, text=True)
    return set(r.stdout.split()) if r.returncode == 0 else None


# ------------------------------------------------------------ 1. compose
compose = yaml.safe_load(text("docker", "docker-compose.yml"))
services = compose.get("services", {})
if set(services) != {"redis", "dataplane", "controlplane", "proxy"}:
    fail(f"services are {sorted(services)}, want redis, dataplane, controlplane, proxy")
operators = text("docs", "operators.md")
dockerfiles = {}
for name, s in services.items():
    b = s.get("build")
    if not b:
        fail(f"{name}: no build: every image is built from this repository")
        continue
    ctx = os.path.normpath(os.path.join(D, b["context"]))
    df = os.path.join(ctx, b.get("dockerfile", "Dockerfile"))
    if not os.path.isdir(ctx):
        fail(f"{name}: build context {b['context']} does not exist")
    if not os.path.isfile(df):
        fail(f"{name}: {b.get('dockerfile')} does not exist")
    dockerfiles[os.path.relpath(df, src)] = ctx
    for v in s.get("volumes", []):
        host = v.split(":")[0]
        if host.startswith("."):
            if not os.path.exists(os.path.normpath(os.path.join(D, host))):
                fail(f"{name}: volume source {host} does not exist")
        elif host.startswith("/"):
            if host not in operators:
                fail(f"{name}: host path {host} is not explained in docs/operators.md")
        elif host not in compose.get("volumes", {}):
            fail(f"{name}: named volume {host} is not declared")
    for sec in s.get("secrets", []):
        if sec not in compose.get("secrets", {}):
            fail(f"{name}: secret {sec} is not declared")
for sec, v in compose.get("secrets", {}).items():
    f = v.get("file", "")
    if f.startswith(".") and not os.path.exists(os.path.join(D, f)):
        fail(f"secret {sec}: {f} does not exist")
    if f.startswith("/") and f not in operators:
        fail(f"secret {sec}: {f} is not explained in docs/operators.md")
for f in os.listdir(D):
    if f.startswith("Dockerfile") and os.path.join("docker", f) not in dockerfiles:
        fail(f"docker/{f} is not used by docker-compose.yml")
dps = services.get("dataplane", {})
if dps.get("network_mode") != "host":
    fail("dataplane: network_mode must be host")
if not dps.get("privileged") or not any(v.startswith("/dev/hugepages:")
                                        for v in dps.get("volumes", [])):
    fail("dataplane: needs privileged (vfio-pci) and /dev/hugepages")
if "net_af_packet" not in str(dps.get("command", "")):
    fail("dataplane: no af_packet vdev example for a test box")
ep = services.get("redis", {}).get("entrypoint", [""])[0]
if ep != "/etc/sluice/redis/start.sh" or not os.access(os.path.join(D, "redis", "start.sh"),
                                                        os.X_OK):
    fail(f"redis: entrypoint {ep}: want /etc/sluice/redis/start.sh (docker/redis/start.sh, "
         "executable)")

# ------------------------------------------- 2. and 3. Dockerfiles, lint
for rel, ctx in sorted(dockerfiles.items()):
    lines, cont = [], ""
    for line in text(rel).splitlines():
        if line.lstrip().startswith("#") and not cont:
            continue
        cont += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            if cont.strip():
                lines.append(cont.strip())
            cont = ""
    stages, users, installs = [], [], 0
    for ln in lines:
        op, _, arg = ln.partition(" ")
        op = op.upper()
        if op == "FROM":
            m = re.match(r"^(\S+)(?:\s+AS\s+(\S+))?$", arg, re.I)
            if not m or (m.group(1) != "debian:12" and m.group(1) not in stages):
                fail(f"{rel}: FROM {arg}: only debian:12 or an earlier stage")
            stages.append(m.group(2) if m and m.group(2) else "")
            users.append(None)
        elif op == "RUN":
            if re.search(r"\b(apt-get|apt|aptitude|dpkg|pip3?|npm|curl|wget|sudo)\b", arg):
                fail(f"{rel}: RUN {arg[:60]}...: packages only through scripts/install-deps")
            for m in re.finditer(r"(\S*install-deps)\b([^&;|]*)", arg):
                installs += 1
                words = shlex.split(m.group(2))
                if "--only" not in words or groups(words[words.index("--only") + 1]) is None:
                    fail(f"{rel}: install-deps without a valid --only GROUP: {arg}")
                if "SLUICE_APT_CLEAN=1" not in arg:
                    fail(f"{rel}: install-deps without SLUICE_APT_CLEAN=1 (apt lists left)")
        elif op == "ADD":
            fail(f"{rel}: ADD {arg}: use COPY (and no URLs)")
        elif op == "COPY":
            words = arg.split()
            if not any(w.startswith("--from=") for w in words):
                for s in [w for w in words if not w.startswith("--")][:-1]:
                    if not os.path.exists(os.path.join(ctx, s)):
                        fail(f"{rel}: COPY {s}: not in the build context")
        elif op in ("ENTRYPOINT", "CMD"):
            if not arg.startswith("["):
                fail(f"{rel}: {op} in shell form")
        elif op == "USER":
            users[-1] = arg
        if "latest" in ln:
            fail(f"{rel}: '{ln[:60]}' names latest")
    if not installs:
        fail(f"{rel}: installs nothing through scripts/install-deps")
    if not users or users[-1] is None:
        fail(f"{rel}: the last stage has no USER")
    elif "dataplane" not in rel and users[-1] in ("root", "0"):
        fail(f"{rel}: runs as root")
    if shutil.which("hadolint"):
        r = subprocess.run(["hadolint", os.path.join(src, rel)], capture_output=True, text=True)
        if r.returncode:
            fail(f"hadolint {rel}: {r.stdout.strip()}")

# ------------------------------------- 4. runtime groups cover binaries
BASE = {"libc6", "libgcc-s1"}
for binary, group in ((dp_bin, "dataplane"), (cp_bin, "controlplane")):
    have = groups(group) or set()
    needed = re.findall(r"\(NEEDED\).*\[(.+)\]",
                        subprocess.run(["readelf", "-d", binary], capture_output=True,
                                       text=True).stdout)
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)",
                            subprocess.run(["ldd", binary], capture_output=True,
                                           text=True).stdout, re.M))
    if len(needed) < 5:
        fail(f"{binary}: readelf found only {needed}")
    for lib in needed:
        p = paths.get(lib)
        if not p:
            continue  # the dynamic loader itself
        owner = None
        for cand in (os.path.realpath(p), p, re.sub(r"^/usr", "", os.path.realpath(p))):
            r = subprocess.run(["dpkg", "-S", cand], capture_output=True, text=True)
            if r.returncode == 0:
                owner = r.stdout.split(":")[0]
                break
        if owner and owner not in BASE and owner not in have:
            fail(f"{os.path.basename(binary)} needs {lib} from {owner}, which install-deps "
                 f"--only {group} does not install")
# Plugins, loaded at run time (no NEEDED entry): libwebsockets' libuv loop,
# DPDK's mempool driver, buses and the drivers docker-compose.yml names.
for group, plugins in (("controlplane", ["libwebsockets-evlib-uv"]),
                       ("dataplane", ["librte-mempool-ring23", "librte-bus-pci23",
                                      "librte-bus-vdev23", "librte-net-af-packet23",
                                      "librte-net-af-xdp23"])):
    for p in plugins:
        if p not in (groups(group) or set()):
            fail(f"install-deps --only {group} lacks {p} (loaded at run time)")

# ------------------------------------------------ 5. the pieces agree
dpc, cpc = conf("docker/dataplane.conf"), conf("docker/controlplane.conf")
rconf = dict(l.split(None, 1) for l in text("docker", "redis", "redis.conf").splitlines()
             if l.strip() and not l.startswith("#"))
if cpc.get("dataplane-socket") != dpc.get("ctl-socket"):
    fail("controlplane.conf dataplane-socket is not dataplane.conf's ctl-socket")
if cpc.get("redis") != "unix:" + rconf.get("unixsocket", "?"):
    fail("controlplane.conf redis is not redis.conf's unixsocket")
gid = re.search(r"groupadd\b.*--gid (\d+) sluice", text("docker", "Dockerfile.controlplane"))
if not gid or dpc.get("ctl-group") != gid.group(1):
    fail("dataplane.conf ctl-group is not the sluice gid of Dockerfile.controlplane")
acl = [l.split() for l in text("docker", "redis", "users.acl").splitlines()
       if l.startswith("user ")]
if ["user", "default", "off"] not in acl:
    fail("users.acl: the default user must be off")
node = [a for a in acl if a[1] == cpc.get("redis-user")]
if not node:
    fail(f"users.acl: no user {cpc.get('redis-user')} (controlplane.conf redis-user)")
else:
    node = node[0]
    allowed = {w[1:].upper() for w in node if w.startswith("+")}
    state = os.path.join(src, "controlplane", "state")
    used = set()
    for f in sorted(os.listdir(state)):
        if f.endswith(".c"):
            used |= set(re.findall(r'\(const char \*\[\]\)\{\s*"([A-Z]+)"',
                                   text("controlplane", "state", f)))
    if allowed != used:
        fail(f"users.acl allows {sorted(allowed)}, controlplane/state/*.c send {sorted(used)}")
    keys = [w for w in node if w.startswith("~") or w in ("allkeys", "allcommands")]
    if keys != ["~sl:*"] or "-@all" not in node or "resetchannels" not in node:
        fail(f"users.acl: {' '.join(node)}: want ~sl:* only, resetchannels, -@all")
    if "@PASSWORD_SHA256@" not in node or "@PASSWORD_SHA256@" not in text(
            "docker", "redis", "start.sh"):
        fail("users.acl: the password must come from start.sh (@PASSWORD_SHA256@)")
op = [a for a in acl if a[1] == "sluice-operator"]
if not op:
    fail("users.acl: no user sluice-operator (docs/operators.md, Docker)")
else:
    op = op[0]
    allowed = {w[1:].upper() for w in op if w.startswith("+")}
    sent = text("sluicectl", "sluicectl.c")
    # A command is the first word of a request: after "argc = 0" or at an argv literal.
    used = set(re.findall(r'argc = 0;\s*(?:\}\s*)?argv\[argc\+\+\] = "([A-Z]+)"', sent)) | set(
        re.findall(r'\(const char \*\[\]\)\{\s*"([A-Z]+)"', sent))
    used.discard("AUTH")  # always allowed
    if allowed != used:
        fail(f"users.acl sluice-operator allows {sorted(allowed)}, sluicectl sends {sorted(used)}")
    keys = [w for w in op if w.startswith("~") or w in ("allkeys", "allcommands")]
    if keys != ["~sl:ctl", "~sl:ctl:reply:*"] or "-@all" not in op or "resetchannels" not in op:
        fail(f"users.acl: {' '.join(op)}: want ~sl:ctl ~sl:ctl:reply:* only, resetchannels, -@all")
    if "@OPERATOR_PASSWORD_SHA256@" not in op or "@OPERATOR_PASSWORD_SHA256@" not in text(
            "docker", "redis", "start.sh"):
        fail("users.acl: the operator's password must come from start.sh "
             "(@OPERATOR_PASSWORD_SHA256@)")
for binary, c in ((dp_bin, "dataplane.conf"), (cp_bin, "controlplane.conf")):
    r = subprocess.run([binary, "--config", os.path.join(D, c), "--help"], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        fail(f"docker/{c} refused by {os.path.basename(binary)}: {r.stderr.strip()}")


def run_start_sh():
    """docker/redis/start.sh itself, outside a container: Redis must start
    with the ACL it renders (Redis refuses a whole ACL file for one bad
    line), the default user must get nothing, each user exactly its keys."""
    import tempfile, time
    d = tempfile.mkdtemp(prefix="sl-start-sh-")
    p = None
    try:
        for name, pw in (("redis_password", "node-pw"), ("redis_operator_password", "op-pw")):
            with open(os.path.join(d, name), "w") as f:
                f.write(pw + "\n")
        sock = os.path.join(d, "r.sock")
        env = {**os.environ, "SLUICE_SECRETS": d, "SLUICE_REDIS_ETC": os.path.join(D, "redis"),
               "TMPDIR": d}
        with open(os.path.join(d, "log"), "w") as log:
            p = subprocess.Popen(["sh", os.path.join(D, "redis", "start.sh"), "--unixsocket",
                                  sock, "--dir", d], env=env, stdout=log, stderr=log,
                                 stdin=subprocess.DEVNULL)
        for _ in range(50):
            if os.path.exists(sock) or p.poll() is not None:
                break
            time.sleep(0.1)
        time.sleep(0.2)  # Redis refuses a bad ACL after it made its socket
        if not os.path.exists(sock) or p.poll() is not None:
            with open(os.path.join(d, "log")) as f:
                fail(f"docker/redis/start.sh: Redis did not start: {f.read()[-500:]}")
            return

        def cli(user, pw, *args):
            auth = ["--user", user, "--pass", pw, "--no-auth-warning"] if user else []
            return subprocess.run(["redis-cli", "-s", sock, *auth, *args], capture_output=True,
                                  text=True, timeout=5).stdout.strip()
        for who, args, want in (
                ((None, None), ("GET", "sl:x"), "NOAUTH"),
                (("sluice", "node-pw"), ("HSET", "sl:node:x", "url", "u"), "1"),
                (("sluice", "node-pw"), ("HSET", "other", "a", "b"), "NOPERM"),
                (("sluice", "node-pw"), ("XADD", "sl:ctl", "*", "a", "b"), "NOPERM"),
                (("sluice-operator", "op-pw"), ("HGETALL", "sl:node:x"), "NOPERM"),
                (("sluice-operator", "wrong"), ("PING",), "NOAUTH")):
            out = cli(*who, *args)
            if not out.startswith(want):
                fail(f"start.sh's Redis: {who[0]} {' '.join(args)}: {out!r}, want {want}")
        if not cli("sluice-operator", "op-pw", "XADD", "sl:ctl", "*", "a", "b").endswith("-0"):
            fail("start.sh's Redis: the operator cannot XADD to sl:ctl")
    finally:
        if p:
            p.terminate()
            p.wait(10)
        shutil.rmtree(d, ignore_errors=True)


if shutil.which("redis-server") and shutil.which("redis-cli"):
    run_start_sh()
else:
    print("# redis-server not installed: docker/redis/start.sh not run")

print(f"check_docker: {len(dockerfiles)} Dockerfiles, {len(services)} services, "
      f"{len(failures)} problem(s)")
sys.exit(1 if failures else 0)
