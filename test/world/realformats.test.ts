// The writers of real training-data formats: LLaVA-665k conversations and img2dataset
// style webdataset shards parse back, hold the world's truth, and are deterministic.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { languageFor, pixelsFor, sceneAt, SPLIT_LANGUAGE, type WorldItem } from '../../world/generate.ts';
import { CAPTION_REQUESTS, frameOf, LLAVA_IMAGES, LLAVA_JSON, LLAVA_SCENES, SHORT_ANSWER, writeLlava, type LlavaRecord } from '../../world/llava.ts';
import { toSceneGraph } from '../../world/scene.ts';
import { readTar } from '../../world/tar.ts';
import { wdsLayout, writeWds, type WdsSampleMeta } from '../../world/wds.ts';
import { ROOT, readTree, runWorldCli, tempDir } from '../helpers.ts';

/** Mean absolute difference per channel value between a decoded JPEG and the truth's pixels at the same size. */
async function distanceToTruth(jpeg: Buffer, seed: number, index: number, width: number, height: number): Promise<number> {
  const side = Math.max(width, height);
  const truth = await pixelsFor(sceneAt(seed, 'test', index), seed, 'test', index, side, { jpegProbability: 0 });
  const expected = await sharp(truth, { raw: { width: side, height: side, channels: 3 } }).resize(width, height, { fit: 'fill' }).raw().toBuffer();
  const got = await sharp(jpeg).removeAlpha().raw().toBuffer();
  assert.equal(got.length, expected.length);
  let sum = 0;
  for (let i = 0; i < got.length; i++) sum += Math.abs((got[i] as number) - (expected[i] as number));
  return sum / got.length;
}

/** The turns are one caption request answered with the item's first caption and every question with its answer. */
function assertConversationIsTruth(record: LlavaRecord, item: WorldItem): void {
  const turns = record.conversations;
  const pairs: string[] = [];
  for (let k = 0; k < turns.length; k += 2) {
    const question = (turns[k] as { value: string }).value.replace(/^<image>\n/, '').replace(`\n${SHORT_ANSWER}`, '');
    pairs.push(`${question} => ${(turns[k + 1] as { value: string }).value}`);
  }
  const caption = (item.captions[0] as { text: string }).text;
  const captionTurn = pairs.findIndex((p) => CAPTION_REQUESTS.some((c) => p === `${c} => ${caption}`));
  assert.ok(captionTurn >= 0, `${record.id}: the caption turn is the first caption`);
  pairs.splice(captionTurn, 1);
  assert.deepEqual(pairs.sort(), item.questions.map((q) => `${q.question} => ${q.answer}`).sort(), record.id);
}

/** The photo is item `index`'s scene: within sensor noise and JPEG error of it, and at least twice as far from item `other`. */
async function assertShowsItem(jpeg: Buffer, seed: number, index: number, other: number, width: number, height: number): Promise<void> {
  const own = await distanceToTruth(jpeg, seed, index, width, height);
  const wrong = await distanceToTruth(jpeg, seed, other, width, height);
  assert.ok(own < 8, `item ${index}'s photo is ${own.toFixed(2)} levels from its scene`);
  assert.ok(wrong > 2 * own, `item ${index}'s photo is as close to item ${other} (${wrong.toFixed(2)} vs ${own.toFixed(2)})`);
}

test('llava: one JSON list of {id, image, conversations} whose answers are the world\'s truth', async () => {
  const dir = tempDir('llava');
  const out = path.join(dir, 'llava');
  const seed = 4;
  const summary = await writeLlava({ split: 'test', count: 12, seed, size: 120, out });
  const records = JSON.parse(fs.readFileSync(path.join(out, LLAVA_JSON), 'utf8')) as LlavaRecord[];
  assert.equal(records.length, 12);
  assert.equal(summary.turns, records.reduce((n, r) => n + r.conversations.length, 0));
  const truthLines = fs.readFileSync(path.join(out, LLAVA_SCENES), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const shapes = new Set<string>();
  for (const [i, r] of records.entries()) {
    assert.deepEqual(Object.keys(r).sort(), ['conversations', 'id', 'image']);
    assert.equal(new Set(records.map((x) => x.id)).size, records.length, 'ids are unique');
    const file = path.join(out, LLAVA_IMAGES, ...r.image.split('/'));
    assert.ok(!path.isAbsolute(r.image) && fs.existsSync(file), `${r.image} is a relative path under ${LLAVA_IMAGES}/`);
    const jpeg = fs.readFileSync(file);
    const meta = await sharp(jpeg).metadata();
    const frame = frameOf(seed, 'test', i, 120);
    assert.equal(meta.format, 'jpeg');
    assert.deepEqual([meta.width, meta.height], [frame.width, frame.height]);
    shapes.add(frame.width > frame.height ? 'landscape' : frame.width < frame.height ? 'portrait' : 'square');
    await assertShowsItem(jpeg, seed, i, (i + 1) % 12, frame.width, frame.height);

    const turns = r.conversations;
    assert.equal(turns.length % 2, 0);
    turns.forEach((t, k) => assert.equal(t.from, k % 2 === 0 ? 'human' : 'gpt'));
    assert.match((turns[0] as { value: string }).value, /^<image>\n\S/);
    assert.equal(turns.filter((t) => t.value.includes('<image>')).length, 1, 'exactly one <image> placeholder');
    assertConversationIsTruth(r, languageFor(sceneAt(seed, 'test', i), seed, 'test', i, SPLIT_LANGUAGE.test));
    assert.deepEqual(truthLines[i].graph, toSceneGraph(sceneAt(seed, 'test', i)));
    assert.equal(truthLines[i].id, r.id);
  }
  assert.equal(shapes.size, 3, `photos come in landscape, portrait and square frames, got ${[...shapes].join(', ')}`);
});

test('wds: img2dataset-style tar shards of KEY.jpg/.json/.txt with the truth\'s captions', async () => {
  const dir = tempDir('wds');
  const out = path.join(dir, 'wds');
  const seed = 9;
  const summary = await writeWds({ split: 'test', count: 7, seed, size: 64, shardSize: 3, out });
  assert.deepEqual(fs.readdirSync(out).sort(), ['00000.tar', '00000_stats.json', '00001.tar', '00001_stats.json', '00002.tar', '00002_stats.json']);
  assert.equal(summary.shards.length, 3);
  const seen: string[] = [];
  for (const [s, shard] of ['00000', '00001', '00002'].entries()) {
    const archive = fs.readFileSync(path.join(out, `${shard}.tar`));
    assert.equal(archive.length % 10240, 0, 'padded to whole tar records');
    const entries = readTar(archive);
    const keys = [...new Set(entries.map((e) => e.name.replace(/\.[a-z]+$/, '')))];
    assert.equal(entries.length, keys.length * 3);
    const stats = JSON.parse(fs.readFileSync(path.join(out, `${shard}_stats.json`), 'utf8'));
    assert.equal(stats.successes, keys.length);
    // Independent reader: the system's tar lists the same members.
    const listed = spawnSync('tar', ['-tf', path.join(out, `${shard}.tar`)], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n'), entries.map((e) => e.name));
    for (const key of keys) {
      const get = (ext: string) => (entries.find((e) => e.name === `${key}.${ext}`) as { data: Buffer }).data;
      const meta = JSON.parse(get('json').toString('utf8')) as WdsSampleMeta;
      const index = meta.glimpse.index;
      assert.equal(key, `${shard}${index % 3}`, 'key = shard id then index in shard');
      assert.equal(Math.floor(index / 3), s);
      const item = languageFor(sceneAt(seed, 'test', index), seed, 'test', index, SPLIT_LANGUAGE.test);
      assert.equal(get('txt').toString('utf8'), (item.captions[0] as { text: string }).text);
      assert.equal(meta.caption, get('txt').toString('utf8'));
      assert.deepEqual(meta.glimpse.graph, item.graph);
      assert.equal(meta.sha256, createHash('sha256').update(get('jpg')).digest('hex'));
      assert.equal(meta.status, 'success');
      await assertShowsItem(get('jpg'), seed, index, (index + 1) % 7, 64, 64);
      seen.push(key);
    }
  }
  assert.equal(seen.length, 7);
});

test('--language 2: the varied language in both formats, still the truth', async () => {
  const dir = tempDir('realformat-v2');
  const seed = 6;
  await writeLlava({ split: 'train', count: 6, seed, size: 48, language: 2, out: path.join(dir, 'llava') });
  await writeWds({ split: 'train', count: 6, seed, size: 48, shardSize: 10, language: 2, out: path.join(dir, 'wds') });
  const records = JSON.parse(fs.readFileSync(path.join(dir, 'llava', LLAVA_JSON), 'utf8')) as LlavaRecord[];
  const entries = readTar(fs.readFileSync(path.join(dir, 'wds', '00000.tar')));
  let differs = false;
  for (const [i, r] of records.entries()) {
    const scene = sceneAt(seed, 'train', i);
    const v2 = languageFor(scene, seed, 'train', i, SPLIT_LANGUAGE.train, 2);
    assertConversationIsTruth(r, v2);
    const caption = entries.find((e) => e.name === `${wdsLayout(6, 10).key(i)}.txt`)?.data.toString('utf8');
    assert.equal(caption, (v2.captions[0] as { text: string }).text);
    differs ||= JSON.stringify(v2.questions) !== JSON.stringify(languageFor(scene, seed, 'train', i, SPLIT_LANGUAGE.train, 1).questions);
  }
  assert.ok(differs, 'language 2 asks differently from language 1');
  const cli = runWorldCli(['llava', '--count', '2', '--size', '32', '--language', '2', '--out', path.join(dir, 'cli')]);
  assert.equal(cli.status, 0, cli.stderr);
});

test('same arguments give byte-identical llava and wds output; another seed differs', async () => {
  const dir = tempDir('realformat-det');
  const write = async (seed: number, name: string) => {
    await writeLlava({ split: 'train', count: 5, seed, size: 64, out: path.join(dir, `llava-${name}`) });
    await writeWds({ split: 'train', count: 5, seed, size: 48, shardSize: 2, out: path.join(dir, `wds-${name}`) });
    return [readTree(path.join(dir, `llava-${name}`)), readTree(path.join(dir, `wds-${name}`))];
  };
  const [a, b, c] = [await write(1, 'a'), await write(1, 'b'), await write(2, 'c')];
  for (const k of [0, 1]) {
    const [x, y, z] = [a[k], b[k], c[k]] as Array<Map<string, Buffer>>;
    assert.deepEqual([...(x as Map<string, Buffer>).keys()].sort(), [...(y as Map<string, Buffer>).keys()].sort());
    for (const [name, bytes] of x as Map<string, Buffer>) assert.ok(bytes.equals((y as Map<string, Buffer>).get(name) as Buffer), `${name} differs between runs`);
    const differs = [...(x as Map<string, Buffer>)].some(([name, bytes]) => !bytes.equals((z as Map<string, Buffer>).get(name) ?? Buffer.alloc(0)));
    assert.ok(differs, 'another seed gave the same files');
  }
});

test('llava and wds CLI: outputs, and clear errors that write nothing', () => {
  const dir = tempDir('realformat-cli');
  const ok = runWorldCli(['wds', '--count', '3', '--size', '32', '--shard-size', '2', '--out', path.join(dir, 'w')]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /wrote 3 train caption pairs in 2 shard\(s\)/);
  const llava = runWorldCli(['llava', '--count', '2', '--split', 'val', '--size', '32', '--out', path.join(dir, 'l')]);
  assert.equal(llava.status, 0, llava.stderr);
  assert.match(llava.stdout, /wrote 2 val conversations/);
  const bad: Array<[string[], RegExp]> = [
    [['llava', '--count', '2', '--shard-size', '5', '--out', path.join(dir, 'x')], /llava takes no --shard-size/],
    [['wds', '--count', '2', '--shard-size', '0', '--out', path.join(dir, 'x')], /--shard-size must be between 1 and/],
    [['wds', '--count', '2', '--split', 'holdout', '--out', path.join(dir, 'x')], /unknown split 'holdout'/],
    [['llava', '--out', path.join(dir, 'x')], /--count is required/],
    [['wds', '--count', '2', '--jpeg', '0.5', '--out', path.join(dir, 'x')], /wds takes no --jpeg/],
    [['llava', '--count', '2', '--out', path.join(dir, 'w')], /is not empty; choose another --out or pass --force/],
  ];
  for (const [args, error] of bad) {
    const r = runWorldCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, error);
  }
  assert.deepEqual(fs.readdirSync(dir).sort(), ['l', 'w']);
  assert.equal(fs.readdirSync(path.join(dir, 'w')).length, 4, 'the refused --out kept its files');
});

for (const command of ['llava', 'wds']) {
  test(`an interrupted ${command} run leaves no output and no partial folder`, async () => {
    const dir = tempDir(`${command}-interrupt`);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'world', 'cli.ts'), command, '--count', '100000', '--size', '32', '--out', path.join(dir, 'out')], { cwd: ROOT });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (new RegExp(`${command}: \\d+/100000`).test(stderr) && fs.readdirSync(dir).some((n) => n.includes('.partial-'))) resolve();
      });
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 130);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
}
