// Bringing the catalog in line with the disk: one file at a time (for watcher
// events) or a whole folder (at start-up and when a drive returns).
import fs from 'node:fs';
import path from 'node:path';
import type { Catalog, FolderRow } from './catalog.ts';
import { FileProblem, isIgnoredName, isPhotoPath, readIdentity } from './files.ts';

export interface ScanResult { seen: number; added: number; updated: number; removed: number; errors: number; newPhotos: number }

function folderAvailable(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Records one photo file as it is now on disk. Returns what changed. */
export async function syncFile(catalog: Catalog, folder: FolderRow, file: string): Promise<'unchanged' | 'added' | 'updated' | 'removed' | 'error'> {
  const row = catalog.file(file);
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      if (!row) return 'unchanged';
      catalog.removeFile(file);
      return 'removed';
    }
    const problem = code === 'ELOOP' ? new FileProblem('symlink-loop', `${file} is a symbolic link loop`)
      : new FileProblem('unreadable', `${file} cannot be read (${code})`);
    catalog.recordFileError(folder.id, file, problem.code, problem.message);
    return 'error';
  }
  if (row && row.status === 'present' && row.size === stat.size && row.mtime_ms === stat.mtimeMs && (row.photo_id !== null || row.error_code !== null)) {
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
    catalog.recordFileError(folder.id, file, err.code, err.message, stat.size, stat.mtimeMs);
    return 'error';
  }
}

/** Every photo file below `dir`: hidden and system entries skipped, symlinked folders not followed (no loops). */
export async function* walkPhotos(dir: string): AsyncGenerator<string> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return; // an unreadable subfolder is skipped; its files stay as they were
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (isIgnoredName(e.name)) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* walkPhotos(full);
    else if ((e.isFile() || e.isSymbolicLink()) && isPhotoPath(full)) {
      if (e.isSymbolicLink()) {
        const target = await fs.promises.stat(full).catch((err: NodeJS.ErrnoException) => err);
        if (!(target instanceof Error) && target.isDirectory()) continue;
      }
      yield full;
    }
  }
}

/**
 * Start-up scan of one folder: new and changed files are read, files gone from an
 * available folder are dropped, and an unavailable folder (unmounted drive) only
 * marks its files missing.
 */
export async function scanFolder(catalog: Catalog, folder: FolderRow, signal?: AbortSignal, onFile?: (file: string) => void): Promise<ScanResult> {
  const result: ScanResult = { seen: 0, added: 0, updated: 0, removed: 0, errors: 0, newPhotos: 0 };
  if (!folderAvailable(folder.path)) {
    catalog.setFolderAvailable(folder.id, false);
    return result;
  }
  if (!folder.available) catalog.setFolderAvailable(folder.id, true);
  const seen = new Set<string>();
  for await (const file of walkPhotos(folder.path)) {
    signal?.throwIfAborted();
    seen.add(file);
    result.seen++;
    onFile?.(file);
    const change = await syncFile(catalog, folder, file);
    if (change === 'added') result.added++;
    else if (change === 'updated') result.updated++;
    else if (change === 'error') result.errors++;
  }
  // The drive may have gone while we walked: then nothing is deleted.
  if (!folderAvailable(folder.path)) {
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
