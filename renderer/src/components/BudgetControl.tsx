// How many of a photo's cached tokens captions and answers read: fewer is faster,
// more is more detailed. A row of radio buttons; arrow keys move between them.
import type { KeyboardEvent } from 'react';

export function BudgetControl({ budgets, value, onChange }: { budgets: number[]; value: number; onChange(b: number): void }) {
  const onKeyDown = (e: KeyboardEvent) => {
    const at = budgets.indexOf(value);
    const step = e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : 0;
    if (!step) return;
    // Arrows here change the budget, not the photo.
    e.preventDefault();
    e.stopPropagation();
    const next = budgets[Math.max(0, Math.min(budgets.length - 1, at + step))];
    if (next !== undefined && next !== value) {
      onChange(next);
      (e.currentTarget.querySelector(`[data-budget="${next}"]`) as HTMLElement | null)?.focus();
    }
  };
  return (
    <div className="budget" data-testid="budget-control">
      <div className="budget-label" id="budget-label">
        Token budget <span className="muted">({value} {value === 1 ? 'token' : 'tokens'})</span>
      </div>
      <div className="budget-scale">
        <span className="muted small">faster</span>
        <div className="segmented" role="radiogroup" aria-labelledby="budget-label" onKeyDown={onKeyDown}>
          {budgets.map((b) => (
            <button
              key={b}
              type="button"
              role="radio"
              aria-checked={b === value}
              tabIndex={b === value ? 0 : -1}
              className={b === value ? 'selected' : ''}
              data-testid="budget-option"
              data-budget={b}
              onClick={() => onChange(b)}
            >
              {b}
            </button>
          ))}
        </div>
        <span className="muted small">more detailed</span>
      </div>
    </div>
  );
}
