// The rows the decoder sees, built from pack.json's chat section (packSpec.ts): pass 2's
// prompt around the visual tokens, and pass 1's optional leading bos. Only instructions
// and template text are tokenized; ids given by role are inserted as ids.
import type { PackSpec } from './packSpec.ts';

/** A prompt as token ids on either side of the visual tokens: `[...head, VISUAL, ...tail]`. */
export interface PromptIds { head: number[]; tail: number[] }

/**
 * Pass 2's first user turn for `instruction`. Version 1: `<s> USER:` VISUAL
 * `enc(instruction) ASSISTANT:`. Version 2: `[bos] enc(head)` VISUAL `enc(tail)` with
 * `{instruction}` replaced in the tail text before tokenizing (so the tokenizer sees the
 * same string the checkpoint's template renders).
 */
export function generationPrompt(spec: PackSpec, encode: (text: string) => number[], instruction: string): PromptIds {
  const chat = spec.chat;
  if (chat.form === 'ids') return { head: [...chat.head], tail: [...encode(instruction), ...chat.afterInstruction] };
  const at = chat.tail.indexOf('{instruction}');
  const tail = chat.tail.slice(0, at) + instruction + chat.tail.slice(at + '{instruction}'.length);
  return {
    head: [...(chat.bos === null ? [] : [chat.bos]), ...(chat.head === '' ? [] : encode(chat.head))],
    tail: encode(tail),
  };
}

/** The ids before each pass-1 row's prefix (after its left padding). */
export function compressLead(spec: PackSpec): number[] {
  return spec.bosInCompress && spec.specials.bos !== null ? [spec.specials.bos] : [];
}
