// Decoding photos, for the engine (tensors), thumbnails and file serving alike, so
// every format that indexes also shows: oriented, sRGB, alpha flattened onto
// white. sharp (libvips) decodes everything it can; HEIC (HEVC inside HEIF), which
// the prebuilt libvips cannot decode, goes through libheif-js (libheif + libde265
// compiled to WebAssembly, shipped inside the npm package).
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import sharp, { type Sharp } from 'sharp';
import { classify, corrupt, endsEarly, errorMessage, harmless, ImageError, ioError, sniff, tooLarge, truncated, type Limit, type Source } from './diagnose.ts';

// libvips' operation cache would keep decoded files keyed by path (and so could
// serve a photo edited in place from memory); each photo is decoded once anyway.
sharp.cache(false);

export const DEFAULT_MAX_PIXELS = 100_000_000;
const WHITE = { r: 255, g: 255, b: 255 };
const HEAD_BYTES = 4096;
/** Files larger than this are not read whole just to explain why they failed. */
const MAX_READ_FOR_DIAGNOSIS = 512 * 1024 * 1024;

export interface DecodeOptions {
  /** Largest input (width x height, before any resizing) that is decoded; larger fails with 'too-large'. Default 100,000,000. */
  maxPixels?: number;
}

export interface RgbImage { data: Buffer; width: number; height: number }

/** A step applied to the decoded image before its pixels are read (a resize). */
export type Stage = (img: Sharp) => Sharp;

/** The whole image, oriented, alpha flattened onto white, sRGB: RGB bytes, row-major. */
export async function decodeToRgb(input: string | Buffer, options: DecodeOptions = {}, stage: Stage = (img) => img): Promise<RgbImage> {
  return decode(input, pixelLimit(options), stage);
}

export function pixelLimit(options: DecodeOptions): Limit {
  const max = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (max === Infinity) return false;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxPixels must be a positive integer (or Infinity), got ${max}`);
  return max;
}


/** A thumbnail (WebP) no larger than size x size, made through the same decoders as the engine's input. */
export async function thumbnailWebp(input: string | Buffer, size: number, options: DecodeOptions = {}): Promise<Buffer> {
  const img = await decodeToRgb(input, options, (s) => s.resize(size, size, { fit: 'inside', withoutEnlargement: true }));
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).webp({ quality: 80 }).toBuffer();
}

/** The MIME type browsers know a file by, from its first bytes; null when no browser shows it as is. */
export async function browserImageType(file: string): Promise<string | null> {
  const src = await open(file);
  const kind = sniff(src.head);
  if (kind.type !== 'image') return null;
  const types: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp' };
  if (kind.format === 'heif' && kind.label === 'AVIF') return 'image/avif';
  return types[kind.format] ?? null;
}

/** A full-size JPEG of any photo the decoders read (HEIC, TIFF, ... for browsers that cannot show them). */
export async function toJpeg(input: string | Buffer, options: DecodeOptions = {}): Promise<Buffer> {
  const img = await decodeToRgb(input, options);
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

async function decode(input: string | Buffer, limit: Limit, stage: Stage): Promise<{ data: Buffer; width: number; height: number }> {
  const src = await open(input);
  const kind = sniff(src.head);
  if (kind.type === 'image' && kind.hevc) return decodeHeic(src, limit, stage);
  const run = (failOn: 'warning' | 'truncated') =>
    rgb(stage(sharp(src.input, { failOn, limitInputPixels: limit, autoOrient: true }).flatten({ background: WHITE }).toColourspace('srgb')));
  try {
    // Strict first: libvips fails on any decoder warning, which is how damaged
    // entropy-coded data shows (otherwise it decodes to grey blocks).
    return await run('warning');
  } catch (strict) {
    const message = errorMessage(strict);
    // A HEIF whose brands did not say HEVC, but whose data is.
    if (/HEVC|libde265/i.test(message) && kind.type === 'image' && kind.format === 'heif') return decodeHeic(src, limit, stage);
    if (!harmless(message)) throw await classify(strict, src, kind, limit);
    // Only warnings known not to mean damaged pixels (an unknown JFIF version, an
    // odd ICC or text chunk): decode leniently, still refusing truncated data.
    try {
      return await run('truncated');
    } catch (lenient) {
      throw await classify(lenient, src, kind, limit);
    }
  }
}

async function rgb(img: Sharp): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`internal: decoded to ${info.channels} channels, expected RGB`);
  return { data, width: info.width, height: info.height };
}

async function open(input: string | Buffer): Promise<Source> {
  if (typeof input !== 'string') {
    const bytes: Uint8Array = input;
    if (!(bytes instanceof Uint8Array)) throw new TypeError('image input must be a file path or a Buffer');
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const src: Source = { input: buf, source: '<buffer>', name: 'the image buffer', size: buf.length, head: buf.subarray(0, HEAD_BYTES), whole: async () => buf };
    if (buf.length === 0) throw new ImageError('empty', src.source, `${src.name} is empty (0 bytes)`);
    return src;
  }
  const name = input;
  let stat;
  try {
    // stat before open: opening a FIFO or device would block or read forever.
    stat = await fs.stat(input);
  } catch (e) {
    throw ioError(e, input);
  }
  if (stat.isDirectory()) throw new ImageError('unreadable', input, `${name} is a folder, not an image file`);
  if (!stat.isFile()) throw new ImageError('unreadable', input, `${name} is not a regular file`);
  if (stat.size === 0) throw new ImageError('empty', input, `${name} is empty (0 bytes)`);
  let head: Buffer;
  try {
    const fh = await fs.open(input, 'r');
    try {
      head = Buffer.alloc(Math.min(stat.size, HEAD_BYTES));
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw ioError(e, input);
  }
  if (head.length === 0) throw new ImageError('empty', input, `${name} is empty (0 bytes)`);
  let whole: Promise<Buffer | null> | undefined;
  return {
    input, source: input, name, size: stat.size, head,
    whole: () => (whole ??= stat.size > MAX_READ_FOR_DIAGNOSIS ? Promise.resolve(null) : fs.readFile(input).catch(() => null)),
  };
}

// ---------------------------------------------------------------------------
// HEIC

interface HeifHandle {
  get_width(): number;
  get_height(): number;
  is_primary(): boolean;
  display(target: { data: Uint8ClampedArray; width: number; height: number }, done: (result: unknown) => void): void;
  free(): void;
}
interface LibHeif {
  ready?: PromiseLike<unknown>;
  HeifDecoder: new () => { decode(data: Uint8Array): HeifHandle[]; decoder: { delete(): void } | null };
}

let libheif: Promise<LibHeif> | undefined;

function loadLibheif(): Promise<LibHeif> {
  // Loaded on first HEIC only: 2 MB of JavaScript with the WebAssembly inlined.
  libheif ??= (async () => {
    const lib = createRequire(import.meta.url)('libheif-js/wasm-bundle') as LibHeif;
    await lib.ready;
    return lib;
  })();
  return libheif;
}

async function decodeHeic(src: Source, limit: Limit, stage: Stage): Promise<{ data: Buffer; width: number; height: number }> {
  const buf = await src.whole();
  if (!buf) throw new ImageError('too-large', src.source, `${src.name} is too large to decode (${src.size} bytes of HEIC)`);
  if (endsEarly(buf, 'heif')) throw truncated(src, 'HEIC');
  let lib: LibHeif;
  try {
    lib = await loadLibheif();
  } catch (e) {
    libheif = undefined;
    throw new ImageError('unsupported', src.source, `${src.name} is a HEIC image, and decoding HEIC needs the libheif-js package, which failed to load (${errorMessage(e)})`, { cause: e });
  }
  const decoder = new lib.HeifDecoder();
  let handles: HeifHandle[] = [];
  try {
    try {
      handles = decoder.decode(buf);
    } catch (e) {
      throw corrupt(src, 'HEIC', errorMessage(e), e);
    }
    const primary = handles.find((h) => h.is_primary()) ?? handles[0];
    if (!primary) throw corrupt(src, 'HEIC', 'libheif found no image in it');
    const width = primary.get_width();
    const height = primary.get_height();
    if (limit !== false && width * height > limit) throw tooLarge(src, limit, width, height);
    const rgba = new Uint8ClampedArray(width * height * 4);
    const ok = await new Promise<boolean>((resolve) => primary.display({ data: rgba, width, height }, (r) => resolve(r != null)));
    if (!ok) throw corrupt(src, 'HEIC', 'libheif could not decode its HEVC data');
    // libheif has already applied the HEIF rotation/mirror boxes, so no autoOrient.
    const pixels = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
    return await rgb(stage(sharp(pixels, { raw: { width, height, channels: 4 } }).flatten({ background: WHITE }).toColourspace('srgb')));
  } finally {
    for (const h of handles) h.free();
    decoder.decoder?.delete();
  }
}
