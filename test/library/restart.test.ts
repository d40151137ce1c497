// Killing the process mid-indexing loses nothing and redoes nothing; search works while indexing.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Library } from '../../main/library/library.ts';
import { writeSamples } from '../../world/samples.ts';
import { ROOT, tempDir, testPackDir } from '../helpers.ts';

const packs = path.dirname(testPackDir());

async function samplePhotos(label: string, count: number): Promise<string> {
  const out = path.join(tempDir(label), 'samples');
  await writeSamples({ count, seed: 21, size: 96, out });
  return path.join(out, 'photos');
}

function tokenRows(dbFile: string): Map<number, string> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return new Map(db.prepare('SELECT photo_id, created_at FROM tokens').raw().all() as Array<[number, string]>);
  } finally {
    db.close();
  }
}

/** Tokens rows so far; 0 while the child has not yet created the file or its schema. */
function indexedSoFar(dbFile: string): number {
  if (!fs.existsSync(dbFile)) return 0;
  try {
    return tokenRows(dbFile).size;
  } catch (err) {
    if (/no such table/.test((err as Error).message)) return 0;
    throw err;
  }
}

test('kill -9 in the middle of indexing, restart: consistent catalog, the rest indexed, nothing compressed twice', async () => {
  const photos = await samplePhotos('restart', 48);
  const lib = path.join(tempDir('restart-lib'), 'library');
  const dbFile = path.join(lib, 'glimpse.db');
  const args = [path.join(ROOT, 'bin', 'glimpse.mjs'), 'index', photos, '--library', lib, '--packs', packs];
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  const deadline = Date.now() + 60000;
  while (indexedSoFar(dbFile) < 8) {
    if (Date.now() > deadline) throw new Error('indexing did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const survived = tokenRows(dbFile);
  assert.ok(survived.size >= 8 && survived.size < 48, `${survived.size} photos indexed before the kill`);

  const again = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120000 });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /48 photos indexed for pack .*, 0 failed/);
  const after = tokenRows(dbFile);
  assert.equal(after.size, 48);
  for (const [photo, createdAt] of survived) assert.equal(after.get(photo), createdAt, `photo ${photo} was compressed again`);
  const db = new Database(dbFile, { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.equal(db.prepare('SELECT COUNT(*) FROM photos').pluck().get(), 48);
    assert.equal(db.prepare("SELECT COUNT(*) FROM files WHERE status = 'present'").pluck().get(), 48);
  } finally {
    db.close();
  }
});

test('search answers while indexing is still running', async () => {
  const photos = await samplePhotos('busy', 40);
  const library = await Library.open({ dir: path.join(tempDir('busy-lib'), 'library'), packDirs: [packs], runtime: { providers: ['cpu'], threads: 1 }, watch: false });
  try {
    let indexed = 0;
    library.on('indexed', () => indexed++);
    library.addFolder(photos);
    while (indexed < 8) await new Promise((r) => setTimeout(r, 20));
    const hits = await library.search('a large red circle on a beach', { limit: 5 });
    const status = library.status();
    assert.ok(hits.length > 0 && hits.length <= 5);
    assert.ok(status.counts.pending > 0, 'indexing was still under way during the search');
    assert.ok(hits.every((h) => h.path.startsWith(photos) && h.score <= 1.0001));
    await library.settled();
    assert.equal(library.status().counts.indexed, 40);
  } finally {
    await library.close();
  }
});
