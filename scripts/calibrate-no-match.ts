// `npx tsx scripts/calibrate-no-match.ts [--pack DIR] [--images N] [--split val] [--write]`:
// measures, with the real engine on the world's validation split, how a pack's
// search scores (cosine of a text's embedding with a photo's retrieval embedding)
// are distributed for true matches (a photo's own caption) and for non-matches (another
// photo's caption; and the best score over all photos of queries the model cannot
// understand: gibberish and English words outside its vocabulary), chooses the score
// below which search says "no good match", and with --write records both in the
// pack's pack.json as `retrieval` (docs/model-pack.md). The pack's revision changes
// with pack.json, so libraries re-index once after a recalibration.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadPack } from '../main/engine/pack.ts';
import { Rng } from '../world/rng.ts';
import { FOREIGN_WORDS, gibberish } from '../world/unknown-words.ts';
import { dot, embedAll, withCalibrationSplit, writeRetrieval } from './calibration-split.ts';

const { values } = parseArgs({ options: { pack: { type: 'string' }, images: { type: 'string' }, split: { type: 'string' }, write: { type: 'boolean' } } });
const root = path.resolve(import.meta.dirname, '..');
const packDir = path.resolve(values.pack ?? path.join(root, 'models', 'shapes-tiny'));
const count = Number(values.images ?? 500);
const split = (values.split ?? 'val') as 'val' | 'test';
/** The share of true matches allowed under the threshold. */
const MISS_RATE = 0.01;

interface Summary { n: number; min: number; p01: number; p05: number; p50: number; p95: number; p99: number; max: number; mean: number }
function summary(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.floor(p * (s.length - 1))))] as number;
  const r = (x: number) => Math.round(x * 10_000) / 10_000;
  return { n: s.length, min: r(s[0] as number), p01: r(q(0.01)), p05: r(q(0.05)), p50: r(q(0.5)), p95: r(q(0.95)), p99: r(q(0.99)), max: r(s[s.length - 1] as number), mean: r(s.reduce((a, b) => a + b, 0) / s.length) };
}

async function main(): Promise<void> {
  const pack = loadPack(packDir);
  const started = Date.now();
  await withCalibrationSplit(pack, split, count, async ({ engine, language, scenes: records, photos }) => {
    const images = photos.map((p) => p.embedding);
    // A photo's own text: a seen caption, and for language 2 also a short search text (what people type).
    const own = records.flatMap((r, i) => [[(r.captions.find((c) => !c.heldOut) ?? r.captions[0])!.text, i] as const,
      ...(r.searches ?? []).filter((t) => !t.heldOut).slice(0, 1).map((t) => [t.text, i] as const)]);
    const owner = own.map(([, i]) => i);
    const texts = await embedAll(engine, own.map(([t]) => t));
    const rng = new Rng('calibrate-no-match', 17);
    const rand = () => rng.next();
    const trueMatch = texts.map((t, k) => dot(t, images[owner[k] as number] as Float32Array));
    const nonMatch = texts.map((t, k) => dot(t, images[((owner[k] as number) + 1 + Math.floor(rand() * (images.length - 1))) % images.length] as Float32Array));
    const best = (t: Float32Array) => Math.max(...images.map((im) => dot(t, im)));
    const gib = Array.from({ length: 200 }, (_, k) => gibberish(rand, 1 + (k % 4)));
    const foreign = Array.from({ length: 200 }, (_, k) => Array.from({ length: 1 + (k % 3) }, () => FOREIGN_WORDS[Math.floor(rand() * FOREIGN_WORDS.length)]).join(' '));
    const unknownBest = [...await embedAll(engine, gib), ...await embedAll(engine, foreign)].map(best);
    const captionBest = texts.map(best);
    // Under the threshold: at most MISS_RATE of true matches; report what that leaves of the rest.
    const sortedTrue = [...trueMatch].sort((a, b) => a - b);
    const threshold = Math.round((sortedTrue[Math.floor(MISS_RATE * sortedTrue.length)] as number) * 1000) / 1000;
    const above = (xs: number[]) => Math.round((xs.filter((x) => x >= threshold).length / xs.length) * 1000) / 1000;
    const retrieval = {
      noMatchBelow: threshold,
      measured: {
        how: `scripts/calibrate-no-match.ts: ${records.length} ${split} images (seed 0, PNG through the engine), one seen caption each${language === 2 ? ' and one seen search text' : ''}; `
          + `the threshold is the score ${(1 - MISS_RATE) * 100} % of true matches (a photo and its own caption) reach; nonMatch is a photo and another photo's caption; `
          + 'bestOfUnknownQueries the best score over all photos of 200 gibberish and 200 out-of-vocabulary English queries, caught by the unknown-word rule, not by this threshold. '
          + 'A search whose best score is under it is "no good match".',
        split, images: records.length,
        trueMatch: summary(trueMatch),
        nonMatch: summary(nonMatch),
        bestOfUnknownQueries: summary(unknownBest),
        bestOfCaptions: summary(captionBest),
        shareAtOrAbove: { trueMatch: above(trueMatch), nonMatch: above(nonMatch), bestOfUnknownQueries: above(unknownBest), bestOfCaptions: above(captionBest) },
      },
    };
    console.log(JSON.stringify(retrieval, null, 1));
    console.log(`measured in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (values.write) console.log(`wrote retrieval.noMatchBelow = ${threshold} to ${writeRetrieval(packDir, { noMatchBelow: threshold, measured: retrieval.measured })}`);
  });
}

await main();
