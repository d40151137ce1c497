// The photo's caption, streamed as it is generated (or at once when the server has
// it cached for this budget).
import { useEffect, useState } from 'react';
import { api, describeError, GlimpseError, isAbort } from '../api.ts';

type State = { kind: 'streaming'; text: string } | { kind: 'done'; text: string } | { kind: 'error'; code: string; message: string };

export function CaptionPanel({ id, budget }: { id: number; budget: number }) {
  const [state, setState] = useState<State>({ kind: 'streaming', text: '' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    setState({ kind: 'streaming', text: '' });
    api().stream('caption', { id, budget }, (t) => setState((s) => (s.kind === 'streaming' ? { kind: 'streaming', text: s.text + t } : s)), abort.signal).then(
      (r) => setState({ kind: 'done', text: r.text }),
      (err) => {
        if (isAbort(err)) return;
        setState({ kind: 'error', code: err instanceof GlimpseError ? err.code : 'internal', message: describeError(err) });
      },
    );
    return () => abort.abort();
  }, [id, budget, attempt]);

  return (
    <section className="caption" aria-labelledby="caption-title">
      <h3 id="caption-title" className="section-title">Caption</h3>
      {state.kind === 'error' ? (
        <div className="caption-error" role="alert" data-testid="caption-error" data-code={state.code}>
          <p>{state.code === 'not-indexed' ? 'This photo has not been indexed yet, so it has no caption. ' : ''}{state.message}</p>
          <button type="button" className="button small" onClick={() => setAttempt((a) => a + 1)}>Try again</button>
        </div>
      ) : (
        <p className="caption-text" data-testid="photo-caption" data-state={state.kind} aria-live="polite" aria-busy={state.kind === 'streaming'}>
          {state.text}
          {state.kind === 'streaming' && <span className="cursor" aria-hidden="true" />}
          {state.kind === 'streaming' && state.text === '' && <span className="muted">Writing a caption…</span>}
        </p>
      )}
    </section>
  );
}
