// The packed data set writer: images.u8 (N x H x W x 3 uint8, row-major, no
// header), scenes.jsonl (one record per image, same order) and manifest.json.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { languageFor, pixelsFor, sceneAt, SPLIT_LANGUAGE, type LanguageOptions, type LanguageVersion, type Split } from './generate.ts';
import { orderedPool, writeFolderAtomically } from './output.ts';
import type { QuestionType } from './questions.ts';
import { COLOURS, SCENE_TYPES, SHAPES, SIZES } from './vocab.ts';

export const DATASET_FORMAT = 'glimpse-world-dataset';
export const DATASET_VERSION = 1;

export interface DatasetOptions {
  split: Split;
  count: number;
  seed: number;
  size: number;
  out: string;
  force?: boolean;
  jpegProbability?: number;
  /** The world's language version (default 1, the bundled pack's); 2 is recorded in the manifest. */
  language?: LanguageVersion;
  /** Language 2: more seen-wording questions of some types per image (LanguageOptions.more). */
  more?: Partial<Record<QuestionType, number>>;
  onProgress?: (done: number, total: number) => void;
}

export interface DatasetManifest {
  format: typeof DATASET_FORMAT;
  version: number;
  /** Present only for language 2: version-1 manifests stay byte-identical to before languages existed. */
  language?: LanguageVersion;
  /** Present only when the data set weighs question types up (`--more`). */
  more?: Partial<Record<QuestionType, number>>;
  split: Split;
  count: number;
  seed: number;
  size: number;
  jpegProbability: number;
  images: { file: string; dtype: 'uint8'; shape: [number, number, number, number]; bytes: number; sha256: string };
  scenes: { file: string; records: number; bytes: number; sha256: string };
  counts: { captions: number; questions: number; questionsHeldOut: number; probes: number; captionsHeldOut?: number; searches?: number };
  /** The scene graph's class lists in their canonical order: training's probes read them from here. */
  vocabulary: { shapes: string[]; colours: string[]; sizes: string[]; scenes: string[] };
}

/** Width of the render pipeline: enough to keep both cores and sharp's threads busy. */
/**
 * Language 2 gives train records probes too: they are the hard negatives of the contrastive
 * loss (swapped attributes and objects, replaced relations, added objects). Probes are drawn
 * after the captions, searches and questions, so those stay as they were; val and test
 * probes come from other scenes (other streams), so training never sees an evaluation probe.
 */
export const LANGUAGE_2_OPTIONS: Record<Split, LanguageOptions> = {
  train: { ...SPLIT_LANGUAGE.train, probes: true }, val: SPLIT_LANGUAGE.val, test: SPLIT_LANGUAGE.test,
};

const IN_FLIGHT = Math.max(4, os.availableParallelism() * 4);

export async function writeDataset(opts: DatasetOptions): Promise<DatasetManifest> {
  const jpegProbability = opts.jpegProbability ?? 0.5;
  const language = opts.language ?? 1;
  let manifest: DatasetManifest | null = null;
  await writeFolderAtomically(opts.out, opts.force ?? false, async (dir) => {
    const imageFd = fs.openSync(path.join(dir, 'images.u8'), 'w');
    const sceneFd = fs.openSync(path.join(dir, 'scenes.jsonl'), 'w');
    const imageHash = createHash('sha256');
    const sceneHash = createHash('sha256');
    const counts: DatasetManifest['counts'] = { captions: 0, questions: 0, questionsHeldOut: 0, probes: 0, ...(language === 2 ? { captionsHeldOut: 0, searches: 0 } : {}) };
    let imageBytes = 0;
    let sceneBytes = 0;
    let lines: string[] = [];
    const flushLines = () => {
      if (lines.length === 0) return;
      const buf = Buffer.from(lines.join(''), 'utf8');
      fs.writeSync(sceneFd, buf);
      sceneHash.update(buf);
      sceneBytes += buf.length;
      lines = [];
    };
    try {
      await orderedPool(opts.count, IN_FLIGHT, async (i) => {
        const scene = sceneAt(opts.seed, opts.split, i);
        const pixels = await pixelsFor(scene, opts.seed, opts.split, i, opts.size, { jpegProbability });
        return { scene, pixels };
      }, (i, { scene, pixels }) => {
        fs.writeSync(imageFd, pixels);
        imageHash.update(pixels);
        imageBytes += pixels.length;
        const item = languageFor(scene, opts.seed, opts.split, i, language === 2 ? { ...LANGUAGE_2_OPTIONS[opts.split], more: opts.more } : SPLIT_LANGUAGE[opts.split], language);
        counts.captions += item.captions.length;
        counts.questions += item.questions.length;
        counts.questionsHeldOut += item.questions.filter((q) => q.heldOut).length;
        counts.probes += item.probes.length;
        if (counts.captionsHeldOut !== undefined) counts.captionsHeldOut += item.captions.filter((c) => c.heldOut).length;
        if (counts.searches !== undefined) counts.searches += item.searches?.length ?? 0;
        lines.push(`${JSON.stringify({ index: i, id: `${opts.split}-${i}`, ...item })}\n`);
        if (lines.length >= 512) flushLines();
        opts.onProgress?.(i + 1, opts.count);
      });
      flushLines();
    } finally {
      fs.closeSync(imageFd);
      fs.closeSync(sceneFd);
    }
    manifest = {
      format: DATASET_FORMAT,
      version: DATASET_VERSION,
      ...(language === 2 ? { language } : {}),
      ...(opts.more && Object.keys(opts.more).length > 0 ? { more: opts.more } : {}),
      split: opts.split,
      count: opts.count,
      seed: opts.seed,
      size: opts.size,
      jpegProbability,
      images: { file: 'images.u8', dtype: 'uint8', shape: [opts.count, opts.size, opts.size, 3], bytes: imageBytes, sha256: imageHash.digest('hex') },
      scenes: { file: 'scenes.jsonl', records: opts.count, bytes: sceneBytes, sha256: sceneHash.digest('hex') },
      counts,
      vocabulary: { shapes: [...SHAPES], colours: [...COLOURS], sizes: [...SIZES], scenes: [...SCENE_TYPES] },
    };
    fs.writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  });
  return manifest as unknown as DatasetManifest;
}
