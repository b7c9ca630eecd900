/*
 * Sluice web client: speaks the signalling protocol (docs/signalling.md)
 * over one WebSocket, answers the server's offers with one
 * RTCPeerConnection, publishes camera and microphone on the mids the offer
 * names, and shows one tile per remote participant. The server always
 * offers and is ICE-lite, so the client never offers, never waits for ICE
 * gathering and never sends candidates. Offers are handled strictly one
 * after another through a promise chain, because each step is async and a
 * re-offer must not overtake the one before it.
 *
 * The WebSocket is opened as soon as the page loads, so the room name can
 * be checked (check_name, debounced) while it is typed; the same connection
 * then carries the join. A refused join (a password is needed, the meeting
 * is locked, ...) leaves the connection open for another try. Entry
 * control: a password prompt, a token (field or ?token=), the lobby's
 * waiting screen, and - for moderators - password, lock, lobby (admit /
 * deny), mute, kick, grant and end. Names and any text from the network are
 * only ever put into the page with textContent. window.sluice exposes the
 * state for the end-to-end tests (tests/e2e/).
 */
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const enc = new TextEncoder();
  const bytes = (s) => enc.encode(s).length;

  const sluice = {
    // idle | joining | password | lobby | joined | left | error | kicked | ended | denied
    state: 'idle',
    meeting: null,
    participant: null,
    participants: [], // [{id, name, role, muted}] as last sent by the server
    role: null, // own role once joined
    roles: {}, // participant id -> role (participants entries and role messages)
    mutes: {}, // participant id -> {audio, video}
    mutedBy: {}, // kind -> id of who muted this participant (own mutes only)
    meetingState: { locked: false, lobby: false, password: false },
    lobby: [], // [{id, name}] waiting, for moderators
    strength: null, // the last name_strength shown: {bits, weak, reasons}
    strengthFor: null, // the room name it was for
    denied: null, // the reason of a 'denied'
    pc: null,
    lastError: null,
    lastClose: null, // {code, byServer} of the last connection that closed
    tracks: [], // the current offer's tracks[]
    version: null,
    join,
    leave,
    connected: () => !!ws && ws.readyState === WebSocket.OPEN,
  };
  window.sluice = sluice;

  let ws = null;
  let wsReady = null; // promise of the open socket `ws`
  // Replies to check_name and join come in the order they were sent; these
  // say what each of the next replies answers: {kind: 'check', room} or
  // {kind: 'join', password}.
  let pending = [];
  let joinWaiter = null; // {resolve, reject} of the join() in progress
  let lastJoin = null; // {room, name, token} of the last join, for the password retry
  let mediaPromise = null; // getUserMedia, started once joined
  let localStream = null;
  let offerChain = Promise.resolve();
  const tiles = new Map(); // participant id -> {el, video, label, stream}

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

  /* ---- UI ------------------------------------------------------------ */

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
        const act = (type, extra) => () => send({ type, participant: p.id, ...extra });
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
    for (const [id, tile] of tiles) {
      if (id !== 'local') tile.label.textContent = tileLabel(id);
    }
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
        button('Admit', 'admit', () => send({ type: 'admit', participant: w.id })),
        button('Deny', 'deny', () => send({ type: 'deny', participant: w.id })));
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

  // Local tracks follow the own mute state: a muted kind sends nothing.
  function applyLocalMutes() {
    if (!localStream) return;
    const m = mutesOf(sluice.participant);
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
      const tile = tiles.get(id) || makeTile(id, tileLabel(id), false);
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

  let checkTimer = null;
  let checkPausedUntil = 0; // after 'throttled': no check_name before this
  let lastChecked = null; // the room name whose check was sent last
  let recheck = false; // the name changed while a check was unanswered

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

  function checkAnswered() {
    if (!recheck) return;
    recheck = false;
    runCheck();
  }

  function scheduleCheck() {
    clearTimeout(checkTimer);
    const room = $('room').value.trim();
    if (!room || bytes(room) > 128) {
      lastChecked = null;
      showStrength(null);
      sluice.strengthFor = null;
      return;
    }
    checkTimer = setTimeout(runCheck, 300);
  }

  function runCheck() {
    clearTimeout(checkTimer);
    const room = $('room').value.trim();
    if (!room || bytes(room) > 128 || room === lastChecked) return;
    if (['joining', 'lobby', 'joined'].includes(sluice.state)) return;
    const wait = checkPausedUntil - Date.now();
    if (wait > 0) {
      checkTimer = setTimeout(runCheck, wait);
      return;
    }
    // One check at a time: the next goes when this one is answered.
    if (pending.some((x) => x.kind === 'check')) {
      recheck = true;
      return;
    }
    connect().then((sock) => {
      if (ws !== sock || $('room').value.trim() !== room || room === lastChecked) return;
      if (['joining', 'lobby', 'joined'].includes(sluice.state)) return;
      if (pending.some((x) => x.kind === 'check')) {
        recheck = true;
        return;
      }
      lastChecked = room;
      send({ type: 'check_name', room });
      pending.push({ kind: 'check', room });
    }, () => {});
  }

  /* ---- signalling ---------------------------------------------------- */

  function send(obj) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
  }

  // The open socket: the current one, or a new one.
  function connect() {
    if (ws && (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN)) {
      return wsReady;
    }
    const proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const sock = new WebSocket(proto + location.host + '/ws', 'sluice-v1');
    ws = sock;
    pending = [];
    lastChecked = null;
    recheck = false;
    wsReady = new Promise((resolve, reject) => {
      sock.onopen = () => resolve(sock);
      sock.onmessage = (ev) => {
        if (ws !== sock) return;
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch (e) {
          fail('The server sent something that is not JSON.');
          return;
        }
        if (msg && typeof msg === 'object') onMessage(sock, msg);
      };
      sock.onclose = (ev) => {
        reject(new Error('closed'));
        sluice.lastClose = { code: ev.code, byServer: !sock.closedByClient };
        if (ws !== sock) return;
        ws = null;
        pending = [];
        onClosed();
      };
    });
    wsReady.catch(() => {});
    return wsReady;
  }

  // Closes our side (the server closes too after a fatal message).
  function dropSocket() {
    if (!ws) return;
    const sock = ws;
    ws = null;
    pending = [];
    sock.closedByClient = true;
    sock.close();
  }

  function onClosed() {
    const st = sluice.state;
    if (st === 'joining' || st === 'lobby' || st === 'joined') {
      const why = sluice.lastError || 'connection closed';
      fail('Disconnected: ' + why, why);
      setState('error');
      settleJoin(new Error(sluice.lastError));
      teardown();
    }
  }

  function settleJoin(err, meeting) {
    const w = joinWaiter;
    joinWaiter = null;
    if (!w) return;
    if (err) w.reject(err);
    else w.resolve(meeting);
  }

  /*
   * join(room, name, {password, token}) -> promise of the meeting id,
   * rejected with the error code when the join is refused. It stays
   * pending while the join waits in the lobby.
   */
  function join(room, name, opts) {
    room = String(room || '');
    name = String(name || '');
    const password = opts && opts.password ? String(opts.password) : '';
    const token = opts && opts.token ? String(opts.token) : '';
    if (['joining', 'lobby', 'joined'].includes(sluice.state)) {
      return Promise.reject(new Error('already joined'));
    }
    if (bytes(room) < 1 || bytes(room) > 128) {
      fail('The room name must be 1 to 128 bytes long.');
      return Promise.reject(new Error(sluice.lastError));
    }
    if (bytes(name) > 64) {
      fail('Your name must be at most 64 bytes long.');
      return Promise.reject(new Error(sluice.lastError));
    }
    if (bytes(password) > 128) {
      fail('The password must be at most 128 bytes long.');
      return Promise.reject(new Error(sluice.lastError));
    }
    // The fragment never leaves the browser; it makes the link shareable.
    history.replaceState(null, '', location.pathname + location.search +
      '#' + encodeURIComponent(room));
    resetSession();
    sluice.lastError = null;
    lastJoin = { room, name, token };
    setState('joining');
    setStatus('Connecting…');
    clearTimeout(checkTimer);

    return new Promise((resolve, reject) => {
      joinWaiter = { resolve, reject };
      connect().then((sock) => {
        if (ws !== sock || sluice.state !== 'joining') return;
        const msg = { type: 'join', room };
        if (name) msg.name = name;
        if (password) msg.password = password;
        if (token) msg.token = token;
        send(msg);
        pending.push({ kind: 'join', password: !!password });
        setStatus(password ? 'Checking the password…' : 'Joining…');
      }, () => {
        if (sluice.state !== 'joining') return;
        fail('Cannot reach the server.', 'connection closed');
        setState('error');
        settleJoin(new Error(sluice.lastError));
      });
    });
  }

  const REFUSED = {
    locked: 'The meeting is locked: nobody new can join.',
    weak_room_name: 'This room name is too easy to guess to open a new meeting. Choose a ' +
      'stronger one ("Random name" makes one).',
    auth_required: 'This server lets in only people with a sign-in token.',
    bad_token: 'The sign-in token was not accepted (expired, or not for this room?).',
    room_full: 'The meeting is full.',
    unavailable: 'The server cannot take meetings right now; try again later.',
  };

  // A join answered by an error: the connection stays open for a retry.
  function joinRefused(msg, withPassword) {
    const code = String(msg.code || 'error');
    teardown();
    if (code === 'password_required') {
      sluice.lastError = code;
      setState('password');
      setStatus(withPassword ? 'Wrong password. Try again.'
        : 'This meeting needs a password.', withPassword);
      $('password').value = '';
      $('password').focus();
    } else {
      let text = REFUSED[code] || 'Server: ' + (msg.message || code);
      if (code === 'throttled') {
        const s = Number(msg.retry_after) || 1;
        text = 'Too many tries: wait ' + s + ' second' + (s === 1 ? '' : 's') + ' and join again.';
      }
      fail(text, code);
      setState('error');
    }
    settleJoin(new Error(code));
  }

  const DENIED = {
    denied: 'A moderator did not let you in.',
    timeout: 'Nobody let you in in time.',
    locked: 'The meeting was locked while you waited.',
    password_required: 'The meeting needs a password: enter it to join.',
  };

  // kicked / ended / denied: the server closes the connection (the page
  // closes it itself only if that has not happened within 3 s).
  function finished(sock, state, title, text) {
    ws = null;
    pending = [];
    setTimeout(() => {
      if (sock.readyState === WebSocket.CLOSED) return;
      sock.closedByClient = true;
      sock.close();
    }, 3000);
    teardown();
    setState(state);
    notice(title, text);
    setStatus(title);
    settleJoin(new Error(state));
  }

  function onMessage(sock, msg) {
    if (ws !== sock) return;
    const head = pending[0];
    switch (msg.type) {
      case 'name_strength':
        if (head && head.kind === 'check') {
          pending.shift();
          if (head.room === $('room').value.trim()) {
            showStrength(msg);
            sluice.strengthFor = head.room;
          }
          checkAnswered();
        }
        break;
      case 'lobby_wait':
        if (head && head.kind === 'join') pending.shift();
        setState('lobby');
        notice('Waiting in the lobby', 'A moderator will let you in soon. Keep this page open.');
        setStatus('Waiting for a moderator to let you in…');
        break;
      case 'joined':
        if (head && head.kind === 'join') pending.shift();
        sluice.participant = msg.participant;
        sluice.meeting = msg.meeting;
        if (Array.isArray(msg.participants)) sluice.participants = msg.participants;
        if (msg.meeting_state && typeof msg.meeting_state === 'object') {
          sluice.meetingState = { ...sluice.meetingState, ...msg.meeting_state };
        }
        sluice.roles[msg.participant] = msg.role;
        setState('joined');
        sluice.role = msg.role === 'moderator' ? 'moderator' : 'participant';
        setStatus('Joined. Setting up media…');
        startMedia();
        renderSelf();
        renderModeration();
        settleJoin(null, msg.meeting);
        break;
      case 'participants':
        if (!Array.isArray(msg.participants)) break;
        sluice.participants = msg.participants;
        for (const p of msg.participants) {
          if (p.role) sluice.roles[p.id] = p.role;
          if (p.muted && typeof p.muted === 'object') {
            sluice.mutes[p.id] = { audio: !!p.muted.audio, video: !!p.muted.video };
          }
        }
        applyLocalMutes();
        renderSelf();
        renderParticipants();
        break;
      case 'role':
        sluice.roles[msg.participant] = msg.role;
        if (msg.participant === sluice.participant) {
          sluice.role = msg.role === 'moderator' ? 'moderator' : 'participant';
          if (sluice.role === 'moderator') setStatus('You are now a moderator.');
        }
        renderModeration();
        break;
      case 'muted': {
        const kind = msg.kind === 'audio' ? 'audio' : 'video';
        const m = { ...mutesOf(msg.participant) };
        m[kind] = msg.muted !== false;
        sluice.mutes[msg.participant] = m;
        if (msg.participant === sluice.participant) {
          sluice.mutedBy[kind] = m[kind] ? msg.by : null;
          applyLocalMutes();
          renderSelf();
        }
        renderParticipants();
        break;
      }
      case 'meeting_state':
        sluice.meetingState = {
          locked: !!msg.locked, lobby: !!msg.lobby, password: !!msg.password,
        };
        renderModeration();
        break;
      case 'lobby_update':
        sluice.lobby = Array.isArray(msg.waiting) ? msg.waiting : [];
        renderModeration();
        break;
      case 'offer':
        offerChain = offerChain.then(() => onOffer(sock, msg)).catch((e) => {
          fail('Could not answer the offer: ' + (e && e.message ? e.message : e));
        });
        break;
      case 'kicked':
        finished(sock, 'kicked', 'You were removed from the meeting',
          'A moderator removed you. You may join again if the meeting lets you in.');
        break;
      case 'ended':
        finished(sock, 'ended', 'The meeting has ended',
          sluice.state === 'lobby' ? 'It ended before anyone let you in.'
            : 'A moderator ended it for everyone.');
        break;
      case 'denied': {
        const reason = String(msg.reason || 'denied');
        sluice.denied = reason;
        finished(sock, 'denied', 'You were not let in', DENIED[reason] || reason);
        if (reason === 'password_required') $('password-form').hidden = false;
        break;
      }
      case 'left':
        dropSocket();
        setState('left');
        setStatus('You left the meeting.');
        teardown();
        settleJoin(new Error('left'));
        break;
      case 'error':
        onError(sock, msg, head);
        break;
      default:
        break; // newer servers may add types; ignore them
    }
  }

  function onError(sock, msg, head) {
    const code = String(msg.code || 'error');
    // Before the join succeeded, every error answers a check_name or the join.
    if (head && sluice.state !== 'joined' && sluice.state !== 'lobby') {
      pending.shift();
      if (head.kind === 'check') {
        if (code === 'throttled') {
          checkPausedUntil = Date.now() + 1000 * (Number(msg.retry_after) || 1);
          lastChecked = null;
          recheck = true;
        }
        checkAnswered(); // after 'throttled': waits for the pause
      } else if (!msg.fatal) {
        joinRefused(msg, head.password);
        return;
      }
    }
    if (msg.fatal) {
      fail('Server: ' + (msg.message || code), code);
      const st = sluice.state;
      dropSocket();
      teardown();
      if (st === 'joining' || st === 'lobby' || st === 'joined') setState('error');
      settleJoin(new Error(code));
      return;
    }
    if (head && head.kind === 'check') return;
    fail('Server: ' + (msg.message || code), code);
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
      const stream = await mediaPromise;
      if (ws !== sock) {
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
    const st = sluice.state;
    if (ws && ws.readyState === WebSocket.OPEN && (st === 'joined' || st === 'lobby')) {
      send({ type: 'leave' });
      setStatus('Leaving…');
      return;
    }
    dropSocket();
    setState('left');
    setStatus('You left the meeting.');
    teardown();
    settleJoin(new Error('left'));
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
  }

  // Forget the previous session's objects (sluice.pc stays readable until
  // a new join so tests can look at it after leaving).
  function resetSession() {
    teardown();
    sluice.pc = null;
    sluice.meeting = null;
    sluice.participant = null;
    sluice.participants = [];
    sluice.roles = {};
    sluice.mutes = {};
    sluice.mutedBy = {};
    sluice.meetingState = { locked: false, lobby: false, password: false };
    sluice.lobby = [];
    sluice.denied = null;
    sluice.tracks = [];
    sluice.version = null;
    offerChain = Promise.resolve();
    notice(null);
    renderParticipants();
  }

  /* ---- wiring -------------------------------------------------------- */

  const formValues = () => ({
    room: $('room').value.trim(),
    name: $('name').value.trim(),
    token: $('token').value.trim(),
  });

  $('random').addEventListener('click', async () => {
    $('room').value = await randomName();
    scheduleCheck();
  });
  $('room').addEventListener('input', scheduleCheck);
  $('join-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = formValues();
    join(v.room, v.name, { token: v.token }).catch(() => {});
  });
  $('password-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = lastJoin || formValues();
    const password = $('password').value;
    if (!password) return;
    join(v.room, v.name, { password, token: v.token }).catch(() => {});
  });
  $('leave').addEventListener('click', () => leave());

  for (const kind of ['audio', 'video']) {
    $('mute-' + kind).addEventListener('click', () => {
      if (sluice.state !== 'joined') return;
      const muted = !mutesOf(sluice.participant)[kind];
      send({ type: 'mute', participant: sluice.participant, kind, muted });
      if (muted) {
        // Stop sending at once; unmuting waits for the server's 'muted'.
        sluice.mutes[sluice.participant] = { ...mutesOf(sluice.participant), [kind]: true };
        sluice.mutedBy[kind] = sluice.participant;
        applyLocalMutes();
        renderSelf();
        renderParticipants();
      }
    });
  }

  $('mod-password-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const pw = $('mod-password').value;
    if (bytes(pw) < 1 || bytes(pw) > 128) {
      fail('A password is 1 to 128 bytes long.');
      return;
    }
    send({ type: 'set_password', password: pw });
    $('mod-password').value = '';
  });
  $('mod-remove-password').addEventListener('click', () => {
    send({ type: 'set_password', password: null });
  });
  $('mod-lock').addEventListener('click', () => {
    send({ type: 'lock', locked: !sluice.meetingState.locked });
  });
  $('mod-lobby').addEventListener('click', () => {
    send({ type: 'lobby', enabled: !sluice.meetingState.lobby });
  });
  $('mod-end').addEventListener('click', () => send({ type: 'end_meeting' }));

  window.addEventListener('pagehide', () => {
    if (sluice.state === 'joined' || sluice.state === 'lobby') send({ type: 'leave' });
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
  setState('idle');
  // Open the connection early: the room name is checked while it is typed.
  connect().catch(() => {});
  if ($('room').value.trim()) scheduleCheck();
})();
