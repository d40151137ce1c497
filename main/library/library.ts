// The photo library service: folders and watching, the catalog, the indexing
// queue, search, captions and questions. Plain Node; the engine runs in its own
// process behind EngineClient.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { EngineClient, type SpawnEngine } from '../engine/client.ts';
import type { EngineInfo } from '../engine/engine.ts';
import type { RuntimeOptions } from '../engine/fwd2bot.ts';
import { discoverPacks, type DiscoveredPack } from '../engine/pack.ts';
import { PHOTOS_DIR, SIDECAR_NAME, writeSamples } from '../../world/samples.ts';
import { Catalog, type FolderRow } from './catalog.ts';
import { getSetting, openDb, setSetting, type Db } from './db.ts';
import { IndexQueue, type IndexProgress } from './queue.ts';
import { scanFolder, syncFile } from './scan.ts';
import { VectorIndex } from './search.ts';
import { Thumbnails } from './thumbnails.ts';
import { FolderWatcher } from './watch.ts';

export class LibraryError extends Error {
  constructor(readonly code: 'not-found' | 'not-a-folder' | 'no-pack' | 'nothing-indexed' | 'not-indexed' | 'invalid', message: string) {
    super(message);
    this.name = 'LibraryError';
  }
}

export interface LibraryOptions {
  /** Where the catalog, thumbnails and settings live. */
  dir: string;
  /** Folders holding model packs, bundled first. */
  packDirs: string[];
  /** The pack to index with; default: the one chosen before, else the first valid pack. */
  packId?: string;
  runtime?: RuntimeOptions;
  spawnEngine?: SpawnEngine;
  /** Watch folders for live changes (default true). */
  watch?: boolean;
}

export interface SearchOptions { limit?: number; folderId?: number; from?: string; to?: string }
export interface SearchHit { photoId: number; score: number; path: string; takenAt: string | null }
export interface PhotoInfo { id: number; hash: string; paths: string[]; takenAt: string | null; width: number | null; height: number | null; indexed: boolean }

export interface LibraryStatus {
  dir: string;
  /** The pack answering searches and questions. */
  pack: string;
  /** The pack being indexed: the same, or the next one while switching. */
  indexingPack: string;
  counts: ReturnType<Catalog['counts']>;
  indexing: IndexProgress;
  folders: Array<FolderRow & { files: number }>;
}

type LoadedPack = DiscoveredPack & { pack: NonNullable<DiscoveredPack['pack']> };

/** One pack at work: its engine process, its indexing queue and (once searched) its vectors. */
interface PackRuntime { pack: LoadedPack; engine: EngineClient; queue: IndexQueue; index: VectorIndex | null }

export class Library extends EventEmitter<{ progress: [IndexProgress]; idle: [IndexProgress]; changed: []; indexed: [number] }> {
  readonly catalog: Catalog;
  private readonly thumbs: Thumbnails;
  /** Answers search, captions and questions. */
  private serving: PackRuntime;
  /** Indexes new photos; a different pack from `serving` only while switching packs. */
  private indexing: PackRuntime;
  private watcher: FolderWatcher | null = null;
  private serial: Promise<unknown> = Promise.resolve();
  private readonly scans = new Set<Promise<unknown>>();

  private constructor(readonly dir: string, private readonly db: Db, serving: LoadedPack, indexing: LoadedPack, private readonly options: LibraryOptions) {
    super();
    this.catalog = new Catalog(db);
    this.thumbs = new Thumbnails(path.join(dir, 'thumbnails'));
    this.serving = this.runtime(serving);
    this.indexing = indexing.dir === serving.dir ? this.serving : this.runtime(indexing);
  }

  /** The pack that answers. */
  get pack(): LoadedPack {
    return this.serving.pack;
  }

  private runtime(pack: LoadedPack): PackRuntime {
    const engine = new EngineClient(pack.dir, this.options.runtime ?? {}, this.options.spawnEngine);
    const rt: PackRuntime = { pack, engine, queue: new IndexQueue(this.catalog, engine, pack.id, pack.pack.cacheKey, 8), index: null };
    rt.queue.on('progress', (p) => this.emit('progress', p));
    rt.queue.on('idle', (p) => {
      this.maybeSwitch(rt);
      this.emit('idle', p);
    });
    rt.queue.on('indexed', (photoId, embedding) => {
      rt.index?.add(photoId, embedding);
      this.emit('indexed', photoId);
    });
    return rt;
  }

  /** A new pack finished indexing everything: it takes over answering, and the old engine stops. */
  private maybeSwitch(rt: PackRuntime): void {
    if (rt !== this.indexing || rt === this.serving || this.catalog.counts(rt.pack.pack.cacheKey).pending > 0) return;
    const old = this.serving;
    this.serving = rt;
    setSetting(this.db, 'servingPack', rt.pack.id);
    void old.engine.close();
    this.emit('changed');
  }

  static async open(options: LibraryOptions): Promise<Library> {
    const dir = path.resolve(options.dir);
    const db = openDb(path.join(dir, 'glimpse.db'));
    const packs = discoverPacks(options.packDirs);
    const find = (id: string | null) => packs.find((p) => p.pack && p.id === id) as LoadedPack | undefined;
    const wanted = options.packId ?? getSetting(db, 'pack');
    const target = find(wanted) ?? (options.packId ? undefined : (packs.find((p) => p.pack) as LoadedPack | undefined));
    if (!target) {
      db.close();
      const listed = packs.map((p) => `${p.id}${p.error ? ` (${p.error})` : ''}`).join('; ') || 'none found';
      throw new LibraryError('no-pack', `no usable model pack${wanted ? ` "${wanted}"` : ''} in ${options.packDirs.join(', ')}: ${listed}`);
    }
    // Until the target pack has indexed everything, the pack that served before keeps answering.
    const serving = find(getSetting(db, 'servingPack')) ?? target;
    setSetting(db, 'pack', target.id);
    setSetting(db, 'servingPack', serving.id);
    const library = new Library(dir, db, serving, target, options);
    for (const p of packs) if (p.pack) library.catalog.forgetOtherRevisions(p.id, p.pack.cacheKey);
    const folders = library.catalog.folders();
    if (options.watch !== false) library.startWatching(folders.map((f) => f.path));
    // Catch up with what changed while the app was closed, then index what is pending.
    for (const folder of folders) library.track(library.serially(() => scanFolder(library.catalog, folder)).then(() => library.kick()));
    library.kick();
    return library;
  }

  private kick(): void {
    this.indexing.queue.kick();
  }

  /** Indexes the library for another pack; the current one keeps answering until that is done. */
  setPack(id: string): void {
    const found = discoverPacks(this.options.packDirs).find((p) => p.id === id);
    if (!found) throw new LibraryError('not-found', `no model pack "${id}"`);
    if (!found.pack) throw new LibraryError('no-pack', found.error ?? `model pack "${id}" cannot be used`);
    if (this.indexing !== this.serving) {
      this.indexing.queue.pause();
      void this.indexing.engine.close();
    }
    this.indexing = found.dir === this.serving.pack.dir ? this.serving : this.runtime(found as LoadedPack);
    setSetting(this.db, 'pack', id);
    this.emit('changed');
    this.kick();
    this.maybeSwitch(this.indexing);
  }

  private startWatching(roots: string[]): void {
    this.watcher = new FolderWatcher(roots, {
      file: (file) => this.onFileEvent(file),
      gone: (file) => this.onFileEvent(file),
      folderGone: (root) => {
        const folder = this.catalog.folders().find((f) => f.path === root);
        if (folder) this.track(this.serially(async () => this.catalog.setFolderAvailable(folder.id, false)).then(() => this.emit('changed')));
      },
      folderBack: (root) => {
        const folder = this.catalog.folders().find((f) => f.path === root);
        if (folder) this.track(this.serially(() => scanFolder(this.catalog, folder)).then(() => { this.emit('changed'); this.kick(); }));
      },
    });
  }

  private onFileEvent(file: string): void {
    this.track(this.serially(async () => {
      const folder = this.catalog.folderOf(file);
      if (folder) await syncFile(this.catalog, folder, file);
    }).then(() => {
      this.emit('changed');
      this.kick();
    }));
  }

  /** Catalog changes from scans and watcher events run one at a time, in order. */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.serial.then(work, work);
    this.serial = next.catch(() => undefined);
    return next;
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch(() => undefined).finally(() => this.scans.delete(tracked));
    this.scans.add(tracked);
  }

  /** Resolves when scans and watcher events have been applied and indexing has nothing left. */
  async settled(): Promise<void> {
    for (;;) {
      while (this.scans.size > 0) await Promise.all([...this.scans]);
      await this.serial;
      const queue = this.indexing.queue;
      await queue.whenIdle();
      if (this.scans.size === 0 && this.catalog.counts(this.indexing.pack.pack.cacheKey).pending === 0) return;
      queue.kick();
      if (queue.progress().state === 'paused') return;
    }
  }

  async engineInfo(): Promise<EngineInfo> {
    return this.serving.engine.info();
  }

  addFolder(dir: string): FolderRow {
    const full = path.resolve(dir);
    const stat = fs.statSync(full, { throwIfNoEntry: false });
    if (!stat) throw new LibraryError('not-found', `folder ${full} does not exist`);
    if (!stat.isDirectory()) throw new LibraryError('not-a-folder', `${full} is not a folder`);
    const folder = this.catalog.addFolder(full);
    this.watcher?.add(full);
    this.track(this.serially(() => scanFolder(this.catalog, folder)).then(() => { this.emit('changed'); this.kick(); }));
    return folder;
  }

  /** Every photo with a file present, newest first (undated last): the grid's timeline. */
  timeline(): Array<{ id: number; takenAt: string | null }> {
    // A file that turned out not to be a readable photo is listed under errors, not in the grid.
    return this.db.prepare(`SELECT p.id, p.taken_at AS takenAt FROM photos p
      WHERE EXISTS (SELECT 1 FROM files f WHERE f.photo_id = p.id AND f.status = 'present')
        AND NOT EXISTS (SELECT 1 FROM compress_errors e WHERE e.photo_id = p.id AND e.pack_id = ?)
      ORDER BY p.taken_at IS NULL, p.taken_at DESC, p.id DESC`).all(this.serving.pack.pack.cacheKey) as Array<{ id: number; takenAt: string | null }>;
  }

  /** The model packs found, which one is in use, and why a broken one cannot be. */
  packs(): Array<{ id: string; dir: string; active: boolean; error: string | null; description: string | null }> {
    return discoverPacks(this.options.packDirs, { verifyHashes: false }).map((p) => ({
      id: p.id, dir: p.dir, active: p.dir === this.serving.pack.dir, error: p.error ?? null, description: p.pack?.manifest.description ?? null,
    }));
  }

  /** "Try sample photos": the shapes world's sample library, made on first use inside the library folder, and added. */
  async addSamples(count = 120): Promise<FolderRow> {
    const out = path.join(this.dir, 'sample-photos');
    if (!fs.existsSync(path.join(out, SIDECAR_NAME))) await writeSamples({ count, seed: 7, size: 256, out, force: true });
    return this.addFolder(path.join(out, PHOTOS_DIR));
  }

  /** Scans every folder again, as at start-up. */
  async rescan(): Promise<void> {
    await Promise.all(this.catalog.folders().map((folder) => this.serially(() => scanFolder(this.catalog, folder))));
    this.emit('changed');
    this.kick();
  }

  removeFolder(id: number): void {
    const folder = this.catalog.folders().find((f) => f.id === id);
    if (!folder) throw new LibraryError('not-found', `no folder with id ${id}`);
    this.watcher?.unwatch(folder.path);
    this.catalog.removeFolder(id);
    this.emit('changed');
  }

  status(): LibraryStatus {
    const folders = this.catalog.folders().map((f) => ({
      ...f, files: (this.db.prepare("SELECT COUNT(*) AS n FROM files WHERE folder_id = ? AND status = 'present'").get(f.id) as { n: number }).n,
    }));
    return {
      dir: this.dir, pack: this.serving.pack.id, indexingPack: this.indexing.pack.id,
      counts: this.catalog.counts(this.indexing.pack.pack.cacheKey), indexing: this.indexing.queue.progress(), folders,
    };
  }

  errors(): Array<{ path: string; code: string; message: string }> {
    return this.catalog.errors(this.indexing.pack.pack.cacheKey);
  }

  pauseIndexing(): void {
    this.indexing.queue.pause();
  }

  resumeIndexing(): void {
    this.indexing.queue.resume();
  }

  private vectors(): VectorIndex {
    const rt = this.serving;
    rt.index ??= VectorIndex.load(this.db, rt.pack.pack.cacheKey, rt.pack.pack.manifest.dims.hidden);
    return rt.index;
  }

  /** Photos allowed by the filters, or undefined for all. */
  private allowed(options: SearchOptions): Set<number> | undefined {
    if (options.folderId === undefined && options.from === undefined && options.to === undefined) return undefined;
    const rows = this.db.prepare(`SELECT DISTINCT p.id FROM photos p JOIN files f ON f.photo_id = p.id AND f.status = 'present'
      WHERE (@folder IS NULL OR f.folder_id = @folder) AND (@from IS NULL OR p.taken_at >= @from) AND (@to IS NULL OR p.taken_at <= @to)`)
      // A date without a time means that whole day.
      .pluck().all({ folder: options.folderId ?? null, from: options.from ?? null, to: options.to === undefined ? null : options.to.length === 10 ? `${options.to}T23:59:59` : options.to }) as number[];
    return new Set(rows);
  }

  async search(text: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const query = text.trim();
    if (query.length === 0) throw new LibraryError('invalid', 'the search text is empty');
    const index = this.vectors();
    if (index.size === 0) throw new LibraryError('nothing-indexed', 'no photos are indexed yet: add a folder and wait for indexing');
    const [embedding] = await this.serving.engine.embedText([query]);
    const present = new Set(this.db.prepare("SELECT DISTINCT photo_id FROM files WHERE status = 'present' AND photo_id IS NOT NULL").pluck().all() as number[]);
    const filter = this.allowed(options);
    const allowed = filter ? new Set([...filter].filter((id) => present.has(id))) : present;
    return index.search(embedding as Float32Array, options.limit ?? 20, allowed).map((h) => {
      const info = this.photo(h.photoId);
      return { photoId: h.photoId, score: h.score, path: info.paths[0] ?? '', takenAt: info.takenAt };
    });
  }

  photo(id: number): PhotoInfo {
    const row = this.db.prepare('SELECT id, hash, taken_at AS takenAt, width, height FROM photos WHERE id = ?').get(id) as Omit<PhotoInfo, 'paths' | 'indexed'> | undefined;
    if (!row) throw new LibraryError('not-found', `no photo with id ${id}`);
    const paths = this.db.prepare("SELECT path FROM files WHERE photo_id = ? AND status = 'present' ORDER BY path").pluck().all(id) as string[];
    return { ...row, paths, indexed: this.catalog.tokens(id, this.pack.pack.cacheKey) !== null };
  }

  /** The photo id of a file path in the library. */
  photoAt(file: string): number {
    const row = this.catalog.file(path.resolve(file));
    if (!row?.photo_id) throw new LibraryError('not-found', `${path.resolve(file)} is not a photo in the library${row?.error ? ` (${row.error})` : ''}`);
    return row.photo_id;
  }

  private cachedTokens(photoId: number, budget: number | undefined): Uint8Array {
    const tokens = this.catalog.tokens(photoId, this.pack.pack.cacheKey);
    if (!tokens) {
      const failed = this.db.prepare('SELECT message FROM compress_errors WHERE photo_id = ? AND pack_id = ?').pluck().get(photoId, this.pack.pack.cacheKey) as string | undefined;
      throw new LibraryError('not-indexed', failed ? `photo ${photoId} could not be indexed: ${failed}` : `photo ${photoId} is not indexed yet for pack "${this.pack.id}"`);
    }
    const budgets = this.pack.pack.manifest.summary.budgets;
    if (budget !== undefined && !budgets.includes(budget)) throw new LibraryError('invalid', `budget ${budget} is not one of ${budgets.join(', ')}`);
    return tokens;
  }

  /** The caption, generated on first use and cached per photo, pack and budget. */
  async caption(photoId: number, options: { budget?: number; signal?: AbortSignal } = {}, onToken?: (t: string) => void): Promise<string> {
    const budget = options.budget ?? this.pack.pack.manifest.summary.tokens;
    const tokens = this.cachedTokens(photoId, budget);
    const cached = this.db.prepare('SELECT text FROM captions WHERE photo_id = ? AND pack_id = ? AND budget = ?').pluck().get(photoId, this.pack.pack.cacheKey, budget) as string | undefined;
    if (cached !== undefined) {
      onToken?.(cached);
      return cached;
    }
    const out = await this.serving.engine.generate(tokens, this.pack.pack.manifest.prompts.caption, { budget, maxNewTokens: 96, ...(options.signal ? { signal: options.signal } : {}) }, onToken);
    this.db.prepare('INSERT OR REPLACE INTO captions (photo_id, pack_id, budget, text) VALUES (?, ?, ?, ?)').run(photoId, this.pack.pack.cacheKey, budget, out.text);
    return out.text;
  }

  /** Answers a question from the cached tokens, streaming; the exchange is kept. */
  async ask(photoId: number, question: string, options: { budget?: number; signal?: AbortSignal } = {}, onToken?: (t: string) => void): Promise<string> {
    const q = question.trim();
    if (q.length === 0) throw new LibraryError('invalid', 'the question is empty');
    const budget = options.budget ?? this.pack.pack.manifest.summary.tokens;
    const tokens = this.cachedTokens(photoId, budget);
    const out = await this.serving.engine.generate(tokens, q, { budget, maxNewTokens: 48, ...(options.signal ? { signal: options.signal } : {}) }, onToken);
    this.db.prepare('INSERT INTO questions (photo_id, pack_id, budget, question, answer) VALUES (?, ?, ?, ?, ?)').run(photoId, this.pack.pack.cacheKey, budget, q, out.text);
    return out.text;
  }

  history(photoId: number): Array<{ question: string; answer: string; budget: number; askedAt: string }> {
    return this.db.prepare('SELECT question, answer, budget, asked_at AS askedAt FROM questions WHERE photo_id = ? ORDER BY id').all(photoId) as Array<{ question: string; answer: string; budget: number; askedAt: string }>;
  }

  async thumbnail(photoId: number): Promise<string> {
    const info = this.photo(photoId);
    const source = info.paths[0];
    if (!source) throw new LibraryError('not-found', `photo ${photoId} has no file present`);
    return this.thumbs.get(info.hash, source);
  }

  async close(): Promise<void> {
    const runtimes = new Set([this.serving, this.indexing]);
    for (const rt of runtimes) rt.queue.pause();
    await this.watcher?.close();
    await Promise.all([...this.scans]);
    await this.serial;
    for (const rt of runtimes) {
      await rt.queue.whenIdle();
      await rt.engine.close();
    }
    this.db.close();
  }
}
