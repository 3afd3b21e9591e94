import type { Bar } from '../../domain/index.ts';
import type { Checkpoint, StoredTrade } from '../store.ts';

const DAY_MS = 86_400_000;

/** The UTC date of an epoch-ms time as `YYYY-MM-DD`, the form the driver binds to a CQL `date`. */
export function utcDay(ts: number): string {
  return new Date(Math.floor(ts / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

export interface TradePartition {
  readonly symbol: string;
  readonly day: string;
  readonly trades: readonly StoredTrade[];
}

export interface BarPartition {
  readonly symbol: string;
  readonly interval: string;
  readonly bars: readonly Bar[];
}

export interface CheckpointPartition {
  readonly engineId: string;
  readonly checkpoints: readonly Checkpoint[];
}

/**
 * Trades grouped by Cassandra partition (symbol, UTC day), each partition's rows in the table's
 * clustering order (ts, then seq, newest first), so Cassandra receives a batch already sorted.
 * Within a partition a key (ts, seq) appears once, the last occurrence winning: the rows of one
 * batch share a write timestamp, and Cassandra would settle a tie between two versions by value,
 * not order. Grouping uses numbers, not a string key per trade: this runs over every trade.
 */
export function tradePartitions(trades: readonly StoredTrade[]): TradePartition[] {
  const bySymbol = new Map<string, Map<number, StoredTrade[]>>();
  for (const stored of trades) {
    const { symbol, ts } = stored.trade;
    const dayNumber = Math.floor(ts / DAY_MS);
    let days = bySymbol.get(symbol);
    if (days === undefined) bySymbol.set(symbol, (days = new Map()));
    const rows = days.get(dayNumber);
    if (rows === undefined) days.set(dayNumber, [stored]);
    else rows.push(stored);
  }
  const out: TradePartition[] = [];
  for (const [symbol, days] of bySymbol) {
    for (const [dayNumber, rows] of days) out.push({ symbol, day: utcDay(dayNumber * DAY_MS), trades: lastOfEachKey(rows) });
  }
  return out;
}

const newestFirst = (a: StoredTrade, b: StoredTrade): number => b.trade.ts - a.trade.ts || b.seq - a.seq;

/** Sorted newest first; of equal (ts, seq) keys only the last in input order is kept (the sort is stable). */
function lastOfEachKey(rows: StoredTrade[]): StoredTrade[] {
  rows.sort(newestFirst);
  let kept = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as StoredTrade;
    const next = rows[i + 1];
    if (next !== undefined && next.trade.ts === row.trade.ts && next.seq === row.seq) continue;
    rows[kept++] = row;
  }
  rows.length = kept;
  return rows;
}

/** Bars grouped by partition (symbol, interval); a window_start appears once, the last version winning. */
export function barPartitions(bars: readonly Bar[]): BarPartition[] {
  const groups = new Map<string, { symbol: string; interval: string; byStart: Map<number, Bar> }>();
  for (const bar of bars) {
    const key = `${bar.symbol}\u0000${bar.interval}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { symbol: bar.symbol, interval: bar.interval, byStart: new Map() };
      groups.set(key, group);
    }
    group.byStart.set(bar.windowStart, bar);
  }
  return [...groups.values()].map((g) => ({ symbol: g.symbol, interval: g.interval, bars: [...g.byStart.values()] }));
}

/** Checkpoints grouped by partition (engine_id); a partition number appears once, the last winning. */
export function checkpointPartitions(checkpoints: readonly Checkpoint[]): CheckpointPartition[] {
  const groups = new Map<string, Map<number, Checkpoint>>();
  for (const c of checkpoints) {
    let group = groups.get(c.engineId);
    if (group === undefined) {
      group = new Map();
      groups.set(c.engineId, group);
    }
    group.set(c.partition, c);
  }
  return [...groups].map(([engineId, byPartition]) => ({ engineId, checkpoints: [...byPartition.values()] }));
}

/**
 * Splits rows, in order, into as few runs of at most `size` as possible, of sizes that differ by
 * one at most: 1,001 rows at 1,000 make two batches of about 500, not 1,000 and 1.
 */
export function chunksOf<T>(rows: readonly T[], size: number): T[][] {
  const runs = Math.ceil(rows.length / Math.max(1, Math.floor(size)));
  const out: T[][] = [];
  for (let r = 0, start = 0; r < runs; r++) {
    const end = start + Math.ceil((rows.length - start) / (runs - r));
    out.push(rows.slice(start, end));
    start = end;
  }
  return out;
}
