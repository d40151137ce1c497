// Language version 1 is what the bundled pack (and runs resumed from its checkpoints)
// were trained on: it must not change when language 2 grows. These hashes were taken
// before language 2 existed; a change to v1's records or vocabulary fails here.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { writeDataset } from '../../world/dataset.ts';
import { languageFor, sceneAt, SPLIT_LANGUAGE, vocabulary } from '../../world/generate.ts';
import { tokenize } from '../../world/parse.ts';
import { V2_SYNONYMS } from '../../world/v2-lexicon.ts';
import { SYNONYMS } from '../../world/vocab.ts';
import { tempDir } from '../helpers.ts';

const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

const RECORDS: Record<string, string> = {
  train: 'fce09b170e139394596dc7320a1034f6c2c15be7e1de253c2d53c6a7e0b30395',
  val: 'f37b7253c1055d06c71c6812930c8949978e89d7521cac68d006d765c2ebaeab',
  test: '93c713c5e77097f6f3385ee4507a5198f209aedacf52a1516146f79ea6ddb983',
};

test('language 1 records are unchanged: pinned hashes of 400 records per split and of the sample sidecar language', () => {
  for (const split of ['train', 'val', 'test'] as const) {
    let text = '';
    for (let i = 0; i < 400; i++) text += `${JSON.stringify(languageFor(sceneAt(7, split, i), 7, split, i, SPLIT_LANGUAGE[split]))}\n`;
    assert.equal(sha(text), RECORDS[split], `${split} records of language 1 changed`);
    let explicit = '';
    for (let i = 0; i < 400; i++) explicit += `${JSON.stringify(languageFor(sceneAt(7, split, i), 7, split, i, SPLIT_LANGUAGE[split], 1))}\n`;
    assert.equal(explicit, text, 'language 1 asked for by number differs from the default');
  }
  let samples = '';
  for (let i = 0; i < 200; i++) samples += `${JSON.stringify(languageFor(sceneAt(3, 'samples', i), 3, 'samples', i, { captions: 3, heldOut: false, probes: false }))}\n`;
  assert.equal(sha(samples), '8b0beb4d86eb3059243287a885e2b698429e9f63a571c309d32388299be9c3fe');
});

test('language 1 vocabulary is unchanged (the bundled tokenizer was built from it)', () => {
  const words = vocabulary();
  assert.equal(words.length, 129);
  assert.equal(sha(JSON.stringify(words)), 'c3b339018debbf62451670f71da5f6bf808e76c8dfdeb8f2f45e909690af47ce');
});

test('a language 1 data set writes the same scenes.jsonl as before and no language field', async () => {
  const dir = tempDir('v1-pinned');
  const m = await writeDataset({ split: 'test', count: 40, seed: 7, size: 32, out: path.join(dir, 'ds') });
  assert.equal(m.scenes.sha256, 'ef178d6fa91c9b5693d5912a2d05a3536f5f36d0c38be5186f93f6b5cdac64de');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'ds', 'manifest.json'), 'utf8'));
  assert.equal('language' in manifest, false);
  assert.deepEqual(Object.keys(manifest.counts), ['captions', 'questions', 'questionsHeldOut', 'probes']);
});

test('language 2 synonyms never fold a word language 1 writes, so v1 parsing and scoring are unchanged', () => {
  const v1 = new Set(vocabulary());
  const clashes = Object.keys(V2_SYNONYMS).filter((w) => v1.has(w));
  assert.deepEqual(clashes, []);
  for (const w of v1) assert.deepEqual(tokenize(w), [SYNONYMS[w] ?? w], `v1 word "${w}" is folded by language 2`);
});
