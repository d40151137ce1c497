// The library grid: every photo, newest first, under month headings. Windowed:
// only the rows in (and near) the viewport are in the DOM, positioned inside one
// tall spacer, so 100,000 photos scroll like 100. Keyboard: arrows, Page Up/Down,
// Home/End move between photos; Enter opens one.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { api } from '../api.ts';
import { formatDate, plural } from '../format.ts';
import { layoutGrid, moveFocus, rowAt, visibleRows, type Row, type TimelineItem } from '../gridLayout.ts';

interface Props {
  items: readonly TimelineItem[];
  onOpen(index: number): void;
  /** The photo to keep focused (the one the photo view was showing when it closed). */
  focusId?: number | null;
}

export function LibraryGrid({ items, onOpen, focusId }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  const [scrollTop, setScrollTop] = useState(0);
  const [focus, setFocus] = useState(-1);
  const wantFocus = useRef(false);
  const frame = useRef(0);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setSize({ width: el.clientWidth, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const layout = useMemo(() => layoutGrid(items, Math.max(0, size.width - 32)), [items, size.width]);
  const [first, last] = visibleRows(layout, scrollTop, size.height || 800);

  const onScroll = useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      if (scroller.current) setScrollTop(scroller.current.scrollTop);
    });
  }, []);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  /** Scrolls so that item `index` is fully visible. */
  const reveal = useCallback((index: number) => {
    const el = scroller.current;
    const row = layout.rows[layout.rowOf[index] ?? -1];
    if (!el || !row) return;
    const header = layout.rows[(layout.rowOf[index] ?? 0) - 1];
    const top = header?.kind === 'header' ? header.top : row.top;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (row.top + row.height > el.scrollTop + el.clientHeight) el.scrollTop = row.top + row.height - el.clientHeight;
    setScrollTop(el.scrollTop);
  }, [layout]);

  // Coming back from the photo view: keep the photo that was open in sight and
  // focused. Only when focusId changes, not when the timeline reloads.
  const handled = useRef<number | null | undefined>(undefined);
  useEffect(() => {
    if (focusId == null || handled.current === focusId) {
      handled.current = focusId;
      return;
    }
    handled.current = focusId;
    const index = items.findIndex((it) => it.id === focusId);
    if (index < 0) return;
    setFocus(index);
    reveal(index);
    wantFocus.current = true;
  }, [focusId, items, reveal]);

  useLayoutEffect(() => {
    if (!wantFocus.current || focus < 0) return;
    const el = scroller.current?.querySelector<HTMLElement>(`[data-index="${focus}"]`);
    if (el) {
      el.focus({ preventScroll: true });
      wantFocus.current = false;
    }
  });

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === 'Enter' && focus >= 0) {
      e.preventDefault();
      onOpen(focus);
      return;
    }
    const pageRows = Math.max(1, Math.floor((size.height || 600) / (layout.cell + layout.gap)));
    const next = moveFocus(layout, focus, e.key, pageRows, items.length);
    if (next === focus && focus >= 0) return;
    if (!['ArrowRight', 'ArrowLeft', 'ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End'].includes(e.key)) return;
    e.preventDefault();
    setFocus(next);
    reveal(next);
    wantFocus.current = true;
  };

  // The month at the top of the viewport, shown over the grid while scrolling.
  let current = '';
  for (let r = rowAt(layout.rows, scrollTop); r >= 0; r--) {
    const row = layout.rows[r];
    if (row?.kind === 'header') {
      current = row.label;
      break;
    }
  }

  const rows: Row[] = layout.rows.slice(first, last);
  const tabbable = focus >= 0 ? focus : 0;
  return (
    <div className="grid-wrap">
      {scrollTop > 8 && current && <div className="grid-current-month" aria-hidden="true">{current}</div>}
      <div
        className="grid-scroller"
        ref={scroller}
        onScroll={onScroll}
        onKeyDown={onKeyDown}
        data-testid="library-grid"
        data-count={items.length}
        role="grid"
        tabIndex={0}
        aria-label={`Library, ${plural(items.length, 'photo')}`}
        aria-rowcount={layout.rows.length}
      >
        <div className="grid-spacer" style={{ height: layout.height }}>
          {rows.map((row, i) => {
            const rowIndex = first + i;
            if (row.kind === 'header') {
              return (
                <div key={`h${rowIndex}`} className="grid-header" role="row" aria-rowindex={rowIndex + 1} style={{ transform: `translateY(${row.top}px)`, height: row.height }}>
                  <h2 role="columnheader" data-testid="grid-month">{row.label}</h2>
                  <span className="muted">{plural(row.count, 'photo')}</span>
                </div>
              );
            }
            return (
              <div
                key={`r${rowIndex}`}
                className="grid-row"
                role="row"
                aria-rowindex={rowIndex + 1}
                style={{ transform: `translateY(${row.top}px)`, gridTemplateColumns: `repeat(${layout.columns}, ${layout.cell}px)`, gap: layout.gap, height: layout.cell }}
              >
                {items.slice(row.start, row.end).map((item, k) => {
                  const index = row.start + k;
                  const why = item.failed ? `could not be indexed: ${item.failed.message}` : null;
                  return (
                    <button
                      key={item.id}
                      type="button"
                      role="gridcell"
                      className={`grid-cell${index === focus ? ' focused' : ''}${why ? ' failed' : ''}`}
                      data-testid="grid-photo"
                      data-photo-id={item.id}
                      data-index={index}
                      tabIndex={index === tabbable ? 0 : -1}
                      data-failed={item.failed?.code}
                      title={why ? `${formatDate(item.takenAt)} — ${why}` : formatDate(item.takenAt)}
                      aria-label={`Photo, ${formatDate(item.takenAt)}${why ? `, ${why}` : ''}`}
                      onFocus={() => setFocus(index)}
                      onClick={() => onOpen(index)}
                    >
                      <Thumb id={item.id} />
                      {item.failed && <span className="cell-failed" data-testid="grid-failed" aria-hidden="true">!</span>}
                    </button>
                  );
                })}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function Thumb({ id }: { id: number }) {
  const [broken, setBroken] = useState(false);
  if (broken) return <span className="thumb-broken" aria-hidden="true">?</span>;
  return <img className="thumb" src={api().thumbUrl(id)} alt="" loading="lazy" decoding="async" draggable={false} onError={() => setBroken(true)} />;
}
