/*
 * Sluice web client: the dominant speaker and speaker stats. The server
 * picks the dominant speaker from the audio levels the media carry
 * (dominant_speaker, docs/signalling.md); this script marks that
 * participant's video tile and list entry, and the "Speaker stats" button
 * asks for everyone's speaking time (speaker_stats) and lists the answer,
 * longest first. Names are shown with textContent only. Loaded after
 * media.js and before app.js; shares state through window.SluiceApp (see
 * signalling.js) and keeps, for the end-to-end tests, on window.sluice:
 *   dominantSpeaker    the dominant speaker's participant id, or null
 *   dominantSpeakerAt  Date.now() when it last changed, or null
 *   speakerStats       the last speaker_stats answer's stats, longest first
 */
'use strict';

(function () {
  const app = window.SluiceApp;
  const { $, sluice } = app;

  const STATS_PAUSE_MS = 1000; // the button rests this long after a click
  sluice.dominantSpeaker = null;
  sluice.dominantSpeakerAt = null;
  sluice.speakerStats = [];

  const idOk = (x) => typeof x === 'string' && /^[0-9a-f]{1,32}$/.test(x);

  // Marks the dominant speaker's tile (media.js gives each tile
  // data-participant) and participant list entry (ui.js: data-id).
  function renderSpeaker() {
    const who = sluice.state === 'joined' ? sluice.dominantSpeaker : null;
    for (const el of $('grid').querySelectorAll('.tile')) {
      el.classList.toggle('speaking', !!who && el.dataset.participant === who);
    }
    for (const li of $('participants').querySelectorAll('li')) {
      li.classList.toggle('speaking', !!who && li.dataset.id === who);
    }
    $('speaker-stats').hidden = sluice.state !== 'joined';
  }

  // A new tile (media.js) gets the mark if it is the speaker's.
  function onTile(id, el) {
    el.classList.toggle('speaking', sluice.state === 'joined' && id === sluice.dominantSpeaker);
  }

  function onDominantSpeaker(msg) {
    if (sluice.state !== 'joined') return;
    const who = idOk(msg.participant) ? msg.participant : null;
    if (who === sluice.dominantSpeaker) return;
    sluice.dominantSpeaker = who;
    sluice.dominantSpeakerAt = Date.now();
    renderSpeaker();
  }

  function seconds(ms) {
    return (ms / 1000).toFixed(1) + ' s';
  }

  function onSpeakerStats(msg) {
    if (sluice.state !== 'joined' || !Array.isArray(msg.stats)) return;
    sluice.speakerStats = msg.stats
      .filter((e) => e && typeof e === 'object' && idOk(e.participant))
      .map((e) => ({
        participant: e.participant,
        name: typeof e.name === 'string' ? e.name : '',
        speaking_ms: Number.isFinite(e.speaking_ms) && e.speaking_ms > 0 ? e.speaking_ms : 0,
      }))
      .sort((a, b) => b.speaking_ms - a.speaking_ms);
    const ol = $('speaker-stats-list');
    ol.replaceChildren();
    for (const e of sluice.speakerStats) {
      const li = document.createElement('li');
      li.dataset.id = e.participant;
      const me = e.participant === sluice.participant;
      li.textContent = (e.name || 'guest ' + e.participant.slice(0, 6)) + (me ? ' (you)' : '') +
        ': ' + seconds(e.speaking_ms);
      ol.appendChild(li);
    }
  }

  function requestStats() {
    if (sluice.state !== 'joined' || !sluice.connected()) return;
    app.send({ type: 'speaker_stats' });
    const b = $('speaker-stats-button');
    b.disabled = true;
    setTimeout(() => { b.disabled = false; }, STATS_PAUSE_MS);
  }

  function resetSpeaker() {
    sluice.dominantSpeaker = null;
    sluice.dominantSpeakerAt = null;
    sluice.speakerStats = [];
    $('speaker-stats-list').replaceChildren();
    renderSpeaker();
  }

  $('speaker-stats-button').addEventListener('click', requestStats);

  Object.assign(app, {
    onDominantSpeaker,
    onSpeakerStats,
    onTile,
    renderSpeaker,
    resetSpeaker,
    requestSpeakerStats: requestStats,
  });
})();
