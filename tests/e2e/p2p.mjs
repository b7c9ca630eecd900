// End-to-end test of one-to-one meetings peer-to-peer (web/p2p.js,
// meeting/p2p.c), driven by p2p.sh: participants A and B run in two
// Chromium browsers in two network namespaces that reach each other
// directly; the third, C, is a second context of A's browser.
//   1. A and B join: both reach sluice.p2p.state 'direct'; on each the
//      direct pc's selected candidate pair is host-to-host with the other's
//      address (never the dataplane's 10.98.0.1 / fd98::1), its inbound
//      video frames grow, and the SFU pc sends no more video (outbound-rtp
//      bytes stop) nor decodes the other's video (inbound frames stop);
//   2. C joins: A and B fall back (state not direct) and everyone decodes
//      everyone through the SFU (+frames for every pair) within the timeout;
//   3. C leaves: A and B go direct again;
//   4. the direct path breaks (a blackhole route in B's namespace to A's
//      addresses): both fall back to the SFU and decode each other there.
// Prints one JSON line with the times measured; exits 0 only on success.
//
//   node p2p.mjs --url URL --room NAME --chromium-a WRAPPER --chromium-b WRAPPER
//        --ns-b NS [--names a,b,c] [--timeout-s 60]

import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { launchChromium, openParticipant, pageSnapshot, sleep } from './lib.mjs';

const { values: v } = parseArgs({
  options: {
    url: { type: 'string' },
    room: { type: 'string' },
    'chromium-a': { type: 'string' },
    'chromium-b': { type: 'string' },
    'ns-b': { type: 'string' },
    names: { type: 'string', default: 'Ada,Bea,Cy' },
    'timeout-s': { type: 'string', default: '60' },
  },
});
for (const k of ['url', 'room', 'chromium-a', 'chromium-b', 'ns-b']) {
  if (!v[k]) {
    process.stderr.write(`p2p.mjs: --${k} is required\n`);
    process.exit(2);
  }
}
const names = v.names.split(',');
const timeoutMs = Number(v['timeout-s']) * 1000;
const opt = { url: v.url, room: v.room, timeoutMs };
const HOST = { A: ['10.98.0.11', 'fd98::11'], B: ['10.98.0.12', 'fd98::12'] };
const DATAPLANE = ['10.98.0.1', 'fd98::1'];
const numbers = {};
const steps = [];

// In the page: the direct pc and the SFU pc as getStats sees them.
async function p2pSnapshot() {
  const s = window.sluice;
  const p = s.p2p || {};
  const out = {
    state: p.state, switchMs: p.switchMs, fallbacks: p.fallbacks, lastFallback: p.lastFallback,
    directFrames: 0, pair: null, sfuVideoBytesSent: 0, sfuAudioBytesSent: 0,
  };
  if (s.pc) {
    (await s.pc.getStats()).forEach((r) => {
      if (r.type !== 'outbound-rtp') return;
      if ((r.kind || r.mediaType) === 'video') out.sfuVideoBytesSent += r.bytesSent || 0;
      else out.sfuAudioBytesSent += r.bytesSent || 0;
    });
  }
  if (p.pc) {
    const st = await p.pc.getStats();
    st.forEach((r) => {
      if (r.type === 'inbound-rtp' && (r.kind || r.mediaType) === 'video') {
        out.directFrames += r.framesDecoded || 0;
      } else if (r.type === 'transport' && r.selectedCandidatePairId) {
        const pair = st.get(r.selectedCandidatePairId);
        const l = pair && st.get(pair.localCandidateId);
        const rc = pair && st.get(pair.remoteCandidateId);
        if (pair) {
          out.pair = {
            state: pair.state, local: l && (l.address || l.ip), localType: l && l.candidateType,
            remote: rc && (rc.address || rc.ip), remoteType: rc && rc.candidateType,
          };
        }
      }
    });
  }
  return out;
}

const fail = (why) => {
  throw new Error(why);
};

async function waitFor(what, fn, ms = timeoutMs) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last && last.ok) return last;
    await sleep(250);
  }
  fail(`${what}: timed out; last: ${JSON.stringify(last && last.info)}`);
}

const snap = (p) => p.page.evaluate(p2pSnapshot);
const sfu = (p) => p.page.evaluate(pageSnapshot);

async function bothDirect(a, b, what) {
  const t0 = Date.now();
  await waitFor(what, async () => {
    const [sa, sb] = [await snap(a), await snap(b)];
    return { ok: sa.state === 'direct' && sb.state === 'direct', info: [sa, sb] };
  });
  return Date.now() - t0;
}

// The direct path carries the media: host-to-host pair with the other's
// address, direct frames growing; the SFU pc sends no more video.
async function checkDirect(a, b) {
  for (const [p, other] of [[a, 'B'], [b, 'A']]) {
    const s = await snap(p);
    const pair = s.pair;
    if (!pair || pair.state !== 'succeeded') fail(`${p.name}: no succeeded direct pair: ${JSON.stringify(s)}`);
    if (pair.localType !== 'host' || pair.remoteType !== 'host') fail(`${p.name}: pair not host-to-host: ${JSON.stringify(pair)}`);
    if (!HOST[other].includes(pair.remote) || DATAPLANE.includes(pair.remote)) {
      fail(`${p.name}: the direct pair's remote is ${pair.remote}, not ${other}'s host address`);
    }
    numbers[`pair_${other === 'B' ? 'a' : 'b'}`] = `${pair.local} -> ${pair.remote}`;
  }
  await sleep(1000); // packets already in flight through the SFU
  const before = [await snap(a), await snap(b)];
  const sfuBefore = [await sfu(a), await sfu(b)];
  await sleep(2000);
  const after = [await snap(a), await snap(b)];
  const sfuAfter = [await sfu(a), await sfu(b)];
  for (let i = 0; i < 2; i++) {
    const who = [a, b][i].name;
    const grew = after[i].directFrames - before[i].directFrames;
    if (grew < 20) fail(`${who}: direct video decoded only ${grew} frames in 2 s`);
    const sent = after[i].sfuVideoBytesSent - before[i].sfuVideoBytesSent;
    if (sent > 0) fail(`${who}: still sent ${sent} video bytes through the SFU in 2 s`);
    const sfuFrames = (s) => Object.values(s.peers).reduce((n, x) => n + x.frames, 0);
    const got = sfuFrames(sfuAfter[i]) - sfuFrames(sfuBefore[i]);
    if (got > 0) fail(`${who}: still decoded ${got} frames through the SFU in 2 s`);
    numbers[`direct_fps_${i ? 'b' : 'a'}`] = grew / 2;
  }
}

// Every page decodes every other participant through the SFU: +frames each.
async function everyoneThroughSfu(pages, n, what) {
  const base = new Map();
  for (const p of pages) base.set(p, (await sfu(p)).peers);
  const t0 = Date.now();
  await waitFor(what, async () => {
    const info = {};
    let ok = true;
    for (const p of pages) {
      const s = await sfu(p);
      const peers = Object.entries(s.peers);
      info[p.name] = peers.map(([id, x]) => [x.name, x.frames]);
      if (peers.length < n - 1) ok = false;
      for (const [id, x] of peers) {
        const b = base.get(p)[id];
        if (x.frames - (b ? b.frames : 0) < 30) ok = false;
      }
    }
    return { ok, info };
  });
  return Date.now() - t0;
}

let browserA;
let browserB;
try {
  browserA = await launchChromium(opt.url, { chromium: v['chromium-a'] });
  browserB = await launchChromium(opt.url, { chromium: v['chromium-b'] });
  const t0 = Date.now();
  const a = await openParticipant(browserA, opt, names[0]);
  const b = await openParticipant(browserB, opt, names[1]);
  await bothDirect(a, b, 'A and B direct');
  numbers.join_to_direct_ms = Date.now() - t0;
  numbers.switch_ms = [(await snap(a)).switchMs, (await snap(b)).switchMs];
  await checkDirect(a, b);
  steps.push('two participants: host-to-host direct pair, SFU video stopped');

  const c = await openParticipant(browserA, opt, names[2]);
  const t1 = Date.now();
  await waitFor('A and B leave the direct path', async () => {
    const [sa, sb] = [await snap(a), await snap(b)];
    return { ok: sa.state !== 'direct' && sb.state !== 'direct', info: [sa, sb] };
  });
  numbers.third_join_to_fallback_ms = Date.now() - t1;
  numbers.fallback_to_all_decoding_ms = await everyoneThroughSfu([a, b, c], 3, 'three through the SFU');
  numbers.third_join_to_all_decoding_ms = Date.now() - t1;
  steps.push('a third participant: everyone decodes everyone through the SFU');

  await c.page.evaluate(() => window.sluice.leave());
  numbers.back_to_direct_ms = await bothDirect(a, b, 'direct again after the third left');
  steps.push('the third leaves: direct again');

  // Break the direct path: B can no longer reach A's host addresses.
  const t2 = Date.now();
  for (const [fam, addr] of [['-4', '10.98.0.11/32'], ['-6', 'fd98::11/128']]) {
    execFileSync('ip', ['-n', v['ns-b'], fam, 'route', 'add', 'blackhole', addr]);
  }
  await waitFor('fall back when the direct path breaks', async () => {
    const [sa, sb] = [await snap(a), await snap(b)];
    return { ok: sa.state !== 'direct' && sb.state !== 'direct', info: [sa, sb] };
  });
  numbers.broken_path_to_fallback_ms = Date.now() - t2;
  numbers.broken_fallback_to_decoding_ms = await everyoneThroughSfu([a, b], 2, 'two through the SFU after the break');
  steps.push('the direct path breaks: back to the SFU');
  process.stdout.write(JSON.stringify({ ok: true, steps, numbers }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: e.message, steps, numbers }) + '\n');
  process.exitCode = 1;
} finally {
  await Promise.allSettled([browserA && browserA.close(), browserB && browserB.close()]);
}
