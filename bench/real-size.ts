// `npm run bench:real-size [-- --text-layers N --vision-layers N] [--precisions fp32,int8] [--cache DIR] [--json]`:
// the engine and the library at a real family's size. Builds, on demand into a cache folder
// outside the repository (default ~/.cache/glimpse-real-size; never committed), a random-weight
// checkpoint with the family's published configuration (training/real_size.py) and exports it
// with the real exporter (pack_from_hf.py --steps 0, fp32 and --quantize int8). Then, per pack,
// in a fresh engine process: compression seconds per photo (vision + pass 1) at batch 1 and 4,
// a 10-token answer from K = 1, 4, 16 cached tokens and from the image with all V tokens (one
// run, so the ratio is fair), and the process's peak resident memory. Also bytes per photo
// in the cache and search time at the family's width. --text-layers/--vision-layers keep
// every width and cut the depth: a reduced run, marked as such in the results.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../main/engine/engine.ts';
import { tokenBytes } from '../main/engine/tokenCodec.ts';
import { VectorIndex } from '../main/library/search.ts';
import { Rng } from '../world/rng.ts';

const { values } = parseArgs({ options: {
  family: { type: 'string', default: 'ov-0.5b' }, 'text-layers': { type: 'string', default: '0' }, 'vision-layers': { type: 'string', default: '0' },
  precisions: { type: 'string', default: 'fp32,int8' }, cache: { type: 'string' }, json: { type: 'boolean' },
  measure: { type: 'string' }, photos: { type: 'string' },
} });
const root = path.resolve(import.meta.dirname, '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const QUESTION = 'What is in the photo?';
const ANSWER_TOKENS = 10;

/** The child: one pack in one engine process; prints its measurements as JSON. */
async function measure(packDir: string, photos: string[]): Promise<void> {
  const engine = await Engine.open(packDir, { providers: ['cpu'], threads: 2 });
  const timed = async <T>(fn: () => Promise<T>) => { const t = performance.now(); const r = await fn(); return { ms: performance.now() - t, r }; };
  await engine.compressImages([photos[0] as string]); // warm-up: first-run allocations are not the steady state
  const batch1: number[] = [];
  for (const p of photos.slice(0, 3)) batch1.push((await timed(() => engine.compressImages([p]))).ms / 1000);
  const four = await timed(() => engine.compressImages(photos.slice(0, 4)));
  const first = (await engine.compressImages([photos[0] as string]))[0];
  if (!first?.ok) throw new Error('the photo did not compress');
  // Greedy, at most ten new tokens; answerTokens reports how many came (random weights may stop early).
  const options = { maxNewTokens: ANSWER_TOKENS, temperature: 0 };
  const answer = async (budget: number) => {
    const ms: number[] = [];
    for (let i = 0; i < 3; i++) ms.push((await timed(() => engine.generate(first.tokens, QUESTION, { ...options, budget, encoding: first.encoding }))).ms);
    return median(ms);
  };
  const cached = { 1: await answer(1), 4: await answer(4), 16: await answer(16) };
  const fromImage: number[] = [];
  const tokensOut: number[] = [];
  for (let i = 0; i < 2; i++) {
    const t = await timed(() => engine.generateFromImage(photos[0] as string, QUESTION, options));
    fromImage.push(t.ms);
    tokensOut.push(t.r.ids.length);
  }
  const info = engine.info();
  await engine.close();
  console.log(JSON.stringify({
    compressSecondsPerPhoto: median(batch1), compressSecondsPerPhotoBatch4: four.ms / 4000,
    answerMs: { cached, fromImage: median(fromImage) }, answerTokens: Math.max(...tokensOut),
    peakRssMB: process.resourceUsage().maxRSS / 1024, dims: info.dims, provider: info.provider,
  }));
}

function run(cmd: string, args: string[]): void {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-openmp' } });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status})`);
}

if (values.measure) {
  await measure(values.measure, (values.photos as string).split(','));
  process.exit(0);
}

const cache = values.cache ?? path.join(os.homedir(), '.cache', 'glimpse-real-size');
/** The exporter's version: a digest of the training files that decide what a pack holds. */
const EXPORTER = createHash('sha256').update(['model.py', 'hf_checkpoint.py', 'hf_export.py', 'pack_from_hf.py', 'real_size.py']
  .map((f) => fs.readFileSync(path.join(root, 'training', f), 'utf8')).join('\0')).digest('hex');
const family = values.family as string;
const textLayers = Number(values['text-layers']);
const visionLayers = Number(values['vision-layers']);
const reduced = textLayers > 0 || visionLayers > 0;
const tag = `${family}${reduced ? `-l${textLayers}v${visionLayers}` : ''}`;
const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const data = path.join(cache, 'data');
if (!fs.existsSync(path.join(data, 'wds', '00000.tar'))) {
  run('npx', ['tsx', 'world/cli.ts', 'llava', '--count', '4', '--size', '384', '--out', path.join(data, 'llava'), '--force']);
  run('npx', ['tsx', 'world/cli.ts', 'wds', '--count', '4', '--size', '384', '--shard-size', '8', '--out', path.join(data, 'wds'), '--force']);
}
const checkpoint = path.join(cache, 'ckpt', tag);
if (!fs.existsSync(path.join(checkpoint, 'config.json'))) {
  run(python, ['training/real_size.py', '--family', family, '--out', checkpoint, '--text-layers', String(textLayers), '--vision-layers', String(visionLayers)]);
}
const photos = fs.readdirSync(path.join(data, 'llava', 'images', 'shapes')).sort().map((f) => path.join(data, 'llava', 'images', 'shapes', f));
const precisions = [];
let dims: { hidden: number; summaryTokens: number; visionTokens: number } | null = null;
let params = 0;
for (const precision of (values.precisions as string).split(',')) {
  const id = `${tag}-${precision}`;
  const pack = path.join(cache, 'packs', id);
  // A cached pack is reused only if the exporter that wrote it is today's (an int8 pack from
  // before the decode fix would be measured 45x slow).
  const stamp = path.join(pack, '.exporter');
  if (fs.existsSync(pack) && (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== EXPORTER)) {
    console.log(`${id}: cached pack written by another exporter version; building it again`);
    fs.rmSync(pack, { recursive: true, force: true });
    fs.rmSync(path.join(cache, 'packs', `.${id}.run`), { recursive: true, force: true });
  }
  if (!fs.existsSync(path.join(pack, 'pack.json'))) {
    run(python, ['training/pack_from_hf.py', '--checkpoint', checkpoint, '--llava-data', path.join(data, 'llava', 'llava_shapes.json'),
      '--images', path.join(data, 'llava', 'images'), '--captions', path.join(data, 'wds'), '--out', pack, '--id', id,
      '--run', path.join(cache, 'packs', `.${id}.run`), '--steps', '0', '--batch', '1', '--warmup', '0', '--eval-records', '1', '--eval-retrieval', '2',
      ...(precision === 'int8' ? ['--quantize', 'int8'] : [])]);
    fs.writeFileSync(stamp, EXPORTER);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(pack, 'pack.json'), 'utf8'));
  params = manifest.training?.parameters ?? params;
  const packBytes = Object.values(manifest.files as Record<string, { bytes: number }>).reduce((s, f) => s + f.bytes, 0);
  const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'real-size.ts'), '--measure', pack, '--photos', photos.join(',')],
    { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (child.status !== 0) throw new Error(`measuring ${id} failed: ${child.stderr}`);
  const m = JSON.parse(child.stdout.trim().split('\n').pop() as string);
  dims = m.dims;
  precisions.push({
    precision, packBytes, compressSecondsPerPhoto: m.compressSecondsPerPhoto, compressSecondsPerPhotoBatch4: m.compressSecondsPerPhotoBatch4,
    answerMs: m.answerMs, answerTokens: m.answerTokens, ratioFromImageOverCached16: m.answerMs.fromImage / m.answerMs.cached['16'], peakRssMB: m.peakRssMB,
  });
  console.log(JSON.stringify(precisions.at(-1)));
}
if (!dims) throw new Error('no precision measured');
const d = dims.hidden;
const searchMs: Array<{ photos: number; ms: number }> = [];
for (const n of [10000, 100000]) {
  const rng = new Rng(`real-size-${d}`);
  const index = new VectorIndex(d);
  const v = new Float32Array(d);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < d; j++) { v[j] = rng.next() - 0.5; norm += (v[j] as number) ** 2; }
    for (let j = 0; j < d; j++) v[j] = (v[j] as number) / Math.sqrt(norm);
    index.add(i + 1, v);
  }
  const ms: number[] = [];
  for (let q = 0; q < 9; q++) { const t = performance.now(); index.search(v, 20); ms.push(performance.now() - t); }
  searchMs.push({ photos: n, ms: median(ms) });
}
const out = {
  date: new Date().toISOString().slice(0, 10),
  machine: { cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), memoryGiB: Math.round(os.totalmem() / 2 ** 30), loadAverage: os.loadavg()[0] },
  reduced: reduced ? { textLayers, visionLayers, note: 'every width, head count, vocabulary and image size of the family; fewer layers' } : null,
  command: `npm run bench:real-size -- --family ${family}${reduced ? ` --text-layers ${textLayers} --vision-layers ${visionLayers}` : ''} --json`,
  families: [{ name: family, params, visionTokens: dims.visionTokens, summaryTokens: dims.summaryTokens, hidden: d, precision: precisions }],
  bytesPerPhoto: { fp16: tokenBytes('float16', dims.summaryTokens, d), int8: tokenBytes('int8', dims.summaryTokens, d) },
  search: { width: d, photos: searchMs.map((s) => s.photos), ms: searchMs.map((s) => s.ms) },
};
console.log(JSON.stringify(out, null, 1));
if (values.json) {
  fs.writeFileSync(path.join(root, 'bench', 'results', 'real-size.json'), `${JSON.stringify(out, null, 1)}\n`);
  console.log('wrote bench/results/real-size.json');
}
