// The glimpse command on faults: a broken chosen pack is named before the fallback
// answers; a pack the engine refuses pauses `index` with the reason (exit 1) and
// blames no photo; `index --retry-failed` tries failures again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { writeSamples } from '../../world/samples.ts';
import { packCopy, ROOT, tempDir } from '../helpers.ts';

function glimpse(args: string[]) {
  return spawnSync(process.execPath, [path.join(ROOT, 'bin', 'glimpse.mjs'), ...args], { encoding: 'utf8', timeout: 180_000 });
}

test('a broken last pack is named in search and status before another pack answers', async () => {
  const root = tempDir('cli-broken');
  const packs = path.join(root, 'packs');
  await writeSamples({ count: 3, seed: 5, size: 96, out: path.join(root, 's') });
  const photos = path.join(root, 's', 'photos');
  const b = packCopy(packs, 'pack-b');
  const lib = ['--library', path.join(root, 'lib'), '--packs', packs];
  const first = glimpse(['index', photos, ...lib, '--pack', 'pack-b']);
  assert.equal(first.status, 0, first.stderr);
  fs.truncateSync(path.join(b, 'llm.onnx'), 1000);
  const search = glimpse(['search', 'a red circle', ...lib]);
  assert.match(search.stderr, /model pack "pack-b" is broken, using "shapes-tiny" instead: .*file llm\.onnx is 1000 bytes, pack\.json says \d+ \(corrupted or truncated\)/);
  const status = glimpse(['status', '--json', ...lib]);
  const s = JSON.parse(status.stdout);
  assert.equal(s.packIssue.pack, 'pack-b');
  assert.equal(s.packIssue.usingInstead, 'shapes-tiny');
});

test('index pauses on a pack the engine refuses (exit 1, nothing failed); index --retry-failed runs again', async () => {
  const root = tempDir('cli-refused');
  const packs = path.join(root, 'packs');
  const dir = packCopy(packs, 'pack-v', (m) => { m.dims.vision_tokens = 32; });
  await writeSamples({ count: 4, seed: 6, size: 96, out: path.join(root, 's') });
  const photos = path.join(root, 's', 'photos');
  fs.writeFileSync(path.join(photos, 'empty.jpg'), '');
  const lib = ['--library', path.join(root, 'lib'), '--packs', packs, '--pack', 'pack-v'];
  const paused = glimpse(['index', photos, ...lib]);
  assert.equal(paused.status, 1, paused.stderr);
  assert.match(paused.stderr, /Indexing paused after \d+ tries: model pack "pack-v": dims mismatch: .*pack\.json dims\.vision_tokens is 32, but vision\.onnx's output image_tokens has 64 on axis 1/);
  assert.match(paused.stdout, /0 photos indexed for pack pack-v, 1 failed/, 'only the empty file, which is bad on its own');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'pack.json'), 'utf8'));
  manifest.dims.vision_tokens = 64;
  fs.writeFileSync(path.join(dir, 'pack.json'), JSON.stringify(manifest));
  const again = glimpse(['index', '--retry-failed', ...lib]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /trying \d+ failed files and \d+ failed photos again/);
  assert.match(again.stdout, /^library: 4 photos indexed for pack pack-v, 1 failed$/m);
  assert.match(again.stdout, /failed: .*empty\.jpg: .*is empty \(0 bytes\)/);
});
