// `npx tsx scripts/calibrate-rerank.ts [--pack DIR] [--images N] [--candidates C] [--write]`:
// chooses the weight of search's second stage (main/library/rerank.ts) on the world's
// validation split with the real engine. For each weight it measures what search and the
// compositional probes get: R@1 of a photo's own seen caption, of a partial description
// (two objects of a scene of four or more) and of a seen search text among all photos,
// the first C by cosine re-ranked; and, per probe category, how often the true caption
// outscores its hard negative (swapped attributes, a replaced relation, ...). The smallest
// weight whose mean of those figures is within TOLERANCE of the best wins (weight 0 is
// cosine alone); --write records it
// and the whole curve in pack.json as `retrieval.rerank` (the pack's revision changes, so
// libraries re-index once).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isPartialDescription } from '../bench/qualitySets.ts';
import { loadPack } from '../main/engine/pack.ts';
import { rerankOrder, rerankScore } from '../main/library/rerank.ts';
import { dot, embedAll, withCalibrationSplit, writeRetrieval, type CalibrationPhoto } from './calibration-split.ts';

const { values } = parseArgs({ options: { pack: { type: 'string' }, images: { type: 'string' }, candidates: { type: 'string' }, write: { type: 'boolean' } } });
const root = path.resolve(import.meta.dirname, '..');
const packDir = path.resolve(values.pack ?? path.join(root, 'models', 'shapes-tiny'));
const count = Number(values.images ?? 300);
const candidates = Number(values.candidates ?? 10);
if (!Number.isInteger(count) || count < 20) throw new Error(`--images must be a whole number of at least 20, not "${values.images}"`);
if (!Number.isInteger(candidates) || candidates < 2 || candidates > 200) throw new Error(`--candidates must be a whole number from 2 to 200, not "${values.candidates}"`);
const WEIGHTS = [0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5];
const round = (x: number) => Math.round(x * 1000) / 1000;
// Each step up in weight costs short search texts ("red circle" fits many photos, and the likelihood
// prefers those where it is the whole story) more than the val mean shows; past the best mean's
// noise, less weight is the safer choice.
const TOLERANCE = 0.005;

/** One search: the photos' cosines best first, their likelihoods, and where the true photo is. */
interface Search { cosines: number[]; likelihoods: number[]; truth: number }

const pack = loadPack(packDir);
const started = Date.now();
await withCalibrationSplit(pack, 'val', count, async ({ engine, scenes, photos }) => {
  const searchesOf = async (texts: Array<{ text: string; photo: number }>): Promise<Search[]> => {
    const embedded = await embedAll(engine, texts.map((t) => t.text));
    const out: Search[] = [];
    for (const [k, { text, photo }] of texts.entries()) {
      const ranked = photos.map((p, i) => ({ i, s: dot(embedded[k] as Float32Array, p.embedding) })).sort((a, b) => b.s - a.s).slice(0, candidates);
      const likelihoods = await engine.scoreText(ranked.map(({ i }) => photos[i] as CalibrationPhoto), text);
      out.push({ cosines: ranked.map((r) => r.s), likelihoods, truth: ranked.findIndex((r) => r.i === photo) });
    }
    return out;
  };
  const sets: Record<string, Search[]> = {
    caption: await searchesOf(scenes.flatMap((s, photo) => s.captions.filter((c) => !c.heldOut).slice(0, 1).map((c) => ({ text: c.text, photo })))),
    partial: await searchesOf(scenes.flatMap((s, photo) => s.captions.filter((c) => !c.heldOut && isPartialDescription(c, s)).map((c) => ({ text: c.text, photo })))),
    search: await searchesOf(scenes.flatMap((s, photo) => (s.searches ?? []).filter((t) => !t.heldOut).slice(0, 1).map((t) => ({ text: t.text, photo })))),
  };
  const probes: Array<{ category: string; cosine: [number, number]; likelihood: [number, number] }> = [];
  for (const [i, s] of scenes.entries()) {
    const photo = photos[i] as CalibrationPhoto;
    const embedded = await embedAll(engine, s.probes.flatMap((p) => [p.positive, p.negative]));
    for (const [k, p] of s.probes.entries()) {
      const [lp] = await engine.scoreText([photo], p.positive);
      const [ln] = await engine.scoreText([photo], p.negative);
      const [pos, neg] = [embedded[2 * k], embedded[2 * k + 1]] as [Float32Array, Float32Array];
      probes.push({ category: p.category, cosine: [dot(pos, photo.embedding), dot(neg, photo.embedding)], likelihood: [lp as number, ln as number] });
    }
  }
  const categories = [...new Set(probes.map((p) => p.category))].sort();
  const curve = WEIGHTS.map((weight) => {
    const recall = Object.fromEntries(Object.entries(sets).filter(([, xs]) => xs.length > 0).map(([name, xs]) => [name,
      round(xs.filter((x) => x.truth >= 0 && rerankOrder(x.cosines, x.likelihoods, weight)[0] === x.truth).length / xs.length)]));
    const compositional = Object.fromEntries(categories.map((c) => {
      const ps = probes.filter((p) => p.category === c);
      return [c, round(ps.filter((p) => rerankScore(p.cosine[0], p.likelihood[0], weight) > rerankScore(p.cosine[1], p.likelihood[1], weight)).length / ps.length)];
    }));
    const figures = [...Object.values(recall), ...Object.values(compositional)];
    return { weight, recallAt1: recall, compositional, mean: round(figures.reduce((a, b) => a + b, 0) / figures.length) };
  });
  const top = Math.max(...curve.map((c) => c.mean));
  const best = curve.find((c) => c.mean >= top - TOLERANCE)!;
  for (const row of curve) console.log(`weight ${String(row.weight).padEnd(6)} mean ${row.mean.toFixed(3)}  R@1 ${JSON.stringify(row.recallAt1)}  compositional ${JSON.stringify(row.compositional)}`);
  console.log(`chosen weight ${best.weight} (mean ${best.mean}, best ${top}; cosine alone ${curve[0]?.mean}); measured in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (best.weight === 0) {
    console.log('re-ranking does not help this pack: nothing to write (remove retrieval.rerank by hand if an older calibration set it)');
    return;
  }
  const rerank = {
    candidates, weight: best.weight,
    measured: {
      how: `scripts/calibrate-rerank.ts: ${scenes.length} val images (seed 0, PNG through the engine); R@1 among all of them of each photo's first seen caption, `
        + `its partial descriptions and its first seen search text, the first ${candidates} by cosine re-ranked; per probe category the share of true captions `
        + `that outscore their hard negative. The smallest weight whose mean of these figures is within ${TOLERANCE} of the best is chosen.`,
      tolerance: TOLERANCE, split: 'val', images: scenes.length, texts: Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, v.length])), probes: probes.length, curve,
    },
  };
  if (values.write) console.log(`wrote retrieval.rerank (weight ${best.weight}, ${candidates} candidates) to ${writeRetrieval(packDir, { rerank })}`);
});
