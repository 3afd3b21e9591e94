import type { Bar, EpochMs, Offset, Price, TradeSource, Volume } from '../../domain/index.ts';
import type { Checkpoint, StoredTrade } from '../store.ts';

/**
 * Column lists shared by the inserts and the selects, so a read returns what a write bound.
 * bigint columns come back from the driver as its Long type; toNumber() is exact for every
 * value a write can bind (epoch ms, offsets and counts stay below 2^53).
 */
import { barColumnValues } from '../columns.ts';
import type { RepeatedValues } from './repeated-values.ts';

export { BAR_COLUMNS, CHECKPOINT_COLUMNS, TRADE_COLUMNS } from '../columns.ts';

/** A result row as the driver gives it: column name → decoded value. */
export type CqlRow = Readonly<Record<string, unknown>>;

/**
 * A trade's values in TRADE_COLUMNS order. With `repeated`, the symbol, day, conditions and
 * source are bound as their encoded bytes, shared with the other rows that have the same ones.
 */
export function tradeParams(day: string, t: StoredTrade, repeated?: RepeatedValues): unknown[] {
  const { trade } = t;
  if (repeated === undefined) return [trade.symbol, day, trade.ts, t.seq, trade.price, trade.volume, trade.conditions, trade.source, trade.ingestTs];
  return [
    repeated.text(trade.symbol),
    repeated.date(day),
    trade.ts,
    t.seq,
    trade.price,
    trade.volume,
    repeated.textList(trade.conditions),
    repeated.text(trade.source),
    trade.ingestTs,
  ];
}

export function barParams(b: Bar, updatedAt: Date, ttlSeconds: number): unknown[] {
  return [...barColumnValues(b, updatedAt), ttlSeconds];
}

export function checkpointParams(c: Checkpoint, updatedAt: Date): unknown[] {
  return [c.engineId, c.partition, c.offset, c.state, updatedAt];
}

export function tradeFromRow(r: CqlRow): StoredTrade {
  const conditions = r['conditions'];
  return {
    trade: {
      symbol: text(r, 'symbol'),
      price: double(r, 'price') as Price,
      volume: double(r, 'volume') as Volume,
      ts: long(r, 'ts') as EpochMs,
      // An empty frozen list may come back as null.
      conditions: Array.isArray(conditions) ? conditions.map(String) : [],
      source: text(r, 'source') as TradeSource,
      ingestTs: long(r, 'ingest_ts') as EpochMs,
    },
    seq: long(r, 'seq') as Offset,
  };
}

export function barFromRow(r: CqlRow): Bar {
  const vwap = r['vwap'];
  return {
    symbol: text(r, 'symbol'),
    interval: text(r, 'interval'),
    windowStart: long(r, 'window_start') as EpochMs,
    windowEnd: long(r, 'window_end') as EpochMs,
    open: double(r, 'open'),
    high: double(r, 'high'),
    low: double(r, 'low'),
    close: double(r, 'close'),
    volume: double(r, 'volume'),
    vwap: vwap === null || vwap === undefined ? null : double(r, 'vwap'),
    avgPrice: double(r, 'avg_price'),
    tradeCount: long(r, 'trade_count'),
  };
}

export function checkpointFromRow(engineId: string, r: CqlRow): Checkpoint {
  return { engineId, partition: int(r, 'partition'), offset: long(r, 'next_offset') as Offset, state: text(r, 'state') };
}

/** A driver Long (or a bigint, or a number) as a JS number. */
export function long(r: CqlRow, column: string): number {
  const v = r[column];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object' && v !== null && 'toNumber' in v && typeof v.toNumber === 'function') return (v.toNumber as () => number).call(v);
  throw new TypeError(`column ${column} is not a bigint: ${String(v)}`);
}

function double(r: CqlRow, column: string): number {
  const v = r[column];
  if (typeof v !== 'number') throw new TypeError(`column ${column} is not a double: ${String(v)}`);
  return v;
}

function int(r: CqlRow, column: string): number {
  const v = r[column];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`column ${column} is not an int: ${String(v)}`);
  return v;
}

function text(r: CqlRow, column: string): string {
  const v = r[column];
  if (typeof v !== 'string') throw new TypeError(`column ${column} is not text: ${String(v)}`);
  return v;
}
