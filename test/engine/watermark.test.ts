import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { offset } from '../../src/domain/index.ts';
import { applyTrade, newPartitionState, watermarkOf } from '../../src/engine/index.ts';
import { isLate } from '../../src/engine/watermark.ts';
import { interval, options, scenarioArb, T0, trade } from './scenario.ts';

test('a trade is late exactly when its window end is at or before the watermark', () => {
  const o = options(['5s'], 2_000);
  const state = newPartitionState();
  applyTrade(state, trade('AAPL', T0 + 7_000, 1, 1), offset(0), o); // watermark T0 + 5000
  assert.equal(applyTrade(state, trade('AAPL', T0 + 4_999, 1, 1), offset(1), o), 'late', 'window end = watermark');
  assert.equal(applyTrade(state, trade('AAPL', T0 + 5_000, 1, 1), offset(2), o), 'accepted', 'window end = watermark + 5s');
});

test('the watermark is the max event time seen minus lateness, undefined before the first trade, and never goes back', () => {
  const o = options(['1s'], 3_000);
  const state = newPartitionState();
  assert.equal(watermarkOf(state, o), undefined);
  applyTrade(state, trade('AAPL', T0 + 10_000, 1, 1), offset(0), o);
  assert.equal(watermarkOf(state, o), T0 + 7_000);
  applyTrade(state, trade('MSFT', T0 + 8_500, 1, 1), offset(1), o);
  assert.equal(watermarkOf(state, o), T0 + 7_000, 'an earlier trade does not lower it');
  applyTrade(state, trade('MSFT', T0 + 12_000, 1, 1), offset(2), o);
  assert.equal(watermarkOf(state, o), T0 + 9_000);
});

test('over any arrival order the watermark only moves forward and equals the max accepted time minus lateness', () => {
  fc.assert(
    fc.property(scenarioArb(false), (scenario) => {
      const state = newPartitionState();
      let maxAccepted = -Infinity;
      let previous = -Infinity;
      for (const { record } of scenario.steps) {
        const before = watermarkOf(state, scenario.options) ?? -Infinity;
        const verdict = applyTrade(state, record.trade, record.offset, scenario.options);
        if (verdict === 'accepted') maxAccepted = Math.max(maxAccepted, record.trade.ts);
        assert.equal(verdict === 'late', isLate(record.trade.ts, scenario.options.intervals, before));
        const now = watermarkOf(state, scenario.options);
        assert.equal(now, maxAccepted - scenario.options.lateness);
        assert.ok((now ?? -Infinity) >= previous);
        previous = now ?? -Infinity;
      }
    }),
    { numRuns: 200 },
  );
});

test('nothing is late before the first trade, and a trade no further behind than lateness is never late', () => {
  const intervals = [interval('5s'), interval('7s'), interval('1m')];
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: 0, max: 100_000 }), (ts, lateness) => {
      assert.equal(isLate(ts, intervals, -Infinity), false);
      assert.equal(isLate(ts, intervals, ts - lateness), false);
    }),
  );
  assert.equal(isLate(T0, [], T0 + 1_000_000), false, 'with no intervals nothing is late');
});
