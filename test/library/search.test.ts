// The int8 in-memory vector index against an exact float32 brute-force ranking: recall@k
// and score error, at the bundled pack's width and at the real ones (896, 4096), with the
// exact int8 scan and with the sign-bit pre-filter + int8 re-rank (search.ts, signCodes.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VectorIndex, type IndexOptions } from '../../main/library/search.ts';
import { Rng } from '../../world/rng.ts';

function unit(rng: Rng, d: number): Float32Array {
  const v = Float32Array.from({ length: d }, () => rng.normal());
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] as number), 0);

/** Recall@k of the index against the exact float32 ranking, and the worst score error of its hits. */
function measure(d: number, n: number, queries: number, k: number, seed: string, filter = false, options?: IndexOptions): { recall: number; scoreError: number } {
  const rng = new Rng(seed);
  const vectors = new Map<number, Float32Array>();
  for (let id = 1; id <= n; id++) vectors.set(id * 3, unit(rng, d));
  const index = VectorIndex.from(d, vectors, options);
  assert.equal(index.size, n);
  assert.equal(index.prefiltering, options?.prefilter === 'always');
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

test('sign pre-filter + int8 re-rank: recall@10 against float32 on a fixed-seed random set (d = 896 and 4096, 10 % of photos re-ranked), with a filter', () => {
  for (const d of [896, 4096]) {
    const r = measure(d, 4000, 8, 10, `prefilter-${d}`, true, { prefilter: 'always', candidates: 400 });
    assert.ok(r.recall >= 0.85, `d=${d}: recall@10 ${r.recall}`);
    assert.ok(r.scoreError < 0.01, `d=${d}: score error ${r.scoreError}`);
  }
  // Few candidates on a set of odd width: still most of the true top 10, and hits are exact int8 scores.
  const r = measure(200, 3000, 8, 10, 'prefilter-200', false, { prefilter: 'always', candidates: 150 });
  assert.ok(r.recall >= 0.7, `d=200: recall@10 ${r.recall}`);
});

test('sign pre-filter: photos planted near the query are all found, in the exact scan\'s order, and a replaced vector is re-coded', () => {
  const rng = new Rng('prefilter-planted');
  const d = 1024;
  const query = unit(rng, d);
  const vectors = new Map<number, Float32Array>();
  // 12 photos at cosine 0.3..0.85 from the query among 5,000 unrelated ones (cosine ~ ±0.03).
  for (let id = 1; id <= 5000; id++) vectors.set(id, unit(rng, d));
  const planted = Array.from({ length: 12 }, (_, i) => 17 + 400 * i);
  for (const [i, id] of planted.entries()) {
    const c = 0.3 + 0.05 * i;
    const noise = unit(rng, d);
    const v = query.map((x, j) => c * x + Math.sqrt(1 - c * c) * (noise[j] as number));
    vectors.set(id, v.map((x) => x / Math.hypot(...v)));
  }
  const exact = VectorIndex.from(d, vectors, { prefilter: 'never' });
  const filtered = VectorIndex.from(d, vectors, { prefilter: 'always', candidates: 50 });
  const want = exact.search(query, 12);
  assert.deepEqual(new Set(want.map((h) => h.photoId)), new Set(planted));
  assert.deepEqual(filtered.search(query, 12), want);
  // Only the even planted ones allowed, among many allowed photos: the pre-filter honours the filter.
  const allowed = new Set([...vectors.keys()].filter((id) => id % 2 === 0 || id > 4000));
  assert.deepEqual(filtered.search(query, 12, allowed).slice(0, 3), exact.search(query, 12, allowed).slice(0, 3));
  assert.ok(filtered.search(query, 12, allowed).every((h) => allowed.has(h.photoId)));
  // The best planted photo moved away from the query: it must drop out of the pre-filter's hits too.
  const best = want[0]?.photoId as number;
  filtered.add(best, query.map((x) => -x));
  assert.ok(!filtered.search(query, 12).some((h) => h.photoId === best), 'a replaced vector is scored by its new sign code');
  assert.equal(filtered.search(query.map((x) => -x), 1)[0]?.photoId, best);
});
