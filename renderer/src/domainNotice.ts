// The active pack's "this model only understands …" notice, said once when the user
// adds their own folder (the library decides; addFolder's result carries it). The
// folder can be added from three places (first run, an empty grid, Settings), so the
// form publishes it here and the app's frame shows it until dismissed.
import { useEffect, useState } from 'react';

const listeners = new Set<(notice: string | null) => void>();

export function publishDomainNotice(notice: string | null): void {
  if (notice) for (const listener of listeners) listener(notice);
}

/** The notice to show (null when none) and how to dismiss it. */
export function useDomainNotice(): [string | null, () => void] {
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    listeners.add(setNotice);
    return () => {
      listeners.delete(setNotice);
    };
  }, []);
  return [notice, () => setNotice(null)];
}
