import type { EpochMs, Interval } from '../domain/index.ts';
import type { EngineOptions, PartitionState } from './partition-state.ts';

/**
 * The partition's watermark: max event time seen in the partition − lateness.
 * Undefined before the first accepted trade. It never goes back: late trades do
 * not count towards the max, and nothing else lowers it.
 */
export function watermarkOf(state: PartitionState, options: EngineOptions): EpochMs | undefined {
  if (state.maxTs === -Infinity) return undefined;
  return (state.maxTs - options.lateness) as EpochMs;
}

/**
 * A trade is late when, for any interval, its window has ended at or before the
 * watermark. Late for one interval means late for all, so every accepted trade is
 * in every interval's bars. `watermark` is -Infinity before the first trade.
 */
export function isLate(ts: number, intervals: readonly Interval[], watermark: number): boolean {
  for (let i = 0; i < intervals.length; i++) {
    const size = (intervals[i] as Interval).ms;
    if (Math.floor(ts / size) * size + size <= watermark) return true;
  }
  return false;
}
