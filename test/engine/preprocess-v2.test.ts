// Pack format 2's image preprocessing in the engine against training's (training/hf_data.py,
// PIL + numpy as transformers computes it) on the same JPEG files from the world's LLaVA
// writer: CLIP's pad-to-square with LLaVA's pad colour, and SigLIP's plain resize.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { prepareImage, type ImageSpec } from '../../main/engine/tensor.ts';
import { frameOf, LLAVA_IMAGES, writeLlava } from '../../world/llava.ts';
import { ROOT, tempDir } from '../helpers.ts';
import { PYTHON } from './v2pack.ts';

const CLIP: ImageSpec = {
  size: 336, mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711],
  resize: 'pad-to-square', padColour: [122, 116, 104], resample: 'bicubic', rescale: 0.00392156862745098,
};
const SIGLIP: ImageSpec = { size: 384, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 'fill', resample: 'bicubic', rescale: 0.00392156862745098 };

const env = { ...process.env, LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-openmp' };
const python = spawnSync(PYTHON, ['-c', 'import torch, numpy, PIL'], { env }).status === 0;
if (!python && process.env.CI) throw new Error('CI needs /usr/bin/python3 with torch, numpy and PIL (see .ci/run)');

/** training/hf_data.py's preprocess of each file at the CLIP_336 and SIGLIP_384 presets. */
function pythonPixels(files: string[]): Map<string, Float32Array> {
  const script = `
import sys
sys.path.insert(0, "training")
from PIL import Image
from hf_data import CLIP_336, SIGLIP_384, preprocess
for f in sys.argv[1:]:
    for name, spec in (("clip", CLIP_336), ("siglip", SIGLIP_384)):
        preprocess(Image.open(f), spec).numpy().astype("<f4").tofile(f"{f}.{name}.f32")
`;
  const r = spawnSync(PYTHON, ['-c', script, ...files], { cwd: ROOT, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = new Map<string, Float32Array>();
  for (const f of files) {
    for (const name of ['clip', 'siglip']) {
      const b = fs.readFileSync(`${f}.${name}.f32`);
      out.set(`${f}:${name}`, new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
    }
  }
  return out;
}

const meanAbs = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + Math.abs(v - (b[i] as number)), 0) / a.length;

test('CLIP pad-to-square and SigLIP resize match training\'s preprocessing on world photos', { skip: python ? false : 'needs /usr/bin/python3 with torch, numpy, PIL' }, async () => {
  const dir = path.join(tempDir('preprocess-v2'), 'llava');
  const seed = 2;
  await writeLlava({ split: 'test', count: 6, seed, size: 200, out: dir });
  const folder = path.join(dir, LLAVA_IMAGES, 'shapes');
  const files = fs.readdirSync(folder).sort().map((f) => path.join(folder, f));
  const reference = pythonPixels(files);
  let landscapes = 0;
  for (const [i, file] of files.entries()) {
    const clip = await prepareImage(file, CLIP);
    const siglip = await prepareImage(file, SIGLIP);
    const want = reference.get(`${file}:clip`) as Float32Array;
    // sharp's and PIL's bicubic differ at edges (half-pixel conventions); on average by about a grey level.
    const clipDiff = meanAbs(clip, want);
    assert.ok(clipDiff < 0.05, `${path.basename(file)}: CLIP pixels differ by ${clipDiff.toFixed(4)} on average`);
    assert.ok(meanAbs(siglip, reference.get(`${file}:siglip`) as Float32Array) < 0.05);
    const { width, height } = frameOf(seed, 'test', i, 200);
    if (width > height) {
      landscapes++;
      // The padding rows are the pad colour exactly, normalised as training normalises it.
      const plane = 336 * 336;
      for (const c of [0, 1, 2]) for (const x of [0, 100, 335]) assert.ok(Math.abs((clip[c * plane + x] as number) - (want[c * plane + x] as number)) < 1e-6);
      // Stretching instead of padding would be far off: the comparison can tell them apart.
      const stretched = await prepareImage(file, { ...CLIP, resize: 'fill' });
      assert.ok(meanAbs(stretched, want) > 4 * clipDiff, 'a stretched photo differs clearly from the padded one');
    }
  }
  assert.ok(landscapes > 0);
});

test('pad-to-square without a pad colour, or a bad rescale, is refused', async () => {
  await assert.rejects(prepareImage(Buffer.alloc(10), { ...CLIP, padColour: undefined }), /pad-to-square needs padColour/);
  await assert.rejects(prepareImage(Buffer.alloc(10), { ...CLIP, padColour: [0, 0, 256] }), /pad-to-square needs padColour/);
  await assert.rejects(prepareImage(Buffer.alloc(10), { ...SIGLIP, rescale: 0 }), /rescale must be a positive number/);
});
