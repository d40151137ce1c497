// `npm run bench:search-width [-- --photos 10000,100000] [--widths 896,4096] [--sqlite-vec-max 10000] [--json]`:
// search at the real packs' widths (Qwen2-0.5B: 896, Llama-7B: 4096). Times each way the
// library's index can search (search.ts) — the exact int8 WebAssembly SIMD scan, the
// sign-bit pre-filter + int8 re-rank, each on one thread and split with a helper thread —
// against a float32 JavaScript scan and sqlite-vec's int8 and bit vec0 tables, and reports
// each one's recall@10 against the exact float32 ranking. Embeddings are random unit
// vectors; a query is a stored photo's embedding plus noise, so each query has a real best
// match, as a search does; `anywhere` queries are random (the true top 10 are then barely
// above the rest: the pre-filter's hardest case). Times are medians of two rounds after a
// warm-up round, wall clock (`ms`) and CPU time of the process, all threads (`cpuMs`: on a
// shared machine a search that is preempted takes longer on the clock, not in CPU); the
// load average at start and end is recorded.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { quantizeRow } from '../main/engine/tokenCodec.ts';
import { VectorIndex, type IndexOptions } from '../main/library/search.ts';
import { Rng } from '../world/rng.ts';

const { values } = parseArgs({ options: { photos: { type: 'string' }, widths: { type: 'string' }, json: { type: 'boolean' }, 'sqlite-vec-max': { type: 'string' } } });
const photoCounts = (values.photos ?? '10000,100000').split(',').map(Number);
const widths = (values.widths ?? '896,4096').split(',').map(Number);
// sqlite-vec's brute force is timed up to this many photos (it is the slow one, ~0.5 s a
// query at 100,000 x 4096 in earlier runs; its table build is minutes on a shared machine).
const vecMax = Number(values['sqlite-vec-max'] ?? 10000);
const K = 10;
const QUERIES = 12;
const ROUNDS = 2;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const loadAverage = () => os.loadavg().map((x) => Number(x.toFixed(2)));
const startLoad = loadAverage();

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
const METHODS: Record<string, IndexOptions> = {
  int8: { prefilter: 'never' },
  int8Threads: { prefilter: 'never', threads: 2 },
  signsRerank: { prefilter: 'always' },
  signsRerankThreads: { prefilter: 'always', threads: 2 },
};
const results = [];
for (const d of widths) {
  for (const n of photoCounts) {
    const rng = new Rng(`search-width-${d}-${n}`);
    const data = new Float32Array(n * d);
    for (let i = 0; i < n; i++) unitInto(rng, data.subarray(i * d, (i + 1) * d));
    const near = Array.from({ length: QUERIES }, () => {
      const at = Math.floor(rng.next() * n);
      const noise = unitInto(rng, new Float32Array(d));
      const q = data.slice(at * d, (at + 1) * d).map((x, j) => x + 0.7 * (noise[j] as number));
      let norm = 0;
      for (const x of q) norm += x * x;
      return q.map((x) => x / Math.sqrt(norm));
    });
    const anywhere = Array.from({ length: QUERIES }, () => unitInto(rng, new Float32Array(d)));
    // The exact float32 ranking is the reference, and timing it is the float32 baseline.
    const floatMs: number[] = [];
    const floatCpuMs: number[] = [];
    const exactNear = near.map((q) => {
      const cpu = process.cpuUsage();
      const t = performance.now();
      const top = floatScan(data, n, d, q, K);
      floatMs.push(performance.now() - t);
      const used = process.cpuUsage(cpu);
      floatCpuMs.push((used.user + used.system) / 1000);
      return top;
    });
    const exactAnywhere = anywhere.map((q) => floatScan(data, n, d, q, K));
    const time = (fn: (q: Float32Array) => number[], rounds = ROUNDS) => {
      const ms: number[] = [];
      const cpuMs: number[] = [];
      let found = 0;
      for (let round = 0; round <= rounds; round++) {
        for (const [i, q] of near.entries()) {
          const cpu = process.cpuUsage();
          const t = performance.now();
          const got = fn(q);
          if (round > 0) {
            ms.push(performance.now() - t);
            const used = process.cpuUsage(cpu);
            cpuMs.push((used.user + used.system) / 1000);
          } else {
            found += recall(got, exactNear[i] as number[]);
          }
        }
      }
      const anywhereFound = anywhere.reduce((sum, q, i) => sum + recall(fn(q), exactAnywhere[i] as number[]), 0);
      return { ms: median(ms), cpuMs: median(cpuMs), recallAt10: found / QUERIES, recallAt10Anywhere: anywhereFound / QUERIES };
    };
    const row: Record<string, unknown> = { width: d, photos: n, float32Js: { ms: median(floatMs), cpuMs: median(floatCpuMs), recallAt10: 1, recallAt10Anywhere: 1, bytesPerPhoto: 4 * d } };
    // One index per thread count, searched both ways (its options object is switched between methods).
    for (const threads of [1, 2] as const) {
      const options: IndexOptions = { threads };
      const index = new VectorIndex(d, options);
      for (let i = 0; i < n; i++) index.add(i + 1, data.subarray(i * d, (i + 1) * d));
      for (const [name, method] of Object.entries(METHODS).filter(([, m]) => (m.threads ?? 1) === threads)) {
        options.prefilter = method.prefilter;
        row[name] = { ...time((q) => index.search(q, K).map((h) => h.photoId)), bytesPerPhoto: index.bytesPerPhoto };
      }
      await index.close();
    }
    row.libraryUses = new VectorIndex(d).prefilteringAt(n) ? 'signsRerank' : 'int8';
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
      row.sqliteVecInt8 = { ...time((q) => (knn8.all(int8(q)) as number[]).map(Number), 1), bytesPerPhoto: d };
      row.sqliteVecBit = { ...time((q) => (knnBit.all(bits(q)) as number[]).map(Number), 1), bytesPerPhoto: d / 8 };
      db.close();
    }
    results.push(row);
    console.log(JSON.stringify(row));
  }
}
const out = {
  date: new Date().toISOString().slice(0, 10),
  machine: { cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), loadAverage: startLoad[0], loadAverageAtStart: startLoad, loadAverageAtEnd: loadAverage() },
  k: K, queries: QUERIES, rounds: ROUNDS, results,
};
console.log(`load average (1, 5, 15 min) at start ${startLoad.join(', ')}, at end ${out.machine.loadAverageAtEnd.join(', ')}`);
if (values.json) {
  fs.writeFileSync(path.resolve(import.meta.dirname, 'results', 'search-width.json'), `${JSON.stringify(out, null, 1)}\n`);
  console.log('wrote bench/results/search-width.json');
}
