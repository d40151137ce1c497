// The stored forms of compressed tokens: float16 and int8 with a per-token scale.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeTokens, encodeTokens, tokenBytes, TokenEncodingError } from '../../main/engine/tokenCodec.ts';
import { Rng } from '../../world/rng.ts';

const d = 24;
const k = 5;
function tokens(seed: string): Float32Array {
  const rng = new Rng(seed);
  // Tokens of very different magnitudes: a per-token scale must keep each one's relative error small.
  return Float32Array.from({ length: k * d }, (_, i) => rng.normal() * 10 ** ((Math.floor(i / d) % 4) - 2));
}

test('int8: K*(d+4) bytes; each value within half a step of its token scale; prefixes decode alone', () => {
  const x = tokens('codec');
  const bytes = encodeTokens(x, d, 'int8');
  assert.equal(bytes.length, tokenBytes('int8', k, d));
  assert.equal(bytes.length, k * (d + 4));
  const back = decodeTokens(bytes, 'int8', k, d);
  for (let t = 0; t < k; t++) {
    const row = x.subarray(t * d, (t + 1) * d);
    const step = Math.max(...row.map(Math.abs)) / 127;
    for (let j = 0; j < d; j++) assert.ok(Math.abs((back[t * d + j] as number) - (row[j] as number)) <= step / 2 + 1e-12, `token ${t} value ${j}`);
  }
  assert.deepEqual(decodeTokens(bytes, 'int8', k, d, 2), back.subarray(0, 2 * d));
  assert.equal(decodeTokens(bytes, 'int8', k, d, 0).length, 0);
});

test('float16: 2*K*d bytes, the same bytes as before int8 existed; a zero token stays zero in int8', () => {
  const x = tokens('codec16');
  const bytes = encodeTokens(x, d, 'float16');
  assert.equal(bytes.length, 2 * k * d);
  const back = decodeTokens(bytes, 'float16', k, d, 3);
  for (let i = 0; i < 3 * d; i++) assert.ok(Math.abs((back[i] as number) - (x[i] as number)) <= Math.abs(x[i] as number) * 1e-3 + 1e-7);
  const zero = decodeTokens(encodeTokens(new Float32Array(2 * d), d, 'int8'), 'int8', 2, d);
  assert.ok(zero.every((v) => v === 0));
});

test('a blob of the wrong size or a budget out of range is a clear error', () => {
  const bytes = encodeTokens(tokens('bad'), d, 'int8');
  assert.throws(() => decodeTokens(bytes, 'float16', k, d), (e: Error) => e instanceof TokenEncodingError && /are 140 bytes; 5 float16 tokens of width 24 take 240/.test(e.message));
  assert.throws(() => decodeTokens(bytes.subarray(1), 'int8', k, d), TokenEncodingError);
  assert.throws(() => decodeTokens(bytes, 'int8', k, d, k + 1), /cannot take 6 of 5/);
  assert.throws(() => encodeTokens(new Float32Array(d + 1), d, 'int8'), /not whole tokens/);
});
