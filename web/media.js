/*
 * Sluice web client: the media. Answers the server's offers (handed over
 * one at a time by signalling.js) with one RTCPeerConnection, publishes
 * camera and microphone on the mids the offer names, and shows one video
 * tile per remote participant. The server always offers and is ICE-lite,
 * so the client never offers, never waits for ICE gathering and never
 * sends candidates. Local tracks follow the own mute state. Loaded after
 * ui.js; shares state through window.SluiceApp (see signalling.js).
 */
'use strict';

(function () {
  const app = window.SluiceApp;
  const { $, sluice } = app;

  let mediaPromise = null; // getUserMedia, started once joined
  let localStream = null;
  const tiles = new Map(); // participant id -> {el, video, label, stream}

  /* ---- tiles --------------------------------------------------------- */

  // Local tracks follow the own mute state: a muted kind sends nothing.
  function applyLocalMutes() {
    if (!localStream) return;
    const m = app.mutesOf(sluice.participant);
    for (const t of localStream.getTracks()) t.enabled = !m[t.kind];
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
      const tile = tiles.get(id) || makeTile(id, app.tileLabel(id), false);
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

  // The remote tiles' labels follow the participant list.
  function relabelTiles() {
    for (const [id, tile] of tiles) {
      if (id !== 'local') tile.label.textContent = app.tileLabel(id);
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
      if (pc.connectionState === 'connected') app.setStatus('Connected.');
      else if (pc.connectionState === 'failed') app.fail('The media connection failed.');
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
    if (!app.isCurrentSocket(sock)) return;
    const pc = sluice.pc || createPc();
    sluice.tracks = Array.isArray(msg.tracks) ? msg.tracks : [];
    sluice.version = msg.version;
    await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    // e2ee.js: transforms on the new senders and receivers, before a track is set.
    if (app.e2eeAttach) app.e2eeAttach(pc);
    if (!localStream && mediaPromise) {
      const stream = await mediaPromise;
      if (!app.isCurrentSocket(sock)) {
        if (stream) for (const t of stream.getTracks()) t.stop();
        return;
      }
      localStream = stream;
      if (localStream) {
        applyLocalMutes();
        const tile = makeTile('local', 'you', true);
        showStream(tile, localStream);
      }
    }
    if (!app.isCurrentSocket(sock)) return;
    await publish(pc, msg.publish);
    syncTiles();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    app.send({ type: 'answer', sdp: pc.localDescription.sdp, version: msg.version });
    if (pc.connectionState !== 'connected') {
      app.setStatus(localStream ? 'Connecting media…' : 'Connecting media (receive only)…');
    }
  }

  function teardown() {
    if (sluice.pc) sluice.pc.close();
    if (localStream) for (const t of localStream.getTracks()) t.stop();
    localStream = null;
    if (mediaPromise) {
      // A camera that opens after we stopped must not stay on.
      const p = mediaPromise;
      mediaPromise = null;
      p.then((s) => { if (s && s !== localStream) for (const t of s.getTracks()) t.stop(); });
    }
    for (const key of [...tiles.keys()]) removeTile(key);
    if (app.e2eeReset) app.e2eeReset();
  }

  Object.assign(app, {
    applyLocalMutes,
    relabelTiles,
    startMedia,
    onOffer,
    teardown,
  });
})();
