#!/usr/bin/env node
// Encodes sentences with @huggingface/tokenizers, as the app will:
//   node scripts/tokenize.mjs PACK_DIR '["a red circle", ...]'  ->  [[ids...], ...]
// Used by the training tests to prove Python and TypeScript tokenize alike.
import { Tokenizer } from '@huggingface/tokenizers';
import fs from 'node:fs';
import path from 'node:path';

const [dir, sentences] = process.argv.slice(2);
const read = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
const tokenizer = new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
const ids = JSON.parse(sentences).map((s) => tokenizer.encode(s, { add_special_tokens: false }).ids);
process.stdout.write(`${JSON.stringify(ids)}\n`);
