// The `glimpse` command end to end, as a person runs it: bin/glimpse.mjs in its own
// process, a real library in a temporary folder, the real engine process and the
// bundled model pack. Every command goes through the contract (main/api), so its
// errors read the same as the app's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { writeSamples, type SamplesSidecar } from '../../world/samples.ts';
import { ROOT, tempDir } from '../helpers.ts';

const root = tempDir('cli');
const library = path.join(root, 'library');
const photos = path.join(root, 'samples', 'photos');
let sidecar: SamplesSidecar;

function glimpse(args: string[], cwd = ROOT): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'glimpse.mjs'), ...args, '--library', library], {
    cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, GLIMPSE_LIBRARY: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  sidecar = await writeSamples({ count: 6, seed: 21, size: 96, out: path.join(root, 'samples') });
  // Not a picture: listed as failed, with the reason, and the rest indexed.
  fs.writeFileSync(path.join(photos, 'notes.jpg'), 'this is text, not a JPEG');
});

const photoFile = (i: number) => path.join(photos, ...(sidecar.photos[i]?.path ?? '').split('/'));

test('index: a folder given relative to the working folder is indexed, failures listed with their reason', () => {
  const r = glimpse(['index', path.relative(root, photos)], root);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${photos.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 6 photos indexed for pack shapes-tiny, 1 failed$`, 'm'));
  assert.match(r.stdout, /failed: .*notes\.jpg: \S/);
});

test('status: counts, folders and failures, as text and as JSON', () => {
  // The library re-reads failed files whenever it opens, so notes.jpg may be pending
  // again for a moment; the six photos stay indexed either way.
  const text = glimpse(['status']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /7 photos in 7 files; 6 indexed, [01] pending, [01] failed, 0 files missing/);
  assert.ok(text.stdout.includes(`${photos}: 7 files`), text.stdout);
  const json = glimpse(['status', '--json']);
  assert.equal(json.status, 0, json.stderr);
  const status = JSON.parse(json.stdout);
  assert.equal(status.counts.indexed, 6);
  assert.equal(status.errors.length, status.counts.failed);
  for (const e of status.errors) assert.match(e.path, /notes\.jpg$/);
});

test('search: a photo found by its own description, as JSON, best first', () => {
  const wanted = sidecar.photos[0]!;
  const r = glimpse(['search', wanted.captions[0]!.text, '--json', '--limit', '3']);
  assert.equal(r.status, 0, r.stderr);
  const found: { hits: Array<{ path: string; score: number }>; goodMatch: boolean; unknownWords: string[] } = JSON.parse(r.stdout);
  const hits = found.hits;
  assert.deepEqual(found.unknownWords, [], 'the world\'s own caption has no unknown word');
  assert.equal(hits.length, 3);
  assert.ok(hits.some((h) => h.path === photoFile(0)), `${photoFile(0)} not among ${hits.map((h) => h.path).join(', ')}`);
  // Scores are cosines; the order is search's (the bundled pack re-ranks its first hits: test/library/rerank.test.ts).
  assert.ok(hits.every((h) => h.score >= -1 && h.score <= 1), hits.map((h) => h.score).join(', '));
});

test('caption and ask answer from the cached tokens', () => {
  const caption = glimpse(['caption', photoFile(1), '--budget', '8']);
  assert.equal(caption.status, 0, caption.stderr);
  assert.match(caption.stdout.trim(), /\w+ \w+/);
  const ask = glimpse(['ask', photoFile(1), 'how many objects are there?']);
  assert.equal(ask.status, 0, ask.stderr);
  assert.ok(ask.stdout.trim().length > 0);
});

const BAD: Array<{ name: string; args: () => string[]; error: RegExp }> = [
  { name: 'an impossible date', args: () => ['search', 'a red circle', '--from', '2024-13-45'], error: /search: from: not a real date/ },
  { name: '30 February', args: () => ['search', 'a red circle', '--to', '2023-02-30'], error: /search: to: not a real date/ },
  { name: 'a photo not in the library', args: () => ['caption', path.join(root, 'elsewhere.jpg')], error: /elsewhere\.jpg/ },
  { name: 'a budget the pack does not have', args: () => ['caption', photoFile(0), '--budget', '3'], error: /budget/ },
  { name: 'a folder that does not exist', args: () => ['index', path.join(root, 'no-such-folder')], error: /does not exist/ },
  { name: 'an unknown command', args: () => ['reindex'], error: /unknown command 'reindex'/ },
  { name: 'a missing argument', args: () => ['ask', photoFile(0)], error: /ask needs a photo path and a question/ },
  { name: 'a budget that is not a number', args: () => ['caption', photoFile(0), '--budget', 'many'], error: /--budget must be a whole number/ },
];

for (const bad of BAD) {
  test(`bad use: ${bad.name} -> a clear error and exit 2`, () => {
    const r = glimpse(bad.args());
    assert.equal(r.status, 2, `exit ${r.status}; stdout ${r.stdout}; stderr ${r.stderr}`);
    assert.match(r.stderr, bad.error);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a usage error');
  });
}
