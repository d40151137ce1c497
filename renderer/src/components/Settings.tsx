// Settings: the folders Glimpse watches, the model packs it found, and how the
// engine runs (execution provider, threads). Also the theme.
import { useEffect, useState } from 'react';
import { api, describeError, type Results } from '../api.ts';
import { formatBytes, formatRate, plural } from '../format.ts';
import type { ThemeChoice } from '../theme.ts';
import type { Status } from '../useLibrary.ts';
import { AddFolderForm } from './AddFolderForm.tsx';
import { Banner } from './Banner.tsx';

type Packs = Results['packs'];
type EngineInfo = Results['engineInfo'];

interface Props {
  status: Status | null;
  engine: EngineInfo | null;
  engineError: string | null;
  theme: ThemeChoice;
  onTheme(t: ThemeChoice): void;
  onChanged(): void;
}

export function Settings({ status, engine, engineError, theme, onTheme, onChanged }: Props) {
  const [packs, setPacks] = useState<Packs | null>(null);
  const [packsError, setPacksError] = useState<string | null>(null);
  const [folderError, setFolderError] = useState<string | null>(null);
  const [removing, setRemoving] = useState<number | null>(null);

  useEffect(() => {
    api().call('packs', {}).then(setPacks, (err) => setPacksError(describeError(err)));
  }, []);

  const remove = async (id: number, path: string) => {
    if (!window.confirm(`Stop watching ${path}?\n\nIts photos leave the library; the files themselves are not touched.`)) return;
    setRemoving(id);
    setFolderError(null);
    try {
      await api().call('removeFolder', { id });
      onChanged();
    } catch (err) {
      setFolderError(describeError(err));
    } finally {
      setRemoving(null);
    }
  };

  return (
    <section className="panel settings" data-testid="settings" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>

      <h2>Folders</h2>
      {folderError && <Banner>{folderError}</Banner>}
      <div className="card">
        {status && status.folders.length === 0 && <p className="muted">No folders yet.</p>}
        <ul className="folder-list" data-testid="folder-list">
          {status?.folders.map((f) => (
            <li key={f.id} className="folder-item" data-testid="folder-item" data-path={f.path}>
              <span className="folder-path" title={f.path}>{f.path}</span>
              <span className="muted small">{f.available ? plural(f.files, 'file') : 'not available (unplugged or moved?)'}</span>
              <button type="button" className="button ghost small danger" onClick={() => remove(f.id, f.path)} disabled={removing === f.id} data-testid="folder-remove">
                Remove
              </button>
            </li>
          ))}
        </ul>
        <AddFolderForm onAdded={onChanged} />
      </div>

      <h2>Model packs</h2>
      {packsError && <Banner>{packsError}</Banner>}
      <ul className="pack-list" data-testid="pack-list">
        {packs?.map((p) => (
          <li key={p.dir} className={`card pack${p.active ? ' active' : ''}${p.error ? ' broken' : ''}`} data-testid="pack-item" data-pack={p.id} data-active={p.active}>
            <div className="pack-head">
              <strong>{p.id}</strong>
              {p.active && <span className="tag ok">in use</span>}
              {p.error && <span className="tag bad">cannot be used</span>}
            </div>
            {p.description && <p>{p.description}</p>}
            <p className="muted small mono">{p.dir}</p>
            {p.error && <p className="field-error" data-testid="pack-error">{p.error}</p>}
          </li>
        ))}
      </ul>

      <h2>Engine</h2>
      {engineError && <Banner title="The engine did not answer">{engineError}</Banner>}
      {engine && (
        <div className="card" data-testid="engine-info">
          <dl className="stats wide">
            <div><dt>Execution provider</dt><dd data-testid="engine-provider">{engine.provider}</dd></div>
            <div><dt>Threads</dt><dd data-testid="engine-threads">{engine.threads.intraOp} intra-op · {engine.threads.interOp} inter-op{engine.threads.spinning ? ' · spinning' : ''}</dd></div>
            <div><dt>Tokens per photo</dt><dd>{engine.dims.summaryTokens} (budgets {engine.budgets.join(', ')})</dd></div>
            <div><dt>Stored per photo</dt><dd data-testid="engine-bytes-per-photo">{formatBytes(engine.bytesPerPhoto)} ({engine.tokenEncoding})</dd></div>
            <div><dt>Pack size</dt><dd data-testid="pack-bytes">{formatBytes(engine.packBytes)}</dd></div>
            <div><dt>Its cache on disk</dt><dd data-testid="cache-bytes">{formatBytes(engine.cacheBytes)}</dd></div>
            <div><dt>Measured speed</dt><dd data-testid="pack-speed">{engine.photosPerSecond === null ? 'not measured yet' : formatRate(engine.photosPerSecond)}</dd></div>
          </dl>
          {engine.tried.some((t) => t.error) && (
            <details className="tried">
              <summary>Providers tried</summary>
              <ul>
                {engine.tried.map((t) => (
                  <li key={t.provider}><code>{t.provider}</code> {t.error ? <span className="muted">— {t.error}</span> : 'ok'}</li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}

      <h2>Appearance</h2>
      <div className="card">
        <div className="segmented" role="radiogroup" aria-label="Theme">
          {(['system', 'light', 'dark'] as const).map((t) => (
            <button key={t} type="button" role="radio" aria-checked={theme === t} className={theme === t ? 'selected' : ''} onClick={() => onTheme(t)} data-testid={`theme-${t}`}>
              {t === 'system' ? 'Match system' : t === 'light' ? 'Light' : 'Dark'}
            </button>
          ))}
        </div>
      </div>

      {status && <p className="muted small">Library data: <span className="mono">{status.dir}</span></p>}
    </section>
  );
}
