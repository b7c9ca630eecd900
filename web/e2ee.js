/*
 * Sluice web client: end-to-end encryption of the media (optional). The
 * "End-to-end encryption" box holds a switch and a passphrase that the
 * participants share out of band; the passphrase never leaves this page.
 * Once joined, the meeting key is derived from it with PBKDF2-SHA256
 * (600,000 iterations) and a salt made of "sluice-e2ee-v1:" and the
 * meeting id from 'joined' (random per meeting, the same for all its
 * members): an AES-GCM-256 key that cannot be exported. Encoded frames go
 * through an RTCRtpScriptTransform in e2ee-worker.js (which holds the
 * frame format): senders encrypt, receivers decrypt and drop what does not
 * decrypt. The switch must be on when joining (see attach() below): then
 * every sender and receiver gets a transform, re-offers' included, and the
 * switch and passphrase can change during the meeting (off: frames are
 * sent in clear and clear frames accepted again; a new passphrase: a new
 * key). The badge says whether media is end-to-end encrypted, and a list
 * says, per remote participant, whether their frames decrypt. media.js
 * calls app.e2eeAttach(pc) on each offer right after setRemoteDescription
 * (before any track is set) and app.e2eeReset() on teardown. Test state:
 * window.sluice.e2ee; app.e2eeRecord(on) and app.e2eeRecords() (frame
 * hashes, for tests/e2e). Loaded after media.js and before app.js.
 */
'use strict';

(function () {
  const app = window.SluiceApp;
  const { $, sluice } = app;

  const PBKDF2_ITERATIONS = 600000;
  const SALT_PREFIX = 'sluice-e2ee-v1:';
  const supported = typeof window.RTCRtpScriptTransform === 'function' &&
    typeof window.Worker === 'function' && !!(window.crypto && crypto.subtle);

  const state = {
    supported,
    enabled: false, // the switch
    keyReady: false, // a key for the current meeting is in the worker
    deriving: false,
    meeting: null, // the meeting the key was derived for
    stats: { send: {}, recv: {} }, // the worker's counters, per mid
    peers: {}, // participant id -> 'decrypting' | 'undecryptable' | 'plain' | 'waiting'
    badge: '',
  };
  sluice.e2ee = state;

  let worker = null;
  let deriveSeq = 0; // the newest derivation wins
  const attached = new WeakSet(); // senders and receivers that have a transform
  let pcSeen = null; // the RTCPeerConnection of the current meeting
  let pcHasTransforms = false; // whether its senders and receivers have transforms
  let last = {}; // mid -> the recv counters at the previous stats message
  let seen = {}; // participant id -> {at, status}: the last status with traffic
  let recordSeq = 0;
  const recordWaits = new Map();

  function getWorker() {
    if (worker) return worker;
    worker = new Worker('e2ee-worker.js');
    worker.postMessage({ type: 'enabled', enabled: state.enabled });
    worker.onmessage = (ev) => {
      const m = ev.data || {};
      if (m.type === 'stats') onStats(m.stats);
      else if (m.type === 'records' && recordWaits.has(m.id)) {
        recordWaits.get(m.id)(m.records);
        recordWaits.delete(m.id);
      }
    };
    return worker;
  }

  /* ---- key ----------------------------------------------------------- */

  async function deriveKey(passphrase, meeting) {
    const enc = new TextEncoder();
    const base = await crypto.subtle.importKey('raw', enc.encode(passphrase), 'PBKDF2', false,
      ['deriveKey']);
    return crypto.subtle.deriveKey(
      { name: 'PBKDF2', hash: 'SHA-256', salt: enc.encode(SALT_PREFIX + meeting),
        iterations: PBKDF2_ITERATIONS },
      base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  }

  // (Re)derives the key for the current meeting and passphrase; until it
  // is in the worker, an enabled sender sends nothing and receivers drop.
  async function rekey() {
    const seq = ++deriveSeq;
    const passphrase = $('e2ee-pass').value;
    const meeting = sluice.state === 'joined' ? sluice.meeting : null;
    state.keyReady = false;
    state.meeting = null;
    if (worker) worker.postMessage({ type: 'key', key: null, enabled: state.enabled });
    if (!meeting || !passphrase) {
      state.deriving = false;
      render();
      return;
    }
    state.deriving = true;
    render();
    let key = null;
    try {
      key = await deriveKey(passphrase, meeting);
    } catch (e) {
      console.warn('sluice: e2ee key derivation failed:', e && e.name);
    }
    if (seq !== deriveSeq) return;
    state.deriving = false;
    if (key) {
      getWorker().postMessage({ type: 'key', key, enabled: state.enabled });
      state.keyReady = true;
      state.meeting = meeting;
    }
    render();
  }

  /* ---- transforms ---------------------------------------------------- */

  /*
   * Chromium only runs a sender's transform if it was set before the
   * sender got its track (set later, on a sender already sending, it is
   * silently never called). So whether a connection's senders and
   * receivers get transforms is decided at its first offer: if the switch
   * is on then, every sender and receiver of this connection, re-offers'
   * included, gets one; the switch and the passphrase can then change
   * during the meeting. If it is off then, the connection has none, and
   * the switch is disabled until the next join.
   */
  function attach(pc) {
    const w = getWorker();
    for (const tr of pc.getTransceivers()) {
      if (tr.mid == null) continue;
      const kind = tr.receiver.track ? tr.receiver.track.kind : 'video';
      for (const [side, end] of [['send', tr.sender], ['recv', tr.receiver]]) {
        if (attached.has(end)) continue;
        end.transform = new RTCRtpScriptTransform(w, { side, mid: tr.mid, kind });
        attached.add(end);
      }
    }
  }

  // media.js, on every offer, after setRemoteDescription and before any
  // track is set or the answer made.
  function e2eeAttach(pc) {
    if (pc !== pcSeen) {
      pcSeen = pc;
      pcHasTransforms = supported && state.enabled;
    }
    if (!pcHasTransforms) {
      render();
      return;
    }
    if (state.enabled && sluice.meeting !== state.meeting && !state.deriving) rekey();
    attach(pc);
  }

  // media.js, when the media is torn down (left, kicked, ended, error).
  function e2eeReset() {
    deriveSeq++;
    pcSeen = null;
    pcHasTransforms = false;
    state.keyReady = false;
    state.deriving = false;
    state.meeting = null;
    state.peers = {};
    last = {};
    seen = {};
    if (worker) worker.postMessage({ type: 'key', key: null, enabled: state.enabled });
    render();
  }

  /* ---- per-participant status ---------------------------------------- */

  // From the receivers' counters since the previous message: per mid, then
  // per participant (the mid's current owner in the offer's tracks[]).
  function onStats(stats) {
    state.stats = stats;
    const byMid = new Map((sluice.tracks || []).map((t) => [t.mid, t]));
    const now = Date.now();
    const fresh = {};
    for (const [mid, c] of Object.entries(stats.recv || {})) {
      const p = last[mid] || { decrypted: 0, failed: 0, plain: 0, clear: 0 };
      last[mid] = { ...c };
      const t = byMid.get(mid);
      if (!t || t.participant === sluice.participant) continue;
      const d = fresh[t.participant] ||
        (fresh[t.participant] = { decrypted: 0, failed: 0, plain: 0, clear: 0 });
      for (const k of Object.keys(d)) d[k] += Math.max(0, (c[k] || 0) - (p[k] || 0));
    }
    for (const [id, d] of Object.entries(fresh)) {
      let status = null;
      if (d.decrypted > 0) status = 'decrypting';
      else if (d.failed > 0) status = 'undecryptable';
      else if (d.plain > 0 || d.clear > 0) status = 'plain';
      if (status) seen[id] = { at: now, status };
    }
    const peers = {};
    for (const t of sluice.tracks || []) {
      if (t.participant === sluice.participant || peers[t.participant]) continue;
      const s = seen[t.participant];
      peers[t.participant] = s && now - s.at < 3000 ? s.status : 'waiting';
    }
    state.peers = peers;
    render();
  }

  /* ---- UI ------------------------------------------------------------ */

  const PEER_TEXT = {
    decrypting: 'end-to-end encrypted',
    undecryptable: 'cannot decrypt (a different passphrase?): not shown',
    plain: 'not encrypted',
    waiting: 'no media yet',
  };

  // In a meeting that was joined with the switch off.
  const lockedOff = () => !!pcSeen && pcSeen === sluice.pc && !pcHasTransforms;

  function badgeText() {
    if (!supported) return 'Not end-to-end encrypted (this browser cannot)';
    if (lockedOff()) return 'Not end-to-end encrypted (turn it on before joining)';
    if (!state.enabled) return 'Not end-to-end encrypted';
    if (!$('e2ee-pass').value) return 'End-to-end encryption: enter a passphrase (nothing is sent)';
    if (sluice.state !== 'joined') return 'End-to-end encryption on: the key is made when you join';
    if (!state.keyReady) return 'End-to-end encryption: deriving the key (nothing is sent)';
    return 'End-to-end encrypted';
  }

  function render() {
    $('e2ee-on').disabled = !supported || lockedOff();
    const text = badgeText();
    state.badge = text;
    const badge = $('e2ee-badge');
    badge.textContent = text;
    badge.className = text === 'End-to-end encrypted' ? 'e2ee-on'
      : state.enabled ? 'e2ee-wait' : 'e2ee-off';
    const ul = $('e2ee-peers');
    ul.replaceChildren();
    if (!pcHasTransforms || sluice.state !== 'joined') return;
    for (const [id, status] of Object.entries(state.peers)) {
      const li = document.createElement('li');
      li.dataset.participant = id;
      li.dataset.status = status;
      const plainNote = status === 'plain' && state.enabled ? ': dropped' : '';
      li.textContent = app.tileLabel(id) + ': ' + PEER_TEXT[status] + plainNote;
      li.className = 'e2ee-' + status;
      ul.appendChild(li);
    }
  }

  function setEnabled(on) {
    state.enabled = !!on && supported && !lockedOff();
    if (state.enabled && sluice.state === 'joined' && sluice.meeting !== state.meeting) {
      rekey();
      return;
    }
    if (worker) worker.postMessage({ type: 'enabled', enabled: state.enabled });
    render();
  }

  $('e2ee-on').addEventListener('change', () => setEnabled($('e2ee-on').checked));
  // A new passphrase takes effect when the field is left or Enter is pressed.
  $('e2ee-pass').addEventListener('change', () => {
    if (state.enabled || state.keyReady) rekey();
    else render();
  });
  $('e2ee-form').addEventListener('submit', (ev) => ev.preventDefault());
  render();

  /* ---- tests --------------------------------------------------------- */

  // Start (on) or stop keeping SHA-256 hashes of the frames sent (plain
  // and encrypted) and received (as they arrived), per mid.
  function e2eeRecord(on) {
    getWorker().postMessage({ type: 'record', on: !!on });
  }

  function e2eeRecords() {
    const id = ++recordSeq;
    return new Promise((resolve) => {
      recordWaits.set(id, resolve);
      getWorker().postMessage({ type: 'records', id });
    });
  }

  Object.assign(app, { e2eeAttach, e2eeReset, e2eeRecord, e2eeRecords, e2eeRender: render });
})();
