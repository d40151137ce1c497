// The indexing queue: photos without tokens for the active pack go to the engine
// in batches; each batch's tokens are committed in one transaction, so a crash or
// kill loses at most the batch in flight and never compresses a photo twice.
//
// Two kinds of fault, told apart by where they come from:
// - the file is bad (corrupt, truncated, empty, not an image, unsupported): the
//   engine answers with a per-photo error, which is recorded against that photo;
// - the engine or the pack is (its process killed, the pack broken or refused):
//   the engine call itself fails. Nothing is recorded against the photos; the batch
//   is retried with growing delays, and after the last retry indexing pauses with
//   a message saying why. Resume (or retryFailed) tries again.
// Only when the engine dies again and again on one photo alone, while it answers
// otherwise, is that photo marked failed ('engine-crashed'), so it cannot stop the library.
import { EventEmitter } from 'node:events';
import type { CompressResult } from '../engine/engine.ts';
import type { Outcome, PackCache, PendingPhoto } from './catalogPack.ts';

export interface Compressor {
  compressImages(inputs: string[]): Promise<CompressResult[]>;
  /** Any cheap request that needs a working engine with the pack open. */
  info(): Promise<unknown>;
}

export interface IndexProgress {
  state: 'idle' | 'running' | 'paused';
  packId: string;
  /** Photos compressed (or failed) since indexing last started. */
  done: number;
  /** done + still pending. */
  total: number;
  failed: number;
  /** Photos per second, smoothed: this session's, or before its first batch the rate last measured for the pack (0 if never). */
  rate: number;
  etaSeconds: number | null;
  current: string | null;
  /** Why indexing paused by itself (the engine or the pack failed); null when it runs, or was paused by hand. */
  problem: string | null;
}

export interface RetryPolicy {
  /** Waits before each retry of a batch whose engine call failed; one more failure pauses indexing. */
  delaysMs: readonly number[];
}

export const DEFAULT_RETRY: RetryPolicy = { delaysMs: [500, 2000, 8000] };

const isCrash = (err: unknown) => (err as Error | undefined)?.name === 'EngineCrashed';
const messageOf = (err: unknown) => (err as Error | undefined)?.message ?? String(err);

export class IndexQueue extends EventEmitter<{ progress: [IndexProgress]; idle: [IndexProgress]; indexed: [number, Float32Array] }> {
  private state: IndexProgress['state'] = 'idle';
  private done = 0;
  private failed = 0;
  private rate = 0;
  private current: string | null = null;
  private problem: string | null = null;
  private loop: Promise<void> | null = null;
  private paused = false;
  private wake: (() => void) | null = null;

  /** packId names the pack to people; cacheKey (Pack.cacheKey) files its tokens in the catalog. */
  constructor(private readonly cache: PackCache, private readonly engine: Compressor, readonly packId: string,
    private readonly cacheKey: string, private readonly batchSize = 8, private readonly retry: RetryPolicy = DEFAULT_RETRY) {
    super();
  }

  /** `pending` when the caller has just counted (status does), saving a second count. */
  progress(pending = this.cache.counts(this.cacheKey).pending): IndexProgress {
    const rate = this.rate > 0 ? this.rate : this.cache.measuredRate(this.cacheKey) ?? 0;
    return {
      state: this.state, packId: this.packId, done: this.done, total: this.done + pending, failed: this.failed,
      rate, etaSeconds: rate > 0 ? pending / rate : null, current: this.current, problem: this.problem,
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
    this.wake?.();
    this.emit('progress', this.progress());
  }

  /** Resumes after a pause by hand or by a fault: the problem is forgotten and the work tried again. */
  resume(): void {
    this.paused = false;
    this.problem = null;
    this.kick();
  }

  /** Resolves once nothing is pending (or indexing is paused). */
  async whenIdle(): Promise<void> {
    while (this.loop) await this.loop;
  }

  private async run(): Promise<void> {
    let faults = 0;
    let size = this.batchSize;
    // While narrowing a crash down to one photo: how many single photos remain before batches resume.
    let singlesLeft = 0;
    while (!this.paused) {
      const batch = this.cache.pending(this.cacheKey, size);
      if (batch.length === 0) return;
      this.current = batch[0]?.path ?? null;
      this.emit('progress', this.progress());
      const started = Date.now();
      let results: CompressResult[];
      try {
        results = await this.engine.compressImages(batch.map((b) => b.path));
      } catch (err) {
        faults++;
        const delay = this.retry.delaysMs[faults - 1];
        if (delay !== undefined) {
          await this.sleep(delay);
          continue;
        }
        faults = 0;
        // The engine died on every try. If it starts and answers without these photos,
        // one of them kills it: try them one by one, and mark only the one that does.
        if (isCrash(err) && (await this.engineAnswers())) {
          if (size > 1) {
            singlesLeft = batch.length;
            size = 1;
          } else {
            this.commit([{ photoId: (batch[0] as PendingPhoto).photoId, path: (batch[0] as PendingPhoto).path, failed: {
              code: 'engine-crashed',
              message: `the engine process stopped every time it read this photo (${this.retry.delaysMs.length + 1} tries, last: ${messageOf(err)}); Retry tries it again`,
            } }]);
            if (--singlesLeft <= 0) size = this.batchSize;
          }
          continue;
        }
        this.halt(err);
        return;
      }
      faults = 0;
      const seconds = Math.max(1e-3, (Date.now() - started) / 1000);
      const instant = batch.length / seconds;
      this.rate = this.rate === 0 ? instant : 0.8 * this.rate + 0.2 * instant;
      this.commit(batch.map((item, i) => outcome(item, results[i])), this.rate);
      if (size === 1 && --singlesLeft <= 0) size = this.batchSize;
    }
  }

  private commit(outcomes: Outcome[], photosPerSecond?: number): void {
    this.cache.commit(this.cacheKey, outcomes, photosPerSecond);
    for (const o of outcomes) {
      if ('vanished' in o) continue;
      this.done++;
      if ('tokens' in o) this.emit('indexed', o.photoId, o.embedding);
      else this.failed++;
    }
  }

  private async engineAnswers(): Promise<boolean> {
    try {
      await this.engine.info();
      return true;
    } catch {
      return false;
    }
  }

  /** Stops with the engine's or the pack's fault as the reason; no photo is blamed. */
  private halt(err: unknown): void {
    // A pack's own errors name the pack ('model pack "x": ...'); anything else is the engine's.
    const message = messageOf(err);
    const what = message.startsWith('model pack "') ? message : `the engine failed (${message})`;
    this.problem = `Indexing paused after ${this.retry.delaysMs.length + 1} tries: ${what}. No photo was marked as failed; resume or retry to try again.`;
    this.paused = true;
    this.state = 'paused';
  }

  /** Waits, or less if indexing is paused meanwhile. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }
}

/** One engine result as the catalog records it. */
function outcome(item: PendingPhoto, r: CompressResult | undefined): Outcome {
  if (r?.ok) return { ...item, tokens: r.tokens, encoding: r.encoding, embedding: r.embedding };
  // Vanished since it was listed: drop the file; the photo is pending again if another copy exists.
  if (r?.error.code === 'not-found') return { ...item, vanished: true };
  return { ...item, failed: { code: r?.error.code ?? 'unknown', message: r?.error.message ?? 'no result from the engine' } };
}
