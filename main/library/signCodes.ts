// The search pre-filter's codes: one sign bit a dimension (d / 8 bytes a photo, 512 B at
// d = 4096 against 4,104 B for the int8 row) scored asymmetrically against the query, so
// an exact int8 re-rank of a few thousand candidates replaces reading every int8 row.
// The estimate is RaBitQ's (Gao & Long, SIGMOD 2024) without its random rotation:
//   <q, x> ≈ <q, sign(x)> · |x|² / |x|₁
// with the query kept at a few bits (u_j in 0..levels, q_j ≈ lo + Δ u_j) so that
//   <q, sign(x)> ≈ 2Δ · Σ_j u_j bit_j(x) + 2 lo · ones(x) − Σ_j q_j
// and Σ_j u_j bit_j(x) comes from 16-entry tables per 4 dimensions (simdScan.ts signScan),
// for 16 photos at once: codes are stored in blocks of 16 photos, byte t of each together.

/** Bytes of sign bits a photo takes: d bits rounded up to 16 bytes. */
export const signWidth = (d: number): number => Math.ceil(d / 128) * 16;

/** Writes x's sign bits (bit j of byte j >> 3 is x_j > 0) as photo `lane` of a block of 16 (`block`: 16 x signWidth bytes). */
export function writeSignBits(x: Float32Array, block: Uint8Array, lane: number): { ones: number; factor: number } {
  const width = block.length / 16;
  for (let t = 0; t < width; t++) block[16 * t + lane] = 0;
  let ones = 0;
  let l1 = 0;
  let l2 = 0;
  for (let j = 0; j < x.length; j++) {
    const v = x[j] as number;
    l1 += Math.abs(v);
    l2 += v * v;
    if (v > 0) {
      const at = 16 * (j >> 3) + lane;
      block[at] = (block[at] as number) | (1 << (j & 7));
      ones++;
    }
  }
  return { ones, factor: l1 > 0 ? l2 / l1 : 0 };
}

/** How a photo's table sum and ones become <q, sign(x)>: a · sum + b · ones − c. */
export interface TableQuery { a: number; b: number; c: number }

/**
 * The query as the sign scan reads it: for each byte t of a code, 16 bytes of sums of u
 * over dimensions 8t..8t+3 (indexed by the low nibble) then 16 over 8t+4..8t+7. u has
 * at most 31 levels, fewer above d = 2114, so that a photo's sum fits the scan's u16 lanes.
 */
export function queryTables(q: Float32Array, into: Uint8Array): TableQuery {
  const levels = Math.min(31, Math.floor(65535 / q.length));
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of q) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const step = hi > lo ? (hi - lo) / levels : 1;
  const u = new Uint8Array(8 * (into.length / 32));
  let sum = 0;
  for (let j = 0; j < q.length; j++) {
    u[j] = Math.round(((q[j] as number) - lo) / step);
    sum += lo + step * (u[j] as number);
  }
  for (let nibble = 0; nibble < u.length / 4; nibble++) {
    const table = 16 * nibble;
    for (let k = 0; k < 16; k++) {
      let s = 0;
      for (let i = 0; i < 4; i++) if ((k >> i) & 1) s += u[4 * nibble + i] as number;
      into[table + k] = s;
    }
  }
  return { a: 2 * step, b: 2 * lo, c: sum };
}

/**
 * The rows (0..n) with the `m` highest scores, -Infinity never; ties at the cut may
 * add a few. `scratch` (n floats at least) is overwritten. Quickselect: O(n).
 */
export function topRows(scores: Float32Array, n: number, m: number, scratch: Float32Array): Int32Array {
  let finite = 0;
  for (let r = 0; r < n; r++) if ((scores[r] as number) > -Infinity) scratch[finite++] = scores[r] as number;
  let cut = -Infinity;
  if (finite > m) {
    // The m-th largest: the (finite - m)-th smallest of scratch[0..finite).
    const want = finite - m;
    let lo = 0;
    let hi = finite - 1;
    while (lo < hi) {
      const pivot = median3(scratch[lo] as number, scratch[(lo + hi) >> 1] as number, scratch[hi] as number);
      let i = lo;
      let j = hi;
      while (i <= j) {
        while ((scratch[i] as number) < pivot) i++;
        while ((scratch[j] as number) > pivot) j--;
        if (i <= j) {
          const t = scratch[i] as number;
          scratch[i++] = scratch[j] as number;
          scratch[j--] = t;
        }
      }
      if (want <= j) hi = j;
      else if (want >= i) lo = i;
      else break;
    }
    cut = scratch[want] as number;
  }
  const out = new Int32Array(Math.min(n, finite));
  let count = 0;
  for (let r = 0; r < n; r++) {
    const s = scores[r] as number;
    if (s > -Infinity && s >= cut) out[count++] = r;
  }
  return out.subarray(0, count);
}

const median3 = (a: number, b: number, c: number) => Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
