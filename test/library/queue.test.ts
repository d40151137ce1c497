// The indexing queue on a real catalog and a real engine process: batches
// committed, bad files blamed alone, and an engine that cannot open its pack
// pausing the queue with the reason instead of failing every photo.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { EngineClient } from '../../main/engine/client.ts';
import { loadPack } from '../../main/engine/pack.ts';
import { Catalog } from '../../main/library/catalog.ts';
import { PackCache } from '../../main/library/catalogPack.ts';
import { openDb } from '../../main/library/db.ts';
import { IndexQueue, type IndexProgress } from '../../main/library/queue.ts';
import { scanFolder } from '../../main/library/scan.ts';
import { writeSamples } from '../../world/samples.ts';
import { tempDir, testPackDir } from '../helpers.ts';

const runtime = { providers: ['cpu'], threads: 1 };
const clients: EngineClient[] = [];
after(async () => Promise.all(clients.map((c) => c.close())));

async function setUp(label: string, count: number, packDir = testPackDir()) {
  const root = tempDir(label);
  await writeSamples({ count, seed: 17, size: 96, out: path.join(root, 's') });
  const db = openDb(path.join(root, 'glimpse.db'));
  const catalog = new Catalog(db);
  const cache = new PackCache(db);
  const folder = catalog.addFolder(path.join(root, 's', 'photos'));
  const engine = new EngineClient(packDir, runtime);
  clients.push(engine);
  const key = loadPack(packDir, { verifyHashes: false }).cacheKey;
  return { root, db, catalog, cache, folder, engine, key };
}

test('indexes everything in batches, reporting progress; a bad file fails alone with its reason', async () => {
  const { db, catalog, cache, folder, engine, key } = await setUp('queue', 11);
  try {
    fs.writeFileSync(path.join(folder.path, 'text.jpg'), 'this is text, not a photo');
    await scanFolder(catalog, folder);
    const queue = new IndexQueue(cache, engine, 'shapes', key, 4);
    const indexed: number[] = [];
    const seen: IndexProgress[] = [];
    queue.on('indexed', (id, embedding) => {
      indexed.push(id);
      assert.ok(Math.abs(embedding.reduce((a, v) => a + v * v, 0) - 1) < 1e-4);
    });
    queue.on('progress', (p) => seen.push(p));
    const idle = new Promise<IndexProgress>((resolve) => queue.once('idle', resolve));
    queue.kick();
    const last = await idle;
    assert.equal(indexed.length, 11);
    assert.deepEqual([last.state, last.done, last.total, last.failed, last.problem], ['idle', 12, 12, 1, null]);
    assert.ok(seen.some((p) => p.state === 'running' && p.done > 0 && p.done < 12), 'progress while running');
    assert.deepEqual(cache.errors(key).map((e) => [path.basename(e.path), e.code]), [['text.jpg', 'not-an-image']]);
    assert.equal(cache.counts(key).pending, 0);
    queue.kick();
    await queue.whenIdle();
    assert.equal(indexed.length, 11, 'nothing is compressed twice');
  } finally {
    db.close();
  }
});

test('an engine that cannot open its pack pauses the queue with the reason, blames no photo, and resumes once the pack is whole', async () => {
  const packDir = path.join(tempDir('queue-pack'), 'p');
  fs.cpSync(testPackDir(), packDir, { recursive: true });
  const { db, catalog, cache, folder, engine, key } = await setUp('queue-broken', 5, packDir);
  try {
    await scanFolder(catalog, folder);
    const llm = fs.readFileSync(path.join(packDir, 'llm.onnx'));
    fs.rmSync(path.join(packDir, 'llm.onnx'));
    const queue = new IndexQueue(cache, engine, 'p', key, 8, { delaysMs: [50, 100] });
    const tries: number[] = [];
    const compress = engine.compressImages.bind(engine);
    // Count the engine calls the queue makes (the real engine answers them).
    (engine as { compressImages: typeof compress }).compressImages = (inputs) => { tries.push(inputs.length); return compress(inputs); };
    queue.kick();
    await queue.whenIdle();
    const p = queue.progress();
    assert.equal(p.state, 'paused');
    assert.equal(tries.length, 3, 'the first try and two retries');
    assert.match(p.problem ?? '', /Indexing paused after 3 tries: model pack "shapes-tiny": file llm\.onnx is missing\. No photo was marked as failed/);
    assert.deepEqual(cache.errors(key), []);
    assert.equal(cache.counts(key).pending, 5);
    fs.writeFileSync(path.join(packDir, 'llm.onnx'), llm);
    queue.resume();
    await queue.whenIdle();
    assert.deepEqual([queue.progress().state, queue.progress().problem, cache.counts(key).indexed], ['idle', null, 5]);
  } finally {
    db.close();
  }
});
