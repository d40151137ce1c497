// The engine's operations, in process: what the engine host runs, and what tests
// and benchmarks may call directly. Photos in, float16 tokens and embeddings out;
// tokens in, streamed answers out.
import { decodeFloat16, encodeFloat16 } from './float16.ts';
import { Fwd2BotModel, meanEmbedding, type GenerateOptions, type Generation, type RuntimeInfo, type RuntimeOptions } from './fwd2bot.ts';
import type { ImageErrorCode } from './diagnose.ts';
import { prepareImages } from './tensor.ts';
import { loadPack, type Pack } from './pack.ts';

export interface EngineInfo extends RuntimeInfo {
  /** The process the engine runs in. */
  pid: number;
  dims: { hidden: number; summaryTokens: number; visionTokens: number };
  budgets: number[];
  /** Bytes one photo's cached tokens take: 2 * K * d. */
  bytesPerPhoto: number;
  imageSize: number;
}

export type CompressResult =
  | { ok: true; tokens: Uint8Array; embedding: Float32Array }
  | { ok: false; error: { code: ImageErrorCode; message: string } };

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
      bytesPerPhoto: 2 * m.summary.tokens * m.dims.hidden,
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
   * Each photo -> its K compressed tokens as float16 bytes (the stored form) and its
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
      good.forEach((i, b) => {
        const tokens = comp.subarray(b * rows, (b + 1) * rows);
        results[i] = { ok: true, tokens: encodeFloat16(tokens), embedding: meanEmbedding(tokens, this.model.d, this.model.k) };
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

  /** Answers from cached float16 tokens, using the first `budget` of them. */
  async generate(tokens: Uint8Array, instruction: string, options: GenerateOptions = {}, onToken?: (text: string) => void): Promise<Generation> {
    const d = this.model.d;
    const k = this.model.k;
    if (tokens.length !== 2 * k * d) throw new BudgetError(`cached tokens are ${tokens.length} bytes; pack "${this.model.pack.id}" stores ${2 * k * d} (2*K*d)`);
    const budget = options.budget ?? k;
    this.checkBudget(budget);
    const visual = decodeFloat16(tokens.subarray(0, 2 * budget * d));
    return this.model.generate(visual, instruction, 'compressed', options, onToken);
  }

  /** The uncompressed baseline: the photo's visual tokens straight into the base model. */
  async generateFromImage(image: string | Buffer, instruction: string, options: GenerateOptions = {}, onToken?: (text: string) => void): Promise<Generation> {
    const [prepared] = await prepareImages([image], this.imageSpec());
    if (!prepared?.ok) throw prepared?.error ?? new Error('image preparation failed');
    const { tokens } = await this.model.visionTokens(prepared.pixels, 1);
    return this.model.generate(tokens, instruction, 'full', options, onToken);
  }
}
