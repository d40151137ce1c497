// The library's state as the views see it: status (counts, indexing, folders), the
// folders, the timeline. Kept fresh by the server's events: `progress` updates the
// indexing numbers at once, `changed` and `idle` reload the rest (debounced, so a
// burst of file events costs one reload).
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, describeError, type Results } from './api.ts';

export type Status = Results['status'];
export type Progress = Status['indexing'];
export type Folder = Results['listFolders'][number];
export type Timeline = Results['timeline'];

export interface LibraryState {
  status: Status | null;
  progress: Progress | null;
  folders: Folder[] | null;
  timeline: Timeline | null;
  /** A failure to load the library's state (not a failure of one action). */
  error: string | null;
  connected: boolean;
  /** Bumped on every reload, for views that keep their own data (the failed files list). */
  version: number;
  reload(): void;
}

export function useLibrary(): LibraryState {
  const [status, setStatus] = useState<Status | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [folders, setFolders] = useState<Folder[] | null>(null);
  const [timeline, setTimeline] = useState<Timeline | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [connected, setConnected] = useState(true);
  const [version, setVersion] = useState(0);
  const timer = useRef<number | null>(null);
  const statusTimer = useRef<number | null>(null);
  const generation = useRef(0);

  const loadAll = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const [s, f, t] = await Promise.all([api().call('status', {}), api().call('listFolders', {}), api().call('timeline', {})]);
      if (mine !== generation.current) return;
      setStatus(s);
      setProgress(s.indexing);
      setFolders(f);
      setTimeline(t);
      setError(null);
      setVersion((v) => v + 1);
    } catch (err) {
      if (mine === generation.current) setError(describeError(err));
    }
  }, []);

  const reload = useCallback(() => {
    if (timer.current !== null) window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => {
      timer.current = null;
      void loadAll();
    }, 250);
  }, [loadAll]);

  const refreshStatus = useCallback(() => {
    if (statusTimer.current !== null) return;
    statusTimer.current = window.setTimeout(async () => {
      statusTimer.current = null;
      try {
        setStatus(await api().call('status', {}));
      } catch {
        // The next event tries again; a lasting failure shows through loadAll.
      }
    }, 1000);
  }, []);

  useEffect(() => {
    void loadAll();
    const off = [
      api().on('progress', (p) => {
        setProgress(p);
        refreshStatus();
      }),
      api().on('idle', (p) => {
        setProgress(p);
        reload();
      }),
      api().on('changed', () => reload()),
      api().onConnection?.(setConnected) ?? (() => undefined),
    ];
    return () => {
      off.forEach((f) => f());
      if (timer.current !== null) window.clearTimeout(timer.current);
      if (statusTimer.current !== null) window.clearTimeout(statusTimer.current);
    };
  }, [loadAll, reload, refreshStatus]);

  return { status, progress, folders, timeline, error, connected, version, reload: () => void loadAll() };
}
