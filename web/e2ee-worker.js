/*
 * Sluice web client: the end-to-end encryption worker (a dedicated Worker
 * started by e2ee.js). Every RTCRtpSender and RTCRtpReceiver that e2ee.js
 * gives an RTCRtpScriptTransform gets its encoded frames piped through
 * here. Senders encrypt with AES-GCM under the meeting key; receivers
 * decrypt, and drop (never hand to the decoder) what does not decrypt, and
 * while encryption is on, what is not encrypted. The frame format (see
 * docs/controlplane.md, "End-to-end encryption (web client)"):
 *
 *   clear header | ciphertext and 16-byte tag | IV (12) | header length (1) | 0xE2 0xEE
 *
 * The clear header is the first bytes of the frame, left readable so that
 * the packetizer and depacketizer still find what they need (VP8: 10 bytes
 * of a keyframe, 3 of a delta frame; Opus: 1 byte, its TOC); it is the
 * AES-GCM additional data, so it is authenticated too. The IV is a random
 * 8-byte prefix per sender (drawn again for every key) and a 32-bit frame
 * counter: every sender of a meeting shares the key, and the random prefix
 * keeps their IVs apart. Until the first 'key' or 'enabled' message, frames
 * are dropped both ways (nothing leaves in clear by a race). The main
 * thread posts {type: 'key', key, enabled}, {type: 'enabled', enabled} and
 * {type: 'record', on}; the worker posts {type: 'stats'} once a second and
 * answers {type: 'records'}. A frame's bytes are never logged.
 */
'use strict';

const IV_LEN = 12;
const TAG_LEN = 16;
const TRAILER_LEN = IV_LEN + 3; // IV, header length, magic
const MAGIC0 = 0xe2;
const MAGIC1 = 0xee;
const RECORD_MAX = 20000; // hashes kept per list while recording (tests only)

let key = null; // the meeting's AES-GCM CryptoKey (not extractable)
let keyGen = 0; // bumped on every new key: senders draw a new IV prefix
let enabled = false; // encrypt what is sent, drop what is received in clear
let configured = false; // until the first message says whether it is on, nothing passes
let record = false; // keep SHA-256 hashes of frames (the end-to-end test reads them)
let records = { send: {}, recv: {} };
const stats = { send: {}, recv: {} }; // per mid: frame counters

// The bytes left in clear at the start of a frame.
function clearBytes(frame, kind) {
  if (kind === 'audio') return 1;
  return frame.type === 'key' ? 10 : 3;
}

function isTagged(data) {
  const n = data.length;
  return n >= TRAILER_LEN + TAG_LEN && data[n - 1] === MAGIC1 && data[n - 2] === MAGIC0;
}

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

// Test recording: the SHA-256 of a copy of the bytes goes into list[name].
function remember(side, mid, name, bytes) {
  if (!record) return;
  const byMid = records[side][mid] || (records[side][mid] = {});
  const list = byMid[name] || (byMid[name] = []);
  if (list.length >= RECORD_MAX) return;
  crypto.subtle.digest('SHA-256', bytes.slice()).then((h) => list.push(hex(h)));
}

function newPrefix(st) {
  st.prefix = crypto.getRandomValues(new Uint8Array(8));
  st.counter = 0;
  st.keyGen = keyGen;
}

async function encrypt(st, frame, ctl) {
  const c = st.count;
  if (!configured) {
    c.dropped++;
    return;
  }
  if (!enabled) {
    c.clear++;
    ctl.enqueue(frame);
    return;
  }
  const k = key;
  const data = new Uint8Array(frame.data);
  if (!k) { // on, but no key yet: nothing leaves in clear
    c.dropped++;
    return;
  }
  if (data.length === 0) {
    ctl.enqueue(frame);
    return;
  }
  if (st.keyGen !== keyGen || st.counter > 0xffffffff) newPrefix(st);
  const iv = new Uint8Array(IV_LEN);
  iv.set(st.prefix);
  new DataView(iv.buffer).setUint32(8, st.counter++);
  const h = Math.min(clearBytes(frame, st.kind), data.length);
  let sealed;
  try {
    sealed = new Uint8Array(await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: data.subarray(0, h), tagLength: TAG_LEN * 8 },
      k, data.subarray(h)));
  } catch (e) {
    c.dropped++;
    return;
  }
  const out = new Uint8Array(h + sealed.length + TRAILER_LEN);
  out.set(data.subarray(0, h));
  out.set(sealed, h);
  out.set(iv, h + sealed.length);
  out[out.length - 3] = h;
  out[out.length - 2] = MAGIC0;
  out[out.length - 1] = MAGIC1;
  remember('send', st.mid, 'plain', data);
  remember('send', st.mid, 'cipher', out);
  frame.data = out.buffer;
  c.encrypted++;
  ctl.enqueue(frame);
}

async function decrypt(st, frame, ctl) {
  const c = st.count;
  const data = new Uint8Array(frame.data);
  if (!configured) {
    c.nokey++;
    return;
  }
  if (data.length === 0) {
    ctl.enqueue(frame);
    return;
  }
  remember('recv', st.mid, 'received', data);
  if (!isTagged(data)) {
    if (enabled) { // a peer without end-to-end encryption: dropped while it is on
      c.plain++;
      return;
    }
    c.clear++;
    ctl.enqueue(frame);
    return;
  }
  const n = data.length;
  const h = data[n - 3];
  const k = key;
  if (!k) { // the key is still being derived (at the start, or a new passphrase)
    c.nokey++;
    return;
  }
  if (h > n - TRAILER_LEN - TAG_LEN) {
    c.failed++;
    return;
  }
  let opened;
  try {
    opened = new Uint8Array(await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: data.subarray(n - TRAILER_LEN, n - 3),
        additionalData: data.subarray(0, h), tagLength: TAG_LEN * 8 },
      k, data.subarray(h, n - TRAILER_LEN)));
  } catch (e) { // wrong key or damaged: never reaches the decoder
    c.failed++;
    return;
  }
  const out = new Uint8Array(h + opened.length);
  out.set(data.subarray(0, h));
  out.set(opened, h);
  frame.data = out.buffer;
  c.decrypted++;
  ctl.enqueue(frame);
}

self.onrtctransform = (ev) => {
  const t = ev.transformer;
  const o = t.options || {};
  const side = o.side === 'send' ? 'send' : 'recv';
  const mid = String(o.mid);
  const count = side === 'send'
    ? { encrypted: 0, dropped: 0, clear: 0 }
    : { decrypted: 0, failed: 0, plain: 0, clear: 0, nokey: 0 };
  stats[side][mid] = count;
  const st = { mid, kind: o.kind === 'audio' ? 'audio' : 'video', count, keyGen: -1 };
  const fn = side === 'send' ? encrypt : decrypt;
  t.readable
    .pipeThrough(new TransformStream({ transform: (frame, ctl) => fn(st, frame, ctl) }))
    .pipeTo(t.writable)
    .catch(() => {}); // the sender or receiver went away
};

self.onmessage = (ev) => {
  const m = ev.data || {};
  if (m.type === 'key') {
    key = m.key || null;
    keyGen++;
    enabled = !!m.enabled;
    configured = true;
  } else if (m.type === 'enabled') {
    enabled = !!m.enabled;
    configured = true;
  } else if (m.type === 'record') {
    record = !!m.on;
    if (record) records = { send: {}, recv: {} };
  } else if (m.type === 'records') {
    self.postMessage({ type: 'records', id: m.id, records });
  }
};

setInterval(() => self.postMessage({ type: 'stats', stats }), 1000);
