// Small formatting helpers shared by the views. Dates from the library are naive
// local times ("2024-05-31T18:02:11", from EXIF), so they are read as text, never
// through Date's time-zone conversion.
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const SHORT = MONTHS.map((m) => m.slice(0, 3));

/** "2024-05" for grouping; "" when undated. */
export function monthKey(takenAt: string | null): string {
  return takenAt && /^\d{4}-\d{2}/.test(takenAt) ? takenAt.slice(0, 7) : '';
}

/** "May 2024", or "Undated". */
export function monthLabel(key: string): string {
  if (!key) return 'Undated';
  const month = MONTHS[Number(key.slice(5, 7)) - 1];
  return month ? `${month} ${key.slice(0, 4)}` : key;
}

/** "31 May 2024, 18:02", or "Date unknown". */
export function formatDate(takenAt: string | null): string {
  if (!takenAt) return 'Date unknown';
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?/.exec(takenAt);
  if (!m) return takenAt;
  const date = `${Number(m[3])} ${SHORT[Number(m[2]) - 1] ?? m[2]} ${m[1]}`;
  return m[4] ? `${date}, ${m[4]}:${m[5]}` : date;
}

/** "4 min 05 s", "12 s", "—". */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function formatRate(rate: number): string {
  if (!(rate > 0)) return '—';
  return rate >= 10 ? `${rate.toFixed(0)} photos/s` : `${rate.toFixed(1)} photos/s`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** The last parts of a path, for cards: "2024-05-31 Picnic/IMG_0001.jpg". */
export function shortPath(file: string, parts = 2): string {
  return file.split(/[\\/]/).filter(Boolean).slice(-parts).join('/');
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
