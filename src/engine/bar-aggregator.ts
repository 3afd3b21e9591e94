import type { Bar, EpochMs } from '../domain/index.ts';

/**
 * The running aggregate of one window, keyed by (symbol, interval, windowStart).
 * Mutable on purpose: the hot path updates it in place instead of allocating.
 */
export interface WindowAggregate {
  readonly symbol: string;
  /** Interval label, e.g. `5s`. */
  readonly interval: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  open: number;
  openTs: number;
  openOffset: number;
  close: number;
  closeTs: number;
  closeOffset: number;
  high: number;
  low: number;
  volume: number;
  /** Σ price·volume, for the vwap. */
  priceVolume: number;
  /** Σ price, for avg_price. */
  priceSum: number;
  tradeCount: number;
  /** Set by every accepted trade, cleared when the bar is emitted (update mode). */
  changed: boolean;
}

/** An empty window; the sentinels make the first addTrade set open, close, high and low. */
export function emptyWindow(symbol: string, interval: string, windowStart: number, windowEnd: number): WindowAggregate {
  return {
    symbol,
    interval,
    windowStart,
    windowEnd,
    open: 0,
    openTs: Infinity,
    openOffset: Infinity,
    close: 0,
    closeTs: -Infinity,
    closeOffset: -Infinity,
    high: -Infinity,
    low: Infinity,
    volume: 0,
    priceVolume: 0,
    priceSum: 0,
    tradeCount: 0,
    changed: false,
  };
}

/**
 * Adds one trade. open/close are the earliest/latest by (ts, offset): ties in the same
 * millisecond are broken by offset so that the TS engine and Spark agree. The sums start
 * from 0 and must be fed in offset order: floating-point addition is not associative,
 * and batchBars sums in that order too, so the results are bit-identical.
 */
export function addTrade(w: WindowAggregate, price: number, volume: number, ts: number, offset: number): void {
  if (ts < w.openTs || (ts === w.openTs && offset < w.openOffset)) {
    w.open = price;
    w.openTs = ts;
    w.openOffset = offset;
  }
  if (ts > w.closeTs || (ts === w.closeTs && offset > w.closeOffset)) {
    w.close = price;
    w.closeTs = ts;
    w.closeOffset = offset;
  }
  if (price > w.high) w.high = price;
  if (price < w.low) w.low = price;
  w.volume += volume;
  w.priceVolume += price * volume;
  w.priceSum += price;
  w.tradeCount++;
  w.changed = true;
}

export function toBar(w: WindowAggregate): Bar {
  return {
    symbol: w.symbol,
    interval: w.interval,
    windowStart: w.windowStart as EpochMs,
    windowEnd: w.windowEnd as EpochMs,
    open: w.open,
    high: w.high,
    low: w.low,
    close: w.close,
    volume: w.volume,
    vwap: w.volume === 0 ? null : w.priceVolume / w.volume,
    avgPrice: w.priceSum / w.tradeCount,
    tradeCount: w.tradeCount,
  };
}
