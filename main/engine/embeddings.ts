// The token-embedding table, float32 or float16 on disk (pack format 2 stores a real
// model's table as float16: 151k x 896 is 272 MB instead of 544). Kept as stored and
// widened to float32 a row at a time when looked up.
import fs from 'node:fs';
import { fromHalf } from './float16.ts';

export class EmbeddingTable {
  private constructor(readonly rows: number, readonly d: number, private readonly f32: Float32Array | null, private readonly f16: Uint16Array | null) {}

  static read(file: string, dtype: 'float32' | 'float16', rows: number, d: number): EmbeddingTable {
    const buf = fs.readFileSync(file);
    const bytes = dtype === 'float16' ? 2 : 4;
    if (buf.byteLength !== rows * d * bytes) throw new Error(`${file} holds ${buf.byteLength} bytes, ${rows}x${d} ${dtype} needs ${rows * d * bytes}`);
    // Typed views need an offset that is a multiple of their width: a large file's buffer is its own
    // (offset 0, viewed in place); a small pooled one is copied. Little-endian, as every platform we ship.
    const aligned = buf.byteOffset % bytes === 0;
    const own = aligned ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const offset = aligned ? buf.byteOffset : 0;
    const n = rows * d;
    return dtype === 'float16' ? new EmbeddingTable(rows, d, null, new Uint16Array(own, offset, n)) : new EmbeddingTable(rows, d, new Float32Array(own, offset, n), null);
  }

  /** Rows `ids` as float32, [n, d]. */
  lookup(ids: readonly number[]): Float32Array {
    const { d } = this;
    const out = new Float32Array(ids.length * d);
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= this.rows) throw new Error(`token id ${id} is outside the vocabulary`);
      if (this.f32) {
        out.set(this.f32.subarray(id * d, (id + 1) * d), i * d);
      } else {
        const half = this.f16 as Uint16Array;
        for (let j = 0; j < d; j++) out[i * d + j] = fromHalf(half[id * d + j] as number);
      }
    });
    return out;
  }
}
