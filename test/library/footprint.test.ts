// What a person sees about speed and size: the active pack's size, its cache on disk and
// its measured indexing speed (Settings, through engineInfo), and an ETA from that rate
// in the indexing progress and `glimpse status`, also in a later session before any
// photo of it is indexed. Real engine, real SQLite, the real CLI process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadPack } from '../../main/engine/pack.ts';
import { Library } from '../../main/library/library.ts';
import { writeSamples } from '../../world/samples.ts';
import { ROOT, tempDir, testPackDir } from '../helpers.ts';
import { openIndexedLibrary } from '../indexed-library.ts';

test('pack size, cache size and measured speed; an ETA from the stored rate in a new session and in glimpse status', async () => {
  const root = tempDir('footprint');
  const { library } = await openIndexedLibrary(root, { count: 10, seed: 41 });
  const info = await library.engineInfo();
  const pack = loadPack(testPackDir());
  const onDisk = Object.keys(pack.manifest.files).reduce((sum, f) => sum + fs.statSync(pack.file(f)).size, 0);
  assert.equal(info.packBytes, onDisk);
  // Each photo: its tokens in the pack's encoding and a float32 embedding.
  assert.equal(info.cacheBytes, 10 * (info.bytesPerPhoto + 4 * info.dims.hidden));
  assert.ok(info.photosPerSecond !== null && info.photosPerSecond > 0, `measured ${info.photosPerSecond}`);
  const idle = library.status();
  assert.equal(idle.counts.pending, 0);
  assert.equal(idle.indexing.etaSeconds, 0, 'nothing left');
  await library.close();

  // A later session: new photos waiting, nothing indexed yet in it; the ETA comes from the stored rate.
  const more = path.join(root, 'more');
  await writeSamples({ count: 24, seed: 42, size: 96, out: more });
  const again = await Library.open({ dir: path.join(root, 'library'), packDirs: [path.dirname(testPackDir())], runtime: { providers: ['cpu'], threads: 1 }, watch: false });
  try {
    again.pauseIndexing();
    again.addFolder(path.join(more, 'photos'));
    await again.settled(); // the scan; indexing stays paused
    const s = again.status();
    assert.equal(s.counts.pending, 24);
    assert.equal(s.indexing.rate, info.photosPerSecond);
    assert.ok(Math.abs((s.indexing.etaSeconds as number) - 24 / (info.photosPerSecond as number)) < 1e-9);
    assert.equal((await again.engineInfo()).cacheBytes, info.cacheBytes, 'paused: nothing new cached');
  } finally {
    await again.close();
  }

  const status = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'glimpse.mjs'), 'status', '--library', path.join(root, 'library'),
    '--packs', path.dirname(testPackDir())], { encoding: 'utf8', timeout: 120000 });
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /time left: about (\d+ s|\d+ min \d+ s) for \d+ photos at [\d.]+ photos\/s \(measured\)/);
  fs.rmSync(root, { recursive: true, force: true });
});
