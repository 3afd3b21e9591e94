import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Bar, EpochMs, Offset, Price, Volume } from '../../../src/domain/index.ts';
import { barPartitions, checkpointPartitions, chunksOf, tradePartitions, utcDay } from '../../../src/store/cassandra/partitions.ts';
import type { Checkpoint, StoredTrade } from '../../../src/store/store.ts';

const MIDNIGHT = Date.UTC(2024, 2, 1);

function stored(symbol: string, ts: number, seq: number, price = 100): StoredTrade {
  return {
    trade: { symbol, price: price as Price, volume: 1 as Volume, ts: ts as EpochMs, conditions: [], source: 'simulator', ingestTs: ts as EpochMs },
    seq: seq as Offset,
  };
}

function bar(symbol: string, interval: string, windowStart: number, close = 1): Bar {
  return {
    symbol,
    interval,
    windowStart: windowStart as EpochMs,
    windowEnd: (windowStart + 5_000) as EpochMs,
    open: 1,
    high: 1,
    low: 1,
    close,
    volume: 1,
    vwap: 1,
    avgPrice: 1,
    tradeCount: 1,
  };
}

test('utcDay is the UTC date of an epoch-ms time, at both sides of midnight', () => {
  assert.equal(utcDay(MIDNIGHT - 1), '2024-02-29');
  assert.equal(utcDay(MIDNIGHT), '2024-03-01');
  assert.equal(utcDay(0), '1970-01-01');
});

test('trades are grouped by (symbol, UTC day), each partition in clustering order, newest first', () => {
  const trades = [stored('AAPL', MIDNIGHT - 2, 0), stored('MSFT', MIDNIGHT - 1, 1), stored('AAPL', MIDNIGHT, 2), stored('AAPL', MIDNIGHT - 1, 3), stored('AAPL', MIDNIGHT - 1, 4)];
  const parts = tradePartitions(trades);
  assert.deepEqual(
    parts.map((p) => [p.symbol, p.day, p.trades.map((t) => t.seq)]),
    [
      ['AAPL', '2024-02-29', [4, 3, 0]],
      ['AAPL', '2024-03-01', [2]],
      ['MSFT', '2024-02-29', [1]],
    ],
  );
});

test('a trade key repeated in one batch is written once, the last version winning', () => {
  const parts = tradePartitions([stored('AAPL', MIDNIGHT, 7, 1), stored('AAPL', MIDNIGHT, 8, 2), stored('AAPL', MIDNIGHT, 7, 3)]);
  assert.equal(parts.length, 1);
  assert.deepEqual(parts[0]!.trades.map((t) => [t.seq, t.trade.price]), [[8, 2], [7, 3]]);
});

test('every trade lands in exactly one partition that matches its symbol and day', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ symbol: fc.constantFrom('A', 'B', 'C:D'), ts: fc.integer({ min: MIDNIGHT - 3 * 86_400_000, max: MIDNIGHT + 3 * 86_400_000 }), seq: fc.nat(50) }), { maxLength: 200 }),
      (rows) => {
        const trades = rows.map((r) => stored(r.symbol, r.ts, r.seq));
        const parts = tradePartitions(trades);
        const keys = new Set(trades.map((t) => `${t.trade.symbol}|${t.trade.ts}|${t.seq}`));
        assert.equal(parts.reduce((n, p) => n + p.trades.length, 0), keys.size);
        assert.equal(new Set(parts.map((p) => `${p.symbol}|${p.day}`)).size, parts.length);
        const last = new Map(trades.map((t) => [`${t.trade.symbol}|${t.trade.ts}|${t.seq}`, t]));
        for (const p of parts) {
          p.trades.forEach((t, i) => {
            assert.ok(t.trade.symbol === p.symbol && utcDay(t.trade.ts) === p.day);
            assert.equal(t, last.get(`${t.trade.symbol}|${t.trade.ts}|${t.seq}`), 'the last occurrence of a key is the one kept');
            const prev = p.trades[i - 1];
            if (prev !== undefined) assert.ok(prev.trade.ts > t.trade.ts || (prev.trade.ts === t.trade.ts && prev.seq > t.seq), 'newest first, no key twice');
          });
        }
      },
    ),
  );
});

test('bars are grouped by (symbol, interval), one row per window_start, the last version winning', () => {
  const parts = barPartitions([bar('AAPL', '5s', 0, 1), bar('AAPL', '1m', 0), bar('MSFT', '5s', 0), bar('AAPL', '5s', 5_000), bar('AAPL', '5s', 0, 2)]);
  assert.deepEqual(
    parts.map((p) => [p.symbol, p.interval, p.bars.map((b) => [b.windowStart, b.close])]),
    [
      ['AAPL', '5s', [[0, 2], [5_000, 1]]],
      ['AAPL', '1m', [[0, 1]]],
      ['MSFT', '5s', [[0, 1]]],
    ],
  );
});

test('checkpoints are grouped by engine, one per log partition, the last winning', () => {
  const c = (engineId: string, partition: number, offset: number): Checkpoint => ({ engineId, partition, offset: offset as Offset, state: '' });
  const parts = checkpointPartitions([c('a', 0, 1), c('b', 0, 5), c('a', 1, 2), c('a', 0, 3)]);
  assert.deepEqual(
    parts.map((p) => [p.engineId, p.checkpoints.map((x) => [x.partition, x.offset])]),
    [
      ['a', [[0, 3], [1, 2]]],
      ['b', [[0, 5]]],
    ],
  );
});

test('chunksOf splits in order into the fewest runs of at most the size, of even sizes', () => {
  assert.deepEqual(chunksOf([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(chunksOf([1, 2, 3, 4, 5], 4), [[1, 2, 3], [4, 5]]);
  assert.deepEqual(chunksOf([1, 2, 3, 4], 4), [[1, 2, 3, 4]]);
  fc.assert(
    fc.property(fc.nat(3_000), fc.integer({ min: 1, max: 1_200 }), (n, size) => {
      const rows = Array.from({ length: n }, (_, i) => i);
      const runs = chunksOf(rows, size);
      assert.deepEqual(runs.flat(), rows);
      assert.equal(runs.length, Math.ceil(n / size));
      const lengths = runs.map((r) => r.length);
      if (n > 0) assert.ok(Math.max(...lengths) <= size && Math.max(...lengths) - Math.min(...lengths) <= 1);
    }),
  );
  assert.deepEqual(chunksOf([1, 2], 5), [[1, 2]]);
  assert.deepEqual(chunksOf([], 3), []);
  assert.deepEqual(chunksOf([1, 2], 0), [[1], [2]]);
});
