// `npm run bench:engine [-- --json] [--pack DIR]`: the engine's speed on this machine.
// Every comparison is a ratio of two timings taken in this same run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../main/engine/engine.ts';
import { Fwd2BotModel } from '../main/engine/fwd2bot.ts';
import { loadPack } from '../main/engine/pack.ts';
import { writeSamples } from '../world/samples.ts';

const { values } = parseArgs({ options: { json: { type: 'boolean' }, pack: { type: 'string' }, repeats: { type: 'string' } } });
const packDir = values.pack ?? path.resolve(import.meta.dirname, '..', 'models', 'shapes-tiny');
const repeats = Number(values.repeats ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const v = await fn();
  return [performance.now() - t, v];
}

async function timed(fn: () => Promise<unknown>, n = repeats): Promise<number> {
  await fn(); // warm-up
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push((await time(fn))[0]);
  return median(xs);
}

/** ms per generated token in the KV-cache loop (prefill excluded), for a given thread setting. */
async function decodeMsPerToken(threads: number, spinning: boolean, tokens = 32): Promise<number> {
  const model = await Fwd2BotModel.load(loadPack(packDir, { verifyHashes: false }), { providers: ['cpu'], threads, spinning });
  const d = model.d;
  const prefix = new Float32Array(24 * d).fill(0.01);
  const run = async () => {
    const mask = new Array<number>(24).fill(1);
    let step = await model.forward({ embeds: prefix, batch: 1, mask, positions: mask.map((_, i) => i), adapter: 2, keepLogits: 1 });
    const t = performance.now();
    for (let i = 0; i < tokens; i++) {
      mask.push(1);
      step = await model.forward({ embeds: model.embed([5]), batch: 1, mask, positions: [24 + i], adapter: 2, keepLogits: 1, past: step.past });
    }
    return (performance.now() - t) / tokens;
  };
  await run();
  const xs: number[] = [];
  for (let i = 0; i < repeats; i++) xs.push(await run());
  await model.release();
  return median(xs);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'glimpse-bench-'));
try {
  const sidecar = await writeSamples({ count: 16, seed: 1, size: 256, out: path.join(work, 'lib') });
  const photos = sidecar.photos.map((p) => path.join(work, 'lib', 'photos', ...p.path.split('/')));
  const engine = await Engine.open(packDir, { providers: ['cpu'] });
  const info = engine.info();

  const batch1 = await timed(() => engine.compressImages(photos.slice(0, 1)));
  const batch16 = await timed(() => engine.compressImages(photos), Math.max(2, Math.floor(repeats / 2)));
  const textMs = await timed(() => engine.embedText(['a large red circle at the top left on a beach']));
  const [first] = await engine.compressImages(photos.slice(0, 1));
  if (!first?.ok) throw new Error('sample photo failed to compress');
  const question = 'What colour is the circle?';
  const opts = { maxNewTokens: 4 };
  const answer = async (budget: number) => timed(() => engine.generate(first.tokens, question, { ...opts, budget }));
  const cached: Record<string, number> = {};
  for (const b of info.budgets) cached[b] = await answer(b);
  const full = await timed(() => engine.generateFromImage(photos[0] as string, question, opts));
  // Search's second stage (pack.json retrieval.rerank): pass 2's likelihood of the query over the first hits.
  const candidates = engine.pack.manifest.retrieval?.rerank?.candidates ?? 10;
  const compressed = (await engine.compressImages(photos)).flatMap((c) => (c.ok ? [{ tokens: c.tokens, encoding: c.encoding }] : []));
  const hits = Array.from({ length: candidates }, (_, i) => compressed[i % compressed.length] as { tokens: Uint8Array; encoding: typeof first.encoding });
  const rerankMs = await timed(() => engine.scoreText(hits, 'a large red circle at the top left on a beach'));
  await engine.close();

  const threadSettings = [];
  for (const threads of [1, 2]) {
    for (const spinning of [false, true]) threadSettings.push({ threads, spinning, msPerToken: await decodeMsPerToken(threads, spinning) });
  }
  const k = info.dims.summaryTokens;
  const results = {
    date: new Date().toISOString().slice(0, 10),
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), memoryGiB: Math.round(os.totalmem() / 2 ** 30), platform: `${process.platform}-${process.arch}`, node: process.version },
    pack: info.pack,
    provider: info.provider,
    threads: info.threads,
    compression: { imagesPerSecondBatch1: 1000 / batch1, imagesPerSecondBatch16: (16 * 1000) / batch16 },
    textEmbeddingMs: textMs,
    rerank: { candidates, ms: rerankMs },
    answerMs: { fromCachedTokens: cached, fullTokensFromImage: full, ratioFullOverCachedK: full / (cached[k] as number) },
    decodeMsPerToken: threadSettings,
    storage: { bytesPerPhotoFloat16: info.bytesPerPhoto, bytesAllVisualTokensFloat16: 2 * info.dims.visionTokens * info.dims.hidden },
  };
  console.log(`engine benchmark, pack ${results.pack}, ${results.provider}, ${results.machine.cores} cores (${results.machine.cpu})`);
  console.log(`compression: ${results.compression.imagesPerSecondBatch1.toFixed(1)} images/s at batch 1, ${results.compression.imagesPerSecondBatch16.toFixed(1)} at batch 16 (JPEG decode included)`);
  console.log(`text embedding: ${textMs.toFixed(1)} ms; re-ranking ${candidates} hits (pass 2 likelihood of the query): ${rerankMs.toFixed(1)} ms`);
  for (const [b, ms] of Object.entries(cached)) console.log(`answer from cached tokens, budget ${b}: ${ms.toFixed(1)} ms`);
  console.log(`answer in full-token mode from the image: ${full.toFixed(1)} ms  (${results.answerMs.ratioFullOverCachedK.toFixed(2)}x the cached budget-${k} answer)`);
  for (const t of threadSettings) console.log(`decode: ${t.msPerToken.toFixed(2)} ms/token with ${t.threads} thread(s), spinning ${t.spinning ? 'on' : 'off'}`);
  if (values.json) {
    const out = path.resolve(import.meta.dirname, 'results', 'engine.json');
    fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`wrote ${out}`);
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
