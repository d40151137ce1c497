// Test packs in format version 2 made from a version-1 pack, as docs/model-pack.md maps
// one onto the other: special tokens by role, the chat template as text, the embedding
// table in float16, and optionally vision.onnx with its weights in an external data file
// (written by Debian's python3-onnx, the same library the exporter uses).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { encodeFloat16 } from '../../main/engine/float16.ts';
import { readFloat32 } from '../../main/engine/pack.ts';

export const PYTHON = '/usr/bin/python3';

/** Whether Debian's python3 with onnx is here (CI installs it; see .ci/run). */
export function pythonOnnx(): boolean {
  return spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
}

export interface V2Options {
  /** Move vision.onnx's weights into vision.onnx.data beside it. */
  externalVision?: boolean;
  bosInCompress?: boolean;
  /** Leave the cache inputs' heads axis symbolic in llm.onnx (the engine then takes dims.kv_heads). */
  symbolicCacheHeads?: boolean;
  /** A last edit of pack.json (after the files are hashed). */
  edit?: (manifest: Record<string, any>) => void;
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export function v2PackFrom(src: string, out: string, options: V2Options = {}): string {
  fs.cpSync(src, out, { recursive: true });
  const manifestPath = path.join(out, 'pack.json');
  const m = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const st = m.special_tokens;
  m.version = 2;
  m.dims.kv_heads = m.dims.heads;
  m.special_tokens = { bos: st['<s>'], eos: st['</s>'], pad: st['<pad>'], image: st['<image>'], unk: st['<unk>'] };
  // "USER:" and "ASSISTANT:" are added tokens of the word-level vocabulary, matched in the text.
  m.chat = {
    add_bos: true, bos_in_compress: options.bosInCompress ?? false, generation: 'USER: {image}{instruction} ASSISTANT:',
    answer: '{answer}', next_turn: 'USER: {instruction} ASSISTANT:', stop_ids: [st['</s>']],
  };
  m.tokenizer.kind = 'word-level';
  m.image = { ...m.image, resize: 'fill', resample: 'bilinear', rescale: 1 / 255 };

  const f32 = m.tensors.embed_tokens.file as string;
  fs.writeFileSync(path.join(out, 'embed_tokens.f16'), encodeFloat16(readFloat32(path.join(out, f32))));
  fs.rmSync(path.join(out, f32));
  delete m.files[f32];
  m.tensors.embed_tokens = { ...m.tensors.embed_tokens, file: 'embed_tokens.f16', dtype: 'float16' };
  m.files['embed_tokens.f16'] = {};

  if (options.externalVision) {
    const graph = path.join(out, 'vision.onnx');
    const script = 'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.save_model(m, sys.argv[1], save_as_external_data=True, all_tensors_to_one_file=True, location="vision.onnx.data", size_threshold=0)';
    const r = spawnSync(PYTHON, ['-c', script, graph], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`moving vision.onnx's weights to external data failed: ${r.stderr}`);
    m.graphs.vision.external_data = ['vision.onnx.data'];
    m.files['vision.onnx.data'] = {};
  }
  if (options.symbolicCacheHeads) {
    const script = [
      'import onnx, sys', 'm = onnx.load(sys.argv[1])',
      'for i in m.graph.input:', '    if i.name.startswith("past_key_values."):',
      '        d = i.type.tensor_type.shape.dim[1]; d.Clear(); d.dim_param = "kv_heads"',
      'onnx.save(m, sys.argv[1])',
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', script, path.join(out, 'llm.onnx')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`making the cache heads symbolic failed: ${r.stderr}`);
  }
  for (const rel of Object.keys(m.files)) m.files[rel] = { bytes: fs.statSync(path.join(out, rel)).size, sha256: sha256(path.join(out, rel)) };
  options.edit?.(m);
  fs.writeFileSync(manifestPath, JSON.stringify(m, null, 1));
  return out;
}
