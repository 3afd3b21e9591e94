import { fromBarRecord, TRADE_SOURCES, type Bar, type BarRecord, type EpochMs, type Offset, type Price, type TradeSource, type Volume } from '../../domain/index.ts';
import type { Checkpoint, StoredTrade } from '../store.ts';
import { mapConditions, type PackedTrades } from '../packed-trades.ts';

import { barColumnValues } from '../columns.ts';

export { BAR_COLUMNS, CHECKPOINT_COLUMNS } from '../columns.ts';

export interface TradeRow {
  symbol: string;
  ts: number;
  seq: number;
  price: number;
  volume: number;
  conditions: string;
  source: string;
  ingest_ts: number;
}

export type BarRow = BarRecord;

export interface CheckpointRow {
  partition: number;
  next_offset: number;
  state: string;
}

const DAY_MS = 86_400_000;

/**
 * The UTC date of an epoch-ms time, `YYYY-MM-DD`. Trades arrive in runs of the same
 * day, so the last answer is kept: formatting a date per trade would cost more than the insert.
 */
export class DayOf {
  #day = Number.NaN;
  #text = '';

  of(ts: number): string {
    const day = Math.floor(ts / DAY_MS);
    if (day !== this.#day) {
      this.#day = day;
      this.#text = new Date(day * DAY_MS).toISOString().slice(0, 10);
    }
    return this.#text;
  }
}

/**
 * The trade columns a run of rows shares: a batch in key order comes in runs of one symbol,
 * and within them of one day and (nearly always) one source. Bound once per statement.
 */
export const TRADE_RUN_COLUMNS = ['symbol', 'day', 'source'] as const;

/** The trade columns each row has of its own. */
const TRADE_ROW_COLUMNS = ['ts', 'seq', 'price', 'volume', 'conditions', 'ingest_ts'] as const;

/** TRADE_COLUMNS in the order the SQLite store binds them: a row's own values, then those a run shares. */
export const TRADE_INSERT_COLUMNS = [...TRADE_ROW_COLUMNS, ...TRADE_RUN_COLUMNS] as const;

/** The shared values of trade `i`'s run: TRADE_RUN_COLUMNS by name. */
export function tradeRunValues(p: PackedTrades, i: number, days: DayOf): Record<(typeof TRADE_RUN_COLUMNS)[number], string> {
  return {
    symbol: p.symbols[p.codes[i] as number] as string,
    day: days.of(p.numbers[2 * p.count + i] as number),
    source: TRADE_SOURCES[p.codes[p.count + i] as number] as string,
  };
}

/** Stores the values of trade `i` of a packed batch in TRADE_ROW_COLUMNS order at out[at] onwards; `conditions` holds each trade's conditionsJson. */
export function putPackedTradeRowValues(out: unknown[], at: number, p: PackedTrades, i: number, conditions: readonly string[]): void {
  const n = p.count;
  const x = p.numbers;
  out[at] = x[2 * n + i];
  out[at + 1] = x[3 * n + i];
  out[at + 2] = x[i];
  out[at + 3] = x[n + i];
  out[at + 4] = conditions[i];
  out[at + 5] = x[4 * n + i];
}

/** Stores all the values of trade `i` of a packed batch in TRADE_INSERT_COLUMNS order: its own, then its run's. */
export function putPackedTradeValues(out: unknown[], at: number, p: PackedTrades, i: number, conditions: readonly string[], days: DayOf): void {
  putPackedTradeRowValues(out, at, p, i, conditions);
  const own = TRADE_ROW_COLUMNS.length;
  out[at + own] = p.symbols[p.codes[i] as number];
  out[at + own + 1] = days.of(p.numbers[2 * p.count + i] as number);
  out[at + own + 2] = TRADE_SOURCES[p.codes[p.count + i] as number];
}

/** Printable ASCII without `"` and `\`: text that JSON writes as it is. */
const PLAIN_JSON_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * The conditions column: the JSON array text. Conditions are short codes (`1`, `12`, `T`),
 * which are quoted directly; anything else goes through JSON.stringify.
 */
export function conditionsJson(conditions: readonly string[]): string {
  if (conditions.length === 0) return '[]';
  let out = '[';
  for (let i = 0; i < conditions.length; i++) {
    const c = conditions[i] as string;
    if (!PLAIN_JSON_TEXT.test(c)) return JSON.stringify(conditions);
    out += i === 0 ? `"${c}"` : `,"${c}"`;
  }
  return `${out}]`;
}

/** The conditions column of a packed batch: conditionsJson of each trade's list, in trade order, each distinct list turned into JSON once. */
export function conditionsJsonColumn(p: PackedTrades): string[] {
  return mapConditions(p, '[]', conditionsJson);
}

export function putBarValues(out: unknown[], at: number, b: Bar, updatedAt: number): void {
  const values = barColumnValues(b, updatedAt);
  for (let k = 0; k < values.length; k++) out[at + k] = values[k];
}

export function putCheckpointValues(out: unknown[], at: number, c: Checkpoint, updatedAt: number): void {
  out[at] = c.engineId;
  out[at + 1] = c.partition;
  out[at + 2] = c.offset;
  out[at + 3] = c.state;
  out[at + 4] = updatedAt;
}

export function tradeFromRow(r: TradeRow): StoredTrade {
  return {
    trade: {
      symbol: r.symbol,
      price: r.price as Price,
      volume: r.volume as Volume,
      ts: r.ts as EpochMs,
      conditions: r.conditions === '[]' ? [] : (JSON.parse(r.conditions) as string[]),
      source: r.source as TradeSource,
      ingestTs: r.ingest_ts as EpochMs,
    },
    seq: r.seq as Offset,
  };
}

/** A bars row has the wire's snake_case columns, so it reads like a BarRecord. */
export function barFromRow(r: BarRow): Bar {
  return fromBarRecord(r);
}

export function checkpointFromRow(engineId: string, r: CheckpointRow): Checkpoint {
  return { engineId, partition: r.partition, offset: r.next_offset as Offset, state: r.state };
}
