// Layout of the library grid: month headings and rows of square cells, with the
// top of every row precomputed so the visible window is a binary search away.
// Pure and DOM-free: 100,000 photos make ~10k rows, laid out in a few milliseconds.
import { monthKey, monthLabel } from './format.ts';

export interface TimelineItem {
  id: number;
  takenAt: string | null;
  /** Why the model could not index the photo: it stays in the grid, marked. */
  failed?: { code: string; message: string } | null;
}

export type Row =
  | { kind: 'header'; top: number; height: number; label: string; count: number }
  | { kind: 'photos'; top: number; height: number; start: number; end: number };

export interface GridLayout {
  columns: number;
  cell: number;
  gap: number;
  rows: Row[];
  /** Row index of every item. */
  rowOf: Int32Array;
  height: number;
}

export const HEADER_HEIGHT = 48;

export function layoutGrid(items: readonly TimelineItem[], width: number, options: { minCell?: number; gap?: number } = {}): GridLayout {
  const gap = options.gap ?? 6;
  const minCell = options.minCell ?? 160;
  const inner = Math.max(1, width);
  const columns = Math.max(1, Math.floor((inner + gap) / (minCell + gap)));
  const cell = Math.max(1, Math.floor((inner - gap * (columns - 1)) / columns));
  const rows: Row[] = [];
  const rowOf = new Int32Array(items.length);
  let top = 0;
  let i = 0;
  while (i < items.length) {
    const key = monthKey((items[i] as TimelineItem).takenAt);
    let end = i + 1;
    while (end < items.length && monthKey((items[end] as TimelineItem).takenAt) === key) end++;
    rows.push({ kind: 'header', top, height: HEADER_HEIGHT, label: monthLabel(key), count: end - i });
    top += HEADER_HEIGHT;
    for (let s = i; s < end; s += columns) {
      const e = Math.min(end, s + columns);
      rowOf.fill(rows.length, s, e);
      rows.push({ kind: 'photos', top, height: cell + gap, start: s, end: e });
      top += cell + gap;
    }
    i = end;
  }
  return { columns, cell, gap, rows, rowOf, height: top };
}

/** The first row whose bottom is below `y`. */
export function rowAt(rows: readonly Row[], y: number): number {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = rows[mid] as Row;
    if (r.top + r.height <= y) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(0, lo);
}

/** Rows to render for a viewport, with some overscan either side. */
export function visibleRows(layout: GridLayout, scrollTop: number, viewport: number, overscan = 600): [number, number] {
  if (layout.rows.length === 0) return [0, 0];
  const first = rowAt(layout.rows, Math.max(0, scrollTop - overscan));
  const last = rowAt(layout.rows, scrollTop + viewport + overscan);
  return [first, last + 1];
}

/** The item a key press moves to, in grid order. */
export function moveFocus(layout: GridLayout, index: number, key: string, pageRows: number, total: number): number {
  if (total === 0) return -1;
  const clamp = (i: number) => Math.max(0, Math.min(total - 1, i));
  if (index < 0) return 0;
  const rowIndex = layout.rowOf[index] ?? 0;
  const row = layout.rows[rowIndex];
  const col = row && row.kind === 'photos' ? index - row.start : 0;
  const photoRow = (from: number, step: number, count: number) => {
    let r = from;
    let found = from;
    for (let n = 0; n < count; ) {
      r += step;
      const candidate = layout.rows[r];
      if (!candidate) break;
      if (candidate.kind === 'photos') {
        found = r;
        n++;
      }
    }
    const target = layout.rows[found];
    return target && target.kind === 'photos' ? Math.min(target.start + col, target.end - 1) : index;
  };
  switch (key) {
    case 'ArrowRight': return clamp(index + 1);
    case 'ArrowLeft': return clamp(index - 1);
    case 'ArrowDown': return photoRow(rowIndex, 1, 1);
    case 'ArrowUp': return photoRow(rowIndex, -1, 1);
    case 'PageDown': return photoRow(rowIndex, 1, pageRows);
    case 'PageUp': return photoRow(rowIndex, -1, pageRows);
    case 'Home': return 0;
    case 'End': return total - 1;
    default: return index;
  }
}
