// Thumbnails on disk, by content hash: the same photo in two folders has one
// thumbnail, and a moved photo keeps it.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export const THUMBNAIL_SIZE = 320;

export class Thumbnails {
  constructor(private readonly dir: string) {}

  pathFor(hash: string): string {
    return path.join(this.dir, hash.slice(0, 2), `${hash}.webp`);
  }

  /** The thumbnail's path, made from `source` on first use. */
  async get(hash: string, source: string): Promise<string> {
    const file = this.pathFor(hash);
    if (fs.existsSync(file)) return file;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await sharp(source, { limitInputPixels: 100_000_000, failOn: 'truncated' })
      .rotate()
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toFile(tmp);
    fs.renameSync(tmp, file);
    return file;
  }
}
