// Live changes with chokidar (v4): add, change and unlink of photo files, and a
// watched folder vanishing (unmounted drive) or coming back.
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { isFolder, isIgnoredName, isPhotoPath } from './files.ts';

export interface WatchHandlers {
  file(file: string): void;
  gone(file: string): void;
  folderGone(root: string): void;
  folderBack(root: string): void;
}

/** Watches folders; roots that disappear are polled until they return. */
export class FolderWatcher {
  private readonly watcher: FSWatcher;
  private readonly offline = new Set<string>();
  private readonly watchedRoots: Set<string>;
  private readonly poll: NodeJS.Timeout;

  constructor(roots: readonly string[], private readonly on: WatchHandlers, pollMs = 2000) {
    this.watchedRoots = new Set(roots);
    this.watcher = watch([...roots], {
      ignoreInitial: true,
      followSymlinks: false,
      awaitWriteFinish: { stabilityThreshold: 400, pollInterval: 100 },
      ignored: (p, stats) => isIgnoredName(path.basename(p)) || (stats?.isFile() === true && !isPhotoPath(p)),
    });
    this.watcher.on('add', (p) => on.file(path.resolve(p)));
    this.watcher.on('change', (p) => on.file(path.resolve(p)));
    this.watcher.on('unlink', (p) => {
      const file = path.resolve(p);
      if (!isPhotoPath(file)) return;
      // A file vanishing because its whole drive went is the folder's business, not a delete.
      if (this.rootGone(file)) return;
      on.gone(file);
    });
    this.watcher.on('unlinkDir', (p) => this.checkRoots(path.resolve(p)));
    this.watcher.on('error', () => this.checkRoots());
    this.poll = setInterval(() => this.checkRoots(), pollMs);
    this.poll.unref();
  }

  add(root: string): void {
    this.watchedRoots.add(root);
    this.watcher.add(root);
  }

  unwatch(root: string): void {
    this.watchedRoots.delete(root);
    this.watcher.unwatch(root);
    this.offline.delete(root);
  }

  private rootGone(file: string): boolean {
    for (const root of this.watchedRoots) if (file.startsWith(root + path.sep) && !isFolder(root)) return true;
    return false;
  }

  private checkRoots(changed?: string): void {
    for (const root of this.watchedRoots) {
      if (changed && changed !== root && !root.startsWith(changed + path.sep)) continue;
      const here = isFolder(root);
      if (!here && !this.offline.has(root)) {
        this.offline.add(root);
        this.on.folderGone(root);
      } else if (here && this.offline.has(root)) {
        this.offline.delete(root);
        // chokidar stops watching a removed root: watch it again.
        this.watcher.unwatch(root);
        this.watcher.add(root);
        this.on.folderBack(root);
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.poll);
    await this.watcher.close();
  }
}
