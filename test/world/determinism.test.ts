import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { writeDataset, type DatasetManifest } from '../../world/dataset.ts';
import { pixelsFor, sceneAt } from '../../world/generate.ts';
import { SIDECAR_NAME, writeSamples, type SamplesSidecar } from '../../world/samples.ts';
import { readTree, tempDir } from '../helpers.ts';

test('the same arguments give byte-identical data sets, another seed a different one', async () => {
  const dir = tempDir('det');
  const opts = { split: 'test' as const, count: 40, seed: 7, size: 64 };
  await writeDataset({ ...opts, out: path.join(dir, 'a') });
  await writeDataset({ ...opts, out: path.join(dir, 'b') });
  await writeDataset({ ...opts, seed: 8, out: path.join(dir, 'c') });
  const a = readTree(path.join(dir, 'a'));
  const b = readTree(path.join(dir, 'b'));
  const c = readTree(path.join(dir, 'c'));
  assert.deepEqual([...a.keys()].sort(), ['images.u8', 'manifest.json', 'scenes.jsonl']);
  for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name) as Buffer), `${name} differs between two runs`);
  assert.ok(!(a.get('images.u8') as Buffer).equals(c.get('images.u8') as Buffer), 'another seed gave the same images');
});

test('the manifest describes the files: shape, sizes and checksums', async () => {
  const dir = tempDir('manifest');
  const out = path.join(dir, 'ds');
  const m: DatasetManifest = await writeDataset({ split: 'val', count: 12, seed: 3, size: 96, out });
  const images = fs.readFileSync(path.join(out, 'images.u8'));
  const scenes = fs.readFileSync(path.join(out, 'scenes.jsonl'));
  assert.equal(images.length, 12 * 96 * 96 * 3);
  assert.deepEqual(m.images.shape, [12, 96, 96, 3]);
  assert.equal(m.images.sha256, createHash('sha256').update(images).digest('hex'));
  assert.equal(m.scenes.sha256, createHash('sha256').update(scenes).digest('hex'));
  const records = scenes.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(records.length, 12);
  records.forEach((r, i) => assert.equal(r.index, i));
  assert.ok(records.every((r) => r.probes.length > 0), 'val records carry probes');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')), m);
});

test('any image can be regenerated on its own: record i holds the pixels of (seed, split, i)', async () => {
  const dir = tempDir('random-access');
  const out = path.join(dir, 'ds');
  await writeDataset({ split: 'train', count: 30, seed: 11, size: 64, out });
  const images = fs.readFileSync(path.join(out, 'images.u8'));
  const frame = 64 * 64 * 3;
  for (const i of [0, 17, 29]) {
    const alone = await pixelsFor(sceneAt(11, 'train', i), 11, 'train', i, 64, { jpegProbability: 0.5 });
    assert.ok(alone.equals(images.subarray(i * frame, (i + 1) * frame)), `image ${i} differs when rendered alone`);
  }
});

test('splits do not share template sets: held-out phrasings only in test', async () => {
  const dir = tempDir('splits');
  for (const split of ['train', 'test'] as const) {
    await writeDataset({ split, count: 60, seed: 1, size: 32, out: path.join(dir, split) });
  }
  const read = (split: string) => fs.readFileSync(path.join(dir, split, 'scenes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const train = read('train');
  const testRecords = read('test');
  assert.ok(train.every((r) => r.questions.every((q: { heldOut: boolean }) => !q.heldOut) && r.captions.every((c: { heldOut: boolean }) => !c.heldOut)));
  assert.ok(train.every((r) => r.probes.length === 0));
  assert.ok(testRecords.some((r) => r.questions.some((q: { heldOut: boolean }) => q.heldOut)));
  assert.ok(testRecords.some((r) => r.captions.some((c: { heldOut: boolean }) => c.heldOut)));
});

test('sample folders are byte-identical for a seed, nested, with EXIF dates over several years', async () => {
  const dir = tempDir('samples');
  const opts = { count: 30, seed: 5, size: 96 };
  const sidecar: SamplesSidecar = await writeSamples({ ...opts, out: path.join(dir, 'a') });
  await writeSamples({ ...opts, out: path.join(dir, 'b') });
  const a = readTree(path.join(dir, 'a'));
  const b = readTree(path.join(dir, 'b'));
  assert.equal(a.size, 31, '30 photos and the sidecar');
  for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name) as Buffer), `${name} differs between two runs`);
  assert.ok(a.has(SIDECAR_NAME));

  const years = new Set<string>();
  for (const photo of sidecar.photos) {
    const rel = path.join('photos', ...photo.path.split('/'));
    assert.ok(a.has(rel), `sidecar names ${rel} but it is not on disk`);
    assert.ok(photo.path.split('/').length >= 3, 'photos live in nested folders');
    const meta = await sharp(a.get(rel) as Buffer).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.equal(meta.width, 96);
    const exif = exifReader(meta.exif as Buffer);
    const taken = exif.Photo?.DateTimeOriginal as Date;
    const [date, time] = photo.takenAt.split(' ') as [string, string];
    assert.equal(taken.toISOString(), `${date.replaceAll(':', '-')}T${time}.000Z`);
    years.add(date.slice(0, 4));
  }
  assert.ok(years.size >= 3, `dates span only ${[...years].join(', ')}`);
});
