/** Human-readable bytes: 1.2 MB. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export const rate = (n: number) => `${bytes(Math.round(n))}/s`;

export function time(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
}

/** The points of a sparkline polyline for the last samples (in and out summed). */
export function sparklinePoints(a: readonly number[], b: readonly number[], width = 80, height = 18): string {
  const n = Math.max(a.length, b.length);
  if (n < 2) return '';
  const values = Array.from({ length: n }, (_, i) => (a[i] ?? 0) + (b[i] ?? 0));
  const max = Math.max(1, ...values);
  return values.map((v, i) => `${((i / (n - 1)) * width).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`).join(' ');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
