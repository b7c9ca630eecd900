// names_test.mjs - the web client's random room names (web/names.js) and
// word list (web/words.txt), run under node: node names_test.mjs WEB_DIR
//
// Loads names.js as the page does (a classic script setting
// globalThis.SluiceNames), computes the entropy from the actual list,
// checks the list (unique, well-formed, a power of two), draws 1000 names
// (shape, length, distinct words, no repeats among them), checks that a
// 16-bit random value maps to every word equally often, that
// randomRoomName() fetches words.txt once, and that no file under web/
// uses Math.random.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

const web = process.argv[2];
assert.ok(web, 'usage: node names_test.mjs WEB_DIR');

// The word list.
const text = fs.readFileSync(path.join(web, 'words.txt'), 'utf8');
assert.ok(text.endsWith('\n') && !text.includes('\r'), 'words.txt: one word a line');
const words = text.split('\n').slice(0, -1);
const n = words.length;
assert.equal(new Set(words).size, n, 'words are unique');
for (const w of words) assert.match(w, /^[a-z]{4,7}$/, 'well-formed word: ' + w);
assert.ok(n >= 2 && (n & (n - 1)) === 0, 'list size is a power of two: ' + n);

// names.js, loaded like a <script> (fetch stubbed to count calls).
let fetches = 0;
const sandbox = {
  crypto: globalThis.crypto,
  fetch: async (url) => {
    fetches++;
    assert.equal(url, 'words.txt');
    return { ok: true, status: 200, text: async () => text };
  },
};
sandbox.globalThis = sandbox;
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(path.join(web, 'names.js'), 'utf8'), sandbox);
const N = sandbox.SluiceNames;
assert.ok(N, 'names.js sets globalThis.SluiceNames');
assert.equal(N.LIST_SIZE, n, 'names.js expects the list size of words.txt');

// Entropy from the actual list.
const perWord = Math.log2(n);
const nominal = N.WORDS_PER_NAME * perWord;
let exact = 0;
for (let i = 0; i < N.WORDS_PER_NAME; i++) exact += Math.log2(n - i);
console.log(`word list: ${n} words, ${perWord} bits a word`);
console.log(`names: ${N.WORDS_PER_NAME} words = ${nominal} bits (${exact.toFixed(4)} bits with distinct words)`);
assert.ok(exact >= 64, 'at least 64 bits');
assert.ok(Math.abs(N.ENTROPY_BITS - exact) < 1e-9, 'ENTROPY_BITS matches the list');

// No modulo bias: the 65536 values of a 16-bit draw map to every word
// index the same number of times.
const hits = new Uint32Array(n);
for (let v = 0; v < 65536; v++) {
  const i = N.wordIndex(v);
  assert.ok(Number.isInteger(i) && i >= 0 && i < n, 'index in range: ' + i);
  hits[i]++;
}
assert.ok(hits.every((h) => h === 65536 / n), 'every word equally likely');

// 1000 names.
const set = new Set(words);
const names = new Set();
let maxLen = 0;
for (let i = 0; i < 1000; i++) {
  const name = N.nameFromWords(words);
  assert.match(name, /^([A-Z][a-z]{3,6}){5}$/, 'shape: ' + name);
  const parts = name.match(/[A-Z][a-z]+/g);
  assert.equal(parts.length, N.WORDS_PER_NAME);
  for (const p of parts) assert.ok(set.has(p.toLowerCase()), 'word from the list: ' + p);
  assert.equal(new Set(parts).size, parts.length, 'distinct words: ' + name);
  assert.ok(Buffer.byteLength(name) <= 128);
  maxLen = Math.max(maxLen, name.length);
  names.add(name);
  if (i < 5) console.log('example: ' + name);
}
assert.equal(names.size, 1000, 'no repeated name in 1000');
console.log(`1000 names, all distinct, longest ${maxLen} bytes`);

// randomRoomName(): fetches once, then reuses the list.
const a = await N.randomRoomName();
const b = await N.randomRoomName();
assert.match(a, /^([A-Z][a-z]{3,6}){5}$/);
assert.notEqual(a, b);
assert.equal(fetches, 1, 'words.txt fetched once');
assert.throws(() => N.nameFromWords(words.slice(1)), /word list/);

// No Math.random anywhere under web/.
function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else assert.ok(!fs.readFileSync(p, 'utf8').includes('Math.random'), 'Math.random in ' + p);
  }
}
walk(web);
console.log('no Math.random under ' + web);
