// All-or-nothing output folders: everything is written under a temporary sibling
// name and renamed into place at the end, so a failure or Ctrl-C leaves no
// half-written data set behind.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export class WorldError extends Error {
  override name = 'WorldError';
}

/** What every folder writer takes. */
export interface WriterOptions {
  count: number;
  seed: number;
  /** Image side in pixels (the long side for non-square photos). */
  size: number;
  out: string;
  force?: boolean;
  onProgress?: (done: number, total: number) => void;
}

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}` : String(err);
}

export async function writeFolderAtomically(out: string, force: boolean, write: (dir: string) => Promise<void>): Promise<void> {
  const target = path.resolve(out);
  let existing: fs.Stats | undefined;
  try {
    existing = fs.statSync(target, { throwIfNoEntry: false });
  } catch (err) {
    throw new WorldError(`cannot write to output folder ${target}: ${describeFsError(err)}`);
  }
  if (existing && !existing.isDirectory()) throw new WorldError(`output ${target} exists and is not a folder`);
  if (existing && fs.readdirSync(target).length > 0 && !force) {
    throw new WorldError(`output folder ${target} is not empty; choose another --out or pass --force to replace it`);
  }
  const parent = path.dirname(target);
  const tmp = path.join(parent, `.${path.basename(target)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    fs.mkdirSync(parent, { recursive: true });
    fs.mkdirSync(tmp);
  } catch (err) {
    throw new WorldError(`cannot write to output folder ${target}: ${describeFsError(err)}`);
  }
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals) => {
    cleanup();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await write(tmp);
    if (existing) fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(tmp, target);
  } catch (err) {
    cleanup();
    if (err instanceof WorldError) throw err;
    throw new WorldError(`writing ${target} failed, nothing was kept: ${describeFsError(err)}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Runs `task(i)` for i in [0, count) with at most `width` in flight, handing results to `sink` in index order. */
export async function orderedPool<T>(count: number, width: number, task: (i: number) => Promise<T>, sink: (i: number, value: T) => void | Promise<void>): Promise<void> {
  const pending = new Map<number, Promise<T>>();
  let next = 0;
  const launch = () => {
    while (next < count && pending.size < width) {
      const i = next++;
      const p = task(i);
      p.catch(() => undefined); // observed below, in order
      pending.set(i, p);
    }
  };
  launch();
  for (let i = 0; i < count; i++) {
    const value = await (pending.get(i) as Promise<T>);
    pending.delete(i);
    launch();
    await sink(i, value);
  }
}
