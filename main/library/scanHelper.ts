// A second thread for the search scans (simdScan.ts): it instantiates the same WebAssembly
// module over the same shared memory and runs one scan over the rows it is given while
// the calling thread does the rest. Hand-off is a few int32s in a SharedArrayBuffer with
// Atomics.wait / notify (no message round trip), so search stays synchronous. The worker
// is plain JavaScript evaluated from this string, so bundling the app needs no extra entry.
import { Worker } from 'node:worker_threads';

const SEQ = 0; const FN = 1; const ARGS = 2; const DONE = 8; const READY = 9; const FAILED = 10;
const WORKER = `
const { workerData } = require('node:worker_threads');
const c = new Int32Array(workerData.control);
let fns;
try {
  const e = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } }).exports;
  fns = [e.scan, e.scanRows, e.signScan];
  Atomics.store(c, ${READY}, 1);
} catch (err) {
  Atomics.store(c, ${FAILED}, 1);
  throw err;
}
let seen = 0;
for (;;) {
  Atomics.wait(c, ${SEQ}, seen);
  seen = Atomics.load(c, ${SEQ});
  try {
    fns[c[${FN}]](c[${ARGS}], c[${ARGS + 1}], c[${ARGS + 2}], c[${ARGS + 3}], c[${ARGS + 4}], c[${ARGS + 5}]);
  } catch {
    Atomics.store(c, ${FAILED}, 1);
  }
  Atomics.store(c, ${DONE}, seen);
  Atomics.notify(c, ${DONE});
}
`;

/** The scans by number, as the worker holds them. */
export const ScanFn = { Int8: 0, Int8Rows: 1, Signs: 2 } as const;
export type ScanFn = typeof ScanFn[keyof typeof ScanFn];

export class ScanHelper {
  private readonly control = new Int32Array(new SharedArrayBuffer(4 * 16));
  private readonly worker: Worker;

  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { module, memory, control: this.control.buffer } });
    // It waits in Atomics.wait between searches: it must not keep the process alive.
    this.worker.unref();
    this.worker.on('error', () => Atomics.store(this.control, FAILED, 1));
  }

  /** Whether it has started and can take work (until then the caller scans alone). */
  get ready(): boolean {
    return Atomics.load(this.control, READY) === 1 && Atomics.load(this.control, FAILED) === 0;
  }

  /** Starts `fn(args)` on the helper thread; returns the job's number for `wait`. */
  start(fn: ScanFn, args: number[]): number {
    const c = this.control;
    c[FN] = fn;
    args.forEach((a, i) => { c[ARGS + i] = a; });
    const seq = Atomics.add(c, SEQ, 1) + 1;
    Atomics.notify(c, SEQ);
    return seq;
  }

  /** Blocks until job `seq` is done; a helper that failed or stalled for 10 s is an error. */
  wait(seq: number): void {
    const c = this.control;
    const deadline = performance.now() + 10_000;
    for (;;) {
      const done = Atomics.load(c, DONE);
      if (done === seq) break;
      if (Atomics.load(c, FAILED) === 1 || performance.now() > deadline) throw new Error('the search scan\'s helper thread stopped');
      Atomics.wait(c, DONE, done, 100);
    }
    if (Atomics.load(c, FAILED) === 1) throw new Error('the search scan\'s helper thread failed');
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}
