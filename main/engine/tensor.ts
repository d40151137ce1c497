// Photos -> the vision model's input: decoded by media.ts, resized to size x size
// as the pack says, then pixel/255, (x - mean) / std, CHW float32.
import os from 'node:os';
import { asImageError, type ImageError } from './diagnose.ts';
import { decodeToRgb, pixelLimit, type DecodeOptions } from './media.ts';

export interface ImageSpec {
  size: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** 'pad-to-square' (pack format 2, LLaVA-1.5): the photo inside the square, the rest `padColour`. */
  resize: 'fill' | 'cover' | 'contain' | 'pad-to-square';
  padColour?: readonly [number, number, number];
  /** The resampling kernel (pack format 2); sharp's default (lanczos3) when absent. */
  resample?: 'bicubic' | 'bilinear';
  /** Factor from 0..255 to the normalised range's input; 1/255 when absent. */
  rescale?: number;
}

export interface PrepareOptions extends DecodeOptions {
  /** prepareImages only: how many images are decoded at once. Default min(4, cores). */
  concurrency?: number;
}

export type PreparedImage = { ok: true; pixels: Float32Array } | { ok: false; error: ImageError };

/** One image -> Float32Array(3 * size * size), CHW, normalised. */
export async function prepareImage(input: string | Buffer, spec: ImageSpec, options: PrepareOptions = {}): Promise<Float32Array> {
  const luts = normaliser(spec);
  const { size } = spec;
  const padded = spec.resize === 'contain' || spec.resize === 'pad-to-square';
  const fit = padded ? 'inside' : spec.resize as 'fill' | 'cover';
  const kernel = spec.resample === undefined ? {} : { kernel: spec.resample === 'bicubic' ? 'cubic' as const : 'linear' as const };
  const { data, width, height } = await decodeToRgb(input, options, (img) => img.resize(size, size, { fit, position: 'centre', ...kernel }));
  if (width > size || height > size || (!padded && (width !== size || height !== size))) {
    throw new Error(`internal: resized to ${width}x${height}, expected ${size}x${size}`);
  }
  // 'contain' letterboxes with the mean colour, which normalises to exactly 0; 'pad-to-square'
  // with the pack's pad colour (LLaVA's int(255 * mean)), normalised like any pixel.
  const pad = spec.padColour ? luts.map((lut, c) => lut[spec.padColour![c]!]!) : null;
  return toTensor(data, width, height, size, (size - width) >> 1, (size - height) >> 1, luts, pad);
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


/**
 * Per channel, byte -> normalised value, with the same float32 steps as the training
 * code (torch: u8 / 255.0, then (x - mean) / std, all float32), so values match bit for bit.
 */
function normaliser(spec: ImageSpec): [Float32Array, Float32Array, Float32Array] {
  if (!Number.isInteger(spec.size) || spec.size < 1 || spec.size > 8192) throw new RangeError(`image size must be an integer in 1..8192, got ${spec.size}`);
  if (!['fill', 'cover', 'contain', 'pad-to-square'].includes(spec.resize)) throw new RangeError(`resize must be fill, cover, contain or pad-to-square, got ${String(spec.resize)}`);
  if (spec.resize === 'pad-to-square' && !spec.padColour?.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) throw new RangeError('pad-to-square needs padColour: three integers 0..255');
  const rescale = spec.rescale ?? 1 / 255;
  if (!(rescale > 0) || !Number.isFinite(rescale)) throw new RangeError(`rescale must be a positive number, got ${spec.rescale}`);
  const lut = (c: 0 | 1 | 2): Float32Array => {
    const mean = spec.mean[c];
    const std = spec.std[c];
    if (!Number.isFinite(mean) || !Number.isFinite(std) || std === 0) throw new RangeError(`image mean/std must be finite with std != 0 (channel ${c}: mean ${mean}, std ${std})`);
    const m = Math.fround(mean);
    const s = Math.fround(std);
    const out = new Float32Array(256);
    for (let v = 0; v < 256; v++) out[v] = Math.fround(Math.fround(spec.rescale === undefined ? v / 255 : v * rescale) - m) / s;
    return out;
  };
  return [lut(0), lut(1), lut(2)];
}

function toTensor(rgb: Buffer, width: number, height: number, size: number, left: number, top: number, [r, g, b]: Float32Array[],
  pad: number[] | null): Float32Array {
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  if (pad) pad.forEach((v, c) => out.fill(v, c * plane, (c + 1) * plane));
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
