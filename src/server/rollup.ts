import { parseInterval, type Bar, type EpochMs, type Interval } from '../domain/index.ts';

/** Intervals the server offers on top of the engine's, rolled up from a finer engine interval. */
export const ROLLUP_TARGETS: readonly Interval[] = ['5m', '15m', '1h'].map((label) => parseInterval(label) as Interval);

/** A rolled-up interval and the engine interval it is computed from. */
export interface RollupPlan {
  readonly target: Interval;
  readonly source: Interval;
}

/**
 * The roll-ups to offer: each target that is not an engine interval already, computed from
 * the largest engine interval that divides it (fewest bars to read). Targets nothing divides are left out.
 */
export function rollupPlans(engine: readonly Interval[]): RollupPlan[] {
  const plans: RollupPlan[] = [];
  for (const target of ROLLUP_TARGETS) {
    if (engine.some((i) => i.ms === target.ms)) continue;
    let source: Interval | undefined;
    for (const i of engine) {
      if (i.ms < target.ms && target.ms % i.ms === 0 && (source === undefined || i.ms > source.ms)) source = i;
    }
    if (source !== undefined) plans.push({ target, source });
  }
  return plans;
}

/**
 * Merges bars of a finer interval into bars of `target`, per symbol, in ascending
 * window_start. open/close come from the first/last source bar, so they equal the
 * first/last trade's price exactly; volume, trade count, high and low are exact too.
 * vwap and avg_price are re-weighted from the source bars (Σ vwap·volume / Σ volume,
 * Σ avg·count / Σ count), which equals the direct value up to floating-point rounding.
 */
export function rollupBars(bars: readonly Bar[], target: Interval): Bar[] {
  const sorted = [...bars].sort((a, b) => (a.symbol === b.symbol ? a.windowStart - b.windowStart : a.symbol < b.symbol ? -1 : 1));
  const out: Bar[] = [];
  let acc: Accumulator | undefined;
  for (const bar of sorted) {
    const windowStart = (Math.floor(bar.windowStart / target.ms) * target.ms) as EpochMs;
    if (acc === undefined || acc.symbol !== bar.symbol || acc.windowStart !== windowStart) {
      if (acc !== undefined) out.push(finish(acc, target));
      acc = start(bar, windowStart);
    } else {
      add(acc, bar);
    }
  }
  if (acc !== undefined) out.push(finish(acc, target));
  return out;
}

interface Accumulator {
  symbol: string;
  windowStart: EpochMs;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Σ vwap·volume over the source bars that have a vwap. */
  priceVolume: number;
  weightedVolume: number;
  priceSum: number;
  tradeCount: number;
}

function start(bar: Bar, windowStart: EpochMs): Accumulator {
  const acc: Accumulator = {
    symbol: bar.symbol,
    windowStart,
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: 0,
    priceVolume: 0,
    weightedVolume: 0,
    priceSum: 0,
    tradeCount: 0,
  };
  add(acc, bar);
  return acc;
}

function add(acc: Accumulator, bar: Bar): void {
  if (bar.high > acc.high) acc.high = bar.high;
  if (bar.low < acc.low) acc.low = bar.low;
  acc.close = bar.close;
  acc.volume += bar.volume;
  if (bar.vwap !== null) {
    acc.priceVolume += bar.vwap * bar.volume;
    acc.weightedVolume += bar.volume;
  }
  acc.priceSum += bar.avgPrice * bar.tradeCount;
  acc.tradeCount += bar.tradeCount;
}

function finish(acc: Accumulator, target: Interval): Bar {
  return {
    symbol: acc.symbol,
    interval: target.label,
    windowStart: acc.windowStart,
    windowEnd: (acc.windowStart + target.ms) as EpochMs,
    open: acc.open,
    high: acc.high,
    low: acc.low,
    close: acc.close,
    volume: acc.volume,
    vwap: acc.weightedVolume > 0 ? acc.priceVolume / acc.weightedVolume : null,
    avgPrice: acc.tradeCount > 0 ? acc.priceSum / acc.tradeCount : acc.close,
    tradeCount: acc.tradeCount,
  };
}
