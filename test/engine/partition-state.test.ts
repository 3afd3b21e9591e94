import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { offset, type Bar } from '../../src/domain/index.ts';
import {
  applyTrade,
  batchBars,
  flushPartition,
  newPartitionState,
  serializePartitionState,
  watermarkOf,
  type PartitionState,
} from '../../src/engine/index.ts';
import { barKey, options, scenarioArb, sortBars, T0, trade, type Scenario, type Step } from './scenario.ts';

/** Runs a scenario, flushing where it says and once at the end; returns the last emitted version of each bar. */
function lastEmitted(scenario: Scenario): { bars: Map<string, Bar>; accepted: Step['record'][]; late: number } {
  const state = newPartitionState();
  const bars = new Map<string, Bar>();
  const accepted: Step['record'][] = [];
  let late = 0;
  const collect = (s: PartitionState): void => {
    for (const bar of flushPartition(s, scenario.options).bars) bars.set(barKey(bar), bar);
  };
  for (const step of scenario.steps) {
    if (applyTrade(state, step.record.trade, step.record.offset, scenario.options) === 'accepted') {
      accepted.push(step.record);
    } else {
      late++;
    }
    if (step.flush) collect(state);
  }
  collect(state);
  return { bars, accepted, late };
}

test('with disorder within lateness, the last emitted version of every bar equals batchBars exactly, whatever the flush points', () => {
  fc.assert(
    fc.property(scenarioArb(true), (scenario) => {
      const { bars, accepted, late } = lastEmitted(scenario);
      assert.equal(late, 0, 'no trade is late when the disorder stays within lateness');
      assert.equal(accepted.length, scenario.steps.length);
      const expected = batchBars(
        scenario.steps.map((s) => s.record),
        scenario.options.intervals,
      );
      assert.deepEqual(sortBars(bars.values(), scenario.options.intervals), expected);
    }),
    { numRuns: 300 },
  );
});

test('with any disorder, the emitted bars equal batchBars over the accepted trades: a late trade is in no interval', () => {
  fc.assert(
    fc.property(scenarioArb(false), (scenario) => {
      const { bars, accepted } = lastEmitted(scenario);
      assert.deepEqual(sortBars(bars.values(), scenario.options.intervals), batchBars(accepted, scenario.options.intervals));
    }),
    { numRuns: 300 },
  );
});

test('open and close ties in the same millisecond are broken by offset', () => {
  const o = options(['5s'], 10_000);
  const state = newPartitionState();
  applyTrade(state, trade('AAPL', T0 + 100, 10, 1), offset(0), o);
  applyTrade(state, trade('AAPL', T0 + 100, 11, 1), offset(1), o);
  applyTrade(state, trade('AAPL', T0 + 300, 12, 1), offset(2), o);
  applyTrade(state, trade('AAPL', T0 + 300, 13, 1), offset(3), o);
  // Arrives last but happened first: it opens the bar.
  applyTrade(state, trade('AAPL', T0 + 50, 9, 1), offset(4), o);
  const [bar] = flushPartition(state, o).bars;
  assert.equal(bar?.open, 9);
  assert.equal(bar?.close, 13);

  const tied = newPartitionState();
  applyTrade(tied, trade('AAPL', T0, 20, 1), offset(7), o);
  applyTrade(tied, trade('AAPL', T0, 21, 1), offset(8), o);
  applyTrade(tied, trade('AAPL', T0, 22, 1), offset(9), o);
  const [tiedBar] = flushPartition(tied, o).bars;
  assert.equal(tiedBar?.open, 20, 'lowest offset opens');
  assert.equal(tiedBar?.close, 22, 'highest offset closes');
});

test('a window whose trades all have zero volume has a null vwap and a real avg_price', () => {
  const o = options(['5s'], 10_000);
  const state = newPartitionState();
  applyTrade(state, trade('AAPL', T0, 10, 0), offset(0), o);
  applyTrade(state, trade('AAPL', T0 + 1, 20, 0), offset(1), o);
  const [bar] = flushPartition(state, o).bars;
  assert.equal(bar?.vwap, null);
  assert.equal(bar?.volume, 0);
  assert.equal(bar?.avgPrice, 15);
  assert.equal(bar?.tradeCount, 2);
});

test('aggregates follow the definitions: high, low, volume, vwap, avg_price, trade count, window end', () => {
  const o = options(['5s'], 10_000);
  const state = newPartitionState();
  applyTrade(state, trade('AAPL', T0 + 1_000, 10, 1), offset(0), o);
  applyTrade(state, trade('AAPL', T0 + 2_000, 14, 3), offset(1), o);
  applyTrade(state, trade('AAPL', T0 + 3_000, 8, 0), offset(2), o);
  const bars = flushPartition(state, o).bars;
  assert.deepEqual(bars, [
    {
      symbol: 'AAPL',
      interval: '5s',
      windowStart: T0,
      windowEnd: T0 + 5_000,
      open: 10,
      high: 14,
      low: 8,
      close: 8,
      volume: 4,
      vwap: (10 * 1 + 14 * 3) / 4,
      avgPrice: 32 / 3,
      tradeCount: 3,
    },
  ]);
});

test('late trade beyond lateness is counted as late, not aggregated, and leaves the bars and the watermark unchanged', () => {
  const o = options(['5s', '1m'], 1_000);
  const state = newPartitionState();
  assert.equal(applyTrade(state, trade('AAPL', T0, 100, 1), offset(0), o), 'accepted');
  assert.equal(applyTrade(state, trade('AAPL', T0 + 7_000, 101, 1), offset(1), o), 'accepted');
  assert.equal(flushPartition(state, o).bars.length, 3);
  const snapshot = serializePartitionState(state);
  const watermark = watermarkOf(state, o);
  assert.equal(watermark, T0 + 6_000);

  // Its 5s window [T0, T0+5s) ended before the watermark; its 1m window is still open,
  // but late for one interval is late for all.
  assert.equal(applyTrade(state, trade('AAPL', T0 + 4_999, 999, 5), offset(2), o), 'late');
  assert.equal(serializePartitionState(state), snapshot, 'state unchanged');
  assert.equal(watermarkOf(state, o), watermark);
  assert.deepEqual(flushPartition(state, o).bars, [], 'no bar changed');
});

test('finalized windows are dropped once the watermark passes their end, and emitted once if they changed in the same flush', () => {
  const o = options(['5s'], 1_000);
  const state = newPartitionState();
  applyTrade(state, trade('AAPL', T0 + 100, 10, 1), offset(0), o);
  applyTrade(state, trade('AAPL', T0 + 200, 11, 1), offset(1), o);
  // Moves the watermark to T0 + 5000: the first window ends there, so it is final now.
  applyTrade(state, trade('AAPL', T0 + 6_000, 12, 1), offset(2), o);
  const first = flushPartition(state, o);
  assert.deepEqual(
    first.bars.map((b) => [b.windowStart, b.tradeCount]),
    [
      [T0, 2],
      [T0 + 5_000, 1],
    ],
  );
  assert.equal(first.finalized, 1);
  assert.equal(first.openWindows, 1);
  assert.doesNotMatch(serializePartitionState(state), new RegExp(`"windowStart":${T0},`), 'the final window is gone');

  const second = flushPartition(state, o);
  assert.deepEqual(second, { bars: [], finalized: 0, openWindows: 1 }, 'nothing changed, nothing emitted');
});

test('update mode: a flush emits only the windows changed since the previous flush', () => {
  const o = options(['5s'], 60_000);
  const state = newPartitionState();
  applyTrade(state, trade('AAPL', T0, 10, 1), offset(0), o);
  applyTrade(state, trade('MSFT', T0, 20, 1), offset(1), o);
  assert.equal(flushPartition(state, o).bars.length, 2);
  applyTrade(state, trade('MSFT', T0 + 1, 21, 1), offset(2), o);
  const { bars, openWindows } = flushPartition(state, o);
  assert.deepEqual(
    bars.map((b) => [b.symbol, b.tradeCount, b.close]),
    [['MSFT', 2, 21]],
  );
  assert.equal(openWindows, 2);
});

test('each trade is added to one window per interval, aligned to the epoch', () => {
  const o = options(['5s', '1m'], 60_000);
  const state = newPartitionState();
  applyTrade(state, trade('AAPL', 1_700_000_061_234, 10, 2), offset(0), o);
  const bars = flushPartition(state, o).bars.map((b) => [b.interval, b.windowStart, b.windowEnd]);
  assert.deepEqual(
    bars.sort(),
    [
      ['1m', 1_700_000_040_000, 1_700_000_100_000],
      ['5s', 1_700_000_060_000, 1_700_000_065_000],
    ].sort(),
  );
});

test('options passed as a new object on each call give the same result as one shared object', () => {
  const shared = options(['5s', '1m'], 5_000);
  const a = newPartitionState();
  const b = newPartitionState();
  for (let i = 0; i < 50; i++) {
    const t = trade(i % 2 === 0 ? 'AAPL' : 'MSFT', T0 + i * 700, 100 + i, i % 4);
    applyTrade(a, t, offset(i), shared);
    applyTrade(b, t, offset(i), options(['5s', '1m'], 5_000));
  }
  assert.deepEqual(flushPartition(a, shared), flushPartition(b, options(['5s', '1m'], 5_000)));
});
