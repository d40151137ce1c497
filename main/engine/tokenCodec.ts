// The stored form of a photo's K compressed tokens (each d wide), one of two encodings:
//   float16: 2 bytes a value, exactly 2*K*d bytes (every cache written before int8 existed);
//   int8:    per token a little-endian float32 scale then d signed bytes, K*(d + 4) bytes,
//            value = byte * scale with scale = max|x| / 127 over that token.
// Token-major layouts in both, so the first `budget` tokens are a prefix of the blob.
// The catalog files each blob with its encoding; nothing is guessed from a blob's length.
import { decodeFloat16, encodeFloat16 } from './float16.ts';

export const TOKEN_ENCODINGS = ['float16', 'int8'] as const;
export type TokenEncoding = (typeof TOKEN_ENCODINGS)[number];
/** What a pack that does not say gets: int8 held quality on the shapes pack at every budget (bench/results/int8-tokens.json). */
export const DEFAULT_TOKEN_ENCODING: TokenEncoding = 'int8';

export class TokenEncodingError extends Error {
  override name = 'TokenEncodingError';
}

/** Bytes one photo's `tokens` tokens of width `d` take in `encoding`. */
export function tokenBytes(encoding: TokenEncoding, tokens: number, d: number): number {
  return encoding === 'float16' ? 2 * tokens * d : tokens * (d + 4);
}

/** float32 tokens [n, d] -> the stored bytes. */
export function encodeTokens(values: Float32Array, d: number, encoding: TokenEncoding): Uint8Array {
  if (values.length % d !== 0) throw new TokenEncodingError(`${values.length} values are not whole tokens of width ${d}`);
  if (encoding === 'float16') return encodeFloat16(values);
  const n = values.length / d;
  const out = new Uint8Array(n * (d + 4));
  const view = new DataView(out.buffer);
  for (let t = 0; t < n; t++) {
    const base = t * (d + 4);
    const { scale } = quantizeRow(values.subarray(t * d, (t + 1) * d), new Int8Array(out.buffer, base + 4, d));
    view.setFloat32(base, scale, true);
  }
  return out;
}

/** The first `count` tokens of a stored blob of `total` tokens -> float32 [count, d]. */
export function decodeTokens(bytes: Uint8Array, encoding: TokenEncoding, total: number, d: number, count = total): Float32Array {
  const expected = tokenBytes(encoding, total, d);
  if (bytes.length !== expected) {
    throw new TokenEncodingError(`cached tokens are ${bytes.length} bytes; ${total} ${encoding} tokens of width ${d} take ${expected}`);
  }
  if (!Number.isInteger(count) || count < 0 || count > total) throw new TokenEncodingError(`cannot take ${count} of ${total} tokens`);
  if (encoding === 'float16') return decodeFloat16(bytes.subarray(0, 2 * count * d));
  const out = new Float32Array(count * d);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let t = 0; t < count; t++) {
    const base = t * (d + 4);
    const scale = view.getFloat32(base, true);
    for (let j = 0; j < d; j++) out[t * d + j] = (q[base + 4 + j] as number) * scale;
  }
  return out;
}

/** A vector as int8 with one scale: value ≈ values[i] * scale, scale = max|x| / 127 (a zero vector: scale 0). */
export function quantizeRow(v: Float32Array, into?: Int8Array): { values: Int8Array; scale: number } {
  let max = 0;
  for (const x of v) max = Math.max(max, Math.abs(x));
  const scale = Math.fround(max / 127);
  const values = into ?? new Int8Array(v.length);
  const inv = scale > 0 ? 1 / scale : 0;
  for (let i = 0; i < v.length; i++) values[i] = Math.max(-127, Math.min(127, Math.round((v[i] as number) * inv)));
  return { values, scale };
}

export function isTokenEncoding(value: unknown): value is TokenEncoding {
  return (TOKEN_ENCODINGS as readonly unknown[]).includes(value);
}
