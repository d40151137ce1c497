// The engine in its own process: same answers as in process, streaming, cancel,
// bad photos failing alone, and surviving a killed engine process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EngineClient, EngineCrashed } from '../../main/engine/client.ts';
import { Engine } from '../../main/engine/engine.ts';
import { tokenBytes } from '../../main/engine/tokenCodec.ts';
import { writeSamples } from '../../world/samples.ts';
import { tempDir, testPackDir } from '../helpers.ts';

const pack = testPackDir();
let photos: string[] = [];
let client: EngineClient;
let local: Engine;
// Made at the top level: a temp dir made inside before() would be removed when the hook ends.
const dir = path.join(tempDir('engine-client'), 'lib');

before(async () => {
  const sidecar = await writeSamples({ count: 4, seed: 3, size: 96, out: dir });
  photos = sidecar.photos.map((p) => path.join(dir, 'photos', ...p.path.split('/')));
  client = new EngineClient(pack, { providers: ['cpu'], threads: 1 });
  local = await Engine.open(pack, { providers: ['cpu'], threads: 1 });
});
after(async () => {
  await client?.close();
  await local?.close();
});

test('the engine process reports its pack, provider and threads', async () => {
  const info = await client.info();
  assert.equal(info.provider, 'cpu');
  assert.deepEqual(info.threads, { intraOp: 1, interOp: 1, spinning: false });
  assert.equal(info.bytesPerPhoto, tokenBytes(info.tokenEncoding, info.dims.summaryTokens, info.dims.hidden));
  assert.ok(typeof client.pid === 'number' && client.pid !== process.pid, 'runs in another process');
});

test('compressing through the process gives the in-process bytes; a bad photo fails alone', async () => {
  const bad = path.join(tempDir('bad-photo'), 'broken.jpg');
  fs.writeFileSync(bad, Buffer.from('this is not a jpeg'));
  const inputs = [photos[0] as string, bad, photos[1] as string];
  const remote = await client.compressImages(inputs);
  const mine = await local.compressImages(inputs);
  assert.equal(remote.length, 3);
  assert.equal(remote[1]?.ok, false);
  assert.match(remote[1]?.ok === false ? remote[1].error.message : '', /broken\.jpg/);
  for (const i of [0, 2]) {
    const r = remote[i];
    const m = mine[i];
    assert.ok(r?.ok && m?.ok, `photo ${i} failed: ${JSON.stringify(r?.ok ? m : r)}`);
    assert.equal(r.tokens.length, (await client.info()).bytesPerPhoto);
    assert.deepEqual(Buffer.from(r.tokens), Buffer.from(m.tokens));
    assert.ok(Math.abs(r.embedding.reduce((a, v) => a + v * v, 0) - 1) < 1e-5, 'embedding is normalised');
  }
  // bytes as input work like paths
  const fromBytes = await client.compressImages([fs.readFileSync(photos[0] as string)]);
  assert.ok(fromBytes[0]?.ok && remote[0]?.ok && Buffer.from(fromBytes[0].tokens).equals(Buffer.from(remote[0].tokens)));
});

test('answers stream token by token and match the in-process answer; an invalid budget is refused', async () => {
  const [c] = await client.compressImages([photos[2] as string]);
  assert.ok(c?.ok);
  const pieces: string[] = [];
  const remote = await client.generate(c.tokens, 'Describe the image.', { budget: 8, maxNewTokens: 40 }, (t) => pieces.push(t));
  const mine = await local.generate(c.tokens, 'Describe the image.', { budget: 8, maxNewTokens: 40 });
  assert.equal(remote.text, mine.text);
  assert.equal(pieces.join(''), remote.text);
  assert.ok(pieces.length >= 1 && pieces.length <= remote.ids.length);
  await assert.rejects(client.generate(c.tokens, 'What colour is the circle?', { budget: 3 }), (err: Error) => err.name === 'BudgetError' && /budget 3 is not valid/.test(err.message));
  await assert.rejects(client.generate(new Uint8Array(10), 'hi'), /cached tokens are 10 bytes/);
});

test('cancelling a generation stops it mid-way', async () => {
  const [c] = await client.compressImages([photos[3] as string]);
  assert.ok(c?.ok);
  const options = { maxNewTokens: 200, temperature: 1, topP: 1, seed: 1 };
  const full = await client.generate(c.tokens, 'Describe the image.', options);
  assert.ok(full.ids.length >= 4, `the uncancelled answer must be long enough to cancel (${full.ids.length} tokens)`);
  const abort = new AbortController();
  let seen = 0;
  const cancelled = client.generate(c.tokens, 'Describe the image.', { ...options, signal: abort.signal }, () => {
    seen++;
    if (seen === 1) abort.abort();
  });
  await assert.rejects(cancelled, (err: Error) => err.name === 'AbortError');
  assert.ok(seen < full.ids.length, `cancel came too late: ${seen} of ${full.ids.length} tokens`);
  // the engine is still fine afterwards
  assert.equal((await client.generate(c.tokens, 'Describe the image.', options)).text, full.text);
});

test('killing the engine process mid-request rejects it clearly; the next request starts a fresh process', async () => {
  await client.info();
  const first = client.pid as number;
  const inFlight = client.compressImages([...photos, ...photos, ...photos]);
  process.kill(first, 'SIGKILL');
  await assert.rejects(inFlight, (err: Error) => err instanceof EngineCrashed && /stopped unexpectedly \(signal SIGKILL\) during compressImages; the next request starts a new engine process/.test(err.message));
  const again = await client.compressImages([photos[0] as string]);
  assert.ok(again[0]?.ok);
  assert.notEqual(client.pid, first);
});

test('a broken pack fails the request with the pack error, and the client keeps working once fixed', async () => {
  const dir = path.join(tempDir('client-bad-pack'), 'p');
  fs.cpSync(pack, dir, { recursive: true });
  fs.rmSync(path.join(dir, 'llm.onnx'));
  const broken = new EngineClient(dir, { providers: ['cpu'], threads: 1 });
  try {
    await assert.rejects(broken.info(), (err: Error) => err.name === 'PackError' && /file llm.onnx is missing/.test(err.message));
    fs.copyFileSync(path.join(pack, 'llm.onnx'), path.join(dir, 'llm.onnx'));
    assert.ok((await broken.info()).dims.hidden > 0);
  } finally {
    await broken.close();
  }
});
