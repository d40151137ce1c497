// First run: no folders yet. Add one by path, or try the bundled sample photos
// (the shapes world the bundled model knows).
import { useState } from 'react';
import { api, describeError } from '../api.ts';
import { AddFolderForm } from './AddFolderForm.tsx';

export function EmptyState({ onAdded }: { onAdded: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const trySamples = async () => {
    setBusy(true);
    setError(null);
    try {
      await api().call('addSamples', {});
      onAdded();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="empty-state" data-testid="empty-state" aria-labelledby="empty-title">
      <div className="empty-art" aria-hidden="true">
        <span className="shape circle" />
        <span className="shape star">★</span>
        <span className="shape sign">7</span>
      </div>
      <h1 id="empty-title">Welcome to Glimpse</h1>
      <p className="lede">
        Glimpse reads each photo once, keeps a few tokens of it, and then finds photos by what they show, writes captions and answers
        questions — all on this computer.
      </p>
      <div className="empty-actions">
        <div className="card">
          <h2>Add a folder</h2>
          <p className="muted">Photos in it and its subfolders are indexed, and changes are picked up as they happen.</p>
          <AddFolderForm onAdded={onAdded} autoFocus />
        </div>
        <div className="card">
          <h2>Try sample photos</h2>
          <p className="muted">A small library of generated scenes — coloured shapes and numbered signs in meadows, beaches, snow, deserts and at night.</p>
          <button className="button" onClick={trySamples} disabled={busy} data-testid="try-samples">
            {busy ? 'Making sample photos…' : 'Try sample photos'}
          </button>
          {error && <p className="field-error" role="alert" data-testid="samples-error">{error}</p>}
        </div>
      </div>
    </section>
  );
}
