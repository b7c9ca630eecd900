/*
 * Sluice web client: joins a meeting over the signalling WebSocket
 * (docs/signalling.md), answers the server's offers with one
 * RTCPeerConnection, publishes camera and microphone on the mids the offer
 * names, and shows one tile per remote participant. The server always
 * offers and is ICE-lite, so the client never offers, never waits for ICE
 * gathering and never sends candidates. Offers are handled strictly one
 * after another through a promise chain, because each step is async and a
 * re-offer must not overtake the one before it. Names from the network are
 * only ever put into the page with textContent. window.sluice exposes the
 * state for the end-to-end tests (tests/e2e/).
 */
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const enc = new TextEncoder();

  const sluice = {
    state: 'idle', // idle | joining | joined | left | error
    meeting: null,
    participant: null,
    participants: [], // [{id, name}] as last sent by the server
    pc: null,
    lastError: null,
    tracks: [], // the current offer's tracks[]
    version: null,
    join,
    leave,
  };
  window.sluice = sluice;

  let ws = null;
  let mediaPromise = null; // getUserMedia, started on join
  let localStream = null;
  let offerChain = Promise.resolve();
  const tiles = new Map(); // participant id -> {el, video, label, stream}

  /* ---- random room names ------------------------------------------- */

  /*
   * 8 consonant-vowel-consonant syllables from crypto.getRandomValues,
   * grouped in pairs: "bakmel-tosrin-hufdag-zepnol". 16 consonants (4 bits)
   * and 5 vowels (log2 5 = 2.32 bits) give 10.32 bits a syllable, so
   * 82.6 bits a name (6 syllables would be only 61.9). Letters that are
   * easy to mishear or misread (c, q, w, x, y) are left out.
   */
  const CONSONANTS = 'bdfghjklmnprstvz';
  const VOWELS = 'aeiou';

  // Uniform index in [0, n) for n <= 256: bytes at or above the largest
  // multiple of n are rejected, so the modulo below has no bias.
  function randomIndex(n) {
    const limit = 256 - (256 % n);
    const buf = new Uint8Array(16);
    for (;;) {
      crypto.getRandomValues(buf);
      for (const b of buf) {
        if (b < limit) return b % n;
      }
    }
  }

  function randomName() {
    const pick = (s) => s[randomIndex(s.length)];
    const groups = [];
    for (let g = 0; g < 4; g++) {
      let word = '';
      for (let s = 0; s < 2; s++) word += pick(CONSONANTS) + pick(VOWELS) + pick(CONSONANTS);
      groups.push(word);
    }
    return groups.join('-');
  }

  /* ---- UI ------------------------------------------------------------ */

  function setStatus(text, isError) {
    const el = $('status');
    el.textContent = text;
    el.classList.toggle('error', !!isError);
  }

  function setState(state) {
    sluice.state = state;
    const busy = state === 'joining' || state === 'joined';
    $('join').disabled = busy;
    $('room').disabled = busy;
    $('name').disabled = busy;
    $('random').disabled = busy;
    $('leave').disabled = !busy;
  }

  // lastError keeps the server's error code where there is one.
  function fail(text, code) {
    sluice.lastError = code || text;
    setStatus(text, true);
  }

  function nameOf(id) {
    const p = sluice.participants.find((x) => x.id === id);
    return p && p.name ? p.name : 'guest ' + String(id).slice(0, 6);
  }

  function renderParticipants() {
    const ul = $('participants');
    ul.replaceChildren();
    for (const p of sluice.participants) {
      const li = document.createElement('li');
      li.textContent = nameOf(p.id) + (p.id === sluice.participant ? ' (you)' : '');
      if (p.id === sluice.participant) li.className = 'me';
      ul.appendChild(li);
    }
    for (const [id, tile] of tiles) {
      if (id !== 'local') tile.label.textContent = nameOf(id);
    }
  }

  function makeTile(key, labelText, local) {
    const el = document.createElement('div');
    el.className = local ? 'tile local' : 'tile';
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = !!local;
    const label = document.createElement('div');
    label.className = 'label';
    label.textContent = labelText;
    el.append(video, label);
    $('grid').appendChild(el);
    const tile = { el, video, label, stream: new MediaStream() };
    tiles.set(key, tile);
    return tile;
  }

  function showStream(tile, stream) {
    tile.video.srcObject = null;
    tile.video.srcObject = stream;
    tile.video.play().catch(() => {}); // autoplay may wait for a gesture
  }

  function removeTile(key) {
    const tile = tiles.get(key);
    if (!tile) return;
    tile.video.srcObject = null;
    tile.el.remove();
    tiles.delete(key);
  }

  /*
   * Make the remote tiles match the current tracks[]: each mid maps to a
   * participant, whose tile's stream holds exactly the receiver tracks of
   * their mids. Tiles of participants with no mid left are removed.
   */
  function syncTiles() {
    const pc = sluice.pc;
    if (!pc) return;
    const byMid = new Map(sluice.tracks.map((t) => [t.mid, t]));
    const want = new Map(); // participant id -> Set of tracks
    for (const tr of pc.getTransceivers()) {
      const t = tr.mid != null ? byMid.get(tr.mid) : undefined;
      if (!t || t.participant === sluice.participant) continue;
      if (!want.has(t.participant)) want.set(t.participant, new Set());
      want.get(t.participant).add(tr.receiver.track);
    }
    for (const key of [...tiles.keys()]) {
      if (key !== 'local' && !want.has(key)) removeTile(key);
    }
    for (const [id, set] of want) {
      const tile = tiles.get(id) || makeTile(id, nameOf(id), false);
      const have = tile.stream.getTracks();
      let changed = false;
      for (const track of have) {
        if (!set.has(track)) { tile.stream.removeTrack(track); changed = true; }
      }
      for (const track of set) {
        if (!have.includes(track)) { tile.stream.addTrack(track); changed = true; }
      }
      if (changed) showStream(tile, tile.stream);
    }
  }

  /* ---- signalling ---------------------------------------------------- */

  function send(obj) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
  }

  function join(room, name) {
    room = String(room || '');
    name = String(name || '');
    if (sluice.state === 'joining' || sluice.state === 'joined') {
      return Promise.reject(new Error('already joined'));
    }
    const roomBytes = enc.encode(room).length;
    if (roomBytes < 1 || roomBytes > 128) {
      fail('The room name must be 1 to 128 bytes long.');
      return Promise.reject(new Error(sluice.lastError));
    }
    if (enc.encode(name).length > 64) {
      fail('Your name must be at most 64 bytes long.');
      return Promise.reject(new Error(sluice.lastError));
    }
    // The fragment never leaves the browser; it makes the link shareable.
    history.replaceState(null, '', '#' + encodeURIComponent(room));
    resetSession();
    sluice.lastError = null;
    setState('joining');
    setStatus('Connecting…');
    startMedia();

    return new Promise((resolve, reject) => {
      const proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
      const sock = new WebSocket(proto + location.host + '/ws', 'sluice-v1');
      ws = sock;
      sock.onopen = () => {
        const msg = { type: 'join', room };
        if (name) msg.name = name;
        send(msg);
        setStatus('Joining…');
      };
      sock.onmessage = (ev) => {
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch (e) {
          fail('The server sent something that is not JSON.');
          return;
        }
        if (!msg || typeof msg !== 'object') return;
        if (msg.type === 'joined') resolve(msg.meeting);
        if (msg.type === 'error' && sluice.state === 'joining') reject(new Error(msg.code));
        onMessage(sock, msg);
      };
      sock.onclose = () => {
        if (ws !== sock) return;
        ws = null;
        if (sluice.state === 'joining' || sluice.state === 'joined') {
          const why = sluice.lastError || 'connection closed';
          fail('Disconnected: ' + why, why);
          setState('error');
          reject(new Error(sluice.lastError));
        }
        teardown();
      };
    });
  }

  function onMessage(sock, msg) {
    if (ws !== sock) return;
    switch (msg.type) {
      case 'joined':
        sluice.participant = msg.participant;
        sluice.meeting = msg.meeting;
        if (Array.isArray(msg.participants)) sluice.participants = msg.participants;
        setState('joined');
        setStatus('Joined. Setting up media…');
        renderParticipants();
        break;
      case 'participants':
        if (Array.isArray(msg.participants)) sluice.participants = msg.participants;
        renderParticipants();
        break;
      case 'offer':
        offerChain = offerChain.then(() => onOffer(sock, msg)).catch((e) => {
          fail('Could not answer the offer: ' + (e && e.message ? e.message : e));
        });
        break;
      case 'left':
        setState('left');
        setStatus('You left the meeting.');
        ws = null;
        sock.close();
        teardown();
        break;
      case 'error':
        fail('Server: ' + (msg.message || msg.code), String(msg.code || 'error'));
        // Any error before 'joined' refuses the join (it is all we sent).
        if (msg.fatal || sluice.state === 'joining') {
          setState('error');
          ws = null;
          sock.close();
          teardown();
        }
        break;
      default:
        break; // newer servers may add types; ignore them
    }
  }

  /* ---- media --------------------------------------------------------- */

  function startMedia() {
    if (mediaPromise) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      mediaPromise = Promise.resolve(null);
      return;
    }
    mediaPromise = navigator.mediaDevices
      .getUserMedia({ audio: true, video: { width: 640, height: 360 } })
      .catch((e) => {
        console.warn('sluice: no camera/microphone, joining receive-only:', e && e.name);
        return null;
      });
  }

  function createPc() {
    const pc = new RTCPeerConnection({
      iceServers: [],
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
    });
    pc.ontrack = () => syncTiles();
    pc.onconnectionstatechange = () => {
      if (pc !== sluice.pc) return;
      if (pc.connectionState === 'connected') setStatus('Connected.');
      else if (pc.connectionState === 'failed') fail('The media connection failed.');
    };
    sluice.pc = pc;
    return pc;
  }

  async function publish(pc, mids) {
    if (!localStream || !mids) return;
    const wanted = { audio: mids.audio, video: mids.video };
    for (const tr of pc.getTransceivers()) {
      for (const kind of ['audio', 'video']) {
        const track = localStream.getTracks().find((t) => t.kind === kind);
        if (!track || tr.mid == null || tr.mid !== wanted[kind]) continue;
        tr.direction = 'sendonly';
        if (tr.sender.track !== track) await tr.sender.replaceTrack(track);
      }
    }
  }

  async function onOffer(sock, msg) {
    if (ws !== sock) return;
    const pc = sluice.pc || createPc();
    sluice.tracks = Array.isArray(msg.tracks) ? msg.tracks : [];
    sluice.version = msg.version;
    await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    if (!localStream && mediaPromise) {
      localStream = await mediaPromise;
      if (localStream && ws === sock) {
        const tile = makeTile('local', 'you', true);
        showStream(tile, localStream);
      }
    }
    if (ws !== sock) return;
    await publish(pc, msg.publish);
    syncTiles();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    send({ type: 'answer', sdp: pc.localDescription.sdp, version: msg.version });
    if (pc.connectionState !== 'connected') {
      setStatus(localStream ? 'Connecting media…' : 'Connecting media (receive only)…');
    }
  }

  /* ---- leaving ------------------------------------------------------- */

  function leave() {
    if (ws && ws.readyState === WebSocket.OPEN && sluice.state === 'joined') {
      send({ type: 'leave' });
      setStatus('Leaving…');
      return;
    }
    if (ws) {
      const sock = ws;
      ws = null;
      sock.close();
    }
    setState('left');
    setStatus('You left the meeting.');
    teardown();
  }

  function teardown() {
    if (sluice.pc) sluice.pc.close();
    if (localStream) for (const t of localStream.getTracks()) t.stop();
    for (const key of [...tiles.keys()]) removeTile(key);
  }

  // Forget the previous session's objects (sluice.pc stays readable until
  // a new join so tests can look at it after leaving).
  function resetSession() {
    teardown();
    sluice.pc = null;
    sluice.meeting = null;
    sluice.participant = null;
    sluice.participants = [];
    sluice.tracks = [];
    sluice.version = null;
    localStream = null;
    mediaPromise = null;
    offerChain = Promise.resolve();
    renderParticipants();
  }

  /* ---- wiring -------------------------------------------------------- */

  $('random').addEventListener('click', () => {
    $('room').value = randomName();
  });
  $('join-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    join($('room').value.trim(), $('name').value.trim()).catch(() => {});
  });
  $('leave').addEventListener('click', () => leave());
  window.addEventListener('pagehide', () => {
    if (ws) send({ type: 'leave' });
  });

  if (location.hash.length > 1) {
    try {
      $('room').value = decodeURIComponent(location.hash.slice(1));
    } catch (e) {
      $('room').value = '';
    }
  }
  setState('idle');
})();
