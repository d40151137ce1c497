// Pictures of photos for the views, on disk by content hash (the same photo in two
// folders has one, and a moved photo keeps it): thumbnails, and full-size JPEGs of
// photos browsers cannot show as they are (HEIC, TIFF, ...). Both decode through
// the engine's media module, so every format that indexes also shows.
import fs from 'node:fs';
import path from 'node:path';
import { browserImageType, thumbnailWebp, toJpeg } from '../engine/media.ts';

export const THUMBNAIL_SIZE = 320;

export interface ServedFile { path: string; type: string }

export class Thumbnails {
  constructor(private readonly dir: string) {}

  pathFor(hash: string, kind: 'thumb' | 'jpeg' = 'thumb'): string {
    return path.join(this.dir, hash.slice(0, 2), kind === 'thumb' ? `${hash}.webp` : `${hash}.jpg`);
  }

  /** The thumbnail's path, made from `source` on first use. */
  async get(hash: string, source: string): Promise<string> {
    return this.cached(this.pathFor(hash), () => thumbnailWebp(source, THUMBNAIL_SIZE));
  }

  /** The photo as a browser can show it: the file itself with its type, or a JPEG made from it once. */
  async viewable(hash: string, source: string): Promise<ServedFile> {
    const type = await browserImageType(source);
    if (type) return { path: source, type };
    return { path: await this.cached(this.pathFor(hash, 'jpeg'), () => toJpeg(source)), type: 'image/jpeg' };
  }

  private async cached(file: string, make: () => Promise<Buffer>): Promise<string> {
    if (fs.existsSync(file)) return file;
    const bytes = await make();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Written aside and renamed, so a reader never sees half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
    return file;
  }
}
