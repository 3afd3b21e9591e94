import type { Bar, DurationMs, Interval, Offset, Trade } from '../domain/index.ts';
import { addTrade, emptyWindow, toBar, type WindowAggregate } from './bar-aggregator.ts';
import { isLate } from './watermark.ts';

export interface EngineOptions {
  readonly intervals: readonly Interval[];
  /** How far behind the max event time a trade may arrive and still count. */
  readonly lateness: DurationMs;
}

/** One symbol's open windows of one interval, by window start. */
export type SymbolWindows = Map<number, WindowAggregate>;

/**
 * One log partition's open windows and max event time. Mutable and owned by the
 * caller; change it only through applyTrade and flushPartition.
 */
export interface PartitionState {
  /** Max event time of the accepted trades; -Infinity before the first. */
  maxTs: number;
  /**
   * Open windows: interval label → symbol → window start. Keyed by label rather than
   * by position so a checkpoint stays meaningful if the configured intervals change.
   */
  readonly windows: Map<string, Map<string, SymbolWindows>>;
  /** The intervals `slots` was built for (compared by identity on each trade). */
  slotsFor: readonly Interval[] | undefined;
  /** `windows.get(intervals[i].label)` for each configured interval, to skip a lookup per trade. */
  slots: Map<string, SymbolWindows>[];
  /**
   * Per symbol, the window each configured interval last added a trade to. A symbol's trades
   * mostly land in its current windows, so this saves two map lookups per interval. Cleared by
   * every flush and when the intervals change; a window dropped by a flush is never looked
   * up again anyway, since any trade for it is late.
   */
  readonly recent: Map<string, (WindowAggregate | undefined)[]>;
}

export interface FlushResult {
  /** Every window changed since the last flush, including those finalized now. */
  readonly bars: Bar[];
  /** Windows dropped because the watermark has passed their end. */
  readonly finalized: number;
  /** Windows still open after the flush. */
  readonly openWindows: number;
}

export function newPartitionState(): PartitionState {
  return { maxTs: -Infinity, windows: new Map(), slotsFor: undefined, slots: [], recent: new Map() };
}

function bindSlots(state: PartitionState, intervals: readonly Interval[]): void {
  const slots: Map<string, SymbolWindows>[] = [];
  for (const interval of intervals) {
    let bySymbol = state.windows.get(interval.label);
    if (bySymbol === undefined) {
      bySymbol = new Map();
      state.windows.set(interval.label, bySymbol);
    }
    slots.push(bySymbol);
  }
  state.slots = slots;
  state.slotsFor = intervals;
  state.recent.clear();
}

/**
 * Applies one trade of this partition. Trades must come in offset order: the sums
 * accumulate in that order, which is what makes the bars bit-identical to batchBars.
 * A late trade (see isLate) changes nothing, not even the max event time.
 */
export function applyTrade(state: PartitionState, trade: Trade, offset: Offset, options: EngineOptions): 'accepted' | 'late' {
  const intervals = options.intervals;
  const ts = trade.ts;
  if (isLate(ts, intervals, state.maxTs - options.lateness)) return 'late';
  if (ts > state.maxTs) state.maxTs = ts;
  if (state.slotsFor !== intervals) bindSlots(state, intervals);
  const symbol = trade.symbol;
  let recent = state.recent.get(symbol);
  if (recent === undefined) {
    recent = new Array<WindowAggregate | undefined>(intervals.length).fill(undefined);
    state.recent.set(symbol, recent);
  }
  for (let i = 0; i < intervals.length; i++) {
    const size = (intervals[i] as Interval).ms;
    const windowStart = Math.floor(ts / size) * size;
    let w = recent[i];
    if (w === undefined || w.windowStart !== windowStart) {
      w = windowOf(state, i, symbol, windowStart, intervals[i] as Interval);
      recent[i] = w;
    }
    addTrade(w, trade.price, trade.volume, ts, offset);
  }
  return 'accepted';
}

/** The open window of (interval i, symbol, windowStart), made empty when there is none yet. */
function windowOf(state: PartitionState, i: number, symbol: string, windowStart: number, interval: Interval): WindowAggregate {
  const bySymbol = state.slots[i] as Map<string, SymbolWindows>;
  let windows = bySymbol.get(symbol);
  if (windows === undefined) {
    windows = new Map();
    bySymbol.set(symbol, windows);
  }
  let w = windows.get(windowStart);
  if (w === undefined) {
    w = emptyWindow(symbol, interval.label, windowStart, windowStart + interval.ms);
    windows.set(windowStart, w);
  }
  return w;
}

/**
 * Update mode: returns a bar for every window changed since the last flush, then drops
 * the windows whose end is at or before the watermark. A window that changed and is
 * finalized in the same flush is emitted once, before it is dropped; a dropped window
 * never reopens, because any trade for it would be late.
 */
export function flushPartition(state: PartitionState, options: EngineOptions): FlushResult {
  const watermark = state.maxTs - options.lateness;
  const bars: Bar[] = [];
  let finalized = 0;
  let openWindows = 0;
  state.recent.clear();
  for (const bySymbol of state.windows.values()) {
    for (const [symbol, windows] of bySymbol) {
      for (const [windowStart, w] of windows) {
        if (w.changed) {
          bars.push(toBar(w));
          w.changed = false;
        }
        if (w.windowEnd <= watermark) {
          windows.delete(windowStart);
          finalized++;
        } else {
          openWindows++;
        }
      }
      // Symbols come and go; do not keep an empty map for each one ever seen.
      if (windows.size === 0) bySymbol.delete(symbol);
    }
  }
  return { bars, finalized, openWindows };
}
