// The photo library service: folders and watching, the indexing queue, search,
// captions and questions, over the catalog layer (catalog.ts, catalogPack.ts, which
// hold every SQL statement). Plain Node; the engine runs in its own process behind
// EngineClient.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { EngineClient, type SpawnEngine } from '../engine/client.ts';
import type { EngineInfo } from '../engine/engine.ts';
import type { RuntimeOptions } from '../engine/fwd2bot.ts';
import type { Pack } from '../engine/pack.ts';
import { LibraryError } from './errors.ts';
import { choosePacks, discoverLibraryPacks, type PackChoice, type PackIssue } from './packChoice.ts';
import { Catalog, type FolderRow, type PhotoInfo, type SearchFilter, type TimelineItem } from './catalog.ts';
import { PackCache, type CachedTokens, type Counts, type PackFootprint, type QuestionRow } from './catalogPack.ts';
import { openDb, type Db } from './db.ts';
import { IndexQueue, type IndexProgress, type RetryPolicy } from './queue.ts';
import { scanFolder, syncFile } from './scan.ts';
import { bestCosine, rerankHits } from './rerank.ts';
import { VectorIndex } from './search.ts';
import { Thumbnails, type ServedFile } from './thumbnails.ts';
import { FolderWatcher } from './watch.ts';

export type { PhotoInfo, TimelineItem } from './catalog.ts';
export { LibraryError } from './errors.ts';
export type { PackIssue } from './packChoice.ts';

/** Writes `count` sample photos below `out` (once) and returns the folder that holds them. */
export type SampleMaker = (out: string, count: number) => Promise<string>;

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
  /** "Try sample photos"; without it the library has none to offer. */
  samples?: SampleMaker;
  /** How often and how patiently a failing engine is retried before indexing pauses. */
  retry?: RetryPolicy;
}

export interface SearchOptions extends SearchFilter { limit?: number }
export interface SearchHit { photoId: number; score: number; path: string; takenAt: string | null }

export interface LibraryStatus {
  dir: string;
  /** The pack answering searches and questions. */
  pack: string;
  /** The pack being indexed: the same, or the next one while switching. */
  indexingPack: string;
  /** Set when the chosen pack is broken and another one is in use instead. */
  packIssue: PackIssue | null;
  counts: Counts;
  indexing: IndexProgress;
  folders: Array<FolderRow & { files: number }>;
}

export interface PackListing { id: string; dir: string; active: boolean; error: string | null; description: string | null }

/** One pack at work: its engine process, its indexing queue and (once searched) its vectors. */
interface PackRuntime { pack: Pack; engine: EngineClient; queue: IndexQueue; index: VectorIndex | null }

export class Library extends EventEmitter<{ progress: [IndexProgress]; idle: [IndexProgress]; changed: []; indexed: [number] }> {
  private readonly catalog: Catalog;
  private readonly cache: PackCache;
  private readonly thumbs: Thumbnails;
  /** Answers search, captions and questions. */
  private serving: PackRuntime;
  /** Indexes new photos; a different pack from `serving` only while switching packs. */
  private indexing: PackRuntime;
  private watcher: FolderWatcher | null = null;
  private serial: Promise<unknown> = Promise.resolve();
  private readonly scans = new Set<Promise<unknown>>();

  private constructor(readonly dir: string, private readonly db: Db, serving: Pack, indexing: Pack, private readonly options: LibraryOptions,
    readonly packIssue: PackIssue | null) {
    super();
    this.catalog = new Catalog(db);
    this.cache = new PackCache(db);
    this.thumbs = new Thumbnails(path.join(dir, 'thumbnails'));
    this.serving = this.runtime(serving);
    this.indexing = indexing.dir === serving.dir ? this.serving : this.runtime(indexing);
  }

  /** The pack that answers. */
  get pack(): Pack {
    return this.serving.pack;
  }

  private runtime(pack: Pack): PackRuntime {
    const engine = new EngineClient(pack.dir, this.options.runtime ?? {}, this.options.spawnEngine);
    const rt: PackRuntime = { pack, engine, queue: new IndexQueue(this.cache, engine, pack.id, pack.cacheKey, 8, this.options.retry), index: null };
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
    if (rt !== this.indexing || rt === this.serving || this.cache.counts(rt.pack.cacheKey).pending > 0) return;
    const old = this.serving;
    this.serving = rt;
    this.catalog.setSetting('servingPack', rt.pack.id);
    void old.engine.close();
    this.emit('changed');
  }

  static async open(options: LibraryOptions): Promise<Library> {
    const dir = path.resolve(options.dir);
    const db = openDb(path.join(dir, 'glimpse.db'));
    const catalog = new Catalog(db);
    let choice: PackChoice;
    try {
      choice = choosePacks(catalog, discoverLibraryPacks(options.packDirs), options);
    } catch (err) {
      db.close();
      throw err;
    }
    const { target, serving, issue, packs } = choice;
    const library = new Library(dir, db, serving, target, options, issue);
    for (const p of packs) if (p.pack) library.cache.forgetOtherRevisions(p.id, p.pack.cacheKey);
    const folders = catalog.folders();
    if (options.watch !== false) library.startWatching(folders.map((f) => f.path));
    // Catch up with what changed while the app was closed, then index what is pending.
    for (const folder of folders) library.track(library.scan(folder));
    library.kick();
    return library;
  }

  private kick(): void {
    this.indexing.queue.kick();
  }

  /**
   * Brings one folder in line with the disk, in turn with other changes: files that
   * failed are read again, and its photos' indexing failures are forgotten so they
   * are tried again. Then indexing picks up what is pending.
   */
  private scan(folder: FolderRow): Promise<void> {
    return this.serially(async () => {
      await scanFolder(this.catalog, folder);
      this.cache.clearFailures({ folderId: folder.id });
    }).then(() => {
      this.emit('changed');
      this.kick();
    });
  }

  /** Indexes the library for another pack; the current one keeps answering until that is done. */
  setPack(id: string): void {
    const found = discoverLibraryPacks(this.options.packDirs).find((p) => p.id === id);
    if (!found) throw new LibraryError('not-found', `no model pack "${id}"`);
    if (!found.pack) throw new LibraryError('no-pack', found.error ?? `model pack "${id}" cannot be used`);
    if (this.indexing !== this.serving) {
      this.indexing.queue.pause();
      void this.indexing.engine.close();
    }
    this.indexing = found.dir === this.serving.pack.dir ? this.serving : this.runtime(found.pack);
    this.catalog.setSetting('pack', id);
    this.emit('changed');
    this.kick();
    this.maybeSwitch(this.indexing);
  }

  private startWatching(roots: string[]): void {
    const folderAt = (root: string) => this.catalog.folders().find((f) => f.path === root);
    this.watcher = new FolderWatcher(roots, {
      file: (file) => this.onFileEvent(file),
      gone: (file) => this.onFileEvent(file),
      folderGone: (root) => {
        const folder = folderAt(root);
        if (folder) this.track(this.serially(async () => this.catalog.setFolderAvailable(folder.id, false)).then(() => this.emit('changed')));
      },
      folderBack: (root) => {
        const folder = folderAt(root);
        if (folder) this.track(this.scan(folder));
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

  /** Resolves when scans and watcher events have been applied and indexing has nothing left (or paused). */
  async settled(): Promise<void> {
    for (;;) {
      while (this.scans.size > 0) await Promise.all([...this.scans]);
      await this.serial;
      const queue = this.indexing.queue;
      await queue.whenIdle();
      if (this.scans.size === 0 && this.cache.counts(this.indexing.pack.cacheKey).pending === 0) return;
      queue.kick();
      if (queue.progress().state === 'paused') return;
    }
  }

  /** The engine, and the active pack's size, its cache on disk and its measured indexing speed (Settings shows them). */
  async engineInfo(): Promise<EngineInfo & PackFootprint> {
    const { pack, engine } = this.serving;
    return {
      ...await engine.info(),
      packBytes: Object.values(pack.manifest.files).reduce((sum, f) => sum + f.bytes, 0),
      cacheBytes: this.cache.cacheBytes(pack.cacheKey),
      photosPerSecond: this.cache.measuredRate(pack.cacheKey),
    };
  }

  folders(): FolderRow[] {
    return this.catalog.folders();
  }

  addFolder(dir: string): FolderRow {
    const full = path.resolve(dir);
    const stat = fs.statSync(full, { throwIfNoEntry: false });
    if (!stat) throw new LibraryError('not-found', `folder ${full} does not exist`);
    if (!stat.isDirectory()) throw new LibraryError('not-a-folder', `${full} is not a folder`);
    const folder = this.catalog.addFolder(full);
    this.watcher?.add(full);
    this.track(this.scan(folder));
    return folder;
  }

  /** Every photo with a file present, newest first (undated last): the grid's timeline. Photos that
   * could not be indexed stay in it, marked with the reason. */
  timeline(): TimelineItem[] {
    return this.catalog.timeline(this.serving.pack.cacheKey);
  }

  /** Paths of the files present (or missing: on a drive that is away). */
  files(status: 'present' | 'missing' = 'present'): string[] {
    return this.catalog.paths(status);
  }

  /** The model packs found, which one is in use, and why a broken one cannot be. */
  packs(): PackListing[] {
    return discoverLibraryPacks(this.options.packDirs, { verifyHashes: false }).map((p) => ({
      id: p.id, dir: p.dir, active: p.dir === this.serving.pack.dir, error: p.error ?? null, description: p.pack?.manifest.description ?? null,
    }));
  }

  /** Photos cached under each pack revision (`id@revision`). */
  cachedPacks(): Array<{ key: string; n: number }> {
    return this.cache.tokenCounts();
  }

  /** "Try sample photos": made on first use inside the library folder by the caller's maker, and added. */
  async addSamples(count = 120): Promise<FolderRow> {
    if (!this.options.samples) throw new LibraryError('invalid', 'this Glimpse has no sample photos to offer');
    return this.addFolder(await this.options.samples(path.join(this.dir, 'sample-photos'), count));
  }

  /** Scans every folder again, as at start-up: failed files and photos are tried again. */
  async rescan(): Promise<void> {
    await Promise.all(this.catalog.folders().map((folder) => this.scan(folder)));
  }

  /**
   * Tries every failed file and photo again, and resumes indexing if a fault paused
   * it. Returns how many files and photos are tried again.
   */
  async retryFailed(): Promise<{ files: number; photos: number }> {
    const unreadable = this.catalog.unreadableFiles();
    const photos = this.cache.clearFailures({ key: this.indexing.pack.cacheKey });
    await Promise.all(unreadable.map((f) => this.serially(async () => {
      const folder = this.catalog.folder(f.folderId);
      if (folder) await syncFile(this.catalog, folder, f.path);
    })));
    this.indexing.queue.resume();
    this.emit('changed');
    return { files: unreadable.length, photos };
  }

  removeFolder(id: number): void {
    const folder = this.catalog.folder(id);
    if (!folder) throw new LibraryError('not-found', `no folder with id ${id}`);
    this.watcher?.unwatch(folder.path);
    this.catalog.removeFolder(id);
    this.emit('changed');
  }

  status(): LibraryStatus {
    const counts = this.cache.counts(this.indexing.pack.cacheKey);
    return {
      dir: this.dir, pack: this.serving.pack.id, indexingPack: this.indexing.pack.id, packIssue: this.packIssue,
      counts, indexing: this.indexing.queue.progress(counts.pending), folders: this.catalog.foldersWithCounts(),
    };
  }

  errors(): Array<{ path: string; code: string; message: string }> {
    return this.cache.errors(this.indexing.pack.cacheKey);
  }

  pauseIndexing(): void {
    this.indexing.queue.pause();
  }

  resumeIndexing(): void {
    this.indexing.queue.resume();
  }

  private vectors(): VectorIndex {
    const rt = this.serving;
    rt.index ??= VectorIndex.from(rt.pack.manifest.dims.hidden, this.cache.embeddings(rt.pack.cacheKey));
    return rt.index;
  }

  async search(text: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    return (await this.rankedSearch(text, options)).hits;
  }

  /**
   * The hits and the best cosine among all the photos searched: with a second stage
   * (rerank.ts) the photo with the best cosine may be re-ranked past `limit`, and the
   * "no good match" threshold was calibrated on that best cosine.
   */
  async rankedSearch(text: string, options: SearchOptions = {}): Promise<{ hits: SearchHit[]; bestCosine: number | null }> {
    const query = text.trim();
    if (query.length === 0) throw new LibraryError('invalid', 'the search text is empty');
    const index = this.vectors();
    if (index.size === 0) throw new LibraryError('nothing-indexed', 'no photos are indexed yet: add a folder and wait for indexing');
    const { pack, engine } = this.serving;
    const [embedding] = await engine.embedText([query]);
    const limit = options.limit ?? 20;
    const rerank = pack.manifest.retrieval?.rerank;
    let hits = index.search(embedding as Float32Array, Math.max(limit, rerank?.candidates ?? 0), this.catalog.searchable(options));
    const best = bestCosine(hits);
    if (rerank) {
      hits = await rerankHits(hits, rerank, async (top) => {
        const cached = top.map((h) => this.cache.tokens(h.photoId, pack.cacheKey));
        const scored = top.map((_, i) => i).filter((i) => cached[i] !== null);
        const likelihoods = await engine.scoreText(scored.map((i) => ({ tokens: cached[i]!.bytes, encoding: cached[i]!.encoding })), query);
        const out = top.map(() => -Infinity);
        scored.forEach((i, j) => { out[i] = likelihoods[j] as number; });
        return out;
      });
    }
    hits = hits.slice(0, limit);
    const infos = new Map(this.catalog.photos(hits.map((h) => h.photoId), pack.cacheKey).map((p) => [p.id, p]));
    return { hits: hits.map((h) => ({ photoId: h.photoId, score: h.score, path: infos.get(h.photoId)?.paths[0] ?? '', takenAt: infos.get(h.photoId)?.takenAt ?? null })), bestCosine: best };
  }

  photo(id: number): PhotoInfo {
    const info = this.catalog.photo(id, this.serving.pack.cacheKey);
    if (!info) throw new LibraryError('not-found', `no photo with id ${id}`);
    return info;
  }

  /** The photo id of a file path in the library. */
  photoAt(file: string): number {
    const row = this.catalog.file(path.resolve(file));
    if (!row?.photo_id) throw new LibraryError('not-found', `${path.resolve(file)} is not a photo in the library${row?.error ? ` (${row.error})` : ''}`);
    return row.photo_id;
  }

  private cachedTokens(photoId: number, budget: number): CachedTokens {
    const { pack } = this.serving;
    const tokens = this.cache.tokens(photoId, pack.cacheKey);
    if (!tokens) {
      const failed = this.cache.failure(photoId, pack.cacheKey);
      throw new LibraryError('not-indexed', failed ? `photo ${photoId} could not be indexed: ${failed.message}` : `photo ${photoId} is not indexed yet for pack "${pack.id}"`);
    }
    const budgets = pack.manifest.summary.budgets;
    if (!budgets.includes(budget)) throw new LibraryError('invalid', `budget ${budget} is not one of ${budgets.join(', ')}`);
    return tokens;
  }

  /** The caption, generated on first use and cached per photo, pack and budget. */
  async caption(photoId: number, options: { budget?: number; signal?: AbortSignal } = {}, onToken?: (t: string) => void): Promise<string> {
    const { pack, engine } = this.serving;
    const budget = options.budget ?? pack.manifest.summary.tokens;
    const tokens = this.cachedTokens(photoId, budget);
    const cached = this.cache.caption(photoId, pack.cacheKey, budget);
    if (cached !== null) {
      onToken?.(cached);
      return cached;
    }
    const out = await engine.generate(tokens.bytes, pack.manifest.prompts.caption, { budget, encoding: tokens.encoding, maxNewTokens: 96, ...(options.signal ? { signal: options.signal } : {}) }, onToken);
    this.cache.storeCaption(photoId, pack.cacheKey, budget, out.text);
    return out.text;
  }

  /** Answers a question from the cached tokens, streaming; the exchange is kept. */
  async ask(photoId: number, question: string, options: { budget?: number; signal?: AbortSignal; modelReads?: string } = {}, onToken?: (t: string) => void): Promise<string> {
    const q = question.trim();
    if (q.length === 0) throw new LibraryError('invalid', 'the question is empty');
    const { pack, engine } = this.serving;
    const budget = options.budget ?? pack.manifest.summary.tokens;
    const tokens = this.cachedTokens(photoId, budget);
    // The model may read the question reworded into its own words (pack.json domain.aliases); the asker's wording is what is kept.
    const out = await engine.generate(tokens.bytes, options.modelReads?.trim() || q, { budget, encoding: tokens.encoding, maxNewTokens: 48, ...(options.signal ? { signal: options.signal } : {}) }, onToken);
    // Cancelled while the last token was on its way: the asker has moved on, so the exchange is not kept.
    options.signal?.throwIfAborted();
    this.cache.storeAnswer(photoId, pack.cacheKey, budget, q, out.text);
    return out.text;
  }

  history(photoId: number): QuestionRow[] {
    return this.cache.history(photoId);
  }

  private source(photoId: number): { hash: string; file: string } {
    const info = this.photo(photoId);
    const file = info.paths[0];
    if (!file) throw new LibraryError('not-found', `photo ${photoId} has no file present`);
    return { hash: info.hash, file };
  }

  /** The photo's thumbnail file (WebP), made on first use. */
  async thumbnail(photoId: number): Promise<string> {
    const { hash, file } = this.source(photoId);
    return this.thumbs.get(hash, file);
  }

  /** The photo as a browser can show it: its file and type, or a JPEG made from a HEIC, TIFF, .... */
  async photoFile(photoId: number): Promise<ServedFile> {
    const { hash, file } = this.source(photoId);
    return this.thumbs.viewable(hash, file);
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
