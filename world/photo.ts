// One world item as a JPEG file of any size, for the writers of real training-data
// formats (LLaVA conversations, webdataset shards). Scenes, pixels and language come
// from the same (seed, split, index) streams as the packed data set, so record i of
// `llava --split train --seed S` shows the scene of `dataset --split train --seed S`.
import sharp from 'sharp';
import { languageFor, pixelsFor, sceneAt, SPLIT_LANGUAGE, type LanguageVersion, type Split, type WorldItem } from './generate.ts';
import { encodeJpeg } from './render.ts';
import { Rng } from './rng.ts';

export interface PhotoItem extends WorldItem {
  jpeg: Buffer;
  width: number;
  height: number;
}

/**
 * Renders item `index` at `width` x `height`. A non-square photo is the square scene
 * stretched, so every object keeps its row, column and cell (the truth stays exact).
 * JPEG quality 80-95 from the item's own stream; no extra JPEG round trip before it.
 */
export async function photoAt(seed: number, split: Split, index: number, width: number, height: number, language: LanguageVersion = 1): Promise<PhotoItem> {
  const scene = sceneAt(seed, split, index);
  const side = Math.max(width, height);
  const pixels = await pixelsFor(scene, seed, split, index, side, { jpegProbability: 0 });
  const quality = new Rng(seed, split, index, 'jpeg').int(80, 95);
  const image = width === height
    ? encodeJpeg(pixels, side, quality)
    : sharp(pixels, { raw: { width: side, height: side, channels: 3 } }).resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
      .jpeg({ quality, chromaSubsampling: '4:2:0' });
  return { ...languageFor(scene, seed, split, index, SPLIT_LANGUAGE[split], language), jpeg: await image.toBuffer(), width, height };
}
