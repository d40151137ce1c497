// A photo's files by id, for every transport that serves them (browser mode's
// /files/..., Electron's glimpse://thumb/ and glimpse://photo/): never by path, and
// never from anything the request names other than a kind and a positive id.
import path from 'node:path';
import type { Library } from '../library/library.ts';

export type FileKind = 'thumb' | 'photo';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.webp': 'image/webp', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg',
  '.gif': 'image/gif', '.avif': 'image/avif', '.heic': 'image/heic', '.heif': 'image/heif', '.tif': 'image/tiff', '.tiff': 'image/tiff',
  '.json': 'application/json', '.ico': 'image/x-icon', '.woff2': 'font/woff2',
};

/** The Content-Type to send a file with, from its extension. */
export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** `kind` and `id` as a request spells them (text), or null when they name no photo file. */
export function fileRequest(kind: string, idText: string): { kind: FileKind; id: number } | null {
  if (kind !== 'thumb' && kind !== 'photo') return null;
  if (!/^[1-9]\d{0,15}$/.test(idText)) return null;
  const id = Number(idText);
  return Number.isSafeInteger(id) ? { kind, id } : null;
}

/** The file to send for a photo's thumbnail or original, or null when there is none. */
export async function photoFile(library: Library, kind: FileKind, id: number): Promise<{ file: string; type: string } | null> {
  try {
    if (kind === 'thumb') {
      const file = await library.thumbnail(id);
      return { file, type: contentType(file) };
    }
    // The original, or a JPEG made from it when browsers cannot show its format (HEIC, TIFF).
    const viewable = await library.photoFile(id);
    return { file: viewable.path, type: viewable.type };
  } catch {
    // Unknown id, no file present, or a thumbnail that cannot be made: all "not found" to the page.
    return null;
  }
}
