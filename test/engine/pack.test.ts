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
  { name: 'unknown format version', edit: { manifest: (m) => { m.version = 3; } }, error: /format version 3 is not supported \(this Glimpse reads versions 1 and 2\)/ },
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
  await assert.rejects(Fwd2BotModel.load(pack, { providers: ['cpu'], threads: 1 }), /model pack "[^"]+": dims mismatch: .*pack.json dims.heads is \d+, but llm.onnx's input past_key_values.0.key has \d+ on axis 1/);
});

for (const [field, value] of [['dims.vision_tokens', 32], ['dims.layers', 3], ['dims.vision_dim', 64], ['image.size', 32]] as const) {
  test(`bad pack: ${field} = ${value} disagrees with the graphs and is refused when the sessions open, naming the field`, async () => {
    const [group, key] = field.split('.') as [string, string];
    let stated = 0;
    const dir = brokenCopy(`dim-${key}`, { manifest: (m) => { stated = m[group][key]; m[group][key] = value; } });
    const pack = loadPack(dir);
    await assert.rejects(Fwd2BotModel.load(pack, { providers: ['cpu'], threads: 1 }), (err: Error) => {
      assert.match(err.message, /^model pack "[^"]+": dims mismatch: /);
      assert.ok(err.message.includes(`pack.json ${field} is ${value}, but `), err.message);
      assert.match(err.message, new RegExp(`has ${stated}( on axis \\d| cache layers)`));
      return true;
    });
  });
}

test('pack.json is part of the revision: an edited manifest files its tokens under a new cache key', () => {
  const a = loadPack(source, { verifyHashes: false });
  const dir = brokenCopy('revision', { manifest: (m) => { m.prompts.caption = `${m.prompts.caption} `; } });
  const b = loadPack(dir, { verifyHashes: false });
  assert.equal(a.id, b.id);
  assert.notEqual(a.cacheKey, b.cacheKey);
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
