// The one message contract between the engine client and the engine process, the
// same over child_process (plain Node) and Electron's utilityProcess.
import type { CompressResult, EngineInfo, TokenGenerateOptions } from './engine.ts';
import type { Generation, RuntimeOptions } from './fwd2bot.ts';
import type { TokenEncoding } from './tokenCodec.ts';

/** Generation options that cross the process boundary (a signal cannot; cancel does its job). */
export type WireGenerateOptions = Omit<TokenGenerateOptions, 'signal'>;

export interface EngineOps {
  open: { args: { pack: string; options: RuntimeOptions }; result: EngineInfo };
  info: { args: Record<string, never>; result: EngineInfo };
  compressImages: { args: { inputs: Array<string | Uint8Array> }; result: CompressResult[] };
  embedText: { args: { texts: string[] }; result: Float32Array[] };
  scoreText: { args: { photos: Array<{ tokens: Uint8Array; encoding?: TokenEncoding }>; text: string; budget?: number }; result: number[] };
  generate: { args: { tokens: Uint8Array; instruction: string; options: WireGenerateOptions }; result: Generation };
  generateFromImage: { args: { image: string | Uint8Array; instruction: string; options: WireGenerateOptions }; result: Generation };
  cancel: { args: { target: number }; result: boolean };
}

export type EngineOp = keyof EngineOps;

export type EngineRequest = { [K in EngineOp]: { id: number; op: K; args: EngineOps[K]['args'] } }[EngineOp];

export interface WireError { name: string; message: string; code?: string }

export type EngineReply =
  | { id: number; type: 'result'; value: unknown }
  | { id: number; type: 'error'; error: WireError }
  | { id: number; type: 'token'; text: string };
