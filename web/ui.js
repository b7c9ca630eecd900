/*
 * Sluice web client: the page UI. The status line and the screen-like
 * notices (lobby, kicked, ended, denied), which controls the form enables
 * in each state, the participant list with role and mute marks, the
 * moderator panel (meeting state; lobby with admit / deny; mute, kick and
 * grant per participant), the own mute buttons, and the room name's
 * strength as the server rated it. Names and any text from the network
 * are only ever put into the page with textContent. Loaded after
 * signalling.js; shares state through window.SluiceApp (see there).
 */
'use strict';

(function () {
  const app = window.SluiceApp;
  const { $, sluice } = app;

  function setStatus(text, isError) {
    const el = $('status');
    el.textContent = text;
    el.classList.toggle('error', !!isError);
  }

  // A screen-like notice (lobby, kicked, ended, denied); null hides it.
  function notice(title, text) {
    $('notice').hidden = !title;
    $('notice-title').textContent = title || '';
    $('notice-text').textContent = text || '';
  }

  function setState(state) {
    sluice.state = state;
    const busy = state === 'joining' || state === 'lobby' || state === 'joined';
    for (const id of ['join', 'room', 'name', 'random', 'token']) $(id).disabled = busy;
    $('leave').disabled = !busy;
    $('room-strength').hidden = busy;
    $('password-form').hidden = state !== 'password';
    if (state !== 'lobby' && state !== 'kicked' && state !== 'ended' && state !== 'denied') {
      notice(null);
    }
    if (state !== 'joined') {
      sluice.role = null;
      sluice.lobby = [];
    }
    renderSelf();
    renderModeration();
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

  const isModerator = () => sluice.state === 'joined' && sluice.role === 'moderator';
  const mutesOf = (id) => sluice.mutes[id] || { audio: false, video: false };

  function button(text, cls, onClick, disabled) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = cls;
    b.textContent = text;
    b.disabled = !!disabled;
    b.addEventListener('click', onClick);
    return b;
  }

  function tag(text, cls) {
    const s = document.createElement('span');
    s.className = 'tag ' + cls;
    s.textContent = text;
    return s;
  }

  function renderParticipants() {
    const ul = $('participants');
    ul.replaceChildren();
    const mod = isModerator();
    // Out of a meeting the list is empty (sluice.participants keeps the
    // last one for the tests).
    for (const p of sluice.state === 'joined' ? sluice.participants : []) {
      const me = p.id === sluice.participant;
      const li = document.createElement('li');
      li.dataset.id = p.id;
      if (me) li.className = 'me';
      const name = document.createElement('span');
      name.className = 'pname';
      name.textContent = nameOf(p.id) + (me ? ' (you)' : '');
      li.appendChild(name);
      if (sluice.roles[p.id] === 'moderator') li.appendChild(tag('moderator', 'role'));
      const m = mutesOf(p.id);
      if (m.audio) li.appendChild(tag('mic off', 'muted-audio'));
      if (m.video) li.appendChild(tag('camera off', 'muted-video'));
      if (mod && !me) {
        const acts = document.createElement('div');
        acts.className = 'actions';
        const act = (type, extra) => () => app.send({ type, participant: p.id, ...extra });
        acts.append(
          button('Mute mic', 'mute-audio', act('mute', { kind: 'audio', muted: true }), m.audio),
          button('Stop camera', 'mute-video', act('mute', { kind: 'video', muted: true }), m.video),
          button('Kick', 'kick', act('kick')));
        if (sluice.roles[p.id] !== 'moderator') {
          acts.appendChild(button('Make moderator', 'grant', act('grant_moderator')));
        }
        li.appendChild(acts);
      }
      ul.appendChild(li);
    }
    app.relabelTiles();
  }

  function tileLabel(id) {
    const m = mutesOf(id);
    const off = [m.audio ? 'mic off' : '', m.video ? 'camera off' : ''].filter((x) => x);
    return nameOf(id) + (off.length ? ' (' + off.join(', ') + ')' : '');
  }

  function renderMeetingState() {
    const st = sluice.meetingState;
    const el = $('meeting-state');
    if (sluice.state !== 'joined') {
      el.textContent = '';
      return;
    }
    const parts = [];
    if (st.password) parts.push('password set');
    if (st.locked) parts.push('locked');
    if (st.lobby) parts.push('lobby on');
    el.textContent = parts.length ? 'Meeting: ' + parts.join(', ') + '.' : 'Meeting: open.';
  }

  function renderModeration() {
    const mod = isModerator();
    $('moderation').hidden = !mod;
    renderMeetingState();
    renderParticipants();
    if (!mod) return;
    const st = sluice.meetingState;
    $('mod-lock').textContent = st.locked ? 'Unlock meeting' : 'Lock meeting';
    $('mod-lobby').textContent = st.lobby ? 'Turn lobby off' : 'Turn lobby on';
    $('mod-remove-password').disabled = !st.password;
    $('mod-set-password').textContent = st.password ? 'Change password' : 'Set password';
    const ul = $('lobby-list');
    ul.replaceChildren();
    $('lobby-empty').hidden = sluice.lobby.length > 0;
    for (const w of sluice.lobby) {
      const li = document.createElement('li');
      li.dataset.id = w.id;
      const name = document.createElement('span');
      name.className = 'pname';
      name.textContent = w.name ? w.name : 'guest ' + String(w.id).slice(0, 6);
      li.append(name,
        button('Admit', 'admit', () => app.send({ type: 'admit', participant: w.id })),
        button('Deny', 'deny', () => app.send({ type: 'deny', participant: w.id })));
      ul.appendChild(li);
    }
  }

  // The own mute buttons and what the server said about them.
  function renderSelf() {
    const joined = sluice.state === 'joined';
    $('self-controls').hidden = !joined;
    if (!joined) return;
    const m = mutesOf(sluice.participant);
    $('mute-audio').textContent = m.audio ? 'Unmute microphone' : 'Mute microphone';
    $('mute-video').textContent = m.video ? 'Turn camera on' : 'Turn camera off';
    const notes = [];
    for (const [kind, what] of [['audio', 'microphone'], ['video', 'camera']]) {
      const by = sluice.mutedBy[kind];
      if (m[kind] && by && by !== sluice.participant) {
        notes.push('A moderator turned off your ' + what + '; only you can turn it back on.');
      }
    }
    $('self-muted').textContent = notes.join(' ');
  }

  /* ---- room name strength ------------------------------------------- */

  const REASONS = {
    short: 'it is short',
    all_digits: 'it is only digits',
    date: 'it looks like a date',
    dictionary_word: 'it is a dictionary word',
    word_and_number: 'it is a word with a number',
    product_word: 'it uses a word common in meeting names',
    pattern: 'it has repeats, sequences or keyboard patterns',
    common_name: 'it is a common name, word or password',
  };

  function showStrength(s) {
    const el = $('room-strength');
    sluice.strength = s;
    el.classList.toggle('weak', !!(s && s.weak));
    el.classList.toggle('strong', !!(s && !s.weak));
    if (!s) {
      el.textContent = '';
      return;
    }
    const bits = Math.round(Number(s.bits) || 0);
    if (!s.weak) {
      el.textContent = 'Hard to guess (about ' + bits + ' bits).';
      return;
    }
    const why = (Array.isArray(s.reasons) ? s.reasons : [])
      .map((r) => REASONS[r] || String(r));
    el.textContent = 'Easy to guess (about ' + bits + ' bits)' +
      (why.length ? ': ' + why.join('; ') : '') +
      '. Anyone who guesses a room name can knock on its door; "Random name" makes one nobody will guess.';
  }

  Object.assign(app, {
    setStatus,
    notice,
    setState,
    fail,
    mutesOf,
    tileLabel,
    renderParticipants,
    renderModeration,
    renderSelf,
    showStrength,
  });
})();
