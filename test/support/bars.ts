import assert from 'node:assert/strict';
import type { Bar, Interval, Offset } from '../../src/domain/index.ts';
import { batchBars } from '../../src/engine/index.ts';
import type { Store, StoredTrade } from '../../src/store/store.ts';

const EVERYTHING = 10_000_000;

/** Every stored trade of the symbols, per symbol, in offset order. */
export async function storedTrades(store: Store, symbols: readonly string[]): Promise<Map<string, StoredTrade[]>> {
  const out = new Map<string, StoredTrade[]>();
  for (const symbol of symbols) {
    const stored = await store.trades({ symbol, limit: EVERYTHING });
    out.set(symbol, stored.sort((a, b) => a.seq - b.seq));
  }
  return out;
}

/** How many trades of the symbols the store holds. */
export async function storedTradeCount(store: Store, symbols: readonly string[]): Promise<number> {
  let n = 0;
  for (const trades of (await storedTrades(store, symbols)).values()) n += trades.length;
  return n;
}

/** Every stored bar of the symbols, by symbol, then interval as configured, then window start (batchBars' order). */
export async function storedBars(store: Store, symbols: readonly string[], intervals: readonly Interval[]): Promise<Bar[]> {
  const bars: Bar[] = [];
  for (const symbol of [...symbols].sort()) {
    for (const interval of intervals) bars.push(...(await store.bars({ symbol, interval: interval.label, limit: EVERYTHING })));
  }
  return bars;
}

/**
 * Recomputes every bar of the symbols from the stored trades with batchBars and compares
 * them with the stored bars, exactly. Returns how many trades were stored.
 */
export async function assertBarsMatchTrades(store: Store, symbols: readonly string[], intervals: readonly Interval[]): Promise<number> {
  let tradeCount = 0;
  for (const [symbol, stored] of await storedTrades(store, symbols)) {
    tradeCount += stored.length;
    const expected = batchBars(
      stored.map((s) => ({ trade: s.trade, offset: s.seq as Offset })),
      intervals,
    );
    for (const interval of intervals) {
      const want = expected.filter((b) => b.interval === interval.label).sort((a, b) => a.windowStart - b.windowStart);
      const got = await store.bars({ symbol, interval: interval.label, limit: EVERYTHING });
      assert.equal(got.length, want.length, `${symbol} ${interval.label}: bar count`);
      assert.deepEqual(got, want, `${symbol} ${interval.label}: bars differ from the recomputation`);
    }
  }
  return tradeCount;
}
