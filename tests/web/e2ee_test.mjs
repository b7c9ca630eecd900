// The web client's end-to-end encryption worker (web/e2ee-worker.js) under
// node, with node's WebCrypto and web streams: the frames of fake senders
// and receivers are piped through its rtctransform handler as Chromium
// would. Checks the frame format (clear header of 10/3/1 bytes, ciphertext
// and tag, IV, header length, magic), that the IVs never repeat within a
// sender or across senders sharing the key, that a receiver with the key
// gets the sender's frames back byte for byte, and that one with another
// key, or a frame that was changed, or a clear frame while encryption is
// on, or any frame before the worker was told whether it is on, reaches no
// decoder (and is counted). Usage: node e2ee_test.mjs WEB_DIR
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const code = readFileSync(join(process.argv[2], 'e2ee-worker.js'), 'utf8');

// A fresh worker: its global `self`, and its once-a-second stats callback.
function load() {
  const self = { posted: [] };
  self.postMessage = (m) => self.posted.push(m);
  let tick = null;
  new Function('self', 'setInterval', code)(self, (fn) => { tick = fn; return 0; });
  self.stats = () => {
    tick();
    return self.posted.filter((m) => m.type === 'stats').pop().stats;
  };
  return self;
}

// Pipes copies of frames through a transform with these options; resolves
// to the frames that came out.
function run(w, options, frames) {
  return new Promise((resolve) => {
    const out = [];
    const readable = new ReadableStream({
      start(c) {
        for (const f of frames) c.enqueue({ type: f.type, data: f.data.slice(0) });
        c.close();
      },
    });
    const writable = new WritableStream({ write(f) { out.push(f); }, close() { resolve(out); } });
    w.onrtctransform({ transformer: { options, readable, writable } });
  });
}

const newKey = () => crypto.subtle.importKey('raw', crypto.getRandomValues(new Uint8Array(32)),
  'AES-GCM', false, ['encrypt', 'decrypt']);
const frame = (type, n) => ({ type, data: crypto.getRandomValues(new Uint8Array(n)).buffer });
const bytes = (f) => new Uint8Array(f.data);
const hex = (a) => Buffer.from(a).toString('hex');

let passed = 0;
async function test(name, fn) {
  await fn();
  passed++;
  console.log(`ok ${passed} - ${name}`);
}

const key = await newKey();
const video = { side: 'send', mid: '1', kind: 'video' };
const audio = { side: 'send', mid: '0', kind: 'audio' };
const recvVideo = { side: 'recv', mid: '3', kind: 'video' };
const recvAudio = { side: 'recv', mid: '2', kind: 'audio' };
const input = [frame('key', 1000), frame('delta', 200), frame('delta', 3), frame('delta', 1)];
const audioIn = [frame(undefined, 80), frame(undefined, 1)];

await test('before it is told whether it is on, nothing passes either way', async () => {
  const w = load();
  assert.equal((await run(w, video, input)).length, 0);
  assert.equal((await run(w, recvVideo, input)).length, 0);
  assert.equal(w.stats().send['1'].dropped, input.length);
  assert.equal(w.stats().recv['3'].nokey, input.length);
});

await test('on without a key: senders send nothing, receivers drop and count nokey', async () => {
  const w = load();
  w.onmessage({ data: { type: 'key', key: null, enabled: true } });
  assert.equal((await run(w, video, input)).length, 0);
  const a = load();
  a.onmessage({ data: { type: 'key', key, enabled: true } });
  const sealed = await run(a, video, input);
  assert.equal((await run(w, recvVideo, sealed)).length, 0);
  assert.equal(w.stats().recv['3'].nokey, input.length);
});

await test('frame format: clear header (VP8 10/3, Opus 1), ciphertext+tag, IV, length, magic', async () => {
  const w = load();
  w.onmessage({ data: { type: 'key', key, enabled: true } });
  const out = await run(w, video, input);
  const outA = await run(w, audio, audioIn);
  const cases = [[input, out, [10, 3, 3, 1]], [audioIn, outA, [1, 1]]];
  for (const [ins, outs, clear] of cases) {
    assert.equal(outs.length, ins.length);
    outs.forEach((f, i) => {
      const p = bytes(ins[i]);
      const c = bytes(f);
      const h = clear[i];
      assert.equal(f.type, ins[i].type);
      assert.equal(c.length, p.length + 16 + 12 + 3);
      assert.deepEqual(c.subarray(0, h), p.subarray(0, h));
      assert.deepEqual([...c.subarray(c.length - 3)], [h, 0xe2, 0xee]);
      if (p.length - h >= 8) assert.notDeepEqual(c.subarray(h, p.length), p.subarray(h));
    });
  }
  assert.equal(w.stats().send['1'].encrypted, input.length);
  assert.equal(w.stats().send['1'].clear, 0);
});

await test('IVs: random prefix per sender, counter per frame, never repeated', async () => {
  const w = load();
  w.onmessage({ data: { type: 'key', key, enabled: true } });
  const many = Array.from({ length: 500 }, () => frame('delta', 20));
  const ivs = new Set();
  const prefixes = new Set();
  for (const opts of [video, audio, { ...video, mid: '5' }]) {
    const out = await run(w, opts, many);
    out.forEach((f, i) => {
      const c = bytes(f);
      const iv = c.subarray(c.length - 15, c.length - 3);
      ivs.add(hex(iv));
      prefixes.add(hex(iv.subarray(0, 8)));
      assert.equal(new DataView(iv.buffer, iv.byteOffset).getUint32(8), i);
    });
  }
  assert.equal(ivs.size, 3 * many.length);
  assert.equal(prefixes.size, 3);
});

await test('a receiver with the key gets the frames back byte for byte', async () => {
  const a = load();
  const b = load();
  a.onmessage({ data: { type: 'key', key, enabled: true } });
  b.onmessage({ data: { type: 'key', key, enabled: true } });
  const got = await run(b, recvVideo, await run(a, video, input));
  const gotA = await run(b, recvAudio, await run(a, audio, audioIn));
  assert.deepEqual(got.map(bytes), input.map(bytes));
  assert.deepEqual(gotA.map(bytes), audioIn.map(bytes));
  assert.equal(b.stats().recv['3'].decrypted, input.length);
});

await test('another key, a changed byte (header, ciphertext, IV, length): dropped, counted', async () => {
  const a = load();
  a.onmessage({ data: { type: 'key', key, enabled: true } });
  const sealed = await run(a, video, input);
  const c = load();
  c.onmessage({ data: { type: 'key', key: await newKey(), enabled: true } });
  assert.equal((await run(c, recvVideo, sealed)).length, 0);
  assert.equal(c.stats().recv['3'].failed, input.length);
  const b = load();
  b.onmessage({ data: { type: 'key', key, enabled: true } });
  const k = bytes(sealed[0]);
  const changed = [0, 20, k.length - 10, k.length - 3].map((at) => {
    const d = k.slice();
    d[at] ^= 1;
    return { type: 'key', data: d.buffer };
  });
  assert.equal((await run(b, recvVideo, changed)).length, 0);
  assert.equal(b.stats().recv['3'].failed, changed.length);
});

await test('clear frames: dropped while on (plain), passed while off (clear)', async () => {
  const b = load();
  b.onmessage({ data: { type: 'key', key, enabled: true } });
  assert.equal((await run(b, recvVideo, input)).length, 0);
  assert.equal(b.stats().recv['3'].plain, input.length);
  b.onmessage({ data: { type: 'enabled', enabled: false } });
  assert.deepEqual((await run(b, { ...recvVideo, mid: '7' }, input)).map(bytes), input.map(bytes));
  // Off, a sender sends in clear; a receiver still decrypts with its key.
  assert.deepEqual((await run(b, video, input)).map(bytes), input.map(bytes));
  const a = load();
  a.onmessage({ data: { type: 'key', key, enabled: true } });
  const got = await run(b, { ...recvVideo, mid: '9' }, await run(a, video, input));
  assert.deepEqual(got.map(bytes), input.map(bytes));
});

console.log(`${passed} passed, 0 failed`);
