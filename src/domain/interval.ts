import type { DurationMs, EpochMs } from './units.ts';

/** A bar interval, e.g. `{ label: '5s', ms: 5000 }`. */
export interface Interval {
  readonly label: string;
  readonly ms: DurationMs;
}

/** The shortest of the intervals (undefined for none): the one whose windows close first. */
export function smallestInterval(intervals: readonly Interval[]): Interval | undefined {
  let smallest: Interval | undefined;
  for (const i of intervals) if (smallest === undefined || i.ms < smallest.ms) smallest = i;
  return smallest;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/** Parses `500ms`, `5s`, `1m`, `1h`, `1d`. Returns undefined when the text is not a duration. */
export function parseDuration(text: string): DurationMs | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const unit = UNIT_MS[m[2] as string] as number;
  return (Number(m[1]) * unit) as DurationMs;
}

/** The shortest label for a duration, in the syntax parseDuration reads: 60000 → `1m`, 1500 → `1500ms`. */
export function durationLabel(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Returns undefined when the label is not a positive duration. */
export function parseInterval(label: string): Interval | undefined {
  const ms = parseDuration(label);
  if (ms === undefined || ms <= 0) return undefined;
  return { label: durationLabel(ms), ms };
}

/** Tumbling windows aligned to the UTC epoch: floor(ts / size) * size. */
export function windowStartOf(ts: EpochMs, sizeMs: DurationMs): EpochMs {
  return (Math.floor(ts / sizeMs) * sizeMs) as EpochMs;
}
