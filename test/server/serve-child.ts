// A browser-mode server in its own process, as `npm run serve` runs it, for the tests
// that must see whether a request can end the process: a real library (empty, in
// argv[2]) with the test pack, and a small page folder standing in for the built UI.
// Prints one JSON line {url, token} when listening; refused requests go to stderr.
import fs from 'node:fs';
import path from 'node:path';
import { Library } from '../../main/library/library.ts';
import { startServer } from '../../main/server/server.ts';
import { testPackDir } from '../helpers.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: serve-child.ts DIR');
const pages = path.join(dir, 'pages');
fs.mkdirSync(path.join(pages, 'assets'), { recursive: true });
fs.writeFileSync(path.join(pages, 'index.html'), '<!doctype html><title>Glimpse</title><script type="module" src="./assets/app.js"></script>');
fs.writeFileSync(path.join(pages, 'assets', 'app.js'), 'console.log("glimpse")');
const library = await Library.open({ dir: path.join(dir, 'library'), packDirs: [path.dirname(testPackDir())], runtime: { providers: ['cpu'], threads: 1 }, watch: false });
const server = await startServer({ library, rendererDir: pages });
console.log(JSON.stringify({ url: server.url, token: server.token }));
process.on('SIGTERM', () => {
  void server.close().then(() => library.close()).then(() => process.exit(0));
});
