import type { Bar, EpochMs, Interval, Offset, Trade } from '../domain/index.ts';

interface LogTrade {
  readonly trade: Trade;
  readonly offset: Offset;
}

interface Group {
  readonly symbol: string;
  readonly interval: Interval;
  readonly windowStart: number;
  readonly records: LogTrade[];
}

/**
 * The reference computation of DESIGN.md "Bars" over a finished set of trades, all
 * counted (no lateness). It is written independently of the streaming engine so that
 * tests can hold one against the other. Records are taken in offset order, and every
 * sum runs in that order from 0, as the engine's do: the results are bit-identical.
 * Bars come out ordered by symbol, then interval (as configured), then window start.
 */
export function batchBars(records: readonly LogTrade[], intervals: readonly Interval[]): Bar[] {
  const byOffset = [...records].sort((a, b) => a.offset - b.offset);
  const groups = new Map<string, Group>();
  for (const record of byOffset) {
    for (const interval of intervals) {
      const windowStart = Math.floor(record.trade.ts / interval.ms) * interval.ms;
      const key = `${record.trade.symbol}\u0000${interval.label}\u0000${windowStart}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = { symbol: record.trade.symbol, interval, windowStart, records: [] };
        groups.set(key, group);
      }
      group.records.push(record);
    }
  }
  const ordered = [...groups.values()].sort(
    (a, b) =>
      (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0) ||
      intervals.indexOf(a.interval) - intervals.indexOf(b.interval) ||
      a.windowStart - b.windowStart,
  );
  return ordered.map(barOf);
}

/** Earlier by (ts, offset). */
function before(a: LogTrade, b: LogTrade): boolean {
  return a.trade.ts < b.trade.ts || (a.trade.ts === b.trade.ts && a.offset < b.offset);
}

function barOf(group: Group): Bar {
  // A group is created with its first record, so it is never empty.
  const first = group.records[0] as LogTrade;
  let open = first;
  let close = first;
  let high = first.trade.price as number;
  let low = first.trade.price as number;
  let volume = 0;
  let priceVolume = 0;
  let priceSum = 0;
  for (const r of group.records) {
    const { price, volume: v } = r.trade;
    if (before(r, open)) open = r;
    if (before(close, r)) close = r;
    high = Math.max(high, price);
    low = Math.min(low, price);
    volume += v;
    priceVolume += price * v;
    priceSum += price;
  }
  return {
    symbol: group.symbol,
    interval: group.interval.label,
    windowStart: group.windowStart as EpochMs,
    windowEnd: (group.windowStart + group.interval.ms) as EpochMs,
    open: open.trade.price,
    high,
    low,
    close: close.trade.price,
    volume,
    vwap: volume === 0 ? null : priceVolume / volume,
    avgPrice: priceSum / group.records.length,
    tradeCount: group.records.length,
  };
}
