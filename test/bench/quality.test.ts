// What `npm run bench` measures for issue #17 (bench/quality.ts): which texts each
// retrieval figure uses (partial descriptions), the test split in the pack's language,
// queries with a word outside the vocabulary (reported by the real library code on the
// bundled pack) and the targets table. Real generator, real pack, real data set files.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { loadPack, type PackManifest } from '../../main/engine/pack.ts';
import { PackLanguage } from '../../main/library/understanding.ts';
import { writeDataset } from '../../world/dataset.ts';
import { languageFor, sceneAt, SPLIT_LANGUAGE } from '../../world/generate.ts';
import { Rng } from '../../world/rng.ts';
import { editDistance } from '../../world/spelling.ts';
import { queriesWithUnknownWord, UNKNOWN_KINDS } from '../../world/unknown-words.ts';
import { isPartialDescription, queryBases, retrievalSets } from '../../bench/qualitySets.ts';
import { languageSections } from '../../bench/reportLanguage.ts';
import { language2Targets, type QualityRow } from '../../bench/targets.ts';
import { openTestSplit, packWorldLanguage, testSplitDir, type TestScene } from '../../bench/testSplit.ts';
import { knownBases, scoreUnknownWordReports } from '../../bench/unknownWords.ts';
import { tempDir, testPackDir } from '../helpers.ts';

const scenes = (language: 1 | 2, count: number): TestScene[] =>
  Array.from({ length: count }, (_, i) => languageFor(sceneAt(0, 'test', i), 0, 'test', i, SPLIT_LANGUAGE.test, language) as unknown as TestScene);

test('partial descriptions are the captions naming two objects of a scene of four or more, from every wording', () => {
  const v2 = scenes(2, 300);
  const sets = retrievalSets(v2, 2);
  let partial = 0;
  const wordings = new Set<string>();
  v2.forEach((s, i) => s.captions.forEach((c) => {
    const expected = c.coverage === 'some' && c.objects === 2 && s.graph.objects.length >= 4;
    assert.equal(isPartialDescription(c, s), expected, c.text);
    if (expected) { partial++; wordings.add(c.wording as string); assert.ok(sets.partial!.owner.some((o, j) => o === i && sets.partial!.texts[j] === c.text)); }
  }));
  assert.equal(sets.partial!.texts.length, partial);
  assert.ok(partial > 100, `${partial} partial descriptions in 300 scenes`);
  assert.deepEqual([...wordings].sort(), ['new-combination', 'new-template', 'seen']);
  // A caption naming all objects, or two of a scene of three, is not partial.
  const small = v2.find((s) => s.graph.objects.length === 3 && s.captions.some((c) => c.coverage === 'some'))!;
  assert.ok(small.captions.every((c) => !isPartialDescription(c, small)));
  // Every set's texts belong to the image they are searched for; search sets split by held-out.
  for (const [name, set] of Object.entries(sets)) {
    assert.equal(set.texts.length, set.owner.length, name);
    assert.ok(set.texts.length > 0, name);
  }
  assert.equal(sets.searchSeen!.texts.length + sets.searchHeldOut!.texts.length, v2.reduce((n, s) => n + (s.searches?.length ?? 0), 0));
  assert.deepEqual(Object.keys(retrievalSets(scenes(1, 20), 1)), ['seen', 'heldOut'], 'language 1 keeps its two sets');
});

test('the test split is made and read in the pack\'s language; a split of the other language is refused', async () => {
  const base = { format: 'glimpse-model-pack' } as unknown as PackManifest;
  assert.equal(packWorldLanguage(base), 1, 'a pack without "language" is language 1');
  assert.equal(packWorldLanguage({ ...base, language: 2 } as PackManifest), 2);
  assert.throws(() => packWorldLanguage({ ...base, language: 3 } as PackManifest), /language/);
  assert.equal(testSplitDir('/r', 1), path.join('/r', 'data', 'test'));
  assert.equal(testSplitDir('/r', 2), path.join('/r', 'data', 'test-v2'));
  const dir = tempDir('bench-split');
  const image = { size: 64, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
  await writeDataset({ split: 'test', count: 3, seed: 0, size: 64, out: path.join(dir, 'v2'), language: 2 });
  const split = await openTestSplit(path.join(dir, 'v2'), 2, image, 2);
  assert.equal(split.scenes.length, 2);
  assert.ok(split.scenes.every((s) => (s.searches?.length ?? 0) > 0 && s.questions.every((q) => q.wording !== undefined)));
  await assert.rejects(openTestSplit(path.join(dir, 'v2'), 2, image, 1), /language-2 test split.*language-1/);
  assert.equal(split.pixelsOf(0).length, 3 * 64 * 64);
});

test('every generated query holds one word outside the vocabulary, of each kind in turn, and the bundled pack reports it', () => {
  const language = new PackLanguage(loadPack(testPackDir(), { verifyHashes: false }));
  const isKnown = (w: string) => language.unknownWords(w).length === 0;
  const all = queryBases(scenes(1, 30));
  const bases = knownBases(language, all);
  assert.ok(bases.length > 30, `${bases.length} of ${all.length} texts hold only known words`);
  assert.ok(bases.every((b) => language.unknownWords(b).length === 0));
  const queries = queriesWithUnknownWord(bases, 240, isKnown, new Rng('bench-test', 1));
  assert.deepEqual(queriesWithUnknownWord(bases, 240, isKnown, new Rng('bench-test', 1)), queries, 'fixed by the seed');
  for (const kind of UNKNOWN_KINDS) assert.equal(queries.filter((q) => q.kind === kind).length, 80, kind);
  for (const q of queries) {
    assert.equal(isKnown(q.word), false, q.word);
    // Every base text holds only known words: the inserted one is the only unknown.
    assert.deepEqual(language.unknownWords(q.text), [q.word], q.text);
    if (q.kind === 'typo') {
      const words = q.text.toLowerCase().split(/[^a-z]+/);
      assert.ok(bases.some((b) => { const w = b.toLowerCase().split(/[^a-z]+/); return w.length === words.length && w.every((x, i) => x === words[i] || (words[i] === q.word && editDistance(x, q.word) <= 2)); }), q.text);
    }
  }
  const scores = scoreUnknownWordReports(language, queries);
  assert.deepEqual([scores.reported.share, scores.onlyThatWord.share, scores.missed.length], [1, 1, 0]);
  // A query whose word is not reported counts as a miss (a word the pack knows, claimed unknown).
  const wrong = scoreUnknownWordReports(language, [{ text: 'a red circle', word: 'circle', kind: 'english' }, queries[0]!]);
  assert.deepEqual([wrong.reported.hits, wrong.reported.total, wrong.missed.length], [1, 2, 1]);
  assert.throws(() => queriesWithUnknownWord([], 3, isKnown, new Rng(1)), /base text/);
});

test('the targets table marks each figure met or not met at its threshold; a figure not measured is not met', () => {
  const rate = (accuracy: number) => ({ correct: 0, total: 1, accuracy });
  const row = (qa: number, heldOut: number, r1: number, comp: number): QualityRow => ({
    qa: { overall: rate(qa), byType: {} },
    qaHeldOut: { overall: rate(heldOut), byType: { relation: rate(heldOut) } },
    retrieval: { heldOut: { textToImage: { r1 } }, partial: { textToImage: { r1 } } },
    compositional: { byCategory: { 'swap-attribute': rate(comp), 'replace-relation': rate(comp - 0.1) } },
  });
  const run = { rows: { 'fwd2bot-16': row(0.846, 0.85, 0.9, 0.8), 'fwd2bot-4': row(0.5, 0.79, 0.1, 0.1) }, unknownWords: { reported: { share: 1 }, gibberishOnly: { noGoodMatch: { share: 0.99 } } } };
  const byName = Object.fromEntries(language2Targets(run).map((t) => [t.target, t]));
  assert.equal(byName['QA, held-out wordings, budget 16']!.met, true, 'exactly at the threshold is met');
  assert.deepEqual([byName['QA, held-out wordings, budget 4']!.met, byName['QA, held-out wordings, budget 4']!.measured], [false, 0.79]);
  assert.equal(byName['QA, seen wordings, budget 16 (not below today\'s)']!.met, true);
  assert.equal(byName['Relation QA, held-out wordings, budget 16']!.met, true);
  assert.equal(byName['Text-to-image R@1, partial descriptions, budget 16']!.met, true);
  assert.equal(byName['Compositional accuracy, swap-attribute, budget 16']!.met, true);
  assert.equal(byName['Compositional accuracy, replace-relation, budget 16']!.met, false);
  assert.equal(byName['Queries with an unknown word that report it']!.met, true);
  assert.equal(byName['Gibberish queries judged "no good match"']!.met, false);
  // An older quality.json (held-out QA as one rate, no partial set, no unknown words): not measured, not met.
  const old = { rows: { 'fwd2bot-16': { ...row(0.9, 0.9, 0.9, 0.9), qaHeldOut: rate(0.9), retrieval: { heldOut: { textToImage: { r1: 0.9 } } } } } };
  const oldRows = Object.fromEntries(language2Targets(old).map((t) => [t.target, t]));
  assert.deepEqual([oldRows['QA, held-out wordings, budget 16']!.met, oldRows['QA, held-out wordings, budget 4']!.measured], [true, null]);
  assert.deepEqual([oldRows['Relation QA, held-out wordings, budget 16']!.measured, oldRows['Text-to-image R@1, partial descriptions, budget 16']!.met], [null, false]);
  assert.equal(oldRows['Gibberish queries judged "no good match"']!.met, false);
  assert.deepEqual(languageSections({ ...old, images: 1 }), [], 'no section without the unknown-word figures');
});
