import ort from 'onnxruntime-node';
import fs from 'node:fs';
const dir = process.argv[2];
const fx = JSON.parse(fs.readFileSync(`${dir}/parity/fixtures.json`));
const f32 = (name) => { const b = fs.readFileSync(`${dir}/parity/${fx[name].file}`); return new Float32Array(b.buffer, b.byteOffset, b.length/4); };
const opts = { intraOpNumThreads: 1 };
const vis = await ort.InferenceSession.create(`${dir}/vision.onnx`, opts);
const px = f32('pixel_values');
for (const n of [1, 2]) {
  const input = new ort.Tensor('float32', px.slice(0, n*3*64*64), [n, 3, 64, 64]);
  const out = await vis.run({ pixel_values: input });
  const ref = f32('image_tokens'); let m = 0; for (let i=0;i<out.image_tokens.data.length;i++) m = Math.max(m, Math.abs(out.image_tokens.data[i]-ref[i]));
  console.log('vision batch', n, out.image_tokens.dims, 'maxdiff', m);
}
const llm = await ort.InferenceSession.create(`${dir}/llm.onnx`, opts);
console.log(llm.inputNames, llm.outputNames.slice(0,4));
const pack = { hidden: 128, layers: 4, heads: 4, headDim: 32 };
const emb = (() => { const b = fs.readFileSync(`${dir}/embed_tokens.f32`); return new Float32Array(b.buffer, b.byteOffset, b.length/4); })();
const summ = (() => { const b = fs.readFileSync(`${dir}/summary.f32`); return new Float32Array(b.buffer, b.byteOffset, b.length/4); })();
const D = pack.hidden;
const tok = JSON.parse(fs.readFileSync(`${dir}/tokenizer.json`));
const vocab = tok.model.vocab;
const encode = (t) => (t.toLowerCase().match(/\w+|[^\w\s]+/g) ?? []).map((w) => vocab[w] ?? vocab['<unk>']);
function embedIds(ids) { const out = new Float32Array(ids.length*D); ids.forEach((id,i)=>out.set(emb.subarray(id*D,(id+1)*D), i*D)); return out; }
function concat(...arrs) { const n = arrs.reduce((a,b)=>a+b.length,0); const o = new Float32Array(n); let k=0; for (const a of arrs){o.set(a,k);k+=a.length;} return o; }
const emptyPast = () => { const f = {}; for (let i=0;i<pack.layers;i++){ f[`past_key_values.${i}.key`] = new ort.Tensor('float32', new Float32Array(0), [1,pack.heads,0,pack.headDim]); f[`past_key_values.${i}.value`] = new ort.Tensor('float32', new Float32Array(0), [1,pack.heads,0,pack.headDim]); } return f; };
async function run(x, T, pastLen, past, adapter, keep) {
  const feeds = { inputs_embeds: new ort.Tensor('float32', x, [1, T, D]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from({length: pastLen+T}, ()=>1n), [1, pastLen+T]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({length: T}, (_, i)=>BigInt(pastLen+i)), [1, T]),
    adapter: new ort.Tensor('int64', BigInt64Array.from([BigInt(adapter)]), []),
    num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([BigInt(keep)]), []), ...past };
  return llm.run(feeds);
}
const img = (await vis.run({ pixel_values: new ort.Tensor('float32', px.slice(0, 3*64*64), [1,3,64,64]) })).image_tokens.data;
const prompt = embedIds(encode('Summarize the image in a few words.'));
const x = concat(img, prompt, summ);
const T = x.length / D;
const r = await run(x, T, 0, emptyPast(), 1, 0);
const comp = r.last_hidden_state.data.slice((T-16)*D, T*D);
const ref = f32('compressed'); let m=0; for (let i=0;i<comp.length;i++) m=Math.max(m, Math.abs(comp[i]-ref[i]));
console.log('compressed maxdiff', m, 'logits dims', r.logits.dims);
for (const g of fx.generations.filter(g => g.budget === null || g.budget === 16 || g.budget === 4)) {
  const visualTokens = g.budget === null ? img : comp.slice(0, g.budget*D);
  const ids = g.prompt_ids;
  let xx = concat(embedIds(ids.slice(0,2)), visualTokens, embedIds(ids.slice(3)));
  let TT = xx.length / D; let adapter = g.budget === null ? 0 : 2;
  let out = await run(xx, TT, 0, emptyPast(), adapter, 1);
  const gen = []; let pastLen = TT;
  for (let s=0;s<24;s++) {
    const lg = out.logits.data; let best=0; for (let v=1; v<lg.length; v++) if (lg[v]>lg[best]) best=v;
    if (best === vocab['</s>']) break; gen.push(best);
    const past = {}; for (let i=0;i<pack.layers;i++){ past[`past_key_values.${i}.key`]=out[`present.${i}.key`]; past[`past_key_values.${i}.value`]=out[`present.${i}.value`]; }
    out = await run(embedIds([best]), 1, pastLen, past, adapter, 1); pastLen += 1;
  }
  console.log('budget', g.budget, JSON.stringify(gen) === JSON.stringify(g.generated_ids) ? 'SAME' : 'DIFF', gen.slice(0,8), g.generated_ids.slice(0,8));
}
