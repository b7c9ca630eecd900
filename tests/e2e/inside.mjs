// End-to-end test of what happens inside a meeting (docs/signalling.md:
// screenshare, permissions), driven through the web client's UI in
// headless Chromium, one context per person:
//   1. A (moderator) joins, then B and C at once: one of them is told
//      'throttled' (the server allows one join in its handshake per meeting
//      here) and its page joins again by itself after retry_after; everyone
//      decodes everyone's camera;
//   1b. A chats to everyone, B privately to C (A never sees it);
//   2. B clicks "Share screen": the page captures a screen (getDisplayMedia;
//      Chromium's fake capture with --use-fake-ui-for-media-stream, or, if
//      that fails, an animated 1280x720 canvas's captureStream; the test
//      says which it used), the server re-offers B a third publish mid, and
//      A and C get a track labelled "screen" in tracks, shown in a tile of
//      its own, and decode it at the captured size (the camera's is 640x360);
//   3. A lets only moderators share screens: B's share is stopped by the
//      server (B's page says so), A's and C's screen tiles go away, C's
//      "Share screen" button is disabled, and a screenshare C sends anyway
//      is refused (not_moderator);
//   4. A shares its own screen (moderators still may): B and C decode it;
//      A stops;
//   5. A asks for speaker stats: every participant listed;
//   everyone leaves and Redis holds no key. All of it end-to-end encrypted
//   (one passphrase, set on every page before joining: each page shows
//   every other participant as decrypting).
// Prints one JSON line (steps and numbers) and exits 0 only on success.
//
//   node inside.mjs --url URL --room NAME --redis-sock PATH [--names a,b,c]
//        [--chat-tag TAG] [--passphrase PW] [--frames 20] [--timeout-s 90]
//   (chat texts hold TAG)

import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { check, joinPage, launchChromium, openPage, pageSnapshot, sayChat, sleep, untilPage } from './lib.mjs';

const { values: v } = parseArgs({
  options: {
    url: { type: 'string' },
    room: { type: 'string' },
    'redis-sock': { type: 'string' },
    'chat-tag': { type: 'string', default: 'inside-chat' },
    passphrase: { type: 'string', default: 'inside-e2ee-passphrase' },
    names: { type: 'string', default: 'Ada Lovelace,Grace Hopper,Mary Jackson' },
    frames: { type: 'string', default: '20' },
    'timeout-s': { type: 'string', default: '90' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
for (const k of ['url', 'room', 'redis-sock']) {
  if (!v[k]) {
    process.stderr.write(`inside.mjs: --${k} is required\n`);
    process.exit(2);
  }
}
const FRAMES = Number(v.frames);
const deadline = Date.now() + Number(v['timeout-s']) * 1000;
const result = { ok: false, steps: [], numbers: {}, error: null };
const t0 = Date.now();
const step = (what) => {
  result.steps.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
  process.stderr.write(`inside: ${what}\n`);
};
const left = () => Math.max(1000, deadline - Date.now());
const until = (p, fn, arg, what) => untilPage(p, fn, arg, what, Math.min(30000, left()));

// getDisplayMedia: the browser's own when it can capture something, else an
// animated 1280x720 canvas (headless Chromium has no screen).
function fakeScreen() {
  const md = navigator.mediaDevices;
  const real = md.getDisplayMedia ? md.getDisplayMedia.bind(md) : null;
  md.getDisplayMedia = async (c) => {
    if (real) {
      try {
        const s = await real(c);
        window.__screenSource = 'getDisplayMedia';
        return s;
      } catch (e) {
        window.__screenError = e && e.name;
      }
    }
    const canvas = document.createElement('canvas');
    canvas.width = 1280;
    canvas.height = 720;
    const g = canvas.getContext('2d');
    let n = 0;
    setInterval(() => {
      n++;
      g.fillStyle = `hsl(${(n * 7) % 360}, 70%, 50%)`;
      g.fillRect(0, 0, 1280, 720);
      g.fillStyle = '#fff';
      g.font = '96px sans-serif';
      g.fillText(`screen ${n}`, 100 + (n % 50) * 10, 360);
    }, 66);
    window.__screenSource = 'canvas';
    return canvas.captureStream(15);
  };
}

// Runs in the page: what it decodes of each remote screen, by participant id.
async function screenStats() {
  const s = window.sluice;
  const out = {};
  if (!s.pc) return out;
  const byMid = new Map((s.tracks || []).filter((t) => t.label === 'screen').map((t) => [t.mid, t]));
  const stats = await s.pc.getStats();
  stats.forEach((r) => {
    const t = r.type === 'inbound-rtp' && byMid.get(r.mid);
    if (t) out[t.participant] = { frames: r.framesDecoded || 0, width: r.frameWidth || 0, height: r.frameHeight || 0 };
  });
  return out;
}

// The size of who's captured screen (never the camera's 640x360).
async function screenSize(who) {
  const st = await who.page.evaluate(() => {
    const t = window.sluice.screen.stream && window.sluice.screen.stream.getVideoTracks()[0];
    return t ? t.getSettings() : null;
  });
  check(st && st.width > 0 && !(st.width === 640 && st.height === 360),
    `${who.name}'s screen has size ${JSON.stringify(st)}`);
  return { width: st.width, height: st.height };
}

// Waits until p decodes >= n frames of `who`'s screen at its captured size.
async function decodesScreen(p, who, n) {
  const size = await screenSize(who);
  for (;;) {
    const s = await p.page.evaluate(screenStats);
    const got = s[who.id];
    if (got && got.frames >= n && got.width === size.width && got.height === size.height) {
      const tile = await p.page.evaluate((k) => !!document.querySelector(`.tile[data-tile="${k}"] video`), `${who.id}:screen`);
      check(tile, `${p.name}: no tile for ${who.name}'s screen`);
      return got;
    }
    if (Date.now() > deadline) throw new Error(`${p.name}: ${who.name}'s screen: ${JSON.stringify(s)}`);
    await sleep(250);
  }
}

async function decodesCameras(p, from) {
  for (;;) {
    const s = await p.page.evaluate(pageSnapshot);
    if (from.every((q) => s.peers[q.id] && s.peers[q.id].frames >= FRAMES)) return;
    if (Date.now() > deadline) throw new Error(`${p.name}: cameras: ${JSON.stringify(s.peers)}`);
    await sleep(250);
  }
}

const noScreenTile = (p, who, what) => until(p, (k) => !document.querySelector(`.tile[data-tile="${k}"]`) &&
  !window.sluice.tracks.some((t) => t.label === 'screen'), `${who.id}:screen`, what);

let browser;
try {
  browser = await launchChromium(v.url, { chromium: v.chromium });
  const names = v.names.split(',');
  const opt = { url: v.url, room: v.room, timeoutMs: left(), init: fakeScreen };
  // Everyone turns end-to-end encryption on with one passphrase before
  // joining. A first (the moderator), then B and C at once: the server runs
  // with --pending-room-max 1, so a join that arrives while another is in
  // its handshake is told 'throttled', and the page joins again by itself.
  const people = await Promise.all(names.slice(0, 3).map((n) => openPage(browser, opt, n)));
  const [A, B, C] = people;
  for (const p of people) {
    await p.page.fill('#e2ee-pass', v.passphrase);
    await p.page.press('#e2ee-pass', 'Tab');
    await p.page.check('#e2ee-on');
  }
  await joinPage(A, v.room);
  await until(A, () => window.sluice.state === 'joined', null, 'joins');
  await Promise.all([joinPage(B, v.room), joinPage(C, v.room)]);
  for (const p of people) {
    await until(p, () => window.sluice.state === 'joined' && window.sluice.connected(), null, 'joins');
    p.id = await p.page.evaluate(() => window.sluice.participant);
  }
  result.numbers.joinRetries = await Promise.all(people.map((p) => p.page.evaluate(() => window.sluice.joinRetries)));
  check(result.numbers.joinRetries.reduce((a, b) => a + b) >= 1,
    `no join was throttled and retried: ${result.numbers.joinRetries}`);
  check(await A.page.evaluate(() => window.sluice.role === 'moderator'), 'A is not the moderator');
  await Promise.all(people.map((p) => decodesCameras(p, people.filter((q) => q !== p))));
  step('A, B and C decode each other\'s cameras');
  for (const p of people) {
    const others = people.filter((q) => q !== p).map((q) => q.id);
    await until(p, (ids) => window.sluice.e2ee.keyReady &&
      /End-to-end encrypted/.test(document.getElementById('e2ee-badge').textContent) &&
      ids.every((id) => window.sluice.e2ee.peers[id] === 'decrypting'), others,
    'shows end-to-end encryption, every other participant decrypting');
  }
  step('end-to-end encrypted: every page decrypts the other two');

  // Chat, public and private (its text must never reach the logs: the tag).
  const pub = `${v['chat-tag']} public`, priv = `${v['chat-tag']} private`;
  await sayChat(A, pub);
  await sayChat(B, priv, C.id);
  for (const p of people) {
    await until(p, (t) => window.sluice.chat.some((m) => m.text === t), pub, 'gets the public chat');
  }
  await until(C, (t) => window.sluice.chat.some((m) => m.text === t && m.private), priv, 'C gets B\'s private chat');
  check(!(await A.page.evaluate((t) => window.sluice.chat.some((m) => m.text === t), priv)),
    'A got a private message between B and C');
  step('chat: a public message reaches everyone, a private one only its recipient');

  // 2. B shares a screen.
  const t1 = Date.now();
  await B.page.click('#share-screen');
  await until(B, () => window.sluice.screen.sharing && window.sluice.screenMid !== null &&
    document.getElementById('share-screen').textContent === 'Stop sharing', null, 'B shares');
  result.numbers.screenSource = await B.page.evaluate(() => window.__screenSource);
  const sa = await decodesScreen(A, B, FRAMES);
  const sc = await decodesScreen(C, B, FRAMES);
  result.numbers.screenFirstFramesS = (Date.now() - t1) / 1000;
  result.numbers.screenB = { A: sa, C: sc };
  for (const p of [A, C]) {
    const tr = await p.page.evaluate((id) => window.sluice.tracks.filter((t) => t.participant === id)
      .map((t) => `${t.kind}/${t.label}`).sort(), B.id);
    check(JSON.stringify(tr) === JSON.stringify(['audio/microphone', 'video/camera', 'video/screen']),
      `${p.name}: B's tracks ${JSON.stringify(tr)}`);
  }
  step(`B shares a screen (${result.numbers.screenSource}): A and C decode it at ${sa.width}x${sa.height} in its own tile`);
  // The screen is end-to-end encrypted too: B's worker encrypts its frames,
  // A's decrypts them (the worker's counters for those mids).
  await until(B, () => {
    const c = window.sluice.e2ee.stats.send[window.sluice.screenMid];
    return c && c.encrypted > 0 && c.clear === 0 && c.dropped === 0;
  }, null, 'B\'s screen frames are encrypted');
  await until(A, (id) => {
    const t = window.sluice.tracks.find((x) => x.participant === id && x.label === 'screen');
    const c = t && window.sluice.e2ee.stats.recv[t.mid];
    return c && c.decrypted > 0 && c.failed === 0 && c.plain === 0;
  }, B.id, 'A decrypts B\'s screen');
  step('the screen is end-to-end encrypted: B encrypts it, A decrypts it');

  // 3. Only moderators may share: B's share stops, C may not start one.
  await A.page.selectOption('#mod-screenshare', 'moderators');
  await until(B, () => !window.sluice.screen.sharing && !window.sluice.screen.stream &&
    /restricted/.test(document.getElementById('screen-note').textContent), null,
  'B\'s share is stopped by the server and B is told why');
  await noScreenTile(A, B, 'A\'s tile of B\'s screen goes away');
  await noScreenTile(C, B, 'C\'s tile of B\'s screen goes away');
  await until(C, () => window.sluice.meetingState.permissions.screenshare === 'moderators' &&
    document.getElementById('share-screen').disabled, null, 'C\'s Share screen button is disabled');
  await C.page.evaluate(() => window.SluiceApp.send({ type: 'screenshare', enabled: true }));
  await until(C, () => window.sluice.lastError === 'not_moderator', null,
    'a screenshare C sends anyway is refused');
  step('screen sharing for moderators only: B\'s share stopped, C refused (not_moderator)');

  // 4. The moderator shares; then stops.
  await A.page.click('#share-screen');
  await until(A, () => window.sluice.screen.sharing && !!window.sluice.screen.stream, null, 'A shares');
  await decodesScreen(B, A, FRAMES);
  await decodesScreen(C, A, FRAMES);
  await A.page.click('#share-screen');
  await noScreenTile(B, A, 'B\'s tile of A\'s screen goes away');
  step('A (moderator) shares: B and C decode it; A stops');

  // Speaker stats: every member listed with its speaking time (the fake
  // microphones beep), and a dominant speaker was chosen.
  await A.page.evaluate(() => { window.sluice.speakerStats = []; });
  await A.page.click('#speaker-stats-button');
  await until(A, (n) => window.sluice.speakerStats.length === n && window.sluice.dominantSpeaker,
    people.length, 'speaker stats list everyone');
  const stats = await A.page.evaluate(() => window.sluice.speakerStats);
  check(JSON.stringify(stats.map((e) => e.participant).sort()) === JSON.stringify(people.map((p) => p.id).sort()) &&
    stats.some((e) => e.speaking_ms > 0), `speaker stats: ${JSON.stringify(stats)}`);
  result.numbers.speakingMs = stats.map((e) => e.speaking_ms);
  step('speaker stats list every participant; a dominant speaker was chosen');

  for (const p of people) {
    await p.page.click('#leave');
    await until(p, () => window.sluice.state === 'left', null, 'leaves');
  }
  let keys = [];
  for (let i = 0; i < 20; i++) {
    keys = execFileSync('redis-cli', ['-s', v['redis-sock'], '--scan', '--pattern', 'sl:{*'])
      .toString().split('\n').filter((l) => l);
    if (!keys.length) break;
    await sleep(100);
  }
  check(keys.length === 0, `Redis keys left: ${keys}`);
  step('everyone left: Redis holds no key');
  result.ok = true;
} catch (e) {
  result.error = e && e.stack ? e.stack : String(e);
} finally {
  if (browser) await browser.close().catch(() => {});
}
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(result.ok ? 0 : 1);
