// Bringing the catalog in line with the disk: one file at a time (for watcher
// events) or a whole folder (at start-up, on a rescan and when a drive returns).
import fs from 'node:fs';
import path from 'node:path';
import type { Catalog, FolderRow } from './catalog.ts';
import { FileProblem, hasUndecodableName, isFolder, isIgnoredName, isPhotoPath, isUtf8, readIdentity, undecodableName } from './files.ts';

export interface ScanResult { seen: number; added: number; updated: number; removed: number; errors: number }

export type SyncChange = 'unchanged' | 'added' | 'updated' | 'removed' | 'error';

/** Records one photo file as it is now on disk. Returns what changed. */
export async function syncFile(catalog: Catalog, folder: FolderRow, file: string): Promise<SyncChange> {
  const row = catalog.file(file);
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === 'ENOENT' || code === 'ENOTDIR') && hasUndecodableName(file)) return recordProblem(catalog, folder, file, undecodableName(file));
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      if (!row) return 'unchanged';
      catalog.removeFile(file);
      return 'removed';
    }
    return recordProblem(catalog, folder, file, code === 'ELOOP' ? new FileProblem('symlink-loop', `${file} is a symbolic link loop`)
      : new FileProblem('unreadable', `${file} cannot be read (${code})`));
  }
  // A file that failed to read is read again every time: its permissions may have been
  // fixed without its size or modification time changing.
  if (row && row.status === 'present' && row.size === stat.size && row.mtime_ms === stat.mtimeMs && row.photo_id !== null && row.error_code === null) {
    return 'unchanged';
  }
  try {
    const identity = await readIdentity(file);
    catalog.recordFile(folder.id, file, identity);
    return row ? 'updated' : 'added';
  } catch (err) {
    if (!(err instanceof FileProblem)) throw err;
    if (err.code === 'vanished') {
      if (row) catalog.removeFile(file);
      return row ? 'removed' : 'unchanged';
    }
    return recordProblem(catalog, folder, file, err, stat);
  }
}

function recordProblem(catalog: Catalog, folder: FolderRow, file: string, problem: FileProblem, stat?: fs.Stats): 'error' {
  catalog.recordFileError(folder.id, file, problem.code, problem.message, stat?.size, stat?.mtimeMs);
  return 'error';
}

/** A photo file found below a folder; `undecodable` when its name is not valid UTF-8 (it cannot be opened by name). */
export interface FoundFile { path: string; undecodable: boolean }

/** Every photo file below `dir`: hidden and system entries skipped, symlinked folders not followed (no loops). */
export async function* walkPhotos(dir: string): AsyncGenerator<FoundFile> {
  let entries: Array<fs.Dirent<Buffer>>;
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch {
    return; // an unreadable subfolder is skipped; its files stay as they were
  }
  const named = entries.map((e) => ({ e, name: e.name.toString('utf8'), decodable: isUtf8(e.name) })).sort((a, b) => a.name.localeCompare(b.name));
  for (const { e, name, decodable } of named) {
    if (isIgnoredName(name)) continue;
    const full = path.join(dir, name);
    if (!decodable) {
      // Listed as failed rather than skipped: a folder (whose photos cannot be reached) or a photo.
      if (e.isDirectory() || isPhotoPath(full)) yield { path: full, undecodable: true };
      continue;
    }
    if (e.isDirectory()) yield* walkPhotos(full);
    else if ((e.isFile() || e.isSymbolicLink()) && isPhotoPath(full)) {
      if (e.isSymbolicLink() && isFolder(full)) continue;
      yield { path: full, undecodable: false };
    }
  }
}

/**
 * Scan of one folder: new and changed files are read, files that failed are read
 * again, files gone from an available folder are dropped, and an unavailable folder
 * (unmounted drive) only marks its files missing.
 */
export async function scanFolder(catalog: Catalog, folder: FolderRow): Promise<ScanResult> {
  const result: ScanResult = { seen: 0, added: 0, updated: 0, removed: 0, errors: 0 };
  if (!isFolder(folder.path)) {
    catalog.setFolderAvailable(folder.id, false);
    return result;
  }
  if (!folder.available) catalog.setFolderAvailable(folder.id, true);
  const seen = new Set<string>();
  for await (const found of walkPhotos(folder.path)) {
    seen.add(found.path);
    result.seen++;
    const change = found.undecodable ? recordProblem(catalog, folder, found.path, undecodableName(found.path)) : await syncFile(catalog, folder, found.path);
    if (change === 'added') result.added++;
    else if (change === 'updated') result.updated++;
    else if (change === 'error') result.errors++;
  }
  // The drive may have gone while we walked: then nothing is deleted.
  if (!isFolder(folder.path)) {
    catalog.setFolderAvailable(folder.id, false);
    return result;
  }
  for (const row of catalog.filesIn(folder.id)) {
    if (!seen.has(row.path)) {
      catalog.removeFile(row.path);
      result.removed++;
    }
  }
  return result;
}
