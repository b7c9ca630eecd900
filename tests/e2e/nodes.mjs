// Two nodes, one meeting: participant A opens node 1's page (--url1) and
// joins the room, so node 1 owns the meeting; then participant B opens
// node 2's page (--url2, another origin) and joins the same room. Node 2
// answers 'redirect' with node 1's --public-url and B's web client sends
// the same join there. Both are then watched through getStats() (lib.mjs
// pageSnapshot) until each has decoded enough video frames and received
// audio from the other, in one meeting. While both are in, the /metrics
// of both nodes (--metrics1, --metrics2) are read and reported. Prints one
// JSON line: ok, redirects (window.sluice.redirects of A and B), meeting
// ids, per-participant summaries, the metrics and any error; exits 0 only
// when the media checks passed (nodes.sh checks the rest).
//
//   node nodes.mjs --url1 http://127.0.0.1:8080/ --url2 http://127.0.0.1:8081/ --room NAME
//        --metrics1 URL --metrics2 URL [--frames 100] [--timeout-s 120] [--leave]

import { parseArgs } from 'node:util';
import { launchChromium, openParticipant, pageSnapshot, untilPage, sleep } from './lib.mjs';

const { values: v } = parseArgs({
  options: {
    url1: { type: 'string' },
    url2: { type: 'string' },
    room: { type: 'string' },
    metrics1: { type: 'string' },
    metrics2: { type: 'string' },
    frames: { type: 'string', default: '100' },
    'timeout-s': { type: 'string', default: '120' },
    leave: { type: 'boolean', default: false },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
for (const k of ['url1', 'url2', 'room', 'metrics1', 'metrics2']) {
  if (!v[k]) {
    process.stderr.write(`nodes.mjs: --${k} is required\n`);
    process.exit(2);
  }
}
const frames = Number(v.frames);
const timeoutMs = Number(v['timeout-s']) * 1000;

// The received media check of meeting.mjs: the other one decoded and heard,
// over a connected DTLS-SRTP transport.
function done(snap) {
  const peers = Object.values(snap.peers);
  return snap.state === 'joined' && peers.length >= 1 &&
    peers.every((p) => p.frames >= frames && p.audio > 0) &&
    snap.dtlsState === 'connected' && !!snap.srtpCipher && snap.candidatePair;
}

// The unlabelled samples of a Prometheus text page, by name.
async function metrics(url) {
  const r = await fetch(url);
  const out = {};
  for (const line of (await r.text()).split('\n')) {
    const m = /^(sluice_[a-z_]+) ([0-9.eE+-]+)$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

async function main() {
  const deadline = Date.now() + timeoutMs;
  const browser = await launchChromium(v.url1, { chromium: v.chromium });
  const parts = [];
  const result = { ok: false, redirects: [], meeting: [], participants: [], metrics: {}, error: null };
  try {
    // A first, on node 1: it creates the meeting there.
    const a = await openParticipant(browser, { url: v.url1, room: v.room, timeoutMs }, 'Ada Lovelace');
    parts.push(a);
    await untilPage(a, () => window.sluice.state === 'joined', null, 'A did not join', timeoutMs);
    // B on node 2, which does not hold the meeting.
    const b = await openParticipant(browser, { url: v.url2, room: v.room, timeoutMs }, 'Grace Hopper');
    parts.push(b);
    for (;;) {
      for (const p of parts) p.snap = await p.page.evaluate(pageSnapshot);
      const bad = parts.find((p) => p.snap.state === 'error' || p.snap.state === 'left');
      if (bad) throw new Error(`${bad.name}: state ${bad.snap.state} (${bad.snap.lastError})`);
      if (parts.every((p) => done(p.snap))) break;
      if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs / 1000} s`);
      await sleep(500);
    }
    result.metrics = { node1: await metrics(v.metrics1), node2: await metrics(v.metrics2) };
    if (v.leave) {
      for (const p of parts) {
        await p.page.click('#leave');
        await untilPage(p, () => window.sluice.state === 'left', null, 'did not leave', 10000);
      }
    }
    result.ok = true;
  } catch (e) {
    result.error = e && e.message ? e.message.split('\n')[0] : String(e);
  }
  for (const p of parts) {
    result.redirects.push(await p.page.evaluate(() => window.sluice.redirects).catch(() => null));
    result.meeting.push(p.snap ? p.snap.meeting : null);
    const peers = p.snap ? Object.values(p.snap.peers) : [];
    result.participants.push({
      name: p.name, state: p.snap ? p.snap.state : null,
      framesDecoded: peers.map((q) => q.frames), audioPackets: peers.map((q) => q.audio),
      dtlsState: p.snap ? p.snap.dtlsState : null, srtpCipher: p.snap ? p.snap.srtpCipher : null,
      ipFamily: p.snap ? p.snap.ipFamily : null,
    });
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  await browser.close().catch(() => {});
  process.exit(result.ok ? 0 : 1);
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String(e) }) + '\n');
  process.exit(1);
});
