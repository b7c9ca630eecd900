/*
 * Sluice web client: the wiring, loaded last (after signalling.js, ui.js
 * and media.js, which it reaches through window.SluiceApp). It connects the
 * join and password forms, the mute buttons, the chat form and the
 * moderator panel to them, fills in "Random name" (names.js's five words, or syllables when
 * names.js or its word list is missing), takes a token from ?token= and
 * the room from the #fragment, and opens the connection.
 */
'use strict';

(function () {
  const app = window.SluiceApp;
  const { $, bytes, sluice } = app;

  /* ---- random room names ------------------------------------------- */

  /*
   * web/names.js's SluiceNames.randomRoomName() (five words of a list of
   * 8192, 65 bits) when it is there and its word list loads. Otherwise 8 consonant-vowel-consonant syllables from
   * crypto.getRandomValues, grouped in pairs: "bakmel-tosrin-hufdag-zepnol";
   * 16 consonants (4 bits) and 5 vowels (2.32 bits) give 82.6 bits a name.
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

  function syllableName() {
    const pick = (s) => s[randomIndex(s.length)];
    const groups = [];
    for (let g = 0; g < 4; g++) {
      let word = '';
      for (let s = 0; s < 2; s++) word += pick(CONSONANTS) + pick(VOWELS) + pick(CONSONANTS);
      groups.push(word);
    }
    return groups.join('-');
  }

  async function randomName() {
    const names = window.SluiceNames;
    if (names && typeof names.randomRoomName === 'function') {
      try {
        const name = await names.randomRoomName();
        if (typeof name === 'string' && name) return name;
      } catch (e) {
        console.warn('sluice: randomRoomName failed, using syllables:', e && e.message);
      }
    }
    return syllableName();
  }

  /* ---- wiring -------------------------------------------------------- */

  const formValues = () => ({
    room: $('room').value.trim(),
    name: $('name').value.trim(),
    token: $('token').value.trim(),
  });

  $('random').addEventListener('click', async () => {
    $('room').value = await randomName();
    app.scheduleCheck();
  });
  $('room').addEventListener('input', app.scheduleCheck);
  $('join-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = formValues();
    app.join(v.room, v.name, { token: v.token }).catch(() => {});
  });
  $('password-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = app.lastJoin() || formValues();
    const password = $('password').value;
    if (!password) return;
    app.join(v.room, v.name, { password, token: v.token }).catch(() => {});
  });
  $('leave').addEventListener('click', () => app.leave());

  for (const kind of ['audio', 'video']) {
    $('mute-' + kind).addEventListener('click', () => {
      if (sluice.state !== 'joined') return;
      const muted = !app.mutesOf(sluice.participant)[kind];
      app.send({ type: 'mute', participant: sluice.participant, kind, muted });
      if (muted) {
        // Stop sending at once; unmuting waits for the server's 'muted'.
        sluice.mutes[sluice.participant] = { ...app.mutesOf(sluice.participant), [kind]: true };
        sluice.mutedBy[kind] = sluice.participant;
        app.applyLocalMutes();
        app.renderSelf();
        app.renderParticipants();
      }
    });
  }

  $('mod-password-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const pw = $('mod-password').value;
    if (bytes(pw) < 1 || bytes(pw) > 128) {
      app.fail('A password is 1 to 128 bytes long.');
      return;
    }
    app.send({ type: 'set_password', password: pw });
    $('mod-password').value = '';
  });
  $('mod-remove-password').addEventListener('click', () => {
    app.send({ type: 'set_password', password: null });
  });
  $('mod-lock').addEventListener('click', () => {
    app.send({ type: 'lock', locked: !sluice.meetingState.locked });
  });
  $('mod-lobby').addEventListener('click', () => {
    app.send({ type: 'lobby', enabled: !sluice.meetingState.lobby });
  });
  $('mod-end').addEventListener('click', () => app.send({ type: 'end_meeting' }));
  for (const what of ['chat', 'screenshare']) {
    $('mod-' + what).addEventListener('change', (ev) => {
      app.send({ type: 'permissions', [what]: ev.target.value === 'moderators' ? 'moderators' : 'all' });
    });
  }

  $('chat-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (app.sendChat($('chat-text').value, $('chat-to').value)) $('chat-text').value = '';
  });

  window.addEventListener('pagehide', () => {
    if (sluice.state === 'joined' || sluice.state === 'lobby') app.send({ type: 'leave' });
  });

  // ?token=JWT fills the token field and leaves the address bar (and the
  // history) at once.
  const params = new URLSearchParams(location.search);
  if (params.has('token')) {
    $('token').value = params.get('token') || '';
    $('token-box').open = true;
    history.replaceState(null, '', location.pathname + location.hash);
  }
  if (location.hash.length > 1) {
    try {
      $('room').value = decodeURIComponent(location.hash.slice(1));
    } catch (e) {
      $('room').value = '';
    }
  }
  app.setState('idle');
  // Open the connection early: the room name is checked while it is typed.
  app.connect().catch(() => {});
  if ($('room').value.trim()) app.scheduleCheck();
})();
