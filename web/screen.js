/*
 * Sluice web client: screen sharing. "Share screen" asks the browser for a
 * screen (getDisplayMedia), then tells the server (`screenshare` with
 * enabled true); the server's next offer names a third publish mid
 * (publish.screen), and media.js attaches the screen track there. Stopping
 * (the button, or the browser's own "Stop sharing", which ends the track)
 * sends enabled false; the server may also stop a share itself (a
 * moderator restricted screen sharing), which it says with `screenshare`.
 * Remote screens arrive as tracks labelled "screen" in the offer's tracks
 * and get a tile of their own (media.js). Loaded after media.js; shares
 * state through window.SluiceApp (see signalling.js).
 */
'use strict';

(function () {
  const app = window.SluiceApp;
  const { $, sluice } = app;

  // sluice.screen: the own share. sharing: the server said it started;
  // stream: the captured screen (null when not sharing); error: the last
  // reason a share could not start. sluice.sharing: participant id -> true
  // for everyone the server says is sharing.
  sluice.screen = { sharing: false, stream: null, error: null };
  sluice.sharing = {};

  const mayShare = () =>
    sluice.meetingState.permissions.screenshare !== 'moderators' || sluice.role === 'moderator';

  function render() {
    const b = $('share-screen');
    const own = sluice.screen;
    b.textContent = own.stream ? 'Stop sharing' : 'Share screen';
    b.disabled = sluice.state !== 'joined' || (!own.stream && !mayShare());
    b.title = mayShare() ? '' : 'Only moderators may share a screen in this meeting';
    $('screen-note').textContent = own.error || '';
    $('screen-note').hidden = !own.error;
  }

  // The screen track media.js publishes on publish.screen, or null.
  function screenTrack() {
    const s = sluice.screen.stream;
    const t = s ? s.getVideoTracks()[0] : null;
    return t && t.readyState === 'live' ? t : null;
  }

  // Stop capturing (the server has been told, or said so itself).
  function dropStream() {
    const s = sluice.screen.stream;
    sluice.screen.stream = null;
    if (s) for (const t of s.getTracks()) t.stop();
    app.showLocalScreen(null);
  }

  async function start() {
    sluice.screen.error = null;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) {
      sluice.screen.error = 'This browser cannot share a screen.';
      render();
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });
    } catch (e) {
      sluice.screen.error = 'No screen was shared (' + (e && e.name ? e.name : 'refused') + ').';
      render();
      return;
    }
    if (sluice.state !== 'joined' || sluice.screen.stream) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    sluice.screen.stream = stream;
    const track = stream.getVideoTracks()[0];
    if (track) {
      track.contentHint = 'detail';
      track.addEventListener('ended', () => { if (sluice.screen.stream === stream) stop(); });
    }
    app.showLocalScreen(stream);
    app.send({ type: 'screenshare', enabled: true });
    render();
  }

  function stop() {
    dropStream();
    if (sluice.state === 'joined') app.send({ type: 'screenshare', enabled: false });
    render();
  }

  // `screenshare` from the server: who shares now.
  function onScreenshare(msg) {
    if (typeof msg.participant !== 'string') return;
    if (msg.enabled) sluice.sharing[msg.participant] = true;
    else delete sluice.sharing[msg.participant];
    if (msg.participant === sluice.participant) {
      sluice.screen.sharing = !!msg.enabled;
      if (!msg.enabled && sluice.screen.stream) {
        dropStream(); // the server stopped it (permissions changed)
        if (!mayShare()) sluice.screen.error = 'A moderator restricted screen sharing.';
      }
    }
    app.relabelTiles();
    render();
  }

  // An error that answers a screenshare this page sent.
  function onScreenError(code) {
    if (!sluice.screen.stream || sluice.screen.sharing) return false;
    if (code !== 'not_moderator' && code !== 'throttled' && code !== 'room_full') return false;
    dropStream();
    sluice.screen.error = code === 'not_moderator'
      ? 'Only moderators may share a screen in this meeting.'
      : 'The server refused the screen share (' + code + ').';
    render();
    return true;
  }

  function resetScreen() {
    dropStream();
    sluice.screen.sharing = false;
    sluice.screen.error = null;
    sluice.sharing = {};
    render();
  }

  $('share-screen').addEventListener('click', () => {
    if (sluice.screen.stream) stop();
    else start();
  });

  Object.assign(app, {
    screenTrack,
    onScreenshare,
    onScreenError,
    resetScreen,
    renderScreen: render,
  });
})();
