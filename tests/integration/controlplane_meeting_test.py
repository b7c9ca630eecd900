#!/usr/bin/python3
"""controlplane_meeting_test.py - inside a meeting: chat, permissions,
screen sharing, p2p, dominant speaker and speaker stats.

Usage: controlplane_meeting_test.py PATH/TO/sluice-controlplane SRCDIR

The chat of docs/signalling.md (public and private `chat`, `chat_history`
for late joiners, `permissions`) through the real control plane, Redis and
the fake dataplane of controlplane_test.py, with the helpers of
controlplane_entry_test.py. Chat texts must never reach the logs or Redis,
and a meeting's history must be gone with it. The `p2p` relay of
one-to-one meetings: only between the two connected members, only with
--p2p on, payload an object of at most 16 KiB, rate-limited, never logged. Audio levels are injected as the dataplane's
SL_EV_AUDIO_LEVEL events. SL_CASES=1,3 runs only those
cases. Output: "ok N - name" / "not ok N - name: why".
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import controlplane_entry_test as et  # noqa: E402 (records every message received)
import controlplane_test as ct  # noqa: E402

import json  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from controlplane_test import Env, check  # noqa: E402
from controlplane_entry_test import member, join_msg, msgs, expect_type, state_of  # noqa: E402
from controlplane_entry_test import media_member  # noqa: E402

TEXTS = set()  # chat texts sent: never in a log or Redis

def say(w, text, to=None):
    TEXTS.add(text)
    m = dict(type="chat", text=text)
    if to:
        m["to"] = to
    w.send(m)

def chats(w, t=0.5):
    return [m for m in msgs(w, t) if m["type"] == "chat"]

def check_chat(m, frm, name, text, private):
    check(set(m) == {"type", "id", "from", "name", "text", "private", "ts"}, f"chat members: {m}")
    check((m["from"], m["name"], m["text"], m["private"]) == (frm, name, text, private), f"{m}")
    check(isinstance(m["id"], str) and m["id"] and isinstance(m["ts"], int) and
          0 <= m["ts"] < 600000, f"id/ts: {m}")

def case_public_private():
    """Public messages reach every member verbatim (markup is text), private
    ones only the sender and the recipient; ts counts from the meeting's
    start; a private message to someone not in the meeting is refused."""
    with Env(args=ct.FLOOD) as env:
        room = "Chat-Room-Harbor-Lichen"
        a, ja = member(env, room, "Ann Chat")
        b, jb = member(env, room, "Bob Chat")
        c, jc = member(env, room, "Cat Chat")
        for w in (a, b, c):
            msgs(w, 0.3)
        xss = '<img src=x onerror="window.__xss=1"> & "quotes" \u00e9\u6f22'
        say(a, xss)
        for w in (a, b, c):
            got = chats(w)
            check(len(got) == 1, f"public chat: {got}")
            check_chat(got[0], ja["participant"], "Ann Chat", xss, False)
        say(b, "just for cat", to=jc["participant"])
        got_b, got_c, got_a = chats(b), chats(c), chats(a, 0.3)
        check(len(got_b) == 1 and len(got_c) == 1 and got_b[0] == got_c[0], f"{got_b} {got_c}")
        check_chat(got_c[0], jb["participant"], "Bob Chat", "just for cat", True)
        check(got_a == [], f"a private message reached a third member: {got_a}")
        say(b, "to nobody", to="feedfacefeedface")
        b.expect_error("no_participant")
        b.send(dict(type="chat", text="x" * 4097))
        b.expect_error("bad_field")
        say(b, "y" * 4096)
        check(len(chats(a)) == 1, "a 4096-byte message did not arrive")

def case_history():
    """A late joiner gets chat_history right after joined: the public messages
    (not the private ones), oldest first, at most the last 500; a lobby entry
    gets nothing until admitted."""
    with Env(args=ct.FLOOD + ("--chat-burst", "1000", "--chat-rate", "60000")) as env:
        room = "History-Room-Fjord-Tansy"
        a, ja = member(env, room, "Dee History")
        b, jb = member(env, room, "Eli History")
        for n in range(510):
            say(a, f"public message number {n}")
        say(a, "private to eli", to=jb["participant"])
        msgs(a, 0.5)
        msgs(b, 0.5)
        a.send(dict(type="lobby", enabled=True))
        state_of(a, lobby=True)
        c = env.ws()
        c.send(join_msg(room, "Fay Waiting"))
        expect_type(c, "lobby_wait")
        up = expect_type(a, "lobby_update")
        say(a, "while fay waits")
        check(chats(c, 0.5) == [], "a lobby entry received a chat message")
        a.send(dict(type="admit", participant=up["waiting"][0]["id"]))
        seen = msgs(c, 1.0)
        types = [m["type"] for m in seen]
        check(types[:2] == ["joined", "chat_history"], f"after admission: {types}")
        hist = seen[1]["messages"]
        texts = [m["text"] for m in hist]
        check(len(hist) == 500, f"history holds {len(hist)} messages")
        check(texts[0] == "public message number 11" and texts[-1] == "while fay waits",
              f"history runs {texts[0]!r} .. {texts[-1]!r}")
        check("private to eli" not in texts, "a private message is in the history")
        check(all(m["private"] is False and m["type"] == "chat" for m in hist), "history entries")
        ids = [m["id"] for m in hist]
        check(len(set(ids)) == 500, "history ids repeat")
        ts = [m["ts"] for m in hist]
        check(ts == sorted(ts), "history ts go backwards")

def case_permissions_and_rate():
    """permissions: moderator only; with chat for moderators a participant's
    message is refused (not_moderator) and reaches no one; meeting_state
    carries permissions. The per-participant rate: --chat-burst at once, then
    throttled with retry_after."""
    with Env(args=ct.FLOOD + ("--chat-burst", "5", "--chat-rate", "6")) as env:
        room = "Perm-Room-Sorrel-Beacon"
        a, ja = member(env, room, "Gil Mod")
        b, jb = member(env, room, "Hal Part")
        check(ja["meeting_state"]["permissions"] == dict(chat="all", screenshare="all"),
              f"{ja['meeting_state']}")
        b.send(dict(type="permissions", chat="moderators"))
        b.expect_error("not_moderator")
        a.send(dict(type="permissions", chat="moderators"))
        for w in (a, b):
            st = state_of(w)
            check(st["permissions"] == dict(chat="moderators", screenshare="all"), f"{st}")
        say(b, "may I speak")
        b.expect_error("not_moderator")
        check(chats(a, 0.5) == [], "a refused chat reached someone")
        say(a, "moderators only now")
        check(len(chats(b)) == 1, "the moderator's chat did not arrive")
        a.send(dict(type="permissions", chat="all", screenshare="moderators"))
        st = state_of(b)
        check(st["permissions"] == dict(chat="all", screenshare="moderators"), f"{st}")
        results = []
        for n in range(7):
            say(b, f"burst {n}")
            m = b.recv(3)
            while m and m["type"] == "meeting_state":
                m = b.recv(3)
            results.append(m.get("code") or m["type"])
            if m.get("code") == "throttled":
                check(isinstance(m.get("retry_after"), int) and m["retry_after"] >= 1, f"{m}")
        check(results[:5] == ["chat"] * 5 and results[5:] == ["throttled"] * 2, f"{results}")

def case_forgotten():
    """After the last leave the chat is gone: a new meeting of the same name
    has an empty history; Redis never held a chat text."""
    with Env(args=ct.FLOOD) as env:
        room = "Forget-Chat-Room-Marram"
        a, _ = member(env, room, "Ivy Forget")
        say(a, "remember me not")
        chats(a)
        check(not any("remember me not" in json.dumps(env.redis.hgetall(k))
                      for k in env.redis.keys()), "a chat text is in Redis")
        a.send({"type": "leave"})
        expect_type(a, "left")
        b = env.ws()
        b.send(join_msg(room, "Ivy Forget"))
        expect_type(b, "joined")
        h = expect_type(b, "chat_history")
        check(h["messages"] == [], f"a new meeting of the name has history: {h}")

# ---------------------------------------------------------------- screen sharing

def answer_screen(ws, offer_msg, base):
    """Answer like a browser: audio and video sent from base and base+1; while
    the offer names publish.screen, the screen sent from base+2."""
    offer = ct.parse_offer(offer_msg["sdp"])
    secs = ct.make_answer(offer, ct.fingerprint(ct.CERT[0]), base).split("\r\nm=")
    screen = offer_msg["publish"].get("screen")
    for i, sec in enumerate(secs):
        if screen and f"\r\na=mid:{screen}\r\n" in sec:
            check("\r\na=sendonly" in sec, f"the screen section is not recvonly: {sec}")
            secs[i] = sec.rstrip("\r\n") + f"\r\na=ssrc:{base + 2} cname:x\r\n"
    ws.send(dict(type="answer", sdp="\r\nm=".join(secs), version=offer_msg["version"]))

def settle_screen(ws, base, seen=None, errors=False):
    """Answer every offer until none comes for 0.7 s. Returns the last offer,
    its sections {mid: (kind, direction, ssrc)}, and the other messages
    (errors among them only when errors is true)."""
    last, other = None, [] if seen is None else seen
    while (m := ws.recv(0.7)) is not None:
        check(errors or m.get("type") != "error", f"error during renegotiation: {m}")
        if m.get("type") == "offer":
            last = m
            answer_screen(ws, m, base)
        else:
            other.append(m)
    if last is None:
        check(errors, f"no offer came (ssrc base {base})")
        return None, {}, other
    secs = {}
    for sec in re.split(r"\r\n(?=m=)", last["sdp"])[1:]:
        mid = re.search(r"^a=mid:(\S+)", sec, re.M).group(1)
        ssrc = re.search(r"^a=ssrc:(\d+) ", sec, re.M)
        d = re.search(r"^a=(sendonly|recvonly|inactive|sendrecv)\r?$", sec, re.M).group(1)
        secs[mid] = (sec[2:7], d, int(ssrc.group(1)) if ssrc else None)
    return last, secs, other

def publisher(env, room, name):
    """A member that answers its offers itself (settle_screen): (ws, joined)."""
    w = env.ws()
    w.send(join_msg(room, name))
    return w, expect_type(w, "joined")

def screen_tracks(offer, pid):
    return [t for t in offer["tracks"] if t["participant"] == pid and t.get("label") == "screen"]

def case_screenshare():
    """screenshare: the sharer's offer grows a recvonly video section named by
    publish.screen; the others get the stream as a sendonly section of their
    own (a fresh SSRC) labelled "screen" in tracks; every member is told.
    Stopping makes it inactive everywhere; a second share reuses the section."""
    with Env(args=ct.FLOOD) as env:
        room = "Screen-Room-Otter-Gravel"
        a, ja = publisher(env, room, "Ada Screen")
        b, jb = publisher(env, room, "Ben Screen")
        pa, pb = ja["participant"], jb["participant"]
        settle_screen(b, 1200)
        settle_screen(a, 1100)
        b.send(dict(type="screenshare", enabled=True))
        seen_b = []
        offer_b, secs_b, _ = settle_screen(b, 1200, seen_b)
        mid = offer_b["publish"].get("screen")
        check(mid and mid not in ("0", "1"), f"publish: {offer_b['publish']}")
        check(secs_b[mid][:2] == ("video", "recvonly"), f"b's screen section: {secs_b[mid]}")
        check(offer_b["publish"]["audio"] == "0" and offer_b["publish"]["video"] == "1",
              f"publish: {offer_b['publish']}")
        check(dict(type="screenshare", participant=pb, enabled=True) in seen_b,
              f"b was not told: {seen_b}")
        seen_a = []
        offer_a, secs_a, _ = settle_screen(a, 1100, seen_a)
        check(dict(type="screenshare", participant=pb, enabled=True) in seen_a,
              f"a was not told: {seen_a}")
        st = screen_tracks(offer_a, pb)
        check(len(st) == 1 and st[0]["kind"] == "video", f"a's tracks: {offer_a['tracks']}")
        smid = st[0]["mid"]
        check(secs_a[smid][:2] == ("video", "sendonly") and
              secs_a[smid][2] not in (None, 1200, 1201, 1202, 1100, 1101, 1102),
              f"a's section for b's screen: {secs_a[smid]}")
        labels = sorted(t["label"] for t in offer_a["tracks"] if t["participant"] == pb)
        check(labels == ["camera", "microphone", "screen"], f"labels: {labels}")
        # Stop: inactive for a, inactive publish section for b, everyone told.
        b.send(dict(type="screenshare", enabled=False))
        seen_b = []
        offer_b2, secs_b2, _ = settle_screen(b, 1200, seen_b)
        check("screen" not in offer_b2["publish"] and secs_b2[mid][1] == "inactive",
              f"after stopping: {offer_b2['publish']} {secs_b2[mid]}")
        check(dict(type="screenshare", participant=pb, enabled=False) in seen_b, f"{seen_b}")
        offer_a2, secs_a2, _ = settle_screen(a, 1100)
        check(screen_tracks(offer_a2, pb) == [] and secs_a2[smid][1] == "inactive",
              f"a after b stopped: {offer_a2['tracks']} {secs_a2[smid]}")
        # Again: the same publish section; a gets a fresh SSRC for it.
        b.send(dict(type="screenshare", enabled=True))
        offer_b3, _, _ = settle_screen(b, 1200)
        check(offer_b3["publish"].get("screen") == mid, f"publish: {offer_b3['publish']}")
        offer_a3, secs_a3, _ = settle_screen(a, 1100)
        st3 = screen_tracks(offer_a3, pb)
        check(len(st3) == 1 and secs_a3[st3[0]["mid"]][2] != secs_a[smid][2],
              f"second share: {st3} {secs_a3}")
        b.send(dict(type="screenshare"))
        b.expect_error("bad_field")

def case_screenshare_permission():
    """permissions.screenshare "moderators": a participant's screenshare is
    refused with not_moderator (nothing is offered); turning it on stops the
    screens of participants who share; moderators still may. Turning sharing
    on and off is rate-limited (throttled)."""
    with Env(args=ct.FLOOD) as env:
        room = "Screen-Perm-Room-Basalt-Wren"
        a, ja = publisher(env, room, "Cy Mod")
        b, jb = publisher(env, room, "Di Part")
        pb = jb["participant"]
        settle_screen(b, 1200)
        settle_screen(a, 1100)
        b.send(dict(type="screenshare", enabled=True))
        settle_screen(b, 1200)
        offer_a, _, _ = settle_screen(a, 1100)
        check(len(screen_tracks(offer_a, pb)) == 1, f"a's tracks: {offer_a['tracks']}")
        a.send(dict(type="permissions", screenshare="moderators"))
        seen_b = []
        offer_b, secs_b, _ = settle_screen(b, 1200, seen_b)
        check(dict(type="screenshare", participant=pb, enabled=False) in seen_b,
              f"b's share was not stopped: {seen_b}")
        check("screen" not in offer_b["publish"], f"b still publishes: {offer_b['publish']}")
        offer_a, _, _ = settle_screen(a, 1100)
        check(screen_tracks(offer_a, pb) == [], f"a still gets b's screen: {offer_a['tracks']}")
        b.send(dict(type="screenshare", enabled=True))
        b.expect_error("not_moderator")
        check([m for m in msgs(b, 0.8) if m["type"] in ("offer", "screenshare")] == [],
              "a refused share changed something")
        # The moderator may; and its toggles are bounded: 8 sent at once (on,
        # off, ...) give 6 changes (the burst) and 'throttled' for the 7th;
        # the 8th (off) asks for the state a already has and is ignored. Sent
        # back to back so that a slow run does not refill the bucket (one
        # turn every 3 s) between them.
        for n in range(8):
            a.send(dict(type="screenshare", enabled=n % 2 == 0))
        _, _, seen = settle_screen(a, 1100, errors=True)
        changes = [m["enabled"] for m in seen if m["type"] == "screenshare"]
        codes = [m.get("code") for m in seen if m["type"] == "error"]
        check(changes == [True, False] * 3 and codes == ["throttled"],
              f"toggles: changes {changes}, errors {codes}")

P2P_SECRET = "candidate:1 1 udp 2122260223 10.77.66.55 54321 typ host"  # never in a log

# The fake dataplane sends no consent checks after the first: keep the
# members for as long as a slow (loaded, sanitized) run may take.
P2P_ARGS = ct.FLOOD + ("--consent-timeout", "300")

def p2p_msgs(w, t=0.5):
    return [m for m in msgs(w, t) if m["type"] == "p2p"]

def p2p_pair(env, room):
    """Two members past their handshake: (ws a, ws b, id a, id b)."""
    sa, _ = media_member(env, room, "Ona Direct")
    sb, _ = media_member(env, room, "Pia Direct")
    a, b = sa["ws"], sb["ws"]
    for w in (a, b):
        msgs(w, 0.3)
    return sa, sb, a, b, sa["joined"]["participant"], sb["joined"]["participant"]

def case_p2p_relay():
    """With exactly two connected members, p2p goes from one to the other
    verbatim (from, payload) and to no one else; joined says p2p: true;
    to yourself, to a stranger, to a member still in its handshake:
    no_participant; a payload that is no object or over 16 KiB: bad_field
    (16384 bytes pass); with a third connected member: p2p_unavailable."""
    with Env(args=P2P_ARGS) as env:
        room = "P2p-Room-Heron-Quartz"
        sa, sb, a, b, ida, idb = p2p_pair(env, room)
        check(sa["joined"].get("p2p") is True and sb["joined"].get("p2p") is True,
              f"joined p2p: {sa['joined']}")
        offer = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n",
                 "nested": {"list": [1, 2.5, None, True], "u": "\u00e9"}}
        a.send(dict(type="p2p", to=idb, payload=offer))
        got = p2p_msgs(b)
        check(got == [dict(type="p2p", **{"from": ida}, payload=offer)], f"relayed: {got}")
        check(p2p_msgs(a, 0.3) == [], "the sender got its own p2p back")
        cand = {"candidate": P2P_SECRET, "sdpMid": "0", "sdpMLineIndex": 0}
        b.send(dict(type="p2p", to=ida, payload=cand))
        got = p2p_msgs(a)
        check(got == [dict(type="p2p", **{"from": idb}, payload=cand)], f"relayed back: {got}")
        for bad in ({"to": ida}, {"to": "Zed", "payload": {}}, {"payload": {}}):
            b.send(dict(type="p2p", **bad))
            b.expect_error("bad_field")
        for to, code in ((idb, "no_participant"), ("feedfacefeedface", "no_participant")):
            b.send(dict(type="p2p", to=to, payload={}))
            b.expect_error(code)
        for payload in ("v=0", ["candidate"], 7, None, True):
            a.send(dict(type="p2p", to=idb, payload=payload))
            a.expect_error("bad_field")
        # The cap is on the compact serialization: {"x":"..."} is 8 bytes around the text.
        a.send(dict(type="p2p", to=idb, payload={"x": "y" * (16384 - 8)}))
        got = p2p_msgs(b)
        check(len(got) == 1 and len(got[0]["payload"]["x"]) == 16376, "16384 bytes not relayed")
        a.send(dict(type="p2p", to=idb, payload={"x": "y" * (16384 - 7)}))
        a.expect_error("bad_field")
        check(p2p_msgs(b, 0.3) == [], "an oversized payload was relayed")
        # A member still in its handshake does not count and cannot be reached.
        c, jc = member(env, room, "Quin Pending")
        a.send(dict(type="p2p", to=jc["participant"], payload={}))
        a.expect_error("no_participant")
        a.send(dict(type="p2p", to=idb, payload={"still": "two"}))
        check(len(p2p_msgs(b)) == 1, "p2p refused while the third member is pending")
        c.close()
        # A third connected member: no more p2p, for anyone.
        sc, _ = media_member(env, room, "Rue Third")
        for w in (a, b):
            msgs(w, 0.3)
        a.send(dict(type="p2p", to=idb, payload={"x": 1}))
        a.expect_error("p2p_unavailable")
        sc["ws"].send(dict(type="p2p", to=ida, payload={"x": 1}))
        sc["ws"].expect_error("p2p_unavailable")
        check(p2p_msgs(b, 0.3) == [] and p2p_msgs(a, 0.3) == [], "p2p relayed among three")
        # Back to two: relayed again.
        sc["ws"].send({"type": "leave"})
        expect_type(sc["ws"], "left")
        expect_type(a, "participants")
        a.send(dict(type="p2p", to=idb, payload={"x": 2}))
        check(len(p2p_msgs(b)) == 1, "p2p not relayed once back to two members")

def case_p2p_off():
    """--p2p off: joined says p2p: false and p2p is refused (p2p_off)."""
    with Env(args=P2P_ARGS + ("--p2p", "off")) as env:
        sa, sb, a, b, ida, idb = p2p_pair(env, "P2p-Off-Room-Linden-Moss")
        check(sa["joined"].get("p2p") is False, f"joined p2p: {sa['joined']}")
        a.send(dict(type="p2p", to=idb, payload={"type": "offer", "sdp": "v=0"}))
        a.expect_error("p2p_off")
        check(p2p_msgs(b, 0.5) == [], "p2p relayed with --p2p off")

def case_p2p_rate():
    """One participant's p2p messages: 100 at once, then throttled with
    retry_after (10 a second after that); refused ones reach no one."""
    with Env(args=P2P_ARGS) as env:
        sa, sb, a, b, ida, idb = p2p_pair(env, "P2p-Rate-Room-Alder-Flint")
        for n in range(110):
            a.send(dict(type="p2p", to=idb, payload={"n": n}))
        errs = [m for m in msgs(a, 1.0) if m["type"] == "error"]
        got = p2p_msgs(b, 1.0)
        check(100 <= len(got) <= 104, f"{len(got)} of 110 p2p messages sent at once were relayed")
        check(len(errs) == 110 - len(got) and all(e["code"] == "throttled" and
              isinstance(e.get("retry_after"), int) and e["retry_after"] >= 1 for e in errs),
              f"refusals: {errs[:3]}")
        check([m["payload"]["n"] for m in got] == list(range(len(got))), "relayed out of order")
# ------------------------------------------------------- dominant speaker

def speakers(w, t=0.3):
    return [m["participant"] for m in msgs(w, t) if m["type"] == "dominant_speaker"]

def keep_alive(env, eps):
    """MEDIA_ALIVE for every endpoint each second: consent outlives the case."""
    env.cleanups.append(ct.every(1.0, lambda: [env.dp.event(e, ct.EV_MEDIA_ALIVE) for e in eps]))

def drive(env, plan, secs, watch=None):
    """Every 0.2 s for secs: an audio-level event (level, 5 voiced packets)
    for each (ep, level) of plan. Returns [(t, participant)] of the
    dominant_speaker messages watch received meanwhile (t: s since start)."""
    got, start = [], time.monotonic()
    for n in range(round(secs / 0.2)):
        for ep, level in plan:
            env.dp.event(ep, ct.EV_AUDIO_LEVEL, level, 5)
        end = start + (n + 1) * 0.2
        while (left := end - time.monotonic()) > 0:
            m = watch.recv(left) if watch else time.sleep(left)
            if m and m["type"] == "dominant_speaker":
                got.append((time.monotonic() - start, m["participant"]))
    return got

def speaking_member(env, room, name):
    """media_member that stays: consent kept alive, re-offers answered."""
    s, ep = media_member(env, room, name)
    keep_alive(env, [ep["ep_id"]])
    w, recv = s["ws"], s["ws"].recv

    def answering_recv(timeout):
        m = recv(timeout)
        if m and m["type"] == "offer":
            w.send(dict(type="answer", version=m["version"], sdp=ct.make_answer(
                ct.parse_offer(m["sdp"]), ct.fingerprint(ct.CERT[0]))))
        return m
    w.recv = answering_recv
    return s, ep

def speaker_trio(env, room):
    ss, eps = [], []
    for name in ("Ada Speaker", "Ben Speaker", "Cy Speaker"):
        s, ep = speaking_member(env, room, name)
        ss.append(s)
        eps.append(ep["ep_id"])
    ws = [s["ws"] for s in ss]
    ids = [s["joined"]["participant"] for s in ss]
    for w in ws:
        msgs(w, 0.3)
    return ws, ids, eps

def case_dominant_speaker():
    """The first voice becomes dominant_speaker at once (every connected
    member is told once); a brief louder burst of another does not take
    over, sustained louder speech does after the hold time (1 s); silence
    keeps the last speaker; events of unknown endpoints or levels over 127
    change nothing; a member whose handshake completes is told the current
    speaker; the dominant speaker muting itself or leaving leaves none."""
    with Env(args=ct.FLOOD) as env:
        (a, b, c), (ida, idb, idc), (epa, epb, epc) = speaker_trio(env, "Speaker-Room-Osprey-Fen")
        env.dp.event(4242424, ct.EV_AUDIO_LEVEL, 10, 5)
        env.dp.event(epc, ct.EV_AUDIO_LEVEL, 128, 5)
        env.dp.event(epc, ct.EV_AUDIO_LEVEL, 90, 5)  # not voice
        env.dp.event(epc, ct.EV_AUDIO_LEVEL, 10, 0)  # no voiced packet
        check(speakers(a, 0.5) == [], "an unknown endpoint, level 128 or silence made a speaker")
        got = drive(env, [(epa, 40)], 0.6, a)
        check([p for _, p in got] == [ida] and got[0][0] < 0.5, f"first voice: {got}")
        for w in (b, c):
            check(speakers(w) == [ida], "a member was not told the first speaker once")
        # b 20 dB louder for 0.6 s, then 1 s of a alone: a stays.
        got = drive(env, [(epa, 40), (epb, 20)], 0.6, a) + drive(env, [(epa, 40)], 1.0, a)
        check(got == [], f"a brief louder burst took over: {got}")
        # b sustained louder: takes over after the hold time.
        got = drive(env, [(epa, 40), (epb, 20)], 2.4, a)
        check([p for _, p in got] == [idb], f"sustained louder speech: {got}")
        took = got[0][0]
        print(f"# take-over after {took:.2f} s of louder speech (hold time 1 s)", flush=True)
        check(0.8 <= took <= 1.9, f"took over after {took:.2f} s")
        for w in (b, c):
            check(speakers(w) == [idb], "a member was not told the new speaker")
        # silence (no events, then silent ones): b stays
        time.sleep(1.0)
        got = drive(env, [(epa, 127), (epc, 100)], 1.0, a)
        check(got == [], f"silence changed the speaker: {got}")
        d, _ = speaking_member(env, "Speaker-Room-Osprey-Fen", "Dot Latecomer")
        check(speakers(d["ws"], 1.0) == [idb], "a new member was not told the speaker")
        # b mutes itself: nobody is dominant; its reports count for nothing.
        b.send(dict(type="mute", participant=idb, kind="audio"))
        for w in (a, b, c):
            check(speakers(w, 0.5) == [None], "muting the speaker did not clear it")
        got = drive(env, [(epb, 5)], 1.6, a)
        check(got == [], f"a muted member became the speaker: {got}")
        # c takes over (no speaker: at once), then leaves: none again.
        got = drive(env, [(epc, 30)], 0.4, a)
        check([p for _, p in got] == [idc], f"c: {got}")
        c.send({"type": "leave"})
        expect_type(c, "left")
        check(speakers(a, 1.0) == [None], "the speaker's leaving did not clear it")
        got = drive(env, [(epc, 5)], 1.4, a)
        check(got == [], f"the endpoint of one who left became the speaker: {got}")

def stats_of(w, timeout=3.0):
    m = w.recv(timeout)
    while m and m["type"] in ("dominant_speaker", "participants", "offer", "chat_history"):
        m = w.recv(timeout)
    check(m is not None, "no answer to speaker_stats")
    return m

def case_speaker_stats():
    """speaker_stats answers the requester alone with every connected
    member's speaking time (by the clock: 0.2 s per voiced 0.2-s report;
    silent and muted reports add nothing; a burst of reports at one instant
    counts once); members who left are dropped; 5 requests at once, then
    throttled with retry_after; a join still in its handshake gets []."""
    with Env(args=ct.FLOOD) as env:
        room = "Stats-Room-Heron-Quill"
        (a, b, c), (ida, idb, idc), (epa, epb, epc) = speaker_trio(env, room)
        drive(env, [(epa, 30), (epb, 50), (epc, 100)], 2.0)
        drive(env, [(epb, 20)], 1.0)
        for _ in range(50):  # queued at once: one step at most
            env.dp.event(epc, ct.EV_AUDIO_LEVEL, 30, 5)
        msgs(a, 0.3)
        c.send({"type": "speaker_stats"})
        m = stats_of(c)
        check(m["type"] == "speaker_stats" and set(m) == {"type", "stats"}, f"{m}")
        st = {e["participant"]: e for e in m["stats"]}
        check(set(st) == {ida, idb, idc}, f"stats members: {m['stats']}")
        check(all(set(e) == {"participant", "name", "speaking_ms"} for e in m["stats"]), f"{m}")
        check((st[ida]["name"], st[idb]["name"]) == ("Ada Speaker", "Ben Speaker"), f"{m}")
        ms = {k: v["speaking_ms"] for k, v in st.items()}
        check(1700 <= ms[ida] <= 2300, f"a spoke 2 s: {ms}")
        check(2700 <= ms[idb] <= 3300, f"b spoke 3 s: {ms}")
        # One step (250 ms) plus the time the 50 took to arrive (a loaded
        # machine spreads them over some ms); counted per report it would be 10 s.
        check(0 < ms[idc] <= 500, f"c's 50 queued reports: {ms}")
        for w in (a, b):
            check(all(x["type"] != "speaker_stats" for x in msgs(w, 0.3)),
                  "stats reached someone who did not ask")
        results = []
        for _ in range(6):  # 2 a second, 5 at once
            a.send({"type": "speaker_stats"})
            m = stats_of(a)
            results.append(m.get("code") or m["type"])
            if m.get("code") == "throttled":
                check(m.get("retry_after") == 1, f"{m}")
        check(results == ["speaker_stats"] * 5 + ["throttled"], f"rate: {results}")
        b.send({"type": "leave"})
        expect_type(b, "left")
        time.sleep(2.6)
        c.send({"type": "speaker_stats"})
        m = stats_of(c)
        check({e["participant"] for e in m.get("stats", [])} == {ida, idc}, f"after b left: {m}")
        p = env.ws()
        p.send(join_msg(room, "Eve Pending"))
        expect_type(p, "joined")
        p.send({"type": "speaker_stats"})
        m = stats_of(p)
        check(m == {"type": "speaker_stats", "stats": []}, f"a pending join got {m}")

def case_logs_clean():
    logs = "".join(ct.STDERR_LOGS)
    check(logs, "no control plane stderr was captured")
    for word in sorted(TEXTS | ct.ROOM_NAMES | ct.NAMES | {P2P_SECRET, "10.77.66.55"}):
        check(word not in logs, f"the control plane logged {word[:20]!r}")

CASES = [("public and private chat", case_public_private), ("chat history", case_history),
         ("permissions and the chat rate", case_permissions_and_rate),
         ("the chat goes with the meeting", case_forgotten),
         ("screen sharing", case_screenshare),
         ("screen sharing permission and rate", case_screenshare_permission),
         ("p2p relay between the two members", case_p2p_relay),
         ("p2p refused with --p2p off", case_p2p_off), ("the p2p rate", case_p2p_rate),
         ("dominant speaker", case_dominant_speaker), ("speaker stats", case_speaker_stats),
         ("no chat text or p2p payload in the logs", case_logs_clean)]

if __name__ == "__main__":
    et.main("controlplane_meeting_test.py", CASES)
