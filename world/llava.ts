// LLaVA-665k style conversations (the format of `llava_v1_5_mix665k.json`): one JSON
// list of {id, image, conversations: [{from: "human", value: "<image>\n…"}, {from: "gpt", …}, …]}
// with `image` relative to an image folder. Here every answer is the world's truth.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LanguageVersion, Split, WorldItem } from './generate.ts';
import { orderedPool, writeFolderAtomically, type WriterOptions } from './output.ts';
import { photoAt } from './photo.ts';
import { Rng } from './rng.ts';

export const LLAVA_JSON = 'llava_shapes.json';
/** Pass DIR/images as the image folder: `image` paths are relative to it, as "coco/train2017/…" are in LLaVA's data. */
export const LLAVA_IMAGES = 'images';
export const LLAVA_SUBFOLDER = 'shapes';
/** The truth beside the data: one JSON line per record (id, image, width, height, graph, captions, questions). */
export const LLAVA_SCENES = 'scenes.jsonl';

/** LLaVA-1.5's suffix for short-answer VQA data (VQAv2, GQA); half the records use it. */
export const SHORT_ANSWER = 'Answer the question using a single word or phrase.';
export const CAPTION_REQUESTS = ['Describe the image.', 'Describe the image briefly.', 'Write a short caption for this photo.', 'What does this photo show?'] as const;

export interface LlavaTurn { from: 'human' | 'gpt'; value: string }
export interface LlavaRecord { id: string; image: string; conversations: LlavaTurn[] }

/** `size` is the long side: photos are landscape 4:3, portrait 3:4 or square, like COCO's. */
export interface LlavaOptions extends WriterOptions { split: Split; language?: LanguageVersion }

export interface LlavaSummary { count: number; turns: number; json: string; images: string }

export const recordId = (split: Split, index: number) => `${split}-${String(index).padStart(9, '0')}`;

/** Width and height of item `index`: half landscape, a quarter portrait, a quarter square. */
export function frameOf(seed: number, split: Split, index: number, size: number): { width: number; height: number } {
  const short = Math.round((size * 3) / 4);
  const shape = new Rng(seed, split, index, 'frame').pick(['landscape', 'landscape', 'portrait', 'square'] as const);
  return shape === 'landscape' ? { width: size, height: short } : shape === 'portrait' ? { width: short, height: size } : { width: size, height: size };
}

/** One caption request and every question, in a shuffled order; "<image>\n" opens the first human turn. */
export function conversationFor(item: WorldItem, rng: Rng): LlavaTurn[] {
  const short = rng.chance(0.5);
  const pairs: Array<[string, string]> = [
    [rng.pick(CAPTION_REQUESTS), (item.captions[0] as { text: string }).text],
    ...item.questions.map((q): [string, string] => [short ? `${q.question}\n${SHORT_ANSWER}` : q.question, q.answer]),
  ];
  return rng.shuffle(pairs).flatMap(([ask, answer], i): LlavaTurn[] => [
    { from: 'human', value: i === 0 ? `<image>\n${ask}` : ask },
    { from: 'gpt', value: answer },
  ]);
}

const IN_FLIGHT = Math.max(4, os.availableParallelism() * 2);

export async function writeLlava(opts: LlavaOptions): Promise<LlavaSummary> {
  let turns = 0;
  await writeFolderAtomically(opts.out, opts.force ?? false, async (dir) => {
    const imageDir = path.join(dir, LLAVA_IMAGES, LLAVA_SUBFOLDER);
    fs.mkdirSync(imageDir, { recursive: true });
    const json = fs.openSync(path.join(dir, LLAVA_JSON), 'w');
    const scenes = fs.openSync(path.join(dir, LLAVA_SCENES), 'w');
    try {
      fs.writeSync(json, '[');
      await orderedPool(opts.count, IN_FLIGHT, (i) => {
        const { width, height } = frameOf(opts.seed, opts.split, i, opts.size);
        return photoAt(opts.seed, opts.split, i, width, height, opts.language);
      }, (i, photo) => {
        const id = recordId(opts.split, i);
        const image = `${LLAVA_SUBFOLDER}/${id}.jpg`;
        fs.writeFileSync(path.join(imageDir, `${id}.jpg`), photo.jpeg);
        const record: LlavaRecord = { id, image, conversations: conversationFor(photo, new Rng(opts.seed, opts.split, i, 'llava')) };
        turns += record.conversations.length;
        fs.writeSync(json, `${i === 0 ? '' : ','}\n${JSON.stringify(record)}`);
        const truth = { id, image, width: photo.width, height: photo.height, graph: photo.graph, captions: photo.captions, questions: photo.questions };
        fs.writeSync(scenes, `${JSON.stringify(truth)}\n`);
        opts.onProgress?.(i + 1, opts.count);
      });
      fs.writeSync(json, '\n]\n');
    } finally {
      fs.closeSync(json);
      fs.closeSync(scenes);
    }
  });
  return { count: opts.count, turns, json: path.join(opts.out, LLAVA_JSON), images: path.join(opts.out, LLAVA_IMAGES) };
}
