#!/usr/bin/python3
"""controlplane_meeting_test.py - inside a meeting: chat, permissions,
dominant speaker and speaker stats.

Usage: controlplane_meeting_test.py PATH/TO/sluice-controlplane SRCDIR

The chat of docs/signalling.md (public and private `chat`, `chat_history`
for late joiners, `permissions`) through the real control plane, Redis and
the fake dataplane of controlplane_test.py, with the helpers of
controlplane_entry_test.py. Chat texts must never reach the logs or Redis,
and a meeting's history must be gone with it. Audio levels are injected as
the dataplane's SL_EV_AUDIO_LEVEL events. SL_CASES=1,3 runs only those
cases. Output: "ok N - name" / "not ok N - name: why".
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import controlplane_entry_test as et  # noqa: E402 (records every message received)
import controlplane_test as ct  # noqa: E402

import json  # noqa: E402
import time  # noqa: E402

from controlplane_test import Env, check  # noqa: E402
from controlplane_entry_test import member, join_msg, msgs, expect_type, state_of, media_member  # noqa: E402,E501

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
        check(0 < ms[idc] <= 250, f"c's 50 queued reports: {ms}")
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
    for word in sorted(TEXTS | ct.ROOM_NAMES | ct.NAMES):
        check(word not in logs, f"the control plane logged {word[:20]!r}")

CASES = [("public and private chat", case_public_private), ("chat history", case_history),
         ("permissions and the chat rate", case_permissions_and_rate),
         ("the chat goes with the meeting", case_forgotten),
         ("dominant speaker", case_dominant_speaker), ("speaker stats", case_speaker_stats),
         ("no chat text in the logs", case_logs_clean)]

if __name__ == "__main__":
    et.main("controlplane_meeting_test.py", CASES)
