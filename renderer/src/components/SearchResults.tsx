// Search results, best first, each with its similarity score. Up/Down move between
// results, Enter opens one. Errors (nothing indexed yet, bad dates…) say what to do.
// When nothing matches well (gibberish, unknown key words, a best score under the
// pack's calibrated threshold) that is said first, and the nearest photos are listed
// under that label instead of as a confident list.
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { api, describeError, GlimpseError, type Results } from '../api.ts';
import { formatDate, shortPath } from '../format.ts';
import { Banner } from './Banner.tsx';
import type { SearchQuery } from './SearchBar.tsx';

type Found = Results['search'];

interface Props {
  query: SearchQuery & { nonce: number };
  folderName(id: number): string | undefined;
  onOpen(ids: number[], index: number): void;
  onShowIndexing(): void;
  /** The query's words the model does not know (shown beside the search box). */
  onUnknownWords?(words: string[]): void;
}

export function SearchResults({ query, folderName, onOpen, onShowIndexing, onUnknownWords }: Props) {
  const [found, setFound] = useState<Found | null>(null);
  const hits = found?.hits ?? null;
  const [error, setError] = useState<{ code: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const list = useRef<HTMLOListElement>(null);

  useEffect(() => {
    let live = true;
    setBusy(true);
    setError(null);
    // A bare date as "to" covers that whole day (the library's rule).
    const input = {
      text: query.text,
      limit: 50,
      ...(query.folderId !== undefined ? { folderId: query.folderId } : {}),
      ...(query.from ? { from: query.from } : {}),
      ...(query.to ? { to: query.to } : {}),
    };
    api().call('search', input).then(
      (r) => {
        if (!live) return;
        setFound(r);
        onUnknownWords?.(r.unknownWords);
      },
      (err) => {
        if (!live) return;
        setFound(null);
        onUnknownWords?.([]);
        setError({ code: err instanceof GlimpseError ? err.code : 'internal', message: describeError(err) });
      },
    ).finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [query, onUnknownWords]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const items = [...(list.current?.querySelectorAll<HTMLElement>('[data-testid="search-result"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const next = items[Math.max(0, Math.min(items.length - 1, at + (e.key === 'ArrowDown' ? 1 : -1)))];
    if (next) {
      e.preventDefault();
      next.focus();
    }
  };

  const filters = [
    query.folderId !== undefined ? `in ${folderName(query.folderId) ?? 'one folder'}` : '',
    query.from ? `from ${formatDate(query.from)}` : '',
    query.to ? `to ${formatDate(query.to)}` : '',
  ].filter(Boolean).join(', ');

  return (
    <section className="results" data-testid="search-results" aria-busy={busy} aria-labelledby="results-title">
      <header className="results-header">
        <h1 id="results-title">
          Results for <q>{query.text}</q>
        </h1>
        {filters && <span className="muted">{filters}</span>}
        {busy && <span className="spinner" aria-label="Searching" />}
      </header>

      {error && (
        error.code === 'nothing-indexed' ? (
          <Banner kind="warning" title="No photos are indexed yet" testId="search-error" action={<button className="button small" onClick={onShowIndexing}>Show indexing</button>}>
            Glimpse can search once it has read some photos. Add a folder (or the sample photos) and wait for indexing to finish.
          </Banner>
        ) : (
          <Banner title={error.code === 'invalid-input' ? 'That search cannot be run' : 'Search failed'} testId="search-error">
            {error.message}
          </Banner>
        )
      )}

      {hits && hits.length === 0 && !error && (
        <p className="empty-note" data-testid="search-empty">No photos match{filters ? ' with these filters' : ''}. Try other words, or widen the filters.</p>
      )}

      {found && !found.goodMatch && hits && hits.length > 0 && (
        <div className="no-match" data-testid="search-no-match" role="status">
          <strong>No good match.</strong>{' '}
          {found.unknownWords.length > 0
            ? <>The model does not know {found.unknownWords.map((w) => `“${w}”`).join(', ')}, so these photos cannot be about {found.unknownWords.length === 1 ? 'it' : 'them'}.</>
            : <>Nothing in your photos is close to this description.</>}
          {' '}The nearest photos:
        </div>
      )}

      {hits && hits.length > 0 && (
        <ol className={`result-list${found?.goodMatch ? '' : ' weak'}`} data-good-match={found?.goodMatch ? 'true' : 'false'} ref={list} onKeyDown={onKeyDown}>
          {hits.map((hit, i) => (
            <li key={hit.photoId}>
              <button
                type="button"
                className="result"
                data-testid="search-result"
                data-photo-id={hit.photoId}
                data-path={hit.path}
                data-score={hit.score}
                title={hit.path}
                onClick={() => onOpen(hits.map((h) => h.photoId), i)}
              >
                <span className="result-rank">{i + 1}</span>
                <img className="result-thumb" src={api().thumbUrl(hit.photoId)} alt="" loading="lazy" decoding="async" />
                <span className="result-text">
                  <span className="result-path">{shortPath(hit.path, 2)}</span>
                  <span className="muted">{formatDate(hit.takenAt)}</span>
                </span>
                <span className="result-score" data-testid="search-score" aria-label={`score ${hit.score.toFixed(3)}`}>
                  <span className="score-bar" aria-hidden="true">
                    <span className="score-fill" style={{ width: `${Math.round(Math.max(0, Math.min(1, hit.score)) * 100)}%` }} />
                  </span>
                  <span className="score-value">{hit.score.toFixed(3)}</span>
                </span>
              </button>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
