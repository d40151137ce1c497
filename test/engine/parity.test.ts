// The TypeScript runtime computes what PyTorch computed: the pack's parity fixtures.
// The one parity suite for every pack: the bundled one, and with GLIMPSE_TEST_PACK any
// exported pack (test/engine/hf-pack-v2.test.ts and training/tests/test_hf_pack.py run it
// on the packs they export from tiny Hugging Face checkpoints).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { generationPrompt } from '../../main/engine/chatTemplate.ts';
import { decodeFloat16, encodeFloat16 } from '../../main/engine/float16.ts';
import { Fwd2BotModel, meanEmbedding } from '../../main/engine/fwd2bot.ts';
import { loadPack, readFloat32 } from '../../main/engine/pack.ts';
import { maxAbsDiff, testPackDir } from '../helpers.ts';

const dir = testPackDir();
interface TensorRef { file: string; shape: number[] }
interface Fixtures {
  tolerance: number;
  texts: string[];
  text_ids: number[][];
  generations: Array<{ budget: number | null; instruction: string; prompt_ids: number[]; generated_ids: number[]; text: string }>;
  [name: string]: unknown;
}
const fixtures = JSON.parse(fs.readFileSync(path.join(dir, 'parity', 'fixtures.json'), 'utf8')) as Fixtures;
const tensor = (name: string) => readFloat32(path.join(dir, 'parity', (fixtures[name] as TensorRef).file));
const TOL = fixtures.tolerance;

let model: Fwd2BotModel;
before(async () => {
  model = await Fwd2BotModel.load(loadPack(dir), { providers: ['cpu'], threads: 1 });
});
after(async () => model?.release());

const imageTokens = async () => (await model.visionTokens(tensor('pixel_values'), 2)).tokens;
const perImage = () => model.pack.manifest.dims.vision_tokens * model.d;

test('vision: image tokens and CLS match PyTorch', async () => {
  const out = await model.visionTokens(tensor('pixel_values'), 2);
  assert.ok(maxAbsDiff(out.tokens, tensor('image_tokens')) <= TOL, `image tokens differ by ${maxAbsDiff(out.tokens, tensor('image_tokens'))}`);
  assert.ok(maxAbsDiff(out.cls, tensor('cls')) <= TOL);
});

test('compression pass: compressed tokens and image embedding match PyTorch', async () => {
  const comp = await model.compressPixels(tensor('pixel_values'), 2);
  const diff = maxAbsDiff(comp, tensor('compressed'));
  assert.ok(diff <= TOL, `compressed tokens differ by ${diff}`);
  const emb = [0, 1].flatMap((b) => Array.from(meanEmbedding(comp, model.d, model.k, b * model.k)));
  assert.ok(maxAbsDiff(emb, tensor('image_embedding')) <= TOL);
});

test('text: token ids and text embeddings match PyTorch (batched, different lengths)', async () => {
  // The ids pass 1 is given: an empty text becomes the pack's empty-text id (unk, or pad without one).
  const fed = (t: string) => (model.tokenizer.encode(t).length > 0 ? model.tokenizer.encode(t) : [model.pack.spec.emptyText]);
  assert.deepEqual(fixtures.texts.map(fed), fixtures.text_ids);
  const emb = await model.embedTexts(fixtures.texts);
  const diff = maxAbsDiff(emb.flatMap((e) => Array.from(e)), tensor('text_embedding'));
  assert.ok(diff <= TOL, `text embeddings differ by ${diff}`);
});

test('greedy generation gives the same tokens as PyTorch, full mode and every budget', async () => {
  const tokens = await imageTokens();
  const comp = tensor('compressed');
  for (const g of fixtures.generations) {
    // The prompt is the pack's chat template around the image placeholder, as PyTorch built it.
    const prompt = generationPrompt(model.pack.spec, (t) => model.tokenizer.encode(t), g.instruction);
    assert.deepEqual([...prompt.head, model.pack.spec.specials.image, ...prompt.tail], g.prompt_ids, `prompt of "${g.instruction}"`);
    const visual = g.budget === null ? tokens.subarray(0, perImage()) : comp.subarray(0, g.budget * model.d);
    const out = await model.generate(visual, g.instruction, g.budget === null ? 'full' : 'compressed', { maxNewTokens: 24 });
    assert.deepEqual(out.ids, g.generated_ids, `budget ${g.budget}, "${g.instruction}": got "${out.text}", PyTorch "${g.text}"`);
  }
});

test('KV-cache decoding equals full recomputation', async () => {
  const d = model.d;
  const x = new Float32Array((await imageTokens()).subarray(0, 12 * d));
  const all = Array.from({ length: 12 }, (_, i) => i);
  const full = await model.forward({ embeds: x, batch: 1, mask: all.map(() => 1), positions: all, adapter: 2 });
  const head = await model.forward({ embeds: x.subarray(0, 8 * d), batch: 1, mask: all.slice(0, 8).map(() => 1), positions: all.slice(0, 8), adapter: 2 });
  const tail = await model.forward({ embeds: x.subarray(8 * d), batch: 1, mask: all.map(() => 1), positions: all.slice(8), adapter: 2, past: head.past });
  assert.ok(maxAbsDiff(full.hidden.subarray(8 * d), tail.hidden) < 1e-4);
  assert.ok(maxAbsDiff(full.hidden.subarray(0, 8 * d), head.hidden) < 1e-4);
});

test('a batch equals its items run one by one (images and texts)', async () => {
  const pixels = tensor('pixel_values');
  const both = await model.compressPixels(pixels, 2);
  const per = pixels.length / 2;
  const second = await model.compressPixels(pixels.subarray(per), 1);
  assert.ok(maxAbsDiff(both.subarray(model.k * model.d), second) < 1e-4);
  const texts = ['a red circle', 'two small blue stars and a large yellow sign showing 3 on a beach'];
  const batch = await model.embedTexts(texts);
  for (const [i, t] of texts.entries()) assert.ok(maxAbsDiff(batch[i] as Float32Array, (await model.embedTexts([t]))[0] as Float32Array) < 1e-4);
});

test('a budget is a prefix: compressing at budget 4 gives the first 4 tokens of the full compression', async () => {
  const tokens = await imageTokens();
  const four = await model.compress([tokens.subarray(0, perImage())], 4);
  assert.ok(maxAbsDiff(four, tensor('compressed').subarray(0, 4 * model.d)) <= TOL);
});

test('float16 storage is exactly 2*K*d bytes and round-trips within half precision', async () => {
  const comp = tensor('compressed').subarray(0, model.k * model.d);
  const bytes = encodeFloat16(comp);
  assert.equal(bytes.length, 2 * model.k * model.d);
  const back = decodeFloat16(bytes);
  for (let i = 0; i < comp.length; i++) {
    const v = comp[i] as number;
    assert.ok(Math.abs((back[i] as number) - v) <= Math.max(1e-3 * Math.abs(v), 6e-8), `value ${v} came back as ${back[i]}`);
  }
});
