// Telling what a file is and why it could not be decoded: every way a photo can
// fail becomes an ImageError with a code the UI can act on and a message that
// names the file and says why in plain words. Used by media.ts after a decoder
// has refused a file; nothing here decodes pixels.
import sharp from 'sharp';

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

export type Limit = number | false;

/** A file (or buffer) opened for decoding: its first bytes, and the whole of it on demand. */
export interface Source {
  /** What sharp is handed: the path (libvips reads it itself) or the bytes. */
  input: string | Buffer;
  source: string;
  /** How messages name it. */
  name: string;
  size: number;
  head: Buffer;
  whole: () => Promise<Buffer | null>;
}

export function ioError(e: unknown, file: string): ImageError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new ImageError('not-found', file, `${file} was not found (no such file)`, { cause: e });
  if (code === 'EACCES' || code === 'EPERM') return new ImageError('unreadable', file, `${file} cannot be read (permission denied)`, { cause: e });
  if (code === 'EISDIR') return new ImageError('unreadable', file, `${file} is a folder, not an image file`, { cause: e });
  return new ImageError('unreadable', file, `${file} cannot be read (${code ?? errorMessage(e)})`, { cause: e });
}

export type Kind =
  | { type: 'image'; format: string; label: string; hevc: boolean }
  | { type: 'other'; what: string }
  | { type: 'unknown' };

const HEVC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis', 'avio']);
const HEIF_BRANDS = new Set(['mif1', 'msf1', 'mif2', 'miaf']);

const image = (format: string, label: string, hevc = false): Kind => ({ type: 'image', format, label, hevc });

export function sniff(b: Buffer): Kind {
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

export function harmless(message: string): boolean {
  const lines = decoderLines(message);
  return lines.length > 0 && lines.every((l) => HARMLESS.test(l));
}

/** Decoder messages that mean the compressed pixel data itself is damaged. */
const DAMAGED_DATA = /corrupt jpeg data: (premature end of data segment|bad huffman code|bad arithmetic code|found marker)|huffman table|invalid (huffman|code)|crc error|incorrect (data|header) check|invalid (distance|stored block|block type)|bad (adaptive )?filter/i;
const TRUNCATION = /premature end|truncat|unexpected end|end of (file|input|stream)|\beof\b|not enough (data|image data)|out of data|short read/i;

export async function classify(e: unknown, src: Source, kind: Kind, limit: Limit): Promise<ImageError> {
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

export function truncated(src: Source, label: string, cause?: unknown): ImageError {
  return new ImageError('truncated', src.source, `${src.name} is truncated (the file ends before the ${label} data does)`, { cause });
}

export function corrupt(src: Source, label: string, detail: string, cause?: unknown): ImageError {
  const reason = decoderLines(detail)[0] ?? '';
  return new ImageError('corrupt', src.source, `${src.name} is corrupt (its ${label} data is damaged${reason ? `: ${reason}` : ''})`, { cause });
}

export function tooLarge(src: Source, limit: number, width?: number, height?: number, cause?: unknown): ImageError {
  const n = (x: number) => x.toLocaleString('en-US');
  const dims = width && height ? `${n(width)} x ${n(height)} = ${n(width * height)} pixels` : 'its pixel count';
  return new ImageError('too-large', src.source, `${src.name} is too large to decode safely (${dims}; the limit is ${n(limit)} pixels)`, { cause });
}

/** Whether the container says there is more file than there is (checked only after a failure). */
export function endsEarly(b: Buffer, format: string): boolean {
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

export function asImageError(e: unknown, input: string | Buffer): ImageError {
  if (e instanceof ImageError) return e;
  const source = typeof input === 'string' ? input : '<buffer>';
  const name = typeof input === 'string' ? input : 'the image buffer';
  return new ImageError('unreadable', source, `${name} could not be prepared (${errorMessage(e)})`, { cause: e });
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
