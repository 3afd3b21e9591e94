import type { EpochMs } from './units.ts';

/** One OHLCV bar (DESIGN.md, "Bars"). camelCase in TS; see BarRecord for the wire. */
export interface Bar {
  readonly symbol: string;
  /** Interval label, e.g. `5s`, `1m`. */
  readonly interval: string;
  readonly windowStart: EpochMs;
  readonly windowEnd: EpochMs;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** Σ price·volume / Σ volume; null when Σ volume = 0. */
  readonly vwap: number | null;
  readonly avgPrice: number;
  readonly tradeCount: number;
}

/** The snake_case shape of the HTTP API, the push stream and the stores. */
export interface BarRecord {
  symbol: string;
  interval: string;
  window_start: number;
  window_end: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number | null;
  avg_price: number;
  trade_count: number;
}

export function toBarRecord(b: Bar): BarRecord {
  return {
    symbol: b.symbol,
    interval: b.interval,
    window_start: b.windowStart,
    window_end: b.windowEnd,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    vwap: b.vwap,
    avg_price: b.avgPrice,
    trade_count: b.tradeCount,
  };
}

export function fromBarRecord(r: BarRecord): Bar {
  return {
    symbol: r.symbol,
    interval: r.interval,
    windowStart: r.window_start as EpochMs,
    windowEnd: r.window_end as EpochMs,
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
    vwap: r.vwap,
    avgPrice: r.avg_price,
    tradeCount: r.trade_count,
  };
}
