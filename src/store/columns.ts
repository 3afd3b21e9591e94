import type { Bar } from '../domain/index.ts';

// The columns of DESIGN.md "Storage", shared by both stores: the SQLite file mirrors the
// Cassandra tables column for column. Inserts bind in this order and selects read it back.

export const TRADE_COLUMNS = ['symbol', 'day', 'ts', 'seq', 'price', 'volume', 'conditions', 'source', 'ingest_ts'] as const;
export const BAR_COLUMNS = [
  'symbol',
  'interval',
  'window_start',
  'window_end',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'vwap',
  'avg_price',
  'trade_count',
  'updated_at',
] as const;
export const CHECKPOINT_COLUMNS = ['engine_id', 'partition', 'next_offset', 'state', 'updated_at'] as const;

/** A bar's values in BAR_COLUMNS order; `updatedAt` as the store binds it (ms for SQLite, a Date for Cassandra). */
export function barColumnValues<T>(b: Bar, updatedAt: T): unknown[] {
  return [b.symbol, b.interval, b.windowStart, b.windowEnd, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.avgPrice, b.tradeCount, updatedAt];
}
