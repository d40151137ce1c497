// The pack calibrations (scripts/calibrate-no-match.ts, scripts/calibrate-rerank.ts) run
// end to end on a copy of the bundled pack with the real engine: each writes its own entry
// of pack.json `retrieval` and keeps the other's, and the pack still loads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadPack } from '../../main/engine/pack.ts';
import { packCopy, ROOT, tempDir } from '../helpers.ts';

const run = (script: string, args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', script), ...args], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `${script} failed:\n${r.stderr}`);
  return r.stdout;
};

test('calibrate-rerank and calibrate-no-match write their own retrieval entries and keep each other\'s', () => {
  const dir = packCopy(tempDir('calibration'), 'calibrated', (m) => { delete m.retrieval; });
  const read = () => JSON.parse(fs.readFileSync(path.join(dir, 'pack.json'), 'utf8')).retrieval;
  const out = run('calibrate-rerank.ts', ['--pack', dir, '--images', '40', '--candidates', '8', '--write']);
  assert.match(out, /^weight 0 +mean/m, 'the curve starts at the cosine alone');
  const rerank = read().rerank;
  assert.equal(rerank.candidates, 8);
  assert.ok(rerank.weight > 0, 'the bundled pack gains from re-ranking (swapped attributes)');
  const curve = rerank.measured.curve as Array<{ weight: number; mean: number; compositional: Record<string, number> }>;
  const chosen = curve.find((c) => c.weight === rerank.weight)!;
  const top = Math.max(...curve.map((c) => c.mean));
  assert.ok(chosen.mean >= top - rerank.measured.tolerance, 'the chosen weight is within the tolerance of the best mean');
  assert.ok(curve.every((c) => c.weight >= chosen.weight || c.mean < top - rerank.measured.tolerance), '... and the smallest such weight');
  assert.ok(chosen.compositional['swap-attribute']! > curve[0]!.compositional['swap-attribute']!, 'and tells swapped attributes apart better than the cosine');
  run('calibrate-no-match.ts', ['--pack', dir, '--images', '40', '--write']);
  const both = read();
  assert.equal(typeof both.noMatchBelow, 'number');
  assert.deepEqual(both.rerank, rerank, 'the re-ranking entry survives the threshold calibration');
  assert.deepEqual(loadPack(dir).manifest.retrieval?.rerank?.weight, rerank.weight);
  assert.throws(() => run('calibrate-rerank.ts', ['--pack', dir, '--candidates', '1']), /--candidates must be a whole number from 2 to 200/);
  assert.throws(() => run('calibrate-rerank.ts', ['--pack', dir, '--images', 'ten']), /--images must be a whole number of at least 20/);
  assert.deepEqual(read().rerank, rerank, 'a refused run writes nothing');
});
