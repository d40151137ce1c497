#!/usr/bin/env node
// `npm run demo`: makes the sample photo library (once), indexes it into a demo
// library with the bundled model pack, then searches it and asks about a photo.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const samples = path.join(root, 'sample-library');
const library = path.join(root, '.demo-library');
const run = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const glimpse = (...args) => run([path.join(root, 'bin', 'glimpse.mjs'), ...args, '--library', library]);

if (!fs.existsSync(path.join(samples, 'glimpse-samples.scenes.json'))) {
  run(['--import', 'tsx', path.join(root, 'world', 'cli.ts'), 'samples', '--count', '120', '--out', samples]);
}
glimpse('index', path.join(samples, 'photos'));
const sidecar = JSON.parse(fs.readFileSync(path.join(samples, 'glimpse-samples.scenes.json'), 'utf8'));
const photo = sidecar.photos[0];
const query = photo.captions[0].text;
console.log(`\n$ glimpse search "${query}"`);
glimpse('search', query, '--limit', '5');
const file = path.join(samples, 'photos', ...photo.path.split('/'));
console.log(`\n$ glimpse caption "${photo.path}"`);
glimpse('caption', file);
for (const q of photo.questions.slice(0, 3)) {
  console.log(`\n$ glimpse ask "${photo.path}" "${q.question}"   (truth: ${q.answer})`);
  glimpse('ask', file, q.question);
}
