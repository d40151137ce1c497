// Cosine search over the retrieval embeddings of one pack, held as int8 rows with one
// scale each (d + 4 bytes a photo instead of 4d) and scanned by a WebAssembly SIMD loop
// (simdScan.ts). When the rows outgrow what one core reads in the time a search may take
// (7B-width packs: 410 MB at 100,000 photos x 4096), a sign-bit pre-filter (signCodes.ts,
// d / 8 bytes a photo) picks the candidates and only those int8 rows are re-ranked.
// bench/search-width.ts measures both against a float32 scan; recall against the exact
// float32 ranking is tested in test/library/search.test.ts. Filters are a set of allowed
// photo ids.
import { quantizeRow } from '../engine/tokenCodec.ts';
import { queryTables, signWidth, topRows, writeSignBits } from './signCodes.ts';
import { SimdScan } from './simdScan.ts';

export interface Hit { photoId: number; score: number }

export interface IndexOptions {
  /**
   * 'auto' (default): the sign pre-filter once the int8 rows pass `PREFILTER_BYTES`;
   * 'always' / 'never' force it on or off.
   */
  prefilter?: 'auto' | 'always' | 'never';
  /** How many candidates the pre-filter passes on (default: `candidateCount(n)`). */
  candidates?: number;
  /** 2: a helper thread takes half of each large scan (scanHelper.ts); default 1. */
  threads?: 1 | 2;
}

/** Above this many bytes of int8 rows (n x d) the exact scan gives way to the pre-filter. */
export const PREFILTER_BYTES = 128 * 2 ** 20;
/**
 * Candidates re-ranked out of n photos: 2 %, and at least 2,000. The sign estimate
 * correlates ~0.8 with the true score, so the true top 10 sit high among the estimates
 * but not at the top; the larger n, the further out they are, so a share that is
 * enough at 100,000 is too few at 30,000, where the floor takes over
 * (bench/search-width.ts measures recall at 10k and 100k).
 */
export const candidateCount = (n: number): number => Math.max(2000, Math.ceil(0.02 * n));

export class VectorIndex {
  private ids = new Int32Array(0);
  private scales = new Float32Array(0);
  /** Per photo: its sign code's ones and |x|² / |x|₁ (signCodes.ts). */
  private ones = new Float32Array(0);
  private factors = new Float32Array(0);
  private count = 0;
  private readonly slot = new Map<number, number>();
  /** The int8 rows, after the quantized query: [query | rows | scores | candidate list]. */
  private readonly rows: SimdScan;
  /** The sign codes, after the query's tables: [tables (32 B a code byte) | codes in blocks of 16 | scores]. */
  private readonly signs: SimdScan;
  /** Row strides in bytes: d rounded up to the scans' 16-byte step, zero-padded. */
  private readonly width: number;
  private readonly bitWidth: number;
  private estimates = new Float32Array(0);
  private scratch = new Float32Array(0);

  constructor(readonly d: number, private readonly options: IndexOptions = {}) {
    this.width = Math.ceil(d / 16) * 16;
    this.bitWidth = signWidth(d);
    this.rows = new SimdScan(options.threads);
    this.signs = new SimdScan(options.threads);
  }

  /** Stops the scans' helper threads, if any. */
  async close(): Promise<void> {
    await Promise.all([this.rows.close(), this.signs.close()]);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes the index holds per photo (int8 row, sign code, scale, ones, factor and id). */
  get bytesPerPhoto(): number {
    return this.width + this.bitWidth + 16;
  }

  /** Whether a search now reads sign codes first. */
  get prefiltering(): boolean {
    return this.prefilteringAt(this.count);
  }

  /** Whether a search would read sign codes first with `n` photos indexed. */
  prefilteringAt(n: number): boolean {
    const mode = this.options.prefilter ?? 'auto';
    return mode === 'always' || (mode === 'auto' && n * this.width > PREFILTER_BYTES);
  }

  /** An index of `d`-wide embeddings filled from (photo id, embedding) pairs. */
  static from(d: number, entries: Iterable<[number, Float32Array]>, options?: IndexOptions): VectorIndex {
    const index = new VectorIndex(d, options);
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
    const rows = this.rows.reserve(this.width + this.ids.length * this.width);
    this.scales[at] = quantizeRow(embedding, new Int8Array(rows, this.width * (1 + at), this.d)).scale;
    const codes = this.signs.reserve(this.bitWidth * (32 + this.ids.length));
    const block = new Uint8Array(codes, this.bitWidth * (32 + 16 * (at >> 4)), 16 * this.bitWidth);
    const { ones, factor } = writeSignBits(embedding, block, at & 15);
    this.ones[at] = ones;
    this.factors[at] = factor;
  }

  private grow(): void {
    const capacity = Math.max(1024, this.ids.length * 2);
    const larger = <T extends Int32Array | Float32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(capacity);
      b.set(a);
      return b;
    };
    this.ids = larger(this.ids);
    this.scales = larger(this.scales);
    this.ones = larger(this.ones);
    this.factors = larger(this.factors);
  }

  /** Top `k` by cosine (embeddings are normalised), optionally among `allowed` photos only. */
  search(query: Float32Array, k: number, allowed?: ReadonlySet<number>): Hit[] {
    if (query.length !== this.d) throw new Error(`query has ${query.length} values, the index holds ${this.d}`);
    const n = this.count;
    const want = Math.max(k, this.options.candidates ?? candidateCount(n));
    if (allowed && allowed.size <= want) {
      // Few enough allowed photos to re-rank them all: exact, no pre-filter needed.
      const rows = Int32Array.from([...allowed].map((id) => this.slot.get(id) ?? -1).filter((r) => r >= 0));
      return this.rerank(query, rows, k);
    }
    if (this.prefiltering && want < n) return this.rerank(query, this.candidates(query, want, allowed), k, allowed);
    return this.rerank(query, null, k, allowed);
  }

  /** The `m` rows whose sign codes score highest against the query (only `allowed` photos). */
  private candidates(query: Float32Array, m: number, allowed?: ReadonlySet<number>): Int32Array {
    const n = this.count;
    const blocks = Math.ceil(n / 16);
    const scoresAt = (32 + this.ids.length) * this.bitWidth;
    const memory = this.signs.reserve(scoresAt + 64 * blocks);
    const { a, b, c } = queryTables(query, new Uint8Array(memory, 0, 32 * this.bitWidth));
    this.signs.signs(32 * this.bitWidth, 0, scoresAt, blocks, this.bitWidth);
    const sums = new Int32Array(memory, scoresAt, n);
    if (this.estimates.length < n) {
      this.estimates = new Float32Array(this.ids.length);
      this.scratch = new Float32Array(this.ids.length);
    }
    const { estimates, ones, factors, ids } = this;
    for (let r = 0; r < n; r++) estimates[r] = (a * (sums[r] as number) + b * (ones[r] as number) - c) * (factors[r] as number);
    if (allowed) for (let r = 0; r < n; r++) if (!allowed.has(ids[r] as number)) estimates[r] = -Infinity;
    return topRows(estimates, n, m, this.scratch);
  }

  /** Exact int8 scores of the rows given (every row when null), best `k` first. */
  private rerank(query: Float32Array, rows: Int32Array | null, k: number, allowed?: ReadonlySet<number>): Hit[] {
    const count = rows ? rows.length : this.count;
    const listAt = this.width * (1 + this.ids.length);
    const scoresAt = listAt + (rows ? 4 * count : 0);
    const memory = this.rows.reserve(scoresAt + 4 * count);
    const q = new Int8Array(memory, 0, this.width);
    q.fill(0);
    const qScale = quantizeRow(query, q.subarray(0, this.d)).scale;
    if (rows) {
      new Int32Array(memory, listAt, count).set(rows);
      this.rows.int8Rows(this.width, 0, scoresAt, count, this.width, listAt);
    } else {
      this.rows.int8(this.width, 0, scoresAt, count, this.width);
    }
    const dots = new Int32Array(memory, scoresAt, count);
    const { ids, scales } = this;
    // A small sorted list of the best so far; `floor` is its worst score once full.
    const best: Hit[] = [];
    let floor = -Infinity;
    for (let i = 0; i < count; i++) {
      const r = rows ? (rows[i] as number) : i;
      const s = (dots[i] as number) * (scales[r] as number) * qScale;
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
