/*
 * Sluice web client: one-to-one meetings peer-to-peer. When the server
 * allows it (joined's p2p) and exactly two members are connected (the
 * participants list), the two browsers also connect directly: the member
 * with the smaller id offers a second RTCPeerConnection (no ICE servers:
 * host candidates only) carrying its camera and microphone, the other
 * answers, and the SDP and trickled candidates travel opaquely through the
 * server as `p2p` messages (docs/signalling.md). Once the direct
 * connection is connected and decodes video, this page shows the direct
 * stream in the other's tile and says so to the other page ('receiving');
 * when both do, each stops publishing through the SFU (media.js replaces
 * its SFU senders' tracks by null, no renegotiation). A third member, the
 * other leaving or the direct connection failing puts the SFU senders back
 * at once and closes the direct one (the SFU path never went away). A
 * direct connection that failed is not tried again until the meeting's
 * size changes. Going direct shows each participant the other's IP
 * address, which the page says. Loaded after media.js; shares state
 * through window.SluiceApp; window.sluice.p2p is its state, for the
 * end-to-end tests.
 */
'use strict';

(function () {
  const app = window.SluiceApp;
  const { $, sluice } = app;

  const p2p = {
    // idle | connecting | direct (the SFU carries no media of ours) | off (not allowed)
    state: 'idle',
    peer: null, // the other participant's id
    sid: null, // this attempt's id, in every payload
    offerer: false,
    pc: null, // the direct RTCPeerConnection, for tests' getStats too
    receiving: false, // our direct inbound video decodes
    peerReceiving: false, // the other page said its direct inbound video decodes
    sfuPaused: false,
    blocked: false, // a direct connection failed: no new try until the meeting's size changes
    since: null, // ms when the current attempt started
    switchMs: null, // how long the last attempt took to go direct
    fallbacks: 0,
    lastFallback: null, // why the last direct connection ended
  };
  sluice.p2p = p2p;

  let pending = []; // candidates received before the remote description
  let lastSent = 0; // ms of our last p2p message (errors soon after it answer it)
  let poll = null;
  let lastCount = 0; // connected members at the last update

  function send(payload) {
    lastSent = Date.now();
    app.send({ type: 'p2p', to: p2p.peer, payload: { ...payload, sid: p2p.sid } });
  }

  function note(text) {
    const el = $('p2p-note');
    if (!el) return;
    el.textContent = text || '';
    el.hidden = !text;
  }

  function randomSid() {
    const b = new Uint8Array(8);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  // Back to the SFU for everything: senders restored at once, direct pc closed.
  function close(why) {
    const wasDirect = p2p.state === 'direct' || p2p.sfuPaused;
    if (p2p.sfuPaused) {
      p2p.sfuPaused = false;
      app.setSfuPublishing(true).catch(() => {});
    }
    if (p2p.peer && p2p.receiving) app.setDirectStream(p2p.peer, null);
    if (p2p.pc) {
      p2p.pc.onicecandidate = p2p.pc.ontrack = p2p.pc.onconnectionstatechange = null;
      p2p.pc.close();
      if (wasDirect || p2p.state === 'connecting') {
        p2p.fallbacks++;
        p2p.lastFallback = why;
      }
    }
    if (poll) clearInterval(poll);
    poll = null;
    pending = [];
    Object.assign(p2p, { state: sluice.p2pAllowed ? 'idle' : 'off', pc: null, sid: null,
      receiving: false, peerReceiving: false, since: null });
    idleNote();
  }

  function idleNote() {
    note(sluice.state === 'joined' && sluice.p2pAllowed ? 'With exactly two participants, the' +
      ' browsers connect directly: each can then see the other\'s IP address.' : null);
  }

  function otherMember() {
    const ps = sluice.participants || [];
    if (ps.length !== 2 || !ps.some((p) => p.id === sluice.participant)) return null;
    const o = ps.find((p) => p.id !== sluice.participant);
    return o ? o.id : null;
  }

  function sfuReady() {
    return sluice.pc && sluice.pc.connectionState === 'connected';
  }

  function newPc() {
    const pc = new RTCPeerConnection({ iceServers: sluice.iceServers || [],
      bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    const remote = new MediaStream();
    pc.onicecandidate = (ev) => {
      if (pc !== p2p.pc || !ev.candidate) return;
      send({ candidate: ev.candidate.toJSON() });
    };
    pc.ontrack = (ev) => {
      if (pc !== p2p.pc) return;
      remote.addTrack(ev.track);
    };
    pc.onconnectionstatechange = () => {
      if (pc !== p2p.pc) return;
      const st = pc.connectionState;
      if (st === 'failed' || st === 'disconnected' || st === 'closed') {
        p2p.blocked = true;
        close('direct connection ' + st);
      }
    };
    p2p.pc = pc;
    p2p.remote = remote;
    poll = setInterval(() => check(pc), 250);
    return pc;
  }

  function addLocal(pc) {
    const stream = app.localStream();
    const tracks = stream ? stream.getTracks() : [];
    for (const kind of ['audio', 'video']) {
      const t = tracks.find((x) => x.kind === kind);
      if (t) pc.addTrack(t, stream);
      else if (p2p.offerer) pc.addTransceiver(kind, { direction: 'recvonly' });
    }
  }

  async function startOffer(peer) {
    p2p.peer = peer;
    p2p.sid = randomSid();
    p2p.offerer = true;
    p2p.state = 'connecting';
    p2p.since = Date.now();
    const pc = newPc();
    addLocal(pc);
    const offer = await pc.createOffer();
    if (pc !== p2p.pc) return;
    await pc.setLocalDescription(offer);
    if (pc !== p2p.pc) return;
    send({ sdp: { type: 'offer', sdp: pc.localDescription.sdp } });
  }

  async function answer(peer, sid, sdp) {
    close('new offer');
    p2p.peer = peer;
    p2p.sid = sid;
    p2p.offerer = false;
    p2p.state = 'connecting';
    p2p.since = Date.now();
    const pc = newPc();
    await pc.setRemoteDescription(sdp);
    if (pc !== p2p.pc) return;
    addLocal(pc);
    const ans = await pc.createAnswer();
    if (pc !== p2p.pc) return;
    await pc.setLocalDescription(ans);
    if (pc !== p2p.pc) return;
    send({ sdp: { type: 'answer', sdp: pc.localDescription.sdp } });
    await flushCandidates(pc);
  }

  async function flushCandidates(pc) {
    const list = pending;
    pending = [];
    for (const c of list) await pc.addIceCandidate(c).catch(() => {});
  }

  // Every 250 ms while connecting or direct: does the direct video decode?
  async function check(pc) {
    if (pc !== p2p.pc || pc.connectionState !== 'connected') return;
    let frames = 0;
    const stats = await pc.getStats();
    stats.forEach((r) => {
      if (r.type === 'inbound-rtp' && (r.kind || r.mediaType) === 'video') {
        frames += r.framesDecoded || 0;
      }
    });
    if (pc !== p2p.pc) return;
    const hasVideo = p2p.remote.getVideoTracks().length > 0;
    if (!p2p.receiving && (frames > 0 || (!hasVideo && p2p.remote.getAudioTracks().length))) {
      p2p.receiving = true;
      app.setDirectStream(p2p.peer, p2p.remote);
      send({ receiving: true });
    }
    maybeDirect();
  }

  function maybeDirect() {
    if (p2p.state !== 'connecting' || !p2p.receiving || !p2p.peerReceiving) return;
    p2p.state = 'direct';
    p2p.switchMs = Date.now() - p2p.since;
    p2p.sfuPaused = true;
    app.setSfuPublishing(false).catch(() => {});
    note('Connected directly to the other participant: each of you can see the other\'s IP' +
      ' address. A third participant brings the meeting back through the server.');
  }

  // The participant list or the session changed.
  function update() {
    const count = (sluice.participants || []).length;
    if (count !== lastCount) {
      if (count !== 2) p2p.blocked = false;
      lastCount = count;
    }
    const peer = sluice.state === 'joined' && sluice.p2pAllowed ? otherMember() : null;
    if (p2p.pc && peer !== p2p.peer) {
      close(peer ? 'another participant' : 'no longer two participants');
    }
    if (!p2p.pc) {
      p2p.state = sluice.p2pAllowed ? 'idle' : 'off';
      idleNote();
    }
    if (!peer || p2p.pc || p2p.blocked || sluice.participant > peer) return;
    if (!sfuReady()) {
      setTimeout(update, 250); // media first (the local stream comes with the first offer)
      return;
    }
    startOffer(peer).catch((e) => {
      console.warn('sluice: p2p offer failed:', e && e.name);
      p2p.blocked = true;
      close('offer failed');
    });
  }

  async function onP2p(msg) {
    const pl = msg.payload;
    if (!pl || typeof pl !== 'object' || !sluice.p2pAllowed) return;
    const peer = otherMember();
    if (!peer || msg.from !== peer) return;
    try {
      if (pl.sdp && pl.sdp.type === 'offer' && sluice.participant > peer) {
        if (p2p.blocked) return;
        await answer(peer, String(pl.sid), pl.sdp);
        return;
      }
      if (!p2p.pc || pl.sid !== p2p.sid) return;
      const pc = p2p.pc;
      if (pl.sdp && pl.sdp.type === 'answer' && p2p.offerer) {
        await pc.setRemoteDescription(pl.sdp);
        await flushCandidates(pc);
      } else if (pl.candidate) {
        if (pc.remoteDescription) await pc.addIceCandidate(pl.candidate).catch(() => {});
        else pending.push(pl.candidate);
      } else if (pl.receiving === true) {
        p2p.peerReceiving = true;
        maybeDirect();
      }
    } catch (e) {
      console.warn('sluice: p2p negotiation failed:', e && e.name);
      p2p.blocked = true;
      close('negotiation failed');
    }
  }

  // Errors that answer our p2p messages (the server refuses p2p as soon as a
  // third member is connected, for instance): handled here, not shown.
  function onP2pError(code) {
    if (code === 'p2p_off' || code === 'p2p_unavailable') return true;
    return ['throttled', 'no_participant', 'bad_field'].includes(code) &&
      Date.now() - lastSent < 5000;
  }

  Object.assign(app, {
    p2pUpdate: update,
    onP2p: (msg) => { onP2p(msg); },
    onP2pError,
    p2pClose: (why) => {
      p2p.blocked = false;
      lastCount = 0;
      close(why);
      p2p.peer = null;
    },
  });
})();
