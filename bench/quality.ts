// `npm run bench:quality [-- --images N] [--language 1|2] [--methods fwd2bot,base,pool,cls] [--json | --out FILE]`:
// the quality table through the TypeScript engine on the world's test split, in the
// language the pack was trained on (pack.json `language`, 1 when absent; --language
// forces one). Rows: the base model with all visual tokens; Fwd2Bot at every budget;
// and, at the same budgets, two training-free reductions fed to the base model: average
// pooling of the visual-token grid (Matryoshka-style) and the visual tokens most similar
// to CLS (PruMerge-style). Texts go to the model as the library hands them over (the
// pack's aliases applied). Language 2 adds QA by wording, partial descriptions and search
// texts (bench/qualitySets.ts); every run measures unknown-word reports (bench/unknownWords.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generationPrompt } from '../main/engine/chatTemplate.ts';
import { Fwd2BotModel, meanEmbedding } from '../main/engine/fwd2bot.ts';
import { loadPack, scoringPrompt } from '../main/engine/pack.ts';
import { rerankOrder, rerankScore } from '../main/library/rerank.ts';
import { packLanguage } from '../main/library/understanding.ts';
import type { LanguageVersion } from '../world/generate.ts';
import { captionScores, compositionalAccuracy, qaReport, retrievalRecall } from '../world/score.ts';
import type { SceneGraph } from '../world/scene.ts';
import { queryBases, retrievalSets } from './qualitySets.ts';
import { openTestSplit, packWorldLanguage, testSplitDir } from './testSplit.ts';
import { measureUnknownWords } from './unknownWords.ts';

const { values } = parseArgs({ options: {
  images: { type: 'string' }, json: { type: 'boolean' }, data: { type: 'string' }, pack: { type: 'string' }, language: { type: 'string' }, methods: { type: 'string' }, out: { type: 'string' },
} });
const root = path.resolve(import.meta.dirname, '..');
const packDir = values.pack ?? path.join(root, 'models', 'shapes-tiny');
const METHODS = ['base', 'fwd2bot', 'pool', 'cls'];
const methods = values.methods?.split(',') ?? METHODS;
const badMethod = methods.find((x) => !METHODS.includes(x));
if (badMethod !== undefined) throw new Error(`--methods: "${badMethod}" is not one of ${METHODS.join(', ')}`);
const imageCount = Number(values.images ?? 100);
if (!Number.isInteger(imageCount) || imageCount < 2) throw new Error(`--images must be a whole number of at least 2, not "${values.images}"`);

const model = await Fwd2BotModel.load(loadPack(packDir), { providers: ['cpu'] });
const m = model.pack.manifest;
const d = model.d;
const packLanguageVersion = packWorldLanguage(m);
if (values.language !== undefined && !['1', '2'].includes(values.language)) throw new Error(`--language must be 1 or 2, not "${values.language}"`);
const language = (values.language === undefined ? packLanguageVersion : Number(values.language)) as LanguageVersion;
const dataDir = values.data ?? testSplitDir(root, language);
const { scenes: records, pixelsOf } = await openTestSplit(dataDir, imageCount, m.image, language);
// What the library does with a query or question before the model reads it (aliases: "color" -> "colour").
const understanding = packLanguage(model.pack);
const read = (text: string) => understanding.rewrite(text);
console.log(`pack ${model.pack.id} (language ${packLanguageVersion}), language-${language} test split ${path.relative(root, dataDir)}, ${records.length} images`);
const images = records.length;
const side = Math.round(Math.sqrt(m.dims.vision_tokens));

/** Average pooling of the side x side grid down to `budget` tokens (a rows x cols grid). */
function poolTokens(tokens: Float32Array, budget: number): Float32Array {
  const rows = 2 ** Math.floor(Math.log2(budget) / 2);
  const cols = budget / rows;
  const out = new Float32Array(budget * d);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const r0 = Math.floor((r * side) / rows); const r1 = Math.floor(((r + 1) * side) / rows);
      const c0 = Math.floor((c * side) / cols); const c1 = Math.floor(((c + 1) * side) / cols);
      const n = (r1 - r0) * (c1 - c0);
      for (let y = r0; y < r1; y++) for (let x = c0; x < c1; x++) for (let j = 0; j < d; j++) out[(r * cols + c) * d + j] = (out[(r * cols + c) * d + j] as number) + (tokens[(y * side + x) * d + j] as number) / n;
    }
  }
  return out;
}

/** The `budget` visual tokens whose ViT features are most similar to CLS, in their original order. */
function clsSelect(tokens: Float32Array, patches: Float32Array, cls: Float32Array, budget: number): Float32Array {
  const dv = cls.length;
  const score = Array.from({ length: side * side }, (_, t) => {
    let s = 0; let n = 0;
    for (let j = 0; j < dv; j++) { s += (patches[t * dv + j] as number) * (cls[j] as number); n += (patches[t * dv + j] as number) ** 2; }
    return { t, s: s / Math.sqrt(n || 1) };
  }).sort((a, b) => b.s - a.s).slice(0, budget).sort((a, b) => a.t - b.t);
  const out = new Float32Array(budget * d);
  score.forEach(({ t }, k) => out.set(tokens.subarray(t * d, (t + 1) * d), k * d));
  return out;
}

/** E5-V: "<s> USER: <content> Summary above … in one word: ASSISTANT:" -> last hidden state, normalised. */
async function e5v(content: Float32Array, prompt: string): Promise<Float32Array> {
  const { head, tail } = generationPrompt(model.pack.spec, (text) => model.tokenizer.encode(text), prompt);
  const x = new Float32Array([...model.embed(head), ...content, ...model.embed(tail)]);
  const t = x.length / d;
  const out = await model.forward({ embeds: x, batch: 1, mask: new Array(t).fill(1), positions: Array.from({ length: t }, (_, i) => i), adapter: m.adapters.base });
  return meanEmbedding(out.hidden, d, 1, t - 1);
}

const rerank = m.retrieval?.rerank;

/**
 * Recall as search ranks (library.ts): each text's first `rerank.candidates` photos by
 * cosine re-ordered by rerankOrder, placed above every other photo in a copy of `sim`.
 */
async function rerankedRecall(spec: NonNullable<typeof rerank>, sim: Float32Array, texts: string[], owner: number[], visualOf: (i: number) => Float32Array) {
  const out = Float32Array.from(sim);
  for (const [j, text] of texts.entries()) {
    const top = Array.from({ length: images }, (_, i) => i).sort((a, b) => (sim[b * texts.length + j] as number) - (sim[a * texts.length + j] as number)).slice(0, spec.candidates);
    const likelihoods = await model.textLikelihood(top.map(visualOf), read(text), scoringPrompt(m));
    const order = rerankOrder(top.map((i) => sim[i * texts.length + j] as number), likelihoods, spec.weight);
    order.forEach((at, rank) => { out[(top[at] as number) * texts.length + j] = 10 + top.length - rank; });
  }
  return retrievalRecall(out, images, owner);
}

type Row = { name: string; method: string; budget: number | null };
const budgets = [...m.summary.budgets].sort((a, b) => b - a);
const rows: Row[] = [{ name: 'all tokens', method: 'base', budget: null }];
for (const b of budgets) rows.push({ name: `fwd2bot-${b}`, method: 'fwd2bot', budget: b }, { name: `pool-${b}`, method: 'pool', budget: b }, { name: `cls-${b}`, method: 'cls', budget: b });
const measured = rows.filter((r) => methods.includes(r.method));

const began = performance.now();
const vision = await Promise.all(records.map(async (_, i) => model.visionTokens(pixelsOf(i), 1)));
const compressed = await Promise.all(vision.map((v) => model.compress([v.tokens])));
const results: Record<string, unknown> = {};
for (const row of measured) {
  const t0 = performance.now();
  const visualOf = (i: number): Float32Array => {
    const v = vision[i] as { tokens: Float32Array; cls: Float32Array; patches: Float32Array | null };
    if (row.method === 'base') return v.tokens;
    if (row.method === 'fwd2bot') return (compressed[i] as Float32Array).subarray(0, (row.budget as number) * d);
    if (row.method === 'pool') return poolTokens(v.tokens, row.budget as number);
    if (!v.patches) throw new Error('this pack\'s vision graph has no patch_features output (needed for the CLS baseline)');
    return clsSelect(v.tokens, v.patches, v.cls, row.budget as number);
  };
  const mode = row.method === 'fwd2bot' ? 'compressed' : 'full';
  const qa: Array<{ type: string; prediction: string; answer: string; heldOut: boolean; wording?: string }> = [];
  const caps: Array<{ caption: string; graph: SceneGraph }> = [];
  const imageEmb: Float32Array[] = [];
  for (const [i, r] of records.entries()) {
    const visual = visualOf(i);
    for (const q of r.questions) {
      const prediction = (await model.generate(visual, read(q.question), mode, { maxNewTokens: 8 })).text;
      qa.push({ type: q.type, prediction, answer: q.answer, heldOut: q.heldOut, ...(q.wording ? { wording: q.wording } : {}) });
    }
    caps.push({ caption: (await model.generate(visual, m.prompts.caption, mode, { maxNewTokens: 80 })).text, graph: r.graph });
    imageEmb.push(row.method === 'fwd2bot' ? meanEmbedding(visual, d, row.budget as number) : await e5v(visual, m.prompts.e5v_image));
  }
  const embedTexts = async (texts: string[]): Promise<Float32Array[]> => {
    if (row.method === 'fwd2bot') {
      const out: Float32Array[] = [];
      for (let s = 0; s < texts.length; s += 32) {
        const comp = await model.compress(texts.slice(s, s + 32).map((t) => model.embed(model.tokenizer.encode(read(t)))), row.budget as number);
        for (let b = 0; b < Math.min(32, texts.length - s); b++) out.push(meanEmbedding(comp, d, row.budget as number, b * (row.budget as number)));
      }
      return out;
    }
    return Promise.all(texts.map((t) => e5v(model.embed(model.tokenizer.encode(read(t))), m.prompts.e5v_text)));
  };
  const retrieval: Record<string, unknown> = {};
  // What search shows (pack.json retrieval.rerank): text-to-image only, image-to-text has no second stage.
  const rowRerank = row.method === 'fwd2bot' ? rerank : undefined;
  const rerankedRetrieval: Record<string, unknown> = {};
  for (const [set, { texts, owner }] of Object.entries(retrievalSets(records, language))) {
    const te = await embedTexts(texts);
    const sim = new Float32Array(images * texts.length);
    for (let i = 0; i < images; i++) for (let j = 0; j < texts.length; j++) {
      let s = 0;
      const a = imageEmb[i] as Float32Array; const b = te[j] as Float32Array;
      for (let k = 0; k < d; k++) s += (a[k] as number) * (b[k] as number);
      sim[i * texts.length + j] = s;
    }
    retrieval[set] = retrievalRecall(sim, images, owner);
    if (rowRerank) rerankedRetrieval[set] = (await rerankedRecall(rowRerank, sim, texts, owner, visualOf)).textToImage;
  }
  const probes: Array<{ category: string; positive: number; negative: number }> = [];
  const rerankedProbes: typeof probes = [];
  for (const [i, r] of records.entries()) {
    const texts = r.probes.flatMap((p) => [p.positive, p.negative]);
    const te = await embedTexts(texts);
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, k) => s + v * (b[k] as number), 0);
    const cos = te.map((t) => dot(imageEmb[i] as Float32Array, t));
    r.probes.forEach((p, k) => probes.push({ category: p.category, positive: cos[2 * k] as number, negative: cos[2 * k + 1] as number }));
    if (rowRerank) {
      const lp: number[] = [];
      for (const t of texts) lp.push(...await model.textLikelihood([visualOf(i)], read(t), scoringPrompt(m)));
      r.probes.forEach((p, k) => rerankedProbes.push({ category: p.category,
        positive: rerankScore(cos[2 * k] as number, lp[2 * k] as number, rowRerank.weight), negative: rerankScore(cos[2 * k + 1] as number, lp[2 * k + 1] as number, rowRerank.weight) }));
    }
  }
  results[row.name] = {
    method: row.method, budget: row.budget ?? m.dims.vision_tokens,
    ...qaReport(qa),
    captions: captionScores(caps), retrieval, compositional: compositionalAccuracy(probes),
    ...(rowRerank ? { reranked: { retrieval: rerankedRetrieval, compositional: compositionalAccuracy(rerankedProbes) } } : {}),
    seconds: (performance.now() - t0) / 1000,
  };
  const r = results[row.name] as any;
  console.log(`${row.name.padEnd(12)} QA ${(r.qa.overall.accuracy * 100).toFixed(1)} (held-out ${(r.qaHeldOut.overall.accuracy * 100).toFixed(1)})  F1 ${(r.captions.f1 * 100).toFixed(1)}  halluc ${(r.captions.hallucination * 100).toFixed(1)}  T2I R@1 ${(r.retrieval.seen.textToImage.r1 * 100).toFixed(1)}  I2T R@1 ${(r.retrieval.seen.imageToText.r1 * 100).toFixed(1)}  comp ${(r.compositional.overall.accuracy * 100).toFixed(1)}${r.reranked ? `  re-ranked: T2I R@1 ${(r.reranked.retrieval.seen.r1 * 100).toFixed(1)}, comp ${(r.reranked.compositional.overall.accuracy * 100).toFixed(1)}` : ''}  (${r.seconds.toFixed(0)} s)`);
}
// Unknown words through the library's own code; best scores as search ranks photos (the pack's K tokens).
const imageEmbeddings = compressed.map((c) => meanEmbedding(c, d, model.k));
const unknownWords = await measureUnknownWords(understanding, queryBases(records), async (texts) => {
  const best: number[] = [];
  for (let s = 0; s < texts.length; s += 32) {
    for (const t of await model.embedTexts(texts.slice(s, s + 32))) best.push(Math.max(...imageEmbeddings.map((im) => im.reduce((sum, v, j) => sum + v * (t[j] as number), 0))));
  }
  return best;
});
const pctOf = (x: { share: number }) => `${(x.share * 100).toFixed(1)} %`;
console.log(`unknown words reported ${pctOf(unknownWords.reported)} of ${unknownWords.queries} queries (only that word ${pctOf(unknownWords.onlyThatWord)}); `
  + `gibberish "no good match" ${pctOf(unknownWords.gibberishOnly.noGoodMatch)}, English words outside the world ${pctOf(unknownWords.foreignOnly.noGoodMatch)}`);
const out = {
  date: new Date().toISOString().slice(0, 10), machine: { cpu: os.cpus()[0]?.model, cores: os.availableParallelism() }, pack: model.pack.id,
  packLanguage: packLanguageVersion, language, testSplit: path.relative(root, dataDir), images, seconds: (performance.now() - began) / 1000, rows: results, unknownWords,
};
if (values.json || values.out) {
  const file = values.out ?? path.join(root, 'bench', 'results', 'quality.json');
  fs.writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
  console.log(`wrote ${path.relative(root, path.resolve(file))}`);
}
await model.release();
