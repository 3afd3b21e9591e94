import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { offset } from '../../src/domain/index.ts';
import { batchBars } from '../../src/engine/index.ts';
import { interval, T0, trade } from './scenario.ts';

const FIVE_SECONDS = [interval('5s')];

test('batchBars takes records in offset order, whatever order they are given in', () => {
  const records = [
    { trade: trade('AAPL', T0 + 5, 0.1, 1), offset: offset(2) },
    { trade: trade('AAPL', T0 + 5, 0.2, 1), offset: offset(0) },
    { trade: trade('AAPL', T0 + 5, 0.3, 1), offset: offset(1) },
  ];
  const [bar] = batchBars(records, FIVE_SECONDS);
  assert.equal(bar?.open, 0.2, 'same millisecond: lowest offset opens');
  assert.equal(bar?.close, 0.1, 'same millisecond: highest offset closes');
  // (0.2 + 0.3) + 0.1 in offset order; (0.1 + 0.2) + 0.3 would differ in the last bit.
  assert.equal(bar?.avgPrice, (0.2 + 0.3 + 0.1) / 3);
  assert.notEqual(bar?.avgPrice, (0.1 + 0.2 + 0.3) / 3);
  fc.assert(
    fc.property(fc.shuffledSubarray(records, { minLength: 3, maxLength: 3 }), (shuffled) => {
      assert.deepEqual(batchBars(shuffled, FIVE_SECONDS), batchBars(records, FIVE_SECONDS));
    }),
  );
});

test('batchBars puts each record in one window per interval and orders bars by symbol, interval, window start', () => {
  const records = [
    { trade: trade('MSFT', T0 + 61_000, 2, 1), offset: offset(0) },
    { trade: trade('AAPL', T0 + 1_000, 1, 1), offset: offset(1) },
    { trade: trade('AAPL', T0 + 7_000, 3, 0), offset: offset(2) },
  ];
  const bars = batchBars(records, [interval('5s'), interval('1m')]);
  assert.deepEqual(
    bars.map((b) => [b.symbol, b.interval, b.windowStart - T0, b.windowEnd - b.windowStart, b.tradeCount]),
    [
      ['AAPL', '5s', 0, 5_000, 1],
      ['AAPL', '5s', 5_000, 5_000, 1],
      ['AAPL', '1m', -20_000, 60_000, 2],
      ['MSFT', '5s', 60_000, 5_000, 1],
      ['MSFT', '1m', 40_000, 60_000, 1],
    ],
  );
  assert.equal(bars[1]?.vwap, null, 'zero volume: no vwap');
  assert.equal(bars[2]?.vwap, 1, 'only the trade with volume weighs');
});

test('batchBars of no records is no bars', () => {
  assert.deepEqual(batchBars([], FIVE_SECONDS), []);
});
