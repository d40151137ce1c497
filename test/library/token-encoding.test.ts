// Cached tokens in the pack's encoding (int8 by default), and a library written before
// int8 existed (schema 2, float16 token rows, no encoding column) still opening,
// searching and answering from its float16 rows without compressing anything again.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Engine } from '../../main/engine/engine.ts';
import { loadPack } from '../../main/engine/pack.ts';
import { tokenBytes } from '../../main/engine/tokenCodec.ts';
import { SCHEMA_VERSION } from '../../main/library/db.ts';
import { Library } from '../../main/library/library.ts';
import { writeSamples } from '../../world/samples.ts';
import { tempDir, testPackDir } from '../helpers.ts';
import { openIndexedLibrary } from '../indexed-library.ts';

type TokenRow = { photo_id: number; pack_id: string; tokens: Buffer; embedding: Buffer; created_at: string; encoding?: string };

/** Rewrites a library file into what schema 2 wrote: float16 tokens straight from the engine, the old table, user_version 2. */
async function downgrade(dbFile: string, paths: Map<number, string>): Promise<void> {
  const pack = loadPack(testPackDir());
  const old = await Engine.open({ ...pack, spec: { ...pack.spec, tokenEncoding: 'float16' } }, { providers: ['cpu'], threads: 1 });
  const db = new Database(dbFile);
  try {
    const rows = db.prepare('SELECT * FROM tokens').all() as TokenRow[];
    const float16 = await old.compressImages(rows.map((r) => paths.get(r.photo_id) as string));
    db.transaction(() => {
      db.exec(`DROP TABLE tokens;
        CREATE TABLE tokens (photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE, pack_id TEXT NOT NULL, tokens BLOB NOT NULL,
          embedding BLOB NOT NULL, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), PRIMARY KEY (photo_id, pack_id)) WITHOUT ROWID;
        CREATE INDEX tokens_pack ON tokens(pack_id, photo_id);`);
      const insert = db.prepare('INSERT INTO tokens (photo_id, pack_id, tokens, embedding, created_at) VALUES (?, ?, ?, ?, ?)');
      rows.forEach((r, i) => {
        const f = float16[i];
        if (!f?.ok || f.encoding !== 'float16') throw new Error('the float16 engine did not compress a photo');
        insert.run(r.photo_id, r.pack_id, Buffer.from(f.tokens), r.embedding, r.created_at);
      });
      db.pragma('user_version = 2');
    })();
  } finally {
    db.close();
    await old.close();
  }
}

test('int8 by default; a schema-2 library with float16 tokens opens, searches and answers from them, and new photos are int8', async () => {
  const root = tempDir('token-encoding');
  const { library } = await openIndexedLibrary(root, { count: 6, seed: 31 });
  const engine = await Engine.open(testPackDir(), { providers: ['cpu'], threads: 1 });
  const info = engine.info();
  const { summaryTokens: k, hidden: d } = info.dims;
  const items = library.timeline();
  const paths = new Map(items.map((p) => [p.id, library.photo(p.id).paths[0] as string]));
  await library.close();
  const dbFile = path.join(root, 'library', 'glimpse.db');
  const before = new Database(dbFile, { readonly: true });
  const stored = before.prepare('SELECT encoding, length(tokens) AS n FROM tokens').all() as Array<{ encoding: string; n: number }>;
  before.close();
  assert.equal(stored.length, 6);
  assert.ok(stored.every((r) => r.encoding === 'int8' && r.n === tokenBytes('int8', k, d)), 'the test pack says nothing, so int8');
  assert.equal(info.bytesPerPhoto, k * (d + 4));

  await downgrade(dbFile, paths);
  const createdBefore = (new Database(dbFile, { readonly: true }).prepare('SELECT photo_id, created_at FROM tokens ORDER BY photo_id').all());
  const reopened = await Library.open({ dir: path.join(root, 'library'), packDirs: [path.dirname(testPackDir())], runtime: { providers: ['cpu'], threads: 1 }, watch: false });
  try {
    await reopened.settled();
    assert.equal(reopened.status().counts.indexed, 6);
    assert.equal(reopened.status().counts.pending, 0);
    const hits = await reopened.search('a red circle', { limit: 3 });
    assert.equal(hits.length, 3);
    // The answer from the float16 row equals the engine's answer from the same float16 bytes.
    const photoId = hits[0]?.photoId as number;
    const db = new Database(dbFile, { readonly: true });
    const row = db.prepare('SELECT tokens, encoding FROM tokens WHERE photo_id = ?').get(photoId) as { tokens: Buffer; encoding: string };
    db.close();
    assert.equal(row.encoding, 'float16');
    assert.equal(row.tokens.length, 2 * k * d);
    const question = 'What colour is the circle?';
    const answer = await reopened.ask(photoId, question, { budget: 4 });
    const direct = await engine.generate(new Uint8Array(row.tokens), question, { budget: 4, encoding: 'float16', maxNewTokens: 48 });
    assert.equal(answer, direct.text);
    assert.ok((await reopened.caption(photoId)).length > 0);

    // A new photo goes in as int8 beside the float16 rows; both are found.
    const more = path.join(root, 'more');
    await writeSamples({ count: 1, seed: 77, size: 96, out: more });
    reopened.addFolder(path.join(more, 'photos'));
    await reopened.settled();
    const after = new Database(dbFile, { readonly: true });
    const encodings = after.prepare('SELECT encoding, COUNT(*) AS n FROM tokens GROUP BY encoding ORDER BY encoding').all();
    assert.deepEqual(encodings, [{ encoding: 'float16', n: 6 }, { encoding: 'int8', n: 1 }]);
    assert.deepEqual(after.prepare('SELECT photo_id, created_at FROM tokens WHERE encoding = \'float16\' ORDER BY photo_id').all(), createdBefore, 'nothing compressed again');
    assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    after.close();
    assert.equal((await reopened.search('a photo', { limit: 10 })).length, 7);
  } finally {
    await reopened.close();
    await engine.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
