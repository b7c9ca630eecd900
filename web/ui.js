/*
 * Sluice web client: the page UI. The status line and the screen-like
 * notices (lobby, kicked, ended, denied), which controls the form enables
 * in each state, the participant list with role and mute marks, the
 * moderator panel (meeting state; lobby with admit / deny; mute, kick and
 * grant per participant; who may chat and share a screen), the own mute
 * buttons, the room name's strength as the server rated it, and the chat
 * panel (messages with sender, time and a private mark; the recipient
 * selector; chat errors). Names, chat texts and any other text from the
 * network are only ever put into the page with textContent. Loaded after
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
    app.renderSpeaker();
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
    renderChatRecipients();
    app.relabelTiles();
    app.renderSpeaker(); // speaker.js marks the dominant speaker
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
    if (st.permissions.chat === 'moderators') parts.push('only moderators chat');
    if (st.permissions.screenshare === 'moderators') parts.push('only moderators share screens');
    el.textContent = parts.length ? 'Meeting: ' + parts.join(', ') + '.' : 'Meeting: open.';
  }

  function renderModeration() {
    const mod = isModerator();
    $('moderation').hidden = !mod;
    renderMeetingState();
    renderParticipants();
    renderChatPanel();
    app.renderScreen();
    if (!mod) return;
    const st = sluice.meetingState;
    $('mod-chat').value = st.permissions.chat;
    $('mod-screenshare').value = st.permissions.screenshare;
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
    app.renderScreen();
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

  /* ---- chat ---------------------------------------------------------- */

  const CHAT_KEEP = 1000; // messages kept in the list and in sluice.chat
  const CHAT_TEXT_MAX = 4096; // bytes of UTF-8 (docs/signalling.md)
  const CHAT_ERRORS = {
    not_moderator: 'Only moderators may send messages now.',
    no_participant: 'That participant is no longer in the meeting.',
    bad_field: 'The message was not accepted.',
  };
  // The chats this page sent that the server has not answered yet, oldest
  // first, as {to}: the server answers each, in order, with the sender's
  // own copy (`chat` from us) or with an error.
  let chatsSent = [];

  // ts is ms since the meeting began: "mm:ss" (minutes past 99 just grow).
  function chatTime(ts) {
    const s = Math.max(0, Math.floor(Number(ts) / 1000) || 0);
    return String(Math.floor(s / 60)).padStart(2, '0') + ':' + String(s % 60).padStart(2, '0');
  }

  function showChatError(code, text) {
    sluice.chatError = code;
    $('chat-error').textContent = text || '';
    $('chat-error').hidden = !text;
  }

  // One chat message (live, or from chat_history when `history`).
  function onChat(msg, history) {
    if (typeof msg.text !== 'string') return;
    sluice.chat.push(msg);
    if (sluice.chat.length > CHAT_KEEP) sluice.chat.splice(0, sluice.chat.length - CHAT_KEEP);
    let to = null;
    const mine = msg.from === sluice.participant;
    if (mine && !history && chatsSent.length) {
      to = chatsSent.shift().to;
      showChatError(null, '');
    }
    const li = document.createElement('li');
    li.className = (history ? 'history' : '') + (mine ? ' mine' : '') +
      (msg.private ? ' private' : '');
    li.dataset.id = String(msg.id);
    const head = document.createElement('div');
    head.className = 'chat-head';
    const time = document.createElement('span');
    time.className = 'chat-time';
    time.textContent = chatTime(msg.ts);
    const who = document.createElement('span');
    who.className = 'chat-name';
    who.textContent = (msg.name ? String(msg.name) : 'guest ' + String(msg.from).slice(0, 6)) +
      (mine ? ' (you)' : '');
    head.append(time, who);
    if (msg.private) head.appendChild(tag(to ? 'private to ' + nameOf(to) : 'private', 'private'));
    const text = document.createElement('div');
    text.className = 'chat-text';
    text.textContent = msg.text;
    li.append(head, text);
    const list = $('chat-list');
    const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.appendChild(li);
    while (list.children.length > CHAT_KEEP) list.firstChild.remove();
    if (atEnd || mine) list.scrollTop = list.scrollHeight;
  }

  // An error while joined: true when it answers a chat this page sent.
  function onChatError(code, msg) {
    if (!chatsSent.length || !(Object.hasOwn(CHAT_ERRORS, code) || code === 'throttled')) {
      return false;
    }
    chatsSent.shift();
    let text = CHAT_ERRORS[code];
    if (code === 'throttled') {
      const s = Number(msg.retry_after) || 1;
      text = 'Too many messages: wait ' + s + ' second' + (s === 1 ? '' : 's') + '.';
    }
    showChatError(code, text);
    return true;
  }

  // Sends a chat (to: a participant id for a private message, or '' for
  // everyone); false when there is nothing to send or it is too long.
  function sendChat(text, to) {
    if (sluice.state !== 'joined' || !sluice.connected() || !text.trim()) return false;
    if (app.bytes(text) > CHAT_TEXT_MAX) {
      showChatError('too_long', 'A message is at most ' + CHAT_TEXT_MAX + ' bytes long.');
      return false;
    }
    const msg = { type: 'chat', text };
    if (to) msg.to = to;
    chatsSent.push({ to: to || null });
    app.send(msg);
    return true;
  }

  // Everyone, or one other participant (a private message). A recipient
  // who left stays selected, marked, so a private message never goes to
  // everyone by itself (the server answers no_participant).
  function renderChatRecipients() {
    const sel = $('chat-to');
    const keep = sel.value;
    const keepLabel = sel.selectedOptions.length ? sel.selectedOptions[0].textContent : '';
    const option = (value, text) => {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      return o;
    };
    const opts = [option('', 'Everyone')];
    const others = sluice.state === 'joined'
      ? sluice.participants.filter((p) => p.id !== sluice.participant) : [];
    for (const p of others) opts.push(option(p.id, nameOf(p.id) + ' (private)'));
    if (keep && sluice.state === 'joined' && !others.some((p) => p.id === keep)) {
      opts.push(option(keep, keepLabel.endsWith(' (left)') ? keepLabel
        : keepLabel.replace(/ \(private\)$/, '') + ' (left)'));
    }
    sel.replaceChildren(...opts);
    sel.value = sluice.state === 'joined' ? keep : '';
  }

  function renderChatPanel() {
    const joined = sluice.state === 'joined';
    $('chat').hidden = !joined;
    const onlyMods = sluice.meetingState.permissions.chat === 'moderators';
    $('chat-note').textContent = joined && onlyMods
      ? (isModerator() ? 'Only moderators may send messages now.'
        : 'Only moderators may send messages now; yours will be refused.') : '';
    $('chat-note').hidden = !(joined && onlyMods);
  }

  // A new join: an empty list, nothing outstanding.
  function resetChat() {
    chatsSent = [];
    $('chat-list').replaceChildren();
    $('chat-text').value = '';
    showChatError(null, '');
    renderChatRecipients();
    renderChatPanel();
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
    onChat,
    onChatError,
    sendChat,
    resetChat,
  });
})();
