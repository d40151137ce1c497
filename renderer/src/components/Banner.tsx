// A message that stands out: an error (role=alert, read out at once) or a note.
import type { ReactNode } from 'react';

export function Banner({ kind = 'error', title, children, action, testId }: { kind?: 'error' | 'info' | 'warning'; title?: string; children: ReactNode; action?: ReactNode; testId?: string }) {
  return (
    <div className={`banner banner-${kind}`} role={kind === 'error' ? 'alert' : 'status'} data-testid={testId}>
      <span className="banner-icon" aria-hidden="true">{kind === 'error' ? '!' : kind === 'warning' ? '⚠' : 'i'}</span>
      <div className="banner-body">
        {title && <strong className="banner-title">{title}</strong>}
        <div>{children}</div>
      </div>
      {action && <div className="banner-action">{action}</div>}
    </div>
  );
}
