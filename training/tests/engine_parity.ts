// Loads an exported pack with the TypeScript engine and checks it against the pack's own
// PyTorch parity fixtures (vision, compression, text embeddings, greedy generation at every
// budget and in full-token mode). Run by training/tests/test_hf_pack.py:
//   node --import tsx training/tests/engine_parity.ts PACK_DIR   ->  one JSON line of measured differences
import fs from 'node:fs';
import path from 'node:path';
import { Fwd2BotModel, meanEmbedding } from '../../main/engine/fwd2bot.ts';
import { loadPack, readFloat32 } from '../../main/engine/pack.ts';

const dir = process.argv[2] as string;
const fixtures = JSON.parse(fs.readFileSync(path.join(dir, 'parity', 'fixtures.json'), 'utf8'));
const tensor = (name: string) => readFloat32(path.join(dir, 'parity', fixtures[name].file));
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
};
const model = await Fwd2BotModel.load(loadPack(dir), { providers: ['cpu'], threads: 1 });
try {
  const pixels = tensor('pixel_values');
  const vision = await model.visionTokens(pixels, 2);
  const compressed = await model.compressPixels(pixels, 2);
  const imageEmbedding = [0, 1].flatMap((b) => Array.from(meanEmbedding(compressed, model.d, model.k, b * model.k)));
  const text = (await model.embedTexts(fixtures.texts)).flatMap((e) => Array.from(e));
  // an empty text is encoded as the fallback token (pack.json special_tokens), not tokenized
  const textIds = fixtures.texts.filter((t: string) => t !== '').map((t: string) => model.tokenizer.encode(t));
  const wantIds = fixtures.texts.map((t: string, i: number) => [t, fixtures.text_ids[i]]).filter(([t]: [string]) => t !== '').map(([, ids]: [string, number[]]) => ids);
  const per = model.pack.manifest.dims.vision_tokens * model.d;
  const generations = [];
  for (const g of fixtures.generations) {
    const visual = g.budget === null ? vision.tokens.subarray(0, per) : tensor('compressed').subarray(0, g.budget * model.d);
    const out = await model.generate(visual, g.instruction, g.budget === null ? 'full' : 'compressed', { maxNewTokens: 24 });
    generations.push({ budget: g.budget, same: JSON.stringify(out.ids) === JSON.stringify(g.generated_ids), ids: out.ids, want: g.generated_ids });
  }
  process.stdout.write(`${JSON.stringify({
    tolerance: fixtures.tolerance, version: model.pack.manifest.version,
    image_tokens: maxDiff(vision.tokens, tensor('image_tokens')), compressed: maxDiff(compressed, tensor('compressed')),
    image_embedding: maxDiff(imageEmbedding, tensor('image_embedding')), text_embedding: maxDiff(text, tensor('text_embedding')),
    text_ids_same: JSON.stringify(textIds) === JSON.stringify(wantIds), generations,
  })}\n`);
} finally {
  await model.release();
}
