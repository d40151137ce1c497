// The int8 in-memory vector index against an exact float32 brute-force ranking: recall@k
// and score error, at the bundled pack's width and at the real ones (896, 4096).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VectorIndex } from '../../main/library/search.ts';
import { Rng } from '../../world/rng.ts';

function unit(rng: Rng, d: number): Float32Array {
  const v = Float32Array.from({ length: d }, () => rng.normal());
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] as number), 0);

/** Recall@k of the index against the exact float32 ranking, and the worst score error of its hits. */
function measure(d: number, n: number, queries: number, k: number, seed: string, filter = false): { recall: number; scoreError: number } {
  const rng = new Rng(seed);
  const vectors = new Map<number, Float32Array>();
  for (let id = 1; id <= n; id++) vectors.set(id * 3, unit(rng, d));
  const index = VectorIndex.from(d, vectors);
  assert.equal(index.size, n);
  let found = 0;
  let scoreError = 0;
  for (let q = 0; q < queries; q++) {
    // Half the queries are near a stored photo (a real search's best match stands out), half anywhere.
    const near = vectors.get(3 * (1 + Math.floor(rng.next() * n))) as Float32Array;
    const noise = unit(rng, d);
    const query = q % 2 === 0 ? unit(rng, d) : (() => { const v = near.map((x, i) => x + 0.5 * (noise[i] as number)); const m = Math.hypot(...v); return v.map((x) => x / m); })();
    const allowed = filter && q % 2 === 1 ? new Set([...vectors.keys()].filter((id) => id % 2 === 0)) : undefined;
    const exact = [...vectors].filter(([id]) => !allowed || allowed.has(id)).map(([id, v]) => ({ id, s: dot(v, query) })).sort((x, y) => y.s - x.s).slice(0, k);
    const got = index.search(query, k, allowed);
    assert.equal(got.length, k);
    if (allowed) assert.ok(got.every((h) => allowed.has(h.photoId)), 'only allowed photos');
    const want = new Set(exact.map((e) => e.id));
    found += got.filter((h) => want.has(h.photoId)).length;
    for (const h of got) scoreError = Math.max(scoreError, Math.abs(h.score - dot(vectors.get(h.photoId) as Float32Array, query)));
    for (let i = 1; i < got.length; i++) assert.ok((got[i - 1] as { score: number }).score >= (got[i] as { score: number }).score, 'hits best first');
  }
  return { recall: found / (queries * k), scoreError };
}

test('int8 index: recall@10 against the exact float32 ranking, with and without a filter, across growth (d = 37, not a multiple of 16)', () => {
  const r = measure(37, 2500, 10, 10, 'vector-index-test', true);
  assert.ok(r.recall >= 0.9, `recall@10 ${r.recall}`);
  assert.ok(r.scoreError < 0.02, `score error ${r.scoreError}`);
});

test('int8 index at real widths: recall@10 >= 0.95 and scores within 0.01 of float32 (d = 896 and 4096)', () => {
  for (const d of [896, 4096]) {
    const r = measure(d, 2000, 6, 10, `width-${d}`);
    assert.ok(r.recall >= 0.95, `d=${d}: recall@10 ${r.recall}`);
    assert.ok(r.scoreError < 0.01, `d=${d}: score error ${r.scoreError}`);
  }
});

test('adding an id again replaces its vector; a wrong width is refused; an empty filter finds nothing', () => {
  const index = new VectorIndex(2);
  index.add(7, Float32Array.from([1, 0]));
  index.add(8, Float32Array.from([0, 1]));
  index.add(7, Float32Array.from([0, -1]));
  assert.equal(index.size, 2);
  const hits = index.search(Float32Array.from([0, 1]), 2);
  assert.deepEqual(hits.map((h) => h.photoId), [8, 7]);
  assert.ok(Math.abs((hits[0]?.score as number) - 1) < 1e-6 && Math.abs((hits[1]?.score as number) + 1) < 1e-6);
  assert.throws(() => index.search(Float32Array.from([1, 0, 0]), 1), /query has 3 values/);
  assert.throws(() => index.add(9, Float32Array.from([1, 0, 0])), /3 values, the index holds 2/);
  assert.deepEqual(index.search(Float32Array.from([0, 1]), 5, new Set()), []);
});
