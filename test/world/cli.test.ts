// The world CLI: clear errors for bad arguments, and nothing half-written left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, runWorldCli, tempDir } from '../helpers.ts';

function leftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.includes('.partial-'));
}

test('dataset and samples commands write their outputs', () => {
  const dir = tempDir('cli-ok');
  const ds = runWorldCli(['dataset', '--split', 'train', '--count', '5', '--seed', '2', '--size', '32', '--out', path.join(dir, 'ds')]);
  assert.equal(ds.status, 0, ds.stderr);
  assert.match(ds.stdout, /wrote 5 train images \(32x32\)/);
  assert.equal(fs.statSync(path.join(dir, 'ds', 'images.u8')).size, 5 * 32 * 32 * 3);
  const samples = runWorldCli(['samples', '--count', '4', '--size', '64', '--out', path.join(dir, 'lib')]);
  assert.equal(samples.status, 0, samples.stderr);
  assert.ok(fs.existsSync(path.join(dir, 'lib', 'glimpse-samples.scenes.json')));
});

test('--language 2 writes the varied language and records it; vocab --language 2 lists more words', () => {
  const dir = tempDir('cli-language');
  const ds = runWorldCli(['dataset', '--split', 'test', '--count', '3', '--size', '32', '--language', '2', '--out', path.join(dir, 'ds')]);
  assert.equal(ds.status, 0, ds.stderr);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'ds', 'manifest.json'), 'utf8'));
  assert.equal(manifest.language, 2);
  const record = JSON.parse(fs.readFileSync(path.join(dir, 'ds', 'scenes.jsonl'), 'utf8').split('\n')[0] as string);
  assert.ok(record.searches.length > 0 && record.questions.some((q: { wording: string }) => q.wording === 'new-combination'));
  const v1 = JSON.parse(runWorldCli(['vocab']).stdout) as string[];
  const v2 = JSON.parse(runWorldCli(['vocab', '--language', '2']).stdout) as string[];
  assert.deepEqual(JSON.parse(runWorldCli(['vocab', '--language', '1']).stdout), v1);
  assert.ok(v2.length > v1.length + 80 && ['crimson', 'color', 'seashore', 'nothing'].every((w) => v2.includes(w)), `${v2.length} words`);
});

const BAD: Array<{ name: string; args: (dir: string) => string[]; error: RegExp }> = [
  { name: 'unknown split', args: (d) => ['dataset', '--split', 'holdout', '--count', '5', '--out', path.join(d, 'x')], error: /unknown split 'holdout': expected one of train, val, test/ },
  { name: 'missing split', args: (d) => ['dataset', '--count', '5', '--out', path.join(d, 'x')], error: /--split is required/ },
  { name: 'count 0', args: (d) => ['dataset', '--split', 'train', '--count', '0', '--out', path.join(d, 'x')], error: /--count must be between 1 and/ },
  { name: 'negative count', args: (d) => ['dataset', '--split', 'train', '--count', '-3', '--out', path.join(d, 'x')], error: /--count must be between 1 and/ },
  { name: 'count not a number', args: (d) => ['dataset', '--split', 'train', '--count', 'lots', '--out', path.join(d, 'x')], error: /--count must be a whole number, got 'lots'/ },
  { name: 'missing out', args: () => ['dataset', '--split', 'train', '--count', '5'], error: /--out is required/ },
  { name: 'unknown option', args: (d) => ['dataset', '--split', 'train', '--count', '5', '--colour', 'red', '--out', path.join(d, 'x')], error: /Unknown option '--colour'/ },
  { name: 'unknown command', args: () => ['render'], error: /unknown command 'render'/ },
  { name: 'bad jpeg probability', args: (d) => ['dataset', '--split', 'train', '--count', '5', '--jpeg', '2', '--out', path.join(d, 'x')], error: /--jpeg must be a probability/ },
  { name: 'unknown language', args: (d) => ['dataset', '--split', 'train', '--count', '5', '--language', '3', '--out', path.join(d, 'x')], error: /--language must be one of 1, 2, got '3'/ },
  { name: 'language not a number', args: (d) => ['samples', '--count', '2', '--language', 'two', '--out', path.join(d, 'x')], error: /--language must be one of 1, 2, got 'two'/ },
];

for (const bad of BAD) {
  test(`bad arguments: ${bad.name} -> a clear error, exit 2, nothing written`, () => {
    const dir = tempDir('cli-bad');
    const r = runWorldCli(bad.args(dir));
    assert.equal(r.status, 2, `exit status ${r.status}; stderr: ${r.stderr}`);
    assert.match(r.stderr, bad.error);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace for a user error');
    assert.deepEqual(fs.readdirSync(dir), []);
  });
}

test('an unwritable output folder gives a clear error and leaves nothing behind', () => {
  const dir = tempDir('cli-unwritable');
  const file = path.join(dir, 'not-a-folder');
  fs.writeFileSync(file, 'x');
  const r = runWorldCli(['dataset', '--split', 'train', '--count', '5', '--out', path.join(file, 'ds')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cannot write to output folder .*not-a-folder\/ds: (ENOTDIR|EEXIST)/);
  assert.deepEqual(fs.readdirSync(dir), ['not-a-folder']);
});

test('a non-empty output folder is kept unless --force replaces it', () => {
  const dir = tempDir('cli-force');
  const out = path.join(dir, 'ds');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'precious.txt'), 'keep me');
  const refused = runWorldCli(['dataset', '--split', 'val', '--count', '3', '--out', out]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /is not empty; choose another --out or pass --force/);
  assert.equal(fs.readFileSync(path.join(out, 'precious.txt'), 'utf8'), 'keep me');
  const forced = runWorldCli(['dataset', '--split', 'val', '--count', '3', '--out', out, '--force']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.deepEqual(fs.readdirSync(out).sort(), ['images.u8', 'manifest.json', 'scenes.jsonl']);
  assert.deepEqual(leftovers(dir), []);
});

test('an interrupted run (SIGINT) leaves no output and no partial folder', async () => {
  const dir = tempDir('cli-interrupt');
  const out = path.join(dir, 'ds');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'world', 'cli.ts'), 'dataset', '--split', 'train', '--count', '200000', '--out', out], { cwd: ROOT });
  let stderr = '';
  // Interrupt once it has written something: progress lines come every 2 s.
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/train: \d+\/200000/.test(stderr) && leftovers(dir).length > 0) resolve();
    });
  });
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 130);
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing may be left after an interrupt');
});
