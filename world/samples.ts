// The sample photo library: JPEGs in year/event folders with EXIF capture dates,
// and a sidecar with every photo's scene graph for tests and demos.
import fs from 'node:fs';
import path from 'node:path';
import { languageFor, pixelsFor, sceneAt, type LanguageVersion, type WorldItem } from './generate.ts';
import { orderedPool, writeFolderAtomically, type WriterOptions } from './output.ts';
import { encodeJpeg } from './render.ts';
import { Rng } from './rng.ts';
import type { Scene } from './scene.ts';
import type { SceneType } from './vocab.ts';

export const SAMPLES_FORMAT = 'glimpse-world-samples';
export const SIDECAR_NAME = 'glimpse-samples.scenes.json';
export const PHOTOS_DIR = 'photos';
const STREAM = 'samples';

const EVENT_TITLES: Record<SceneType, readonly string[]> = {
  meadow: ['Picnic', 'Park walk', 'Countryside'],
  beach: ['Beach trip', 'Seaside', 'Summer holiday'],
  snow: ['Ski week', 'Winter walk', 'Snow day'],
  night: ['Night out', 'Stargazing', 'Evening'],
  desert: ['Desert road trip', 'Dunes', 'Canyon tour'],
};

export interface SamplePhoto extends WorldItem {
  /** Relative to the photos folder, with forward slashes. */
  path: string;
  /** EXIF DateTimeOriginal, as "YYYY:MM:DD HH:MM:SS" local time. */
  takenAt: string;
}

export interface SamplesSidecar {
  format: typeof SAMPLES_FORMAT;
  version: 1;
  /** Present only for language 2 (see world/README.md); absent means 1. */
  language?: LanguageVersion;
  seed: number;
  count: number;
  size: number;
  photosDir: string;
  photos: SamplePhoto[];
}

interface Slot { path: string; takenAt: string; scene: SceneType }

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Photos come in events (a day out, a trip): same scene type, one folder, minutes apart. */
function planEvents(count: number, seed: number): Slot[] {
  const rng = new Rng(seed, STREAM, 'events');
  const slots: Slot[] = [];
  let n = 0;
  while (slots.length < count) {
    const scene = rng.pick(Object.keys(EVENT_TITLES) as SceneType[]);
    const year = rng.int(2019, 2025);
    const month = rng.int(1, 12);
    const day = rng.int(1, 28);
    const title = rng.pick(EVENT_TITLES[scene]);
    const folder = `${year}/${year}-${pad(month)}-${pad(day)} ${title}`;
    const size = Math.min(rng.int(3, 9), count - slots.length);
    let minutes = rng.int(8 * 60, 17 * 60);
    for (let k = 0; k < size; k++) {
      minutes += rng.int(1, 25);
      const takenAt = `${year}:${pad(month)}:${pad(day)} ${pad(Math.floor(minutes / 60) % 24)}:${pad(minutes % 60)}:${pad(rng.int(0, 59))}`;
      slots.push({ path: `${folder}/IMG_${pad(++n, 4)}.jpg`, takenAt, scene });
    }
  }
  return slots;
}

export interface SamplesOptions extends WriterOptions {
  /** The language of the sidecar's captions and questions (default 1). */
  language?: LanguageVersion;
}

export async function writeSamples(opts: SamplesOptions): Promise<SamplesSidecar> {
  const slots = planEvents(opts.count, opts.seed);
  let sidecar: SamplesSidecar | null = null;
  await writeFolderAtomically(opts.out, opts.force ?? false, async (dir) => {
    const photos: SamplePhoto[] = [];
    await orderedPool(opts.count, 8, async (i) => {
      const slot = slots[i] as Slot;
      const scene: Scene = { ...sceneAt(opts.seed, STREAM, i), scene: slot.scene };
      const pixels = await pixelsFor(scene, opts.seed, STREAM, i, opts.size, { jpegProbability: 0 });
      const quality = new Rng(opts.seed, STREAM, i, 'jpeg').int(78, 92);
      const jpeg = await encodeJpeg(pixels, opts.size, quality)
        .withExif({ IFD0: { Make: 'Glimpse', Model: 'Shapes World', DateTime: slot.takenAt }, IFD2: { DateTimeOriginal: slot.takenAt } })
        .toBuffer();
      return { scene, jpeg };
    }, (i, { scene, jpeg }) => {
      const slot = slots[i] as Slot;
      const file = path.join(dir, PHOTOS_DIR, ...slot.path.split('/'));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, jpeg);
      photos.push({ path: slot.path, takenAt: slot.takenAt, ...languageFor(scene, opts.seed, STREAM, i, { captions: 3, heldOut: false, probes: false }, opts.language ?? 1) });
      opts.onProgress?.(i + 1, opts.count);
    });
    const language = opts.language === 2 ? { language: opts.language } : {};
    sidecar = { format: SAMPLES_FORMAT, version: 1, ...language, seed: opts.seed, count: opts.count, size: opts.size, photosDir: PHOTOS_DIR, photos };
    fs.writeFileSync(path.join(dir, SIDECAR_NAME), `${JSON.stringify(sidecar, null, 1)}\n`);
  });
  return sidecar as unknown as SamplesSidecar;
}

/** A library's "Try sample photos": `count` photos (seed 7, 256 px) written once into `out`; returns the folder of photos. */
export async function makeSampleLibrary(out: string, count: number): Promise<string> {
  if (!fs.existsSync(path.join(out, SIDECAR_NAME))) await writeSamples({ count, seed: 7, size: 256, out, force: true });
  return path.join(out, PHOTOS_DIR);
}
