// Questions about the photo, answered from its cached tokens; answers stream in.
// Earlier questions (the history kept by the library) are shown above.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, describeError, isAbort } from '../api.ts';

interface Exchange { question: string; answer: string; budget: number; state: 'done' | 'streaming' | 'error'; error?: string; unknownWords?: string[] }

const SUGGESTIONS = ['What kind of scene is this?', 'Where was this photo taken?'];

export function AskPanel({ id, budget }: { id: number; budget: number }) {
  const [items, setItems] = useState<Exchange[]>([]);
  const [historyError, setHistoryError] = useState<string | null>(null);
  const [question, setQuestion] = useState('');
  const abort = useRef<AbortController | null>(null);
  const log = useRef<HTMLOListElement>(null);
  const busy = items.some((x) => x.state === 'streaming');

  useEffect(() => {
    let live = true;
    setItems([]);
    setHistoryError(null);
    api().call('history', { id }).then(
      (h) => live && setItems((now) => [...h.map((x) => ({ question: x.question, answer: x.answer, budget: x.budget, state: 'done' as const })), ...now]),
      (err) => live && setHistoryError(describeError(err)),
    );
    return () => {
      live = false;
      abort.current?.abort();
    };
  }, [id]);

  useEffect(() => {
    log.current?.lastElementChild?.scrollIntoView({ block: 'nearest' });
  }, [items]);

  const ask = async (text: string) => {
    const q = text.trim();
    if (!q || busy) return;
    setQuestion('');
    const controller = new AbortController();
    abort.current = controller;
    const update = (f: (x: Exchange) => Exchange) => setItems((all) => all.map((x, i) => (i === all.length - 1 ? f(x) : x)));
    setItems((all) => [...all, { question: q, answer: '', budget, state: 'streaming' }]);
    try {
      const r = await api().stream('ask', { id, question: q, budget }, (t) => update((x) => ({ ...x, answer: x.answer + t })), controller.signal);
      update((x) => ({ ...x, answer: r.answer, state: 'done', unknownWords: r.unknownWords }));
    } catch (err) {
      if (isAbort(err)) update((x) => ({ ...x, state: 'error', error: 'Stopped.' }));
      else update((x) => ({ ...x, state: 'error', error: describeError(err) }));
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void ask(question);
  };

  return (
    <section className="ask" aria-labelledby="ask-title">
      <h3 id="ask-title" className="section-title">Ask about this photo</h3>
      {historyError && <p className="field-error" role="alert">Earlier questions could not be loaded: {historyError}</p>}
      <ol className="qa-log" ref={log} data-testid="qa-log" aria-live="polite">
        {items.map((x, i) => (
          <li key={i} className="qa-item" data-testid="qa-item" data-state={x.state}>
            <p className="qa-question"><span className="qa-who">You</span>{x.question}</p>
            <p className="qa-answer" data-testid="qa-answer">
              <span className="qa-who">Glimpse</span>
              <span className="qa-text" data-testid="qa-answer-text">{x.answer}</span>
              {x.state === 'streaming' && <span className="cursor" aria-hidden="true" />}
              {x.state === 'error' && <span className="field-error" data-testid="qa-error"> {x.error}</span>}
              <span className="qa-budget muted" title="token budget used">{x.budget}t</span>
            </p>
            {x.unknownWords && x.unknownWords.length > 0 && (
              <p className="qa-unknown muted" data-testid="qa-unknown-words">Words the model does not know: {x.unknownWords.join(', ')}</p>
            )}
          </li>
        ))}
      </ol>
      {items.length === 0 && !historyError && (
        <div className="suggestions">
          {SUGGESTIONS.map((s) => (
            <button key={s} type="button" className="chip" onClick={() => void ask(s)}>{s}</button>
          ))}
        </div>
      )}
      <form className="input-row" onSubmit={submit}>
        <input
          className="input"
          data-testid="ask-input"
          placeholder="Ask a question — “What colour is the star?”"
          aria-label="Question about this photo"
          value={question}
          maxLength={500}
          onChange={(e) => setQuestion(e.target.value)}
        />
        {busy ? (
          <button type="button" className="button" onClick={() => abort.current?.abort()} data-testid="ask-stop">Stop</button>
        ) : (
          <button type="submit" className="button primary" disabled={!question.trim()} data-testid="ask-submit">Ask</button>
        )}
      </form>
    </section>
  );
}
