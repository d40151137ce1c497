// What counts as a photo, and reading one file's identity: content hash, size,
// capture date. Bad files give a code and a reason instead of an exception.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import exifReader from 'exif-reader';
import sharp from 'sharp';

export const PHOTO_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.heic', '.heif', '.avif', '.tif', '.tiff', '.gif']);
const SYSTEM_FILES = new Set(['thumbs.db', 'desktop.ini', '.ds_store', 'icon\r']);

/** Hidden and system entries are never photos, nor are folders inside them. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.startsWith('~$') || SYSTEM_FILES.has(name.toLowerCase()) || name === '@eaDir' || name === '$RECYCLE.BIN';
}

/** Whether `p` is a folder now (false when it is gone or cannot be read). */
export function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A name whose bytes are not valid UTF-8 (possible on Linux and other Unix file
 * systems) cannot be opened through a JavaScript string: it decodes with U+FFFD in
 * place of the bad bytes. Such files are listed as failed with this reason, never skipped.
 */
export function undecodableName(file: string): FileProblem {
  return new FileProblem('bad-name', `${file} has a name that is not valid UTF-8 (shown with \uFFFD for the bytes that are not), so Glimpse cannot open it: rename the file to index it`);
}

/** Whether the entry `file` names is one whose real name is not valid UTF-8 (its name as given has U+FFFD in it). */
export function hasUndecodableName(file: string): boolean {
  if (!file.includes('\uFFFD')) return false;
  try {
    const base = path.basename(file);
    return fs.readdirSync(path.dirname(file), { encoding: 'buffer' }).some((raw) => !isUtf8(raw) && raw.toString('utf8') === base);
  } catch {
    return false;
  }
}

export function isUtf8(name: Buffer): boolean {
  return Buffer.from(name.toString('utf8'), 'utf8').equals(name);
}

export function isPhotoPath(file: string): boolean {
  return PHOTO_EXTENSIONS.has(path.extname(file).toLowerCase()) && !isIgnoredName(path.basename(file));
}

export interface FileIdentity {
  hash: string;
  size: number;
  mtimeMs: number;
  width: number | null;
  height: number | null;
  /** ISO 8601 local time from EXIF DateTimeOriginal, else null. */
  takenAt: string | null;
}

export class FileProblem extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function describe(err: NodeJS.ErrnoException, file: string): FileProblem {
  switch (err.code) {
    case 'ENOENT': return new FileProblem('vanished', `${file} disappeared while it was being read`);
    case 'EACCES':
    case 'EPERM': return new FileProblem('unreadable', `${file} cannot be read (permission denied)`);
    case 'ELOOP': return new FileProblem('symlink-loop', `${file} is a symbolic link loop`);
    case 'EISDIR': return new FileProblem('not-a-file', `${file} is a folder`);
    default: return new FileProblem('unreadable', `${file} cannot be read (${err.code ?? err.message})`);
  }
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  const stream = fs.createReadStream(file);
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function exifDate(exif: Buffer | undefined): string | null {
  if (!exif) return null;
  try {
    const tags = exifReader(exif);
    const d = (tags.Photo?.DateTimeOriginal ?? tags.Image?.DateTime) as Date | undefined;
    // exif-reader reads the naive local time as UTC; keep it naive.
    return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString().slice(0, 19) : null;
  } catch {
    return null;
  }
}

/** Hash and header facts of one file. Pixels are not decoded here: that is the engine's job. */
export async function readIdentity(file: string): Promise<FileIdentity> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
    if (!stat.isFile()) throw new FileProblem('not-a-file', `${file} is not a regular file`);
    if (stat.size === 0) throw new FileProblem('empty', `${file} is empty (0 bytes)`);
    const hash = await sha256(file);
    let width: number | null = null;
    let height: number | null = null;
    let takenAt: string | null = null;
    try {
      const meta = await sharp(file).metadata();
      width = meta.autoOrient?.width ?? meta.width ?? null;
      height = meta.autoOrient?.height ?? meta.height ?? null;
      takenAt = exifDate(meta.exif);
    } catch {
      // Unknown to sharp (HEIC without HEVC support, or damaged): the engine gives the real reason.
    }
    return { hash, size: stat.size, mtimeMs: stat.mtimeMs, width, height, takenAt };
  } catch (err) {
    if (err instanceof FileProblem) throw err;
    throw describe(err as NodeJS.ErrnoException, file);
  }
}
