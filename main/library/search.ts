// Exact cosine search over the retrieval embeddings of one pack, held in one
// contiguous Float32Array. At d = 128 a scan of 100,000 photos is a few
// milliseconds (bench/library.ts measures it against sqlite-vec's brute force),
// it is exact, and filters are just a set of allowed photo ids.
export interface Hit { photoId: number; score: number }

export class VectorIndex {
  private ids = new Int32Array(0);
  private data = new Float32Array(0);
  private count = 0;
  private readonly slot = new Map<number, number>();

  constructor(readonly d: number) {}

  get size(): number {
    return this.count;
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
    this.data.set(embedding, at * this.d);
  }

  private grow(): void {
    const capacity = Math.max(1024, this.ids.length * 2);
    const ids = new Int32Array(capacity);
    ids.set(this.ids);
    const data = new Float32Array(capacity * this.d);
    data.set(this.data);
    this.ids = ids;
    this.data = data;
  }

  /** Top `k` by cosine (embeddings are normalised), optionally among `allowed` photos only. */
  search(query: Float32Array, k: number, allowed?: ReadonlySet<number>): Hit[] {
    const d = this.d;
    const data = this.data;
    const ids = this.ids;
    // A small sorted list of the best so far; `floor` is its worst score once full.
    const best: Hit[] = [];
    let floor = -Infinity;
    for (let r = 0; r < this.count; r++) {
      const id = ids[r] as number;
      if (allowed && !allowed.has(id)) continue;
      const base = r * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = 0;
      for (; j + 3 < d; j += 4) {
        s0 += (data[base + j] as number) * (query[j] as number);
        s1 += (data[base + j + 1] as number) * (query[j + 1] as number);
        s2 += (data[base + j + 2] as number) * (query[j + 2] as number);
        s3 += (data[base + j + 3] as number) * (query[j + 3] as number);
      }
      for (; j < d; j++) s0 += (data[base + j] as number) * (query[j] as number);
      const s = s0 + s1 + s2 + s3;
      if (best.length === k && s <= floor) continue;
      let at = best.length;
      while (at > 0 && (best[at - 1] as Hit).score < s) at--;
      best.splice(at, 0, { photoId: id, score: s });
      if (best.length > k) best.pop();
      if (best.length === k) floor = (best[k - 1] as Hit).score;
    }
    return best;
  }
}
