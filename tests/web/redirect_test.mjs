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
import { load as loadPage, tick } from './fake_page.mjs';

const web = process.argv[2];
assert.ok(web, 'usage: node redirect_test.mjs WEB_DIR');


// Follows a redirect with the same join; counts it.
{
  const { sockets, sluice } = loadPage(web, 'http:');
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
  const { sockets, sluice } = loadPage(web, protocol);
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
  const { sockets, sluice } = loadPage(web, 'https:');
  sluice.join('Room-Gamma', 'Cy').catch(() => {});
  assert.equal(sockets[0].url, 'wss://a.test/ws');
  sockets[0].open();
  await tick();
  sockets[0].deliver({ type: 'redirect', url: 'wss://b.test/ws' });
  assert.equal(sockets[1].url, 'wss://b.test/ws');
}
console.log('redirect: ok');
