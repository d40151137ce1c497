// `npm run bench:search-width [-- --photos 10000,100000] [--widths 896,4096] [--json]`:
// search at the real packs' widths (Qwen2-0.5B: 896, Llama-7B: 4096). Times the library's
// int8 index (WebAssembly SIMD scan, search.ts) against a float32 JavaScript scan and
// sqlite-vec's int8 and bit vec0 tables, and reports each one's recall@10 against the
// exact float32 ranking. Embeddings are random unit vectors; a query is a stored photo's
// embedding plus noise, so each query has a real best match, as a search does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { quantizeRow } from '../main/engine/tokenCodec.ts';
import { VectorIndex } from '../main/library/search.ts';
import { Rng } from '../world/rng.ts';

const { values } = parseArgs({ options: { photos: { type: 'string' }, widths: { type: 'string' }, json: { type: 'boolean' }, 'sqlite-vec-max': { type: 'string' } } });
const photoCounts = (values.photos ?? '10000,100000').split(',').map(Number);
const widths = (values.widths ?? '896,4096').split(',').map(Number);
// sqlite-vec's brute force is timed up to this many rows per width (it is the slow one).
const vecMax = Number(values['sqlite-vec-max'] ?? 100000);
const K = 10;
const QUERIES = 12;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function unitInto(rng: Rng, out: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < out.length; i++) { out[i] = rng.next() - 0.5; n += (out[i] as number) ** 2; }
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * s;
  return out;
}

/** Exact top-k of a float32 [n, d] matrix by dot product: the reference and the float32 baseline. */
function floatScan(data: Float32Array, n: number, d: number, q: Float32Array, k: number): number[] {
  const best: Array<[number, number]> = [];
  let floor = -Infinity;
  for (let r = 0; r < n; r++) {
    let s = 0;
    const base = r * d;
    for (let j = 0; j < d; j++) s += (data[base + j] as number) * (q[j] as number);
    if (best.length === k && s <= floor) continue;
    best.push([r + 1, s]);
    best.sort((a, b) => b[1] - a[1]);
    if (best.length > k) best.pop();
    if (best.length === k) floor = (best[k - 1] as [number, number])[1];
  }
  return best.map(([id]) => id);
}

const recall = (got: number[], want: number[]) => got.filter((id) => want.includes(id)).length / want.length;
const results = [];
for (const d of widths) {
  for (const n of photoCounts) {
    const rng = new Rng(`search-width-${d}-${n}`);
    const data = new Float32Array(n * d);
    const index = new VectorIndex(d);
    for (let i = 0; i < n; i++) index.add(i + 1, unitInto(rng, data.subarray(i * d, (i + 1) * d)));
    const queries = Array.from({ length: QUERIES }, () => {
      const at = Math.floor(rng.next() * n);
      const noise = unitInto(rng, new Float32Array(d));
      const q = data.slice(at * d, (at + 1) * d).map((x, j) => x + 0.7 * (noise[j] as number));
      let norm = 0;
      for (const x of q) norm += x * x;
      return q.map((x) => x / Math.sqrt(norm));
    });
    const exact = queries.map((q) => floatScan(data, n, d, q, K));
    const time = (fn: (q: Float32Array) => number[]) => {
      const ms: number[] = [];
      let r = 0;
      for (const [i, q] of queries.entries()) {
        const t = performance.now();
        const got = fn(q);
        ms.push(performance.now() - t);
        r += recall(got, exact[i] as number[]);
      }
      return { ms: median(ms), recallAt10: r / queries.length };
    };
    const row: Record<string, unknown> = {
      width: d, photos: n,
      int8Wasm: { ...time((q) => index.search(q, K).map((h) => h.photoId)), bytesPerPhoto: index.bytesPerPhoto },
      float32Js: { ...time((q) => floatScan(data, n, d, q, K)), bytesPerPhoto: 4 * d },
    };
    if (n <= vecMax) {
      const db = new Database(':memory:');
      sqliteVec.load(db);
      db.exec(`CREATE VIRTUAL TABLE v8 USING vec0(e int8[${d}] distance_metric=cosine); CREATE VIRTUAL TABLE vb USING vec0(e bit[${d}])`);
      const put8 = db.prepare('INSERT INTO v8 (rowid, e) VALUES (?, vec_int8(?))');
      const putBit = db.prepare('INSERT INTO vb (rowid, e) VALUES (?, vec_bit(?))');
      const bits = (v: Float32Array) => { const b = Buffer.alloc(d / 8); v.forEach((x, j) => { if (x > 0) b[j >> 3] = (b[j >> 3] as number) | (1 << (j & 7)); }); return b; };
      const int8 = (v: Float32Array) => Buffer.from(quantizeRow(v).values.buffer);
      db.transaction(() => {
        for (let i = 0; i < n; i++) {
          const v = data.subarray(i * d, (i + 1) * d);
          put8.run(BigInt(i + 1), int8(v));
          putBit.run(BigInt(i + 1), bits(v));
        }
      })();
      const knn8 = db.prepare(`SELECT rowid FROM v8 WHERE e MATCH vec_int8(?) AND k = ${K}`).pluck();
      const knnBit = db.prepare(`SELECT rowid FROM vb WHERE e MATCH vec_bit(?) AND k = ${K}`).pluck();
      row.sqliteVecInt8 = { ...time((q) => (knn8.all(int8(q)) as number[]).map(Number)), bytesPerPhoto: d };
      row.sqliteVecBit = { ...time((q) => (knnBit.all(bits(q)) as number[]).map(Number)), bytesPerPhoto: d / 8 };
      db.close();
    }
    results.push(row);
    console.log(JSON.stringify(row));
  }
}
const out = { date: new Date().toISOString().slice(0, 10), machine: { cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), loadAverage: os.loadavg()[0] }, k: K, queries: QUERIES, results };
if (values.json) {
  fs.writeFileSync(path.resolve(import.meta.dirname, 'results', 'search-width.json'), `${JSON.stringify(out, null, 1)}\n`);
  console.log('wrote bench/results/search-width.json');
}
