// The catalog layer, part 1: folders, files and photos in the SQLite file, and the
// views the service reads (timeline, photo info, search candidates), each one
// query. Every write that must stay consistent is one transaction. Per-pack caches
// (tokens, failures, captions, questions) are in catalogPack.ts.
import path from 'node:path';
import { statements, type Db } from './db.ts';
import type { FileIdentity } from './files.ts';

export interface FolderRow { id: number; path: string; available: number }
export interface FileRow { id: number; folder_id: number; path: string; photo_id: number | null; size: number; mtime_ms: number; status: 'present' | 'missing'; error_code: string | null; error: string | null }

/** Why a photo could not be indexed for a pack. */
export interface Failure { code: string; message: string }

export interface PhotoInfo {
  id: number;
  hash: string;
  /** Present files holding this content, sorted. */
  paths: string[];
  takenAt: string | null;
  width: number | null;
  height: number | null;
  /** Whether the pack has tokens for it. */
  indexed: boolean;
  /** Why the pack could not index it, if it could not. */
  failed: Failure | null;
}

export interface TimelineItem { id: number; takenAt: string | null; failed: Failure | null }

export interface SearchFilter { folderId?: number; from?: string; to?: string }

const PHOTO_INFO = `SELECT p.id, p.hash, p.taken_at AS takenAt, p.width, p.height,
    (SELECT json_group_array(path) FROM (SELECT f.path FROM files f WHERE f.photo_id = p.id AND f.status = 'present' ORDER BY f.path)) AS paths,
    EXISTS (SELECT 1 FROM tokens t WHERE t.photo_id = p.id AND t.pack_id = @key) AS indexed,
    e.code AS failedCode, e.message AS failedMessage
  FROM photos p LEFT JOIN compress_errors e ON e.photo_id = p.id AND e.pack_id = @key`;

interface PhotoInfoRow { id: number; hash: string; takenAt: string | null; width: number | null; height: number | null; paths: string; indexed: number; failedCode: string | null; failedMessage: string | null }

function toPhotoInfo(r: PhotoInfoRow): PhotoInfo {
  return {
    id: r.id, hash: r.hash, takenAt: r.takenAt, width: r.width, height: r.height, paths: JSON.parse(r.paths) as string[],
    indexed: r.indexed === 1, failed: r.failedCode === null ? null : { code: r.failedCode, message: r.failedMessage ?? '' },
  };
}

export class Catalog {
  private readonly sql: ReturnType<typeof statements>;

  constructor(private readonly db: Db) {
    this.sql = statements(db);
  }

  addFolder(dir: string): FolderRow {
    this.sql('INSERT INTO folders (path) VALUES (?) ON CONFLICT(path) DO NOTHING').run(dir);
    return this.sql('SELECT id, path, available FROM folders WHERE path = ?').get(dir) as FolderRow;
  }

  removeFolder(id: number): void {
    this.sql('DELETE FROM folders WHERE id = ?').run(id);
  }

  folders(): FolderRow[] {
    return this.sql('SELECT id, path, available FROM folders ORDER BY path').all() as FolderRow[];
  }

  folder(id: number): FolderRow | undefined {
    return this.sql('SELECT id, path, available FROM folders WHERE id = ?').get(id) as FolderRow | undefined;
  }

  /** Every folder with the number of its present files, in one query. */
  foldersWithCounts(): Array<FolderRow & { files: number }> {
    return this.sql(`SELECT d.id, d.path, d.available, COUNT(f.id) AS files FROM folders d
      LEFT JOIN files f ON f.folder_id = d.id AND f.status = 'present' GROUP BY d.id ORDER BY d.path`).all() as Array<FolderRow & { files: number }>;
  }

  /** The watched folder a path lives in (the deepest one). */
  folderOf(file: string): FolderRow | undefined {
    return this.folders().filter((f) => file === f.path || file.startsWith(f.path + path.sep)).sort((a, b) => b.path.length - a.path.length)[0];
  }

  setFolderAvailable(id: number, available: boolean): void {
    this.db.transaction(() => {
      this.sql('UPDATE folders SET available = ? WHERE id = ?').run(available ? 1 : 0, id);
      // An unmounted drive loses nothing: its files are missing until it returns.
      if (!available) this.sql("UPDATE files SET status = 'missing' WHERE folder_id = ?").run(id);
    })();
  }

  file(filePath: string): FileRow | undefined {
    return this.sql('SELECT * FROM files WHERE path = ?').get(filePath) as FileRow | undefined;
  }

  filesIn(folderId: number): FileRow[] {
    return this.sql('SELECT * FROM files WHERE folder_id = ?').all(folderId) as FileRow[];
  }

  /** Paths by status (present or missing), sorted. */
  paths(status: FileRow['status']): string[] {
    return this.sql('SELECT path FROM files WHERE status = ? ORDER BY path').pluck().all(status) as string[];
  }

  /** Present files that could not be read, with their folder: re-read on every rescan. */
  unreadableFiles(): Array<{ path: string; folderId: number }> {
    return this.sql("SELECT path, folder_id AS folderId FROM files WHERE error_code IS NOT NULL AND status = 'present' ORDER BY path").all() as Array<{ path: string; folderId: number }>;
  }

  /** A readable photo file: its photo (found by content hash, or new) and its file row. */
  recordFile(folderId: number, filePath: string, id: FileIdentity): { photoId: number; newPhoto: boolean } {
    return this.db.transaction(() => {
      const existing = this.sql('SELECT id FROM photos WHERE hash = ?').get(id.hash) as { id: number } | undefined;
      let photoId = existing?.id;
      if (photoId === undefined) {
        photoId = Number(this.sql('INSERT INTO photos (hash, bytes, width, height, taken_at) VALUES (?, ?, ?, ?, ?)')
          .run(id.hash, id.size, id.width, id.height, id.takenAt).lastInsertRowid);
      }
      this.sql(`INSERT INTO files (folder_id, path, photo_id, size, mtime_ms, status, error_code, error, seen_at)
        VALUES (?, ?, ?, ?, ?, 'present', NULL, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        ON CONFLICT(path) DO UPDATE SET folder_id = excluded.folder_id, photo_id = excluded.photo_id, size = excluded.size,
          mtime_ms = excluded.mtime_ms, status = 'present', error_code = NULL, error = NULL, seen_at = excluded.seen_at`)
        .run(folderId, filePath, photoId, id.size, id.mtimeMs);
      return { photoId, newPhoto: existing === undefined };
    })();
  }

  /** A file that could not be read: kept in the catalog with its reason, listed as an error. */
  recordFileError(folderId: number, filePath: string, code: string, message: string, size = 0, mtimeMs = 0): void {
    this.sql(`INSERT INTO files (folder_id, path, photo_id, size, mtime_ms, status, error_code, error)
      VALUES (?, ?, NULL, ?, ?, 'present', ?, ?)
      ON CONFLICT(path) DO UPDATE SET photo_id = NULL, size = excluded.size, mtime_ms = excluded.mtime_ms, status = 'present',
        error_code = excluded.error_code, error = excluded.error`).run(folderId, filePath, size, mtimeMs, code, message);
  }

  /** A file deleted (or moved away) while its folder is there. Its photo and tokens stay for a file that comes back. */
  removeFile(filePath: string): void {
    this.sql('DELETE FROM files WHERE path = ?').run(filePath);
  }

  /** Every photo with a file present, newest first (undated last), with why `key`'s pack could not index it. */
  timeline(key: string): TimelineItem[] {
    const rows = this.sql(`SELECT p.id, p.taken_at AS takenAt, e.code, e.message FROM photos p
      LEFT JOIN compress_errors e ON e.photo_id = p.id AND e.pack_id = ?
      WHERE EXISTS (SELECT 1 FROM files f WHERE f.photo_id = p.id AND f.status = 'present')
      ORDER BY p.taken_at IS NULL, p.taken_at DESC, p.id DESC`).all(key) as Array<{ id: number; takenAt: string | null; code: string | null; message: string | null }>;
    return rows.map((r) => ({ id: r.id, takenAt: r.takenAt, failed: r.code === null ? null : { code: r.code, message: r.message ?? '' } }));
  }

  /** One photo as the views show it (the token blob is not read), or undefined. */
  photo(id: number, key: string): PhotoInfo | undefined {
    const row = this.sql(`${PHOTO_INFO} WHERE p.id = @id`).get({ id, key }) as PhotoInfoRow | undefined;
    return row && toPhotoInfo(row);
  }

  /** Many photos in one query, in the order of `ids` (unknown ids are left out). */
  photos(ids: readonly number[], key: string): PhotoInfo[] {
    if (ids.length === 0) return [];
    const rows = this.sql(`${PHOTO_INFO} WHERE p.id IN (SELECT value FROM json_each(@ids))`).all({ ids: JSON.stringify(ids), key }) as PhotoInfoRow[];
    const byId = new Map(rows.map((r) => [r.id, toPhotoInfo(r)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** The photos a search may return: a present file, within the filters. A date without a time means that whole day. */
  searchable(filter: SearchFilter = {}): Set<number> {
    const to = filter.to === undefined ? null : filter.to.length === 10 ? `${filter.to}T23:59:59` : filter.to;
    const ids = this.sql(`SELECT DISTINCT f.photo_id FROM files f JOIN photos p ON p.id = f.photo_id
      WHERE f.status = 'present' AND (@folder IS NULL OR f.folder_id = @folder)
        AND (@from IS NULL OR p.taken_at >= @from) AND (@to IS NULL OR p.taken_at <= @to)`)
      .pluck().all({ folder: filter.folderId ?? null, from: filter.from ?? null, to }) as number[];
    return new Set(ids);
  }

  setting(key: string): string | null {
    const row = this.sql('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setSetting(key: string, value: string): void {
    this.sql('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }
}
