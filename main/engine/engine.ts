// The engine's operations, in process: what the engine host runs, and what tests
// and benchmarks may call directly. Photos in, stored tokens (tokenCodec.ts: the
// pack's encoding) and embeddings out; tokens in, streamed answers out.
import { decodeTokens, encodeTokens, isTokenEncoding, TokenEncodingError, tokenBytes, type TokenEncoding } from './tokenCodec.ts';
import { Fwd2BotModel, meanEmbedding, type GenerateOptions, type Generation, type RuntimeInfo, type RuntimeOptions } from './fwd2bot.ts';
import type { ImageErrorCode } from './diagnose.ts';
import { prepareImages } from './tensor.ts';
import { loadPack, scoringPrompt, type Pack } from './pack.ts';

export interface EngineInfo extends RuntimeInfo {
  /** The process the engine runs in. */
  pid: number;
  dims: { hidden: number; summaryTokens: number; visionTokens: number };
  budgets: number[];
  /** How compressImages encodes tokens (pack.json cache.tokens). */
  tokenEncoding: TokenEncoding;
  /** Bytes one photo's cached tokens take in that encoding: 2*K*d (float16) or K*(d+4) (int8). */
  bytesPerPhoto: number;
  imageSize: number;
}

export type CompressResult =
  | { ok: true; tokens: Uint8Array; encoding: TokenEncoding; embedding: Float32Array }
  | { ok: false; error: { code: ImageErrorCode; message: string } };

/** generate's options: which encoding the cached tokens are in (default: the pack's own). */
export interface TokenGenerateOptions extends GenerateOptions {
  encoding?: TokenEncoding;
}

export class BudgetError extends Error {
  override name = 'BudgetError';
}

export class Engine {
  private constructor(private readonly model: Fwd2BotModel) {}

  static async open(pack: string | Pack, options: RuntimeOptions = {}): Promise<Engine> {
    return new Engine(await Fwd2BotModel.load(typeof pack === 'string' ? loadPack(pack) : pack, options));
  }

  get pack(): Pack {
    return this.model.pack;
  }

  info(): EngineInfo {
    const m = this.model.pack.manifest;
    return {
      ...this.model.info,
      pid: process.pid,
      dims: { hidden: m.dims.hidden, summaryTokens: m.summary.tokens, visionTokens: m.dims.vision_tokens },
      budgets: [...m.summary.budgets],
      tokenEncoding: this.model.pack.spec.tokenEncoding,
      bytesPerPhoto: tokenBytes(this.model.pack.spec.tokenEncoding, m.summary.tokens, m.dims.hidden),
      imageSize: m.image.size,
    };
  }

  async close(): Promise<void> {
    await this.model.release();
  }

  private imageSpec() {
    return this.model.pack.spec.image;
  }

  /**
   * Each photo -> its K compressed tokens in the pack's stored encoding and its
   * normalised retrieval embedding. A photo that cannot be read fails alone.
   */
  async compressImages(inputs: ReadonlyArray<string | Buffer>): Promise<CompressResult[]> {
    const prepared = await prepareImages(inputs, this.imageSpec());
    const results: CompressResult[] = new Array(inputs.length);
    const good: number[] = [];
    prepared.forEach((p, i) => {
      if (p.ok) good.push(i);
      else results[i] = { ok: false, error: { code: p.error.code, message: p.error.message } };
    });
    const size = this.model.pack.manifest.image.size;
    const per = 3 * size * size;
    if (good.length > 0) {
      const pixels = new Float32Array(good.length * per);
      good.forEach((i, b) => pixels.set((prepared[i] as { pixels: Float32Array }).pixels, b * per));
      const comp = await this.model.compressPixels(pixels, good.length);
      const rows = this.model.k * this.model.d;
      const encoding = this.model.pack.spec.tokenEncoding;
      good.forEach((i, b) => {
        const tokens = comp.subarray(b * rows, (b + 1) * rows);
        results[i] = { ok: true, tokens: encodeTokens(tokens, this.model.d, encoding), encoding, embedding: meanEmbedding(tokens, this.model.d, this.model.k) };
      });
    }
    return results;
  }

  async embedText(texts: readonly string[]): Promise<Float32Array[]> {
    return this.model.embedTexts(texts);
  }

  private checkBudget(budget: number): void {
    const budgets = this.model.pack.manifest.summary.budgets;
    if (!budgets.includes(budget)) throw new BudgetError(`budget ${budget} is not valid for pack "${this.model.pack.id}": choose one of ${budgets.join(', ')}`);
  }

  /** Answers from cached tokens (float16 or int8), using the first `budget` of them. */
  async generate(tokens: Uint8Array, instruction: string, options: TokenGenerateOptions = {}, onToken?: (text: string) => void): Promise<Generation> {
    const { encoding = this.model.pack.spec.tokenEncoding, ...rest } = options;
    const budget = rest.budget ?? this.model.k;
    this.checkBudget(budget);
    return this.model.generate(this.decode(tokens, encoding, budget), instruction, 'compressed', rest, onToken);
  }

  /**
   * How well `text` reads as pass 2's answer to the pack's scoring prompt (pack.ts scoringPrompt)
   * about each photo, from cached tokens (the first `budget` of them): the mean log-probability
   * per token (Fwd2BotModel.textLikelihood).
   */
  async scoreText(photos: ReadonlyArray<{ tokens: Uint8Array; encoding?: TokenEncoding }>, text: string, budget = this.model.k): Promise<number[]> {
    this.checkBudget(budget);
    const visuals = photos.map(({ tokens, encoding = this.model.pack.spec.tokenEncoding }) => this.decode(tokens, encoding, budget));
    return this.model.textLikelihood(visuals, text, scoringPrompt(this.model.pack.manifest));
  }

  private decode(tokens: Uint8Array, encoding: unknown, budget: number): Float32Array {
    if (!isTokenEncoding(encoding)) throw new BudgetError(`cached tokens in encoding ${JSON.stringify(encoding)}: this Glimpse reads float16 and int8`);
    try {
      return decodeTokens(tokens, encoding, this.model.k, this.model.d, budget);
    } catch (err) {
      if (err instanceof TokenEncodingError) throw new BudgetError(`pack "${this.model.pack.id}": ${err.message}`);
      throw err;
    }
  }

  /** The uncompressed baseline: the photo's visual tokens straight into the base model. */
  async generateFromImage(image: string | Buffer, instruction: string, options: GenerateOptions = {}, onToken?: (text: string) => void): Promise<Generation> {
    const [prepared] = await prepareImages([image], this.imageSpec());
    if (!prepared?.ok) throw prepared?.error ?? new Error('image preparation failed');
    const { tokens } = await this.model.visionTokens(prepared.pixels, 1);
    return this.model.generate(tokens, instruction, 'full', options, onToken);
  }
}
