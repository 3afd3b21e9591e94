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
 * Trades grouped by Cassandra partition (symbol, UTC day). Within a partition a key
 * (ts, seq) appears once, the last occurrence winning: the rows of one batch share a
 * write timestamp, and Cassandra would settle a tie between two versions by value, not order.
 */
export function tradePartitions(trades: readonly StoredTrade[]): TradePartition[] {
  const groups = new Map<string, { symbol: string; dayNumber: number; byKey: Map<string, StoredTrade> }>();
  for (const stored of trades) {
    const { symbol, ts } = stored.trade;
    const dayNumber = Math.floor(ts / DAY_MS);
    const key = `${symbol}\u0000${dayNumber}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { symbol, dayNumber, byKey: new Map() };
      groups.set(key, group);
    }
    group.byKey.set(`${ts}:${stored.seq}`, stored);
  }
  return [...groups.values()].map((g) => ({ symbol: g.symbol, day: utcDay(g.dayNumber * DAY_MS), trades: [...g.byKey.values()] }));
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

/** Splits rows into runs of at most `size`, in order. */
export function chunksOf<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  const step = Math.max(1, Math.floor(size));
  for (let i = 0; i < rows.length; i += step) out.push(rows.slice(i, i + step));
  return out;
}
