// Language version 2 tells the truth (checked by parsing captions and searches back),
// keeps its held-out wordings out of train and val, marks them in test, and lists
// every word it writes in its vocabulary.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { writeDataset } from '../../world/dataset.ts';
import { languageFor, sceneAt, SPLIT_LANGUAGE, vocabulary, type Split } from '../../world/generate.ts';
import { claimsHold, parseClaims } from '../../world/parse.ts';
import { writeSamples } from '../../world/samples.ts';
import type { CaptionV2 } from '../../world/v2-captions.ts';
import { textsOf, wordsOf, type WorldItemV2 } from '../../world/v2-language.ts';
import { HELD_OUT_COMBINATIONS } from '../../world/v2-lexicon.ts';
import type { QuestionV2 } from '../../world/v2-questions.ts';
import { readTree, tempDir } from '../helpers.ts';
import { WORDINGS as V1_WORDINGS } from './oracle.ts';

const SCENES = 1500;
const items = (split: Split, seed = 5): WorldItemV2[] =>
  Array.from({ length: SCENES }, (_, i) => languageFor(sceneAt(seed, split, i), seed, split, i, SPLIT_LANGUAGE[split], 2) as WorldItemV2);
const train = items('train');
const val = items('val');
const testSplit = items('test');

const key = (o: { size: string; colour: string; shape: string; digit?: number | null }) => `${o.size} ${o.colour} ${o.shape} ${o.digit ?? '-'}`;

test('every caption and search text is true of its image; full captions parse back to exactly its objects', () => {
  let partial = 0;
  let twoOfFourPlus = 0;
  let shuffled = 0;
  for (const item of [...train, ...testSplit]) {
    const truth = item.graph.objects.map(key).sort();
    for (const c of item.captions) {
      const claims = parseClaims(c.text);
      assert.ok(claimsHold(claims, item.graph), `"${c.text}" is not true of its image`);
      const parsed = claims.objects.flatMap((np) => Array.from({ length: np.count }, () => key({ size: String(np.size), colour: String(np.colour), shape: String(np.shape), digit: np.digit })));
      if (c.coverage === 'all') {
        assert.deepEqual(parsed.sort(), truth, `objects of "${c.text}"`);
        assert.equal(claims.scene, item.graph.scene, `scene of "${c.text}"`);
      } else {
        assert.ok(parsed.length === c.objects && c.objects < truth.length, `"${c.text}" names ${parsed.length} of ${truth.length}, says ${c.objects}`);
        partial++;
        if (c.objects === 2 && truth.length >= 4) twoOfFourPlus++;
      }
      if (c.order === 'shuffled') shuffled++;
    }
    for (const s of item.searches) assert.ok(claimsHold(parseClaims(s.text), item.graph), `search "${s.text}" is not true of its image`);
  }
  assert.ok(partial > SCENES / 2 && twoOfFourPlus > SCENES / 5 && shuffled > SCENES / 2, `${partial} partial, ${twoOfFourPlus} two-of-four-plus, ${shuffled} shuffled`);
});

test('the parser rejects false partial captions and searches: wrong colour, missing object, wrong place or scene', () => {
  const item = testSplit.find((x) => x.graph.objects.length >= 4) as WorldItemV2;
  const [a, b] = item.graph.objects as [WorldItemV2['graph']['objects'][number], WorldItemV2['graph']['objects'][number]];
  const other = (c: string) => (c === 'red' ? 'blue' : 'red');
  const holds = (text: string) => claimsHold(parseClaims(text), item.graph);
  assert.ok(holds(`a ${a.colour} ${a.shape} and a ${b.colour} ${b.shape}`));
  assert.ok(!holds(`a ${a.colour} ${a.shape} and a grey ${b.shape}`));
  assert.ok(!holds(`${item.graph.objects.filter((o) => o.shape === a.shape).length + 1} ${a.shape}s`.replace('crosss', 'crosses')));
  if (!item.graph.objects.some((o) => o.shape === a.shape && o.colour === other(a.colour))) assert.ok(!holds(`a ${other(a.colour)} ${a.shape}`));
  assert.ok(!holds(`a ${a.shape} ${a.row === 0 ? 'in the bottom row' : 'at the top'}`) || item.graph.objects.some((o) => o.shape === a.shape && o.row !== a.row));
  assert.ok(!holds(`a ${a.shape} ${item.graph.scene === 'night' ? 'on the seashore' : 'at nighttime'}`));
});

const heldWords = (kind: string) => new Set(HELD_OUT_COMBINATIONS[kind] ?? []);
const usesHeld = (text: string, kind: string) => wordsOf(text).some((w) => heldWords(kind).has(w));

test('train and val never use a held-out template or a held-out word pairing', () => {
  for (const item of [...train, ...val]) {
    for (const q of item.questions as QuestionV2[]) {
      assert.equal(q.heldOut, false);
      assert.equal(q.wording, 'seen');
      assert.ok(!usesHeld(q.question, q.type), `train/val ${q.type} question "${q.question}" uses a held-out pairing`);
      assert.ok(!q.template.startsWith('q2h-'), q.template);
    }
    for (const c of item.captions) assert.ok(!c.heldOut && !usesHeld(c.text, 'caption') && !c.template.startsWith('cap2h-'), c.text);
    for (const s of item.searches) assert.ok(!s.heldOut && !usesHeld(s.text, 'search') && !s.template.startsWith('s2h-'), s.text);
  }
});

test('test marks every text seen, new-template or new-combination, and a new combination really uses one', () => {
  const kinds = new Map<string, number>();
  for (const item of testSplit) {
    for (const q of item.questions as QuestionV2[]) {
      kinds.set(`q:${q.wording}`, (kinds.get(`q:${q.wording}`) ?? 0) + 1);
      assert.equal(q.heldOut, q.wording !== 'seen');
      assert.equal(q.template.startsWith('q2h-'), q.wording === 'new-template', q.template);
      if (q.wording === 'new-combination') assert.ok(usesHeld(q.question, q.type), `"${q.question}" is marked a new combination for ${q.type}`);
    }
    for (const c of [...item.captions.map((x) => ({ ...x, kind: 'caption' })), ...item.searches.map((x) => ({ ...x, kind: 'search' }))]) {
      kinds.set(`${c.kind}:${c.wording}`, (kinds.get(`${c.kind}:${c.wording}`) ?? 0) + 1);
      if (c.wording === 'new-combination') assert.ok(usesHeld(c.text, c.kind), `"${c.text}" is marked a new combination`);
    }
  }
  for (const k of ['q', 'caption', 'search']) {
    for (const w of ['seen', 'new-template', 'new-combination']) assert.ok((kinds.get(`${k}:${w}`) ?? 0) > SCENES / 3, `${k} ${w}: ${kinds.get(`${k}:${w}`) ?? 0}`);
  }
});

test('every held-out pairing is of a word that train uses elsewhere, and occurs in test', () => {
  const trainWords = new Set(train.flatMap(textsOf).flatMap(wordsOf));
  const testTexts = testSplit.flatMap((item) => [
    ...(item.questions as QuestionV2[]).map((q) => ({ kind: q.type, text: q.question })),
    ...item.captions.map((c) => ({ kind: 'caption', text: c.text })), ...item.searches.map((s) => ({ kind: 'search', text: s.text })),
  ]);
  for (const [kind, words] of Object.entries(HELD_OUT_COMBINATIONS)) {
    for (const word of words) {
      assert.ok(trainWords.has(word), `held-out pairing ${kind} x "${word}": "${word}" is never seen in train`);
      assert.ok(testTexts.some((t) => t.kind === kind && wordsOf(t.text).includes(word)), `${kind} x "${word}" never occurs in test`);
    }
  }
});

test("language 1's held-out question wordings stay held out in language 2, and its seen ones stay seen", () => {
  // Which of language 1's wordings (the v1 oracle's patterns) are held out, from its own questions.
  const heldV1 = new Map<number, boolean>();
  for (let i = 0; i < 400; i++) {
    for (const q of languageFor(sceneAt(1, 'test', i), 1, 'test', i, SPLIT_LANGUAGE.test).questions) {
      const k = V1_WORDINGS.findIndex((w) => w.pattern.test(q.question));
      assert.ok(k >= 0, q.question);
      heldV1.set(k, q.heldOut);
    }
  }
  assert.equal(heldV1.size, V1_WORDINGS.length);
  const trainQuestions = train.flatMap((x) => x.questions.map((q) => q.question));
  for (const [k, held] of heldV1) {
    const used = trainQuestions.filter((q) => V1_WORDINGS[k]!.pattern.test(q)).length;
    if (held) assert.equal(used, 0, `language 1's held-out wording ${V1_WORDINGS[k]!.pattern} is in language 2's train split`);
    else assert.ok(used > 0, `language 1's seen wording ${V1_WORDINGS[k]!.pattern} is not in language 2's train split`);
  }
});

test('US and UK spellings and synonyms both occur', () => {
  const words = new Set(train.flatMap(textsOf).flatMap(wordsOf));
  for (const w of ['colour', 'color', 'centre', 'center', 'grey', 'gray', 'disc', 'disk', 'crimson', 'big', 'upper', 'seashore', 'nighttime']) assert.ok(words.has(w), `"${w}" never written`);
});

test('the language 2 vocabulary lists every word any split writes, and more than language 1', () => {
  const vocab = new Set(vocabulary(2));
  const v1 = vocabulary(1);
  assert.ok(vocab.size > v1.length + 80, `${vocab.size} words`);
  assert.deepEqual(v1.filter((w) => !vocab.has(w)), [], 'a language 2 tokenizer must read language 1 test sets too');
  for (const split of ['train', 'val', 'test'] as const) {
    for (const item of items(split, 77).slice(0, 600)) {
      for (const text of textsOf(item)) for (const w of wordsOf(text)) assert.ok(vocab.has(w), `"${w}" (from "${text}") is not in the v2 vocabulary`);
    }
  }
});

test('language 2 data sets and sample sidecars record their language and are deterministic', async () => {
  const dir = tempDir('v2-dataset');
  const opts = { split: 'test' as const, count: 12, seed: 3, size: 32, language: 2 as const };
  const m = await writeDataset({ ...opts, out: path.join(dir, 'a') });
  await writeDataset({ ...opts, out: path.join(dir, 'b') });
  const v1 = await writeDataset({ ...opts, language: 1, out: path.join(dir, 'c') });
  assert.equal(m.language, 2);
  assert.ok((m.counts.searches ?? 0) >= 12 * 5 && (m.counts.captionsHeldOut ?? 0) >= 12 * 4, JSON.stringify(m.counts));
  const a = readTree(path.join(dir, 'a'));
  for (const [name, bytes] of a) assert.ok(bytes.equals(readTree(path.join(dir, 'b')).get(name) as Buffer), `${name} differs between two runs`);
  assert.equal(m.images.sha256, v1.images.sha256, 'the language must not change the pixels');
  assert.notEqual(m.scenes.sha256, v1.scenes.sha256);
  const record = JSON.parse(fs.readFileSync(path.join(dir, 'a', 'scenes.jsonl'), 'utf8').split('\n')[0] as string);
  assert.deepEqual(Object.keys(record), ['index', 'id', 'graph', 'captions', 'searches', 'questions', 'probes']);
  const caption = record.captions[0] as CaptionV2;
  assert.deepEqual(Object.keys(caption), ['text', 'template', 'heldOut', 'wording', 'coverage', 'order', 'objects']);
  const sidecar = await writeSamples({ count: 4, seed: 1, size: 48, out: path.join(dir, 'samples'), language: 2 });
  assert.equal(sidecar.language, 2);
  assert.ok(sidecar.photos.every((p) => (p.searches?.length ?? 0) > 0 && p.questions.every((q) => !q.heldOut)));
});
