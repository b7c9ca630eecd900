/*
 * Sluice web client: the signalling and join logic. It speaks the
 * signalling protocol (docs/signalling.md) over one WebSocket. The socket
 * is opened as soon as the page loads, so the room name can be checked
 * (check_name, debounced, one at a time) while it is typed; the same
 * connection then carries the join. Replies to check_name and join are
 * matched to what they answer by their order. A refused join (a password
 * is needed, the meeting is locked, ...) leaves the connection open for
 * another try; kicked, ended, denied and fatal errors end it. Offers are
 * handed to media.js strictly one after another through a promise chain,
 * because each step is async and a re-offer must not overtake the one
 * before it. Chat messages and chat_history are handed to ui.js's chat
 * panel; an error that follows a chat this page sent answers that chat;
 * screenshare messages go to screen.js.
 *
 * The client is five classic scripts, loaded by index.html in this order
 * (after the optional names.js): signalling.js, ui.js (the page UI),
 * media.js (RTCPeerConnection and video tiles), speaker.js (dominant
 * speaker and speaker stats), app.js (the wiring and start-up). This first one creates what they share:
 *   window.sluice     the client's state, read by the end-to-end tests
 *                     (tests/e2e/), with join(), leave() and connected();
 *   window.SluiceApp  the namespace: $, bytes, sluice, and the functions
 *                     each script offers the others (app.setState, ...).
 * Each script keeps its own variables to itself. Calls between scripts
 * only happen once app.js has run, when all of them are loaded.
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
    meetingState: { locked: false, lobby: false, password: false, permissions: defaultPermissions() },
    chat: [], // the chat messages received in this meeting, chat_history's included, oldest first
    chatError: null, // the error code of the last chat refused
    lobby: [], // [{id, name}] waiting, for moderators
    strength: null, // the last name_strength shown: {bits, weak, reasons}
    strengthFor: null, // the room name it was for
    denied: null, // the reason of a 'denied'
    joinRetries: 0, // joins sent again by themselves after 'throttled' (this page)
    redirects: 0, // joins sent again to another node after 'redirect' (this page)
    pc: null,
    lastError: null,
    lastClose: null, // {code, byServer} of the last connection that closed
    tracks: [], // the current offer's tracks[] ({mid, kind, label, participant})
    screenMid: null, // the mid the server named publish.screen (once it did)
    version: null,
    join,
    leave,
    connected: () => !!ws && ws.readyState === WebSocket.OPEN,
  };
  window.sluice = sluice;

  // meeting_state.permissions, each "all" unless the server says "moderators".
  function defaultPermissions() {
    return { chat: 'all', screenshare: 'all' };
  }
  function permissionsOf(p) {
    const one = (x) => (x === 'moderators' ? 'moderators' : 'all');
    return p && typeof p === 'object' ? { chat: one(p.chat), screenshare: one(p.screenshare) }
      : defaultPermissions();
  }
  function meetingStateOf(m) {
    return {
      locked: !!m.locked, lobby: !!m.lobby, password: !!m.password,
      permissions: permissionsOf(m.permissions),
    };
  }

  // Shared by the client's scripts; each adds the functions the others call.
  const app = { $, bytes, sluice };
  window.SluiceApp = app;

  /* ---- connection state ---------------------------------------------- */

  let ws = null;
  let wsReady = null; // promise of the open socket `ws`
  // Replies to check_name and join come in the order they were sent; these
  // say what each of the next replies answers: {kind: 'check', room} or
  // {kind: 'join', password}.
  let pending = [];
  let joinWaiter = null; // {resolve, reject} of the join() in progress
  let lastJoin = null; // {room, name, token} of the last join, for the password retry

  let offerChain = Promise.resolve();

  /* ---- room name checks -------------------------------------------- */

  let checkTimer = null;
  let checkPausedUntil = 0; // after 'throttled': no check_name before this
  let lastChecked = null; // the room name whose check was sent last
  let recheck = false; // the name changed while a check was unanswered

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
      app.showStrength(null);
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

  // The open socket: the current one, or a new one (to url, a node's
  // --public-url after 'redirect'; else this page's host).
  function connect(url) {
    if (ws && (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN)) {
      return wsReady;
    }
    const proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const sock = new WebSocket(url || proto + location.host + '/ws', 'sluice-v1');
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
          app.fail('The server sent something that is not JSON.');
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
      app.fail('Disconnected: ' + why, why);
      app.setState('error');
      settleJoin(new Error(sluice.lastError));
      app.teardown();
    }
  }

  function settleJoin(err, meeting) {
    stopJoinRetry();
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
      app.fail('The room name must be 1 to 128 bytes long.');
      return Promise.reject(new Error(sluice.lastError));
    }
    if (bytes(name) > 64) {
      app.fail('Your name must be at most 64 bytes long.');
      return Promise.reject(new Error(sluice.lastError));
    }
    if (bytes(password) > 128) {
      app.fail('The password must be at most 128 bytes long.');
      return Promise.reject(new Error(sluice.lastError));
    }
    // The fragment never leaves the browser; it makes the link shareable.
    history.replaceState(null, '', location.pathname + location.search +
      '#' + encodeURIComponent(room));
    resetSession();
    sluice.lastError = null;
    lastJoin = { room, name, token };
    app.setState('joining');
    app.setStatus('Connecting…');
    clearTimeout(checkTimer);

    return new Promise((resolve, reject) => {
      joinWaiter = { resolve, reject };
      connect().then((sock) => {
        if (ws !== sock || sluice.state !== 'joining') return;
        const msg = { type: 'join', room };
        if (name) msg.name = name;
        if (password) msg.password = password;
        if (token) msg.token = token;
        joinRetry = { msg, sock, left: JOIN_RETRIES, timer: null, redirects: 0 };
        sendJoin(msg);
      }, () => {
        if (sluice.state !== 'joining') return;
        app.fail('Cannot reach the server.', 'connection closed');
        app.setState('error');
        settleJoin(new Error(sluice.lastError));
      });
    });
  }

  // A join the server answered `throttled` (busy: too many joins at once)
  // is sent again by itself after retry_after, up to JOIN_RETRIES times
  // (retry_after over JOIN_RETRY_MAX_S seconds is shown instead).
  const JOIN_RETRIES = 4;
  const JOIN_RETRY_MAX_S = 30;
  let joinRetry = null; // {msg, sock, left, timer} of the join in progress

  function sendJoin(msg) {
    send(msg);
    pending.push({ kind: 'join', password: !!msg.password });
    app.setStatus(msg.password ? 'Checking the password…' : 'Joining…');
  }

  // True when the throttled join will be sent again by itself.
  function retryJoin(msg) {
    const r = joinRetry;
    const s = Number(msg.retry_after) || 1;
    if (!r || r.left <= 0 || s > JOIN_RETRY_MAX_S || ws !== r.sock) return false;
    r.left--;
    sluice.joinRetries++;
    app.setStatus('The server is busy: joining again in ' + s + ' second' + (s === 1 ? '' : 's') + '…');
    r.timer = setTimeout(() => {
      r.timer = null;
      if (joinRetry === r && ws === r.sock && sluice.state === 'joining') sendJoin(r.msg);
    }, s * 1000);
    return true;
  }

  // A join answered 'redirect' (several nodes: another one holds the
  // meeting, docs/signalling.md): the same join goes to that node's URL,
  // at most MAX_REDIRECTS times per join.
  const MAX_REDIRECTS = 3;

  function followRedirect(msg) {
    const r = joinRetry;
    const url = String(msg.url || '');
    const ok = /^wss?:\/\/[^\s#]+$/.test(url) &&
      (location.protocol !== 'https:' || url.startsWith('wss://'));
    pending.shift();
    if (!r || sluice.state !== 'joining') return;
    if (!ok || r.redirects >= MAX_REDIRECTS) {
      app.fail(ok ? 'The servers sent the join around in circles.'
        : 'The server sent the join to an unusable address.', 'redirect');
      dropSocket();
      app.setState('error');
      settleJoin(new Error(sluice.lastError));
      return;
    }
    r.redirects++;
    sluice.redirects++;
    dropSocket();
    app.setStatus('Connecting to the meeting\'s server…');
    connect(url).then((sock) => {
      if (ws !== sock || joinRetry !== r || sluice.state !== 'joining') return;
      r.sock = sock;
      sendJoin(r.msg);
    }, () => {
      if (joinRetry !== r || sluice.state !== 'joining') return;
      app.fail('Cannot reach the meeting\'s server.', 'connection closed');
      app.setState('error');
      settleJoin(new Error(sluice.lastError));
    });
  }

  function stopJoinRetry() {
    if (joinRetry && joinRetry.timer) clearTimeout(joinRetry.timer);
    joinRetry = null;
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
    if (code === 'throttled' && retryJoin(msg)) return;
    stopJoinRetry();
    app.teardown();
    if (code === 'password_required') {
      sluice.lastError = code;
      app.setState('password');
      app.setStatus(withPassword ? 'Wrong password. Try again.'
        : 'This meeting needs a password.', withPassword);
      $('password').value = '';
      $('password').focus();
    } else {
      let text = REFUSED[code] || 'Server: ' + (msg.message || code);
      if (code === 'throttled') {
        const s = Number(msg.retry_after) || 1;
        text = 'Too many tries: wait ' + s + ' second' + (s === 1 ? '' : 's') + ' and join again.';
      }
      app.fail(text, code);
      app.setState('error');
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
    app.teardown();
    app.setState(state);
    app.notice(title, text);
    app.setStatus(title);
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
            app.showStrength(msg);
            sluice.strengthFor = head.room;
          }
          checkAnswered();
        }
        break;
      case 'lobby_wait':
        if (head && head.kind === 'join') pending.shift();
        app.setState('lobby');
        app.notice('Waiting in the lobby', 'A moderator will let you in soon. Keep this page open.');
        app.setStatus('Waiting for a moderator to let you in…');
        break;
      case 'joined':
        if (head && head.kind === 'join') pending.shift();
        sluice.participant = msg.participant;
        sluice.meeting = msg.meeting;
        if (Array.isArray(msg.participants)) sluice.participants = msg.participants;
        if (msg.meeting_state && typeof msg.meeting_state === 'object') {
          sluice.meetingState = meetingStateOf(msg.meeting_state);
        }
        sluice.roles[msg.participant] = msg.role;
        sluice.p2pAllowed = msg.p2p === true;
        // TURN servers with short-lived credentials (--turn-uri), for both connections.
        sluice.iceServers = Array.isArray(msg.iceServers) ? msg.iceServers : [];
        app.setState('joined');
        sluice.role = msg.role === 'moderator' ? 'moderator' : 'participant';
        app.setStatus('Joined. Setting up media…');
        app.startMedia();
        app.renderSelf();
        app.renderModeration();
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
        app.applyLocalMutes();
        app.renderSelf();
        app.renderParticipants();
        if (app.p2pUpdate) app.p2pUpdate();
        break;
      case 'role':
        sluice.roles[msg.participant] = msg.role;
        if (msg.participant === sluice.participant) {
          sluice.role = msg.role === 'moderator' ? 'moderator' : 'participant';
          if (sluice.role === 'moderator') app.setStatus('You are now a moderator.');
        }
        app.renderModeration();
        break;
      case 'muted': {
        const kind = msg.kind === 'audio' ? 'audio' : 'video';
        const m = { ...app.mutesOf(msg.participant) };
        m[kind] = msg.muted !== false;
        sluice.mutes[msg.participant] = m;
        if (msg.participant === sluice.participant) {
          sluice.mutedBy[kind] = m[kind] ? msg.by : null;
          app.applyLocalMutes();
          app.renderSelf();
        }
        app.renderParticipants();
        break;
      }
      case 'meeting_state':
        sluice.meetingState = meetingStateOf(msg);
        app.renderModeration();
        break;
      case 'chat':
        if (sluice.state === 'joined') app.onChat(msg, false);
        break;
      case 'chat_history':
        if (sluice.state === 'joined' && Array.isArray(msg.messages)) {
          for (const m of msg.messages) {
            if (m && typeof m === 'object') app.onChat(m, true);
          }
        }
        break;
      case 'screenshare':
        if (sluice.state === 'joined') app.onScreenshare(msg);
        break;
      case 'dominant_speaker':
        app.onDominantSpeaker(msg); // speaker.js
        break;
      case 'speaker_stats':
        app.onSpeakerStats(msg);
        break;
      case 'lobby_update':
        sluice.lobby = Array.isArray(msg.waiting) ? msg.waiting : [];
        app.renderModeration();
        break;
      case 'offer':
        offerChain = offerChain.then(() => app.onOffer(sock, msg)).catch((e) => {
          app.fail('Could not answer the offer: ' + (e && e.message ? e.message : e));
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
        app.setState('left');
        app.setStatus('You left the meeting.');
        app.teardown();
        settleJoin(new Error('left'));
        break;
      case 'error':
        onError(sock, msg, head);
        break;
      case 'p2p':
        if (sluice.state === 'joined' && app.onP2p) app.onP2p(msg);
        break;
      case 'redirect':
        if (head && head.kind === 'join') followRedirect(msg);
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
      app.fail('Server: ' + (msg.message || code), code);
      const st = sluice.state;
      dropSocket();
      app.teardown();
      if (st === 'joining' || st === 'lobby' || st === 'joined') app.setState('error');
      settleJoin(new Error(code));
      return;
    }
    if (head && head.kind === 'check') return;
    if (sluice.state === 'joined' && app.onChatError(code, msg)) return;
    if (sluice.state === 'joined' && app.onScreenError(code)) return;
    if (sluice.state === 'joined' && app.onP2pError && app.onP2pError(code)) return;
    app.fail('Server: ' + (msg.message || code), code);
  }

  /* ---- leaving ------------------------------------------------------- */

  function leave() {
    const st = sluice.state;
    if (ws && ws.readyState === WebSocket.OPEN && (st === 'joined' || st === 'lobby')) {
      send({ type: 'leave' });
      app.setStatus('Leaving…');
      return;
    }
    dropSocket();
    app.setState('left');
    app.setStatus('You left the meeting.');
    app.teardown();
    settleJoin(new Error('left'));
  }

  // Forget the previous session's objects (sluice.pc stays readable until
  // a new join so tests can look at it after leaving).
  function resetSession() {
    app.teardown();
    sluice.pc = null;
    sluice.meeting = null;
    sluice.participant = null;
    sluice.participants = [];
    sluice.roles = {};
    sluice.mutes = {};
    sluice.mutedBy = {};
    sluice.meetingState = { locked: false, lobby: false, password: false,
      permissions: defaultPermissions() };
    sluice.chat = [];
    sluice.chatError = null;
    app.resetChat();
    app.resetSpeaker();
    sluice.lobby = [];
    sluice.denied = null;
    sluice.tracks = [];
    sluice.screenMid = null;
    sluice.version = null;
    offerChain = Promise.resolve();
    app.notice(null);
    app.renderParticipants();
  }

  Object.assign(app, {
    send,
    connect,
    join,
    leave,
    scheduleCheck,
    lastJoin: () => lastJoin,
    // Whether sock is still the page's connection (not closed or replaced).
    isCurrentSocket: (sock) => ws === sock,
  });
})();
