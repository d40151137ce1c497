// The Fwd2Bot runtime on onnxruntime-node, in the transformers.js manner: one
// session per graph, token embeddings looked up and merged with image tokens in
// code, and the KV-cache decoding loop written out.
import os from 'node:os';
import ort from 'onnxruntime-node';
import { compressLead, generationPrompt } from './chatTemplate.ts';
import { EmbeddingTable } from './embeddings.ts';
import type { Pack } from './pack.ts';
import { sampler, TokenStream, type Generation, type SamplingOptions } from './sampling.ts';
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

export interface GenerateOptions extends SamplingOptions {
  /** Prefix length of the summary tokens to use; any of the pack's budgets. */
  budget?: number;
  maxNewTokens?: number;
  signal?: AbortSignal;
}

export { GenerationAborted, type Generation } from './sampling.ts';

type Feeds = Record<string, ort.Tensor>;

/** One call of the decoder graph. */
export interface ForwardInput {
  /** [batch, seq, d] input embeddings. */
  embeds: Float32Array;
  batch: number;
  /** [batch, past + seq]: 1 for a real token, 0 for padding. */
  mask: readonly number[];
  /** [batch, seq] positions of the new tokens. */
  positions: readonly number[];
  /** Which LoRA adapter the graph applies (pack.json adapters). */
  adapter: number;
  /** How many last positions get logits; 0 = none (pass 1 needs hidden states only). */
  keepLogits?: number;
  /** The cache from the previous call; none = empty. */
  past?: Feeds | null;
}

const int64 = (values: ArrayLike<number>, dims: readonly number[]) =>
  new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
const scalar = (v: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), []);

function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const s = 1 / Math.sqrt(n || 1);
  return v.map((x) => x * s);
}

const logSumExp = (values: readonly number[]): number => {
  const top = Math.max(...values);
  return top + Math.log(values.reduce((sum, v) => sum + Math.exp(v - top), 0));
};

/** Mean of `count` rows of width `d` starting at row `from`, normalised: the retrieval embedding. */
export function meanEmbedding(tokens: Float32Array, d: number, count: number, from = 0): Float32Array {
  const out = new Float32Array(d);
  for (let r = from; r < from + count; r++) for (let j = 0; j < d; j++) out[j] = (out[j] as number) + (tokens[r * d + j] as number);
  return normalize(out);
}

/** What both graphs' sessions are created with (exported so tests can inspect the optimised graph they run). */
export function sessionOptions(pack: Pack, intraOp: number, spinning: boolean): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: intraOp, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 4,
    // The pack's own entries come first (flat keys such as "session.disable_quant_qdq", which an int8 pack needs
    // to run fast and match PyTorch: docs/model-pack.md, quantization); threading stays ours.
    extra: { ...pack.spec.sessionConfig, session: { intra_op: { allow_spinning: spinning ? '1' : '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

export class Fwd2BotModel {
  readonly d: number;
  readonly k: number;
  private constructor(
    readonly pack: Pack,
    private readonly vision: ort.InferenceSession,
    private readonly llm: ort.InferenceSession,
    readonly tokenizer: TextTokenizer,
    private readonly embedTable: EmbeddingTable,
    private readonly summary: Float32Array,
    readonly info: RuntimeInfo,
  ) {
    this.d = pack.manifest.dims.hidden;
    this.k = pack.manifest.summary.tokens;
  }

  static async load(pack: Pack, options: RuntimeOptions = {}): Promise<Fwd2BotModel> {
    const intraOp = options.threads ?? Math.min(4, os.availableParallelism());
    const spinning = options.spinning ?? false;
    const base = sessionOptions(pack, intraOp, spinning);
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
    const { embed_tokens: table, summary: summaryTensor } = pack.manifest.tensors;
    const { vocab_size: vocab, hidden } = pack.manifest.dims;
    const embeddings = EmbeddingTable.read(pack.file(table.file), table.dtype, vocab, hidden);
    const k = pack.manifest.summary.tokens;
    const summary = EmbeddingTable.read(pack.file(summaryTensor.file), summaryTensor.dtype, k, hidden).lookup(Array.from({ length: k }, (_, i) => i));
    const model = new Fwd2BotModel(pack, vision, llm, loadTokenizer(pack), embeddings,
      summary, { pack: pack.id, provider, tried, threads: { intraOp, interOp: 1, spinning } });
    return model;
  }

  async release(): Promise<void> {
    await Promise.all([this.vision.release(), this.llm.release()]);
  }

  /** Token embeddings of `ids`, [n, d]. */
  embed(ids: readonly number[]): Float32Array {
    return this.embedTable.lookup(ids);
  }

  /** pixels: [B, 3, S, S] -> image tokens [B, V, d] and CLS [B, dv]. */
  async visionTokens(pixels: Float32Array, batch: number): Promise<{ tokens: Float32Array; cls: Float32Array; patches: Float32Array | null }> {
    const s = this.pack.manifest.image.size;
    const out = await this.vision.run({ pixel_values: new ort.Tensor('float32', pixels, [batch, 3, s, s]) });
    return { tokens: out.image_tokens?.data as Float32Array, cls: out.cls?.data as Float32Array, patches: (out.patch_features?.data as Float32Array | undefined) ?? null };
  }

  /**
   * The empty cache for a first call, shaped from the graph's own input metadata
   * (as transformers.js does): the batch axis set, the past-length axis 0, every
   * fixed axis (heads, head size, whatever the graph's attention uses) as declared.
   */
  private emptyPast(batch: number): Feeds {
    const feeds: Feeds = {};
    // An axis the graph leaves symbolic takes pack.json's value: [batch, kv_heads, past = 0, head_dim].
    const declared = [batch, this.pack.spec.kvHeads, 0, this.pack.manifest.dims.head_dim];
    for (const meta of this.llm.inputMetadata) {
      if (!meta.name.startsWith('past_key_values.') || !meta.isTensor) continue;
      const dims = meta.shape.map((axis, i) => (typeof axis === 'number' ? axis : declared[i] ?? 0));
      const type = meta.type === 'float16' ? 'float16' : 'float32';
      feeds[meta.name] = new ort.Tensor(type, type === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims);
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

  /** One decoder call; returns the last hidden states, the kept logits and the new cache. */
  async forward(input: ForwardInput): Promise<{ hidden: Float32Array; logits: Float32Array; past: Feeds }> {
    const { embeds, batch, mask, positions } = input;
    const seq = embeds.length / (batch * this.d);
    const out = await this.llm.run({
      inputs_embeds: new ort.Tensor('float32', embeds, [batch, seq, this.d]),
      attention_mask: int64(mask, [batch, mask.length / batch]),
      position_ids: int64(positions, [batch, seq]),
      adapter: scalar(input.adapter),
      num_logits_to_keep: scalar(input.keepLogits ?? 0),
      ...(input.past ?? this.emptyPast(batch)),
    });
    return { hidden: out.last_hidden_state?.data as Float32Array, logits: out.logits?.data as Float32Array,
      past: Fwd2BotModel.presentAsPast(out, this.pack.manifest.dims.layers) };
  }

  /**
   * Pass 1 over rows of different lengths: [bos if the pack says so ; prefix ; compress
   * prompt ; summary tokens], each row's padding moved to the front (positions count real
   * tokens only), as in training. Returns the last-layer outputs at the summary positions, [B, k, d].
   */
  async compress(prefixes: readonly Float32Array[], budget = this.k): Promise<Float32Array> {
    const d = this.d;
    const prompt = this.embed(this.tokenizer.encode(this.pack.manifest.prompts.compress));
    const summary = this.summary.subarray(0, budget * d);
    const lead = this.embed(compressLead(this.pack.spec));
    const lengths = prefixes.map((p) => (lead.length + p.length) / d);
    const longest = Math.max(...lengths);
    const row = longest + prompt.length / d + budget;
    const batch = prefixes.length;
    const x = new Float32Array(batch * row * d);
    const mask: number[] = [];
    const positions: number[] = [];
    prefixes.forEach((p, b) => {
      const pad = longest - (lengths[b] as number);
      x.set(lead, (b * row + pad) * d);
      x.set(p, (b * row + pad) * d + lead.length);
      x.set(prompt, (b * row + longest) * d);
      x.set(summary, (b * row + row - budget) * d);
      for (let t = 0; t < row; t++) {
        mask.push(t < pad ? 0 : 1);
        positions.push(Math.max(0, t - pad));
      }
    });
    const { hidden } = await this.forward({ embeds: x, batch, mask, positions, adapter: this.pack.manifest.adapters.compress });
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
    const empty = this.pack.spec.emptyText;
    const prefixes = texts.map((t) => {
      const ids = this.tokenizer.encode(t);
      return this.embed(ids.length > 0 ? ids : [empty]);
    });
    const out = await this.compress(prefixes);
    return texts.map((_, b) => meanEmbedding(out, this.d, this.k, b * this.k));
  }

  /**
   * How well `text` reads as pass 2's whole answer to `instruction` about each image given
   * as compressed `visuals` ([n, d] each, all the same n): the mean log-probability of the
   * text's tokens and of the answer ending after them (any stop id). Search re-ranks its
   * first hits by it (library.ts): the compressed tokens' mean misses which colour goes with
   * which shape, but pass 2 reads it from the same tokens.
   */
  async textLikelihood(visuals: readonly Float32Array[], text: string, instruction: string): Promise<number[]> {
    if (visuals.length === 0) return [];
    const d = this.d;
    const ids = this.tokenizer.encode(text);
    const prompt = generationPrompt(this.pack.spec, (t) => this.tokenizer.encode(t), instruction);
    const head = this.embed(prompt.head);
    const tail = this.embed([...prompt.tail, ...ids]);
    const rows = (visuals[0] as Float32Array).length / d;
    if (visuals.some((v) => v.length !== rows * d)) throw new Error('textLikelihood: every image needs the same number of tokens');
    const seq = (head.length + tail.length) / d + rows;
    const keep = ids.length + 1; // the logits after the prompt and after each text token
    const vocab = this.pack.manifest.dims.vocab_size;
    const stops = this.pack.spec.stopIds;
    // Rows per call, so that one call's logits stay near 16 M floats (a 150k vocabulary, long texts).
    const perCall = Math.max(1, Math.min(visuals.length, Math.floor(2 ** 24 / (keep * vocab))));
    const scores: number[] = [];
    for (let s = 0; s < visuals.length; s += perCall) {
      const batch = Math.min(perCall, visuals.length - s);
      const x = new Float32Array(batch * seq * d);
      for (let b = 0; b < batch; b++) {
        x.set(head, b * seq * d);
        x.set(visuals[s + b] as Float32Array, b * seq * d + head.length);
        x.set(tail, b * seq * d + head.length + rows * d);
      }
      const positions = Array.from({ length: batch * seq }, (_, i) => i % seq);
      const { logits } = await this.forward({ embeds: x, batch, mask: new Array<number>(batch * seq).fill(1), positions, adapter: this.pack.manifest.adapters.generate, keepLogits: keep });
      for (let b = 0; b < batch; b++) {
        let sum = 0;
        for (let t = 0; t < keep; t++) {
          const row = logits.subarray((b * keep + t) * vocab, (b * keep + t + 1) * vocab);
          let max = -Infinity;
          for (const v of row) if (v > max) max = v;
          let z = 0;
          for (const v of row) z += Math.exp(v - max);
          sum += (t < ids.length ? (row[ids[t] as number] as number) : logSumExp(stops.map((id) => row[id] as number))) - max - Math.log(z);
        }
        scores.push(sum / keep);
      }
    }
    return scores;
  }

  /**
   * Answers `instruction` about an image given as `visual` rows ([n, d]: compressed
   * tokens at a budget, or all image tokens in full mode), streaming text to `onToken`.
   */
  /** Pass 2's prompt as embeddings, [n, d]: the chat template's head, the visual tokens, then its tail with the instruction. */
  generationInput(visual: Float32Array, instruction: string): Float32Array {
    const prompt = generationPrompt(this.pack.spec, (text) => this.tokenizer.encode(text), instruction);
    const head = this.embed(prompt.head);
    const tail = this.embed(prompt.tail);
    const x = new Float32Array(head.length + visual.length + tail.length);
    x.set(head, 0);
    x.set(visual, head.length);
    x.set(tail, head.length + visual.length);
    return x;
  }

  async generate(visual: Float32Array, instruction: string, mode: 'compressed' | 'full', options: GenerateOptions = {},
    onToken?: (text: string) => void): Promise<Generation> {
    const pick = sampler(options);
    const stream = new TokenStream(this.tokenizer, this.pack.spec.stopIds, options.maxNewTokens ?? 64, options.signal, onToken);
    const adapter = mode === 'full' ? this.pack.manifest.adapters.base : this.pack.manifest.adapters.generate;
    const x = this.generationInput(visual, instruction);
    let total = x.length / this.d;
    const mask = new Array<number>(total).fill(1);
    let step = await this.forward({ embeds: x, batch: 1, mask, positions: Array.from({ length: total }, (_, i) => i), adapter, keepLogits: 1 });
    for (;;) {
      stream.checkCancelled();
      const next = pick(step.logits);
      const done = stream.push(next);
      if (done) return done;
      mask.push(1);
      step = await this.forward({ embeds: this.embed([next]), batch: 1, mask, positions: [total], adapter, keepLogits: 1, past: step.past });
      total++;
    }
  }
}

/** Where each dim of pack.json shows in the graphs: [field, graph, input or output, name, axis]. */
const DIM_AXES: ReadonlyArray<readonly [string, 'vision' | 'llm', 'input' | 'output', string, number]> = [
  ['image.size', 'vision', 'input', 'pixel_values', 2],
  ['image.size', 'vision', 'input', 'pixel_values', 3],
  ['dims.vision_tokens', 'vision', 'output', 'image_tokens', 1],
  ['dims.hidden', 'vision', 'output', 'image_tokens', 2],
  ['dims.vision_dim', 'vision', 'output', 'cls', 1],
  ['dims.vision_tokens', 'vision', 'output', 'patch_features', 1],
  ['dims.vision_dim', 'vision', 'output', 'patch_features', 2],
  ['dims.hidden', 'llm', 'input', 'inputs_embeds', 2],
  ['dims.hidden', 'llm', 'output', 'last_hidden_state', 2],
  ['dims.vocab_size', 'llm', 'output', 'logits', 2],
  ['dims.head_dim', 'llm', 'input', 'past_key_values.0.key', 3],
];

/**
 * Every dim pack.json states is checked against the graphs' own input and output
 * shapes, so a wrong manifest is refused when the sessions open instead of
 * producing different tokens under the same cache key.
 */
function checkGraphs(pack: Pack, vision: ort.InferenceSession, llm: ort.InferenceSession): void {
  const m = pack.manifest;
  const fail = (problem: string) => { throw new Error(`model pack "${pack.id}": ${problem}`); };
  const sessions = { vision, llm };
  for (const [label, session, spec] of [['vision', vision, m.graphs.vision], ['llm', llm, m.graphs.llm]] as const) {
    const names = [...session.inputNames, ...session.outputNames].join(',');
    if (names !== [...spec.inputs, ...spec.outputs].join(',')) fail(`${label}.onnx inputs/outputs do not match pack.json`);
  }
  const stated = (field: string): number => field.split('.').reduce<any>((o, k) => o?.[k], m) as number;
  const problems: string[] = [];
  const check = (field: string, want: number, graph: 'vision' | 'llm', kind: 'input' | 'output', name: string, axis: number) => {
    const meta = (kind === 'input' ? sessions[graph].inputMetadata : sessions[graph].outputMetadata).find((x) => x.name === name);
    const got = meta?.isTensor ? meta.shape[axis] : undefined;
    if (typeof got === 'number' && got !== want) {
      problems.push(`pack.json ${field} is ${want}, but ${graph}.onnx's ${kind} ${name} has ${got} on axis ${axis}`);
    }
  };
  for (const [field, graph, kind, name, axis] of DIM_AXES) check(field, stated(field), graph, kind, name, axis);
  // The cache's head axis holds the key/value heads (fewer than the query heads with grouped-query attention).
  const kvHeads = (m.dims as { kv_heads?: number }).kv_heads;
  check(kvHeads === undefined ? 'dims.heads' : 'dims.kv_heads', kvHeads ?? m.dims.heads, 'llm', 'input', 'past_key_values.0.key', 1);
  const layers = llm.inputNames.filter((n) => /^past_key_values\.\d+\.key$/.test(n)).length;
  if (layers !== m.dims.layers) problems.push(`pack.json dims.layers is ${m.dims.layers}, but llm.onnx has ${layers} cache layers`);
  if (problems.length > 0) fail(`dims mismatch: ${[...new Set(problems)].join('; ')}`);
}
