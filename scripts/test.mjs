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
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
failed += run('typecheck', process.execPath, [tsc, '-p', '.']) === 0 ? 0 : 1;
failed += run('typecheck renderer', process.execPath, [tsc, '-p', 'renderer']) === 0 ? 0 : 1;
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
failed += run('node tests', process.execPath, ['--import', 'tsx', '--test', ...files]) === 0 ? 0 : 1;

// Training tests need Debian's PyTorch (/usr/bin/python3; see .ci/run). CI must have
// it; elsewhere they are skipped with a message rather than failing the whole suite.
if (filters.length === 0 || filters.some((x) => 'training'.includes(x) || x.includes('training'))) {
  const python = '/usr/bin/python3';
  const env = { ...process.env, LD_LIBRARY_PATH: ['/usr/lib/x86_64-linux-gnu/openblas-openmp', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
  const probe = spawnSync(python, ['-c', 'import torch, onnx, pytest'], { env });
  if (probe.status === 0) {
    console.log(`\n== training tests: ${python} -m pytest training/tests`);
    const r = spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:warnings', '-p', 'no:cacheprovider', 'training/tests'], { cwd: root, stdio: 'inherit', env });
    failed += r.status === 0 ? 0 : 1;
  } else if (process.env.CI) {
    console.error('training tests: /usr/bin/python3 cannot import torch, onnx and pytest (CI installs python3-torch python3-onnx python3-pytest)');
    failed += 1;
  } else {
    console.log('\n== training tests SKIPPED: /usr/bin/python3 has no torch/onnx/pytest; apt-get install python3-torch python3-onnx python3-pytest libopenblas0-openmp');
  }
}
process.exit(failed === 0 ? 0 : 1);
