// The indexing queue: photos without tokens for the active pack go to the engine
// in batches; each batch's tokens are committed in one transaction, so a crash or
// kill loses at most the batch in flight and never compresses a photo twice.
import { EventEmitter } from 'node:events';
import type { CompressResult } from '../engine/engine.ts';
import type { Catalog, PendingPhoto } from './catalog.ts';

export interface Compressor {
  compressImages(inputs: string[]): Promise<CompressResult[]>;
}

export interface IndexProgress {
  state: 'idle' | 'running' | 'paused';
  packId: string;
  /** Photos compressed (or failed) since indexing last started. */
  done: number;
  /** done + still pending. */
  total: number;
  failed: number;
  /** Photos per second, smoothed. */
  rate: number;
  etaSeconds: number | null;
  current: string | null;
}

export class IndexQueue extends EventEmitter<{ progress: [IndexProgress]; idle: [IndexProgress]; indexed: [number, Float32Array] }> {
  private state: IndexProgress['state'] = 'idle';
  private done = 0;
  private failed = 0;
  private rate = 0;
  private current: string | null = null;
  private loop: Promise<void> | null = null;
  private paused = false;

  /** packId names the pack to people; cacheKey (Pack.cacheKey) files its tokens in the catalog. */
  constructor(private readonly catalog: Catalog, private readonly engine: Compressor, readonly packId: string,
    private readonly cacheKey: string, private readonly batchSize = 8) {
    super();
  }

  progress(): IndexProgress {
    const pending = this.catalog.counts(this.cacheKey).pending;
    return {
      state: this.state, packId: this.packId, done: this.done, total: this.done + pending, failed: this.failed,
      rate: this.rate, etaSeconds: this.rate > 0 ? pending / this.rate : null, current: this.current,
    };
  }

  /** Starts working through whatever is pending (new files call this). */
  kick(): void {
    if (this.paused || this.loop) return;
    this.state = 'running';
    this.loop = this.run().finally(() => {
      this.loop = null;
      if (!this.paused) this.state = 'idle';
      this.current = null;
      const p = this.progress();
      if (p.state === 'idle') this.emit('idle', p);
      else this.emit('progress', p);
    });
  }

  pause(): void {
    this.paused = true;
    this.state = 'paused';
    this.emit('progress', this.progress());
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  /** Resolves once nothing is pending (or indexing is paused). */
  async whenIdle(): Promise<void> {
    while (this.loop) await this.loop;
  }

  private async run(): Promise<void> {
    let batch: PendingPhoto[];
    while (!this.paused && (batch = this.catalog.pending(this.cacheKey, this.batchSize)).length > 0) {
      this.current = batch[0]?.path ?? null;
      this.emit('progress', this.progress());
      const started = Date.now();
      let results: CompressResult[];
      try {
        results = await this.engine.compressImages(batch.map((b) => b.path));
      } catch (err) {
        // The engine died (a decoder crash, a kill): retry the photos one by one so a
        // single poisonous file is marked failed instead of stopping the library.
        if (batch.length === 1) {
          this.catalog.storeCompressError(this.cacheKey, (batch[0] as PendingPhoto).photoId, 'engine-failed', `the engine failed on this photo: ${(err as Error).message}`);
          this.failed++;
          this.done++;
          continue;
        }
        for (const one of batch) {
          await this.runOne(one);
          if (this.paused) return;
        }
        continue;
      }
      this.store(batch, results);
      const seconds = Math.max(1e-3, (Date.now() - started) / 1000);
      const instant = batch.length / seconds;
      this.rate = this.rate === 0 ? instant : 0.8 * this.rate + 0.2 * instant;
    }
  }

  private async runOne(one: PendingPhoto): Promise<void> {
    try {
      this.store([one], await this.engine.compressImages([one.path]));
    } catch (err) {
      this.catalog.storeCompressError(this.cacheKey, one.photoId, 'engine-failed', `the engine failed on this photo: ${(err as Error).message}`);
      this.failed++;
      this.done++;
    }
  }

  private store(batch: PendingPhoto[], results: CompressResult[]): void {
    this.catalog.db.transaction(() => {
      batch.forEach((item, i) => {
        const r = results[i];
        if (r?.ok) {
          this.catalog.storeTokens(this.cacheKey, item.photoId, r.tokens, r.embedding);
          this.emit('indexed', item.photoId, r.embedding);
        } else if (r && r.error.code === 'not-found') {
          // Vanished since it was listed: drop the file; the photo is pending again if another copy exists.
          this.catalog.removeFile(item.path);
          return;
        } else {
          this.catalog.storeCompressError(this.cacheKey, item.photoId, r?.error.code ?? 'unknown', r?.error.message ?? 'no result from the engine');
          this.failed++;
        }
        this.done++;
      });
    })();
  }
}
