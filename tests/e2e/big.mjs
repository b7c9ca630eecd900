// A big meeting: C headless Chromium participants (one browser, a context
// each, through the real web client) and A aiortc participants
// (aiortc_peer.py --hold, one process each) join one room, and everyone
// must decode everyone: each participant decodes >= --frames video frames
// of EVERY other participant and receives audio from every other one
// (Chromium over a connected DTLS-SRTP transport). Nobody leaves before
// all are done. The cameras are small and slow (160x120 at 10 fps unless
// told) so that ten and more participants fit on a small machine.
//
// Prints the per-pair video frame counts (receiver x sender) as a table,
// then one JSON line; exits 0 only on success. On failure the table shows
// which pairs are missing.
//
//   node big.mjs --url http://127.0.0.1:8080/ --room NAME [--chromium-participants 7]
//        [--aiortc-participants 3] [--frames 20] [--timeout-s 150]
//        [--width 160 --height 120 --fps 10]

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launchChromium, openParticipant, pageSnapshot, sleep } from './lib.mjs';

function usage(msg) {
  process.stderr.write(`big.mjs: ${msg}\n` +
    'usage: node big.mjs --url URL --room NAME [--chromium-participants 7]\n' +
    '       [--aiortc-participants 3] [--frames 20] [--timeout-s 150]\n' +
    '       [--width 160 --height 120 --fps 10]\n');
  process.exit(2);
}

function options() {
  let v;
  try {
    ({ values: v } = parseArgs({
      options: {
        url: { type: 'string' },
        room: { type: 'string' },
        'chromium-participants': { type: 'string', default: '7' },
        'aiortc-participants': { type: 'string', default: '3' },
        frames: { type: 'string', default: '20' },
        'timeout-s': { type: 'string', default: '150' },
        width: { type: 'string', default: '160' },
        height: { type: 'string', default: '120' },
        fps: { type: 'string', default: '10' },
      },
    }));
  } catch (e) {
    usage(e.message);
  }
  const int = (name, min) => {
    const n = Number(v[name]);
    if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer >= ${min}`);
    return n;
  };
  if (!v.url) usage('--url is required');
  if (!v.room) usage('--room is required');
  const o = {
    url: v.url, room: v.room,
    chromium: int('chromium-participants', 0), aiortc: int('aiortc-participants', 0),
    frames: int('frames', 1), timeoutMs: int('timeout-s', 1) * 1000,
    video: { width: int('width', 16), height: int('height', 16), frameRate: int('fps', 1) },
  };
  if (o.chromium + o.aiortc < 2) usage('a meeting needs at least two participants');
  return o;
}

// One aiortc participant: a child process; its latest JSON line is its
// state ("holding": true once it decoded everyone).
function startAiortc(opt, name, total) {
  const ws = new URL('/ws', opt.url).href.replace(/^http/, 'ws');
  const script = fileURLToPath(new URL('./aiortc_peer.py', import.meta.url));
  const child = spawn('/usr/bin/python3', [script, '--ws', ws, '--room', opt.room, '--name', name,
    '--frames', String(opt.frames), '--expect-peer-count', String(total - 1), '--hold',
    '--timeout-s', String(opt.timeoutMs / 1000 + 60), '--width', String(opt.video.width),
    '--height', String(opt.video.height), '--fps', String(opt.video.frameRate)],
  { stdio: ['pipe', 'pipe', 'pipe'] });
  const p = { name, child, line: null, doneLine: null, stderr: '', exited: null };
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        p.line = JSON.parse(text);
        if (p.line.holding) p.doneLine = p.line;
      } catch {
        p.stderr += `${text}\n`;
      }
    }
  });
  child.stderr.on('data', (d) => { p.stderr = (p.stderr + d).slice(-4000); });
  p.exit = new Promise((resolve) => child.on('exit', (code) => { p.exited = code; resolve(code); }));
  return p;
}

// Chromium: done when joined over a connected DTLS-SRTP transport and
// every other participant delivered frames and audio.
function chromiumDone(snap, opt, others) {
  const peers = Object.values(snap.peers);
  return snap.state === 'joined' && peers.length >= others &&
    peers.every((p) => p.frames >= opt.frames && p.audio > 0) &&
    snap.dtlsState === 'connected' && !!snap.srtpCipher && snap.candidatePair;
}

// receiver name -> { sender name -> { frames, audio } }
function matrix(browsers, peers) {
  const m = {};
  for (const b of browsers) {
    const row = {};
    for (const p of Object.values((b.doneSnap || b.snap || { peers: {} }).peers)) {
      row[p.name] = { frames: p.frames, audio: p.audio };
    }
    m[b.name] = row;
  }
  for (const a of peers) {
    const l = a.doneLine || a.line || { framesDecoded: {}, audioFrames: {} };
    const row = {};
    for (const [n, f] of Object.entries(l.framesDecoded || {})) row[n] = { frames: f, audio: 0 };
    for (const [n, k] of Object.entries(l.audioFrames || {})) {
      row[n] = { frames: row[n] ? row[n].frames : 0, audio: k };
    }
    m[a.name] = row;
  }
  return m;
}

function table(names, m) {
  const w = Math.max(...names.map((n) => n.length), 5) + 1;
  const lines = ['video frames decoded (row: receiver, column: sender; "-" none, "!" no audio)',
    ''.padEnd(w) + names.map((n) => n.padStart(w)).join('')];
  for (const r of names) {
    lines.push(r.padEnd(w) + names.map((s) => {
      if (r === s) return ''.padStart(w);
      const c = m[r][s];
      return (!c ? '-' : `${c.frames}${c.audio > 0 ? '' : '!'}`).padStart(w);
    }).join(''));
  }
  return lines.join('\n');
}

async function main() {
  const opt = options();
  const total = opt.chromium + opt.aiortc;
  const started = Date.now();
  const deadline = started + opt.timeoutMs;
  const cNames = Array.from({ length: opt.chromium }, (_, i) => `chromium${i + 1}`);
  const aNames = Array.from({ length: opt.aiortc }, (_, i) => `aiortc${i + 1}`);
  const browser = await launchChromium(opt.url);
  let browsers = [];
  const peers = [];
  let error = null;
  try {
    // Stagger the joins a little: a burst of joins on two cores is slow
    // for no benefit, and joins during a meeting are what happens anyway.
    const opened = [];
    for (const n of cNames) {
      opened.push(openParticipant(browser, { ...opt }, n));
      await sleep(300);
    }
    for (const n of aNames) {
      peers.push(startAiortc(opt, n, total));
      await sleep(300);
    }
    const res = await Promise.allSettled(opened);
    browsers = res.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    const refused = res.find((r) => r.status === 'rejected');
    if (refused) throw refused.reason;
    for (;;) {
      await Promise.all(browsers.map(async (b) => {
        b.snap = await b.page.evaluate(pageSnapshot);
        if (!b.doneSnap && chromiumDone(b.snap, opt, total - 1)) b.doneSnap = b.snap;
      }));
      const bad = browsers.find((b) => b.snap.state === 'error' || b.snap.state === 'left');
      if (bad) {
        error = `${bad.name}: state ${bad.snap.state}` +
          (bad.snap.lastError ? ` (${bad.snap.lastError})` : '');
        break;
      }
      const gone = peers.find((p) => p.exited !== null);
      if (gone) {
        error = `${gone.name} exited early: ${(gone.line && gone.line.error) || gone.stderr.slice(-300)}`;
        break;
      }
      if (browsers.every((b) => b.doneSnap) && peers.every((p) => p.doneLine)) {
        const ids = new Set(browsers.map((b) => b.snap.meeting).concat(peers.map((p) => p.doneLine.meeting)));
        if (ids.size !== 1) error = 'participants ended up in different meetings';
        break;
      }
      if (Date.now() >= deadline) {
        error = `timed out after ${opt.timeoutMs / 1000} s`;
        break;
      }
      await sleep(1000);
    }
  } catch (e) {
    error = e && e.message ? e.message.split('\n')[0] : String(e);
  }
  const elapsed = (Date.now() - started) / 1000;
  // Everyone leaves now: aiortc on its standard input closing.
  for (const p of peers) p.child.stdin.end();
  await Promise.race([Promise.all(peers.map((p) => p.exit)), sleep(15000)]);
  for (const p of peers) if (p.exited === null) p.child.kill();

  const names = cNames.concat(aNames);
  const m = matrix(browsers, peers);
  const pairs = [];
  for (const r of names) for (const s of names) if (r !== s) pairs.push(m[r] && m[r][s]);
  const frames = pairs.map((c) => (c ? c.frames : 0)).sort((a, b) => a - b);
  const short = pairs.filter((c) => !c || c.frames < opt.frames || !(c.audio > 0)).length;
  if (!error && short) error = `${short} of ${pairs.length} pairs short of media`;
  process.stdout.write(`${table(names, m)}\n`);
  for (const p of peers) {
    if (!p.doneLine && p.stderr) process.stdout.write(`--- ${p.name} stderr\n${p.stderr.slice(-1500)}\n`);
  }
  const result = {
    ok: !error, participants: total, chromium: opt.chromium, aiortc: opt.aiortc,
    pairs: pairs.length, pairsShort: short,
    minFrames: frames[0], medianFrames: frames[Math.floor(frames.length / 2)],
    seconds: elapsed, error,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  await browser.close().catch(() => {});
  process.exit(result.ok ? 0 : 1);
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String(e) }) + '\n');
  process.exit(1);
});
