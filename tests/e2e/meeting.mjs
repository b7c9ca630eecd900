// End-to-end meeting test: N headless Chromium participants (one browser,
// one fresh context each, fake camera and microphone) open the Sluice web
// client, type the room and their name, click Join through the real UI, and
// are then watched through RTCPeerConnection.getStats() until each one has
// decoded enough video frames and received audio from every other
// publisher over a DTLS-SRTP transport. Inbound streams are attributed to
// remote participants by mid, using the page's window.sluice.tracks (the
// offer's tracks[]). It prints one JSON line and exits 0 only on success,
// so it can be called from .ci/run or from a shell script that starts the
// servers. --expect-peer-count lets the same check count a non-browser
// peer (aiortc_peer.py) that joins the same room.
//
//   node meeting.mjs --url http://127.0.0.1:8080/ --room NAME --participants 2
//        [--names a,b] [--frames 100] [--timeout-s 90] [--stay-s 0] [--leave]
//        [--expect-peer-count K] [--chromium /usr/bin/chromium]

import { parseArgs } from 'node:util';
import { launchChromium, openParticipant, pageSnapshot, sleep } from './lib.mjs';

const DEFAULT_NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];

function usage(msg) {
  process.stderr.write(`meeting.mjs: ${msg}\n` +
    'usage: node meeting.mjs --url URL --room NAME --participants N [--names a,b]\n' +
    '       [--frames 100] [--timeout-s 90] [--stay-s 0] [--leave] [--expect-peer-count K]\n');
  process.exit(2);
}

function options() {
  let v;
  try {
    ({ values: v } = parseArgs({
      options: {
        url: { type: 'string' },
        room: { type: 'string' },
        participants: { type: 'string', default: '2' },
        names: { type: 'string' },
        frames: { type: 'string', default: '100' },
        'timeout-s': { type: 'string', default: '90' },
        'stay-s': { type: 'string', default: '0' },
        leave: { type: 'boolean', default: false },
        'expect-peer-count': { type: 'string' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
      },
    }));
  } catch (e) {
    usage(e.message);
  }
  const int = (s, name, min) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer >= ${min}`);
    return n;
  };
  if (!v.url) usage('--url is required');
  if (!v.room) usage('--room is required');
  const n = int(v.participants, 'participants', 1);
  const names = v.names ? v.names.split(',') : [];
  if (names.length > n) usage('more --names than --participants');
  for (let i = names.length; i < n; i++) names.push(DEFAULT_NAMES[i] || `p${i + 1}`);
  return {
    url: v.url,
    room: v.room,
    names,
    frames: int(v.frames, 'frames', 1),
    timeoutMs: int(v['timeout-s'], 'timeout-s', 1) * 1000,
    stayMs: int(v['stay-s'], 'stay-s', 0) * 1000,
    leave: v.leave,
    expectPeers: v['expect-peer-count'] === undefined
      ? n - 1 : int(v['expect-peer-count'], 'expect-peer-count', 0),
    chromium: v.chromium,
  };
}

function done(snap, opt) {
  const peers = Object.values(snap.peers);
  return snap.state === 'joined' && peers.length >= opt.expectPeers &&
    peers.every((p) => p.frames >= opt.frames && p.audio > 0) &&
    snap.dtlsState === 'connected' && !!snap.srtpCipher && snap.candidatePair;
}

// The JSON summary of one participant: counts keyed by the remote's
// display name (or its id where it has none or shares it).
function summary(name, snap) {
  const framesDecoded = {};
  const audioPackets = {};
  const peers = Object.entries(snap ? snap.peers : {});
  for (const [id, p] of peers) {
    const twins = peers.filter(([, q]) => q.name === p.name).length;
    const key = p.name && twins === 1 ? p.name : `${p.name || 'guest'}#${id}`;
    framesDecoded[key] = p.frames;
    audioPackets[key] = p.audio;
  }
  return {
    name, state: snap ? snap.state : null, participant: snap ? snap.participant : null,
    framesDecoded, audioPackets,
    dtlsState: snap ? snap.dtlsState : null,
    srtpCipher: snap ? snap.srtpCipher : null,
    tlsVersion: snap ? snap.tlsVersion : null,
    ipFamily: snap ? snap.ipFamily : null,
    lastError: snap ? snap.lastError : null,
  };
}

async function waitForMedia(parts, opt, deadline) {
  for (;;) {
    await Promise.all(parts.map(async (p) => { p.snap = await p.page.evaluate(pageSnapshot); }));
    const failed = parts.find((p) => p.snap.state === 'error' || p.snap.state === 'left');
    if (failed) {
      return `${failed.name}: state ${failed.snap.state}` +
        (failed.snap.lastError ? ` (${failed.snap.lastError})` : '');
    }
    if (parts.every((p) => done(p.snap, opt))) {
      // What each one had received when the check passed (peers may leave
      // before --stay-s is over, and their tracks with them).
      for (const p of parts) p.doneSnap = p.snap;
      const ids = new Set(parts.map((p) => p.snap.meeting));
      return ids.size === 1 ? null : 'participants ended up in different meetings';
    }
    if (Date.now() >= deadline) return `timed out after ${opt.timeoutMs / 1000} s`;
    await sleep(500);
  }
}

async function leaveAll(parts) {
  await Promise.all(parts.map(async (p) => {
    await p.page.click('#leave');
    await p.page.waitForFunction(() => window.sluice.state === 'left', null, { timeout: 10000 });
    p.snap.state = 'left';
  }));
}

async function main() {
  const opt = options();
  const deadline = Date.now() + opt.timeoutMs;
  const browser = await launchChromium(opt.url, { chromium: opt.chromium });
  let parts = [];
  let error = null;
  try {
    const opened = await Promise.allSettled(opt.names.map((n) => openParticipant(browser, opt, n)));
    parts = opened.filter((o) => o.status === 'fulfilled').map((o) => o.value);
    const refused = opened.find((o) => o.status === 'rejected');
    if (refused) throw refused.reason;
    error = await waitForMedia(parts, opt, deadline);
    if (!error && opt.stayMs > 0) {
      await sleep(opt.stayMs);
      await Promise.all(parts.map(async (p) => { p.snap = await p.page.evaluate(pageSnapshot); }));
    }
    if (!error && opt.leave) await leaveAll(parts);
  } catch (e) {
    error = e && e.message ? e.message.split('\n')[0] : String(e);
  }
  const result = {
    ok: !error,
    meeting: parts.map((p) => (p.snap ? p.snap.meeting : null)),
    participants: parts.map((p) => summary(p.name, p.doneSnap
      ? { ...p.doneSnap, state: p.snap.state } : p.snap)),
    error,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  await browser.close().catch(() => {});
  process.exit(result.ok ? 0 : 1);
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ ok: false, meeting: [], participants: [], error: String(e) }) + '\n');
  process.exit(1);
});
