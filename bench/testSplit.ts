// The world's test split as the quality benchmarks read it (bench/quality.ts,
// bench/token-encoding.ts): made on a clean checkout (seed 0, the split training
// evaluates on) in the language the pack was trained on (data/test for language 1,
// data/test-v2 for language 2), its scenes, and each image normalised as in training.
import fs from 'node:fs';
import path from 'node:path';
import type { PackManifest } from '../main/engine/pack.ts';
import { writeDataset } from '../world/dataset.ts';
import { LANGUAGES, type LanguageVersion } from '../world/generate.ts';
import type { SceneGraph } from '../world/scene.ts';
import type { WordingKind } from '../world/v2-lexicon.ts';

/** One test image's records; the optional fields are language 2's (world/README.md). */
export interface TestScene {
  graph: SceneGraph;
  captions: Array<{ text: string; heldOut: boolean; wording?: WordingKind; coverage?: 'all' | 'some'; objects?: number }>;
  searches?: Array<{ text: string; heldOut: boolean; wording?: WordingKind; objects?: number }>;
  questions: Array<{ type: string; question: string; answer: string; heldOut: boolean; wording?: WordingKind }>;
  probes: Array<{ category: string; positive: string; negative: string }>;
}

/** The world language a pack was trained on: pack.json's top-level `language`; packs without one are language 1. */
export function packWorldLanguage(manifest: PackManifest): LanguageVersion {
  const language = (manifest as { language?: unknown }).language ?? 1;
  if (!(LANGUAGES as readonly unknown[]).includes(language)) throw new Error(`pack.json "language" is ${JSON.stringify(language)}; this benchmark knows world languages ${LANGUAGES.join(', ')}`);
  return language as LanguageVersion;
}

/** Where the test split of a language lives when --data does not say. */
export function testSplitDir(root: string, language: LanguageVersion): string {
  return path.join(root, 'data', language === 1 ? 'test' : `test-v${language}`);
}

export interface TestSplit {
  scenes: TestScene[];
  /** Image i as the vision graph's input, [3, size, size]. */
  pixelsOf(i: number): Float32Array;
}

export async function openTestSplit(dataDir: string, images: number, image: { size: number; mean: readonly number[]; std: readonly number[] },
  language: LanguageVersion = 1): Promise<TestSplit> {
  if (!fs.existsSync(path.join(dataDir, 'manifest.json'))) {
    console.log(`making the language-${language} test split in ${dataDir}`);
    await writeDataset({ split: 'test', count: 2000, seed: 0, size: 64, out: dataDir, language });
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(dataDir, 'manifest.json'), 'utf8'));
  // Manifests record `language` only for language 2 (version-1 manifests are unchanged).
  const written = manifest.language ?? 1;
  if (manifest.split !== 'test' || written !== language) {
    throw new Error(`${dataDir} holds the language-${written} ${manifest.split} split; this run measures the language-${language} test split (use another --data folder, or remove this one to have it made)`);
  }
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
