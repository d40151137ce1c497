// The `glimpse` command says what the model does not know and where it does not
// apply: the unknown-words line for search and ask, "no good match" for gibberish,
// the "I don't know the word" answer, and the shapes-world notice once for a user's
// own folder (never for the sample photos). bin/glimpse.mjs in its own process, a real
// library, the real engine and the bundled pack.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { writeSamples, type SamplesSidecar } from '../../world/samples.ts';
import { ROOT, tempDir } from '../helpers.ts';

const root = tempDir('cli-understanding');
const samples = path.join(root, 'samples', 'photos');
const mine = path.join(root, 'Holiday 2024');
let sidecar: SamplesSidecar;

function glimpse(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'glimpse.mjs'), ...args, '--library', path.join(root, 'library')], {
    cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, GLIMPSE_LIBRARY: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const NOTICE = /only understands the shapes world/g;

before(async () => {
  sidecar = await writeSamples({ count: 8, seed: 23, size: 96, out: path.join(root, 'samples') });
  fs.mkdirSync(mine);
  for (const p of sidecar.photos.slice(0, 3)) fs.copyFileSync(path.join(samples, ...p.path.split('/')), path.join(mine, `IMG_${path.basename(p.path)}`));
});

test('index: the sample photos get no notice; a user folder gets it once, and not again', () => {
  const sample = glimpse(['index', samples]);
  assert.equal(sample.status, 0, sample.stderr);
  assert.doesNotMatch(sample.stderr + sample.stdout, NOTICE);
  const first = glimpse(['index', mine]);
  assert.equal(first.status, 0, first.stderr);
  assert.equal((first.stderr + first.stdout).match(NOTICE)?.length, 1, first.stderr);
  assert.match(first.stderr, /docs\/real-models\.md/);
  const again = glimpse(['index', mine]);
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr + again.stdout, NOTICE);
});

test('search: gibberish names its unknown words and says "no good match"; a photo\'s own caption does not', () => {
  const gibberish = glimpse(['search', 'Florp ZINTAK dog?', '--limit', '3']);
  assert.equal(gibberish.status, 0, gibberish.stderr);
  assert.match(gibberish.stdout, /^unknown words \(not in the model's vocabulary\): florp, zintak, dog$/m);
  assert.match(gibberish.stdout, /^no good match; the nearest photos:$/m);
  const caption = glimpse(['search', sidecar.photos[4]!.captions[0]!.text, '--limit', '3']);
  assert.equal(caption.status, 0, caption.stderr);
  assert.doesNotMatch(caption.stdout, /unknown word|no good match/);
  const json = JSON.parse(glimpse(['search', 'a red cat', '--json']).stdout) as { unknownWords: string[]; goodMatch: boolean; hits: unknown[] };
  assert.deepEqual(json.unknownWords, ['cat']);
  assert.equal(json.goodMatch, false);
  assert.ok(json.hits.length > 0);
});

test('ask: an unknown key word gets "I don\'t know the word" and the unknown-words line', () => {
  const photo = path.join(samples, ...sidecar.photos[1]!.path.split('/'));
  const r = glimpse(['ask', photo, 'What colour is the DOG?']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^I don't know the word "dog", so I can't answer that question\.$/m);
  assert.match(r.stdout, /^unknown word \(not in the model's vocabulary\): dog$/m);
});
