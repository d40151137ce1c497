// Photos -> the vision model's input: oriented, sRGB, alpha flattened onto white,
// resized to size x size as the pack says, then pixel/255, (x - mean) / std, CHW
// float32. sharp (libvips) decodes everything it can; HEIC (HEVC inside HEIF),
// which the prebuilt libvips cannot decode, goes through libheif-js (libheif +
// libde265 compiled to WebAssembly, shipped inside the npm package).
//
// Every way a file can fail is an ImageError with a code the UI can act on and
// a message that names the file and says why in plain words.
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import sharp, { type Sharp } from 'sharp';

// libvips' operation cache would keep decoded files keyed by path (and so could
// serve a photo edited in place from memory); each photo is prepared once anyway.
sharp.cache(false);

export interface ImageSpec {
  size: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  resize: 'fill' | 'cover' | 'contain';
}

export type ImageErrorCode = 'empty' | 'not-found' | 'not-an-image' | 'unsupported' | 'truncated' | 'corrupt' | 'too-large' | 'unreadable';

export class ImageError extends Error {
  override name = 'ImageError';
  readonly code: ImageErrorCode;
  /** The file path as given, or '<buffer>'. */
  readonly source: string;

  constructor(code: ImageErrorCode, source: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.source = source;
  }
}

export interface PrepareOptions {
  /** Largest input (width x height, before any resizing) that is decoded; larger fails with 'too-large'. Default 100,000,000. */
  maxPixels?: number;
  /** prepareImages only: how many images are decoded at once. Default min(4, cores). */
  concurrency?: number;
}

export type PreparedImage = { ok: true; pixels: Float32Array } | { ok: false; error: ImageError };

export const DEFAULT_MAX_PIXELS = 100_000_000;
const WHITE = { r: 255, g: 255, b: 255 };
const HEAD_BYTES = 4096;
/** Files larger than this are not read whole just to explain why they failed. */
const MAX_READ_FOR_DIAGNOSIS = 512 * 1024 * 1024;

/** One image -> Float32Array(3 * size * size), CHW, normalised. */
export async function prepareImage(input: string | Buffer, spec: ImageSpec, options: PrepareOptions = {}): Promise<Float32Array> {
  const luts = normaliser(spec);
  const limit = pixelLimit(options);
  const { size } = spec;
  const fit = spec.resize === 'contain' ? 'inside' : spec.resize;
  const { data, width, height } = await decode(input, limit, (img) => img.resize(size, size, { fit, position: 'centre' }));
  if (width > size || height > size || (spec.resize !== 'contain' && (width !== size || height !== size))) {
    throw new Error(`internal: resized to ${width}x${height}, expected ${size}x${size}`);
  }
  // 'contain' letterboxes: the padding is the mean colour, which normalises to exactly 0.
  return toTensor(data, width, height, size, (size - width) >> 1, (size - height) >> 1, luts);
}

/** Many images; one bad image fails alone, order is preserved. Invalid spec or options still throw. */
export async function prepareImages(inputs: ReadonlyArray<string | Buffer>, spec: ImageSpec, options: PrepareOptions = {}): Promise<PreparedImage[]> {
  normaliser(spec);
  pixelLimit(options);
  const concurrency = options.concurrency ?? Math.max(1, Math.min(4, os.availableParallelism()));
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const results: PreparedImage[] = new Array(inputs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const i = next++;
      const input = inputs[i]!;
      try {
        results[i] = { ok: true, pixels: await prepareImage(input, spec, options) };
      } catch (e) {
        results[i] = { ok: false, error: asImageError(e, input) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, worker));
  return results;
}

/** The whole image, oriented, alpha flattened onto white, sRGB: RGB bytes, row-major. */
export async function decodeToRgb(input: string | Buffer, options: PrepareOptions = {}): Promise<{ data: Buffer; width: number; height: number }> {
  return decode(input, pixelLimit(options), (img) => img);
}

// ---------------------------------------------------------------------------
// Decoding

type Limit = number | false;
type Stage = (img: Sharp) => Sharp;

interface Source {
  /** What sharp is handed: the path (libvips reads it itself) or the bytes. */
  input: string | Buffer;
  source: string;
  /** How messages name it. */
  name: string;
  size: number;
  head: Buffer;
  whole: () => Promise<Buffer | null>;
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

function ioError(e: unknown, file: string): ImageError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new ImageError('not-found', file, `${file} was not found (no such file)`, { cause: e });
  if (code === 'EACCES' || code === 'EPERM') return new ImageError('unreadable', file, `${file} cannot be read (permission denied)`, { cause: e });
  if (code === 'EISDIR') return new ImageError('unreadable', file, `${file} is a folder, not an image file`, { cause: e });
  return new ImageError('unreadable', file, `${file} cannot be read (${code ?? errorMessage(e)})`, { cause: e });
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

// ---------------------------------------------------------------------------
// Telling what a file is, and why it failed

type Kind =
  | { type: 'image'; format: string; label: string; hevc: boolean }
  | { type: 'other'; what: string }
  | { type: 'unknown' };

const HEVC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis', 'avio']);
const HEIF_BRANDS = new Set(['mif1', 'msf1', 'mif2', 'miaf']);

const image = (format: string, label: string, hevc = false): Kind => ({ type: 'image', format, label, hevc });

function sniff(b: Buffer): Kind {
  const ascii = (start: number, end: number) => b.toString('latin1', start, end);
  const starts = (...bytes: number[]) => bytes.every((x, i) => b[i] === x);
  if (starts(0xff, 0xd8, 0xff)) return image('jpeg', 'JPEG');
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return image('png', 'PNG');
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return image('gif', 'GIF');
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return image('webp', 'WebP');
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'AVI ') return { type: 'other', what: 'a video (AVI)' };
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return image('tiff', 'TIFF'); // also most camera raw (CR2, NEF, ARW, DNG)
  if (['IIRO', 'IIRS', 'IIU\0'].includes(ascii(0, 4)) || ascii(0, 8) === 'FUJIFILM') return image('raw', 'camera raw');
  if (ascii(4, 8) === 'ftyp') {
    const brands = ftypBrands(b);
    if (brands.some((x) => HEVC_BRANDS.has(x))) return image('heif', 'HEIC', true);
    if (brands.some((x) => AVIF_BRANDS.has(x))) return image('heif', 'AVIF');
    if (brands.some((x) => HEIF_BRANDS.has(x))) return image('heif', 'HEIF');
    if (brands.includes('crx ')) return image('raw', 'Canon CR3 camera raw');
    return { type: 'other', what: 'a video or other MP4/QuickTime media' };
  }
  if (starts(0xff, 0x0a) || (starts(0, 0, 0, 0x0c) && ascii(4, 8) === 'JXL ')) return image('jxl', 'JPEG XL');
  if ((starts(0, 0, 0, 0x0c) && ascii(4, 8) === 'jP  ') || starts(0xff, 0x4f, 0xff, 0x51)) return image('jp2', 'JPEG 2000');
  if (ascii(0, 4) === '8BPS') return image('psd', 'Photoshop (PSD)');
  if (ascii(0, 2) === 'BM' && b.length >= 18 && [12, 40, 52, 56, 64, 108, 124].includes(b.readUInt32LE(14))) return image('bmp', 'BMP');
  if (starts(0x76, 0x2f, 0x31, 0x01)) return image('exr', 'OpenEXR');
  if (starts(0, 0, 1, 0) && b.length >= 6 && b.readUInt16LE(4) > 0) return image('ico', 'Windows icon');
  if (ascii(0, 5) === '%PDF-') return { type: 'other', what: 'a PDF document' };
  if (starts(0x1a, 0x45, 0xdf, 0xa3)) return { type: 'other', what: 'a video (Matroska/WebM)' };
  if (looksLikeText(b)) {
    if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/i.test(b.toString('utf8'))) return image('svg', 'SVG');
    return { type: 'other', what: 'text' };
  }
  return { type: 'unknown' };
}

function ftypBrands(b: Buffer): string[] {
  if (b.length < 16) return [];
  const end = Math.min(b.length, b.readUInt32BE(0));
  const brands = [b.toString('latin1', 8, 12)];
  for (let i = 16; i + 4 <= end; i += 4) brands.push(b.toString('latin1', i, i + 4));
  return brands;
}

function looksLikeText(b: Buffer): boolean {
  for (const x of b) if (x < 0x09 || (x > 0x0d && x < 0x20 && x !== 0x1b) || x === 0x7f) return false;
  // The head may end inside a multi-byte character.
  for (let cut = 0; cut < 4 && cut < b.length; cut++) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, b.length - cut));
      return true;
    } catch {
      // try a shorter prefix
    }
  }
  return false;
}

/**
 * Decoder warnings that say nothing about the pixels. Anything else fails: libvips'
 * lenient modes turn damaged data into grey or black blocks rather than errors.
 */
const HARMLESS = /unknown JFIF revision|unknown Adobe colou?r transform|invalid SOS parameters for sequential JPEG|extraneous bytes before marker 0xd9|inconsistent progression sequence|bad ICC marker|thumbnail image size does not match|JFIF extension marker|^(iCCP|sRGB|sBIT|gAMA|cHRM|pHYs|tIME|tEXt|zTXt|iTXt|eXIf|bKGD|hIST|sPLT):|known incorrect sRGB profile|profile mismatch|unknown chunk/i;

/** libvips' message as lines without the loader prefixes ("VipsJpeg: ", "Input file has corrupt header: "). */
function decoderLines(message: string): string[] {
  return message.split('\n')
    .map((l) => l.replace(/^Input (file|buffer) has corrupt header:\s*/i, '').replace(/^(VipsJpeg|vipspng|\w+load\w*|\w+2vips|heif|webp):\s*/i, '').trim())
    .filter(Boolean);
}

function harmless(message: string): boolean {
  const lines = decoderLines(message);
  return lines.length > 0 && lines.every((l) => HARMLESS.test(l));
}

/** Decoder messages that mean the compressed pixel data itself is damaged. */
const DAMAGED_DATA = /corrupt jpeg data: (premature end of data segment|bad huffman code|bad arithmetic code|found marker)|huffman table|invalid (huffman|code)|crc error|incorrect (data|header) check|invalid (distance|stored block|block type)|bad (adaptive )?filter/i;
const TRUNCATION = /premature end|truncat|unexpected end|end of (file|input|stream)|\beof\b|not enough (data|image data)|out of data|short read/i;

async function classify(e: unknown, src: Source, kind: Kind, limit: Limit): Promise<ImageError> {
  if (e instanceof ImageError) return e;
  const message = errorMessage(e);
  if (/exceeds pixel limit/i.test(message)) {
    const dims = await sharp(src.input, { limitInputPixels: false }).metadata().then((m) => [m.width, m.height] as const, () => null);
    return tooLarge(src, limit === false ? 0 : limit, dims?.[0], dims?.[1], e);
  }
  if (/Input file is missing/i.test(message)) return ioError(Object.assign(new Error(message), { code: 'ENOENT' }), src.source);
  if (/unsupported image format/i.test(message)) {
    if (kind.type === 'image') {
      return new ImageError('unsupported', src.source, `${src.name} is a ${kind.label} image, a format this image decoder (sharp/libvips) cannot read`, { cause: e });
    }
    const why = kind.type === 'other' ? `it is ${kind.what}` : 'its contents match no known image format';
    return new ImageError('not-an-image', src.source, `${src.name} is not an image (${why})`, { cause: e });
  }
  const label = kind.type === 'image' ? kind.label : 'image';
  const format = kind.type === 'image' ? kind.format : '';
  const buf = await src.whole();
  if (buf && endsEarly(buf, format)) return truncated(src, label, e);
  if (DAMAGED_DATA.test(message)) return corrupt(src, label, message, e);
  if (TRUNCATION.test(message)) return truncated(src, label, e);
  return corrupt(src, label, message, e);
}

function truncated(src: Source, label: string, cause?: unknown): ImageError {
  return new ImageError('truncated', src.source, `${src.name} is truncated (the file ends before the ${label} data does)`, { cause });
}

function corrupt(src: Source, label: string, detail: string, cause?: unknown): ImageError {
  const reason = decoderLines(detail)[0] ?? '';
  return new ImageError('corrupt', src.source, `${src.name} is corrupt (its ${label} data is damaged${reason ? `: ${reason}` : ''})`, { cause });
}

function tooLarge(src: Source, limit: number, width?: number, height?: number, cause?: unknown): ImageError {
  const n = (x: number) => x.toLocaleString('en-US');
  const dims = width && height ? `${n(width)} x ${n(height)} = ${n(width * height)} pixels` : 'its pixel count';
  return new ImageError('too-large', src.source, `${src.name} is too large to decode safely (${dims}; the limit is ${n(limit)} pixels)`, { cause });
}

/** Whether the container says there is more file than there is (checked only after a failure). */
function endsEarly(b: Buffer, format: string): boolean {
  switch (format) {
    case 'jpeg': {
      // Walk the marker segments to the first scan; the entropy-coded data can only
      // contain FFD9 as the end-of-image marker.
      let i = 2;
      while (i + 4 <= b.length) {
        if (b[i] !== 0xff) return false;
        const marker = b[i + 1]!;
        if (marker === 0xff) { i++; continue; }
        if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { i += 2; continue; }
        if (marker === 0xd9) return false;
        const end = i + 2 + b.readUInt16BE(i + 2);
        if (end > b.length) return true;
        if (marker === 0xda) return b.indexOf(Buffer.from([0xff, 0xd9]), end) === -1;
        i = end;
      }
      return true;
    }
    case 'png': {
      let i = 8;
      for (;;) {
        if (i + 8 > b.length) return true;
        // A damaged length field would look like a short file; a damaged chunk type shows it.
        if (!/^[A-Za-z]{4}$/.test(b.toString('latin1', i + 4, i + 8))) return false;
        const end = i + 12 + b.readUInt32BE(i);
        if (end > b.length) return true;
        if (b.toString('latin1', i + 4, i + 8) === 'IEND') return false;
        i = end;
      }
    }
    case 'heif': {
      let i = 0;
      while (i < b.length) {
        if (i + 8 > b.length) return true;
        if (!/^[\x20-\x7e]{4}$/.test(b.toString('latin1', i + 4, i + 8))) return false;
        let size = b.readUInt32BE(i);
        if (size === 1) {
          if (i + 16 > b.length) return true;
          size = Number(b.readBigUInt64BE(i + 8));
        }
        if (size === 0) return false;
        if (size < 8) return false;
        if (i + size > b.length) return true;
        i += size;
      }
      return false;
    }
    case 'webp':
      return b.length >= 8 && 8 + b.readUInt32LE(4) > b.length;
    case 'gif':
      return b[b.length - 1] !== 0x3b;
    default:
      return false;
  }
}

function asImageError(e: unknown, input: string | Buffer): ImageError {
  if (e instanceof ImageError) return e;
  const source = typeof input === 'string' ? input : '<buffer>';
  const name = typeof input === 'string' ? input : 'the image buffer';
  return new ImageError('unreadable', source, `${name} could not be prepared (${errorMessage(e)})`, { cause: e });
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------
// Normalisation

function pixelLimit(options: PrepareOptions): Limit {
  const max = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (max === Infinity) return false;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxPixels must be a positive integer (or Infinity), got ${max}`);
  return max;
}

/**
 * Per channel, byte -> normalised value, with the same float32 steps as the training
 * code (torch: u8 / 255.0, then (x - mean) / std, all float32), so values match bit for bit.
 */
function normaliser(spec: ImageSpec): [Float32Array, Float32Array, Float32Array] {
  if (!Number.isInteger(spec.size) || spec.size < 1 || spec.size > 8192) throw new RangeError(`image size must be an integer in 1..8192, got ${spec.size}`);
  if (!['fill', 'cover', 'contain'].includes(spec.resize)) throw new RangeError(`resize must be fill, cover or contain, got ${String(spec.resize)}`);
  const lut = (c: 0 | 1 | 2): Float32Array => {
    const mean = spec.mean[c];
    const std = spec.std[c];
    if (!Number.isFinite(mean) || !Number.isFinite(std) || std === 0) throw new RangeError(`image mean/std must be finite with std != 0 (channel ${c}: mean ${mean}, std ${std})`);
    const m = Math.fround(mean);
    const s = Math.fround(std);
    const out = new Float32Array(256);
    for (let v = 0; v < 256; v++) out[v] = Math.fround(Math.fround(v / 255) - m) / s;
    return out;
  };
  return [lut(0), lut(1), lut(2)];
}

function toTensor(rgb: Buffer, width: number, height: number, size: number, left: number, top: number, [r, g, b]: Float32Array[]): Float32Array {
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let y = 0; y < height; y++) {
    let i = y * width * 3;
    let o = (y + top) * size + left;
    for (let x = 0; x < width; x++, i += 3, o++) {
      out[o] = r![rgb[i]!]!;
      out[plane + o] = g![rgb[i + 1]!]!;
      out[2 * plane + o] = b![rgb[i + 2]!]!;
    }
  }
  return out;
}
