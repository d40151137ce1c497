#!/usr/bin/env node
// The project's one test command (`npm test`): type-check, then every
// test/**/*.test.ts under Node's test runner. Extra arguments narrow the files:
// `npm test -- world` runs only files whose path contains "world".
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const filters = process.argv.slice(2);

function run(label, command, args) {
  console.log(`\n== ${label}: ${command} ${args.join(' ')}`);
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

const files = fs.readdirSync(path.join(root, 'test'), { recursive: true })
  .map((f) => path.join('test', String(f)))
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

let failed = 0;
failed += run('typecheck', process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']) === 0 ? 0 : 1;
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
failed += run('node tests', process.execPath, ['--import', 'tsx', '--test', ...files]) === 0 ? 0 : 1;
process.exit(failed === 0 ? 0 : 1);
