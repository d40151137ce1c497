// The exact in-memory vector index against a brute-force reference.
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

test('top-k equals a brute-force ranking, with and without a filter, across growth', () => {
  const d = 37; // not a multiple of 4: the scan's tail is used
  const rng = new Rng('vector-index-test');
  const vectors = new Map<number, Float32Array>();
  for (let id = 1; id <= 2500; id++) vectors.set(id * 3, unit(rng, d));
  const index = VectorIndex.from(d, vectors);
  assert.equal(index.size, 2500);
  for (let q = 0; q < 5; q++) {
    const query = unit(rng, d);
    const allowed = q % 2 === 0 ? undefined : new Set([...vectors.keys()].filter((id) => id % 2 === 0));
    const expected = [...vectors].filter(([id]) => !allowed || allowed.has(id)).map(([id, v]) => ({ id, s: dot(v, query) }))
      .sort((x, y) => y.s - x.s).slice(0, 10);
    const got = index.search(query, 10, allowed);
    assert.deepEqual(got.map((h) => h.photoId), expected.map((e) => e.id));
    got.forEach((h, i) => assert.ok(Math.abs(h.score - (expected[i] as { s: number }).s) < 1e-5));
  }
});

test('adding an id again replaces its vector; a wrong width is refused; an empty filter finds nothing', () => {
  const index = new VectorIndex(2);
  index.add(7, Float32Array.from([1, 0]));
  index.add(8, Float32Array.from([0, 1]));
  index.add(7, Float32Array.from([0, -1]));
  assert.equal(index.size, 2);
  assert.deepEqual(index.search(Float32Array.from([0, 1]), 2).map((h) => [h.photoId, h.score]), [[8, 1], [7, -1]]);
  assert.throws(() => index.add(9, Float32Array.from([1, 0, 0])), /3 values, the index holds 2/);
  assert.deepEqual(index.search(Float32Array.from([0, 1]), 5, new Set()), []);
});
