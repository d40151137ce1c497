// What the engine runs on, whatever the pack's format version: pack.json version 2's
// fields (docs/model-pack.md), with a version-1 pack mapped onto them as that page's
// last table says. Nothing model-specific lives in the engine; it lives here, read
// from pack.json: special tokens by role, the chat template, image preprocessing,
// the cache's key/value heads and the tokenizer's kind.
import { z } from 'zod';
import type { ImageSpec } from './tensor.ts';
import { DEFAULT_TOKEN_ENCODING, type TokenEncoding } from './tokenCodec.ts';

export const PACK_VERSIONS = [1, 2] as const;
export type TokenizerKind = 'word-level' | 'bpe-metaspace' | 'bpe-byte-level';

export interface SpecialIds { bos: number | null; eos: number; pad: number; image: number; unk: number | null }

/**
 * How pass-2 rows are built around the visual tokens. Version 1 inserts its special
 * strings by id (`<s> USER:` … `ASSISTANT:`); version 2 tokenizes the template text.
 */
export type ChatSpec =
  | { form: 'ids'; head: number[]; afterInstruction: number[] }
  | { form: 'text'; bos: number | null; head: string; tail: string };

export interface PackSpec {
  version: 1 | 2;
  /** Key/value heads of the decoder's cache (grouped-query attention); `heads` in version 1. */
  kvHeads: number;
  specials: SpecialIds;
  chat: ChatSpec;
  /** Pass 1 starts every row with `bos` (after the left padding). */
  bosInCompress: boolean;
  /** Generation ends at the first of these ids. */
  stopIds: number[];
  /** The id an empty text is embedded as. */
  emptyText: number;
  image: ImageSpec;
  tokenizerKind: TokenizerKind;
  /** onnxruntime session config entries the graphs need (quantization.session_config), e.g. MatMulNBits' accuracy level. */
  sessionConfig: Record<string, string>;
  /** How the library stores this pack's compressed tokens (pack.json cache.tokens). */
  tokenEncoding: TokenEncoding;
}

const id = z.number().int().nonnegative();
const V1 = z.object({
  special_tokens: z.object({ '<pad>': id, '<unk>': id, '<s>': id, '</s>': id, '<image>': id, 'USER:': id, 'ASSISTANT:': id }),
});
const V2 = z.object({
  dims: z.object({ kv_heads: z.number().int().positive() }).passthrough(),
  special_tokens: z.object({ bos: id.nullable(), eos: id, pad: id, image: id, unk: id.nullable() }),
  chat: z.object({
    add_bos: z.boolean(),
    bos_in_compress: z.boolean(),
    generation: z.string(),
    answer: z.string().optional(),
    next_turn: z.string().optional(),
    stop_ids: z.array(id).nonempty(),
    template_jinja: z.string().nullable().optional(),
  }).passthrough(),
  tokenizer: z.object({ kind: z.enum(['word-level', 'bpe-metaspace', 'bpe-byte-level']) }).passthrough(),
  image: z.object({
    resize: z.enum(['fill', 'pad-to-square', 'cover', 'contain']),
    pad_colour: z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]).optional(),
    resample: z.enum(['bicubic', 'bilinear']),
    rescale: z.number().positive(),
  }).passthrough(),
  quantization: z.object({ session_config: z.record(z.string().regex(/^[a-z0-9_.]+$/i), z.string()).optional() }).passthrough().optional(),
});

/** The parts of pack.json (already checked against the common schema) this module reads. */
export interface ManifestView {
  version: number;
  dims: { heads: number; hidden: number; head_dim: number; vocab_size: number };
  image: { size: number; mean: readonly [number, number, number]; std: readonly [number, number, number]; resize: string };
  special_tokens: Record<string, number | null>;
  cache?: { tokens: TokenEncoding } | undefined;
}

/** Splits a version-2 generation template at `{image}`; a problem is thrown as a plain message. */
export function splitGeneration(template: string): { head: string; tail: string } {
  const count = (s: string) => template.split(s).length - 1;
  if (count('{image}') !== 1 || count('{instruction}') !== 1) {
    throw new Error(`chat.generation must hold exactly one {image} and one {instruction}, got ${JSON.stringify(template)}`);
  }
  const [head, tail] = template.split('{image}') as [string, string];
  if (!tail.includes('{instruction}')) throw new Error('chat.generation must put {image} before {instruction}');
  return { head, tail };
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `pack.json is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`;
}

/** The version-independent spec of a manifest; throws an Error whose message is the problem. */
export function resolveSpec(m: ManifestView): PackSpec {
  const vocab = m.dims.vocab_size;
  const inVocab = (ids: ReadonlyArray<number | null>) => {
    const bad = ids.find((x) => x !== null && x >= vocab);
    if (bad !== undefined) throw new Error(`special token id ${bad} is outside the vocabulary (${vocab})`);
  };
  if (m.version === 1) {
    const parsed = V1.safeParse(m);
    if (!parsed.success) throw new Error(firstIssue(parsed.error));
    const st = parsed.data.special_tokens;
    inVocab(Object.values(st));
    if (m.dims.heads * m.dims.head_dim !== m.dims.hidden) throw new Error(`dims mismatch: heads x head_dim is ${m.dims.heads * m.dims.head_dim}, expected ${m.dims.hidden}`);
    const resize = m.image.resize as ImageSpec['resize'];
    if (resize === 'pad-to-square') throw new Error('image.resize pad-to-square needs format version 2');
    return {
      version: 1,
      kvHeads: m.dims.heads,
      specials: { bos: st['<s>'], eos: st['</s>'], pad: st['<pad>'], image: st['<image>'], unk: st['<unk>'] },
      chat: { form: 'ids', head: [st['<s>'], st['USER:']], afterInstruction: [st['ASSISTANT:']] },
      bosInCompress: false,
      stopIds: [st['</s>']],
      emptyText: st['<unk>'],
      image: { size: m.image.size, mean: m.image.mean, std: m.image.std, resize },
      tokenizerKind: 'word-level',
      sessionConfig: {},
      tokenEncoding: m.cache?.tokens ?? DEFAULT_TOKEN_ENCODING,
    };
  }
  const parsed = V2.safeParse(m);
  if (!parsed.success) throw new Error(firstIssue(parsed.error));
  const v2 = parsed.data;
  const st = v2.special_tokens;
  inVocab([st.bos, st.eos, st.pad, st.image, st.unk, ...v2.chat.stop_ids]);
  if (m.dims.heads % v2.dims.kv_heads !== 0) throw new Error(`dims.heads (${m.dims.heads}) is not a multiple of dims.kv_heads (${v2.dims.kv_heads})`);
  if ((v2.chat.add_bos || v2.chat.bos_in_compress) && st.bos === null) throw new Error('chat asks for a bos token but special_tokens.bos is null');
  if (v2.image.resize === 'pad-to-square' && v2.image.pad_colour === undefined) throw new Error('image.pad_colour is required with resize pad-to-square');
  const { head, tail } = splitGeneration(v2.chat.generation);
  return {
    version: 2,
    kvHeads: v2.dims.kv_heads,
    specials: st,
    chat: { form: 'text', bos: v2.chat.add_bos ? st.bos : null, head, tail },
    bosInCompress: v2.chat.bos_in_compress,
    stopIds: [...new Set([st.eos, ...v2.chat.stop_ids])],
    emptyText: st.unk ?? st.pad,
    image: {
      size: m.image.size, mean: m.image.mean, std: m.image.std, resize: v2.image.resize,
      resample: v2.image.resample, rescale: v2.image.rescale, ...(v2.image.pad_colour ? { padColour: v2.image.pad_colour } : {}),
    },
    tokenizerKind: v2.tokenizer.kind,
    sessionConfig: { ...v2.quantization?.session_config },
    tokenEncoding: m.cache?.tokens ?? DEFAULT_TOKEN_ENCODING,
  };
}
