// What training reads of language 2 beyond the texts: train records carry hard negatives
// (probes) without changing the rest of the record, and `vocab --lexicon` lists the
// meaning words and synonyms that word dropout and vocabulary growth use.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LANGUAGE_2_OPTIONS, writeDataset } from '../../world/dataset.ts';
import { languageFor, sceneAt, SPLIT_LANGUAGE, vocabulary } from '../../world/generate.ts';
import { claimsHold, parseClaims } from '../../world/parse.ts';
import { toSceneGraph } from '../../world/scene.ts';
import { lexiconV2 } from '../../world/v2-language.ts';
import { tempDir } from '../helpers.ts';
import { answerV2 } from './oracle-v2.ts';

test('language-2 train records carry hard negatives that are false, and the rest of each record is unchanged', async () => {
  const out = path.join(tempDir('lang2-train'), 'train');
  await writeDataset({ split: 'train', count: 60, seed: 3, size: 32, out, language: 2 });
  const records = fs.readFileSync(path.join(out, 'scenes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(records.every((r) => r.probes.length > 0), 'every train record has probes');
  for (const [i, r] of records.entries()) {
    const scene = sceneAt(3, 'train', i);
    const without = languageFor(scene, 3, 'train', i, SPLIT_LANGUAGE.train, 2);
    assert.deepEqual({ ...r, index: undefined, id: undefined, probes: [] }, { ...without, index: undefined, id: undefined });
    const graph = toSceneGraph(scene);
    for (const p of r.probes) {
      assert.equal(claimsHold(parseClaims(p.positive), graph), true, `positive "${p.positive}" is true`);
      assert.equal(claimsHold(parseClaims(p.negative), graph), false, `negative "${p.negative}" is false`);
    }
  }
  assert.equal(LANGUAGE_2_OPTIONS.test, SPLIT_LANGUAGE.test);
});

test('vocab --lexicon: meaning words and synonyms, all within the language-2 vocabulary', () => {
  const { words, synonyms } = lexiconV2();
  const vocab = new Set(vocabulary(2));
  for (const w of ['red', 'crimson', 'circle', 'disc', 'large', 'huge', 'beach', 'seashore', 'top', 'centre', 'center', 'colour', 'color', '7', 'seven']) {
    assert.ok(words.includes(w), `${w} is a meaning word`);
  }
  for (const w of ['what', 'is', 'the', 'a', 'there', 'how']) assert.ok(!words.includes(w), `${w} is not a meaning word`);
  assert.equal(synonyms.crimson, 'red');
  assert.equal(synonyms.color, 'colour');
  assert.equal(synonyms.disc, 'circle');
  for (const [from, to] of Object.entries(synonyms)) {
    if (vocab.has(from)) assert.ok(vocab.has(to), `${from} maps onto ${to}, a word of the vocabulary`);
  }
  const printed = JSON.parse(execFileSync('npx', ['tsx', 'world/cli.ts', 'vocab', '--language', '2', '--lexicon'], { encoding: 'utf8' }).trim().split('\n').pop()!);
  assert.deepEqual(printed, { words, synonyms });
  assert.throws(() => execFileSync('npx', ['tsx', 'world/cli.ts', 'vocab', '--lexicon'], { stdio: 'pipe' }), /lexicon needs --language 2/);
});

test('dataset --more relation=3: up to three more distinct, truthful relation questions per image, the rest unchanged', async () => {
  const dir = tempDir('lang2-more');
  await writeDataset({ split: 'train', count: 40, seed: 4, size: 32, out: path.join(dir, 'plain'), language: 2 });
  const manifest = await writeDataset({ split: 'train', count: 40, seed: 4, size: 32, out: path.join(dir, 'more'), language: 2, more: { relation: 3 } });
  assert.deepEqual(manifest.more, { relation: 3 });
  const read = (name: string) => fs.readFileSync(path.join(dir, name, 'scenes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const plain = read('plain');
  let added = 0;
  for (const [i, r] of read('more').entries()) {
    const base = plain[i];
    const n = base.questions.length;
    assert.deepEqual({ ...r, questions: r.questions.slice(0, n) }, base, 'everything else is as without --more');
    const extra = r.questions.slice(n);
    assert.ok(extra.length <= 3);
    if (r.graph.objects.length >= 2) assert.ok(extra.length >= 1, `a scene of ${r.graph.objects.length} objects has relations to ask about`);
    const texts = r.questions.map((q: { question: string }) => q.question.toLowerCase());
    assert.equal(new Set(texts).size, texts.length, 'no question twice');
    for (const q of extra) {
      assert.equal(q.type, 'relation');
      assert.equal(q.heldOut, false);
      assert.equal(answerV2(q.question, r.graph).answer, q.answer, `${q.question} -> ${q.answer}`);
    }
    added += extra.length;
  }
  assert.ok(added >= 60, `${added} relation questions added to 40 images`);
  const cli = (...args: string[]) => execFileSync('npx', ['tsx', 'world/cli.ts', 'dataset', '--split', 'train', '--count', '2', '--out', path.join(dir, 'x'), ...args], { stdio: 'pipe' });
  assert.throws(() => cli('--more', 'relation=2'), /--more is for dataset --language 2/);
  assert.throws(() => cli('--language', '2', '--more', 'relations=2'), /--more takes TYPE=N/);
  assert.throws(() => cli('--language', '2', '--more', 'relation=-1'), /more/);
});
