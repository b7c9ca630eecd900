// turn_test.mjs - the web client's TURN servers (docs/signalling.md
// `joined`'s `iceServers`, docs/controlplane.md "TURN credentials"), run
// under node:
//   node turn_test.mjs WEB_DIR
//
// Loads signalling.js as the page does, with a fake WebSocket and DOM:
// `joined` with `iceServers` sets sluice.iceServers to them, a `joined`
// without sets it to []; media.js (the SFU) and p2p.js create their
// RTCPeerConnection with sluice.iceServers.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { load as loadPage, tick } from './fake_page.mjs';

const web = process.argv[2];
assert.ok(web, 'usage: node turn_test.mjs WEB_DIR');


const ice = [{ urls: ['turn:turn.example.org:3478?transport=udp',
  'turns:turn.example.org:443?transport=tcp'], username: '1700000600:p1',
credential: 'gtYcMIwsZwPry2k029gvl2J7YF0=' }];
for (const [joined, want] of [[{ iceServers: ice }, ice], [{}, []],
  [{ iceServers: 'turn:x' }, []]]) {
  const { sockets, sluice } = loadPage(web, 'http:');
  sluice.join('Room-Turn', 'Tia').catch(() => {});
  sockets[0].open();
  await tick();
  sockets[0].deliver({ type: 'joined', participant: 'p1', meeting: 'm1', participants: [],
    role: 'participant', meeting_state: {}, p2p: true, ...joined });
  assert.equal(sluice.state, 'joined');
  assert.deepEqual(JSON.parse(JSON.stringify(sluice.iceServers)), want);
}

// Both connections take them.
for (const f of ['media.js', 'p2p.js']) {
  const js = fs.readFileSync(path.join(web, f), 'utf8');
  const pcs = js.match(/new RTCPeerConnection\(\{[^}]*\}/g) || [];
  assert.equal(pcs.length, 1, `${f}: one RTCPeerConnection`);
  assert.match(pcs[0], /iceServers: sluice\.iceServers \|\| \[\]/, `${f}: ${pcs[0]}`);
}
