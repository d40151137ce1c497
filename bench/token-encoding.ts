// `npm run bench:token-encoding [-- --images N] [--json]`: what storing the compressed
// tokens as int8 (a float32 scale per token, main/engine/tokenCodec.ts) instead of
// float16 costs in quality, at every budget, through the TypeScript engine on the
// world's test split. Both rows answer from the same compressed tokens, round-tripped
// through the stored form: QA accuracy, caption F1 and text-to-image R@1 (the int8 row
// also searches int8 image embeddings, as the library's index holds them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Fwd2BotModel, meanEmbedding } from '../main/engine/fwd2bot.ts';
import { loadPack } from '../main/engine/pack.ts';
import { decodeTokens, encodeTokens, quantizeRow, TOKEN_ENCODINGS, type TokenEncoding } from '../main/engine/tokenCodec.ts';
import { captionScores, qaAccuracy, retrievalRecall } from '../world/score.ts';
import { openTestSplit } from './testSplit.ts';
import type { SceneGraph } from '../world/scene.ts';

const { values } = parseArgs({ options: { images: { type: 'string' }, json: { type: 'boolean' }, data: { type: 'string' }, pack: { type: 'string' } } });
const root = path.resolve(import.meta.dirname, '..');
const dataDir = values.data ?? path.join(root, 'data', 'test');
const packDir = values.pack ?? path.join(root, 'models', 'shapes-tiny');

const model = await Fwd2BotModel.load(loadPack(packDir), { providers: ['cpu'] });
const m = model.pack.manifest;
const { d, k } = model;
const { scenes, pixelsOf } = await openTestSplit(dataDir, Number(values.images ?? 100), m.image);
const images = scenes.length;

const began = performance.now();
const compressed: Float32Array[] = [];
for (let i = 0; i < images; i++) compressed.push(await model.compressPixels(pixelsOf(i), 1));
// Text queries through pass 1 once (K tokens each); each budget averages its prefix, as for images.
const texts: string[] = [];
const owner: number[] = [];
scenes.forEach((s, i) => s.captions.filter((c) => !c.heldOut).forEach((c) => { texts.push(c.text); owner.push(i); }));
const textTokens: Float32Array[] = [];
for (let s = 0; s < texts.length; s += 32) {
  const batch = texts.slice(s, s + 32);
  const out = await model.compress(batch.map((t) => model.embed(model.tokenizer.encode(t))));
  batch.forEach((_, b) => textTokens.push(out.subarray(b * k * d, (b + 1) * k * d)));
}

/** The stored form and back: what a library answering from its cache reads. */
const roundTrip = (tokens: Float32Array, encoding: TokenEncoding, budget: number) => decodeTokens(encodeTokens(tokens, d, encoding), encoding, k, d, budget);

/** The image embedding as the search index holds it: float32 for the float16 row, int8 for the int8 row. */
function indexed(embedding: Float32Array, encoding: TokenEncoding): Float32Array {
  if (encoding === 'float16') return embedding;
  const q = quantizeRow(embedding);
  return Float32Array.from(q.values, (v) => v * q.scale);
}

const rows: Record<string, Record<TokenEncoding, { qa: number; captionF1: number; t2iR1: number }>> = {};
for (const budget of [...m.summary.budgets].sort((a, b) => a - b)) {
  rows[budget] = {} as Record<TokenEncoding, { qa: number; captionF1: number; t2iR1: number }>;
  const textEmb = textTokens.map((t) => meanEmbedding(t, d, budget));
  for (const encoding of TOKEN_ENCODINGS) {
    const qa: Array<{ type: string; prediction: string; answer: string; heldOut: boolean }> = [];
    const caps: Array<{ caption: string; graph: SceneGraph }> = [];
    const imageEmb: Float32Array[] = [];
    for (const [i, s] of scenes.entries()) {
      const visual = roundTrip(compressed[i] as Float32Array, encoding, budget);
      for (const q of s.questions.filter((x) => !x.heldOut)) {
        qa.push({ type: q.type, prediction: (await model.generate(visual, q.question, 'compressed', { maxNewTokens: 8 })).text, answer: q.answer, heldOut: false });
      }
      caps.push({ caption: (await model.generate(visual, m.prompts.caption, 'compressed', { maxNewTokens: 80 })).text, graph: s.graph });
      imageEmb.push(indexed(meanEmbedding(compressed[i] as Float32Array, d, budget), encoding));
    }
    const sim = new Float32Array(images * texts.length);
    for (let i = 0; i < images; i++) for (let j = 0; j < texts.length; j++) {
      let dot = 0;
      const a = imageEmb[i] as Float32Array; const b = textEmb[j] as Float32Array;
      for (let x = 0; x < d; x++) dot += (a[x] as number) * (b[x] as number);
      sim[i * texts.length + j] = dot;
    }
    const r = { qa: qaAccuracy(qa).overall.accuracy, captionF1: captionScores(caps).f1, t2iR1: retrievalRecall(sim, images, owner).textToImage.r1 };
    rows[budget][encoding] = r;
    console.log(`budget ${String(budget).padStart(2)} ${encoding.padEnd(7)} QA ${(r.qa * 100).toFixed(1)}  caption F1 ${(r.captionF1 * 100).toFixed(1)}  T2I R@1 ${(r.t2iR1 * 100).toFixed(1)}`);
  }
}
const worst = Math.max(...Object.values(rows).flatMap((r) => (['qa', 'captionF1', 't2iR1'] as const).map((key) => (r.float16[key] - r.int8[key]) * 100)));
const out = {
  date: new Date().toISOString().slice(0, 10), machine: { cpu: os.cpus()[0]?.model, cores: os.availableParallelism() },
  pack: model.pack.id, images, d, k, bytesPerPhoto: { float16: 2 * k * d, int8: k * (d + 4) },
  rows, worstDropPoints: worst, seconds: (performance.now() - began) / 1000,
};
console.log(`worst drop float16 -> int8: ${worst.toFixed(2)} points (${out.seconds.toFixed(0)} s)`);
if (values.json) {
  fs.writeFileSync(path.join(root, 'bench', 'results', 'token-encoding.json'), `${JSON.stringify(out, null, 1)}\n`);
  console.log('wrote bench/results/token-encoding.json');
}
await model.release();
