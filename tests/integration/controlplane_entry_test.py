#!/usr/bin/python3
"""controlplane_entry_test.py - entry control of sluice-controlplane against a fake dataplane.

Usage: controlplane_entry_test.py PATH/TO/sluice-controlplane SRCDIR

Every row of the entry-control protocol (docs/signalling.md: check_name,
passwords, lock, lobby, roles, mute, kick, grant_moderator, end_meeting,
tokens, weak names) with each error code and refusal, through the real
control plane, Redis and the fake dataplane of controlplane_test.py. Every
message any client receives is recorded: no password or token may ever
appear in one, and a lobby entry may receive nothing about the meeting.
SL_CASES=1,3 runs only those cases. Output: "ok N - name" / "not ok N - name".
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import controlplane_test as ct  # noqa: E402  (re-executes under /usr/bin/python3 if needed)

import json, re, shutil, subprocess, tempfile, time  # noqa: E402

from controlplane_test import Env, Fail, check, wait_until, read, is_type  # noqa: E402

TRAFFIC = []  # every message received by any client: (ws id, message)
SECRETS = set()  # passwords and tokens used: never in any message, log or Redis value
_recv = ct.WS.recv

def _recording_recv(self, timeout):
    m = _recv(self, timeout)
    if m is not None:
        TRAFFIC.append((id(self), m))
    return m

ct.WS.recv = _recording_recv

FLOOD = ct.FLOOD
KEYDIR = None

def join_msg(room, name=None, **extra):
    ct.ROOM_NAMES.add(room)
    m = dict(type="join", room=room)
    if name is not None:
        ct.NAMES.add(name)
        m["name"] = name
    for k, v in extra.items():
        if k in ("password", "token"):
            SECRETS.add(v)
        m[k] = v
    return m

def member(env, room, name, **extra):
    """A participant that joined: (ws, joined)."""
    w = env.ws()
    w.send(join_msg(room, name, **extra))
    j = w.expect("joined")
    w.expect("offer")
    return w, j

def msgs(w, t=0.5):
    """Every message w receives within t seconds (stops early on close)."""
    out, end = [], time.monotonic() + t
    while time.monotonic() < end:
        try:
            m = w.recv(end - time.monotonic())
        except Fail:
            break
        if m:
            out.append(m)
    return out

def expect_type(w, typ, timeout=5.0, **kw):
    """The next message of that type (others skipped), checking members kw."""
    m = w.expect(typ, timeout)
    for k, v in kw.items():
        check(m.get(k) == v, f"{typ}: {k} is {m.get(k)!r}, expected {v!r}: {m}")
    return m

def state_of(w, **kw):
    return expect_type(w, "meeting_state", **kw)

def received_by(w):
    return [m for i, m in TRAFFIC if i == id(w)]

# ---------------------------------------------------------------- cases

def case_check_name():
    """name_strength for weak and strong names, the name never echoed, no
    meeting state touched, throttled per source with retry_after."""
    with Env(args=("--check-name-burst", "6", "--check-name-rate", "1")) as env:
        w = env.ws()
        for room, weak in (("meeting123", True), ("12345678", True), ("1999-07-14", True),
                           ("sluice", True),
                           ("CobaltMarshVelvetPlungeQuorumTidal", False)):
            ct.ROOM_NAMES.add(room)
            w.send(dict(type="check_name", room=room))
            m = expect_type(w, "name_strength")
            check(set(m) == {"type", "bits", "weak", "reasons"}, f"name_strength members: {m}")
            check(isinstance(m["bits"], (int, float)) and m["bits"] >= 0, f"bits: {m}")
            check(m["weak"] is weak, f"{room}: weak should be {weak}: {m}")
            check(room not in json.dumps(m), f"the name is echoed: {m}")
            check(bool(m["reasons"]) == weak and all(isinstance(r, str) for r in m["reasons"]),
                  f"{room}: reasons {m['reasons']}")
        check(env.redis.keys() == [], f"check_name wrote to Redis: {env.redis.keys()}")
        w.send(dict(type="check_name", room="x"))
        expect_type(w, "name_strength")
        w.send(dict(type="check_name", room="y"))
        m = w.expect_error("throttled")
        check(isinstance(m.get("retry_after"), int) and m["retry_after"] >= 1, f"{m}")
        # Throttled checks do not hold joins back, and a joined client may check too.
        w.send(join_msg("CheckName-Room-Strong-Quokka", "Cleo Check"))
        expect_type(w, "joined")

def case_check_name_offloaded():
    """Scores are computed off the loop, in order, and a client may wait for
    at most 2 answers: a burst of slow names (128 repeated characters, the
    costliest for libzxcvbn) gets every answer, some of them throttled."""
    with Env(args=("--check-name-burst", "1000", "--check-name-rate", "100000")) as env:
        w = env.ws()
        for _ in range(10):
            w.send(dict(type="check_name", room="a" * 128))
        got = [w.recv(10) for _ in range(10)]
        kinds = [m and (m.get("code") or m.get("type")) for m in got]
        check(set(kinds) <= {"name_strength", "throttled"} and "name_strength" in kinds and
              "throttled" in kinds, f"answers to a burst: {kinds}")
        check(all(m["retry_after"] == 1 for m in got if m.get("code") == "throttled"), f"{got}")
        w.quiet(0.5)
        w.send(dict(type="check_name", room="a" * 128))
        expect_type(w, "name_strength", weak=True)
        w.close()  # with a check in flight: cancelled, nothing leaks (ASan run)
        v = env.ws()
        for _ in range(2):
            v.send(dict(type="check_name", room="b" * 128))
        v.close()

def case_roles_first():
    """--moderators first: the creator moderates; a participant's moderator
    messages are refused with not_moderator and change nothing; when the last
    moderator leaves, the longest-present participant becomes one."""
    with Env(args=FLOOD) as env:
        room = "Roles-Room-Juniper-Falcon"
        a, ja = member(env, room, "Ada First")
        check(ja.get("role") == "moderator", f"creator's role: {ja}")
        check(ja.get("meeting_state") == dict(locked=False, lobby=False, password=False,
                                              permissions=dict(chat="all", screenshare="all")),
              f"meeting_state in joined: {ja}")
        b, jb = member(env, room, "Ben Second")
        check(jb.get("role") == "participant", f"second joiner's role: {jb}")
        c, jc = member(env, room, "Cy Third")
        for m in (dict(type="set_password", password="pw-roles-1"), dict(type="lock", locked=True),
                  dict(type="lobby", enabled=True), dict(type="admit", participant="00"),
                  dict(type="deny", participant="00"), dict(type="kick", participant=ja["participant"]),
                  dict(type="grant_moderator", participant=jb["participant"]),
                  dict(type="mute", participant=ja["participant"], kind="audio"),
                  dict(type="end_meeting")):
            if "password" in m:
                SECRETS.add(m["password"])
            b.send(m)
            b.expect_error("not_moderator")
        check(not [m for m in msgs(a, 0.5) if m["type"] in ("meeting_state", "role", "muted",
                                                               "kicked", "ended")],
              "a refused message changed something")
        d = env.ws()
        d.send(join_msg(room, "Dee Fourth"))
        expect_type(d, "joined", role="participant")
        a.send({"type": "leave"})
        expect_type(a, "left")
        m = expect_type(b, "role", participant=jb["participant"], role="moderator")
        b.send(dict(type="lock", locked=True))
        state_of(b, locked=True)
        check(c.recv(1) is not None, "the others are not told")

def case_roles_everyone():
    with Env(args=FLOOD + ("--moderators", "everyone")) as env:
        room = "Everyone-Room-Tundra-Maple"
        _, ja = member(env, room, "Eve One")
        b, jb = member(env, room, "Fay Two")
        check(ja["role"] == "moderator" and jb["role"] == "moderator", f"{ja} {jb}")
        b.send(dict(type="lobby", enabled=True))
        state_of(b, lobby=True)

def case_password():
    """A moderator sets a password: everyone gets meeting_state password true
    (never the password); joins without it or with a wrong one get
    password_required (one code); the right one joins; Redis holds only the
    argon2id hash; removing it lets anyone in again."""
    with Env(args=FLOOD) as env:
        room, pw = "Password-Room-Orchid-Sable", "correct horse 7"
        SECRETS.add(pw)
        a, ja = member(env, room, "Pam Moderator")
        b, _ = member(env, room, "Quinn Member")
        a.send(dict(type="set_password", password=pw))
        for w in (a, b):
            st = state_of(w, password=True, locked=False, lobby=False)
            check(pw not in json.dumps(st), "meeting_state carries the password")
        h = env.redis.hgetall(f"sl:{{{next(iter(ct.redis_meetings(env)))}}}:meeting")
        check(h.get("password", "").startswith("$argon2id$v=19$m=19456,t=2,p=1$"),
              f"Redis meeting hash: {h}")
        c = env.ws()
        c.send(join_msg(room, "Rex Guesser"))
        c.expect_error("password_required")
        c.send(join_msg(room, "Rex Guesser", password="wrong horse"))
        c.expect_error("password_required")
        c.send(join_msg(room, "Rex Guesser", password=pw))
        expect_type(c, "joined", role="participant")
        expect_type(c, "offer")
        # A moderator changes it: the old one no longer works.
        a.send(dict(type="set_password", password="second-pw-42"))
        SECRETS.add("second-pw-42")
        state_of(a, password=True)
        d = env.ws()
        d.send(join_msg(room, "Sid Late", password=pw))
        d.expect_error("password_required")
        a.send(dict(type="set_password", password=None))
        state_of(a, password=False)
        h = env.redis.hgetall(f"sl:{{{next(iter(ct.redis_meetings(env)))}}}:meeting")
        check("password" not in h, f"the hash stays in Redis after removal: {h}")
        d.send(join_msg(room, "Sid Late"))
        expect_type(d, "joined")

def case_password_guessing():
    """1,000 wrong passwords from one address are throttled (exponential
    backoff, few argon2 checks), and the right one still works afterwards."""
    with Env(args=FLOOD + ("--password-backoff-max", "2")) as env:
        room, pw = "Guess-Room-Walnut-Ember", "the-right-one-93"
        SECRETS.add(pw)
        a, _ = member(env, room, "Gus Moderator")
        a.send(dict(type="set_password", password=pw))
        state_of(a, password=True)
        g = env.ws()
        counts, t0 = {}, time.monotonic()
        for n in range(1000):
            g.send(join_msg(room, "Gil Guesser", password=f"guess-{n}"))
            m = g.recv(10)
            check(m and m.get("type") == "error", f"guess {n}: {m}")
            counts[m["code"]] = counts.get(m["code"], 0) + 1
            if m["code"] == "throttled":
                check(isinstance(m.get("retry_after"), int) and 1 <= m["retry_after"] <= 2,
                      f"retry_after {m}")
        took = time.monotonic() - t0
        print(f"# 1000 wrong passwords in {took:.1f} s: {counts}", flush=True)
        check(set(counts) <= {"password_required", "throttled"}, f"codes {counts}")
        # At most the free tries plus one check per backoff interval were hashed.
        check(counts.get("password_required", 0) <= 3 + int(took / 1) + 2,
              f"too many passwords were checked: {counts} in {took:.1f} s")
        check(counts.get("throttled", 0) >= 900, f"guesses were not throttled: {counts}")
        time.sleep(2.1)
        g.send(join_msg(room, "Gil Guesser", password=pw))
        expect_type(g, "joined")

def case_lock():
    with Env(args=FLOOD) as env:
        room = "Lock-Room-Garnet-Pylon"
        a, _ = member(env, room, "Lou Moderator")
        b, _ = member(env, room, "Max Member")
        a.send(dict(type="lock", locked=True))
        state_of(a, locked=True)
        state_of(b, locked=True)
        c = env.ws()
        c.send(join_msg(room, "Ned Late"))
        m = c.expect_error("locked")
        check("Lou" not in m["message"] and "Max" not in m["message"], f"{m}")
        a.send(dict(type="lock", locked=False))
        state_of(a, locked=False)
        c.send(join_msg(room, "Ned Late"))
        expect_type(c, "joined")

def case_lobby():
    """Lobby entries wait (lobby_wait) and learn nothing; moderators see
    lobby_update; admit/deny; no endpoint for a waiting entry; a password
    skips the lobby; setting a password admits nobody; lobby off admits."""
    with Env(args=FLOOD + ("--lobby-timeout", "10")) as env:
        room, pw = "Lobby-Room-Quartz-Heron", "lobby-pw-5521"
        SECRETS.add(pw)
        a, _ = member(env, room, "Olga Moderator")
        a.send(dict(type="lobby", enabled=True))
        state_of(a, lobby=True)
        mark = env.dp.mark()
        b = env.ws()
        b.send(join_msg(room, "Pia Waiting"))
        m = expect_type(b, "lobby_wait")
        check(set(m) == {"type"}, f"lobby_wait carries {m}")
        up = expect_type(a, "lobby_update")
        check([e["name"] for e in up["waiting"]] == ["Pia Waiting"], f"{up}")
        pid = up["waiting"][0]["id"]
        for bad in (dict(type="answer", sdp="v=0", version=1), dict(type="lock", locked=False),
                    dict(type="mute", participant=pid, kind="audio")):
            b.send(bad)
            b.expect_error("not_joined")
        # Setting a password admits nobody.
        a.send(dict(type="set_password", password=pw))
        state_of(a, password=True)
        check([m for m in msgs(b, 0.7)] == [], "a lobby entry received something")
        # A password skips the lobby; without one the lobby is the way in.
        c, _ = member(env, room, "Quin Password", password=pw)
        d = env.ws()
        d.send(join_msg(room, "Rae Denied"))
        expect_type(d, "lobby_wait")
        up = expect_type(a, "lobby_update")
        check([e["name"] for e in up["waiting"]] == ["Pia Waiting", "Rae Denied"], f"{up}")
        a.send(dict(type="deny", participant=up["waiting"][1]["id"]))
        expect_type(d, "denied", reason="denied")
        check(d.closes(3), "a denied entry stays connected")
        up = expect_type(a, "lobby_update")
        check([e["name"] for e in up["waiting"]] == ["Pia Waiting"], f"after deny: {up}")
        a.send(dict(type="admit", participant="0123456789abcdef"))
        a.expect_error("no_participant")
        a.send(dict(type="admit", participant=pid))
        j = expect_type(b, "joined", role="participant")
        expect_type(b, "offer")
        check(j["participant"] != pid, "the lobby id became the participant id")
        # Nothing reached the entry before it was admitted: no names, count,
        # settings or password.
        before = received_by(b)[:received_by(b).index(j)]
        check([m["type"] for m in before] == ["lobby_wait"] + ["error"] * 3,
              f"a lobby entry received {[m['type'] for m in before]}")
        eps = [m for m in env.dp.msgs[mark:] if m["type"] == ct.T_EP_ADD]
        check(not eps, "an endpoint was added while only lobby entries and joins waited")
        # Lobby off: with a password set, waiters are turned away; without, let in.
        e = env.ws()
        e.send(join_msg(room, "Sam Waits"))
        expect_type(e, "lobby_wait")
        a.send(dict(type="lobby", enabled=False))
        expect_type(e, "denied", reason="password_required")
        state_of(a, lobby=False, password=True)
        a.send(dict(type="set_password", password=None))
        state_of(a, password=False)
        a.send(dict(type="lobby", enabled=True))
        state_of(a, lobby=True)
        f = env.ws()
        f.send(join_msg(room, "Tia Opens"))
        expect_type(f, "lobby_wait")
        a.send(dict(type="lobby", enabled=False))
        expect_type(f, "joined")
        state_of(a, lobby=False)
        # A lobby entry that waits too long is told and closed.
        a.send(dict(type="lobby", enabled=True))
        t = env.ws()
        t.send(join_msg(room, "Uma Timeout"))
        expect_type(t, "lobby_wait")
        expect_type(t, "denied", timeout=14, reason="timeout")
        check(t.closes(3), "a timed-out entry stays connected")
        # A lobby entry that leaves is removed from the list.
        v = env.ws()
        v.send(join_msg(room, "Vic Leaves"))
        expect_type(v, "lobby_wait")
        v.send({"type": "leave"})
        expect_type(v, "left")
        wait_until(lambda: any(m["type"] == "lobby_update" and m["waiting"] == []
                               for m in msgs(a, 0.3)), 3, "the list keeps an entry that left")

def case_lobby_ended_with_meeting():
    """When the last member leaves, entries waiting in the lobby get `ended`."""
    with Env(args=FLOOD) as env:
        room = "LobbyEnd-Room-Cinder-Moss"
        a, _ = member(env, room, "Wes Alone")
        a.send(dict(type="lobby", enabled=True))
        state_of(a, lobby=True)
        b = env.ws()
        b.send(join_msg(room, "Xia Waits"))
        expect_type(b, "lobby_wait")
        a.send({"type": "leave"})
        expect_type(b, "ended")
        check(b.closes(3), "a lobby entry of an ended meeting stays connected")
        wait_until(lambda: not env.redis.keys(), 3, f"Redis keys left: {env.redis.keys()}")

def media_member(env, room, name):
    """A participant past ICE and DTLS with an installed endpoint."""
    mark = env.dp.mark()
    s = ct.media_session(env, room, name)
    ep = env.dp.wait(is_type(ct.T_EP_ADD), 10, mark)
    check(ep is not None, "no EP_ADD")
    expect_type(s["ws"], "participants")
    return s, ep

def case_mute_kick_grant():
    """mute reaches the dataplane at once and every member; only the
    participant unmutes itself; kick removes the endpoint, tells and closes;
    a kicked participant meets the lobby on its way back; grant_moderator."""
    with Env(args=FLOOD) as env:
        room = "Moderate-Room-Lagoon-Basil"
        sa, epa = media_member(env, room, "Yan Moderator")
        sb, epb = media_member(env, room, "Zoe Member")
        a, b = sa["ws"], sb["ws"]
        ida, idb = sa["joined"]["participant"], sb["joined"]["participant"]
        check(sa["joined"]["role"] == "moderator", f"{sa['joined']}")
        mark = env.dp.mark()
        a.send(dict(type="mute", participant=idb, kind="audio"))
        mt = env.dp.wait(is_type(ct.T_MUTE), 3, mark)
        check(mt is not None, "no MUTE reached the dataplane")
        check((mt["ep_id"], mt["kind"], mt["muted"]) == (epb["ep_id"], 1, 1), f"MUTE {mt}")
        for w in (a, b):
            expect_type(w, "muted", participant=idb, kind="audio", by=ida, muted=True)
        a.send(dict(type="mute", participant=idb, kind="audio", muted=False))
        a.expect_error("not_allowed")
        b.send(dict(type="mute", participant=ida, kind="video"))
        b.expect_error("not_moderator")
        mark = env.dp.mark()
        b.send(dict(type="mute", participant=idb, kind="audio", muted=False))
        expect_type(a, "muted", participant=idb, by=idb, muted=False)
        mt = env.dp.wait(is_type(ct.T_MUTE), 3, mark)
        check(mt is not None and (mt["ep_id"], mt["kind"], mt["muted"]) == (epb["ep_id"], 1, 0),
              f"the unmute did not reach the dataplane: {mt}")
        a.send(dict(type="mute", participant="feedfacefeedface", kind="audio"))
        a.expect_error("no_participant")
        a.send(dict(type="grant_moderator", participant=idb))
        expect_type(b, "role", participant=idb, role="moderator")
        expect_type(a, "role", participant=idb, role="moderator")
        c, jc = member(env, room, "Abe Kicked")
        mark = env.dp.mark()
        b.send(dict(type="lobby", enabled=True))
        state_of(a, lobby=True)
        b.send(dict(type="kick", participant=jc["participant"]))
        expect_type(c, "kicked", by=idb)
        check(c.closes(3), "a kicked participant stays connected")
        check(c.c.close_code == 1000, f"close code after kicked: {c.c.close_code}")
        # Its media endpoint and keys go with it (a member with an endpoint).
        mark = env.dp.mark()
        b.send(dict(type="kick", participant=ida))
        expect_type(a, "kicked", by=idb)
        rm = env.dp.wait(is_type(ct.T_EP_REMOVE), 3, mark)
        check(rm is not None and rm["ep_id"] == epa["ep_id"], f"no EP_REMOVE of the kicked: {rm}")
        c2 = env.ws()
        c2.send(join_msg(room, "Abe Kicked"))
        expect_type(c2, "lobby_wait")

def case_end_meeting():
    """end_meeting: every member and lobby entry is told and closed, the
    dataplane room and every Redis key go at once, and the name afterwards is
    a new meeting without a password."""
    with Env(args=FLOOD) as env:
        room, pw = "End-Room-Saffron-Delta", "end-pw-777"
        SECRETS.add(pw)
        a, ja = member(env, room, "Bo Moderator")
        b, _ = member(env, room, "Cal Member", )
        a.send(dict(type="set_password", password=pw))
        state_of(a, password=True)
        a.send(dict(type="lobby", enabled=True))
        state_of(a, lobby=True)
        w = env.ws()
        w.send(join_msg(room, "Dot Waiting"))
        expect_type(w, "lobby_wait")
        check(env.redis.keys(), "the meeting is not in Redis")
        mark = env.dp.mark()
        a.send(dict(type="end_meeting"))
        for x in (a, b, w):
            expect_type(x, "ended")
            check(x.closes(3), "a connection stays open after end_meeting")
            check(x.c.close_code == 1000, f"close code after ended: {x.c.close_code}")
        check(env.dp.wait(is_type(ct.T_ROOM_REMOVE), 3, mark) is not None, "no ROOM_REMOVE")
        wait_until(lambda: not env.redis.keys(), 3, f"Redis keys left: {env.redis.keys()}")
        n, jn = member(env, room, "Bo Moderator")
        check(jn["meeting"] != ja["meeting"] and jn["role"] == "moderator" and
              jn["meeting_state"]["password"] is False, f"{jn}")

def case_last_leave_forgets():
    """After the last leave Redis holds no key of the meeting (password hash
    included) and a join of the same name needs no password."""
    with Env(args=FLOOD) as env:
        room, pw = "Forget-Room-Hazel-Onyx", "forget-pw-31"
        SECRETS.add(pw)
        a, ja = member(env, room, "Eli Moderator")
        a.send(dict(type="set_password", password=pw))
        state_of(a, password=True)
        a.send(dict(type="lock", locked=True))
        state_of(a, locked=True)
        a.send({"type": "leave"})
        expect_type(a, "left")
        wait_until(lambda: not env.redis.keys(), 3, f"Redis keys left: {env.redis.keys()}")
        _, jn = member(env, room, "Eli Moderator")
        check(jn["meeting_state"] == dict(locked=False, lobby=False, password=False,
                                          permissions=dict(chat="all", screenshare="all")), f"{jn}")

def make_key():
    path = os.path.join(KEYDIR, "hs256.key")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
    return path

def token(room, moderator=False, name=None, ttl=600, key=None, extra=()):
    args = [os.path.join(SRCDIR, "scripts", "make-jwt"), "--key", key or make_key(), "--room", room,
            "--ttl", str(ttl), *extra]
    if moderator:
        args.append("--moderator")
    if name:
        ct.NAMES.add(name)
        args += ["--name", name]
    t = subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()
    SECRETS.add(t)
    return t

def case_token_wait():
    """--moderators token --guests wait: a token with moderator: true makes a
    moderator (and its name claim the display name), a guest waits in the
    lobby even of a meeting it creates, a moderator admits it; bad tokens are
    refused; a token moderator gets into a locked meeting."""
    with Env(args=FLOOD + ("--moderators", "token", "--guests", "wait", "--jwt-key", make_key())) as env:
        room = "Token-Room-Aspen-Cobalt"
        g = env.ws()
        g.send(join_msg(room, "Gia Guest"))
        expect_type(g, "lobby_wait")
        check(env.redis.keys(), "the meeting of a waiting guest is not in Redis")
        m = env.ws()
        m.send(join_msg(room, "ignored name", token=token(room, moderator=True, name="Hal Token")))
        jm = expect_type(m, "joined", role="moderator")
        up = expect_type(m, "lobby_update")
        check([e["name"] for e in up["waiting"]] == ["Gia Guest"], f"{up}")
        m.send(dict(type="admit", participant=up["waiting"][0]["id"]))
        expect_type(g, "joined", role="participant")
        p = env.ws()
        p.send(join_msg(room, "Ivy Plain", token=token(room, moderator=False)))
        expect_type(p, "joined", role="participant")
        for bad in (token("Another-Room-Name", moderator=True), token(room, ttl=-120),
                    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." +
                    "eyJyb29tIjoiKiIsIm1vZGVyYXRvciI6dHJ1ZSwiZXhwIjo0MTAyNDQ0ODAwfQ.",
                    "not-a-token"):
            SECRETS.add(bad)
            x = env.ws()
            x.send(join_msg(room, "Jon Bad", token=bad))
            x.expect_error("bad_token")
        m.send(dict(type="lock", locked=True))
        state_of(m, locked=True)
        y = env.ws()
        y.send(join_msg(room, "Kim Guest"))
        y.expect_error("locked")
        z = env.ws()
        z.send(join_msg(room, None, token=token(room, moderator=True, name="Lee Token")))
        expect_type(z, "joined", role="moderator")
        # No automatic promotion in token mode.
        m.send({"type": "leave"})
        z.send({"type": "leave"})
        check(not [x for x in msgs(g, 1.0) if x["type"] == "role"], "a guest was promoted")

def case_token_deny():
    with Env(args=FLOOD + ("--moderators", "token", "--guests", "deny", "--jwt-key", make_key())) as env:
        room = "Deny-Room-Fennel-Slate"
        g = env.ws()
        g.send(join_msg(room, "Mia Guest"))
        g.expect_error("auth_required")
        check(env.redis.keys() == [], "a refused guest created a meeting")
        m = env.ws()
        m.send(join_msg(room, "Ned Token", token=token(room, moderator=True)))
        expect_type(m, "joined", role="moderator")

def case_tokens_off():
    """Without --jwt-key a token is refused with bad_token."""
    with Env(args=FLOOD) as env:
        w = env.ws()
        w.send(join_msg("NoToken-Room-Ivory-Finch", "Oz Token", token="a.b.c"))
        w.expect_error("bad_token")

def case_weak_names():
    """--min-room-name-bits: creating a meeting of a weak name fails with
    weak_room_name; a strong name works; the check applies only to new meetings."""
    with Env(args=FLOOD + ("--min-room-name-bits", "50")) as env:
        for room in ("meeting123", "standup", "1999-07-14", "123456"):
            w = env.ws()
            w.send(join_msg(room, "Pat Weak"))
            w.expect_error("weak_room_name")
        check(env.redis.keys() == [], "a refused weak name created a meeting")
        member(env, "CobaltMarshVelvetPlungeQuorumTidal", "Pat Strong")

def case_close_codes():
    """The server closes with a close frame and the documented code: 1000
    after `left` and fatal errors, 1009 after `too_large` (it used to drop
    the TCP connection without one: 1006 at the client)."""
    with Env() as env:
        w = env.ws()
        w.send("x" * (300 * 1024))
        w.expect_error("too_large", fatal=True)
        check(w.closes(3) and w.c.close_code == 1009, f"after too_large: {w.c.close_code}")
        v = env.ws()
        v.send({"type": "leave"})
        v.expect_error("not_joined")
        member(env, "Close-Room-Velvet-Quail", "Cora Close")
        u, _ = member(env, "Close-Room-Velvet-Quail", "Dan Close")
        u.send({"type": "leave"})
        expect_type(u, "left")
        check(u.closes(3) and u.c.close_code == 1000, f"after left: {u.c.close_code}")

TURN_SECRET = "turn-Secret-Quokka-7731"
TURN_URIS = ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"]

def case_turn_credentials():
    """--turn-uri and --turn-secret-file: joined carries iceServers in the
    RTCIceServer shape with TURN REST API credentials (username
    "<now + ttl>:<participant id>", credential base64(HMAC-SHA1(secret,
    username)), as coturn's use-auth-secret checks it); without the options
    there is no iceServers key."""
    import base64, hashlib, hmac
    SECRETS.add(TURN_SECRET)
    d = tempfile.mkdtemp(prefix="slturn-")
    try:
        f = os.path.join(d, "turn-secret")
        with open(f, "w") as fh:
            fh.write(TURN_SECRET + "\n")
        args = FLOOD + ("--turn-uri", TURN_URIS[0], "--turn-uri", TURN_URIS[1],
                        "--turn-secret-file", f, "--turn-ttl", "600")
        with Env(args=args) as env:
            for name in ("Tia Turn", "Uli Turn"):
                t0 = time.time()
                _, j = member(env, "Turn-Room-Amber-Heron", name)
                t1 = time.time()
                ice = j.get("iceServers")
                check(isinstance(ice, list) and len(ice) == 1, f"joined: iceServers {ice!r}")
                srv = ice[0]
                check(set(srv) == {"urls", "username", "credential"}, f"iceServers[0]: {srv}")
                check(srv["urls"] == TURN_URIS, f"iceServers urls: {srv['urls']}")
                exp, _, pid = srv["username"].partition(":")
                check(pid == j["participant"], f"username {srv['username']!r} is not <t>:<id>")
                check(int(t0) + 600 - 2 <= int(exp) <= t1 + 600 + 2,
                      f"username expiry {exp} is not now + 600 ({t0:.0f})")
                want = base64.b64encode(hmac.new(TURN_SECRET.encode(), srv["username"].encode(),
                                                 hashlib.sha1).digest()).decode()
                check(srv["credential"] == want, f"credential {srv['credential']!r} != {want!r}")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    with Env(args=FLOOD) as env:
        _, j = member(env, "NoTurn-Room-Amber-Heron", "Vic Turn")
        check("iceServers" not in j, f"iceServers without --turn-uri: {j}")

def case_turn_options_refused():
    """Bad TURN options stop the control plane with a message naming the
    option and never the secret."""
    d = tempfile.mkdtemp(prefix="slturn-")
    try:
        f = os.path.join(d, "turn-secret")
        with open(f, "w") as fh:
            fh.write(TURN_SECRET + "\n")
        empty = os.path.join(d, "empty")
        open(empty, "w").close()
        ok = ("--turn-uri", TURN_URIS[0])
        bad = [(("--turn-uri", "stun:turn.example.org:3478", "--turn-secret", TURN_SECRET),
                "--turn-uri"),
               (("--turn-uri", "turn:turn.example.org:3478?transport=sctp",
                 "--turn-secret-file", f), "--turn-uri"),
               (("--turn-uri", "turn:turn.example.org:99999", "--turn-secret-file", f),
                "--turn-uri"),
               (("--turn-uri", "turn:", "--turn-secret-file", f), "--turn-uri"),
               (tuple(x for i in range(9) for x in ("--turn-uri", TURN_URIS[0])) +
                ("--turn-secret-file", f), "--turn-uri"),
               (ok + ("--turn-secret", TURN_SECRET, "--turn-secret-file", f), "--turn-secret"),
               (("--turn-secret", TURN_SECRET), "--turn-secret"),
               (("--turn-secret-file", f), "--turn-secret-file"),
               (ok, "--turn-uri"),
               (ok + ("--turn-secret-file", empty), "--turn-secret-file"),
               (ok + ("--turn-secret-file", os.path.join(d, "missing")), "--turn-secret-file"),
               (ok + ("--turn-secret", TURN_SECRET, "--turn-ttl", "59"), "--turn-ttl"),
               (ok + ("--turn-secret", TURN_SECRET, "--turn-ttl", "604801"), "--turn-ttl")]
        for args, opt in bad:
            r = subprocess.run([ct.CP_BIN, "--state-dir", os.path.join(d, "state"), *args],
                               capture_output=True, text=True, timeout=10)
            check(r.returncode != 0, f"{args}: exit {r.returncode}")
            check(opt in r.stderr, f"{args}: {opt} not named: {r.stderr!r}")
            check(TURN_SECRET not in r.stderr + r.stdout, f"{args}: the secret was echoed")
        # Within range, a --config file works too (and does not start: no dataplane).
        conf = os.path.join(d, "cp.conf")
        with open(conf, "w") as fh:
            fh.write(f"turn-uri = {TURN_URIS[1]}\nturn-secret-file = {f}\nturn-ttl = 60\n")
        r = subprocess.run([ct.CP_BIN, "--config", conf, "--turn-ttl", "604800", "--help"],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 0 and "--turn-secret-file" in r.stdout, "--help with TURN options")
    finally:
        shutil.rmtree(d, ignore_errors=True)

def case_no_secrets_anywhere():
    """No message any client received, no log line and no Redis value held a
    password or a token; the logs hold no room or display names."""
    text = json.dumps([m for _, m in TRAFFIC])
    for s in SECRETS:
        check(s not in text, f"a message carried the secret {s[:6]}...")
    logs = "".join(ct.STDERR_LOGS)
    check(logs, "no control plane stderr was captured")
    for word in sorted(SECRETS | ct.ROOM_NAMES | ct.NAMES):
        check(word not in logs, f"the control plane logged {word[:12]!r}")

CASES = [("check_name and name_strength", case_check_name),
         ("check_name off the loop, bounded per client", case_check_name_offloaded),
         ("roles: first", case_roles_first), ("roles: everyone", case_roles_everyone),
         ("passwords", case_password), ("1,000 wrong passwords", case_password_guessing),
         ("lock", case_lock), ("lobby", case_lobby),
         ("lobby entries when the meeting ends", case_lobby_ended_with_meeting),
         ("mute, kick, grant_moderator", case_mute_kick_grant),
         ("end_meeting", case_end_meeting), ("the last leave forgets", case_last_leave_forgets),
         ("tokens: moderators token, guests wait", case_token_wait),
         ("tokens: guests deny", case_token_deny), ("tokens refused without a key", case_tokens_off),
         ("weak room names", case_weak_names), ("close frames and codes", case_close_codes),
         ("TURN credentials in joined", case_turn_credentials),
         ("bad TURN options refused", case_turn_options_refused),
         ("no secret or name in messages and logs", case_no_secrets_anywhere)]

def main(program="controlplane_entry_test.py", cases=None):
    """Run `cases` (default: this file's) against the control plane named on
    the command line; SL_CASES=1,3 picks some. Shared with
    controlplane_meeting_test.py."""
    global KEYDIR, SRCDIR
    if len(sys.argv) != 3:
        sys.exit(f"usage: {program} PATH/TO/sluice-controlplane SRCDIR")
    ct.CP_BIN, ct.SRCDIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    SRCDIR = ct.SRCDIR
    top = tempfile.mkdtemp(prefix="slentry-")
    KEYDIR = top
    ct.LOOP = ct.AsyncLoop()
    passed = failed = 0
    try:
        ct.CERT, ct.OTHER_CERT = ct.make_cert(top, "client"), ct.make_cert(top, "other")
        only = os.environ.get("SL_CASES")
        want = {int(x) for x in only.split(",")} if only else None
        passed, failed = ct.run_cases(cases or CASES, lambda n, name: want is None or n in want)
    finally:
        ct.LOOP.stop()
        shutil.rmtree(top, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

if __name__ == "__main__":
    main()
