// fake_page.mjs - signalling.js as the page loads it, under node, with a
// fake WebSocket and DOM, for the web client's tests (redirect_test.mjs,
// turn_test.mjs): load(WEB_DIR, 'http:' or 'https:') returns the sockets it
// opened (open() them, deliver() messages, read what was sent) and the
// page's `sluice` object; the other scripts' hooks are stubs.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

export function load(web, protocol) {
  const source = fs.readFileSync(path.join(web, 'signalling.js'), 'utf8');
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
    resetSpeaker() {},
    renderParticipants() {},
    startMedia() {},
    renderSelf() {},
    renderModeration() {},
    resetChat() {},
    showStrength() {},
  });
  return { sockets, sluice };
}

export const tick = () => new Promise((r) => setTimeout(r, 5));
