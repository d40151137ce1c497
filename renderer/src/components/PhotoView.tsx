// One photo, full size, with its caption, questions and the token budget.
// Escape closes; Left/Right (outside text fields) move through the list it was
// opened from (the grid or the search results).
import { useEffect, useRef, useState } from 'react';
import { api, describeError, type Results } from '../api.ts';
import { formatDate } from '../format.ts';
import { AskPanel } from './AskPanel.tsx';
import { BudgetControl } from './BudgetControl.tsx';
import { CaptionPanel } from './CaptionPanel.tsx';

interface Props {
  ids: number[];
  index: number;
  budgets: number[];
  budget: number;
  onBudget(b: number): void;
  onIndex(i: number): void;
  onClose(): void;
}

const typing = (el: EventTarget | null) => el instanceof HTMLElement && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));

export function PhotoView({ ids, index, budgets, budget, onBudget, onIndex, onClose }: Props) {
  const id = ids[index] as number;
  const [info, setInfo] = useState<Results['photo'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fallback, setFallback] = useState(false);
  const dialog = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let live = true;
    setInfo(null);
    setError(null);
    setFallback(false);
    api().call('photo', { id }).then((p) => live && setInfo(p), (err) => live && setError(describeError(err)));
    return () => {
      live = false;
    };
  }, [id]);

  useEffect(() => {
    dialog.current?.focus();
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        onClose();
      } else if (!typing(e.target) && !e.altKey && !e.ctrlKey && !e.metaKey) {
        if (e.key === 'ArrowRight' && index < ids.length - 1) {
          e.preventDefault();
          onIndex(index + 1);
        } else if (e.key === 'ArrowLeft' && index > 0) {
          e.preventDefault();
          onIndex(index - 1);
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [index, ids.length, onClose, onIndex]);

  const file = info?.paths[0] ?? '';
  const name = file.split(/[\\/]/).pop() ?? '';
  return (
    <div className="viewer-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="viewer" role="dialog" aria-modal="true" aria-label={name ? `Photo ${name}` : 'Photo'} tabIndex={-1} ref={dialog} data-testid="photo-view" data-photo-id={id} data-path={file}>
        <div className="viewer-image">
          <img
            key={id}
            src={fallback ? api().thumbUrl(id) : api().photoUrl(id)}
            alt={name}
            data-testid="photo-image"
            onError={() => setFallback(true)}
          />
          <button type="button" className="nav prev" onClick={() => onIndex(index - 1)} disabled={index === 0} aria-label="Previous photo (←)">‹</button>
          <button type="button" className="nav next" onClick={() => onIndex(index + 1)} disabled={index >= ids.length - 1} aria-label="Next photo (→)">›</button>
          <span className="viewer-count">{index + 1} / {ids.length}</span>
        </div>
        <aside className="viewer-side">
          <header className="viewer-header">
            <div>
              <h2 className="viewer-title" title={file}>{name || '…'}</h2>
              <p className="muted small">
                {info ? formatDate(info.takenAt) : ''}
                {info?.width && info.height ? ` · ${info.width}×${info.height}` : ''}
                {info && !info.indexed ? ' · not indexed yet' : ''}
              </p>
            </div>
            <button type="button" className="button ghost icon" onClick={onClose} aria-label="Close (Esc)" data-testid="photo-close">✕</button>
          </header>
          {error && <p className="field-error" role="alert">{error}</p>}
          {file && <p className="viewer-path muted small" data-testid="photo-path">{file}</p>}
          <BudgetControl budgets={budgets} value={budget} onChange={onBudget} />
          <CaptionPanel id={id} budget={budget} />
          <AskPanel id={id} budget={budget} />
        </aside>
      </div>
    </div>
  );
}
