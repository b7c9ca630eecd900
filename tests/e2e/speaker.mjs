// Dominant speaker and speaker stats in real browsers (speaker.sh): three
// Chromium participants (fake devices: the microphone beeps) join one room
// through the web client; each answers with the ssrc-audio-level extension
// (a=extmap:1) on its audio; B and C mute their microphones. Checks that A
// becomes window.sluice.dominantSpeaker in every window (tile and list
// entry marked), that "Speaker stats" lists A with the most speaking time;
// then B unmutes (as loud as A: A stays) and A falls silent: B becomes the
// dominant speaker everywhere, not before the hold time. Measures that
// take-over (from A's silence to the last window showing B). Prints one JSON line; exits 0 only on success.
//
//   node speaker.mjs --url URL --room NAME --names "A,B,C" [--timeout-s 90]

import { parseArgs } from 'node:util';
import { launchChromium, openParticipant, sleep } from './lib.mjs';

const { values: opt } = parseArgs({ options: {
  url: { type: 'string' }, room: { type: 'string' }, names: { type: 'string' },
  'timeout-s': { type: 'string', default: '90' },
} });
if (!opt.url || !opt.room || !opt.names) {
  process.stderr.write('usage: node speaker.mjs --url URL --room NAME --names A,B,C\n');
  process.exit(2);
}
const names = opt.names.split(',');
const timeoutMs = Number(opt['timeout-s']) * 1000;
const result = { ok: false, steps: [], numbers: {} };
const step = (s) => result.steps.push(s);
const check = (cond, why) => { if (!cond) throw new Error(why); };

const browser = await launchChromium(opt.url);
const o = { url: opt.url, room: opt.room, timeoutMs, video: { width: 160, height: 90, frameRate: 5 } };
const all = [];

// Resolves once every page's dominantSpeaker is id; returns the latest
// dominantSpeakerAt (page clock = this clock: one machine).
async function everywhere(id, why) {
  let last = 0;
  for (const p of all) {
    await p.page.waitForFunction((x) => window.sluice.dominantSpeaker === x, id,
      { timeout: 20000, polling: 50 }).catch(() => {
      throw new Error(`${p.name} never showed ${why} as the dominant speaker`);
    });
    last = Math.max(last, await p.page.evaluate(() => window.sluice.dominantSpeakerAt));
  }
  return last;
}

// Clicks p's own microphone button and waits until every page knows p's
// audio is muted (or not). Returns when it clicked.
async function setMic(p, muted) {
  const t = Date.now();
  await p.page.click('#mute-audio');
  for (const q of all) {
    await q.page.waitForFunction(([id, m]) => {
      const x = window.sluice.mutes[id];
      return !!(x && x.audio) === m;
    }, [p.id, muted], { timeout: 10000 });
  }
  return t;
}

async function stats(p) {
  await p.page.evaluate(() => { window.sluice.speakerStats = []; });
  await p.page.click('#speaker-stats-button');
  await p.page.waitForFunction(() => window.sluice.speakerStats.length > 0, null, { timeout: 10000 });
  return p.page.evaluate(() => ({
    stats: window.sluice.speakerStats,
    shown: [...document.querySelectorAll('#speaker-stats-list li')].map((li) => li.textContent),
  }));
}

try {
  for (const name of names) all.push(await openParticipant(browser, o, name));
  for (const p of all) {
    await p.page.waitForFunction(() => window.sluice.state === 'joined' && window.sluice.pc &&
      window.sluice.pc.connectionState === 'connected' && window.sluice.participants.length === 3,
    null, { timeout: timeoutMs });
    p.id = await p.page.evaluate(() => window.sluice.participant);
    const sdp = await p.page.evaluate(() => window.sluice.pc.localDescription.sdp);
    check(/^a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r?$/m.test(sdp),
      `${p.name}'s answer lacks a=extmap:1 ssrc-audio-level`);
  }
  step('three participants connected; every answer has a=extmap:1 ssrc-audio-level');
  const [a, b, c] = all;

  result.numbers.first_speaker = (await a.page.evaluate(() => window.sluice.dominantSpeaker)) ===
    a.id ? 'A' : 'B or C';
  const t1 = await setMic(b, true);
  await setMic(c, true);
  const at1 = await everywhere(a.id, a.name);
  result.numbers.a_shown_after_mutes_ms = Math.max(0, at1 - t1);
  step(`B and C muted: A is the dominant speaker in every window ` +
    `(the first speaker was ${result.numbers.first_speaker})`);
  for (const p of all) {
    const marks = await p.page.evaluate((id) => ({
      tile: [...document.querySelectorAll('#grid .tile.speaking')].map((e) => e.dataset.participant),
      list: [...document.querySelectorAll('#participants li.speaking')].map((e) => e.dataset.id),
    }), a.id);
    check(JSON.stringify(marks.list) === JSON.stringify([a.id]), `${p.name} list marks ${marks.list}`);
    // A sees itself as 'local', not as a remote tile.
    const want = p === a ? [] : [a.id];
    check(JSON.stringify(marks.tile) === JSON.stringify(want), `${p.name} tiles mark ${marks.tile}`);
  }
  step("A's tile and list entry are marked in every window");

  await sleep(3000);
  for (const p of all) {
    check(await p.page.evaluate((id) => window.sluice.dominantSpeaker === id, a.id),
      `${p.name}: the dominant speaker changed while only A spoke`);
  }
  const s1 = await stats(c);
  check(s1.stats.length === 3 && s1.stats[0].participant === a.id &&
    s1.stats[0].speaking_ms > s1.stats[1].speaking_ms, `stats: ${JSON.stringify(s1.stats)}`);
  check(s1.shown.length === 3 && s1.shown[0].startsWith(a.name), `shown: ${s1.shown}`);
  result.numbers.speaking_ms = Object.fromEntries(s1.stats.map((e) => [e.name, e.speaking_ms]));
  step(`speaker stats: A speaks longest (${JSON.stringify(result.numbers.speaking_ms)})`);

  // B speaks as loud as A (the same fake beep): A stays (not 6 dB louder).
  await setMic(b, false);
  await sleep(2500);
  result.numbers.b_took_over_while_a_spoke = await b.page.evaluate(
    (id) => window.sluice.dominantSpeaker === id, b.id);
  // A falls silent (its track sends silence; no mute message): B takes
  // over once A has been silent for the gap (0.6 s) and B louder for the
  // hold time (1 s).
  const t2 = Date.now();
  await a.page.evaluate(() => {
    for (const s of window.sluice.pc.getSenders()) if (s.track && s.track.kind === 'audio') s.track.enabled = false;
  });
  const at2 = await everywhere(b.id, b.name);
  result.numbers.takeover_after_silence_ms = at2 - t2;
  // The server saw A's last beep before t2 (the fake microphone beeps about
  // once a second, silent in between), so B's earliest take-over is the gap
  // plus the hold (1.6 s) after that beep: at least ~0.6 s after t2, less
  // the 0.2 s level interval. Not at once is what this checks; the exact
  // hold time (1.00-1.01 s) is measured by controlplane_meeting with
  // injected levels.
  check(at2 - t2 >= 400, `B took over ${at2 - t2} ms after A fell silent: no hysteresis`);
  step(`A silent: B is the dominant speaker in every window ` +
    `(${result.numbers.takeover_after_silence_ms} ms after A fell silent)`);
  // A mutes: the speaker stays B; A's speaking time stops growing.
  await setMic(a, true);
  const s2 = await stats(b);
  const ms = (e) => s2.stats.find((x) => x.participant === e.id).speaking_ms;
  check(ms(b) > 1000 && ms(a) >= result.numbers.speaking_ms[a.name], `stats: ${JSON.stringify(s2.stats)}`);
  result.numbers.speaking_ms_end = Object.fromEntries(s2.stats.map((e) => [e.name, e.speaking_ms]));
  result.ok = true;
} catch (e) {
  result.error = String(e.message || e).split('\n')[0];
}
process.stdout.write(JSON.stringify(result) + '\n');
await browser.close().catch(() => {});
process.exit(result.ok ? 0 : 1);
