// Every way a model pack can be broken gives one clear error naming the pack and the problem.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Fwd2BotModel } from '../../main/engine/fwd2bot.ts';
import { discoverPacks, loadPack } from '../../main/engine/pack.ts';
import { tempDir, testPackDir } from '../helpers.ts';

const source = testPackDir();

/** A copy of the test pack with its manifest edited and/or its files damaged. */
function brokenCopy(label: string, edit: { manifest?: (m: Record<string, any>) => void; files?: (dir: string) => void }): string {
  const dir = path.join(tempDir(`pack-${label}`), 'broken');
  fs.cpSync(source, dir, { recursive: true });
  if (edit.manifest) {
    const manifestPath = path.join(dir, 'pack.json');
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    edit.manifest(manifest);
    fs.writeFileSync(manifestPath, JSON.stringify(manifest));
  }
  edit.files?.(dir);
  return dir;
}

test('the test pack itself loads', () => {
  const pack = loadPack(source);
  assert.ok(pack.manifest.summary.budgets.includes(pack.manifest.summary.tokens));
});

const CASES: Array<{ name: string; edit: Parameters<typeof brokenCopy>[1]; error: RegExp }> = [
  { name: 'wrong format version', edit: { manifest: (m) => { m.version = 2; } }, error: /format version 2 is not supported/ },
  { name: 'not a pack', edit: { manifest: (m) => { m.format = 'something-else'; } }, error: /pack.json is invalid at format/ },
  { name: 'invalid JSON', edit: { files: (d) => fs.writeFileSync(path.join(d, 'pack.json'), '{ "format": ') }, error: /pack.json is not valid JSON/ },
  { name: 'no pack.json', edit: { files: (d) => fs.rmSync(path.join(d, 'pack.json')) }, error: /no pack.json in/ },
  { name: 'missing graph', edit: { files: (d) => fs.rmSync(path.join(d, 'llm.onnx')) }, error: /file llm.onnx is missing/ },
  { name: 'truncated tensor', edit: { files: (d) => fs.truncateSync(path.join(d, 'embed_tokens.f32'), 100) }, error: /file embed_tokens.f32 is 100 bytes, pack.json says \d+/ },
  {
    name: 'corrupted file, same size',
    edit: {
      files: (d) => {
        const f = path.join(d, 'summary.f32');
        const b = fs.readFileSync(f);
        b[10] = (b[10] as number) ^ 0xff;
        fs.writeFileSync(f, b);
      },
    },
    error: /file summary.f32 is corrupted \(sha256 does not match pack.json\)/,
  },
  { name: 'file escaping the pack', edit: { manifest: (m) => { m.files['../outside.bin'] = { bytes: 1, sha256: '0'.repeat(64) }; } }, error: /points outside the pack/ },
  { name: 'mismatched tensor dims', edit: { manifest: (m) => { m.dims.hidden = 64; } }, error: /dims mismatch: embed_tokens is \d+x128, expected \d+x64/ },
  { name: 'budget beyond the summary tokens', edit: { manifest: (m) => { m.summary.budgets = [1, 32]; } }, error: /a budget exceeds the number of summary tokens/ },
];

for (const c of CASES) {
  test(`bad pack: ${c.name} -> one clear error naming the pack`, () => {
    const dir = brokenCopy(c.name.replace(/\W+/g, '-'), c.edit);
    assert.throws(() => loadPack(dir), (err: Error) => {
      assert.equal(err.name, 'PackError');
      assert.match(err.message, /^model pack "[^"]+": /);
      assert.match(err.message, c.error);
      return true;
    });
  });
}

test('bad pack: graphs that disagree with pack.json are caught when the sessions open', async () => {
  const dir = brokenCopy('graph-dims', {
    manifest: (m) => {
      m.dims.heads = m.dims.heads / 2;
      m.dims.head_dim = m.dims.head_dim * 2;
    },
  });
  const pack = loadPack(dir);
  await assert.rejects(Fwd2BotModel.load(pack, { providers: ['cpu'], threads: 1 }), /model pack "[^"]+": dims mismatch: llm cache heads is \d+ in the graph, \d+ in pack.json/);
});

test('discovery lists good and broken packs from every root, with the reason', () => {
  const root = tempDir('discover');
  fs.cpSync(source, path.join(root, 'good'), { recursive: true });
  fs.cpSync(source, path.join(root, 'bad'), { recursive: true });
  fs.rmSync(path.join(root, 'bad', 'vision.onnx'));
  fs.mkdirSync(path.join(root, 'not-a-pack'));
  const found = discoverPacks([root, path.join(root, 'missing-root')]).sort((a, b) => a.dir.localeCompare(b.dir));
  assert.equal(found.length, 2);
  assert.match(found[0]?.error ?? '', /file vision.onnx is missing/);
  assert.ok(found[1]?.pack, 'the good pack loads');
});
