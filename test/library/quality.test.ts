// The sample library end to end through the bundled pack: search by reference
// caption, captions and answers checked against the sidecar scene graphs, at the
// rates the pack's own evaluation predicts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Library } from '../../main/library/library.ts';
import { writeSamples, type SamplesSidecar } from '../../world/samples.ts';
import { captionScores, qaAccuracy } from '../../world/score.ts';
import { tempDir, testPackDir } from '../helpers.ts';

const PHOTOS = 60;
const root = tempDir('quality');
let library: Library;
let sidecar: SamplesSidecar;
const idOf = new Map<string, number>();
const packScores = (JSON.parse(fs.readFileSync(path.join(testPackDir(), 'pack.json'), 'utf8')).evaluation.scores) as Record<string, any>;
const K = `fwd2bot-16`;

before(async () => {
  sidecar = await writeSamples({ count: PHOTOS, seed: 4, size: 256, out: path.join(root, 'samples') });
  library = await Library.open({ dir: path.join(root, 'library'), packDirs: [path.dirname(testPackDir())], runtime: { providers: ['cpu'] }, watch: false });
  library.addFolder(path.join(root, 'samples', 'photos'));
  await library.settled();
  for (const p of sidecar.photos) idOf.set(p.path, library.photoAt(path.join(root, 'samples', 'photos', ...p.path.split('/'))));
});
after(async () => library?.close());

test('searching a reference caption finds its photo in the top 5 for most photos', async (t) => {
  let hits = 0;
  for (const p of sidecar.photos) {
    const results = await library.search(p.captions[0]?.text as string, { limit: 5 });
    if (results.some((r) => r.photoId === idOf.get(p.path))) hits++;
  }
  const rate = hits / PHOTOS;
  t.diagnostic(`top-5 hit rate: ${hits}/${PHOTOS} = ${rate.toFixed(3)}`);
  assert.ok(rate > 0.5, `only ${hits} of ${PHOTOS} photos were found by their own caption`);
});

test('answers match the scene graphs at the rate the pack predicts', async (t) => {
  const items: Array<{ type: string; prediction: string; answer: string }> = [];
  for (const p of sidecar.photos) {
    for (const q of p.questions.slice(0, 4)) items.push({ type: q.type, prediction: await library.ask(idOf.get(p.path) as number, q.question, { budget: 16 }), answer: q.answer });
  }
  const measured = qaAccuracy(items).overall.accuracy;
  const predicted = packScores[K].qa.overall.accuracy as number;
  t.diagnostic(`QA accuracy at budget 16 on ${items.length} questions: ${measured.toFixed(3)} (pack evaluation: ${predicted.toFixed(3)})`);
  assert.ok(measured >= predicted - 0.12, `QA accuracy ${measured.toFixed(3)} is well below the pack's ${predicted.toFixed(3)}`);
});

test('captions describe the photos at the rate the pack predicts, and are cached', async (t) => {
  const items = [];
  for (const p of sidecar.photos.slice(0, 30)) items.push({ caption: await library.caption(idOf.get(p.path) as number), graph: p.graph });
  const measured = captionScores(items).f1;
  const predicted = packScores[K].captions.f1 as number;
  t.diagnostic(`caption object F1 on 30 photos: ${measured.toFixed(3)} (pack evaluation: ${predicted.toFixed(3)})`);
  assert.ok(measured >= predicted - 0.12, `caption F1 ${measured.toFixed(3)} is well below the pack's ${predicted.toFixed(3)}`);
  const first = sidecar.photos[0] as { path: string };
  const again = await library.caption(idOf.get(first.path) as number);
  assert.equal(again, items[0]?.caption, 'the second request is served from the cache');
});
