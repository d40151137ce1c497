// `npm run bench:library [-- --json] [--photos N]`: indexing throughput end to end on
// the sample library, search latency at 1k/10k/100k photos (synthetic embeddings)
// for our exact in-memory scan and for sqlite-vec's vec0 brute force, and storage.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { Library } from '../main/library/library.ts';
import { VectorIndex } from '../main/library/search.ts';
import { Rng } from '../world/rng.ts';
import { writeSamples } from '../world/samples.ts';

const { values } = parseArgs({ options: { json: { type: 'boolean' }, photos: { type: 'string' }, pack: { type: 'string' } } });
const photoCount = Number(values.photos ?? 200);
const packsDir = values.pack ? path.dirname(path.resolve(values.pack)) : path.resolve(import.meta.dirname, '..', 'models');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function unit(rng: Rng, d: number): Float32Array {
  const v = new Float32Array(d);
  let n = 0;
  for (let i = 0; i < d; i++) {
    v[i] = rng.normal();
    n += (v[i] as number) ** 2;
  }
  return v.map((x) => x / Math.sqrt(n));
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'glimpse-bench-lib-'));
try {
  // 1. indexing, end to end: scan, hash, engine process (decode, vision, pass 1), SQLite
  await writeSamples({ count: photoCount, seed: 2, size: 256, out: path.join(work, 'samples') });
  const library = await Library.open({ dir: path.join(work, 'library'), packDirs: [packsDir], watch: false, runtime: { providers: ['cpu'] } });
  const info = await library.engineInfo();
  const t0 = performance.now();
  library.addFolder(path.join(work, 'samples', 'photos'));
  await library.settled();
  const indexSeconds = (performance.now() - t0) / 1000;
  const counts = library.status().counts;
  const queryMs: number[] = [];
  for (const q of ['a red circle on a beach', 'two small blue stars in the snow', 'a sign showing 7 at night']) {
    const t = performance.now();
    await library.search(q, { limit: 10 });
    queryMs.push(performance.now() - t);
  }
  await library.close();
  const dbBytes = fs.statSync(path.join(work, 'library', 'glimpse.db')).size + (fs.statSync(path.join(work, 'library', 'glimpse.db-wal'), { throwIfNoEntry: false })?.size ?? 0);

  // 2. search scaling with synthetic embeddings of the pack's width
  const d = info.dims.hidden;
  const rng = new Rng('bench-search');
  const scaling = [];
  for (const n of [1000, 10000, 100000]) {
    const index = new VectorIndex(d);
    const db = new Database(':memory:');
    sqliteVec.load(db);
    db.exec(`CREATE VIRTUAL TABLE vec USING vec0(embedding float[${d}] distance_metric=cosine)`);
    const insert = db.prepare('INSERT INTO vec (rowid, embedding) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= n; i++) {
        const v = unit(rng, d);
        index.add(i, v);
        insert.run(BigInt(i), Buffer.from(v.buffer));
      }
    })();
    const knn = db.prepare('SELECT rowid, distance FROM vec WHERE embedding MATCH ? AND k = 10');
    const queries = Array.from({ length: 20 }, () => unit(rng, d));
    const ours: number[] = [];
    const vec: number[] = [];
    let sameBest = 0;
    for (const q of queries) {
      let t = performance.now();
      const a = index.search(q, 10);
      ours.push(performance.now() - t);
      t = performance.now();
      const b = knn.all(Buffer.from(q.buffer)) as Array<{ rowid: number }>;
      vec.push(performance.now() - t);
      // The index scans int8 codes, sqlite-vec float32: near-ties may swap places, a miss may not.
      if (!a.some((h) => h.photoId === Number(b[0]?.rowid))) throw new Error('sqlite-vec\'s best match is not in the index\'s top 10');
      if (a[0]?.photoId === Number(b[0]?.rowid)) sameBest++;
    }
    scaling.push({ photos: n, inMemoryMs: median(ours), sqliteVecMs: median(vec), sameBestOf20: sameBest });
    db.close();
  }

  const results = {
    date: new Date().toISOString().slice(0, 10),
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), platform: `${process.platform}-${process.arch}` },
    pack: info.pack,
    indexing: { photos: counts.indexed, seconds: indexSeconds, photosPerSecond: counts.indexed / indexSeconds },
    searchEndToEndMs: median(queryMs),
    searchScaling: scaling,
    storage: {
      tokenBytesPerPhoto: info.bytesPerPhoto,
      tokenEncoding: info.tokenEncoding,
      embeddingBytesPerPhoto: 4 * d,
      catalogBytesPerPhoto: Math.round(dbBytes / Math.max(1, counts.indexed)),
      allVisualTokensFloat16BytesPerPhoto: 2 * info.dims.visionTokens * d,
    },
  };
  console.log(`library benchmark, pack ${results.pack}, ${results.machine.cores} cores`);
  console.log(`indexing: ${results.indexing.photos} photos in ${indexSeconds.toFixed(1)} s = ${results.indexing.photosPerSecond.toFixed(1)} photos/s end to end`);
  console.log(`search (text embedding + scan + lookups): ${results.searchEndToEndMs.toFixed(1)} ms`);
  for (const s of scaling) console.log(`search ${s.photos} photos: in-memory ${s.inMemoryMs.toFixed(2)} ms, sqlite-vec ${s.sqliteVecMs.toFixed(2)} ms`);
  console.log(`storage per photo: tokens ${results.storage.tokenBytesPerPhoto} B, embedding ${results.storage.embeddingBytesPerPhoto} B, whole catalog ${results.storage.catalogBytesPerPhoto} B (all visual tokens would be ${results.storage.allVisualTokensFloat16BytesPerPhoto} B)`);
  if (values.json) {
    const out = path.resolve(import.meta.dirname, 'results', 'library.json');
    fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`wrote ${out}`);
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
