// Shared by the browser drivers of the end-to-end tests (meeting.mjs,
// big.mjs, entry.mjs, inside.mjs, nodes.mjs): starting Debian's Chromium headless with fake media devices,
// joining a participant through the real web client's UI, chatting, and reading what
// a participant has received from getStats().

import { chromium } from 'playwright-core';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One headless browser; every participant gets its own context in it.
export async function launchChromium(url, { chromium: executablePath = '/usr/bin/chromium', args = [] } = {}) {
  const origin = new URL(url).origin;
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
      // getUserMedia needs a secure context; a test server on a LAN address is not one.
      `--unsafely-treat-insecure-origin-as-secure=${origin}`,
      ...args,
    ],
  });
}

// Opens the web client in a fresh context, types room and name, clicks
// Join. opt: url, room, timeoutMs, and optionally video ({ width, height,
// frameRate }: what the fake camera is asked for instead of the client's
// own constraints, to keep many participants cheap) and init (a function
// run in every page before its scripts, e.g. to replace getDisplayMedia).
export async function openParticipant(browser, opt, name) {
  const p = await openPage(browser, opt, name);
  await joinPage(p, opt.room);
  return p;
}

// Types the room and the participant's name into the join form and clicks
// Join (on a page that openPage opened, or one that left or was refused).
export async function joinPage(p, room) {
  await p.page.fill('#room', room);
  await p.page.fill('#name', p.name);
  await p.page.click('#join');
}

// The web client in a fresh context, not joined yet.
export async function openPage(browser, opt, name) {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  if (opt.video) {
    await context.addInitScript((video) => {
      const md = navigator.mediaDevices;
      const gum = md.getUserMedia.bind(md);
      md.getUserMedia = (c) => gum(c && c.video ? { ...c, video } : c);
    }, opt.video);
  }
  if (opt.init) await context.addInitScript(opt.init);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') process.stderr.write(`[${name}] console: ${m.text()}\n`);
  });
  page.on('pageerror', (e) => process.stderr.write(`[${name}] page error: ${e.message}\n`));
  await page.goto(opt.url, { timeout: opt.timeoutMs });
  return { name, page, snap: null };
}

export function check(cond, what) {
  if (!cond) throw new Error(what);
}

// Waits (at most timeoutMs) until fn(arg) is true in p's page; on timeout
// throws what, with the page's state, last error and status line.
export async function untilPage(p, fn, arg, what, timeoutMs) {
  try {
    await p.page.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 100 });
  } catch (e) {
    const s = await p.page.evaluate(() => ({
      state: window.sluice.state, lastError: window.sluice.lastError,
      status: document.getElementById('status').textContent,
    })).catch(() => null);
    throw new Error(`${p.name}: ${what} (timed out; page: ${JSON.stringify(s)})`);
  }
}

// Chat through p's chat form: to everyone, or privately to the participant `to`.
export async function sayChat(p, text, to) {
  await p.page.selectOption('#chat-to', to ? { value: to } : { index: 0 });
  await p.page.fill('#chat-text', text);
  await p.page.click('#chat-send');
}

// Runs in the page: what this participant has received, per remote
// participant id, plus the state of its (single, bundled) transport.
export async function pageSnapshot() {
  const s = window.sluice;
  const out = {
    state: s.state, meeting: s.meeting, participant: s.participant,
    lastError: s.lastError, peers: {}, dtlsState: null, srtpCipher: null,
    tlsVersion: null, candidatePair: false,
  };
  if (!s.pc) return out;
  const names = new Map((s.participants || []).map((p) => [p.id, p.name || '']));
  const byMid = new Map((s.tracks || []).map((t) => [t.mid, t]));
  for (const t of s.tracks || []) {
    if (t.participant === s.participant || out.peers[t.participant]) continue;
    out.peers[t.participant] = { name: names.get(t.participant) || '', frames: 0, audio: 0 };
  }
  const midOfTrack = new Map();
  for (const tr of s.pc.getTransceivers()) {
    if (tr.mid != null && tr.receiver.track) midOfTrack.set(tr.receiver.track.id, tr.mid);
  }
  const stats = await s.pc.getStats();
  stats.forEach((r) => {
    if (r.type === 'inbound-rtp') {
      const t = byMid.get(r.mid != null ? r.mid : midOfTrack.get(r.trackIdentifier));
      const peer = t && out.peers[t.participant];
      if (!peer) return;
      if ((r.kind || r.mediaType) === 'video') peer.frames += r.framesDecoded || 0;
      else peer.audio += r.packetsReceived || 0;
    } else if (r.type === 'transport') {
      out.dtlsState = r.dtlsState || null;
      out.srtpCipher = r.srtpCipher || null;
      out.tlsVersion = r.tlsVersion || null;
      const pair = r.selectedCandidatePairId && stats.get(r.selectedCandidatePairId);
      out.candidatePair = !!pair;
      const remote = pair && stats.get(pair.remoteCandidateId);
      out.ipFamily = remote && remote.address ? (remote.address.includes(':') ? 'IPv6' : 'IPv4') : null;
    }
  });
  return out;
}

