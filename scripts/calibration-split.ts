// The world's validation split as the pack calibrations read it (calibrate-no-match.ts,
// calibrate-rerank.ts): made fresh (seed 0, the split training never sees) in the pack's
// own language, every photo sent through the real engine as a PNG file, as the library
// hands photos over (decode, resize, normalise), and each one's cached tokens and
// retrieval embedding kept. pack.json is updated by merging into `retrieval`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { TestScene } from '../bench/testSplit.ts';
import { packWorldLanguage } from '../bench/testSplit.ts';
import { Engine } from '../main/engine/engine.ts';
import type { Pack } from '../main/engine/pack.ts';
import type { TokenEncoding } from '../main/engine/tokenCodec.ts';
import { writeDataset } from '../world/dataset.ts';

export interface CalibrationPhoto { tokens: Uint8Array; encoding: TokenEncoding; embedding: Float32Array }

export interface CalibrationSplit {
  engine: Engine;
  language: number;
  scenes: TestScene[];
  photos: CalibrationPhoto[];
}

/** Runs `measure` on `count` scenes of `split` through a fresh in-process engine; cleans up after. */
export async function withCalibrationSplit<T>(pack: Pack, split: 'val' | 'test', count: number,
  measure: (s: CalibrationSplit) => Promise<T>): Promise<T> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'glimpse-calibrate-'));
  const engine = await Engine.open(pack, { providers: ['cpu'], threads: 2 });
  try {
    const size = pack.manifest.image.size;
    const language = packWorldLanguage(pack.manifest);
    await writeDataset({ split, count, seed: 0, size, out: path.join(data, split), force: true, language });
    const scenes = fs.readFileSync(path.join(data, split, 'scenes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TestScene);
    const pixels = fs.readFileSync(path.join(data, split, 'images.u8'));
    const frame = size * size * 3;
    const photos: CalibrationPhoto[] = [];
    for (let i = 0; i < scenes.length; i += 32) {
      const batch = await Promise.all(scenes.slice(i, i + 32).map((_, b) => sharp(pixels.subarray((i + b) * frame, (i + b + 1) * frame), { raw: { width: size, height: size, channels: 3 } }).png().toBuffer()));
      for (const r of await engine.compressImages(batch)) {
        if (!r.ok) throw new Error(`a ${split} image could not be compressed: ${r.error.message}`);
        photos.push({ tokens: r.tokens, encoding: r.encoding, embedding: r.embedding });
      }
    }
    return await measure({ engine, language, scenes, photos });
  } finally {
    await engine.close();
    fs.rmSync(data, { recursive: true, force: true });
  }
}

/** Text embeddings through the engine, 64 at a time. */
export async function embedAll(engine: Engine, texts: readonly string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += 64) out.push(...await engine.embedText(texts.slice(i, i + 64)));
  return out;
}

export const dot = (a: Float32Array, b: Float32Array): number => a.reduce((sum, x, i) => sum + x * (b[i] as number), 0);

/** Merges `entries` into pack.json's `retrieval` (other calibrations' entries stay). */
export function writeRetrieval(packDir: string, entries: Record<string, unknown>): string {
  const file = path.join(packDir, 'pack.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  manifest.retrieval = { ...(manifest.retrieval as Record<string, unknown> | undefined), ...entries };
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 1)}\n`);
  return file;
}
