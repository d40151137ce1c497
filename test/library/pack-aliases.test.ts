// A pack's alias table (pack.json domain.aliases: "color" -> "colour") is checked when the
// pack is found, not when the first search or question builds its language: a bad table
// makes the pack broken like any other pack problem (status.packIssue naming the pack and
// the alias, the CLI's line, another pack used meanwhile), and a good one is understood.
// Real bundled pack and tokenizer, real SQLite library, real engine process, the real CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Api } from '../../main/api/dispatch.ts';
import { loadPack, PackError } from '../../main/engine/pack.ts';
import { Library } from '../../main/library/library.ts';
import { writeSamples } from '../../world/samples.ts';
import { packCopy, ROOT, tempDir, testPackDir } from '../helpers.ts';

const BUNDLED = JSON.parse(fs.readFileSync(path.join(testPackDir(), 'pack.json'), 'utf8')) as { domain: Record<string, unknown> & { aliases?: Record<string, string> } };
const TOKENIZER = JSON.parse(fs.readFileSync(path.join(testPackDir(), 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
const known = (w: string) => Object.hasOwn(TOKENIZER.model.vocab, w);
assert.ok(known('colour') && known('red') && known('blue') && !known('hue') && !known('kolor') && !known('colr'), 'the words below are what they are used as');

/** Each kind of bad table, added to the bundled pack's own (good) table, and what the pack's error must say. */
const BAD_TABLES: Array<{ kind: string; aliases: unknown; vocabulary?: string[]; error: RegExp; whenLoaded: boolean }> = [
  { kind: 'not an object', aliases: ['color', 'colour'], error: /pack\.json is invalid at domain\.aliases: .*expected (object|record), received array/i, whenLoaded: true },
  { kind: 'a target that is not a string', aliases: { colr: 7 }, error: /pack\.json is invalid at domain\.aliases\.colr: .*expected string, received number/i, whenLoaded: true },
  { kind: 'an empty target', aliases: { colr: '' }, error: /domain\.aliases maps "colr" to "", which is not a single word/, whenLoaded: true },
  { kind: 'an empty word', aliases: { '': 'colour' }, error: /domain\.aliases: "" is not a single word/, whenLoaded: true },
  { kind: 'two words', aliases: { 'light red': 'red' }, error: /domain\.aliases: "light red" is not a single word/, whenLoaded: true },
  { kind: 'an upper-case word', aliases: { Colr: 'colour' }, error: /domain\.aliases: "Colr" must be written "colr"/, whenLoaded: true },
  { kind: 'an upper-case target', aliases: { colr: 'Colour' }, error: /domain\.aliases: "Colour" must be written "colour"/, whenLoaded: true },
  { kind: 'a word mapped to itself', aliases: { colr: 'colr' }, error: /domain\.aliases maps "colr" to itself/, whenLoaded: true },
  { kind: 'a chain', aliases: { colr: 'colour', hue: 'colr' }, error: /domain\.aliases maps "hue" to "colr", which is itself mapped to "colour"/, whenLoaded: true },
  { kind: 'a cycle', aliases: { colr: 'kolor', kolor: 'colr' }, error: /domain\.aliases maps "colr" to "kolor", which is itself mapped to "colr"/, whenLoaded: true },
  { kind: 'a target the tokenizer does not know', aliases: { colr: 'kolor' }, error: /domain\.aliases maps "colr" to "kolor", which its tokenizer does not know/, whenLoaded: false },
  { kind: 'a word the tokenizer knows', aliases: { red: 'blue' }, error: /domain\.aliases maps "red" to "blue", but its tokenizer knows "red" itself/, whenLoaded: false },
  { kind: 'a target outside the declared vocabulary', aliases: { hue: 'colour', colr: 'blue' }, vocabulary: ['red', 'colour', 'star'], error: /domain\.aliases maps "colr" to "blue", which its tokenizer does not know/, whenLoaded: false },
];

function setAliases(dir: string, aliases: unknown, vocabulary?: string[]): void {
  const file = path.join(dir, 'pack.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  // With a declared vocabulary the bundled table's targets are not all in it: the table is the one given.
  const table = Array.isArray(aliases) || vocabulary ? aliases : { ...BUNDLED.domain.aliases, ...(aliases as object) };
  manifest.domain = { ...BUNDLED.domain, aliases: table, ...(vocabulary ? { vocabulary } : {}) };
  fs.writeFileSync(file, JSON.stringify(manifest));
}

const open = (dir: string, packDirs: string[], packId?: string) =>
  Library.open({ dir, packDirs, runtime: { providers: ['cpu'], threads: 1 }, watch: false, ...(packId ? { packId } : {}) });

test('every kind of bad alias table makes the pack broken when the library opens, naming the pack and the alias', async () => {
  const root = tempDir('bad-aliases');
  const packs = path.join(root, 'packs');
  packCopy(packs, 'pack-a');
  const b = packCopy(packs, 'pack-b');
  const libDir = path.join(root, 'library');
  await (await open(libDir, [packs], 'pack-b')).close();
  for (const bad of BAD_TABLES) {
    setAliases(b, bad.aliases, bad.vocabulary);
    // The table's shape is the engine's pack.json check; its words against the tokenizer are the library's.
    const loading = () => loadPack(b, { verifyHashes: false });
    if (bad.whenLoaded) assert.throws(loading, (err) => err instanceof PackError && bad.error.test(err.message), bad.kind);
    else assert.doesNotThrow(loading, bad.kind);
    const library = await open(libDir, [packs]);
    try {
      const issue = library.status().packIssue;
      assert.ok(issue, `${bad.kind}: reported at open`);
      assert.equal(issue.pack, 'pack-b');
      assert.equal(issue.usingInstead, 'pack-a');
      assert.match(issue.error, /^model pack "pack-b": /, bad.kind);
      assert.match(issue.error, bad.error, bad.kind);
      assert.equal(library.status().pack, 'pack-a', bad.kind);
      assert.equal(library.packs().find((p) => p.id === 'pack-b')?.error, issue.error, `${bad.kind}: listed as broken`);
      assert.throws(() => library.setPack('pack-b'), bad.error, `${bad.kind}: cannot be chosen`);
    } finally {
      await library.close();
    }
  }
});

test('a good table is understood ("what color is the star?"), and a bad one found later is named by the CLI before another pack answers', async () => {
  const root = tempDir('good-aliases');
  const packs = path.join(root, 'packs');
  packCopy(packs, 'pack-a');
  const b = packCopy(packs, 'pack-b');
  setAliases(b, { colr: 'colour', hue: 'colour' });
  await writeSamples({ count: 2, seed: 3, size: 96, out: path.join(root, 'samples') });
  const libDir = path.join(root, 'library');
  const library = await open(libDir, [packs], 'pack-b');
  try {
    assert.equal(library.status().packIssue, null);
    assert.equal(library.status().pack, 'pack-b');
    const api = new Api(library);
    library.addFolder(path.join(root, 'samples', 'photos'));
    await library.settled();
    for (const text of ['what color is the star?', 'What COLR is the star?', 'the hue of the star']) {
      const result = await api.call('search', { text, limit: 3 });
      assert.deepEqual(result.unknownWords, [], text);
    }
    assert.deepEqual((await api.call('search', { text: 'what colour is the dog?', limit: 3 })).unknownWords, ['dog'], 'an unaliased word is still reported');
  } finally {
    await library.close();
  }
  setAliases(b, { hue: 'kolor' });
  const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'glimpse.mjs'), 'status', '--json', '--library', libDir, '--packs', packs],
    { encoding: 'utf8', timeout: 120_000 });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stderr, /model pack "pack-b" is broken, using "[^"]+" instead: model pack "pack-b": pack\.json domain\.aliases maps "hue" to "kolor", which its tokenizer does not know/);
  assert.equal(JSON.parse(cli.stdout).packIssue.pack, 'pack-b');
});
