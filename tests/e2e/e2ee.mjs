// End-to-end encryption in the web client (web/e2ee.js, web/e2ee-worker.js),
// with four headless Chromium participants in one room:
//   A and B: end-to-end encryption on, the same passphrase;
//   C: on, a different passphrase;
//   D: off.
// Phase 1 checks that A and B decode each other's video; that C decodes
// nothing of A's or B's (its receivers count the frames that fail to
// decrypt and drop them) and A nothing of D's (clear frames are dropped
// while encryption is on, and counted); that D (no transforms at all), fed
// the ciphertext, decodes under a quarter of the frames it receives and
// shows noise where B shows A's picture; that nothing leaves A, B or C in
// clear; the badges and the per-participant list; byte for byte, that the
// frames C and B received from A (before decrypting) are frames A's
// senders emitted (SHA-256 of each, recorded by the worker) and none is a
// plaintext A encrypted; and that D, which joined with encryption off,
// cannot turn it on (Chromium runs a sender's transform only if it was set
// before the sender's track: see web/e2ee.js).
// Phase 2, mid-meeting: C changes its passphrase to A's and B turns
// encryption off: A decodes C, drops B's clear frames; B still decrypts A.
// Phase 3: B turns it back on and A decodes B again. No WebSocket message
// carries a passphrase.
// Prints one JSON line (the numbers measured) and exits 0 only on success.
//
//   node e2ee.mjs --url URL --room NAME [--frames 100] [--timeout-s 120]

import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { launchChromium, openPage, joinPage, sleep } from './lib.mjs';

const { values: v } = parseArgs({
  options: {
    url: { type: 'string' },
    room: { type: 'string' },
    frames: { type: 'string', default: '100' },
    'timeout-s': { type: 'string', default: '120' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
if (!v.url || !v.room) {
  process.stderr.write('usage: node e2ee.mjs --url URL --room NAME [--frames N] [--timeout-s S]\n');
  process.exit(2);
}
const FRAMES = Number(v.frames);
const opt = {
  url: v.url, room: v.room, timeoutMs: Number(v['timeout-s']) * 1000,
  video: { width: 320, height: 180, frameRate: 15 },
};
const PASS = 'pass-' + randomBytes(8).toString('hex');
const WRONG = 'wrong-' + randomBytes(8).toString('hex');

const steps = [];
const numbers = {};
function check(ok, what) {
  if (!ok) throw new Error(what);
  steps.push('ok - ' + what);
}

// Runs in the page: per remote participant, video frames received and
// decoded, audio packets, the mids; the e2ee state, badge and list.
async function snapshot() {
  const s = window.sluice;
  const out = {
    state: s.state, participant: s.participant, meeting: s.meeting,
    badge: document.getElementById('e2ee-badge').textContent,
    e2ee: { enabled: s.e2ee.enabled, keyReady: s.e2ee.keyReady, stats: s.e2ee.stats },
    rows: [...document.querySelectorAll('#e2ee-peers li')].map((li) => ({
      id: li.dataset.participant, status: li.dataset.status, text: li.textContent,
    })),
    peers: {},
  };
  if (!s.pc) return out;
  const byMid = new Map((s.tracks || []).map((t) => [t.mid, t]));
  for (const t of s.tracks || []) {
    if (t.participant === s.participant) continue;
    const p = out.peers[t.participant] || (out.peers[t.participant] = {
      framesDecoded: 0, framesReceived: 0, framesDropped: 0, keyFramesDecoded: 0,
      audioPackets: 0, mids: {},
    });
    p.mids[t.kind] = t.mid;
  }
  const stats = await s.pc.getStats();
  stats.forEach((r) => {
    if (r.type !== 'inbound-rtp') return;
    const t = byMid.get(r.mid);
    const p = t && out.peers[t.participant];
    if (!p) return;
    if (r.kind === 'video') {
      p.framesDecoded += r.framesDecoded || 0;
      p.framesReceived += r.framesReceived || 0;
      p.framesDropped += r.framesDropped || 0;
      p.keyFramesDecoded += r.keyFramesDecoded || 0;
    } else {
      p.audioPackets += r.packetsReceived || 0;
    }
  });
  return out;
}

async function snapAll(parts) {
  await Promise.all(parts.map(async (p) => { p.snap = await p.page.evaluate(snapshot); }));
}

// What participant `of` sees of participant `from` (by their ids).
const seen = (of, from) => of.snap.peers[from.snap.participant] ||
  { framesDecoded: 0, framesReceived: 0, framesDropped: 0, keyFramesDecoded: 0, audioPackets: 0, mids: {} };
// The sum of one recv counter over the mids `of` receives `from` on.
function recvCount(of, from, name) {
  const mids = Object.values(seen(of, from).mids);
  const recv = of.snap.e2ee.stats.recv || {};
  return mids.reduce((n, mid) => n + ((recv[mid] || {})[name] || 0), 0);
}
const row = (of, from) => of.snap.rows.find((r) => r.id === from.snap.participant);

async function waitUntil(parts, cond, what, deadline) {
  for (;;) {
    await snapAll(parts);
    const bad = parts.find((p) => ['error', 'left', 'kicked', 'ended'].includes(p.snap.state));
    if (bad) throw new Error(`${bad.name}: state ${bad.snap.state}`);
    if (cond()) return;
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

async function setE2ee(p, on, pass) {
  if (pass !== undefined) {
    await p.page.fill('#e2ee-pass', pass);
    await p.page.press('#e2ee-pass', 'Tab'); // 'change': the key is derived again
  }
  if (on) await p.page.check('#e2ee-on');
  else await p.page.uncheck('#e2ee-on');
}

// Runs in the page: the picture of the tile labelled `label`, scaled down
// to 32x18, as RGB bytes (null when it shows nothing).
function tilePixels(label) {
  const tile = [...document.querySelectorAll('#grid .tile')]
    .find((t) => t.querySelector('.label').textContent === label);
  const video = tile && tile.querySelector('video');
  if (!video || !video.videoWidth) return null;
  const c = document.createElement('canvas');
  c.width = 32;
  c.height = 18;
  const ctx = c.getContext('2d');
  ctx.drawImage(video, 0, 0, 32, 18);
  const d = ctx.getImageData(0, 0, 32, 18).data;
  return Array.from(d).filter((_, i) => i % 4 !== 3);
}
// Mean absolute difference of two pictures (0-255).
const pictureDiff = (a, b) => (a && b
  ? Math.round(a.reduce((n, x, i) => n + Math.abs(x - b[i]), 0) / a.length) : null);

// SHA-256 lists (hex) the worker of a page recorded.
const records = (p) => p.page.evaluate(() => window.SluiceApp.e2eeRecords());
const union = (byMid, mids, name) => {
  const set = new Set();
  for (const mid of mids) for (const h of ((byMid[mid] || {})[name] || [])) set.add(h);
  return set;
};

// Per ordered pair "X<-Y": what X decoded of Y and its worker's counters.
function pairsOf(parts) {
  const pairs = {};
  for (const x of parts) {
    for (const y of parts) {
      if (x === y || !x.snap || !y.snap) continue;
      const s = seen(x, y);
      pairs[`${x.name}<-${y.name}`] = {
        decoded: s.framesDecoded, received: s.framesReceived, dropped: s.framesDropped,
        keyDecoded: s.keyFramesDecoded, audio: s.audioPackets,
        decrypted: recvCount(x, y, 'decrypted'), failed: recvCount(x, y, 'failed'),
        plainDropped: recvCount(x, y, 'plain'), noKeyYet: recvCount(x, y, 'nokey'),
      };
    }
  }
  return pairs;
}

let parts = [];

async function main() {
  const deadline = Date.now() + opt.timeoutMs;
  const browser = await launchChromium(opt.url, { chromium: v.chromium });
  const wsLeaks = [];
  try {
    const [A, B, C, D] = await Promise.all(['A', 'B', 'C', 'D'].map((n) => openPage(browser, opt, n)));
    parts = [A, B, C, D];
    for (const p of parts) {
      p.page.on('websocket', (ws) => ws.on('framesent', (f) => {
        const text = String(f.payload);
        if (text.includes(PASS) || text.includes(WRONG)) wsLeaks.push(p.name);
      }));
    }
    check(await D.page.evaluate(() => window.sluice.e2ee.supported), 'Chromium has RTCRtpScriptTransform');
    await setE2ee(A, true, PASS);
    await setE2ee(B, true, PASS);
    await setE2ee(C, true, WRONG);
    for (const p of [A, B, C]) await p.page.evaluate(() => window.SluiceApp.e2eeRecord(true));
    for (const p of parts) await joinPage(p, opt.room);

    // ---- phase 1
    await waitUntil(parts, () => parts.every((p) => p.snap.state === 'joined' &&
        Object.keys(p.snap.peers).length === 3) &&
      seen(A, B).framesDecoded >= FRAMES && seen(B, A).framesDecoded >= FRAMES &&
      recvCount(C, A, 'failed') >= FRAMES && recvCount(A, D, 'plain') >= FRAMES &&
      seen(D, A).framesReceived >= FRAMES && seen(D, B).framesReceived >= FRAMES,
    'A and B to decode each other', deadline);
    await sleep(3000);
    await snapAll(parts);
    const ids = new Set(parts.map((p) => p.snap.meeting));
    check(ids.size === 1, 'all four are in one meeting');
    const pairs = pairsOf(parts);
    numbers.phase1 = pairs;
    check(pairs['A<-B'].decoded >= FRAMES && pairs['B<-A'].decoded >= FRAMES,
      `A and B decode each other (${pairs['A<-B'].decoded}, ${pairs['B<-A'].decoded} frames)`);
    check(pairs['A<-B'].failed === 0 && pairs['B<-A'].failed === 0,
      'no frame between A and B fails to decrypt');
    for (const k of ['C<-A', 'C<-B']) {
      check(pairs[k].decoded === 0 && pairs[k].failed >= FRAMES,
        `${k}: a wrong passphrase decodes nothing (${pairs[k].decoded} decoded, ` +
        `${pairs[k].failed} frames failed to decrypt and were dropped)`);
    }
    for (const k of ['A<-D', 'B<-D']) {
      check(pairs[k].decoded === 0 && pairs[k].plainDropped >= FRAMES,
        `${k}: clear frames are dropped while encryption is on (${pairs[k].plainDropped})`);
    }
    // D has no transforms: its decoder gets the ciphertext, whose clear VP8
    // header still parses. Measured: libvpx outputs some keyframes (as
    // noise) and rejects nearly all other frames.
    for (const k of ['D<-A', 'D<-B']) {
      check(pairs[k].received >= FRAMES && pairs[k].decoded * 4 < pairs[k].received,
        `${k}: without the key, ${pairs[k].decoded} of ${pairs[k].received} frames decode ` +
        `(${pairs[k].keyDecoded} of them keyframes)`);
    }
    // The pictures of A: its own preview, as B shows it (decrypted), as D
    // shows it (the ciphertext decoded); the best match of 3 samples 300 ms
    // apart (the fake camera's picture moves a little). Measured: 0 to 12
    // for B, 92 to 107 for D (noise).
    const diffs = { B: [], D: [] };
    let dShown = false;
    for (let i = 0; i < 3; i++) {
      const [own, atB, atD] = await Promise.all([A.page.evaluate(tilePixels, 'you'),
        B.page.evaluate(tilePixels, 'A'), D.page.evaluate(tilePixels, 'A')]);
      diffs.B.push(pictureDiff(own, atB));
      diffs.D.push(pictureDiff(own, atD));
      dShown ||= !!atD;
      await sleep(300);
    }
    const best = (l) => (l.some((x) => x === null) ? null : Math.min(...l));
    numbers.picture = { 'A-own vs B-view': diffs.B, 'A-own vs D-view': diffs.D };
    check(best(diffs.B) !== null && best(diffs.B) <= 30 && (!dShown || best(diffs.D) >= 60),
      `B shows A's picture (mean difference ${best(diffs.B)} of 255 from A's own preview), ` +
      `D does not (${dShown ? 'difference ' + best(diffs.D) : 'nothing shown'})`);
    check(A.snap.badge === 'End-to-end encrypted' && B.snap.badge === 'End-to-end encrypted',
      'A and B show "End-to-end encrypted"');
    check(D.snap.badge.startsWith('Not end-to-end encrypted'), `D shows "${D.snap.badge}"`);
    check(row(A, B) && row(A, B).status === 'decrypting' && row(A, C) &&
      row(A, C).status === 'undecryptable' && row(A, D) && row(A, D).status === 'plain',
      'A lists B as decrypting, C as undecryptable, D as not encrypted: ' +
      JSON.stringify([row(A, B), row(A, C), row(A, D)].map((r) => r && r.text)));

    // ---- bytes: what C received from A is what A's senders emitted
    // Receivers stop recording first, then the sender: everything they
    // recorded was sent while the sender still recorded.
    for (const p of [C, B]) await p.page.evaluate(() => window.SluiceApp.e2eeRecord(false));
    await sleep(500);
    await A.page.evaluate(() => window.SluiceApp.e2eeRecord(false));
    await sleep(500);
    const ra = await records(A);
    const rc = await records(C);
    const rb = await records(B);
    const sentMids = Object.keys(ra.send);
    const cipher = union(ra.send, sentMids, 'cipher');
    const plain = union(ra.send, sentMids, 'plain');
    const bytes = {};
    for (const [who, rec, p] of [['C', rc, C], ['B', rb, B]]) {
      const mids = Object.values(seen(p, A).mids);
      const got = union(rec.recv, mids, 'received');
      let match = 0;
      let isPlain = 0;
      for (const h of got) {
        if (cipher.has(h)) match++;
        if (plain.has(h)) isPlain++;
      }
      bytes[who] = { received: got.size, equalToSentCiphertext: match, equalToPlaintext: isPlain };
      check(got.size >= FRAMES && match === got.size && isPlain === 0,
        `${who} received ${got.size} distinct frames from A: ${match} equal a ciphertext A sent, ` +
        `${isPlain} a plaintext`);
    }
    let same = 0;
    for (const h of plain) if (cipher.has(h)) same++;
    bytes.A = { plaintexts: plain.size, ciphertexts: cipher.size, plainEqualsCipher: same };
    check(same === 0 && cipher.size >= FRAMES, 'no ciphertext A sent equals a plaintext');
    numbers.bytes = bytes;

    const sendCount = (p, name) => Object.values(p.snap.e2ee.stats.send || {})
      .reduce((n, c) => n + (c[name] || 0), 0);
    numbers.sent = Object.fromEntries([A, B, C].map((p) => [p.name, {
      encrypted: sendCount(p, 'encrypted'), dropped: sendCount(p, 'dropped'),
      clear: sendCount(p, 'clear') }]));
    check([A, B, C].every((p) => sendCount(p, 'clear') === 0 && sendCount(p, 'encrypted') >= FRAMES),
      'with encryption on, no frame left A, B or C in clear: ' + JSON.stringify(numbers.sent));
    check(await D.page.isDisabled('#e2ee-on') && D.snap.badge.includes('before joining'),
      'D, which joined with it off, cannot turn it on until it joins again (the switch is disabled)');

    // ---- phase 2, mid-meeting: C changes its passphrase to A's, B turns encryption off
    const more = 30;
    await setE2ee(B, false);
    // Once A has dropped a second's worth of B's clear frames, B's last
    // encrypted frames have gone through A's decoder: from then on, A
    // must decode nothing of B.
    await waitUntil(parts, () => recvCount(A, B, 'plain') >= 60, 'B\'s clear frames', deadline);
    let before = { AC: seen(A, C).framesDecoded, AB: seen(A, B).framesDecoded,
      ABplain: recvCount(A, B, 'plain'), BA: seen(B, A).framesDecoded };
    await setE2ee(C, true, PASS);
    await waitUntil(parts, () => seen(A, C).framesDecoded >= before.AC + more &&
      seen(C, A).framesDecoded >= more && recvCount(A, B, 'plain') >= before.ABplain + more &&
      seen(B, A).framesDecoded >= before.BA + more,
    'A to decode C, and to drop B\'s clear frames', deadline);
    await sleep(2000);
    await snapAll(parts);
    numbers.phase2 = {
      'A<-C': seen(A, C).framesDecoded - before.AC, 'C<-A': seen(C, A).framesDecoded,
      'A<-B': seen(A, B).framesDecoded - before.AB,
      'A<-B plainDropped': recvCount(A, B, 'plain') - before.ABplain,
      'B<-A': seen(B, A).framesDecoded - before.BA,
    };
    check(true, 'mid-meeting, C took A\'s passphrase: A decoded ' +
      `${numbers.phase2['A<-C']} more frames of C, C ${numbers.phase2['C<-A']} of A`);
    check(numbers.phase2['A<-B'] <= 1 && B.snap.badge === 'Not end-to-end encrypted' &&
      row(A, B) && row(A, B).status === 'plain',
      `mid-meeting, B turned it off: A dropped ${numbers.phase2['A<-B plainDropped']} clear ` +
      `frames of B and decoded ${numbers.phase2['A<-B']}; B still decrypts A ` +
      `(${numbers.phase2['B<-A']} frames) and shows "${B.snap.badge}"`);

    // ---- phase 3: B turns it back on
    before = { AB: seen(A, B).framesDecoded };
    await setE2ee(B, true);
    await waitUntil(parts, () => seen(A, B).framesDecoded >= before.AB + more,
      'A to decode B again', deadline);
    numbers.phase3 = { 'A<-B': seen(A, B).framesDecoded - before.AB };
    check(B.snap.badge === 'End-to-end encrypted',
      `B turned it back on: A decodes B again (${numbers.phase3['A<-B']} frames)`);
    check(wsLeaks.length === 0, 'no WebSocket message carried a passphrase');

    await Promise.all(parts.map(async (p) => {
      await p.page.click('#leave');
      await p.page.waitForFunction(() => window.sluice.state === 'left', null, { timeout: 10000 });
    }));
    process.stdout.write(JSON.stringify({ ok: true, steps, numbers, passphrases: [PASS, WRONG] }) + '\n');
    await browser.close().catch(() => {});
    process.exit(0);
  } catch (e) {
    const error = e && e.message ? e.message.split('\n')[0] : String(e);
    numbers.last = pairsOf(parts);
    numbers.badges = parts.map((p) => p.snap && p.snap.badge);
    process.stdout.write(JSON.stringify({ ok: false, steps, numbers, error,
      passphrases: [PASS, WRONG] }) + '\n');
    await browser.close().catch(() => {});
    process.exit(1);
  }
}

main();
