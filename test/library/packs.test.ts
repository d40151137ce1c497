// Switching model packs: the new pack indexes everything while the old one keeps
// answering, then takes over.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Library } from '../../main/library/library.ts';
import { writeSamples } from '../../world/samples.ts';
import { tempDir, testPackDir } from '../helpers.ts';

function packCopy(packs: string, id: string): void {
  const dir = path.join(packs, id);
  fs.cpSync(testPackDir(), dir, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'pack.json'), 'utf8'));
  manifest.id = id;
  fs.writeFileSync(path.join(dir, 'pack.json'), JSON.stringify(manifest));
}

test('switching packs: the old pack serves until the new one has indexed everything', async () => {
  const root = tempDir('packs');
  const packs = path.join(root, 'packs');
  packCopy(packs, 'pack-a');
  packCopy(packs, 'pack-b');
  await writeSamples({ count: 6, seed: 13, size: 96, out: path.join(root, 'samples') });
  const library = await Library.open({ dir: path.join(root, 'library'), packDirs: [packs], packId: 'pack-a', runtime: { providers: ['cpu'], threads: 1 }, watch: false });
  try {
    library.addFolder(path.join(root, 'samples', 'photos'));
    await library.settled();
    assert.equal(library.status().pack, 'pack-a');
    library.pauseIndexing();
    library.setPack('pack-b');
    const during = library.status();
    assert.equal(during.pack, 'pack-a', 'the old pack still answers');
    assert.equal(during.indexingPack, 'pack-b');
    assert.equal(during.counts.pending, 6, 'everything is pending for the new pack');
    assert.equal((await library.search('a red circle', { limit: 3 })).length, 3, 'search works during the switch');
    library.resumeIndexing();
    await library.settled();
    const afterwards = library.status();
    assert.equal(afterwards.pack, 'pack-b', 'the new pack took over once done');
    assert.equal(afterwards.counts.indexed, 6);
    const rows = library.catalog.db.prepare('SELECT pack_id, COUNT(*) AS n FROM tokens GROUP BY pack_id ORDER BY pack_id').all();
    assert.deepEqual(rows, [{ pack_id: 'pack-a', n: 6 }, { pack_id: 'pack-b', n: 6 }]);
    assert.deepEqual(library.packs().filter((p) => p.active).map((p) => p.id), ['pack-b']);
    assert.throws(() => library.setPack('nope'), /no model pack "nope"/);
  } finally {
    await library.close();
  }
  // The choice survives a restart.
  const reopened = await Library.open({ dir: path.join(root, 'library'), packDirs: [packs], runtime: { providers: ['cpu'], threads: 1 }, watch: false });
  try {
    assert.equal(reopened.status().pack, 'pack-b');
  } finally {
    await reopened.close();
  }
});
