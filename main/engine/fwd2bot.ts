// The Fwd2Bot runtime on onnxruntime-node, in the transformers.js manner: one
// session per graph, token embeddings looked up and merged with image tokens in
// code, and the KV-cache decoding loop written out.
import os from 'node:os';
import ort from 'onnxruntime-node';
import { readFloat32, type Pack } from './pack.ts';
import { loadTokenizer, type TextTokenizer } from './tokenizer.ts';

export interface RuntimeOptions {
  /** Execution providers to try in order; default per platform (CUDA/DirectML/CoreML, then CPU). */
  providers?: readonly string[];
  /** Intra-op threads; default min(4, cores). */
  threads?: number;
  /** ORT's busy-wait between ops; off by default (on 2 cores it doubles decode latency). */
  spinning?: boolean;
}

export interface RuntimeInfo {
  pack: string;
  provider: string;
  tried: Array<{ provider: string; error?: string }>;
  threads: { intraOp: number; interOp: number; spinning: boolean };
}

export function defaultProviders(platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'win32') return ['dml', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'cpu'];
  return ['cuda', 'cpu'];
}

export interface GenerateOptions {
  /** Prefix length of the summary tokens to use; any of the pack's budgets. */
  budget?: number;
  maxNewTokens?: number;
  /** 0 = greedy. */
  temperature?: number;
  topP?: number;
  /** Generation ends when the text ends with one of these (it is cut off). */
  stop?: readonly string[];
  signal?: AbortSignal;
  /** Seed for sampling, so a sampled answer can be reproduced. */
  seed?: number;
}

export interface Generation { text: string; ids: number[]; finish: 'eos' | 'length' | 'stop' }

export class GenerationAborted extends Error {
  override name = 'AbortError';
  constructor() {
    super('generation was cancelled');
  }
}

type Feeds = Record<string, ort.Tensor>;

const int64 = (values: ArrayLike<number>, dims: readonly number[]) =>
  new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
const scalar = (v: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), []);

function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const s = 1 / Math.sqrt(n || 1);
  return v.map((x) => x * s);
}

/** Mean of `count` rows of width `d` starting at row `from`, normalised: the retrieval embedding. */
export function meanEmbedding(tokens: Float32Array, d: number, count: number, from = 0): Float32Array {
  const out = new Float32Array(d);
  for (let r = from; r < from + count; r++) for (let j = 0; j < d; j++) out[j] = (out[j] as number) + (tokens[r * d + j] as number);
  return normalize(out);
}

/** A tiny seeded generator for sampling (mulberry32). */
function seeded(seed: number): () => number {
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

export class Fwd2BotModel {
  readonly d: number;
  readonly k: number;
  private constructor(
    readonly pack: Pack,
    private readonly vision: ort.InferenceSession,
    private readonly llm: ort.InferenceSession,
    readonly tokenizer: TextTokenizer,
    private readonly embedTable: Float32Array,
    private readonly summary: Float32Array,
    readonly info: RuntimeInfo,
  ) {
    this.d = pack.manifest.dims.hidden;
    this.k = pack.manifest.summary.tokens;
  }

  static async load(pack: Pack, options: RuntimeOptions = {}): Promise<Fwd2BotModel> {
    const intraOp = options.threads ?? Math.min(4, os.availableParallelism());
    const spinning = options.spinning ?? false;
    const base: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: intraOp, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 4,
      extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' }, inter_op: { allow_spinning: '0' } } },
    };
    // A provider that cannot load is expected (no CUDA here); its reason goes into info().tried, not the console.
    ort.env.logLevel = 'fatal';
    const tried: RuntimeInfo['tried'] = [];
    let sessions: [ort.InferenceSession, ort.InferenceSession] | null = null;
    let provider = 'cpu';
    for (const ep of options.providers ?? defaultProviders()) {
      try {
        const opts = { ...base, executionProviders: [ep] };
        sessions = [await ort.InferenceSession.create(pack.file(pack.manifest.graphs.vision.file), opts),
          await ort.InferenceSession.create(pack.file(pack.manifest.graphs.llm.file), opts)];
        tried.push({ provider: ep });
        provider = ep;
        break;
      } catch (err) {
        tried.push({ provider: ep, error: (err as Error).message.split('\n')[0] ?? String(err) });
      }
    }
    if (sessions === null) throw new Error(`model pack "${pack.id}": no execution provider could load it: ${tried.map((t) => `${t.provider}: ${t.error}`).join('; ')}`);
    const [vision, llm] = sessions;
    checkGraphs(pack, vision, llm);
    const model = new Fwd2BotModel(pack, vision, llm, loadTokenizer(pack), readFloat32(pack.file(pack.manifest.tensors.embed_tokens.file)),
      readFloat32(pack.file(pack.manifest.tensors.summary.file)), { pack: pack.id, provider, tried, threads: { intraOp, interOp: 1, spinning } });
    return model;
  }

  async release(): Promise<void> {
    await Promise.all([this.vision.release(), this.llm.release()]);
  }

  /** Token embeddings of `ids`, [n, d]. */
  embed(ids: readonly number[]): Float32Array {
    const out = new Float32Array(ids.length * this.d);
    ids.forEach((id, i) => {
      if (id < 0 || id >= this.pack.manifest.dims.vocab_size) throw new Error(`token id ${id} is outside the vocabulary`);
      out.set(this.embedTable.subarray(id * this.d, (id + 1) * this.d), i * this.d);
    });
    return out;
  }

  /** pixels: [B, 3, S, S] -> image tokens [B, V, d] and CLS [B, dv]. */
  async visionTokens(pixels: Float32Array, batch: number): Promise<{ tokens: Float32Array; cls: Float32Array; patches: Float32Array | null }> {
    const s = this.pack.manifest.image.size;
    const out = await this.vision.run({ pixel_values: new ort.Tensor('float32', pixels, [batch, 3, s, s]) });
    return { tokens: out.image_tokens?.data as Float32Array, cls: out.cls?.data as Float32Array, patches: (out.patch_features?.data as Float32Array | undefined) ?? null };
  }

  private emptyPast(batch: number): Feeds {
    const { layers, heads, head_dim: dh } = this.pack.manifest.dims;
    const feeds: Feeds = {};
    for (let i = 0; i < layers; i++) {
      feeds[`past_key_values.${i}.key`] = new ort.Tensor('float32', new Float32Array(0), [batch, heads, 0, dh]);
      feeds[`past_key_values.${i}.value`] = new ort.Tensor('float32', new Float32Array(0), [batch, heads, 0, dh]);
    }
    return feeds;
  }

  private static presentAsPast(out: ort.InferenceSession.ReturnType, layers: number): Feeds {
    const feeds: Feeds = {};
    for (let i = 0; i < layers; i++) {
      feeds[`past_key_values.${i}.key`] = out[`present.${i}.key`] as ort.Tensor;
      feeds[`past_key_values.${i}.value`] = out[`present.${i}.value`] as ort.Tensor;
    }
    return feeds;
  }

  /** One decoder call. `mask` covers past + new positions; returns hidden states and the new cache. */
  async decode(embeds: Float32Array, batch: number, mask: readonly number[], positions: readonly number[], adapter: number,
    keepLogits: number, past: Feeds | null): Promise<{ hidden: Float32Array; logits: Float32Array; past: Feeds }> {
    const seq = embeds.length / (batch * this.d);
    const out = await this.llm.run({
      inputs_embeds: new ort.Tensor('float32', embeds, [batch, seq, this.d]),
      attention_mask: int64(mask, [batch, mask.length / batch]),
      position_ids: int64(positions, [batch, seq]),
      adapter: scalar(adapter),
      num_logits_to_keep: scalar(keepLogits),
      ...(past ?? this.emptyPast(batch)),
    });
    return { hidden: out.last_hidden_state?.data as Float32Array, logits: out.logits?.data as Float32Array,
      past: Fwd2BotModel.presentAsPast(out, this.pack.manifest.dims.layers) };
  }

  /**
   * Pass 1 over rows of different lengths: [prefix ; compress prompt ; summary tokens],
   * each row's padding moved to the front (positions count real tokens only), as in
   * training. Returns the last-layer outputs at the summary positions, [B, k, d].
   */
  async compress(prefixes: readonly Float32Array[], budget = this.k): Promise<Float32Array> {
    const d = this.d;
    const prompt = this.embed(this.tokenizer.encode(this.pack.manifest.prompts.compress));
    const summary = this.summary.subarray(0, budget * d);
    const lengths = prefixes.map((p) => p.length / d);
    const longest = Math.max(...lengths);
    const row = longest + prompt.length / d + budget;
    const batch = prefixes.length;
    const x = new Float32Array(batch * row * d);
    const mask: number[] = [];
    const positions: number[] = [];
    prefixes.forEach((p, b) => {
      const pad = longest - (lengths[b] as number);
      x.set(p, (b * row + pad) * d);
      x.set(prompt, (b * row + longest) * d);
      x.set(summary, (b * row + row - budget) * d);
      for (let t = 0; t < row; t++) {
        mask.push(t < pad ? 0 : 1);
        positions.push(Math.max(0, t - pad));
      }
    });
    const { hidden } = await this.decode(x, batch, mask, positions, this.pack.manifest.adapters.compress, 0, null);
    const out = new Float32Array(batch * budget * d);
    for (let b = 0; b < batch; b++) out.set(hidden.subarray((b * row + row - budget) * d, (b * row + row) * d), b * budget * d);
    return out;
  }

  /** Images through vision and pass 1: K compressed tokens each (float32, [B, K, d]). */
  async compressPixels(pixels: Float32Array, batch: number): Promise<Float32Array> {
    const { tokens } = await this.visionTokens(pixels, batch);
    const per = this.pack.manifest.dims.vision_tokens * this.d;
    return this.compress(Array.from({ length: batch }, (_, b) => tokens.subarray(b * per, (b + 1) * per)));
  }

  /** Texts through pass 1: normalised retrieval embeddings, one per text. */
  async embedTexts(texts: readonly string[]): Promise<Float32Array[]> {
    const unk = this.pack.manifest.special_tokens['<unk>'];
    const prefixes = texts.map((t) => {
      const ids = this.tokenizer.encode(t);
      return this.embed(ids.length > 0 ? ids : [unk]);
    });
    const out = await this.compress(prefixes);
    return texts.map((_, b) => meanEmbedding(out, this.d, this.k, b * this.k));
  }

  /**
   * Answers `instruction` about an image given as `visual` rows ([n, d]: compressed
   * tokens at a budget, or all image tokens in full mode), streaming text to `onToken`.
   */
  async generate(visual: Float32Array, instruction: string, mode: 'compressed' | 'full', options: GenerateOptions = {},
    onToken?: (text: string) => void): Promise<Generation> {
    const st = this.pack.manifest.special_tokens;
    const eos = st['</s>'];
    const maxNew = options.maxNewTokens ?? 64;
    const random = seeded(options.seed ?? 0);
    const adapter = mode === 'full' ? this.pack.manifest.adapters.base : this.pack.manifest.adapters.generate;
    const head = this.embed([st['<s>'], st['USER:']]);
    const tail = this.embed([...this.tokenizer.encode(instruction), st['ASSISTANT:']]);
    const x = new Float32Array(head.length + visual.length + tail.length);
    x.set(head, 0);
    x.set(visual, head.length);
    x.set(tail, head.length + visual.length);
    let total = x.length / this.d;
    const mask = new Array<number>(total).fill(1);
    let step = await this.decode(x, 1, mask, Array.from({ length: total }, (_, i) => i), adapter, 1, null);
    const ids: number[] = [];
    let text = '';
    for (;;) {
      if (options.signal?.aborted) throw new GenerationAborted();
      const next = pickToken(step.logits, options.temperature ?? 0, options.topP ?? 1, random);
      if (next === eos) return { text, ids, finish: 'eos' };
      ids.push(next);
      const decoded = this.tokenizer.decode(ids);
      const stop = options.stop?.find((s) => decoded.endsWith(s));
      if (stop !== undefined) {
        const cut = decoded.slice(0, decoded.length - stop.length);
        if (cut.length > text.length) onToken?.(cut.slice(text.length));
        return { text: cut, ids, finish: 'stop' };
      }
      if (decoded.length > text.length) onToken?.(decoded.startsWith(text) ? decoded.slice(text.length) : decoded);
      text = decoded;
      if (ids.length >= maxNew) return { text, ids, finish: 'length' };
      mask.push(1);
      step = await this.decode(this.embed([next]), 1, mask, [total], adapter, 1, step.past);
      total++;
    }
  }
}

/** The graphs must have the names and widths pack.json promises. */
function checkGraphs(pack: Pack, vision: ort.InferenceSession, llm: ort.InferenceSession): void {
  const m = pack.manifest;
  const fail = (problem: string) => { throw new Error(`model pack "${pack.id}": ${problem}`); };
  for (const [label, session, spec] of [['vision', vision, m.graphs.vision], ['llm', llm, m.graphs.llm]] as const) {
    const names = [...session.inputNames, ...session.outputNames].join(',');
    if (names !== [...spec.inputs, ...spec.outputs].join(',')) fail(`${label}.onnx inputs/outputs do not match pack.json`);
  }
  const dimOf = (meta: readonly ort.InferenceSession.ValueMetadata[], name: string, axis: number) => {
    const v = meta.find((x) => x.name === name);
    return v && v.isTensor ? v.shape[axis] : undefined;
  };
  const checks: Array<[string, unknown, number]> = [
    ['llm inputs_embeds width', dimOf(llm.inputMetadata, 'inputs_embeds', 2), m.dims.hidden],
    ['llm logits width (vocabulary)', dimOf(llm.outputMetadata, 'logits', 2), m.dims.vocab_size],
    ['llm cache heads', dimOf(llm.inputMetadata, 'past_key_values.0.key', 1), m.dims.heads],
    ['llm cache head size', dimOf(llm.inputMetadata, 'past_key_values.0.key', 3), m.dims.head_dim],
    ['vision image_tokens width', dimOf(vision.outputMetadata, 'image_tokens', 2), m.dims.hidden],
    ['vision image size', dimOf(vision.inputMetadata, 'pixel_values', 2), m.image.size],
  ];
  for (const [label, got, want] of checks) if (typeof got === 'number' && got !== want) fail(`dims mismatch: ${label} is ${got} in the graph, ${want} in pack.json`);
  const layers = m.graphs.llm.inputs.filter((n) => n.endsWith('.key')).length;
  if (layers !== m.dims.layers) fail(`dims mismatch: llm.onnx has ${layers} cache layers, pack.json says ${m.dims.layers}`);
}
