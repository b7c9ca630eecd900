// redirect_test.mjs - the web client following `redirect` (several nodes,
// docs/operators.md "Several nodes"), run under node:
//   node redirect_test.mjs WEB_DIR
//
// Loads signalling.js as the page does, with a fake WebSocket and DOM: a
// join answered `redirect` is sent again, the same (room, name, password,
// token), on a WebSocket to the given URL; sluice.redirects counts them;
// the 4th redirect of one join fails it (loop guard); a URL that is not
// ws(s):// (or ws:// on an https page, or one with a #fragment) fails the
// join without connecting anywhere.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

const web = process.argv[2];
assert.ok(web, 'usage: node redirect_test.mjs WEB_DIR');
const source = fs.readFileSync(path.join(web, 'signalling.js'), 'utf8');

function load(protocol) {
  const sockets = [];
  class FakeWS {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;
    constructor(url, proto) {
      this.url = url;
      this.proto = proto;
      this.readyState = FakeWS.CONNECTING;
      this.sent = [];
      sockets.push(this);
    }
    send(s) { this.sent.push(JSON.parse(s)); }
    close() {
      if (this.readyState === FakeWS.CLOSED) return;
      this.readyState = FakeWS.CLOSED;
      setTimeout(() => this.onclose && this.onclose({ code: 1000 }), 0);
    }
    open() {
      this.readyState = FakeWS.OPEN;
      this.onopen();
    }
    deliver(msg) { this.onmessage({ data: JSON.stringify(msg) }); }
  }
  const el = () => ({ value: '', hidden: true, focus() {} });
  const els = {};
  const sandbox = {
    WebSocket: FakeWS,
    TextEncoder,
    setTimeout,
    clearTimeout,
    console,
    location: { protocol, host: 'a.test', pathname: '/', search: '' },
    history: { replaceState() {} },
    document: { getElementById: (id) => (els[id] = els[id] || el()) },
  };
  sandbox.window = sandbox;
  sandbox.globalThis = sandbox;
  vm.createContext(sandbox);
  vm.runInContext(source, sandbox);
  const app = sandbox.SluiceApp;
  const sluice = sandbox.sluice;
  Object.assign(app, {
    setState: (s) => { sluice.state = s; },
    setStatus() {},
    fail: (text, code) => { sluice.lastError = code || text; },
    teardown() {},
    notice() {},
    resetChat() {},
    resetSpeaker() {},
    renderParticipants() {},
    showStrength() {},
  });
  return { sockets, sluice };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

// Follows a redirect with the same join; counts it.
{
  const { sockets, sluice } = load('http:');
  const p = sluice.join('Room-Alpha', 'Ann', { password: 'pw-1', token: 'tok' });
  p.catch(() => {});
  assert.equal(sockets.length, 1);
  assert.equal(sockets[0].url, 'ws://a.test/ws');
  sockets[0].open();
  await tick();
  const join = sockets[0].sent[0];
  assert.deepEqual(join, { type: 'join', room: 'Room-Alpha', name: 'Ann', password: 'pw-1',
    token: 'tok' });
  sockets[0].deliver({ type: 'redirect', url: 'ws://b.test:9001/ws' });
  assert.equal(sockets[0].readyState, 3, 'the first socket is closed');
  assert.equal(sockets.length, 2, 'a socket to the owner');
  assert.equal(sockets[1].url, 'ws://b.test:9001/ws');
  assert.equal(sockets[1].proto, 'sluice-v1');
  assert.equal(sluice.redirects, 1);
  assert.equal(sluice.state, 'joining');
  sockets[1].open();
  await tick();
  assert.deepEqual(sockets[1].sent, [join], 'the same join at the owner');
  // Loop guard: 3 redirects per join, the 4th fails it.
  for (let i = 2; i <= 3; i++) {
    sockets[i - 1].deliver({ type: 'redirect', url: `ws://n${i}.test/ws` });
    sockets[i].open();
    await tick();
    assert.deepEqual(sockets[i].sent, [join]);
  }
  assert.equal(sluice.redirects, 3);
  sockets[3].deliver({ type: 'redirect', url: 'ws://n4.test/ws' });
  assert.equal(sockets.length, 4, 'no 4th redirect is followed');
  assert.equal(sluice.state, 'error');
  await assert.rejects(p);
}

// Unusable URLs fail the join without connecting.
for (const [protocol, url] of [['http:', 'http://b.test/ws'], ['http:', 'ws://b.test/ws#Room'],
  ['http:', ''], ['https:', 'ws://b.test/ws'], ['http:', 'javascript:alert(1)']]) {
  const { sockets, sluice } = load(protocol);
  const p = sluice.join('Room-Beta', 'Bo');
  p.catch(() => {});
  sockets[0].open();
  await tick();
  sockets[0].deliver({ type: 'redirect', url });
  assert.equal(sockets.length, 1, `followed an unusable redirect ${url}`);
  assert.equal(sluice.state, 'error');
  assert.equal(sluice.redirects, 0);
  await assert.rejects(p);
}

// wss:// on an https page is followed.
{
  const { sockets, sluice } = load('https:');
  sluice.join('Room-Gamma', 'Cy').catch(() => {});
  assert.equal(sockets[0].url, 'wss://a.test/ws');
  sockets[0].open();
  await tick();
  sockets[0].deliver({ type: 'redirect', url: 'wss://b.test/ws' });
  assert.equal(sockets[1].url, 'wss://b.test/ws');
}
console.log('redirect: ok');
