// The pack's tokenizer through @huggingface/tokenizers, as transformers.js loads it.
import fs from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import type { Pack } from './pack.ts';

export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

export function loadTokenizer(pack: Pack): TextTokenizer {
  const read = (rel: string) => JSON.parse(fs.readFileSync(pack.file(rel), 'utf8')) as object;
  const tokenizer = new Tokenizer(read(pack.manifest.tokenizer.file), read(pack.manifest.tokenizer.config));
  const specials = new Set(Object.values(pack.manifest.special_tokens));
  return {
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    decode: (ids) => {
      const visible = ids.filter((id) => !specials.has(id) || id === pack.manifest.special_tokens['<unk>']);
      // A word-level vocabulary decodes as words joined by spaces; glue punctuation back on.
      return visible.length === 0 ? '' : tokenizer.decode(visible, { skip_special_tokens: false }).replace(/ ([.,?!:;'])/g, '$1').trim();
    },
  };
}
