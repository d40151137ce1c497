// Cosine search over the retrieval embeddings of one pack, held as int8 rows with one
// scale each (d + 4 bytes a photo instead of 4d) and scanned by a WebAssembly SIMD loop
// (int8Scan.ts). At d = 896 a scan of 100,000 photos is a few milliseconds
// (bench/search-width.ts measures it against a float32 scan and sqlite-vec); recall
// against the exact float32 ranking is measured in test/library/search.test.ts, and
// filters are a set of allowed photo ids.
import { quantizeRow } from '../engine/tokenCodec.ts';
import { Int8Scan } from './int8Scan.ts';

export interface Hit { photoId: number; score: number }

export class VectorIndex {
  private ids = new Int32Array(0);
  private scales = new Float32Array(0);
  private count = 0;
  private readonly slot = new Map<number, number>();
  private readonly scan = new Int8Scan();
  /** Row stride in bytes: d rounded up to the scan's 16-value step, zero-padded. */
  private readonly width: number;
  /** Where rows start in the scan's memory; the quantized query sits before them. */
  private readonly rowsAt: number;

  constructor(readonly d: number) {
    this.width = Math.ceil(d / 16) * 16;
    this.rowsAt = this.width;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes the index holds per photo (row, scale and id). */
  get bytesPerPhoto(): number {
    return this.width + 8;
  }

  /** An index of `d`-wide embeddings filled from (photo id, embedding) pairs. */
  static from(d: number, entries: Iterable<[number, Float32Array]>): VectorIndex {
    const index = new VectorIndex(d);
    for (const [photoId, embedding] of entries) index.add(photoId, embedding);
    return index;
  }

  add(photoId: number, embedding: Float32Array): void {
    if (embedding.length !== this.d) throw new Error(`embedding has ${embedding.length} values, the index holds ${this.d}`);
    let at = this.slot.get(photoId);
    if (at === undefined) {
      if (this.count === this.ids.length) this.grow();
      at = this.count++;
      this.slot.set(photoId, at);
      this.ids[at] = photoId;
    }
    const memory = this.scan.reserve(this.rowsAt + this.ids.length * this.width);
    this.scales[at] = quantizeRow(embedding, new Int8Array(memory, this.rowsAt + at * this.width, this.d)).scale;
  }

  private grow(): void {
    const capacity = Math.max(1024, this.ids.length * 2);
    const ids = new Int32Array(capacity);
    ids.set(this.ids);
    const scales = new Float32Array(capacity);
    scales.set(this.scales);
    this.ids = ids;
    this.scales = scales;
  }

  /** Top `k` by cosine (embeddings are normalised), optionally among `allowed` photos only. */
  search(query: Float32Array, k: number, allowed?: ReadonlySet<number>): Hit[] {
    if (query.length !== this.d) throw new Error(`query has ${query.length} values, the index holds ${this.d}`);
    const n = this.count;
    const scoresAt = this.rowsAt + this.ids.length * this.width;
    const memory = this.scan.reserve(scoresAt + 4 * n);
    const q = new Int8Array(memory, 0, this.width);
    q.fill(0);
    const qScale = quantizeRow(query, q.subarray(0, this.d)).scale;
    this.scan.run(this.rowsAt, 0, scoresAt, n, this.width);
    const dots = new Int32Array(memory, scoresAt, n);
    const { ids, scales } = this;
    // A small sorted list of the best so far; `floor` is its worst score once full.
    const best: Hit[] = [];
    let floor = -Infinity;
    for (let r = 0; r < n; r++) {
      const s = (dots[r] as number) * (scales[r] as number) * qScale;
      if (best.length === k && s <= floor) continue;
      const id = ids[r] as number;
      if (allowed && !allowed.has(id)) continue;
      let at = best.length;
      while (at > 0 && (best[at - 1] as Hit).score < s) at--;
      best.splice(at, 0, { photoId: id, score: s });
      if (best.length > k) best.pop();
      if (best.length === k) floor = (best[k - 1] as Hit).score;
    }
    return best;
  }
}
