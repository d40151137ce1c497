// The search's WebAssembly SIMD scans (simdScan.ts) against plain JavaScript on random
// bytes, and the same scans split with a helper thread (scanHelper.ts) against one thread.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { SimdScan } from '../../main/library/simdScan.ts';
import { Rng } from '../../world/rng.ts';

function fillRandom(bytes: Uint8Array, seed: string): void {
  const rng = new Rng(seed);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rng.next() * 256);
}

/** Sums the scans' outputs from JavaScript: int8 dot products, and table lookups over transposed sign codes. */
const int8Dot = (m: Int8Array, row: number, query: number, width: number) => {
  let s = 0;
  for (let j = 0; j < width; j++) s += (m[row + j] as number) * (m[query + j] as number);
  return s;
};
function signSum(m: Uint8Array, dataAt: number, tablesAt: number, photo: number, width: number): number {
  const block = dataAt + 16 * width * (photo >> 4);
  let s = 0;
  for (let t = 0; t < width; t++) {
    const byte = m[block + 16 * t + (photo & 15)] as number;
    // Table entries stay below 128, as queryTables makes them.
    s += ((m[tablesAt + 32 * t + (byte & 15)] as number) & 127) + ((m[tablesAt + 32 * t + 16 + (byte >> 4)] as number) & 127);
  }
  return s;
}

/** Lays out [query / tables | rows | list | out] and runs the three scans; returns their outputs. */
function runScans(scan: SimdScan, rows: number, width: number, seed: string): { int8: Int32Array; int8Rows: Int32Array; signs: Int32Array; memory: ArrayBufferLike; list: Int32Array } {
  const tables = 32 * width;
  const dataAt = tables;
  const listAt = dataAt + rows * width;
  const count = Math.floor(rows / 2);
  const outAt = listAt + 4 * count;
  const memory = scan.reserve(outAt + 4 * rows + 64);
  const bytes = new Uint8Array(memory, 0, outAt);
  fillRandom(bytes.subarray(0, listAt), seed);
  for (let t = 0; t < tables; t++) bytes[t] = (bytes[t] as number) & 127;
  const list = new Int32Array(memory, listAt, count);
  for (let i = 0; i < count; i++) list[i] = (i * 7919) % rows;
  const out = new Int32Array(memory, outAt, rows);
  scan.int8(dataAt, 0, outAt, rows, width);
  const int8 = out.slice();
  scan.int8Rows(dataAt, 0, outAt, count, width, listAt);
  const int8Rows = out.slice(0, count);
  scan.signs(dataAt, 0, outAt, rows / 16, width);
  return { int8, int8Rows, signs: out.slice(), memory, list: list.slice() };
}

test('int8, listed-rows and sign-table scans equal JavaScript sums on random bytes', () => {
  const scan = new SimdScan();
  const rows = 64;
  const width = 48;
  const got = runScans(scan, rows, width, 'simd-scan');
  const m8 = new Int8Array(got.memory);
  const mu = new Uint8Array(got.memory);
  const dataAt = 32 * width;
  for (let r = 0; r < rows; r++) assert.equal(got.int8[r], int8Dot(m8, dataAt + r * width, 0, width), `int8 row ${r}`);
  got.list.forEach((r, i) => assert.equal(got.int8Rows[i], int8Dot(m8, dataAt + r * width, 0, width), `listed row ${r}`));
  for (let p = 0; p < rows; p++) assert.equal(got.signs[p], signSum(mu, dataAt, 0, p, width), `sign sum of photo ${p}`);
  assert.throws(() => scan.int8(0, 0, 0, 1, 20), /not a multiple of 16/);
});

test('with a helper thread each scan over more than 4 MiB is split and gives the same outputs', async () => {
  const rows = 16 * 1100;
  const width = 512;
  const threaded = new SimdScan(2);
  try {
    for (let waited = 0; !threaded.helping && waited < 10_000; waited += 20) await sleep(20);
    assert.ok(threaded.helping, 'the helper thread started');
    const alone = runScans(new SimdScan(), rows, width, 'simd-split');
    const split = runScans(threaded, rows, width, 'simd-split');
    assert.deepEqual(split.int8, alone.int8);
    assert.deepEqual(split.int8Rows, alone.int8Rows);
    assert.deepEqual(split.signs, alone.signs);
    assert.ok(threaded.helping, 'the helper is still there');
  } finally {
    await threaded.close();
  }
});
