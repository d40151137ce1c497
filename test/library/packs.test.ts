// Switching model packs: the new pack indexes everything while the old one keeps
// answering, then takes over.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { packRevision } from '../../main/engine/pack.ts';
import { Catalog } from '../../main/library/catalog.ts';
import { PackCache } from '../../main/library/catalogPack.ts';
import { openDb } from '../../main/library/db.ts';
import { Library } from '../../main/library/library.ts';
import { writeSamples } from '../../world/samples.ts';
import { packCopy, tempDir } from '../helpers.ts';

function tokenCounts(library: Library): Array<{ key: string; n: number }> {
  return library.cachedPacks();
}

function revisionOf(packs: string, id: string): string {
  const text = fs.readFileSync(path.join(packs, id, 'pack.json'), 'utf8');
  return packRevision(JSON.parse(text).files, text);
}

test('switching packs: the old pack serves until the new one has indexed everything', async () => {
  const root = tempDir('packs');
  const packs = path.join(root, 'packs');
  packCopy(packs, 'pack-a');
  packCopy(packs, 'pack-b');
  await writeSamples({ count: 6, seed: 13, size: 96, out: path.join(root, 'samples') });
  const library = await Library.open({ dir: path.join(root, 'library'), packDirs: [packs], packId: 'pack-a', runtime: { providers: ['cpu'], threads: 1 }, watch: false });
  try {
    library.addFolder(path.join(root, 'samples', 'photos'));
    await library.settled();
    assert.equal(library.status().pack, 'pack-a');
    library.pauseIndexing();
    library.setPack('pack-b');
    const during = library.status();
    assert.equal(during.pack, 'pack-a', 'the old pack still answers');
    assert.equal(during.indexingPack, 'pack-b');
    assert.equal(during.counts.pending, 6, 'everything is pending for the new pack');
    assert.equal((await library.search('a red circle', { limit: 3 })).length, 3, 'search works during the switch');
    library.resumeIndexing();
    await library.settled();
    const afterwards = library.status();
    assert.equal(afterwards.pack, 'pack-b', 'the new pack took over once done');
    assert.equal(afterwards.counts.indexed, 6);
    assert.deepEqual(tokenCounts(library), [{ key: 'pack-a', n: 6 }, { key: 'pack-b', n: 6 }].map(({ key, n }) => ({ key: `${key}@${revisionOf(packs, key)}`, n })));
    assert.deepEqual(library.packs().filter((p) => p.active).map((p) => p.id), ['pack-b']);
    assert.throws(() => library.setPack('nope'), /no model pack "nope"/);
  } finally {
    await library.close();
  }
  // The choice survives a restart.
  const reopened = await Library.open({ dir: path.join(root, 'library'), packDirs: [packs], runtime: { providers: ['cpu'], threads: 1 }, watch: false });
  try {
    assert.equal(reopened.status().pack, 'pack-b');
  } finally {
    await reopened.close();
  }
});

test('retrained weights under the same pack id re-index every photo, never read the old tokens and drop them', async () => {
  const root = tempDir('retrained');
  const packs = path.join(root, 'packs');
  packCopy(packs, 'pack-a');
  await writeSamples({ count: 4, seed: 21, size: 96, out: path.join(root, 'samples') });
  const options = { dir: path.join(root, 'library'), packDirs: [packs], runtime: { providers: ['cpu' as const], threads: 1 }, watch: false };
  const before = revisionOf(packs, 'pack-a');
  const first = await Library.open(options);
  try {
    first.addFolder(path.join(root, 'samples', 'photos'));
    await first.settled();
    assert.equal(first.status().counts.indexed, 4);
  } finally {
    await first.close();
  }
  // "Retrain": new summary embeddings, pack.json updated with the file's new sha256.
  const dir = path.join(packs, 'pack-a');
  const summary = fs.readFileSync(path.join(dir, 'summary.f32'));
  const floats = new Float32Array(summary.buffer.slice(summary.byteOffset, summary.byteOffset + summary.byteLength)).map((v) => -v);
  fs.writeFileSync(path.join(dir, 'summary.f32'), floats);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'pack.json'), 'utf8'));
  manifest.files['summary.f32'].sha256 = createHash('sha256').update(fs.readFileSync(path.join(dir, 'summary.f32'))).digest('hex');
  fs.writeFileSync(path.join(dir, 'pack.json'), JSON.stringify(manifest));
  const after = revisionOf(packs, 'pack-a');
  assert.notEqual(after, before);

  const second = await Library.open(options);
  try {
    const photo = second.timeline()[0]!.id;
    await second.settled();
    assert.equal(second.status().pack, 'pack-a', 'the same pack, by name');
    assert.equal(second.status().counts.indexed, 4, 'every photo compressed again with the new weights');
    assert.deepEqual(tokenCounts(second), [{ key: `pack-a@${after}`, n: 4 }], 'the old revision\'s tokens are dropped');
    assert.ok((await second.caption(photo)).length > 0);
  } finally {
    await second.close();
  }
});

test('the purge of old revisions scans the caches only when the revision changed', () => {
  const db = openDb(path.join(tempDir('purge'), 'glimpse.db'));
  try {
    const catalog = new PackCache(db);
    const files = new Catalog(db);
    const photoId = files.recordFile(files.addFolder('/p').id, '/p/1.jpg', { hash: 'h', size: 1, mtimeMs: 1, width: null, height: null, takenAt: null }).photoId;
    const store = (key: string) => catalog.commit(key, [{ photoId, path: '/p/1.jpg', tokens: new Uint8Array(4), encoding: 'int8', embedding: new Float32Array(2) }]);
    store('pack-a@old');
    store('pack-ab@other'); // another pack whose id starts with "pack-a"
    assert.equal(catalog.forgetOtherRevisions('pack-a', 'pack-a@new'), 1, 'the old revision is dropped, the other pack kept');
    store('pack-a@new');
    assert.equal(catalog.forgetOtherRevisions('pack-a', 'pack-a@new'), 0, 'same revision: nothing to do');
    assert.equal(catalog.forgetOtherRevisions('pack-a', 'pack-a@newer'), 1, 'the next retrain drops it again');
    assert.deepEqual(catalog.tokenCounts(), [{ key: 'pack-ab@other', n: 1 }]);
  } finally {
    db.close();
  }
});
