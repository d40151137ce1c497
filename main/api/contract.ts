// The one contract between the UI (Electron IPC, browser mode) or the CLI and the
// library service: every method's input schema, its result type (derived from the
// handler map in handlers.ts, so it is written once) and every event. Inputs are
// validated here, once, for every transport. Wire formats are in wire.ts.
import path from 'node:path';
import { z } from 'zod';
import type { IndexProgress } from '../library/queue.ts';
import type { handlers } from './handlers.ts';
import type { ApiErrorCode } from './wire.ts';

const id = z.number().int().positive();
const budget = z.number().int().positive().optional();

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;
/** A date (and time) that exists on the calendar: no month 13, no 30 February, no 24:00. */
export function isCalendarDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return days !== undefined && day >= 1 && day <= days && hour < 24 && minute < 60 && second < 60;
}
const isoDate = z.string()
  .regex(DATE, 'a date like 2024-05-31 or 2024-05-31T18:00')
  .refine(isCalendarDate, 'not a real date: the month must be 01-12, the day must exist in that month, the time at most 23:59:59');

/** A path on the machine running the library; relative ones would silently resolve against its working folder. */
const absolutePath = z.string().min(1).max(4096)
  .refine((p) => !p.includes('\0'), 'the path contains a NUL character')
  .refine((p) => path.isAbsolute(p), 'must be an absolute path (like /home/me/Pictures or C:\\Users\\me\\Pictures)');

export const inputs = {
  status: z.object({}).strict(),
  engineInfo: z.object({}).strict(),
  listFolders: z.object({}).strict(),
  addFolder: z.object({ path: absolutePath }).strict(),
  removeFolder: z.object({ id }).strict(),
  search: z.object({
    text: z.string().trim().min(1, 'the search text is empty').max(500),
    limit: z.number().int().min(1).max(500).optional(),
    folderId: id.optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
  }).strict(),
  photo: z.object({ id }).strict(),
  photoAt: z.object({ path: absolutePath }).strict(),
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
  retryFailed: z.object({}).strict(),
} as const;

export type Method = keyof typeof inputs;
/** What a caller sends. */
export type Input<M extends Method> = z.input<(typeof inputs)[M]>;
/** What a handler receives, after validation (trimmed, defaults applied). */
export type Parsed<M extends Method> = z.output<(typeof inputs)[M]>;
/** What each method resolves to: read off the handler map, never written out a second time. */
export type Results = { [M in Method]: Awaited<ReturnType<(typeof handlers)[M]>> };

export interface Events {
  progress: IndexProgress;
  idle: IndexProgress;
  changed: Record<string, never>;
}

export class ApiError extends Error {
  constructor(readonly code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}
