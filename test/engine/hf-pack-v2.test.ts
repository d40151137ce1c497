// The whole real-model path at tiny scale, as a user runs it: tiny checkpoints in the exact
// Hugging Face layouts (`npm run tiny-hf`), training data in the real formats
// (`npm run world -- llava` / `wds`), `npm run pack:from-hf` for each family (one pack with
// its weights in external data files, one with int8 weights), then the TypeScript engine
// on each pack's PyTorch parity fixtures (test/engine/parity.test.ts, the same suite as the
// bundled pack's) and the `glimpse` command on it with --packs/--pack.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import ort from 'onnxruntime-node';
import { sessionOptions } from '../../main/engine/fwd2bot.ts';
import { loadPack } from '../../main/engine/pack.ts';
import { writeLlava, LLAVA_IMAGES, LLAVA_JSON } from '../../world/llava.ts';
import { writeSamples, type SamplesSidecar } from '../../world/samples.ts';
import { writeWds } from '../../world/wds.ts';
import { ROOT, tempDir } from '../helpers.ts';
import { PYTHON } from './v2pack.ts';

const env: NodeJS.ProcessEnv = { ...process.env, LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-openmp', GLIMPSE_LIBRARY: '' };
const ready = spawnSync(PYTHON, ['-c', 'import torch, onnx, PIL'], { env }).status === 0;
if (!ready && process.env.CI) throw new Error('CI needs /usr/bin/python3 with torch, onnx and PIL (see .ci/run)');
const skip = ready ? false : 'needs /usr/bin/python3 with torch, onnx and PIL';

const root = tempDir('hf-pack-v2');
const packs = path.join(root, 'packs');
const FAMILIES = [
  { id: 'tiny-llava', checkpoint: 'llava', external: true, options: ['--external-data', 'always'] },
  { id: 'tiny-onevision', checkpoint: 'llava-onevision', external: false, options: ['--quantize', 'int8'] },
];

function training(script: string, args: string[]): void {
  const r = spawnSync('bash', [path.join('scripts', 'training-python.sh'), path.join('training', script), ...args], { cwd: ROOT, env, encoding: 'utf8' });
  assert.equal(r.status, 0, `${script} ${args.join(' ')} failed:\n${r.stderr.slice(-3000)}`);
}

function glimpse(args: string[], pack: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'glimpse.mjs'), ...args, '--library', path.join(root, `library-${pack}`),
    '--packs', packs, '--pack', pack], { cwd: ROOT, encoding: 'utf8', timeout: 300_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let sidecar: SamplesSidecar;
before(async () => {
  if (!ready) return;
  training('tiny_hf.py', ['--out', path.join(root, 'hf')]);
  const data = path.join(root, 'data');
  await writeLlava({ split: 'train', count: 16, seed: 1, size: 64, out: path.join(data, 'llava') });
  await writeWds({ split: 'train', count: 16, seed: 1, size: 64, shardSize: 8, out: path.join(data, 'wds') });
  for (const f of FAMILIES) {
    training('pack_from_hf.py', ['--checkpoint', path.join(root, 'hf', f.checkpoint), '--llava-data', path.join(data, 'llava', LLAVA_JSON),
      '--images', path.join(data, 'llava', LLAVA_IMAGES), '--captions', path.join(data, 'wds'), '--out', path.join(packs, f.id),
      '--steps', '2', '--batch', '2', '--warmup', '1', '--eval-records', '2', '--eval-retrieval', '8', ...f.options]);
  }
  sidecar = await writeSamples({ count: 4, seed: 3, size: 96, out: path.join(root, 'samples') });
});

for (const f of FAMILIES) {
  test(`${f.id}: a format-2 pack whose engine outputs match PyTorch's parity fixtures`, { skip }, () => {
    const pack = loadPack(path.join(packs, f.id));
    assert.equal(pack.spec.version, 2);
    if (f.external) {
      const external = [...(pack.manifest.graphs.llm.external_data ?? []), ...(pack.manifest.graphs.vision.external_data ?? [])];
      assert.ok(external.length > 0 && external.every((rel) => rel in pack.manifest.files), 'weights in external data files, hashed');
    } else {
      assert.equal((pack.manifest as { quantization?: { weights?: string } }).quantization?.weights, 'int8');
    }
    // A test run of its own (not a subtest of this one: NODE_TEST_CONTEXT would make it report to this runner).
    const { NODE_TEST_CONTEXT: _, ...own } = env;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', path.join('test', 'engine', 'parity.test.ts')],
      { cwd: ROOT, encoding: 'utf8', env: { ...own, GLIMPSE_TEST_PACK: pack.dir } });
    assert.equal(r.status, 0, r.stdout.slice(-4000));
    assert.match(r.stdout, /^# pass [1-9]\d*$/m);
    assert.match(r.stdout, /^# fail 0$/m);
  });

  if (!f.external) {
    test(`${f.id}: int8 weights are stored as int8 and run as float MatMuls, dequantised once when the engine loads them`, { skip }, async () => {
      const pack = loadPack(path.join(packs, f.id));
      const graph = pack.file(pack.manifest.graphs.llm.file);
      assert.ok(fs.readFileSync(graph).includes('DequantizeLinear'), 'the pack holds int8 weights behind DequantizeLinear');
      // The graph onnxruntime really runs, with the engine's own session options. Fused into an 8-bit MatMulNBits
      // it either rounds activations to int8 (off the parity fixtures) or, with float activations, dequantises every
      // whole weight on every call (a real-size pack decoded 45x slower than fp32: docs/engine.md).
      const optimised = path.join(root, `${f.id}.optimised.onnx`);
      const session = await ort.InferenceSession.create(graph, { ...sessionOptions(pack, 1, false), optimizedModelFilePath: optimised });
      await session.release();
      const ran = fs.readFileSync(optimised);
      assert.ok(ran.includes('MatMul'));
      assert.ok(!ran.includes('MatMulNBits'), 'the int8 weights run through MatMulNBits');
      assert.ok(!ran.includes('DequantizeLinear'), 'a weight is dequantised on every call instead of once at load');
    });
  }

  test(`${f.id}: glimpse index, search, caption and ask work on it (--packs DIR --pack ID)`, { skip }, () => {
    const photos = path.join(root, 'samples', 'photos');
    const index = glimpse(['index', photos], f.id);
    assert.equal(index.status, 0, index.stderr);
    assert.match(index.stdout, new RegExp(`4 photos indexed for pack ${f.id}, 0 failed`));
    const search = glimpse(['search', sidecar.photos[0]!.captions[0]!.text, '--json', '--limit', '4'], f.id);
    assert.equal(search.status, 0, search.stderr);
    const hits = (JSON.parse(search.stdout) as { hits: Array<{ path: string; score: number }> }).hits;
    assert.equal(hits.length, 4);
    assert.ok(hits.every((h) => Number.isFinite(h.score)));
    // A BPE tokenizer has no unknown tokens: without a declared domain vocabulary no word is reported (docs/library.md).
    const gibberish = JSON.parse(glimpse(['search', 'florp zintak', '--json'], f.id).stdout) as { unknownWords: string[] };
    assert.deepEqual(gibberish.unknownWords, []);
    const photo = path.join(photos, ...sidecar.photos[1]!.path.split('/'));
    for (const args of [['caption', photo, '--budget', '4'], ['ask', photo, 'What colour is the star?']]) {
      const r = glimpse(args, f.id);
      assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /broken/);
    }
    const status = JSON.parse(glimpse(['status', '--json'], f.id).stdout);
    assert.equal(status.pack, f.id);
    assert.equal(status.counts.indexed, 4);
  });
}
