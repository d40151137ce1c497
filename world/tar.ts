// POSIX ustar archives, written and read: the container of webdataset shards.
// Written by hand (512-byte headers, octal fields, a byte-sum checksum) because
// no tar package is a dependency; the reader is the check that they parse back.

const BLOCK = 512;
/** GNU tar and Python's tarfile pad an archive to 20 blocks; readers accept any multiple of 512. */
const RECORD = 20 * BLOCK;
/** A fixed modification time keeps shards byte-identical between runs (2024-01-01T00:00:00Z). */
export const TAR_MTIME = 1_704_067_200;

export class TarError extends Error {
  override name = 'TarError';
}

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL terminator, as GNU tar writes them.
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new TarError(`value ${value} does not fit a ${width}-byte tar field`);
  return `${digits.padStart(width - 1, '0')}\0`;
}

/** The 512-byte ustar header of a regular file. Names up to 100 bytes (webdataset keys are short). */
export function tarHeader(name: string, size: number, mtime = TAR_MTIME): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length === 0 || nameBytes.length > 100) throw new TarError(`tar member name must be 1..100 bytes: '${name}'`);
  const h = Buffer.alloc(BLOCK);
  nameBytes.copy(h, 0);
  h.write(octal(0o644, 8), 100, 'ascii'); // mode
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
  h.write('0', 156, 'ascii'); // typeflag: regular file
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** Header, data and zero padding to the next 512-byte boundary. */
export function tarMember(name: string, data: Buffer): Buffer {
  const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
  return Buffer.concat([tarHeader(name, data.length), data, Buffer.alloc(pad)]);
}

/** The end-of-archive marker (two zero blocks) plus padding to a whole record, given the bytes written so far. */
export function tarEnd(written: number): Buffer {
  const total = Math.ceil((written + 2 * BLOCK) / RECORD) * RECORD;
  return Buffer.alloc(total - written);
}

export interface TarEntry { name: string; data: Buffer }

/** Regular files of a ustar archive in order; a bad checksum, a truncated member or a missing end marker is a TarError. */
export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let at = 0;
  while (at + BLOCK <= archive.length) {
    const h = archive.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) return entries;
    const field = (from: number, len: number) => h.subarray(from, from + len).toString('ascii').replace(/\0.*$/s, '').trim();
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
    if (parseInt(field(148, 8), 8) !== sum) throw new TarError(`bad header checksum at byte ${at}`);
    const size = parseInt(field(124, 12), 8);
    const prefix = field(345, 155);
    const base = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const type = field(156, 1) || '0';
    const start = at + BLOCK;
    if (start + size > archive.length) throw new TarError(`member ${base} is truncated`);
    if (type === '0') entries.push({ name: prefix ? `${prefix}/${base}` : base, data: archive.subarray(start, start + size) });
    at = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new TarError('archive ends without its end-of-archive blocks');
}
