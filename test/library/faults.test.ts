// A passing fault must not hide healthy photos: the real engine process killed
// mid-index, a pack whose pack.json disagrees with its graphs, a broken last pack,
// a file unreadable until its permissions are fixed, a name that is not UTF-8, and
// HEIC shown through the engine's decoder. Real SQLite file, real engine process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Library, type LibraryOptions } from '../../main/library/library.ts';
import { startServer } from '../../main/server/server.ts';
import { writeSamples } from '../../world/samples.ts';
import { packCopy, ROOT, tempDir, testPackDir } from '../helpers.ts';

const FAST_RETRY = { delaysMs: [100, 300, 600] };
const runtime = { providers: ['cpu'], threads: 1 };

async function photosIn(label: string, count: number, seed = 31): Promise<string> {
  const out = path.join(tempDir(label), 'samples');
  await writeSamples({ count, seed, size: 96, out });
  return path.join(out, 'photos');
}

function open(dir: string, packDirs: string[], extra: Partial<LibraryOptions> = {}): Promise<Library> {
  return Library.open({ dir, packDirs, runtime, watch: false, retry: FAST_RETRY, ...extra });
}

test('the engine process killed (SIGKILL) three times mid-index, twice in a row: every photo indexed, none blamed', async () => {
  const photos = await photosIn('kill', 40);
  const library = await open(path.join(tempDir('kill-lib'), 'library'), [path.dirname(testPackDir())]);
  try {
    let indexed = 0;
    const kills: number[] = [];
    library.on('indexed', () => indexed++);
    library.addFolder(photos);
    // The second kill lands as soon as the engine is back and has indexed again: the old
    // code then blamed the photo in flight ("the engine failed on this photo").
    const freshPid = async () => {
      for (;;) {
        const pid = await library.engineInfo().then((i) => i.pid, () => 0);
        if (pid && !kills.includes(pid)) return pid;
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    let mark = 0;
    for (const after of [() => 4, () => mark + 1, () => 20]) {
      const target = after();
      while (indexed < target) await new Promise((r) => setTimeout(r, 5));
      const pid = await freshPid();
      process.kill(pid, 'SIGKILL');
      kills.push(pid);
      mark = indexed;
    }
    await library.settled();
    const s = library.status();
    assert.equal(s.counts.indexed, 40, JSON.stringify(s.counts));
    assert.equal(s.counts.failed, 0);
    assert.deepEqual(library.errors(), []);
    assert.equal(s.indexing.problem, null);
    assert.ok(!kills.includes((await library.engineInfo()).pid), 'a fresh engine process answers');
    assert.ok(library.timeline().every((t) => t.failed === null));
  } finally {
    await library.close();
  }
});

test('a photo on which the engine process dies every time is the only one marked failed (engine-crashed); the rest index', async () => {
  const photos = await photosIn('poison', 3);
  const library = await open(path.join(tempDir('poison-lib'), 'library'), [path.dirname(testPackDir())]);
  try {
    // Stands in for a decoder crash: whenever the queue sends a batch led by the poison photo, the real engine process is SIGKILLed.
    let poison: string | null = null;
    let killing = false;
    library.on('progress', (p) => {
      if (p.state !== 'running' || p.current === null || killing) return;
      poison ??= p.current;
      if (p.current !== poison) return;
      killing = true;
      void library.engineInfo().then((i) => process.kill(i.pid, 'SIGKILL'), () => undefined).finally(() => { killing = false; });
    });
    library.addFolder(photos);
    await library.settled();
    const s = library.status();
    assert.equal(s.indexing.problem, null, 'indexing did not pause: the engine answers without that photo');
    assert.equal(s.counts.indexed, 2);
    assert.deepEqual(library.errors().map((e) => [e.path, e.code]), [[poison, 'engine-crashed']]);
    assert.match(library.errors()[0]?.message ?? '', /the engine process stopped every time it read this photo \(4 tries/);
  } finally {
    await library.close();
  }
});

test('a pack whose pack.json disagrees with its graphs pauses indexing with the reason, blames no photo, and indexes once fixed', async () => {
  const root = tempDir('dims');
  const packs = path.join(root, 'packs');
  const good = fs.readFileSync(path.join(testPackDir(), 'pack.json'), 'utf8');
  const dir = packCopy(packs, 'pack-x', (m) => { m.dims.layers = 3; });
  const photos = await photosIn('dims-photos', 6);
  const libDir = path.join(root, 'library');
  const first = await open(libDir, [packs]);
  try {
    first.addFolder(photos);
    await first.settled();
    const s = first.status();
    assert.equal(s.indexing.state, 'paused');
    assert.match(s.indexing.problem ?? '', /model pack "pack-x": dims mismatch: .*pack\.json dims\.layers is 3, but llm\.onnx has 4 cache layers/);
    assert.match(s.indexing.problem ?? '', /No photo was marked as failed/);
    assert.equal(s.counts.failed, 0);
    assert.equal(s.counts.pending, 6);
    assert.deepEqual(first.errors(), []);
    assert.equal(first.timeline().length, 6, 'the photos stay in the grid');
  } finally {
    await first.close();
  }
  // Fixed: pack.json is part of the revision, and nothing was recorded against the photos anyway.
  fs.writeFileSync(path.join(dir, 'pack.json'), JSON.stringify({ ...JSON.parse(good), id: 'pack-x' }));
  const second = await open(libDir, [packs]);
  try {
    await second.settled();
    const s = second.status();
    assert.equal(s.counts.indexed, 6);
    assert.equal(s.counts.failed, 0);
    assert.equal(s.indexing.problem, null);
  } finally {
    await second.close();
  }
});

test('a library whose last pack is broken (truncated llm.onnx) says which pack and why before falling back', async () => {
  const root = tempDir('broken-last');
  const packs = path.join(root, 'packs');
  packCopy(packs, 'pack-a');
  const b = packCopy(packs, 'pack-b');
  const libDir = path.join(root, 'library');
  const first = await open(libDir, [packs], { packId: 'pack-b' });
  await first.close();
  const llm = path.join(b, 'llm.onnx');
  fs.truncateSync(llm, Math.floor(fs.statSync(llm).size / 2));
  const second = await open(libDir, [packs]);
  try {
    const issue = second.status().packIssue;
    assert.ok(issue, 'the broken pack is reported');
    assert.equal(issue.pack, 'pack-b');
    assert.equal(issue.usingInstead, 'pack-a');
    assert.match(issue.error, /model pack "pack-b": file llm\.onnx is \d+ bytes, pack\.json says \d+ \(corrupted or truncated\)/);
    assert.equal(second.status().pack, 'pack-a');
  } finally {
    await second.close();
  }
});

test('failed photos stay in the timeline, marked with the reason; a name that is not UTF-8 is listed as failed', async () => {
  const photos = await photosIn('marked', 3);
  const jpeg = fs.readFileSync(path.join(photos, fs.readdirSync(photos, { recursive: true }).map(String).find((p) => p.endsWith('.jpg')) as string));
  fs.writeFileSync(path.join(photos, 'truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  let rawName = true;
  try {
    fs.writeFileSync(Buffer.concat([Buffer.from(`${photos}${path.sep}bad`), Buffer.from([0xff, 0xfe]), Buffer.from('name.jpg')]), jpeg);
  } catch {
    rawName = false; // file systems that refuse such names (APFS, NTFS) cannot have the problem
  }
  const library = await open(path.join(tempDir('marked-lib'), 'library'), [path.dirname(testPackDir())]);
  try {
    library.addFolder(photos);
    await library.settled();
    const truncated = library.timeline().find((t) => t.failed !== null);
    assert.equal(library.timeline().length, 4);
    assert.equal(truncated?.failed?.code, 'truncated');
    assert.match(truncated?.failed?.message ?? '', /truncated\.jpg is truncated/);
    assert.equal(library.photo(truncated!.id).failed?.code, 'truncated');
    if (rawName) {
      const bad = library.errors().find((e) => e.code === 'bad-name');
      assert.ok(bad, `the undecodable name is listed: ${JSON.stringify(library.errors())}`);
      assert.equal(path.basename(bad.path), 'bad\uFFFD\uFFFDname.jpg');
      assert.match(bad.message, /not valid UTF-8.*rename the file/);
      await library.rescan();
      await library.settled();
      assert.ok(library.errors().some((e) => e.code === 'bad-name'), 'still listed after a rescan');
    }
  } finally {
    await library.close();
  }
});

test('HEIC: the thumbnail and the photo shown decode through the engine\'s HEIC path', async () => {
  const photos = path.join(tempDir('heic'), 'photos');
  fs.mkdirSync(photos);
  fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'images', 'quadrants.heic'), path.join(photos, 'IMG_0001.HEIC'));
  const library = await open(path.join(tempDir('heic-lib'), 'library'), [path.dirname(testPackDir())]);
  try {
    library.addFolder(photos);
    await library.settled();
    const [item] = library.timeline();
    assert.ok(item && item.failed === null && library.photo(item.id).indexed);
    const thumb = fs.readFileSync(await library.thumbnail(item.id));
    assert.equal(thumb.toString('latin1', 8, 12), 'WEBP');
    const shown = await library.photoFile(item.id);
    assert.equal(shown.type, 'image/jpeg');
    assert.deepEqual([...fs.readFileSync(shown.path).subarray(0, 3)], [0xff, 0xd8, 0xff]);
    // The same over browser mode's routes (the thumbnail answered 404 "bad seek" before).
    const server = await startServer({ library });
    try {
      const get = (kind: string) => fetch(`${server.url}/files/${kind}/${item.id}`, { headers: { Authorization: `Bearer ${server.token}` } });
      const thumbRes = await get('thumb');
      assert.equal(thumbRes.status, 200);
      assert.equal(thumbRes.headers.get('content-type'), 'image/webp');
      const photoRes = await get('photo');
      assert.equal(photoRes.status, 200);
      assert.equal(photoRes.headers.get('content-type'), 'image/jpeg');
      assert.deepEqual([...new Uint8Array(await photoRes.arrayBuffer()).subarray(0, 3)], [0xff, 0xd8, 0xff]);
    } finally {
      await server.close();
    }
  } finally {
    await library.close();
  }
});

test('a file unreadable until its permissions are fixed indexes on the next run, though its size and mtime did not change', () => {
  // Run as an unprivileged user: root reads a chmod 000 file anyway.
  const nobody = 65534;
  const root = tempDir('perm');
  fs.chmodSync(root, 0o777);
  const photos = path.join(root, 'photos');
  fs.mkdirSync(photos, { mode: 0o777 });
  const sample = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'world', 'cli.ts'), 'samples', '--count', '2', '--size', '96', '--out', path.join(root, 's')], { cwd: ROOT });
  assert.equal(sample.status, 0, String(sample.stderr));
  const files = fs.readdirSync(path.join(root, 's', 'photos'), { recursive: true }).map(String).filter((p) => p.endsWith('.jpg'));
  files.forEach((f, i) => fs.copyFileSync(path.join(root, 's', 'photos', f), path.join(photos, `p${i}.jpg`)));
  const locked = path.join(photos, 'p0.jpg');
  fs.chmodSync(locked, 0o000);
  const before = fs.statSync(locked);
  const index = () => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'glimpse.mjs'), 'index', photos, '--library', path.join(root, 'lib'), '--packs', path.dirname(testPackDir())],
    { cwd: root, encoding: 'utf8', timeout: 120_000, ...(process.getuid?.() === 0 ? { uid: nobody, gid: nobody, env: { ...process.env, HOME: root } } : {}) });
  const first = index();
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /1 photos indexed for pack .*, 1 failed/);
  assert.match(first.stdout, /p0\.jpg cannot be read \(permission denied\)/);
  fs.chmodSync(locked, 0o644);
  const after = fs.statSync(locked);
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.equal(after.size, before.size);
  const second = index();
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /2 photos indexed for pack .*, 0 failed/);
});
