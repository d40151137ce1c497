// The pack's tokenizer.json through @huggingface/tokenizers, as transformers.js loads it:
// word-level for the shapes world, Llama-style (metaspace, byte fallback) or byte-level
// BPE for real models. Special tokens are never produced from text by the engine's own
// markup; they are inserted by id (chatTemplate.ts), and decoding leaves them out.
import fs from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import type { Pack } from './pack.ts';
import type { TokenizerKind } from './packSpec.ts';

export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/** A tokenizer from tokenizer.json and tokenizer_config.json contents. */
export function makeTokenizer(json: object, config: object, kind: TokenizerKind, keep: ReadonlySet<number> = new Set()): TextTokenizer {
  const tokenizer = new Tokenizer(json, config);
  const added: Map<number, { special: boolean }> = tokenizer.get_added_tokens_decoder();
  const special = new Set([...added].filter(([, t]) => t.special).map(([id]) => id));
  if (kind === 'word-level') {
    return {
      encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
      decode: (ids) => {
        const visible = ids.filter((id) => !special.has(id) || keep.has(id));
        // A word-level vocabulary decodes as words joined by spaces; glue punctuation back on.
        return visible.length === 0 ? '' : tokenizer.decode(visible, { skip_special_tokens: false }).replace(/ ([.,?!:;'])/g, '$1').trim();
      },
    };
  }
  return {
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    // The tokenizer's own decoder (metaspace or byte-level); special tokens (<image>, <|im_end|>) left out.
    decode: (ids) => tokenizer.decode(ids.filter((id) => !special.has(id)), { skip_special_tokens: true }),
  };
}

export function loadTokenizer(pack: Pack): TextTokenizer {
  const read = (rel: string) => JSON.parse(fs.readFileSync(pack.file(rel), 'utf8')) as object;
  // Version 1 shows <unk> in text (a word the shapes vocabulary lacks), as before.
  const keep = new Set(pack.spec.version === 1 && pack.spec.specials.unk !== null ? [pack.spec.specials.unk] : []);
  return makeTokenizer(read(pack.manifest.tokenizer.file), read(pack.manifest.tokenizer.config), pack.spec.tokenizerKind, keep);
}
