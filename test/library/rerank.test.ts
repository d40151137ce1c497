// Search's second stage (main/library/rerank.ts): the ordering rule; pass 2's likelihood of
// a text (Fwd2BotModel.textLikelihood) against the same log-probabilities taken one token at
// a time through the KV-cache loop; and a library whose pack re-ranks, through the real
// engine process and SQLite cache, against the order computed here from the same pack.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BudgetError, Engine } from '../../main/engine/engine.ts';
import { Fwd2BotModel } from '../../main/engine/fwd2bot.ts';
import { generationPrompt } from '../../main/engine/chatTemplate.ts';
import { loadPack, scoringPrompt } from '../../main/engine/pack.ts';
import { decodeTokens } from '../../main/engine/tokenCodec.ts';
import { Library } from '../../main/library/library.ts';
import { bestCosine, rerankHits, rerankOrder, rerankScore } from '../../main/library/rerank.ts';
import { writeSamples, type SamplesSidecar } from '../../world/samples.ts';
import { packCopy, tempDir, testPackDir } from '../helpers.ts';

test('rerankOrder orders the first hits by cosine + weight x likelihood and leaves the rest', () => {
  const cosines = [0.9, 0.8, 0.7, 0.6, 0.5];
  // Likelihoods for the first three only: the third reads far better, the first far worse.
  assert.deepEqual(rerankOrder(cosines, [-3, -1, -0.1], 0.2), [2, 1, 0, 3, 4]);
  assert.deepEqual(rerankOrder(cosines, [-3, -1, -0.1], 0.1), [1, 2, 0, 3, 4], 'a smaller weight moves less');
  assert.deepEqual(rerankOrder(cosines, [-3, -1, -0.1], 0), [0, 1, 2, 3, 4], 'weight 0 is cosine order');
  assert.deepEqual(rerankOrder(cosines, [-1, -1], 1), [0, 1, 2, 3, 4], 'ties keep cosine order');
  assert.equal(rerankScore(0.5, -2, 0.1), 0.5 - 0.2);
});

test('rerankHits re-ranks only the first candidates, sinks hits it cannot score, and checks the scorer', async () => {
  const hits = [0.9, 0.8, 0.7, 0.6].map((score, photoId) => ({ photoId, score }));
  const seen: number[][] = [];
  const out = await rerankHits(hits, { candidates: 3, weight: 1 }, async (top) => {
    seen.push(top.map((h) => h.photoId));
    return [-Infinity, -0.5, -0.1];
  });
  assert.deepEqual(seen, [[0, 1, 2]]);
  assert.deepEqual(out.map((h) => h.photoId), [2, 1, 0, 3]);
  assert.deepEqual(out.map((h) => h.score), [0.7, 0.8, 0.9, 0.6], 'scores stay cosines');
  await assert.rejects(rerankHits(hits, { candidates: 3, weight: 1 }, async () => [0]), /scored 1 of 3 hits/);
  assert.deepEqual(await rerankHits(hits.slice(0, 1), { candidates: 3, weight: 1 }, async () => { throw new Error('not called for one hit'); }), hits.slice(0, 1));
  assert.equal(bestCosine(out), 0.9, 'the no-match threshold reads the best cosine, wherever it now stands');
  assert.equal(bestCosine([]), null);
});

const root = tempDir('rerank');
let sidecar: SamplesSidecar;
let photoFiles: string[];
before(async () => {
  sidecar = await writeSamples({ count: 12, seed: 21, size: 96, out: path.join(root, 'samples') });
  photoFiles = sidecar.photos.map((p) => path.join(root, 'samples', 'photos', ...p.path.split('/')));
});

/** log p of each target token after `prefix`, fed one token at a time with the cache (as generate decodes). */
async function stepwise(model: Fwd2BotModel, visual: Float32Array, text: string): Promise<number> {
  const ids = model.tokenizer.encode(text);
  const prompt = generationPrompt(model.pack.spec, (t) => model.tokenizer.encode(t), scoringPrompt(model.pack.manifest));
  const x = new Float32Array([...model.embed(prompt.head), ...visual, ...model.embed(prompt.tail)]);
  let total = x.length / model.d;
  const mask = new Array<number>(total).fill(1);
  let step = await model.forward({ embeds: x, batch: 1, mask, positions: Array.from({ length: total }, (_, i) => i), adapter: model.pack.manifest.adapters.generate, keepLogits: 1 });
  const logSoftmax = (row: Float32Array, pick: number[]) => {
    const max = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - max), 0);
    return Math.log(pick.reduce((s, id) => s + Math.exp((row[id] as number) - max), 0) / z);
  };
  let sum = 0;
  for (const id of ids) {
    sum += logSoftmax(step.logits, [id]);
    mask.push(1);
    step = await model.forward({ embeds: model.embed([id]), batch: 1, mask, positions: [total], adapter: model.pack.manifest.adapters.generate, keepLogits: 1, past: step.past });
    total++;
  }
  sum += logSoftmax(step.logits, model.pack.spec.stopIds);
  return sum / (ids.length + 1);
}

test('textLikelihood equals the log-probabilities of the KV-cache loop, per image of a batch', async () => {
  const pack = loadPack(testPackDir());
  const engine = await Engine.open(pack, { providers: ['cpu'], threads: 1 });
  const model = await Fwd2BotModel.load(pack, { providers: ['cpu'], threads: 1 });
  try {
    const compressed = await engine.compressImages(photoFiles.slice(0, 3));
    const visuals = compressed.map((c) => {
      assert.ok(c.ok);
      return decodeTokens(c.tokens, c.encoding, model.k, model.d, model.k);
    });
    const text = sidecar.photos[0]?.captions[0]?.text as string;
    const batched = await model.textLikelihood(visuals, text, scoringPrompt(pack.manifest));
    for (const [i, v] of visuals.entries()) {
      const want = await stepwise(model, v, text);
      assert.ok(Math.abs((batched[i] as number) - want) < 1e-3, `image ${i}: batched ${batched[i]} vs stepwise ${want}`);
    }
    assert.ok(new Set(batched.map((x) => x.toFixed(4))).size > 1, 'different photos read the text differently');
    // Through the Engine, from cached bytes, at a budget; and a wrong budget is refused.
    const photos = compressed.map((c) => (c.ok ? { tokens: c.tokens, encoding: c.encoding } : assert.fail()));
    assert.deepEqual((await engine.scoreText(photos, text)).map((x) => x.toFixed(4)), batched.map((x) => x.toFixed(4)));
    const at4 = await engine.scoreText(photos, text, 4);
    assert.ok(Math.abs((at4[0] as number) - await stepwise(model, (visuals[0] as Float32Array).subarray(0, 4 * model.d), text)) < 1e-3);
    await assert.rejects(engine.scoreText(photos, text, 5), BudgetError);
    await assert.rejects(engine.scoreText([{ tokens: new Uint8Array(7), encoding: photos[0]!.encoding }], text), BudgetError);
    assert.deepEqual(await engine.scoreText([], text), []);
  } finally {
    await Promise.all([engine.close(), model.release()]);
  }
});

let library: Library | null = null;
after(async () => library?.close());

test('a pack with retrieval.rerank: search orders its first hits by pass 2\'s likelihood, scores stay cosines', async () => {
  const spec = { candidates: 6, weight: 5 };
  const dir = packCopy(path.join(root, 'packs'), 'reranking', (m) => { m.retrieval = { ...m.retrieval, rerank: spec }; });
  library = await Library.open({ dir: path.join(root, 'library'), packDirs: [path.dirname(dir)], packId: 'reranking', runtime: { providers: ['cpu'], threads: 1 }, watch: false });
  library.addFolder(path.join(root, 'samples', 'photos'));
  await library.settled();
  // The order this pack's search must give, worked out here with an engine of the same pack.
  const engine = await Engine.open(loadPack(dir), { providers: ['cpu'], threads: 1 });
  let reordered = 0;
  try {
    const photos = (await engine.compressImages(photoFiles)).map((c) => (c.ok ? c : assert.fail()));
    const fileIndex = new Map(photoFiles.map((f, i) => [fs.realpathSync(f), i]));
    const indexOf = (h: { path: string }) => fileIndex.get(fs.realpathSync(h.path)) as number;
    for (const p of sidecar.photos.slice(0, 4)) {
      const query = p.captions[p.captions.length - 1]?.text as string;
      const [q] = await engine.embedText([query]);
      const cosine = photos.map((c) => c.embedding.reduce((sum, v, j) => sum + v * (q![j] as number), 0));
      // Every photo, as search returns them: the re-ranked head, then the rest by cosine.
      const all = await library.search(query, { limit: photoFiles.length });
      assert.equal(all.length, photoFiles.length);
      for (const h of all) assert.ok(Math.abs(h.score - (cosine[indexOf(h)] as number)) < 0.02, `a hit's score is its cosine (int8 rows): ${h.score}`);
      const head = all.slice(0, spec.candidates);
      const tail = all.slice(spec.candidates);
      assert.ok(Math.min(...head.map((h) => h.score)) >= Math.max(...tail.map((h) => h.score)), 'the head is the best by cosine');
      for (let i = 1; i < tail.length; i++) assert.ok(tail[i - 1]!.score >= tail[i]!.score, 'the rest keep cosine order');
      // The head's order from its cosines (as the index scored them) and likelihoods worked out here.
      const byCosine = [...head].sort((a, b) => b.score - a.score);
      const likelihoods = await engine.scoreText(byCosine.map((h) => photos[indexOf(h)]!), query);
      const want = rerankOrder(byCosine.map((h) => h.score), likelihoods, spec.weight).map((k) => byCosine[k]!.photoId);
      assert.deepEqual(head.map((h) => h.photoId), want, `query "${query}"`);
      if (want.slice(0, 3).some((id, r) => id !== byCosine[r]!.photoId)) reordered++;
      assert.deepEqual((await library.search(query, { limit: 3 })).map((h) => h.photoId), want.slice(0, 3), 'a smaller limit shows the first of the same order');
      const one = await library.rankedSearch(query, { limit: 1 });
      assert.equal(one.hits[0]?.photoId, want[0], 'limit 1 shows the re-ranked first hit');
      assert.ok(Math.abs((one.bestCosine as number) - Math.max(...cosine)) < 0.02, 'and judges "no good match" on the best cosine of all');
    }
  } finally {
    await engine.close();
  }
  assert.ok(reordered > 0, 'the second stage changed the first three hits of some query (else this test proves nothing)');
});

test('search scores under prompts.partial_caption, else the caption prompt; an empty one breaks the pack', () => {
  const m = loadPack(testPackDir()).manifest;
  assert.equal(scoringPrompt({ ...m, prompts: { ...m.prompts, partial_caption: 'Describe one part of the image.' } }), 'Describe one part of the image.');
  const { partial_caption: _unused, ...withoutPart } = m.prompts;
  assert.equal(scoringPrompt({ ...m, prompts: withoutPart }), m.prompts.caption);
  const dir = packCopy(path.join(root, 'bad-packs'), 'empty-part', (manifest) => { manifest.prompts.partial_caption = ''; });
  assert.throws(() => loadPack(dir), /prompts\.partial_caption/);
});

test('a malformed retrieval.rerank breaks the pack with the field named', () => {
  for (const [label, rerank] of [['one candidate', { candidates: 1, weight: 0.1 }], ['a weight of 0', { candidates: 10, weight: 0 }],
    ['a weight above 10', { candidates: 10, weight: 50 }], ['a fractional count', { candidates: 2.5, weight: 0.1 }], ['no weight', { candidates: 10 }]] as const) {
    const dir = packCopy(path.join(root, 'bad-rerank'), `bad-${label.replace(/\W+/g, '-')}`, (manifest) => { manifest.retrieval = { ...manifest.retrieval, rerank }; });
    assert.throws(() => loadPack(dir), /retrieval\.rerank\.(candidates|weight)/, label);
  }
});
