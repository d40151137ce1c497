// Choosing each next token (greedy, or temperature with nucleus sampling from a
// seeded generator) and knowing when generation ends (end of sequence, the length
// limit, or a cancel), with the text streamed as it grows.
import type { TextTokenizer } from './tokenizer.ts';

export interface SamplingOptions {
  /** 0 = greedy. */
  temperature?: number;
  topP?: number;
  /** Seed for sampling, so a sampled answer can be reproduced. */
  seed?: number;
}

export type Finish = 'eos' | 'length';

export interface Generation { text: string; ids: number[]; finish: Finish }

export class GenerationAborted extends Error {
  override name = 'AbortError';
  constructor() {
    super('generation was cancelled');
  }
}

/** A tiny seeded generator for sampling (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pickToken(logits: Float32Array, temperature: number, topP: number, random: () => number): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  if (temperature <= 0) return best;
  const max = logits[best] as number;
  const probs = Array.from(logits, (l, i) => ({ i, p: Math.exp((l - max) / temperature) }));
  const total = probs.reduce((a, b) => a + b.p, 0);
  probs.sort((a, b) => b.p - a.p);
  let mass = 0;
  const kept: typeof probs = [];
  for (const p of probs) {
    kept.push(p);
    mass += p.p / total;
    if (mass >= topP) break;
  }
  const keptTotal = kept.reduce((a, b) => a + b.p, 0);
  let r = random() * keptTotal;
  for (const p of kept) {
    r -= p.p;
    if (r <= 0) return p.i;
  }
  return (kept[kept.length - 1] as { i: number }).i;
}

/** The sampler `options` describe: logits of one position -> the next token id. */
export function sampler(options: SamplingOptions): (logits: Float32Array) => number {
  const random = seeded(options.seed ?? 0);
  return (logits) => pickToken(logits, options.temperature ?? 0, options.topP ?? 1, random);
}

/** The tokens generated so far, their text, and when to stop. */
export class TokenStream {
  readonly ids: number[] = [];
  private text = '';
  /** What onToken has been given: the text without a trailing incomplete character. */
  private sent = '';
  private readonly stops: ReadonlySet<number>;

  /** `eos`: the id, or ids (pack format 2's stop_ids), that end an answer. */
  constructor(private readonly tokenizer: TextTokenizer, eos: number | readonly number[], private readonly maxNew: number,
    private readonly signal?: AbortSignal, private readonly onToken?: (text: string) => void) {
    this.stops = new Set(typeof eos === 'number' ? [eos] : eos);
  }

  /** Throws GenerationAborted once the caller has cancelled. */
  checkCancelled(): void {
    if (this.signal?.aborted) throw new GenerationAborted();
  }

  /** Takes the next token; returns the finished generation, or null to go on. */
  push(next: number): Generation | null {
    if (this.stops.has(next)) return { text: this.text, ids: this.ids, finish: 'eos' };
    this.ids.push(next);
    this.text = this.tokenizer.decode(this.ids);
    // Byte-level BPE splits a character over tokens; until its last byte comes it decodes as U+FFFD: hold that back.
    const ready = this.text.replace(/\uFFFD+$/, '');
    // A word-level decode can rewrite the end (punctuation glued on): send only what is new.
    if (ready.length > this.sent.length) this.onToken?.(ready.startsWith(this.sent) ? ready.slice(this.sent.length) : ready);
    this.sent = ready;
    return this.ids.length >= this.maxNew ? { text: this.text, ids: this.ids, finish: 'length' } : null;
  }
}
