// The one contract between the UI (Electron IPC, browser mode) or the CLI and the
// library service: every method with its input schema and result type, and every
// event. Inputs are validated here, once, for every transport.
import { z } from 'zod';
import type { EngineInfo } from '../engine/engine.ts';
import type { FolderRow } from '../library/catalog.ts';
import type { LibraryStatus, PhotoInfo, SearchHit } from '../library/library.ts';
import type { IndexProgress } from '../library/queue.ts';

const id = z.number().int().positive();
const budget = z.number().int().positive().optional();
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/, 'a date like 2024-05-31 or 2024-05-31T18:00');

export const inputs = {
  status: z.object({}).strict(),
  engineInfo: z.object({}).strict(),
  listFolders: z.object({}).strict(),
  addFolder: z.object({ path: z.string().min(1).max(4096) }).strict(),
  removeFolder: z.object({ id }).strict(),
  search: z.object({
    text: z.string().trim().min(1, 'the search text is empty').max(500),
    limit: z.number().int().min(1).max(500).optional(),
    folderId: id.optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
  }).strict(),
  photo: z.object({ id }).strict(),
  photoAt: z.object({ path: z.string().min(1).max(4096) }).strict(),
  caption: z.object({ id, budget }).strict(),
  ask: z.object({ id, question: z.string().trim().min(1, 'the question is empty').max(500), budget }).strict(),
  history: z.object({ id }).strict(),
  errors: z.object({}).strict(),
  timeline: z.object({}).strict(),
  packs: z.object({}).strict(),
  addSamples: z.object({ count: z.number().int().min(1).max(2000).optional() }).strict(),
  setPack: z.object({ id: z.string().min(1).max(200) }).strict(),
  pauseIndexing: z.object({}).strict(),
  resumeIndexing: z.object({}).strict(),
} as const;

export type Method = keyof typeof inputs;
export type Input<M extends Method> = z.input<(typeof inputs)[M]>;

export interface Results {
  status: LibraryStatus;
  engineInfo: EngineInfo;
  listFolders: FolderRow[];
  addFolder: FolderRow;
  removeFolder: null;
  search: SearchHit[];
  photo: PhotoInfo;
  photoAt: PhotoInfo;
  caption: { text: string };
  ask: { answer: string };
  history: Array<{ question: string; answer: string; budget: number; askedAt: string }>;
  errors: Array<{ path: string; code: string; message: string }>;
  timeline: Array<{ id: number; takenAt: string | null }>;
  packs: Array<{ id: string; dir: string; active: boolean; error: string | null; description: string | null }>;
  addSamples: FolderRow;
  setPack: null;
  pauseIndexing: null;
  resumeIndexing: null;
}

/** Methods whose text streams in as `token` events before the result arrives. */
export const STREAMING: ReadonlySet<Method> = new Set(['caption', 'ask']);

export interface Events {
  progress: IndexProgress;
  idle: IndexProgress;
  changed: Record<string, never>;
  /** A piece of a streaming answer; `call` is the id the caller gave the request. */
  token: { call: string; text: string };
}

export type ApiErrorCode = 'invalid-input' | 'unknown-method' | 'not-found' | 'not-a-folder' | 'no-pack' | 'nothing-indexed' | 'not-indexed' | 'invalid' | 'cancelled' | 'internal';

export interface ApiErrorShape { code: ApiErrorCode; message: string }

export class ApiError extends Error implements ApiErrorShape {
  constructor(readonly code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}
