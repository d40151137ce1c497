// The world's test split as the quality benchmarks read it (bench/quality.ts,
// bench/token-encoding.ts): made on a clean checkout (seed 0, the split training
// evaluates on), its scenes, and each image normalised as in training.
import fs from 'node:fs';
import path from 'node:path';
import { writeDataset } from '../world/dataset.ts';
import type { SceneGraph } from '../world/scene.ts';

export interface TestScene {
  graph: SceneGraph;
  captions: Array<{ text: string; heldOut: boolean }>;
  questions: Array<{ type: string; question: string; answer: string; heldOut: boolean }>;
  probes: Array<{ category: string; positive: string; negative: string }>;
}

export interface TestSplit {
  scenes: TestScene[];
  /** Image i as the vision graph's input, [3, size, size]. */
  pixelsOf(i: number): Float32Array;
}

export async function openTestSplit(dataDir: string, images: number, image: { size: number; mean: readonly number[]; std: readonly number[] }): Promise<TestSplit> {
  if (!fs.existsSync(path.join(dataDir, 'manifest.json'))) {
    console.log(`making the test split in ${dataDir}`);
    await writeDataset({ split: 'test', count: 2000, seed: 0, size: 64, out: dataDir });
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(dataDir, 'manifest.json'), 'utf8'));
  const { size, mean, std } = image;
  if (manifest.size !== size) throw new Error(`test split images are ${manifest.size} px, the pack wants ${size}`);
  const scenes = fs.readFileSync(path.join(dataDir, 'scenes.jsonl'), 'utf8').split('\n').slice(0, Math.min(images, manifest.count)).map((l) => JSON.parse(l) as TestScene);
  const u8 = fs.readFileSync(path.join(dataDir, 'images.u8'));
  const frame = size * size * 3;
  return {
    scenes,
    pixelsOf(i) {
      const src = u8.subarray(i * frame, (i + 1) * frame);
      const out = new Float32Array(frame);
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < size * size; p++) out[c * size * size + p] = ((src[p * 3 + c] as number) / 255 - (mean[c] as number)) / (std[c] as number);
      }
      return out;
    },
  };
}
