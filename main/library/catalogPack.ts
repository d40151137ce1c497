// The catalog layer, part 2: what each model pack keeps per photo, filed under the
// pack's cache key (`id@revision`): compressed tokens and retrieval embeddings,
// why a photo could not be indexed, captions, and the question history.
import type { TokenEncoding } from '../engine/tokenCodec.ts';
import { statements, type Db } from './db.ts';

export interface PendingPhoto { photoId: number; path: string }

export interface Counts { photos: number; files: number; missing: number; indexed: number; failed: number; pending: number }

/** What the engine made of one photo, as the queue commits it. */
export type Outcome =
  | { photoId: number; path: string; tokens: Uint8Array; encoding: TokenEncoding; embedding: Float32Array }
  | { photoId: number; path: string; vanished: true }
  | { photoId: number; path: string; failed: { code: string; message: string } };

/** One photo's stored tokens and how they are encoded. */
export interface CachedTokens { bytes: Uint8Array; encoding: TokenEncoding }

/** What Settings shows about the active pack. */
export interface PackFootprint {
  /** The pack's files on disk. */
  packBytes: number;
  /** Its cached tokens and embeddings in the catalog. */
  cacheBytes: number;
  /** Indexing speed last measured with it; null before it indexed anything. */
  photosPerSecond: number | null;
}

export interface QuestionRow { question: string; answer: string; budget: number; askedAt: string }

const bytes = (a: Uint8Array | Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

export class PackCache {
  private readonly sql: ReturnType<typeof statements>;

  constructor(private readonly db: Db) {
    this.sql = statements(db);
  }

  /** Photos with a present file and neither tokens nor a failure for `key`, oldest first. */
  pending(key: string, limit: number): PendingPhoto[] {
    // Photos in id order, stopping at `limit`; the done and failed sets come from the small indexes.
    return this.sql(`SELECT p.id AS photoId, (SELECT MIN(f.path) FROM files f WHERE f.photo_id = p.id AND f.status = 'present') AS path
      FROM photos p
      WHERE p.id NOT IN (SELECT photo_id FROM tokens WHERE pack_id = @key)
        AND p.id NOT IN (SELECT photo_id FROM compress_errors WHERE pack_id = @key)
        AND EXISTS (SELECT 1 FROM files f WHERE f.photo_id = p.id AND f.status = 'present')
      ORDER BY p.id LIMIT @limit`).all({ key, limit }) as PendingPhoto[];
  }

  /** One batch's results in one transaction: tokens stored, failures recorded, vanished files dropped,
   * and the indexing rate measured so far (photos per second), kept for ETAs in later sessions. */
  commit(key: string, outcomes: readonly Outcome[], photosPerSecond?: number): void {
    const storeTokens = this.sql('INSERT OR REPLACE INTO tokens (photo_id, pack_id, tokens, embedding, encoding) VALUES (?, ?, ?, ?, ?)');
    const storeFailure = this.sql('INSERT OR REPLACE INTO compress_errors (photo_id, pack_id, code, message) VALUES (?, ?, ?, ?)');
    const dropFile = this.sql('DELETE FROM files WHERE path = ?');
    this.db.transaction(() => {
      for (const o of outcomes) {
        if ('tokens' in o) storeTokens.run(o.photoId, key, bytes(o.tokens), bytes(o.embedding), o.encoding);
        else if ('vanished' in o) dropFile.run(o.path);
        else storeFailure.run(o.photoId, key, o.failed.code, o.failed.message);
      }
      if (photosPerSecond !== undefined && photosPerSecond > 0) this.setSetting(`rate:${key}`, String(photosPerSecond));
    })();
  }

  /** The last indexing rate measured for `key` (photos per second, smoothed), in any session; null before the first batch. */
  measuredRate(key: string): number | null {
    const value = this.sql('SELECT value FROM settings WHERE key = ?').pluck().get(`rate:${key}`) as string | undefined;
    const rate = value === undefined ? NaN : Number(value);
    return Number.isFinite(rate) && rate > 0 ? rate : null;
  }

  private setSetting(key: string, value: string): void {
    this.sql('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** The stored tokens of one photo, as they were written (float16 rows from before int8 stay float16). */
  tokens(photoId: number, key: string): CachedTokens | null {
    const row = this.sql('SELECT tokens, encoding FROM tokens WHERE photo_id = ? AND pack_id = ?').get(photoId, key) as { tokens: Buffer; encoding: TokenEncoding } | undefined;
    return row ? { bytes: new Uint8Array(row.tokens), encoding: row.encoding } : null;
  }

  /** Bytes of cached tokens and embeddings filed under `key`: the pack's cache on disk, less SQLite's page overhead. */
  cacheBytes(key: string): number {
    return this.sql('SELECT COALESCE(SUM(length(tokens) + length(embedding)), 0) FROM tokens WHERE pack_id = ?').pluck().get(key) as number;
  }

  /** Every stored retrieval embedding of `key`, for the in-memory search index. */
  *embeddings(key: string): Generator<[number, Float32Array]> {
    const rows = this.sql('SELECT photo_id, embedding FROM tokens WHERE pack_id = ?').raw().iterate(key) as Iterable<[number, Buffer]>;
    for (const [photoId, blob] of rows) yield [photoId, new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength))];
  }

  failure(photoId: number, key: string): { code: string; message: string } | null {
    return (this.sql('SELECT code, message FROM compress_errors WHERE photo_id = ? AND pack_id = ?').get(photoId, key) as { code: string; message: string } | undefined) ?? null;
  }

  /**
   * Forgets why photos could not be indexed (every pack, or one), so they are tried
   * again: all of them, or those with a file in `folderId`. Returns how many.
   */
  clearFailures(scope: { key?: string; folderId?: number } = {}): number {
    return this.sql(`DELETE FROM compress_errors WHERE (@key IS NULL OR pack_id = @key)
      AND (@folder IS NULL OR photo_id IN (SELECT photo_id FROM files WHERE folder_id = @folder))`)
      .run({ key: scope.key ?? null, folder: scope.folderId ?? null }).changes;
  }

  /** The library's numbers for `key`, in one query. */
  counts(key: string): Counts {
    const row = this.sql(`SELECT
        (SELECT COUNT(DISTINCT photo_id) FROM files WHERE status = 'present' AND photo_id IS NOT NULL) AS photos,
        (SELECT COUNT(*) FROM files WHERE status = 'present') AS files,
        (SELECT COUNT(*) FROM files WHERE status = 'missing') AS missing,
        (SELECT COUNT(*) FROM tokens t WHERE t.pack_id = @key AND EXISTS (SELECT 1 FROM files f WHERE f.photo_id = t.photo_id AND f.status = 'present')) AS indexed,
        (SELECT COUNT(*) FROM compress_errors e WHERE e.pack_id = @key AND EXISTS (SELECT 1 FROM files f WHERE f.photo_id = e.photo_id AND f.status = 'present')) AS failedPhotos,
        (SELECT COUNT(*) FROM files WHERE error_code IS NOT NULL AND status = 'present') AS failedFiles`).get({ key }) as Omit<Counts, 'failed' | 'pending'> & { failedPhotos: number; failedFiles: number };
    const { failedPhotos, failedFiles, ...rest } = row;
    return { ...rest, failed: failedPhotos + failedFiles, pending: rest.photos - rest.indexed - failedPhotos };
  }

  /** Every file or photo that failed, with its reason. */
  errors(key: string): Array<{ path: string; code: string; message: string }> {
    return this.sql(`
      SELECT path, error_code AS code, error AS message FROM files WHERE error_code IS NOT NULL AND status = 'present'
      UNION ALL
      SELECT MIN(f.path), e.code, e.message FROM compress_errors e JOIN files f ON f.photo_id = e.photo_id AND f.status = 'present'
        WHERE e.pack_id = ? GROUP BY e.photo_id
      ORDER BY path`).all(key) as Array<{ path: string; code: string; message: string }>;
  }

  caption(photoId: number, key: string, budget: number): string | null {
    return (this.sql('SELECT text FROM captions WHERE photo_id = ? AND pack_id = ? AND budget = ?').pluck().get(photoId, key, budget) as string | undefined) ?? null;
  }

  storeCaption(photoId: number, key: string, budget: number, text: string): void {
    this.sql('INSERT OR REPLACE INTO captions (photo_id, pack_id, budget, text) VALUES (?, ?, ?, ?)').run(photoId, key, budget, text);
  }

  storeAnswer(photoId: number, key: string, budget: number, question: string, answer: string): void {
    this.sql('INSERT INTO questions (photo_id, pack_id, budget, question, answer) VALUES (?, ?, ?, ?, ?)').run(photoId, key, budget, question, answer);
  }

  history(photoId: number): QuestionRow[] {
    return this.sql('SELECT question, answer, budget, asked_at AS askedAt FROM questions WHERE photo_id = ? ORDER BY id').all(photoId) as QuestionRow[];
  }

  /** Photos filed under each cache key: what a pack switch or retrain left behind. */
  tokenCounts(): Array<{ key: string; n: number }> {
    return this.sql('SELECT pack_id AS key, COUNT(*) AS n FROM tokens GROUP BY pack_id ORDER BY pack_id').all() as Array<{ key: string; n: number }>;
  }

  /** Drops the caches an earlier revision of this pack wrote (`id` alone, or `id@old`): the
   * weights that could read them are gone. The question history is kept. The purge scans
   * whole tables, so it runs only when the revision differs from the one purged last time. */
  forgetOtherRevisions(id: string, cacheKey: string): number {
    const setting = `revision:${id}`;
    const last = this.sql('SELECT value FROM settings WHERE key = ?').pluck().get(setting) as string | undefined;
    if (last === cacheKey) return 0;
    let dropped = 0;
    this.db.transaction(() => {
      for (const table of ['tokens', 'captions', 'compress_errors']) {
        dropped += this.sql(`DELETE FROM ${table} WHERE (pack_id = ? OR substr(pack_id, 1, ?) = ?) AND pack_id != ?`)
          .run(id, id.length + 1, `${id}@`, cacheKey).changes;
      }
      this.setSetting(setting, cacheKey);
    })();
    return dropped;
  }
}
