// Publishers come and go, in real browsers: A, B and C meet; C leaves; D
// joins. The server re-offers every time: C's m= sections go inactive in
// A's and B's offers and are reused for D's streams. Checks that A and B
// decode D's video on those reused sections (counted only from RTP streams
// that did not exist before C left), and that D decodes A's and B's.
// Prints one JSON line; exits 0 only on success.
//
//   node churn.mjs --url http://127.0.0.1:8080/ --room NAME [--frames 50] [--timeout-s 90] [--ipv4]

import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: opt } = parseArgs({ options: {
  url: { type: 'string' }, room: { type: 'string' },
  frames: { type: 'string', default: '50' }, 'timeout-s': { type: 'string', default: '90' },
  ipv4: { type: 'boolean', default: false },
} });
if (!opt.url || !opt.room) {
  process.stderr.write('usage: node churn.mjs --url URL --room NAME [--frames 50] [--timeout-s 90]\n');
  process.exit(2);
}
const frames = Number(opt.frames);
const deadline = Date.now() + Number(opt['timeout-s']) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// In the page: video frames decoded per remote participant name, per RTP
// stream (ssrc), from the mids the current offer maps to that participant.
async function videoBySsrc(peerName) {
  const s = window.sluice;
  const id = new Map(s.participants.map((p) => [p.name, p.id])).get(peerName);
  const mids = new Set(s.tracks.filter((t) => t.participant === id).map((t) => t.mid));
  const out = { mids: [...mids], ssrcs: {} };
  (await s.pc.getStats()).forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'video' && mids.has(r.mid)) out.ssrcs[r.ssrc] = r.framesDecoded || 0;
  });
  return out;
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    `--unsafely-treat-insecure-origin-as-secure=${new URL(opt.url).origin}`,
    // --ipv4: no IPv6 candidates, so this run covers the IPv4 path.
    ...(opt.ipv4 ? ['--force-fieldtrials=WebRTC-IPv6Default/Disabled/'] : [])],
});
const pages = {};
async function open(name) {
  const ctx = await browser.newContext({ permissions: ['camera', 'microphone'] });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => process.stderr.write(`[${name}] ${e.message}\n`));
  await page.goto(opt.url);
  await page.fill('#room', opt.room);
  await page.fill('#name', name);
  await page.click('#join');
  pages[name] = page;
}
// Wait until `who` has decoded >= n frames of `peer` from a stream not in `old`.
async function waitFrames(who, peer, n, old = new Set()) {
  for (;;) {
    const v = await pages[who].evaluate(videoBySsrc, peer);
    const got = Object.entries(v.ssrcs).filter(([s]) => !old.has(s)).reduce((a, [, f]) => a + f, 0);
    if (got >= n) return { ...v, got };
    if (Date.now() > deadline) throw new Error(`${who} decoded ${got} frames of ${peer} (${JSON.stringify(v)})`);
    await sleep(500);
  }
}

const result = { ok: false };
try {
  for (const n of ['A', 'B', 'C']) await open(n);
  const before = await waitFrames('A', 'C', frames);
  await waitFrames('B', 'C', frames);
  const oldA = new Set(Object.keys(before.ssrcs));
  const oldB = new Set(Object.keys((await pages.B.evaluate(videoBySsrc, 'C')).ssrcs));
  await pages.C.click('#leave');
  await pages.C.waitForFunction(() => window.sluice.state === 'left');
  await open('D');
  const aFromD = await waitFrames('A', 'D', frames, oldA);
  const bFromD = await waitFrames('B', 'D', frames, oldB);
  const dFromA = await waitFrames('D', 'A', frames);
  const dFromB = await waitFrames('D', 'B', frames);
  const reused = before.mids.every((m) => aFromD.mids.includes(m));
  result.ipFamily = await pages.A.evaluate(async () => {
    const st = await window.sluice.pc.getStats();
    let fam = null;
    st.forEach((r) => {
      const pair = r.type === 'transport' && st.get(r.selectedCandidatePairId);
      const remote = pair && st.get(pair.remoteCandidateId);
      if (remote && remote.address) fam = remote.address.includes(':') ? 'IPv6' : 'IPv4';
    });
    return fam;
  });
  result.cMids = before.mids;
  result.dMidsAtA = aFromD.mids;
  result.frames = { AfromD: aFromD.got, BfromD: bFromD.got, DfromA: dFromA.got, DfromB: dFromB.got };
  result.ok = reused;
  if (!reused) result.error = "D's streams did not reuse C's sections";
} catch (e) {
  result.error = String(e.message || e).split('\n')[0];
}
process.stdout.write(JSON.stringify(result) + '\n');
await browser.close().catch(() => {});
process.exit(result.ok ? 0 : 1);
