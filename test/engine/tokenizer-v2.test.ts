// The tokenizers of real checkpoints in the engine: Llama-style BPE with byte fallback
// (LLaVA-1.5) and byte-level BPE (Qwen2 / LLaVA-OneVision), from the tiny checkpoints
// `training/tiny_hf.py` writes in the exact Hugging Face layouts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { generationPrompt } from '../../main/engine/chatTemplate.ts';
import { splitGeneration, type PackSpec, type TokenizerKind } from '../../main/engine/packSpec.ts';
import { TokenStream } from '../../main/engine/sampling.ts';
import { makeTokenizer, type TextTokenizer } from '../../main/engine/tokenizer.ts';
import { ROOT, tempDir } from '../helpers.ts';
import { PYTHON } from './v2pack.ts';

const env = { ...process.env, LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-openmp' };
const python = spawnSync(PYTHON, ['-c', 'import torch'], { env }).status === 0;
if (!python && process.env.CI) throw new Error('CI needs /usr/bin/python3 with torch (see .ci/run)');

const FAMILIES = [
  { dir: 'llava', kind: 'bpe-metaspace' as TokenizerKind, generation: 'USER: {image}\n{instruction} ASSISTANT:', bos: 1, stops: [2] },
  { dir: 'llava-onevision', kind: 'bpe-byte-level' as TokenizerKind, generation: '<|im_start|>user\n{image}\n{instruction}<|im_end|>\n<|im_start|>assistant\n', bos: null, stops: [860, 858] },
];
const TEXTS = ['What colour is the large star?', 'Describe the image.', 'café naïve 日本 ☃ 🚀', ' two  spaces\tand a tab', 'Is the 3rd sign at the top-left?'];

const tokenizers = new Map<string, { tok: TextTokenizer; json: any }>();
before(() => {
  if (!python) return;
  const out = path.join(tempDir('tiny-hf-tok'), 'hf');
  const r = spawnSync(PYTHON, [path.join('training', 'tiny_hf.py'), '--out', out], { cwd: ROOT, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const f of FAMILIES) {
    const read = (name: string) => JSON.parse(fs.readFileSync(path.join(out, f.dir, name), 'utf8'));
    const json = read('tokenizer.json');
    tokenizers.set(f.dir, { tok: makeTokenizer(json, read('tokenizer_config.json'), f.kind), json });
  }
});

/** A version-2 spec with the family's template, enough for generationPrompt. */
function spec(f: (typeof FAMILIES)[number], image: number): PackSpec {
  const { head, tail } = splitGeneration(f.generation);
  return {
    version: 2, kvHeads: 1, specials: { bos: f.bos, eos: f.stops[0] as number, pad: 0, image, unk: null },
    chat: { form: 'text', bos: f.bos, head, tail }, bosInCompress: false, stopIds: f.stops, emptyText: 0,
    image: { size: 1, mean: [0, 0, 0], std: [1, 1, 1], resize: 'fill' }, tokenizerKind: f.kind, sessionConfig: {}, tokenEncoding: 'int8',
  };
}

for (const f of FAMILIES) {
  const skip = python ? false : 'needs /usr/bin/python3 with torch to write the tiny checkpoints';

  test(`${f.dir} (${f.kind}): text round-trips through encode and decode, any Unicode`, { skip }, () => {
    const { tok } = tokenizers.get(f.dir)!;
    for (const text of TEXTS) {
      const ids = tok.encode(text);
      assert.ok(ids.length > 0);
      assert.equal(tok.decode(ids), text);
    }
  });

  test(`${f.dir}: the chat template's prompt equals tokenizing the rendered prompt with <image> in place`, { skip }, () => {
    const { tok, json } = tokenizers.get(f.dir)!;
    const image = (json.added_tokens as Array<{ id: number; content: string }>).find((t) => t.content === '<image>')!.id;
    for (const instruction of TEXTS) {
      const { head, tail } = generationPrompt(spec(f, image), (t) => tok.encode(t), instruction);
      const rendered = f.generation.replace('{image}', '<image>').replace('{instruction}', instruction);
      // Added tokens split the text before anything else, as in transformers, so both agree.
      assert.deepEqual([...head, image, ...tail], [...(f.bos === null ? [] : [f.bos]), ...tok.encode(rendered)], JSON.stringify(instruction));
    }
  });

  test(`${f.dir}: decoding leaves special tokens out; streaming never shows half a character`, { skip }, () => {
    const { tok, json } = tokenizers.get(f.dir)!;
    const specials = (json.added_tokens as Array<{ id: number }>).map((t) => t.id);
    const text = 'a star ☃ and 🚀';
    const ids = tok.encode(text);
    assert.equal(tok.decode([specials[0] as number, ...ids, ...specials]), text);
    const pieces: string[] = [];
    const stream = new TokenStream(tok, f.stops, 1000, undefined, (piece) => pieces.push(piece));
    for (const id of ids) assert.equal(stream.push(id), null);
    // A character spread over byte tokens shows up only once its last byte has come.
    assert.ok(pieces.every((p) => !p.includes('\uFFFD')), JSON.stringify(pieces));
    assert.equal(pieces.join(''), text);
    const done = stream.push(f.stops[f.stops.length - 1] as number);
    assert.deepEqual(done, { text, ids, finish: 'eos' }, 'every stop id ends the answer');
  });
}
