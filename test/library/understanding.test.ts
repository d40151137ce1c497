// What the pack does not know, said out loud (issue 17): unknown words in queries and
// questions, "no good match" for searches the model cannot have understood, the
// "I don't know the word" answer, and the domain notice for a user's own folder.
// The real bundled pack and its tokenizer, the real engine process, a real SQLite
// library, through the contract (Api) as every transport calls it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiError } from '../../main/api/contract.ts';
import { Api } from '../../main/api/dispatch.ts';
import { loadPack } from '../../main/engine/pack.ts';
import { Library } from '../../main/library/library.ts';
import { PackLanguage } from '../../main/library/understanding.ts';
import { Rng } from '../../world/rng.ts';
import { writeSamples, type SamplesSidecar } from '../../world/samples.ts';
import { packCopy, tempDir, testPackDir } from '../helpers.ts';

const packDir = testPackDir();
const tokenizerJson = JSON.parse(fs.readFileSync(path.join(packDir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
/** The vocabulary read straight from tokenizer.json: the independent truth the reports are checked against. */
const VOCAB = new Set(Object.keys(tokenizerJson.model.vocab).filter((w) => /^[a-z0-9]+$/.test(w)));
/** Words the pack maps onto its own (pack.json domain.aliases: "color" -> "colour"): understood, so never reported. */
const ALIASES = (JSON.parse(fs.readFileSync(path.join(packDir, 'pack.json'), 'utf8')) as { domain?: { aliases?: Record<string, string> } }).domain?.aliases ?? {};
for (const word of Object.keys(ALIASES)) VOCAB.add(word);
const KNOWN = [...VOCAB].filter((w) => /[a-z]/.test(w));
/** Real English words; those outside the pack's vocabulary are the unknown ones. */
const ENGLISH = ('dog cat cats my your birthday party car tree house mountain river friend family wedding sunset beer pizza bicycle phone '
  + 'guitar kitchen garden airport horse bird flower city street baby holiday train ocean forest building dinner christmas selfie puppy '
  + 'coffee book window color gray grey colorful triangular round bright big little huge tiny purple violet ball box person people face '
  + 'smile happy sad running jumping behind between next beside inside near far').split(' ').filter((w) => !VOCAB.has(w) && !Object.hasOwn(ALIASES, w));

const rng = new Rng('understanding-test', 5);
const pick = <T>(xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)] as T;
function gibberishWord(): string {
  for (;;) {
    const w = Array.from({ length: rng.int(3, 10) }, () => pick([...'bcdfghjklmnpqrstvwxzaeiouy'])).join('');
    if (!VOCAB.has(w)) return w;
  }
}
/** The word as a person might type it: capitals, punctuation around it, curly quotes. */
function styled(word: string): string {
  const cased = pick([word, word.toUpperCase(), word[0]!.toUpperCase() + word.slice(1), [...word].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c)).join('')]);
  return pick(['%', '%?', '%!', '%,', '%.', '"%"', '(%)', '“%”', '%...', '%;', '-%-']).replace('%', cased);
}

test('every query with a word outside the vocabulary reports exactly those words (2,000 generated queries)', () => {
  const language = new PackLanguage(loadPack(packDir, { verifyHashes: false }));
  assert.ok(ENGLISH.length >= 60, `${ENGLISH.length} English words outside the vocabulary`);
  let withUnknown = 0;
  for (let q = 0; q < 2000; q++) {
    const words = Array.from({ length: rng.int(0, 6) }, () => ({ text: pick(KNOWN), unknown: false }));
    const extra = q % 5 === 4 ? 0 : rng.int(1, 3);
    for (let k = 0; k < extra; k++) {
      const kind = rng.int(0, 2);
      const word = kind === 0 ? gibberishWord() : kind === 1 ? pick(ENGLISH) : `${pick(ENGLISH)}'s`;
      words.splice(rng.int(0, words.length), 0, { text: word, unknown: true });
    }
    if (words.length === 0) words.push({ text: pick(KNOWN), unknown: false });
    const query = words.map((w) => styled(w.text)).join(pick([' ', '  ', ' \t']));
    const expected = [...new Set(words.filter((w) => w.unknown).map((w) => w.text))];
    if (expected.length > 0) withUnknown++;
    assert.deepEqual(language.unknownWords(query), expected, query);
  }
  assert.ok(withUnknown >= 1500, `${withUnknown} queries had an unknown word`);
  // The key words of a question leave out words that carry no meaning of their own.
  assert.deepEqual(language.keyWords(language.unknownWords('Where is my cat?')), ['cat']);
  assert.deepEqual(language.keyWords(language.unknownWords('what colour is my star, please?')), []);
  // Words that frame a question are not what it asks about: the question is still answered.
  assert.deepEqual(language.keyWords(['could', 'check', 'whether', 'shown', 'kind']), []);
  assert.deepEqual(language.keyWords(['describe', 'dog', 'painted']), ['dog']);
  assert.deepEqual(language.keyWords(['one', 'word']), ['one'], 'a number carries meaning (how many), a frame word does not');
  assert.deepEqual(language.unknownWords('???  ... !!'), []);
  assert.equal(language.hasKnownContent('red circle'), true);
  assert.equal(language.hasKnownContent('the what my'), false);
});

test('a declared domain vocabulary decides for any tokenizer (what a BPE pack uses, having no unknown tokens)', () => {
  const packs = tempDir('understanding-vocab');
  const dir = packCopy(packs, 'declared', (m) => {
    m.domain = { kind: 'shapes-world', description: 'two words', vocabulary: ['Red', 'circle'] };
  });
  const language = new PackLanguage(loadPack(dir, { verifyHashes: false }));
  assert.deepEqual(language.unknownWords('A RED circle, star!'), ['a', 'star']);
  assert.equal(language.narrow, true);
  const general = new PackLanguage(loadPack(packCopy(packs, 'general', (m) => { m.domain = { kind: 'general', description: 'any photo' }; }), { verifyHashes: false }));
  assert.equal(general.narrow, false);
});

// ---- the library, with the real engine ----

const root = tempDir('understanding');
let library: Library;
let api: Api;
let sidecar: SamplesSidecar;
const SAMPLES = 100;

before(async () => {
  sidecar = await writeSamples({ count: SAMPLES, seed: 41, size: 96, out: path.join(root, 'samples') });
  library = await Library.open({ dir: path.join(root, 'library'), packDirs: [path.dirname(packDir)], runtime: { providers: ['cpu'], threads: 1 }, watch: false });
  api = new Api(library);
  const samples = await api.call('addFolder', { path: path.join(root, 'samples', 'photos') });
  assert.equal(samples.notice, null, 'no notice for the sample library');
  await library.settled();
});
after(async () => library?.close());

const bundled = path.resolve(packDir) === path.resolve('models/shapes-tiny');

test('the world\'s own captions still match well; gibberish and unknown words get "no good match" (100 sample photos)', { skip: !bundled && 'quality is measured on the bundled pack' }, async () => {
  let good = 0;
  for (const photo of sidecar.photos) {
    const found = await api.call('search', { text: photo.captions[0]!.text, limit: 5 });
    assert.deepEqual(found.unknownWords, [], photo.captions[0]!.text);
    if (found.goodMatch) good++;
  }
  console.log(`own captions with a good match: ${good}/${SAMPLES}`);
  assert.ok(good >= 0.95 * SAMPLES, `only ${good}/${SAMPLES} of the photos' own captions match well`);
  const nonsense = [
    ...Array.from({ length: 40 }, () => Array.from({ length: rng.int(1, 4) }, gibberishWord).join(' ')),
    ...Array.from({ length: 40 }, () => Array.from({ length: rng.int(1, 3) }, () => pick(ENGLISH)).join(' ')),
    // A known scene with an unknown thing in it ("my" alone would leave just "the beach", which is understood).
    ...Array.from({ length: 40 }, () => `${pick(['a', 'the', 'two', 'small', 'red'])} ${styled(pick(ENGLISH.filter((w) => !['my', 'your'].includes(w))))} ${pick(['on the beach', 'at night', 'in the snow', ''])}`),
    'my cat', 'DOG?', 'Where is my dog', '???', 'the', 'what is this',
  ];
  for (const text of nonsense) {
    const found = await api.call('search', { text, limit: 5 });
    assert.equal(found.goodMatch, false, `"${text}" was called a good match`);
    assert.ok(found.hits.length > 0, 'the nearest photos are still listed');
    if (/[a-z]/i.test(text) && !['the', 'what is this'].includes(text)) assert.ok(found.unknownWords.length > 0, `"${text}" reports its unknown words`);
  }
  const threshold = (JSON.parse(fs.readFileSync(path.join(packDir, 'pack.json'), 'utf8')) as { retrieval: { noMatchBelow: number } }).retrieval.noMatchBelow;
  assert.equal((await api.call('search', { text: 'a red circle', limit: 5 })).noMatchBelow, threshold, 'the calibrated threshold from pack.json');
});

test('a question whose key word is unknown is answered "I don\'t know the word", before the model runs, and not kept', async () => {
  const id = library.timeline()[0]!.id;
  const cases: Array<[string, string[]]> = [
    ['what colour is the dog?', ['dog']],
    ['where is my cat', ['cat']],
    ['Is there a BICYCLE in the picture?', ['bicycle']],
    ['How many puppies are there?', ['puppies']],
    [`${gibberishWord()} ${gibberishWord()}?`, []],
    ['What colour is the dog\'s bone?', ["dog's", 'bone']],
  ];
  for (const [question, key] of cases) {
    let streamed = '';
    const r = await api.call('ask', { id, question }, { onToken: (t) => { streamed += t; } });
    assert.equal(r.fromModel, false, question);
    assert.match(r.answer, /^I don't know the words? "/, question);
    for (const word of key) assert.ok(r.answer.includes(`"${word}"`), `${question} -> ${r.answer}`);
    for (const word of r.unknownWords) assert.ok(r.answer.includes(`"${word}"`) || ['my', 'the'].includes(word));
    assert.doesNotMatch(r.answer, /photo|picture|there is no|not in/i, 'the photo is not blamed');
    assert.equal(streamed, r.answer, 'the answer streams like a model answer');
  }
  assert.equal(library.history(id).length, 0, 'no "don\'t know" answer is stored as the model\'s answer');
  const understood = await api.call('ask', { id, question: 'what colour is my star?' });
  assert.equal(understood.fromModel, true);
  assert.deepEqual(understood.unknownWords, ['my']);
  assert.equal(library.history(id).length, 1, 'a model answer is kept');
  await assert.rejects(api.call('ask', { id: 999_999, question: 'what colour is the dog?' }), (err: unknown) => err instanceof ApiError && err.code === 'not-found');
});

test('adding a user\'s own folder says once that the shapes pack does not apply; the sample library does not', async () => {
  const mine = path.join(root, 'My Pictures');
  fs.mkdirSync(mine);
  for (const p of sidecar.photos.slice(0, 2)) fs.copyFileSync(path.join(root, 'samples', 'photos', ...p.path.split('/')), path.join(mine, path.basename(p.path)));
  const first = await api.call('addFolder', { path: mine });
  assert.match(first.notice ?? '', /only understands the shapes world/);
  assert.match(first.notice ?? '', /docs\/real-models\.md/);
  assert.equal((await api.call('addFolder', { path: mine })).notice, null, 'said once, not again for the same folder');
  assert.equal((await api.call('addFolder', { path: path.join(root, 'samples', 'photos') })).notice, null, 'never for the sample library');
});

test('aliases: a US spelling or a synonym the pack maps is understood and rewritten for the model', () => {
  const language = new PackLanguage(loadPack(packDir, { verifyHashes: false }));
  const vocab = new Set(Object.keys(tokenizerJson.model.vocab));
  for (const [from, to] of Object.entries(ALIASES)) {
    assert.ok(vocab.has(to), `alias target ${to} is in the tokenizer`);
    assert.deepEqual(language.unknownWords(`What ${from.toUpperCase()} is the star?`), [], from);
  }
  if ('color' in ALIASES) {
    assert.equal(language.rewrite('What COLOR is the star at the center?'), `What ${ALIASES.color} is the star at the ${ALIASES.center ?? 'center'}?`);
    assert.deepEqual(language.keyWords(language.unknownWords('what color is my star?')), []);
  }
  assert.equal(language.rewrite('a dog on the beach'), 'a dog on the beach', 'words without an alias stay as typed');
  // A bad table is refused when the pack is found: test/library/pack-aliases.test.ts.
});
