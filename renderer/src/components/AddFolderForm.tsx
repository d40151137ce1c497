// Adding a folder by its path. Browser mode has no native folder picker, so the
// path is typed; the library checks it and says clearly when it is not a folder.
import { useState, type FormEvent } from 'react';
import { api, describeError, type Results } from '../api.ts';
import { publishDomainNotice } from '../domainNotice.ts';

export function AddFolderForm({ onAdded, autoFocus = false }: { onAdded?: (folder: Results['addFolder']) => void; autoFocus?: boolean }) {
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const value = path.trim();
    if (!value) {
      setError('Type the full path of a folder, for example /home/me/Pictures.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const folder = await api().call('addFolder', { path: value });
      setPath('');
      publishDomainNotice(folder.notice);
      onAdded?.(folder);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="add-folder" onSubmit={submit} data-testid="add-folder-form">
      <label className="field-label" htmlFor="add-folder-path">Folder path</label>
      <div className="input-row">
        <input
          id="add-folder-path"
          className="input"
          data-testid="add-folder-input"
          type="text"
          spellCheck={false}
          autoComplete="off"
          placeholder="/home/me/Pictures"
          value={path}
          autoFocus={autoFocus}
          aria-invalid={error !== null}
          aria-describedby={error ? 'add-folder-error' : undefined}
          onChange={(e) => {
            setPath(e.target.value);
            setError(null);
          }}
        />
        <button className="button primary" type="submit" disabled={busy} data-testid="add-folder-submit">
          {busy ? 'Adding…' : 'Add folder'}
        </button>
      </div>
      {error && (
        <p className="field-error" id="add-folder-error" role="alert" data-testid="add-folder-error">
          {error}
        </p>
      )}
    </form>
  );
}
