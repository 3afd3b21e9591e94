/**
 * A latency for people to read: tenths below 100 ms, whole milliseconds below 10 s, then
 * seconds, minutes and hours with one decimal. An engine catching up on an old backlog
 * stores bars minutes or hours after their trades came in, and "3245221 ms" says less
 * than "54.1 min". Used by the status line and the dashboard.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
