// Indexing: how far it is (done/total, rate, time left), pause and resume, and
// every file that could not be read, with the reason.
import { useEffect, useState } from 'react';
import { api, describeError, type Results } from '../api.ts';
import { formatEta, formatRate, plural } from '../format.ts';
import type { Progress, Status } from '../useLibrary.ts';
import { Banner } from './Banner.tsx';

type Failure = Results['errors'][number];

export function ProgressBar({ progress, status, compact = false }: { progress: Progress; status: Status | null; compact?: boolean }) {
  const running = progress.state !== 'idle';
  // While indexing: this run's done/total. At rest: the whole library (photos read, or failed, of all photos).
  const done = running ? progress.done : status ? status.counts.photos - status.counts.pending : 0;
  const total = running ? progress.total : status?.counts.photos ?? 0;
  const pct = total > 0 ? Math.min(100, (done / total) * 100) : running ? 0 : 100;
  return (
    <div
      className={`progress${compact ? ' compact' : ''} state-${progress.state}`}
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={total}
      aria-valuenow={done}
      aria-label="Indexing progress"
      data-testid={compact ? 'indexing-badge-bar' : 'indexing-progress'}
      data-state={progress.state}
      data-done={done}
      data-total={total}
    >
      <span className="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

/** The message without the path it repeats: "broken.jpg is not an image (it is text)". */
function reason(f: Failure): string {
  const name = f.path.split(/[\\/]/).pop() ?? f.path;
  return f.message.split(f.path).join(name);
}

export function IndexingPanel({ progress, status, version }: { progress: Progress | null; status: Status | null; version: number }) {
  const [failures, setFailures] = useState<Failure[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const failedCount = status?.counts.failed ?? 0;
  useEffect(() => {
    let live = true;
    api().call('errors', {}).then((r) => live && setFailures(r), (err) => live && setError(describeError(err)));
    return () => {
      live = false;
    };
  }, [version, failedCount, progress?.failed]);

  if (!progress) return <p className="muted">Loading…</p>;

  const act = (method: 'resumeIndexing' | 'pauseIndexing' | 'retryFailed') => async () => {
    setBusy(true);
    setError(null);
    try {
      await api().call(method, {});
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  const toggle = act(progress.state === 'paused' ? 'resumeIndexing' : 'pauseIndexing');
  const retry = act('retryFailed');

  const counts = status?.counts;
  const running = progress.state === 'running';
  return (
    <section className="panel" data-testid="indexing-panel" aria-labelledby="indexing-title">
      <h1 id="indexing-title">Indexing</h1>
      <p className="muted">
        Each photo is read once by the model and kept as a few tokens; search, captions and answers then work from those tokens.
      </p>
      {error && <Banner>{error}</Banner>}
      {progress.problem && (
        <Banner kind="warning" title="Indexing paused" testId="indexing-problem"
          action={<button type="button" className="button small" onClick={retry} disabled={busy} data-testid="retry-indexing">Retry</button>}>
          {progress.problem}
        </Banner>
      )}
      <div className="card">
        <div className="progress-head">
          <strong data-testid="indexing-state">
            {progress.state === 'paused' ? 'Paused' : running ? 'Indexing…' : counts && counts.pending === 0 ? 'Up to date' : 'Waiting'}
          </strong>
          <span data-testid="indexing-count">
            {running || progress.state === 'paused'
              ? `${progress.done.toLocaleString('en')} / ${progress.total.toLocaleString('en')}`
              : counts ? `${counts.indexed.toLocaleString('en')} of ${plural(counts.photos, 'photo')} indexed` : ''}
          </span>
        </div>
        <ProgressBar progress={progress} status={status} />
        <dl className="stats">
          <div><dt>Rate</dt><dd data-testid="indexing-rate">{running ? formatRate(progress.rate) : '—'}</dd></div>
          {/* From the rate measured with this pack, also before this session's first batch (a paused or waiting queue). */}
          <div><dt>Time left</dt><dd data-testid="indexing-eta">{running || (counts?.pending ?? 0) > 0 ? formatEta(progress.etaSeconds) : '—'}</dd></div>
          <div><dt>Indexed</dt><dd>{counts?.indexed.toLocaleString('en') ?? '—'}</dd></div>
          <div><dt>Waiting</dt><dd>{(progress.state !== 'idle' ? progress.total - progress.done : counts?.pending)?.toLocaleString('en') ?? '—'}</dd></div>
          <div><dt>Failed</dt><dd data-testid="indexing-failed">{counts?.failed.toLocaleString('en') ?? '—'}</dd></div>
        </dl>
        {progress.current && running && <p className="muted small current-file" title={progress.current}>Reading {progress.current}</p>}
        <div className="row">
          <button
            type="button"
            className="button"
            onClick={toggle}
            disabled={busy}
            data-testid={progress.state === 'paused' ? 'resume-indexing' : 'pause-indexing'}
          >
            {progress.state === 'paused' ? 'Resume indexing' : 'Pause indexing'}
          </button>
          <span className="muted small">Model pack: {progress.packId}</span>
        </div>
      </div>

      <div className="row">
        <h2>Files that could not be indexed</h2>
        {failures !== null && failures.length > 0 && (
          <button type="button" className="button small" onClick={retry} disabled={busy} data-testid="retry-failed"
            title="Read every failed file again (after fixing permissions, a drive, or the model pack)">
            Retry
          </button>
        )}
      </div>
      {failures === null ? (
        <p className="muted">Loading…</p>
      ) : failures.length === 0 ? (
        <p className="muted" data-testid="failed-none">None — every file found so far could be read.</p>
      ) : (
        <ul className="failed-list" data-testid="failed-list">
          {failures.map((f) => (
            <li key={`${f.path}:${f.code}`} className="failed-item" data-testid="failed-item" data-path={f.path} data-code={f.code}>
              <span className="failed-path" title={f.path}>{f.path}</span>
              <span className="failed-reason"><code>{f.code}</code> {reason(f)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
