// The catalog layer on a real SQLite file: identity by content, file errors, the
// views the service reads (timeline, photo info, search candidates) and the per-pack caches.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Catalog } from '../../main/library/catalog.ts';
import { PackCache } from '../../main/library/catalogPack.ts';
import { openDb } from '../../main/library/db.ts';
import type { FileIdentity } from '../../main/library/files.ts';
import { tempDir } from '../helpers.ts';

const KEY = 'pack@1';
const identity = (hash: string, takenAt: string | null = null): FileIdentity => ({ hash, size: 10, mtimeMs: 1, width: 4, height: 3, takenAt });

function fresh() {
  const db = openDb(path.join(tempDir('catalog'), 'glimpse.db'));
  const catalog = new Catalog(db);
  const cache = new PackCache(db);
  const a = catalog.addFolder('/photos/a');
  const b = catalog.addFolder('/photos/b');
  return { db, catalog, cache, a, b };
}

test('a photo is its content: a duplicate file shares it, a moved file keeps it', () => {
  const { db, catalog, cache, a, b } = fresh();
  try {
    const one = catalog.recordFile(a.id, '/photos/a/1.jpg', identity('h1'));
    const dup = catalog.recordFile(b.id, '/photos/b/copy.jpg', identity('h1'));
    assert.equal(one.newPhoto, true);
    assert.equal(dup.newPhoto, false);
    assert.equal(dup.photoId, one.photoId);
    assert.deepEqual(catalog.photo(one.photoId, KEY)?.paths, ['/photos/a/1.jpg', '/photos/b/copy.jpg']);
    catalog.removeFile('/photos/a/1.jpg');
    assert.deepEqual(catalog.photo(one.photoId, KEY)?.paths, ['/photos/b/copy.jpg']);
    assert.equal(cache.counts(KEY).photos, 1);
  } finally {
    db.close();
  }
});

test('photo info: indexed and failed for the pack asked about, in one batched lookup in the order asked', () => {
  const { db, catalog, cache, a } = fresh();
  try {
    const ids = ['h1', 'h2', 'h3'].map((h, i) => catalog.recordFile(a.id, `/photos/a/${i}.jpg`, identity(h)).photoId);
    cache.commit(KEY, [
      { photoId: ids[0]!, path: '/photos/a/0.jpg', tokens: new Uint8Array(8), encoding: 'float16', embedding: new Float32Array(2) },
      { photoId: ids[1]!, path: '/photos/a/1.jpg', failed: { code: 'corrupt', message: 'damaged' } },
    ]);
    const infos = catalog.photos([ids[2]!, ids[0]!, 999, ids[1]!], KEY);
    assert.deepEqual(infos.map((p) => p.id), [ids[2], ids[0], ids[1]]);
    assert.deepEqual(infos.map((p) => p.indexed), [false, true, false]);
    assert.deepEqual(infos[2]?.failed, { code: 'corrupt', message: 'damaged' });
    assert.equal(catalog.photo(ids[0]!, 'other@2')?.indexed, false, 'per pack');
    assert.equal(catalog.photo(12345, KEY), undefined);
    const c = cache.counts(KEY);
    assert.deepEqual([c.indexed, c.failed, c.pending], [1, 1, 1]);
    assert.deepEqual(cache.pending(KEY, 10).map((p) => p.photoId), [ids[2]]);
  } finally {
    db.close();
  }
});

test('the timeline keeps failed photos, marked, newest first and undated last', () => {
  const { db, catalog, cache, a } = fresh();
  try {
    const old = catalog.recordFile(a.id, '/photos/a/old.jpg', identity('o', '2020-01-01T10:00:00')).photoId;
    const none = catalog.recordFile(a.id, '/photos/a/none.jpg', identity('n')).photoId;
    const recent = catalog.recordFile(a.id, '/photos/a/new.jpg', identity('r', '2024-06-01T10:00:00')).photoId;
    cache.commit(KEY, [{ photoId: old, path: '/photos/a/old.jpg', failed: { code: 'truncated', message: 'cut short' } }]);
    const t = catalog.timeline(KEY);
    assert.deepEqual(t.map((x) => x.id), [recent, old, none]);
    assert.deepEqual(t[1]?.failed, { code: 'truncated', message: 'cut short' });
    assert.equal(t[0]?.failed, null);
  } finally {
    db.close();
  }
});

test('search candidates: present files only, by folder and date; a date alone covers the whole day', () => {
  const { db, catalog, a, b } = fresh();
  try {
    const p1 = catalog.recordFile(a.id, '/photos/a/1.jpg', identity('1', '2024-05-31T18:00:00')).photoId;
    const p2 = catalog.recordFile(b.id, '/photos/b/2.jpg', identity('2', '2024-06-01T08:00:00')).photoId;
    const p3 = catalog.recordFile(b.id, '/photos/b/3.jpg', identity('3')).photoId;
    assert.deepEqual([...catalog.searchable()].sort(), [p1, p2, p3].sort());
    assert.deepEqual([...catalog.searchable({ folderId: b.id })].sort(), [p2, p3].sort());
    assert.deepEqual([...catalog.searchable({ to: '2024-05-31' })], [p1]);
    assert.deepEqual([...catalog.searchable({ from: '2024-06-01' })], [p2]);
    catalog.setFolderAvailable(b.id, false);
    assert.deepEqual([...catalog.searchable()], [p1], 'a drive that is away is not searched');
    assert.deepEqual(catalog.paths('missing'), ['/photos/b/2.jpg', '/photos/b/3.jpg']);
    assert.deepEqual(catalog.foldersWithCounts().map((f) => [f.path, f.files]), [['/photos/a', 1], ['/photos/b', 0]]);
  } finally {
    db.close();
  }
});

test('file errors are listed and re-read; failures are cleared per folder or per pack', () => {
  const { db, catalog, cache, a, b } = fresh();
  try {
    catalog.recordFileError(a.id, '/photos/a/locked.jpg', 'unreadable', 'permission denied');
    const pa = catalog.recordFile(a.id, '/photos/a/x.jpg', identity('x')).photoId;
    const pb = catalog.recordFile(b.id, '/photos/b/y.jpg', identity('y')).photoId;
    cache.commit(KEY, [{ photoId: pa, path: '/photos/a/x.jpg', failed: { code: 'corrupt', message: 'a' } }, { photoId: pb, path: '/photos/b/y.jpg', failed: { code: 'corrupt', message: 'b' } }]);
    cache.commit('other@1', [{ photoId: pa, path: '/photos/a/x.jpg', failed: { code: 'corrupt', message: 'a' } }]);
    assert.deepEqual(cache.errors(KEY).map((e) => e.code), ['unreadable', 'corrupt', 'corrupt']);
    assert.deepEqual(catalog.unreadableFiles(), [{ path: '/photos/a/locked.jpg', folderId: a.id }]);
    assert.equal(cache.clearFailures({ folderId: b.id }), 1);
    assert.equal(cache.failure(pb, KEY), null);
    assert.equal(cache.clearFailures({ key: KEY }), 1);
    assert.ok(cache.failure(pa, 'other@1'), 'another pack keeps its own');
    // A vanished file is dropped in the same commit as the rest of its batch.
    cache.commit(KEY, [{ photoId: pa, path: '/photos/a/x.jpg', vanished: true }]);
    assert.equal(catalog.file('/photos/a/x.jpg'), undefined);
  } finally {
    db.close();
  }
});

test('captions, answers and settings round-trip', () => {
  const { db, catalog, cache, a } = fresh();
  try {
    const p = catalog.recordFile(a.id, '/photos/a/1.jpg', identity('1')).photoId;
    assert.equal(cache.caption(p, KEY, 4), null);
    cache.storeCaption(p, KEY, 4, 'a red circle');
    assert.equal(cache.caption(p, KEY, 4), 'a red circle');
    assert.equal(cache.caption(p, KEY, 8), null, 'per budget');
    cache.storeAnswer(p, KEY, 4, 'what colour?', 'red');
    assert.deepEqual(cache.history(p).map((q) => [q.question, q.answer, q.budget]), [['what colour?', 'red', 4]]);
    assert.equal(catalog.setting('pack'), null);
    catalog.setSetting('pack', 'x');
    catalog.setSetting('pack', 'y');
    assert.equal(catalog.setting('pack'), 'y');
  } finally {
    db.close();
  }
});
