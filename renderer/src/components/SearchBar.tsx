// The search bar: free text, and filters by folder and date range.
import { useEffect, useState, type FormEvent, type RefObject } from 'react';
import type { Folder } from '../useLibrary.ts';

export interface SearchQuery { text: string; folderId?: number; from?: string; to?: string }

interface Props {
  folders: Folder[];
  inputRef: RefObject<HTMLInputElement | null>;
  onSearch(query: SearchQuery): void;
  onClear(): void;
  active: boolean;
  /** Words of the last search the model does not know: shown beside the box, since they were not searched for. */
  unknownWords?: readonly string[];
}

export function SearchBar({ folders, inputRef, onSearch, onClear, active, unknownWords = [] }: Props) {
  const [text, setText] = useState('');
  const [folderId, setFolderId] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [showFilters, setShowFilters] = useState(false);

  // A removed folder cannot stay selected.
  useEffect(() => {
    if (folderId && !folders.some((f) => String(f.id) === folderId)) setFolderId('');
  }, [folders, folderId]);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (!text.trim()) {
      inputRef.current?.focus();
      return;
    }
    onSearch({
      text,
      ...(folderId ? { folderId: Number(folderId) } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
    });
  };
  const filtered = Boolean(folderId || from || to);

  return (
    <form className="search" role="search" onSubmit={submit} data-testid="search-form">
      <div className="search-main">
        <span className="search-icon" aria-hidden="true">⌕</span>
        <input
          ref={inputRef}
          className="search-input"
          data-testid="search-input"
          type="search"
          placeholder="Search by description — “a red star on a beach”   ( / )"
          aria-label="Search photos by description"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.preventDefault();
              if (text) setText('');
              else onClear();
              if (!text) e.currentTarget.blur();
            }
          }}
        />
        {unknownWords.length > 0 && (
          <span className="unknown-words" data-testid="search-unknown-words" role="status" title="The model does not know these words, so they were not part of the search">
            Unknown: {unknownWords.join(', ')}
          </span>
        )}
        <button
          type="button"
          className={`button ghost small${filtered ? ' badge-dot' : ''}`}
          aria-expanded={showFilters}
          aria-controls="search-filters"
          data-testid="search-filters-toggle"
          onClick={() => setShowFilters((v) => !v)}
        >
          Filters
        </button>
        <button type="submit" className="button primary small" data-testid="search-submit">Search</button>
        {active && (
          <button type="button" className="button ghost small" onClick={onClear} data-testid="search-clear">
            Clear
          </button>
        )}
      </div>
      {showFilters && (
        <div className="search-filters" id="search-filters" data-testid="search-filters">
          <label>
            <span>Folder</span>
            <select className="input" value={folderId} onChange={(e) => setFolderId(e.target.value)} data-testid="search-folder">
              <option value="">All folders</option>
              {folders.map((f) => (
                <option key={f.id} value={String(f.id)}>{f.path}</option>
              ))}
            </select>
          </label>
          <label>
            <span>From</span>
            <input className="input" type="date" value={from} max={to || undefined} onChange={(e) => setFrom(e.target.value)} data-testid="search-from" />
          </label>
          <label>
            <span>To</span>
            <input className="input" type="date" value={to} min={from || undefined} onChange={(e) => setTo(e.target.value)} data-testid="search-to" />
          </label>
          {filtered && (
            <button type="button" className="button ghost small" onClick={() => { setFolderId(''); setFrom(''); setTo(''); }}>
              Reset filters
            </button>
          )}
        </div>
      )}
    </form>
  );
}
