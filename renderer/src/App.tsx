// The app's frame: header (search, views, indexing at a glance, theme), the view
// in use (library grid, search results, indexing, settings; or the first-run
// screen), and the photo view over it. Keyboard: "/" searches, Escape goes back.
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, describeError, type Results } from './api.ts';
import { AddFolderForm } from './components/AddFolderForm.tsx';
import { Banner } from './components/Banner.tsx';
import { EmptyState } from './components/EmptyState.tsx';
import { IndexingPanel, ProgressBar } from './components/IndexingPanel.tsx';
import { LibraryGrid } from './components/LibraryGrid.tsx';
import { PhotoView } from './components/PhotoView.tsx';
import { SearchBar, type SearchQuery } from './components/SearchBar.tsx';
import { SearchResults } from './components/SearchResults.tsx';
import { Settings } from './components/Settings.tsx';
import { useDomainNotice } from './domainNotice.ts';
import { plural } from './format.ts';
import { useTheme } from './theme.ts';
import { useLibrary } from './useLibrary.ts';

type View = 'library' | 'search' | 'indexing' | 'settings';
interface Viewer { ids: number[]; index: number; from: 'library' | 'search' }

const DEFAULT_BUDGETS = [1, 2, 4, 8, 16];
const BUDGET_KEY = 'glimpse.budget';

export function App() {
  const lib = useLibrary();
  const theme = useTheme();
  const [view, setView] = useState<View>('library');
  const [query, setQuery] = useState<(SearchQuery & { nonce: number }) | null>(null);
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [lastOpened, setLastOpened] = useState<number | null>(null);
  const [engine, setEngine] = useState<Results['engineInfo'] | null>(null);
  const [engineError, setEngineError] = useState<string | null>(null);
  const [budget, setBudgetState] = useState<number | null>(() => Number(window.localStorage?.getItem(BUDGET_KEY)) || null);
  const searchInput = useRef<HTMLInputElement>(null);
  const [unknownWords, setUnknownWords] = useState<string[]>([]);
  const [domainNotice, dismissDomainNotice] = useDomainNotice();

  useEffect(() => {
    api().call('engineInfo', {}).then(setEngine, (err) => setEngineError(describeError(err)));
  }, []);

  const budgets = engine?.budgets.length ? engine.budgets : DEFAULT_BUDGETS;
  const effectiveBudget = budget !== null && budgets.includes(budget) ? budget : (engine?.dims.summaryTokens ?? budgets[budgets.length - 1] ?? 16);
  const setBudget = useCallback((b: number) => {
    setBudgetState(b);
    try {
      window.localStorage.setItem(BUDGET_KEY, String(b));
    } catch {
      // Not kept across reloads then.
    }
  }, []);

  // "/" jumps to the search field from anywhere but a text field.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
      if (e.key === '/' && !typing && !viewer) {
        e.preventDefault();
        searchInput.current?.focus();
        searchInput.current?.select();
      } else if (e.key === 'Escape' && !typing && !viewer && view === 'search') {
        setView('library');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [viewer, view]);

  const timeline = lib.timeline ?? [];
  const timelineIds = useMemo(() => timeline.map((t) => t.id), [timeline]);
  const firstRun = lib.folders !== null && lib.folders.length === 0;

  const openFromGrid = useCallback((index: number) => setViewer({ ids: timelineIds, index, from: 'library' }), [timelineIds]);
  const openFromSearch = useCallback((ids: number[], index: number) => setViewer({ ids, index, from: 'search' }), []);
  const closeViewer = useCallback(() => {
    if (viewer) {
      const id = viewer.ids[viewer.index] ?? null;
      setLastOpened(id);
      // Back where the photo was opened from, with that photo focused.
      if (viewer.from === 'search') window.setTimeout(() => document.querySelector<HTMLElement>(`[data-testid="search-result"][data-photo-id="${id}"]`)?.focus(), 0);
    }
    setViewer(null);
  }, [viewer]);
  const moveViewer = useCallback((index: number) => setViewer((v) => (v && index >= 0 && index < v.ids.length ? { ...v, index } : v)), []);

  const search = (q: SearchQuery) => {
    setQuery({ ...q, nonce: Date.now() });
    setView('search');
  };

  const progress = lib.progress;
  const counts = lib.status?.counts;

  let main;
  if (lib.error && !lib.status) {
    main = (
      <div className="panel">
        <Banner title="Glimpse could not load your library" testId="load-error" action={<button className="button small" onClick={lib.reload}>Try again</button>}>
          {lib.error}
        </Banner>
      </div>
    );
  } else if (lib.folders === null) {
    main = <div className="loading"><span className="spinner" /> Loading your library…</div>;
  } else if (view === 'indexing') {
    main = <IndexingPanel progress={progress} status={lib.status} version={lib.version} />;
  } else if (view === 'settings') {
    main = <Settings status={lib.status} engine={engine} engineError={engineError} theme={theme.choice} onTheme={theme.setChoice} onChanged={lib.reload} />;
  } else if (view === 'search' && query) {
    main = (
      <SearchResults
        query={query}
        folderName={(id) => lib.folders?.find((f) => f.id === id)?.path}
        onOpen={openFromSearch}
        onShowIndexing={() => setView('indexing')}
        onUnknownWords={setUnknownWords}
      />
    );
  } else if (firstRun) {
    main = <EmptyState onAdded={lib.reload} />;
  } else if (timeline.length === 0) {
    main = (
      <div className="panel">
        <div className="empty-note card" data-testid="grid-empty">
          {progress?.state === 'running' || lib.status?.folders.some((f) => f.files === 0)
            ? <p><span className="spinner" /> Looking for photos in your folders…</p>
            : <p>No photos found in your folders yet. Add another folder, or check the Indexing page for files that could not be read.</p>}
          <AddFolderForm onAdded={lib.reload} />
        </div>
      </div>
    );
  } else {
    main = <LibraryGrid items={timeline} onOpen={openFromGrid} focusId={viewer ? null : lastOpened} />;
  }

  const tab = (v: View, label: string, extra?: ReactNode) => (
    <button
      type="button"
      className={`tab${view === v || (v === 'library' && view === 'search') ? ' active' : ''}`}
      aria-current={view === v ? 'page' : undefined}
      onClick={() => setView(v)}
      data-testid={`nav-${v}`}
    >
      {label}
      {extra}
    </button>
  );

  return (
    <div className="app" data-theme-effective={theme.effective}>
      <header className="topbar" inert={viewer ? true : undefined}>
        <div className="brand" aria-label="Glimpse">
          <span className="logo" aria-hidden="true" />
          <span>Glimpse</span>
        </div>
        <SearchBar
          folders={lib.folders ?? []}
          inputRef={searchInput}
          onSearch={search}
          onClear={() => setView('library')}
          active={view === 'search'}
          unknownWords={view === 'search' ? unknownWords : []}
        />
        <nav className="tabs" aria-label="Views">
          {tab('library', 'Library', counts ? <span className="tab-count">{counts.photos.toLocaleString('en')}</span> : null)}
          {tab('indexing', 'Indexing', progress && progress.state !== 'idle' ? (
            <span className="tab-progress" data-testid="indexing-badge">
              <ProgressBar progress={progress} status={lib.status} compact />
              {progress.state === 'paused' ? 'paused' : `${progress.done}/${progress.total}`}
            </span>
          ) : counts && counts.failed > 0 ? <span className="tab-count warn" title={`${plural(counts.failed, 'file')} failed`}>{counts.failed}</span> : null)}
          {tab('settings', 'Settings')}
        </nav>
        <button
          type="button"
          className="button ghost icon theme-toggle"
          onClick={theme.toggle}
          aria-label={theme.effective === 'dark' ? 'Switch to the light theme' : 'Switch to the dark theme'}
          title={theme.effective === 'dark' ? 'Light theme' : 'Dark theme'}
          data-testid="theme-toggle"
        >
          {theme.effective === 'dark' ? '☀' : '☾'}
        </button>
      </header>

      {!lib.connected && (
        <div className="connection" role="status" data-testid="connection-lost">
          Lost the connection to Glimpse — reconnecting… Live updates and answers resume once it is back.
        </div>
      )}

      {lib.status?.packIssue && (
        <Banner kind="warning" title={`Model pack "${lib.status.packIssue.pack}" is broken`} testId="pack-issue">
          {lib.status.packIssue.error} Glimpse is using "{lib.status.packIssue.usingInstead}" instead until it is repaired or reinstalled.
        </Banner>
      )}

      {domainNotice && (
        <Banner kind="warning" title="This model does not understand your photos" testId="domain-notice"
          action={<button className="button small" onClick={dismissDomainNotice} data-testid="domain-notice-dismiss">Got it</button>}>
          {domainNotice}
        </Banner>
      )}

      {progress?.problem && view !== 'indexing' && (
        <Banner kind="warning" title="Indexing paused" testId="indexing-problem-banner"
          action={<button type="button" className="button small" onClick={() => setView('indexing')}>Show</button>}>
          {progress.problem}
        </Banner>
      )}

      <main className="main" inert={viewer ? true : undefined}>{main}</main>

      {viewer && viewer.ids.length > 0 && (
        <PhotoView
          ids={viewer.ids}
          index={viewer.index}
          budgets={budgets}
          budget={effectiveBudget}
          onBudget={setBudget}
          onIndex={moveViewer}
          onClose={closeViewer}
        />
      )}
    </div>
  );
}
