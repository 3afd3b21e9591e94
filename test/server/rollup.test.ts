import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseInterval, type Bar, type EpochMs, type Interval, type Offset, type Price, type Trade, type Volume } from '../../src/domain/index.ts';
import { batchBars } from '../../src/engine/index.ts';
import { rollupBars, rollupPlans } from '../../src/server/index.ts';

const iv = (label: string): Interval => parseInterval(label) as Interval;
const T0 = Date.UTC(2024, 4, 6, 13, 2, 17);

const tradesArb = fc.array(
  fc.record({
    symbol: fc.constantFrom('AAPL', 'MSFT', 'BINANCE:BTCUSDT'),
    dt: fc.integer({ min: 0, max: 40 * 60_000 }),
    price: fc.double({ min: 0.01, max: 100_000, noNaN: true, noDefaultInfinity: true }),
    // Quarter units are exact in binary, so volume sums do not depend on the order of addition.
    volume: fc.integer({ min: 0, max: 4_000 }).map((v) => v / 4),
  }),
  { minLength: 1, maxLength: 300 },
);

function close(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}

test('5m, 15m and 1h bars rolled up from 1m bars equal the bars computed directly from the same trades', () => {
  fc.assert(
    fc.property(tradesArb, fc.constantFrom('5m', '15m', '1h'), (raw, targetLabel) => {
      const records = raw.map((r, i) => ({
        offset: i as Offset,
        trade: {
          symbol: r.symbol,
          price: r.price as Price,
          volume: r.volume as Volume,
          ts: (T0 + r.dt) as EpochMs,
          conditions: [],
          source: 'simulator',
          ingestTs: (T0 + r.dt) as EpochMs,
        } satisfies Trade,
      }));
      const target = iv(targetLabel);
      const ones = batchBars(records, [iv('1m')]);
      const direct = batchBars(records, [target]);
      const rolled = rollupBars(ones, target);
      assert.equal(rolled.length, direct.length);
      for (let i = 0; i < direct.length; i++) {
        const d = direct[i] as Bar;
        const r = rolled[i] as Bar;
        const exact = (b: Bar) => ({ ...b, vwap: b.vwap === null ? null : 0, avgPrice: 0 });
        assert.deepEqual(exact(r), exact(d), 'every field but the re-weighted means is exact');
        assert.ok(close(r.avgPrice, d.avgPrice), `avg_price ${r.avgPrice} vs ${d.avgPrice}`);
        if (d.vwap !== null) assert.ok(r.vwap !== null && close(r.vwap, d.vwap), `vwap ${r.vwap} vs ${d.vwap}`);
      }
    }),
    { numRuns: 300, seed: 20240506 },
  );
});

test('rolling up is the identity on bars already of the target interval', () => {
  const bars = batchBars(
    [0, 1, 2].map((i) => ({
      offset: i as Offset,
      trade: { symbol: 'AAPL', price: (10 + i) as Price, volume: 2 as Volume, ts: (T0 + i * 400_000) as EpochMs, conditions: [], source: 'simulator', ingestTs: T0 as EpochMs } satisfies Trade,
    })),
    [iv('5m')],
  );
  assert.deepEqual(rollupBars(bars, iv('5m')), bars);
});

test('each roll-up is computed from the largest engine interval that divides it; engine intervals are not rolled up', () => {
  const plans = (labels: string[]) => rollupPlans(labels.map(iv)).map((p) => `${p.target.label}<-${p.source.label}`);
  assert.deepEqual(plans(['5s', '1m']), ['5m<-1m', '15m<-1m', '1h<-1m']);
  assert.deepEqual(plans(['5s']), ['5m<-5s', '15m<-5s', '1h<-5s']);
  assert.deepEqual(plans(['1m', '5m']), ['15m<-5m', '1h<-5m']);
  assert.deepEqual(plans(['7s']), []);
  assert.deepEqual(plans(['1h']), []);
});
