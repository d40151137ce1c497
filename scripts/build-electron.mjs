#!/usr/bin/env node
// Bundles the Electron main process, the preload and the engine host into dist/electron/
// (CommonJS; native modules and the model stay outside the bundle).
import { build } from 'esbuild';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const external = ['electron', 'better-sqlite3', 'onnxruntime-node', 'sharp', 'sqlite-vec', 'libheif-js', 'chokidar', 'ws'];
const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', external, sourcemap: true, logLevel: 'info',
  banner: { js: 'const __importMetaUrl = require("url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.dirname': '__dirname', 'import.meta.url': '__importMetaUrl' } };
await build({ ...common, entryPoints: [path.join(root, 'main/electron/main.ts')], outfile: path.join(root, 'dist/electron/main.cjs') });
await build({ ...common, entryPoints: [path.join(root, 'preload/preload.ts')], outfile: path.join(root, 'dist/electron/preload.cjs') });
await build({ ...common, entryPoints: [path.join(root, 'main/engine/host.ts')], outfile: path.join(root, 'dist/electron/engine-host.cjs') });
