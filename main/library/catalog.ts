// Catalog operations on the SQLite file: folders, files, photos, tokens. Every
// write that must stay consistent is one transaction.
import path from 'node:path';
import { type Db, getSetting, setSetting } from './db.ts';
import type { FileIdentity } from './files.ts';

export interface FolderRow { id: number; path: string; available: number }
export interface FileRow { id: number; folder_id: number; path: string; photo_id: number | null; size: number; mtime_ms: number; status: 'present' | 'missing'; error_code: string | null; error: string | null }
export interface PendingPhoto { photoId: number; path: string }

export class Catalog {
  constructor(readonly db: Db) {}

  addFolder(dir: string): FolderRow {
    this.db.prepare('INSERT INTO folders (path) VALUES (?) ON CONFLICT(path) DO NOTHING').run(dir);
    return this.db.prepare('SELECT id, path, available FROM folders WHERE path = ?').get(dir) as FolderRow;
  }

  removeFolder(id: number): void {
    this.db.prepare('DELETE FROM folders WHERE id = ?').run(id);
  }

  folders(): FolderRow[] {
    return this.db.prepare('SELECT id, path, available FROM folders ORDER BY path').all() as FolderRow[];
  }

  /** The watched folder a path lives in (the deepest one). */
  folderOf(file: string): FolderRow | undefined {
    return this.folders().filter((f) => file === f.path || file.startsWith(f.path + path.sep)).sort((a, b) => b.path.length - a.path.length)[0];
  }

  setFolderAvailable(id: number, available: boolean): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE folders SET available = ? WHERE id = ?').run(available ? 1 : 0, id);
      // An unmounted drive loses nothing: its files are missing until it returns.
      if (!available) this.db.prepare("UPDATE files SET status = 'missing' WHERE folder_id = ?").run(id);
    })();
  }

  file(filePath: string): FileRow | undefined {
    return this.db.prepare('SELECT * FROM files WHERE path = ?').get(filePath) as FileRow | undefined;
  }

  filesIn(folderId: number): FileRow[] {
    return this.db.prepare('SELECT * FROM files WHERE folder_id = ?').all(folderId) as FileRow[];
  }

  /** A readable photo file: its photo (found by content hash, or new) and its file row. */
  recordFile(folderId: number, filePath: string, id: FileIdentity): { photoId: number; newPhoto: boolean } {
    return this.db.transaction(() => {
      const existing = this.db.prepare('SELECT id FROM photos WHERE hash = ?').get(id.hash) as { id: number } | undefined;
      let photoId = existing?.id;
      if (photoId === undefined) {
        photoId = Number(this.db.prepare('INSERT INTO photos (hash, bytes, width, height, taken_at) VALUES (?, ?, ?, ?, ?)')
          .run(id.hash, id.size, id.width, id.height, id.takenAt).lastInsertRowid);
      }
      this.db.prepare(`INSERT INTO files (folder_id, path, photo_id, size, mtime_ms, status, error_code, error, seen_at)
        VALUES (?, ?, ?, ?, ?, 'present', NULL, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        ON CONFLICT(path) DO UPDATE SET folder_id = excluded.folder_id, photo_id = excluded.photo_id, size = excluded.size,
          mtime_ms = excluded.mtime_ms, status = 'present', error_code = NULL, error = NULL, seen_at = excluded.seen_at`)
        .run(folderId, filePath, photoId, id.size, id.mtimeMs);
      return { photoId, newPhoto: existing === undefined };
    })();
  }

  /** A file that could not be read: kept in the catalog with its reason, listed as an error. */
  recordFileError(folderId: number, filePath: string, code: string, message: string, size = 0, mtimeMs = 0): void {
    this.db.prepare(`INSERT INTO files (folder_id, path, photo_id, size, mtime_ms, status, error_code, error)
      VALUES (?, ?, NULL, ?, ?, 'present', ?, ?)
      ON CONFLICT(path) DO UPDATE SET photo_id = NULL, size = excluded.size, mtime_ms = excluded.mtime_ms, status = 'present',
        error_code = excluded.error_code, error = excluded.error`).run(folderId, filePath, size, mtimeMs, code, message);
  }

  /** A file deleted (or moved away) while its folder is there. Its photo and tokens stay for a file that comes back. */
  removeFile(filePath: string): void {
    this.db.prepare('DELETE FROM files WHERE path = ?').run(filePath);
  }

  /** Photos with a present file and neither tokens nor an error for `packId`, oldest first. */
  pending(packId: string, limit: number): PendingPhoto[] {
    return this.db.prepare(`SELECT p.id AS photoId, MIN(f.path) AS path FROM photos p JOIN files f ON f.photo_id = p.id AND f.status = 'present'
      WHERE NOT EXISTS (SELECT 1 FROM tokens t WHERE t.photo_id = p.id AND t.pack_id = ?)
        AND NOT EXISTS (SELECT 1 FROM compress_errors e WHERE e.photo_id = p.id AND e.pack_id = ?)
      GROUP BY p.id ORDER BY p.id LIMIT ?`).all(packId, packId, limit) as PendingPhoto[];
  }

  /** Drops the caches an earlier revision of this pack wrote (`id` alone, or `id@old`): the
   * weights that could read them are gone. The question history is kept. The purge scans
   * whole tables, so it runs only when the revision differs from the one purged last time. */
  forgetOtherRevisions(id: string, cacheKey: string): number {
    const setting = `revision:${id}`;
    if (getSetting(this.db, setting) === cacheKey) return 0;
    let dropped = 0;
    this.db.transaction(() => {
      for (const table of ['tokens', 'captions', 'compress_errors']) {
        dropped += this.db.prepare(`DELETE FROM ${table} WHERE (pack_id = ? OR substr(pack_id, 1, ?) = ?) AND pack_id != ?`)
          .run(id, id.length + 1, `${id}@`, cacheKey).changes;
      }
      setSetting(this.db, setting, cacheKey);
    })();
    return dropped;
  }

  storeTokens(packId: string, photoId: number, tokens: Uint8Array, embedding: Float32Array): void {
    this.db.prepare('INSERT OR REPLACE INTO tokens (photo_id, pack_id, tokens, embedding) VALUES (?, ?, ?, ?)')
      .run(photoId, packId, Buffer.from(tokens.buffer, tokens.byteOffset, tokens.byteLength), Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength));
  }

  storeCompressError(packId: string, photoId: number, code: string, message: string): void {
    this.db.prepare('INSERT OR REPLACE INTO compress_errors (photo_id, pack_id, code, message) VALUES (?, ?, ?, ?)').run(photoId, packId, code, message);
  }

  tokens(photoId: number, packId: string): Uint8Array | null {
    const row = this.db.prepare('SELECT tokens FROM tokens WHERE photo_id = ? AND pack_id = ?').get(photoId, packId) as { tokens: Buffer } | undefined;
    return row ? new Uint8Array(row.tokens) : null;
  }

  counts(packId: string): { photos: number; files: number; missing: number; indexed: number; failed: number; pending: number } {
    const one = (sql: string, ...args: unknown[]) => (this.db.prepare(sql).get(...args) as { n: number }).n;
    const photos = one("SELECT COUNT(DISTINCT photo_id) AS n FROM files WHERE status = 'present' AND photo_id IS NOT NULL");
    const indexed = one(`SELECT COUNT(*) AS n FROM tokens t WHERE t.pack_id = ? AND EXISTS (SELECT 1 FROM files f WHERE f.photo_id = t.photo_id AND f.status = 'present')`, packId);
    const failedPhotos = one(`SELECT COUNT(*) AS n FROM compress_errors e WHERE e.pack_id = ? AND EXISTS (SELECT 1 FROM files f WHERE f.photo_id = e.photo_id AND f.status = 'present')`, packId);
    const failedFiles = one("SELECT COUNT(*) AS n FROM files WHERE error_code IS NOT NULL AND status = 'present'");
    return {
      photos,
      files: one("SELECT COUNT(*) AS n FROM files WHERE status = 'present'"),
      missing: one("SELECT COUNT(*) AS n FROM files WHERE status = 'missing'"),
      indexed,
      failed: failedPhotos + failedFiles,
      pending: photos - indexed - failedPhotos,
    };
  }

  /** Every file or photo that failed, with its reason. */
  errors(packId: string): Array<{ path: string; code: string; message: string }> {
    return this.db.prepare(`
      SELECT path, error_code AS code, error AS message FROM files WHERE error_code IS NOT NULL AND status = 'present'
      UNION ALL
      SELECT MIN(f.path), e.code, e.message FROM compress_errors e JOIN files f ON f.photo_id = e.photo_id AND f.status = 'present'
        WHERE e.pack_id = ? GROUP BY e.photo_id
      ORDER BY path`).all(packId) as Array<{ path: string; code: string; message: string }>;
  }
}
