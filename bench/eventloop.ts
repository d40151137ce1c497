// `npm run bench:eventloop [-- --photos N] [--json]`: how long the library's main
// thread is blocked in browser mode, measured with perf_hooks.monitorEventLoopDelay
// inside a server process like `npm run serve` (library, server and nothing else;
// the engine in its own process) while it indexes N photos (default 2,000) with the
// page's traffic (status, timeline, searches and their thumbnails) coming from this
// process, and then while it only answers searches. Under Electron the same Library
// runs in the main process, where a blocked loop is a frozen window: budget p99 <= 50 ms.
import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Library } from '../main/library/library.ts';
import { startServer } from '../main/server/server.ts';
import { makeSampleLibrary } from '../world/samples.ts';

const { values } = parseArgs({ options: { json: { type: 'boolean' }, photos: { type: 'string' }, 'serve-child': { type: 'string' } } });
const ms = (ns: number) => Math.round(ns / 1e4) / 100;
type Delay = { p50: number; p99: number; max: number; mean: number; samples: number };
const summary = (h: IntervalHistogram): Delay => ({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean), samples: h.count });

if (values['serve-child']) await serveChild(values['serve-child']);
else await measure();

/** The measured process: library + server; 'start'/'stop' messages bracket a phase; 'sync' times the library's synchronous calls. */
async function serveChild(dir: string): Promise<void> {
  const library = await Library.open({ dir, packDirs: [path.resolve(import.meta.dirname, '..', 'models')], runtime: { providers: ['cpu'] } });
  const server = await startServer({ library });
  let loop: IntervalHistogram | null = null;
  const slowest = (run: () => unknown) => {
    const times = Array.from({ length: 7 }, () => { const t = performance.now(); run(); return performance.now() - t; });
    return Math.round(Math.max(...times) * 100) / 100;
  };
  process.on('message', async (m: string) => {
    if (m === 'start') {
      loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
    } else if (m === 'stop' && loop) {
      loop.disable();
      process.send?.({ delay: summary(loop) });
    } else if (m === 'sync') {
      const id = library.timeline()[0]?.id ?? 1;
      process.send?.({ sync: { status: slowest(() => library.status()), timeline: slowest(() => library.timeline()), errors: slowest(() => library.errors()), photo: slowest(() => library.photo(id)) } });
    } else if (m === 'close') {
      await server.close();
      await library.close();
      process.exit(0);
    }
  });
  process.send?.({ url: server.url, token: server.token });
}

/** An idle process over the same window: what the machine's other load alone does to an event loop (this machine is shared). */
function control(): { stop(): Promise<Delay> } {
  const script = `const h = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 10 }); h.enable();
    const ms = (ns) => Math.round(ns / 1e4) / 100;
    process.on('message', () => { h.disable(); process.send({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean), samples: h.count }, () => process.exit(0)); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return { stop: () => new Promise((resolve) => { child.once('message', (m) => resolve(m as Delay)); child.send('stop'); }) };
}

async function measure(): Promise<void> {
  const photoCount = Number(values.photos ?? 2000);
  const QUERIES = ['a red circle on a beach', 'two small blue stars in the snow', 'a sign showing 7 at night', 'a green triangle in a meadow', 'a yellow square in the desert'];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'glimpse-bench-loop-'));
  try {
    console.log(`writing ${photoCount} sample photos (not measured)...`);
    const photos = await makeSampleLibrary(path.join(work, 'samples'), photoCount);
    const profile = process.env.GLIMPSE_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.GLIMPSE_BENCH_PROFILE] : [];
    const child = fork(import.meta.filename, ['--serve-child', path.join(work, 'library')], { execArgv: ['--import', 'tsx', ...profile], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const next = <T>(key: string) => new Promise<T>((resolve) => {
      const on = (m: Record<string, unknown>) => {
        if (key in m) {
          child.off('message', on);
          resolve(m[key] as T);
        }
      };
      child.on('message', on);
    });
    const { url, token } = await new Promise<{ url: string; token: string }>((resolve) => child.once('message', resolve));
    const auth = { Authorization: `Bearer ${token}` };
    const post = async (method: string, body: unknown) => {
      const res = await fetch(`${url}/api/${method}`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      return (await res.json()) as { ok: boolean; result?: any };
    };
    const thumb = (id: number) => fetch(`${url}/files/thumb/${id}`, { headers: auth }).then((r) => r.arrayBuffer());
    const latency: Record<string, number[]> = { search: [], status: [], timeline: [] };
    const timed = async (what: string, run: () => Promise<unknown>) => {
      const t = performance.now();
      const out = await run();
      latency[what]?.push(performance.now() - t);
      return out;
    };
    const search = async (i: number) => {
      const hits = ((await timed('search', () => post('search', { text: QUERIES[i % QUERIES.length], limit: 20 }))) as { result?: { hits: Array<{ photoId: number }> } }).result?.hits ?? [];
      await Promise.all(hits.map((h) => thumb(h.photoId)));
    };

    // Phase 1: indexing, with the page's traffic: status about once a second on progress,
    // the timeline after changes, a search and its thumbnails now and then.
    const idleProcess = control();
    child.send('start');
    const t0 = performance.now();
    await post('addFolder', { path: photos });
    let indexed = 0;
    for (let i = 0; ; i++) {
      const s = (await timed('status', () => post('status', {})) as { result: { counts: { indexed: number; pending: number; photos: number }; indexing: { state: string } } }).result;
      indexed = s.counts.indexed;
      if (s.counts.photos >= photoCount && s.counts.pending === 0 && s.indexing.state === 'idle') break;
      if (i % 4 === 0) await timed('timeline', () => post('timeline', {}));
      if (i % 8 === 0 && indexed > 0) await search(i);
      await new Promise((r) => setTimeout(r, 250));
    }
    child.send('stop');
    const duringIndexing = await next<Delay>('delay');
    const idleDuringIndexing = await idleProcess.stop();
    const indexSeconds = (performance.now() - t0) / 1000;
    const load = os.loadavg()[0] ?? 0;

    // Phase 2: searching only, back to back, each with its 20 thumbnails.
    const idleProcess2 = control();
    latency.search = [];
    child.send('start');
    for (let i = 0; i < 100; i++) await search(i);
    child.send('stop');
    const duringSearch = await next<Delay>('delay');
    const idleDuringSearch = await idleProcess2.stop();
    child.send('sync');
    const syncCallMs = await next<Record<string, number>>('sync');
    child.send('close');
    await new Promise((r) => child.once('exit', r));

    const median = (xs: number[]) => Math.round(([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0) * 10) / 10;
    const results = {
      date: new Date().toISOString().slice(0, 10),
      machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), platform: `${process.platform}-${process.arch}` },
      mode: 'browser mode: library + server alone in one process (as npm run serve), engine in its own process, the page traffic from another process',
      photos: indexed,
      indexingSeconds: Math.round(indexSeconds * 10) / 10,
      loadAverage1m: Math.round(load * 10) / 10,
      eventLoopDelayMs: { duringIndexing, duringSearch },
      idleSiblingProcessDelayMs: { duringIndexing: idleDuringIndexing, duringSearch: idleDuringSearch },
      syncCallMs,
      requestMs: { searchMedian: median(latency.search), statusMedian: median(latency.status ?? []), timelineMedian: median(latency.timeline ?? []) },
      budgetP99Ms: 50,
    };
    console.log(`event-loop delay while indexing ${indexed} photos (${results.indexingSeconds} s): p50 ${duringIndexing.p50} ms, p99 ${duringIndexing.p99} ms, max ${duringIndexing.max} ms`);
    console.log(`event-loop delay while searching: p50 ${duringSearch.p50} ms, p99 ${duringSearch.p99} ms, max ${duringSearch.max} ms`);
    console.log(`an idle process on the same machine meanwhile (load ${results.loadAverage1m}): p99 ${idleDuringIndexing.p99} / ${idleDuringSearch.p99} ms`);
    console.log(`slowest synchronous library calls at ${indexed} photos: ${JSON.stringify(syncCallMs)} ms`);
    console.log(`requests (median): search ${results.requestMs.searchMedian} ms, status ${results.requestMs.statusMedian} ms, timeline ${results.requestMs.timelineMedian} ms`);
    if (values.json) {
      const out = path.resolve(import.meta.dirname, 'results', 'eventloop.json');
      fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
      console.log(`wrote ${out}`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
