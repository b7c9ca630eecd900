// End-to-end test of entry control and moderation (docs/signalling.md,
// "Entry control"), driven entirely through the web client's UI in
// headless Chromium, one context per person:
//   0. the room name is checked while it is typed: a weak name shows the
//      warning with its reasons; "Random name" (names.js) fills in five
//      words rated strong, and so is the test's (random) room name;
//   1. A creates the meeting (first joiner: moderator) and sets a password
//      through the moderation panel;
//   2. B joins without the password (prompt), with a wrong one (prompt
//      again), then with the right one on the same page: joined; A turns
//      the lobby on (with it on, a join without a password would have
//      waited there instead of getting the prompt);
//   3. C joins without a password, waits in the lobby (no media), A sees it
//      in the lobby list; A chats to the meeting (B gets it, C in the lobby
//      gets nothing); A admits C, whose chat_history (right after joined)
//      holds A's message; everyone decodes everyone's video and receives
//      their audio;
//   3b. chat: A sends `<img src=x onerror=...>` to everyone: B and C show
//      it as text (no <img> in the page, the handler never runs); B sends
//      C a private message: C gets it marked private, A does not; A lets
//      only moderators chat (and share screens): everyone's meeting_state
//      says so, B's next message is refused (B shows not_moderator) and
//      reaches nobody (checked once A's later message reached everyone);
//   4. A mutes B's video and audio: A and C stop receiving B (framesDecoded
//      and audio packetsReceived from B grow by at most a few packets in
//      flight over the window) while C keeps decoding A; B's page shows it
//      was muted by a moderator and its local tracks are disabled; B
//      unmutes itself and the others decode B again;
//   5. A kicks C: C shows the kicked screen and the server closes its
//      connection; A's and B's participant lists drop C; A locks the
//      meeting (C's new try is refused: locked) and makes B a moderator
//      (B gets the moderation panel);
//   6. A ends the meeting: A and B get the ended screen, Redis holds no
//      key (redis-cli on --redis-sock); the same name then joins with no
//      password, as a new meeting whose creator is its moderator and
//      whose chat is empty (the history went with the meeting).
// With --token (a server run with --moderators token --guests wait): M
// opens the page with ?token=TOKEN (the page moves it into the token field
// and out of the address bar) and joins as a moderator although a guest
// never would; G's forged token is refused (bad_token), then G without a
// token waits in the lobby as a guest and M denies it (G's denied screen);
// M leaves; check_name is throttled and the page waits retry_after.
// Prints one JSON line (the numbers measured) and exits 0 only on success.
//
//   node entry.mjs --url URL --room NAME --password PW --weak-room NAME
//        --redis-sock PATH --chat-tag TAG [--names a,b,c] [--frames 30] [--timeout-s 80]
//   (every chat text holds TAG, for entry.sh's log check)
//   node entry.mjs --url URL --room NAME --token JWT --redis-sock PATH [--names m,g]

import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { check, joinPage, launchChromium, openPage, pageSnapshot, sayChat, sleep, untilPage } from './lib.mjs';

const { values: v } = parseArgs({
  options: {
    url: { type: 'string' },
    room: { type: 'string' },
    password: { type: 'string' },
    token: { type: 'string' },
    'weak-room': { type: 'string' },
    'redis-sock': { type: 'string' },
    'chat-tag': { type: 'string' },
    names: { type: 'string', default: 'Ada Lovelace,Grace Hopper,Mary Jackson' },
    frames: { type: 'string', default: '30' },
    'timeout-s': { type: 'string', default: '80' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
for (const k of v.token ? ['url', 'room', 'redis-sock']
  : ['url', 'room', 'password', 'weak-room', 'redis-sock', 'chat-tag']) {
  if (!v[k]) {
    process.stderr.write(`entry.mjs: --${k} is required\n`);
    process.exit(2);
  }
}
const FRAMES = Number(v.frames);
const deadline = Date.now() + Number(v['timeout-s']) * 1000;
const result = { ok: false, steps: [], numbers: {}, error: null };
const t0 = Date.now();
const step = (what) => {
  result.steps.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
  process.stderr.write(`entry: ${what}\n`);
};

const left = () => Math.max(1000, deadline - Date.now());
const until = (p, fn, arg, what) => untilPage(p, fn, arg, what, Math.min(20000, left()));
const snap = (p) => p.page.evaluate(pageSnapshot);
// E2E_SCREENSHOTS=DIR keeps pictures of the pages at a few steps.
const shot = async (p, what) => {
  const d = process.env.E2E_SCREENSHOTS;
  if (d) await p.page.screenshot({ path: `${d}/${what}.png`, fullPage: true });
};
const state = (p) => p.page.evaluate(() => window.sluice.state);
function redisKeys() {
  const out = execFileSync('redis-cli', ['-s', v['redis-sock'], '--scan', '--pattern', 'sl:{*']);
  return out.toString().split('\n').filter((l) => l);
}

// Waits until `p` has decoded >= n frames and some audio from each of `from`.
async function decodes(p, from, n, what) {
  for (;;) {
    const s = await snap(p);
    if (from.every((q) => s.peers[q.id] && s.peers[q.id].frames >= n && s.peers[q.id].audio > 0)) {
      return s;
    }
    if (Date.now() > deadline) throw new Error(`${p.name}: ${what}: ${JSON.stringify(s.peers)}`);
    await sleep(250);
  }
}

const hasChat = (p, text, what) => until(p, (t) => window.sluice.chat.some((m) => m.text === t),
  text, what);
// What p received (window.sluice.chat) and shows (#chat-list), and whether
// anything from a chat text became markup or ran.
const chatOf = (p) => p.page.evaluate(() => ({
  msgs: window.sluice.chat,
  shown: [...document.querySelectorAll('#chat-list li')].map((li) => ({
    cls: li.className,
    time: li.querySelector('.chat-time').textContent,
    name: li.querySelector('.chat-name').textContent,
    mark: li.querySelector('.tag.private') ? li.querySelector('.tag.private').textContent : null,
    text: li.querySelector('.chat-text').textContent,
    elements: li.querySelector('.chat-text').children.length,
  })),
  imgs: document.querySelectorAll('img').length,
  xss: window.__xss,
}));

// framesDecoded / audio packets p has from q (0 when q's mids are gone).
const recv = (s, q) => (s.peers[q.id] ? { frames: s.peers[q.id].frames, audio: s.peers[q.id].audio }
  : { frames: 0, audio: 0 });

// --moderators token --guests wait: a token moderator, a guest denied.
async function tokenMode(browser, names) {
  const url = new URL(v.url);
  url.search = '?token=' + encodeURIComponent(v.token);
  url.hash = '#' + encodeURIComponent(v.room);
  const [M, G] = await Promise.all(names.slice(0, 2).map((n) => openPage(browser,
    { url: v.url, timeoutMs: left() }, n)));
  await M.page.goto(url.href);
  const page = await M.page.evaluate(() => ({
    search: location.search, token: document.getElementById('token').value,
    room: document.getElementById('room').value,
  }));
  check(page.search === '' && page.token === v.token && page.room === v.room,
    `?token= not taken into the form: ${JSON.stringify({ ...page, token: !!page.token })}`);
  await M.page.click('#join');
  await until(M, () => window.sluice.state === 'joined' && window.sluice.role === 'moderator' &&
    !document.getElementById('moderation').hidden, null, 'M joins as the token moderator');
  step('M: ?token= moved into the form, joined as moderator');

  // A token that does not verify, typed into the token field: refused, the
  // page stays usable; without a token G is a guest and waits in the lobby.
  await G.page.click('#token-box summary');
  await G.page.fill('#token', v.token.slice(0, -4) + (v.token.endsWith('AAAA') ? 'BBBB' : 'AAAA'));
  await joinPage(G, v.room);
  await until(G, () => window.sluice.state === 'error' && window.sluice.lastError === 'bad_token' &&
    /token was not accepted/.test(document.getElementById('status').textContent), null,
  'a forged token is refused (bad_token)');
  await G.page.fill('#token', '');
  await joinPage(G, v.room);
  await until(G, () => window.sluice.state === 'lobby', null, 'guest G waits in the lobby');
  await until(M, (n) => [...document.querySelectorAll('#lobby-list li')]
    .some((li) => li.textContent.includes(n)), G.name, 'M sees G in the lobby list');
  await M.page.click('#lobby-list li button.deny');
  await until(G, () => window.sluice.state === 'denied' && window.sluice.denied === 'denied' &&
    !document.getElementById('notice').hidden, null, 'G sees the denied screen');
  await until(M, () => document.querySelectorAll('#lobby-list li').length === 0, null,
    'M\'s lobby list empties');
  step('G: forged token refused; as a guest waited in the lobby and was denied');
  await M.page.click('#leave');
  await until(M, () => window.sluice.state === 'left', null, 'M leaves');

  // check_name is throttled (the server runs with a small --check-name-burst):
  // G types on; after 'throttled' its page sends no check_name before
  // retry_after, then checks the name typed last.
  const frames = [];
  G.page.on('websocket', (ws) => {
    ws.on('framesent', (f) => {
      const m = JSON.parse(f.payload);
      if (m.type === 'check_name') frames.push({ t: Date.now(), sent: m.room });
    });
    ws.on('framereceived', (f) => {
      const m = JSON.parse(f.payload);
      if (m.type === 'name_strength' || m.type === 'error') {
        frames.push({ t: Date.now(), got: m.type, code: m.code, retry: m.retry_after });
      }
    });
  });
  const typed = [];
  for (let i = 0; i < 6; i++) {
    typed.push(`${v.room}-${i}`);
    await G.page.fill('#room', typed[i]);
    await sleep(400);
  }
  const last = typed[typed.length - 1];
  for (;;) {
    const i = frames.map((f) => f.sent).lastIndexOf(last);
    if (i >= 0 && frames.slice(i + 1).some((f) => f.got === 'name_strength')) break;
    if (Date.now() > deadline) throw new Error(`no check of the last name: ${JSON.stringify(frames)}`);
    await sleep(100);
  }
  await until(G, () => document.getElementById('room-strength').textContent !== '', null,
    'G shows the last name\'s strength');
  const th = frames.findIndex((f) => f.code === 'throttled');
  check(th >= 0, `no check_name was throttled: ${JSON.stringify(frames)}`);
  const after = frames.slice(th + 1).filter((f) => f.sent);
  const pause = frames[th].retry * 1000;
  check(after.length >= 1 && after[0].t - frames[th].t >= pause - 150,
    `check_name sent ${after.length ? after[0].t - frames[th].t : '-'} ms after throttled ` +
    `(retry_after ${frames[th].retry} s)`);
  result.numbers.checkNameThrottle = {
    typed: typed.length, sent: frames.filter((f) => f.sent).length,
    retryAfterS: frames[th].retry, nextSentAfterMs: after[0].t - frames[th].t,
  };
  step(`check_name throttled: next check ${after[0].t - frames[th].t} ms later ` +
    `(retry_after ${frames[th].retry} s), ${result.numbers.checkNameThrottle.sent} sent for ${typed.length} typed`);
}

// --moderators first: password, lobby, mute, kick, lock, grant, end.
async function doorMode(browser, names, opt) {
  const [A, B, C] = await Promise.all(names.map((n) => openPage(browser, opt, n)));

  // 0. The name's strength, while typing (check_name on the early socket).
  await A.page.fill('#room', v['weak-room']);
  await until(A, (r) => window.sluice.strengthFor === r &&
    document.getElementById('room-strength').classList.contains('weak'), v['weak-room'],
  'the weak-name warning for a weak name');
  await shot(A, 'weak-name');
  const weakText = await A.page.textContent('#room-strength');
  const weak = await A.page.evaluate(() => window.sluice.strength);
  check(weak.reasons.length > 0 && /Easy to guess/.test(weakText), `weak text: ${weakText}`);
  // "Random name": five capitalised words from names.js, rated strong.
  await A.page.click('#random');
  await until(A, () => /^([A-Z][a-z]{3,6}){5}$/.test(document.getElementById('room').value) &&
    window.sluice.strengthFor === document.getElementById('room').value &&
    document.getElementById('room-strength').classList.contains('strong'), null,
  '"Random name" fills in five words, rated strong');
  const generated = await A.page.evaluate(() => window.sluice.strength.bits);
  await A.page.fill('#room', v.room);
  await until(A, (r) => window.sluice.strengthFor === r &&
    document.getElementById('room-strength').classList.contains('strong'), v.room,
  'no warning for the test\'s room name');
  const strong = await A.page.evaluate(() => window.sluice.strength);
  result.numbers.nameBits = {
    weak: weak.bits, weakReasons: weak.reasons, randomButton: generated, testRoom: strong.bits,
  };
  step(`name strength: weak ${weak.bits} bits (${weak.reasons}), "Random name" ${generated} bits, ` +
    `the test's room ${strong.bits} bits`);

  // 1. A creates the meeting, is its moderator, sets a password and the lobby.
  await joinPage(A, v.room);
  await until(A, () => window.sluice.state === 'joined', null, 'A joins');
  await until(A, () => !document.getElementById('moderation').hidden &&
    window.sluice.role === 'moderator', null, 'A sees the moderation panel');
  await A.page.fill('#mod-password', v.password);
  await A.page.click('#mod-set-password');
  await until(A, () => window.sluice.meetingState.password, null, 'meeting_state password');
  A.id = await A.page.evaluate(() => window.sluice.participant);
  step('A joined as moderator and set a password');

  // 2. B: no password -> prompt; a wrong one -> prompt; the right one -> in.
  await joinPage(B, v.room);
  await until(B, () => window.sluice.state === 'password' &&
    !document.getElementById('password-form').hidden, null, 'B gets the password prompt');
  await shot(B, 'password-prompt');
  check(await B.page.evaluate(() => window.sluice.connected()), 'B: the refused join closed the connection');
  await B.page.fill('#password', v.password + '-wrong');
  await B.page.click('#password-join');
  await until(B, () => window.sluice.state === 'password' &&
    /Wrong password/.test(document.getElementById('status').textContent), null,
  'B: a wrong password is refused');
  await B.page.fill('#password', v.password);
  await B.page.click('#password-join');
  await until(B, () => window.sluice.state === 'joined', null, 'B joins with the password');
  B.id = await B.page.evaluate(() => window.sluice.participant);
  check(await B.page.evaluate(() => window.sluice.role) === 'participant', 'B is not a moderator');
  check(await B.page.isHidden('#moderation'), 'B sees the moderation panel');
  step('B: prompt, wrong password refused, right password joined (same page)');

  // With the lobby on, a join without a password waits there instead of
  // getting the prompt (docs/signalling.md, "Entry control", 5).
  await A.page.click('#mod-lobby');
  await until(A, () => window.sluice.meetingState.lobby, null, 'meeting_state lobby');
  await until(B, () => window.sluice.meetingState.lobby &&
    /lobby on/.test(document.getElementById('meeting-state').textContent), null,
  'B sees the lobby turned on');
  step('A turned the lobby on');

  // 3. C waits in the lobby; A admits it through the lobby list. C's page
  // is reloaded first so its WebSocket frames can be recorded.
  const T = {
    early: `${v['chat-tag']} early, before C came in`,
    xss: `<img src=x onerror="window.__xss=1"> ${v['chat-tag']} public`,
    priv: `${v['chat-tag']} private, B to C`,
    refused: `${v['chat-tag']} refused`,
    later: `${v['chat-tag']} later`,
    again: `${v['chat-tag']} new meeting`,
  };
  const cFrames = [];
  C.page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    let m;
    try {
      m = JSON.parse(f.payload);
    } catch (e) {
      return;
    }
    if (['joined', 'chat', 'chat_history'].includes(m.type)) cFrames.push(m);
  }));
  await C.page.reload();
  await joinPage(C, v.room);
  await until(C, () => window.sluice.state === 'lobby' &&
    !document.getElementById('notice').hidden, null, 'C waits in the lobby');
  await until(A, (n) => [...document.querySelectorAll('#lobby-list li')]
    .some((li) => li.textContent.includes(n)), C.name, 'A sees C in the lobby list');
  await shot(A, 'moderator-lobby');
  await shot(C, 'lobby-wait');
  const cLobby = await snap(C);
  check(!cLobby.peers || Object.keys(cLobby.peers).length === 0, 'C got media in the lobby');
  await sayChat(A, T.early);
  await hasChat(B, T.early, 'B gets A\'s first message');
  await hasChat(A, T.early, 'A gets its own message back');
  await A.page.click('#lobby-list li button.admit');
  await until(C, () => window.sluice.state === 'joined', null, 'C is admitted');
  C.id = await C.page.evaluate(() => window.sluice.participant);
  await until(C, (t) => [...document.querySelectorAll('#chat-list li.history .chat-text')]
    .some((e) => e.textContent === t), T.early, 'C shows A\'s earlier message from chat_history');
  const joinedAt = cFrames.findIndex((m) => m.type === 'joined');
  check(joinedAt >= 0 && !cFrames.slice(0, joinedAt).some((m) => m.type.startsWith('chat')),
    `C got chat while in the lobby: ${JSON.stringify(cFrames.map((m) => m.type))}`);
  const hist = cFrames[joinedAt + 1];
  check(hist && hist.type === 'chat_history' && hist.messages.length === 1 &&
    hist.messages[0].text === T.early && hist.messages[0].from === A.id && !hist.messages[0].private,
  `C's chat_history after joined: ${JSON.stringify(cFrames.slice(joinedAt))}`);
  step('C waited in the lobby (no chat there) and was admitted; chat_history holds A\'s message');

  const all = [A, B, C];
  await Promise.all(all.map((p) => decodes(p, all.filter((q) => q !== p), FRAMES,
    `decodes everyone (>= ${FRAMES} frames)`)));
  step(`everyone decodes everyone (>= ${FRAMES} frames, audio)`);
  await until(A, (ids) => ids.every((id) =>
    document.querySelector(`#participants li[data-id="${id}"]`)), [A.id, B.id, C.id],
  'A lists all three');

  // 3b. Chat: markup stays text, private stays private, permissions hold.
  const tChat = Date.now();
  await until(B, (id) => [...document.querySelectorAll('#chat-to option')].some((o) => o.value === id),
    C.id, 'B can pick C as a recipient');
  await sayChat(A, T.xss);
  await hasChat(B, T.xss, 'B gets A\'s public message');
  await hasChat(C, T.xss, 'C gets A\'s public message');
  await sayChat(B, T.priv, C.id);
  await hasChat(C, T.priv, 'C gets B\'s private message');
  await hasChat(B, T.priv, 'B gets its private message back');
  await A.page.selectOption('#mod-chat', 'moderators');
  await A.page.selectOption('#mod-screenshare', 'moderators');
  for (const p of all) {
    await until(p, () => window.sluice.meetingState.permissions.chat === 'moderators' &&
      window.sluice.meetingState.permissions.screenshare === 'moderators', null,
    `${p.name} learns only moderators chat and share screens`);
  }
  await until(B, () => !document.getElementById('chat-note').hidden &&
    /only moderators chat/.test(document.getElementById('meeting-state').textContent), null,
  'B shows that only moderators chat');
  await sayChat(B, T.refused);
  await until(B, () => window.sluice.chatError === 'not_moderator' &&
    !document.getElementById('chat-error').hidden &&
    /Only moderators/.test(document.getElementById('chat-error').textContent), null,
  'B\'s message is refused (not_moderator)');
  // A's next message goes out after the server handled B's private message
  // and B's refused one: once everyone has it, anything those two sent to
  // A (or anyone) would have arrived before it.
  await sayChat(A, T.later);
  for (const p of all) await hasChat(p, T.later, `${p.name} gets A's later message`);
  const chats = {};
  for (const p of all) chats[p.name] = await chatOf(p);
  await shot(C, 'chat');
  for (const p of all) {
    const c = chats[p.name];
    check(c.imgs === 0 && c.xss === undefined && c.shown.every((x) => x.elements === 0),
      `${p.name}: chat text became markup (${c.imgs} <img>, __xss ${c.xss})`);
    check(!c.msgs.some((m) => m.text === T.refused) && !c.shown.some((x) => x.text === T.refused),
      `${p.name} got B's refused message`);
    const x = c.msgs.find((m) => m.text === T.xss);
    const shown = c.shown.find((s) => s.text === T.xss);
    check(x && x.from === A.id && x.name === A.name && !x.private && typeof x.ts === 'number' &&
      shown && shown.name.startsWith(A.name) && /^\d\d:\d\d$/.test(shown.time) && !shown.mark,
    `${p.name}: A's public message: ${JSON.stringify({ x, shown })}`);
  }
  check(!chats[A.name].msgs.some((m) => m.text === T.priv) &&
    !chats[A.name].shown.some((s) => s.text === T.priv), 'A got B\'s private message');
  for (const p of [B, C]) {
    const m = chats[p.name].msgs.find((x) => x.text === T.priv);
    const shown = chats[p.name].shown.find((s) => s.text === T.priv);
    check(m && m.private === true && m.from === B.id && shown && shown.mark &&
      /private/.test(shown.mark), `${p.name}: B's private message: ${JSON.stringify({ m, shown })}`);
  }
  result.numbers.chat = {
    ms: Date.now() - tChat,
    received: Object.fromEntries(all.map((p) => [p.name, chats[p.name].msgs.length])),
  };
  step(`chat: markup shown as text, B->C private not at A, only moderators chat: B refused ` +
    `(${result.numbers.chat.ms} ms)`);

  // 4. A mutes B's video and audio.
  const before0 = { A: recv(await snap(A), B), C: recv(await snap(C), B) };
  await sleep(1000);
  const before1 = { A: recv(await snap(A), B), C: recv(await snap(C), B) };
  await A.page.click(`#participants li[data-id="${B.id}"] button.mute-video`);
  await A.page.click(`#participants li[data-id="${B.id}"] button.mute-audio`);
  const tMute = Date.now();
  for (const p of all) {
    await until(p, (id) => window.sluice.mutes[id] && window.sluice.mutes[id].audio &&
      window.sluice.mutes[id].video, B.id, `${p.name} learns B is muted`);
  }
  await until(A, (id) => {
    const li = document.querySelector(`#participants li[data-id="${id}"]`);
    return li && li.querySelector('.muted-audio') && li.querySelector('.muted-video') &&
      li.querySelector('button.mute-video').disabled;
  }, B.id, 'A shows B muted');
  await until(B, () => {
    const v = document.querySelector('#grid .tile.local video');
    const tracks = v && v.srcObject ? v.srcObject.getTracks() : [];
    return tracks.length > 0 && tracks.every((t) => !t.enabled) &&
      /moderator/.test(document.getElementById('self-muted').textContent);
  }, null, 'B: local tracks disabled and "muted by a moderator" shown');
  await shot(A, 'moderator-muted-b');
  await shot(B, 'muted-by-moderator');
  // Packets in flight when the mute took effect: wait a second, then measure.
  await sleep(Math.max(0, 1000 - (Date.now() - tMute)));
  const m0 = { A: recv(await snap(A), B), C: recv(await snap(C), B), CfromA: recv(await snap(C), A) };
  await sleep(3000);
  const m1 = { A: recv(await snap(A), B), C: recv(await snap(C), B), CfromA: recv(await snap(C), A) };
  const d = (x, y) => ({ frames: y.frames - x.frames, audio: y.audio - x.audio });
  const mute = {
    beforeMutePerSecond: { A: d(before0.A, before1.A), C: d(before0.C, before1.C) },
    mutedOver3s: { A: d(m0.A, m1.A), C: d(m0.C, m1.C) },
    CfromAOver3s: d(m0.CfromA, m1.CfromA),
    atMute: m0,
  };
  result.numbers.mute = mute;
  check(mute.beforeMutePerSecond.A.frames > 0 && mute.beforeMutePerSecond.C.frames > 0,
    `B's video was not flowing before the mute: ${JSON.stringify(mute.beforeMutePerSecond)}`);
  for (const who of ['A', 'C']) {
    const g = mute.mutedOver3s[who];
    check(g.frames <= 2 && g.audio <= 5,
      `${who} still receives B after the mute: ${JSON.stringify(g)} over 3 s`);
  }
  check(mute.CfromAOver3s.frames >= 20, `C stopped decoding A too: ${JSON.stringify(mute.CfromAOver3s)}`);
  step(`mute: B -> A/C over 3 s ${JSON.stringify(mute.mutedOver3s)}; A -> C ${JSON.stringify(mute.CfromAOver3s)}`);

  // Only B may unmute B: B turns camera and microphone back on.
  await B.page.click('#mute-video');
  await B.page.click('#mute-audio');
  await until(A, (id) => window.sluice.mutes[id] && !window.sluice.mutes[id].audio &&
    !window.sluice.mutes[id].video, B.id, 'A learns B unmuted itself');
  const u0 = { A: recv(await snap(A), B), C: recv(await snap(C), B) };
  let u1;
  for (;;) {
    u1 = { A: recv(await snap(A), B), C: recv(await snap(C), B) };
    if (['A', 'C'].every((w) => u1[w].frames - u0[w].frames >= 10 && u1[w].audio > u0[w].audio)) break;
    if (Date.now() > deadline) {
      throw new Error(`B's media did not come back after unmuting: ${JSON.stringify({ u0, u1 })}`);
    }
    await sleep(250);
  }
  result.numbers.unmute = { A: d(u0.A, u1.A), C: d(u0.C, u1.C) };
  step(`B unmuted itself; A and C decode B again ${JSON.stringify(result.numbers.unmute)}`);

  // 5. A kicks C.
  await A.page.click(`#participants li[data-id="${C.id}"] button.kick`);
  await until(C, () => window.sluice.state === 'kicked' &&
    !document.getElementById('notice').hidden, null, 'C sees the kicked screen');
  await until(C, () => window.sluice.lastClose && window.sluice.lastClose.byServer &&
    window.sluice.lastClose.code === 1000, null, 'the server closes C\'s connection (code 1000)');
  result.numbers.kickedClose = await C.page.evaluate(() => window.sluice.lastClose);
  await shot(C, 'kicked');
  for (const p of [A, B]) {
    await until(p, (id) => !window.sluice.participants.some((x) => x.id === id) &&
      !document.querySelector(`#participants li[data-id="${id}"]`), C.id,
    `${p.name}'s list drops C`);
  }
  step(`kick: C kicked, connection closed by the server (code ${result.numbers.kickedClose.code}), lists drop C`);

  // A locks the meeting: C (kicked) is refused at the door, on a page
  // that stays usable; A makes B a moderator: B gets the panel.
  await A.page.click('#mod-lock');
  await until(B, () => window.sluice.meetingState.locked, null, 'B learns the meeting is locked');
  await joinPage(C, v.room);
  await until(C, () => window.sluice.state === 'error' && window.sluice.lastError === 'locked',
    null, 'C is refused: locked');
  await A.page.click(`#participants li[data-id="${B.id}"] button.grant`);
  await until(B, () => window.sluice.role === 'moderator' &&
    !document.getElementById('moderation').hidden, null, 'B becomes a moderator');
  await until(A, (id) => {
    const li = document.querySelector(`#participants li[data-id="${id}"]`);
    return li && li.querySelector('.tag.role') && !li.querySelector('button.grant');
  }, B.id, 'A shows B as a moderator');
  step('lock: C refused (locked); grant: B is a moderator with the panel');

  // 6. A ends the meeting.
  const meeting = await A.page.evaluate(() => window.sluice.meeting);
  await A.page.click('#mod-end');
  for (const p of [A, B]) {
    await until(p, () => window.sluice.state === 'ended' && !document.getElementById('notice').hidden,
      null, `${p.name} sees the ended screen`);
  }
  await until(B, () => window.sluice.lastClose && window.sluice.lastClose.byServer &&
    window.sluice.lastClose.code === 1000, null,
  'the server closes B\'s connection after ended (code 1000)');
  result.numbers.endedClose = await B.page.evaluate(() => window.sluice.lastClose);
  let keys = redisKeys();
  for (let i = 0; keys.length && i < 20; i++) {
    await sleep(100);
    keys = redisKeys();
  }
  check(keys.length === 0, `Redis keys left after end_meeting: ${keys.join(' ')}`);
  step('ended: A and B see the ended screen, Redis holds no key');

  // The same name is a new meeting with no password; its creator moderates.
  await joinPage(C, v.room);
  await until(C, () => window.sluice.state === 'joined', null, 'the same name joins without a password');
  const again = await C.page.evaluate(() => ({ meeting: window.sluice.meeting, role: window.sluice.role,
    meetingState: window.sluice.meetingState }));
  check(again.meeting !== meeting, 'the rejoin got the ended meeting id');
  check(again.role === 'moderator' && !again.meetingState.password && !again.meetingState.lobby,
    `the new meeting: ${JSON.stringify(again)}`);
  // Its chat starts empty: by the time C's own message comes back, any
  // chat_history (sent right after joined) has arrived.
  await sayChat(C, T.again);
  await hasChat(C, T.again, 'C chats in the new meeting');
  const fresh = await chatOf(C);
  check(fresh.msgs.length === 1 && fresh.shown.length === 1 && !fresh.shown[0].cls.includes('history'),
    `the new meeting's chat is not empty: ${JSON.stringify(fresh.msgs.map((m) => m.text))}`);
  await C.page.click('#leave');
  await until(C, () => window.sluice.state === 'left', null, 'C leaves the new meeting');
  step('the same name: a new meeting, no password, C its moderator');
}

async function main() {
  const names = v.names.split(',');
  const opt = { url: v.url, room: v.room, timeoutMs: left() };
  const browser = await launchChromium(v.url, { chromium: v.chromium });
  try {
    await (v.token ? tokenMode(browser, names) : doorMode(browser, names, opt));
    result.ok = true;
  } catch (e) {
    result.error = e && e.message ? e.message.split('\n')[0] : String(e);
  }
  result.seconds = (Date.now() - t0) / 1000;
  process.stdout.write(JSON.stringify(result) + '\n');
  await browser.close().catch(() => {});
  process.exit(result.ok ? 0 : 1);
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String(e) }) + '\n');
  process.exit(1);
});
