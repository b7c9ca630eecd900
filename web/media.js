/*
 * Sluice web client: the media. Answers the server's offers (handed over
 * one at a time by signalling.js) with one RTCPeerConnection, publishes
 * camera and microphone on the mids the offer names, and shows one video
 * tile per remote participant. The server always offers and is ICE-lite,
 * so the client never offers, never waits for ICE gathering and never
 * sends candidates. Local tracks follow the own mute state. A shared
 * screen (screen.js) is published on publish.screen; remote screens (tracks
 * labelled "screen") get a tile of their own, keyed "<id>:screen". Loaded
 * after ui.js; shares state through window.SluiceApp (see signalling.js).
 * p2p.js (one-to-one meetings peer-to-peer) uses three small hooks:
 * localStream(), setSfuPublishing(on) (the SFU senders' camera and
 * microphone tracks replaced by null and back, no renegotiation) and
 * setDirectStream(id, stream) (a remote tile shows the direct stream
 * instead of the SFU's).
 */
'use strict';

(function () {
  const app = window.SluiceApp;
  const { $, sluice } = app;

  let mediaPromise = null; // getUserMedia, started once joined
  let localStream = null;
  const tiles = new Map(); // participant id (or "<id>:screen") -> {el, video, label, stream}
  const direct = new Map(); // participant id -> the stream received directly (p2p.js)
  let sfuPaused = false; // p2p.js: the SFU senders carry no camera or microphone
  let lastPublish = null; // the last offer's publish mids

  // A tile's label: the participant's, and "(screen)" on a screen's tile.
  function labelOf(key) {
    if (key === 'local-screen') return 'your screen';
    return key.endsWith(':screen') ? app.tileLabel(key.slice(0, -7)) + ' (screen)' : app.tileLabel(key);
  }

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
    el.dataset.tile = key;
    el.dataset.participant = key;
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
    app.onTile(key, el); // speaker.js
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
    const want = new Map(); // tile key -> Set of tracks
    for (const tr of pc.getTransceivers()) {
      const t = tr.mid != null ? byMid.get(tr.mid) : undefined;
      if (!t || t.participant === sluice.participant) continue;
      const key = t.label === 'screen' ? t.participant + ':screen' : t.participant;
      if (!want.has(key)) want.set(key, new Set());
      want.get(key).add(tr.receiver.track);
    }
    for (const key of [...tiles.keys()]) {
      if (!key.startsWith('local') && !want.has(key)) removeTile(key);
    }
    for (const [id, set] of want) {
      const tile = tiles.get(id) || makeTile(id, labelOf(id), false);
      const have = tile.stream.getTracks();
      let changed = false;
      for (const track of have) {
        if (!set.has(track)) { tile.stream.removeTrack(track); changed = true; }
      }
      for (const track of set) {
        if (!have.includes(track)) { tile.stream.addTrack(track); changed = true; }
      }
      if (changed || (direct.has(id) && tile.video.srcObject !== direct.get(id))) {
        showStream(tile, direct.get(id) || tile.stream);
      }
    }
  }

  // p2p.js: show a participant's direct stream in its tile (null: the SFU's again).
  function setDirectStream(id, stream) {
    if (stream) direct.set(id, stream);
    else direct.delete(id);
    const tile = tiles.get(id);
    if (tile) showStream(tile, stream || tile.stream);
  }

  // The remote tiles' labels follow the participant list.
  function relabelTiles() {
    for (const [id, tile] of tiles) {
      if (!id.startsWith('local')) tile.label.textContent = labelOf(id);
    }
  }

  // The own screen's preview tile (stream null: none).
  function showLocalScreen(stream) {
    removeTile('local-screen');
    if (stream) showStream(makeTile('local-screen', labelOf('local-screen'), true), stream);
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
      iceServers: sluice.iceServers || [],
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

  // p2p.js: stop (false) or resume (true) publishing camera and microphone
  // through the SFU.
  async function setSfuPublishing(on) {
    sfuPaused = !on;
    if (sluice.pc && lastPublish) await publish(sluice.pc, lastPublish);
  }

  // Attach microphone, camera and (when shared) screen to the mids the
  // offer names (camera and microphone carry nothing while p2p.js sends
  // them directly); a screen no longer named stops being sent.
  async function publish(pc, mids) {
    if (!mids) return;
    lastPublish = mids;
    const want = new Map(); // mid -> track (null: nothing for now)
    for (const kind of ['audio', 'video']) {
      const track = localStream && localStream.getTracks().find((t) => t.kind === kind);
      if (track && mids[kind] != null) want.set(mids[kind], sfuPaused ? null : track);
    }
    const screen = app.screenTrack();
    if (screen && mids.screen != null) want.set(mids.screen, screen);
    for (const tr of pc.getTransceivers()) {
      if (tr.mid == null || tr.stopped) continue;
      if (want.has(tr.mid)) {
        const track = want.get(tr.mid);
        tr.direction = 'sendonly';
        if (tr.sender.track !== track) await tr.sender.replaceTrack(track);
      } else if (tr.mid === sluice.screenMid) {
        tr.direction = 'inactive';
        if (tr.sender.track) await tr.sender.replaceTrack(null);
      }
    }
    if (mids.screen != null) sluice.screenMid = mids.screen;
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
    if (app.p2pClose) app.p2pClose('left');
    direct.clear();
    sfuPaused = false;
    lastPublish = null;
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
    app.resetScreen();
    if (app.e2eeReset) app.e2eeReset();
  }

  Object.assign(app, {
    applyLocalMutes,
    relabelTiles,
    showLocalScreen,
    startMedia,
    onOffer,
    teardown,
    localStream: () => localStream,
    setSfuPublishing,
    setDirectStream,
  });
})();
