// `npm run serve`: the library in browser mode. Prints the URL to open (with its token).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLED_PACKS, defaultLibrary } from '../cli/paths.ts';
import { Library } from '../library/library.ts';
import { worldSamples } from '../library/samples.ts';
import { startServer } from './server.ts';

const { values } = parseArgs({ options: { library: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, packs: { type: 'string' } } });
const root = path.resolve(import.meta.dirname, '..', '..');
const rendererDir = path.join(root, 'renderer', 'dist');
if (!fs.existsSync(path.join(rendererDir, 'index.html'))) {
  console.error('glimpse serve: the user interface is not built yet: run `npm run build:renderer` first (npm run serve does it for you)');
  process.exit(2);
}
const library = await Library.open({ dir: values.library ?? defaultLibrary(), packDirs: [BUNDLED_PACKS, ...(values.packs ? [values.packs] : [])], samples: worldSamples(root) });
const server = await startServer({
  library,
  host: values.host ?? '127.0.0.1',
  port: Number(values.port ?? 0),
  rendererDir,
});
console.log(`Glimpse is running in browser mode. Open:\n\n  ${server.openUrl}\n\nThe token in the URL is required; keep it private. Ctrl-C stops.`);
const stop = async () => {
  await server.close();
  await library.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
