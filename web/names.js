/*
 * Sluice web client: random room names, e.g. "BrightOtterSingsQuietlyNow".
 *
 * Five distinct words drawn from web/words.txt (8192 = 2^13 words, made by
 * scripts/make-wordlist from Debian's wamerican), each capitalised, joined
 * without separators: easy to read aloud, at most 35 bytes, and
 * log2(8192 * 8191 * 8190 * 8189 * 8188) = 64.998 bits of entropy (13 bits a
 * word; the list size is a power of two, so a 13-bit mask of a random
 * 16-bit value is uniform, no modulo bias). Randomness comes only from
 * crypto.getRandomValues. The server's scorer (controlplane/meeting/
 * names.c) rates every such name strong; tests/unit/test_names.c and
 * tests/web/names_test.mjs check both sides.
 *
 * A classic script, like the client's others (signalling.js, ui.js,
 * media.js, app.js): load it before them with
 *   <script src="names.js"></script>
 * and call
 *   SluiceNames.randomRoomName().then((name) => { ... })
 * The first call fetches words.txt (same origin, served as text/plain by
 * the control plane's static files) once; later calls reuse it. If the
 * fetch fails the promise rejects and the caller keeps its own name.
 * SluiceNames.nameFromWords(list) is the synchronous core, for tests.
 */
'use strict';

(function (root) {
  const WORDS_PER_NAME = 5;
  const LIST_SIZE = 8192; // 2^13
  const BITS_PER_WORD = Math.log2(LIST_SIZE);
  const WORD_RE = /^[a-z]{4,7}$/;
  const MAX_BYTES = 128;

  // Exact entropy of five distinct words.
  let entropy = 0;
  for (let i = 0; i < WORDS_PER_NAME; i++) entropy += Math.log2(LIST_SIZE - i);

  let loading = null;

  function checkList(words) {
    if (words.length !== LIST_SIZE) throw new Error('word list: ' + words.length + ' words');
    for (const w of words) if (!WORD_RE.test(w)) throw new Error('word list: bad word');
    return words;
  }

  function parseList(text) {
    return checkList(text.split('\n').filter((w) => w !== ''));
  }

  // Fetches words.txt once; the promise is kept (and dropped on failure,
  // so a later call can try again).
  function loadWords(url) {
    if (!loading) {
      loading = fetch(url || 'words.txt', { credentials: 'omit' })
        .then((r) => {
          if (!r.ok) throw new Error('word list: HTTP ' + r.status);
          return r.text();
        })
        .then(parseList)
        .catch((e) => {
          loading = null;
          throw e;
        });
    }
    return loading;
  }

  // A word index from a uniform 16-bit value: the low 13 bits, uniform
  // because LIST_SIZE divides 65536.
  function wordIndex(v) {
    return v & (LIST_SIZE - 1);
  }

  function capitalise(w) {
    return w[0].toUpperCase() + w.slice(1);
  }

  // Five distinct indices, 13 bits each from crypto.getRandomValues.
  function nameFromWords(words) {
    checkList(words);
    const picked = [];
    const buf = new Uint16Array(16);
    while (picked.length < WORDS_PER_NAME) {
      crypto.getRandomValues(buf);
      for (const v of buf) {
        const i = wordIndex(v);
        if (picked.length < WORDS_PER_NAME && !picked.includes(i)) picked.push(i);
      }
    }
    const name = picked.map((i) => capitalise(words[i])).join('');
    if (name.length > MAX_BYTES) throw new Error('name too long'); // 35 at most
    return name;
  }

  function randomRoomName() {
    return loadWords().then(nameFromWords);
  }

  root.SluiceNames = Object.freeze({
    WORDS_PER_NAME,
    LIST_SIZE,
    BITS_PER_WORD,
    ENTROPY_BITS: entropy,
    MAX_BYTES,
    randomRoomName,
    loadWords,
    parseList,
    nameFromWords,
    wordIndex,
  });
})(globalThis);
