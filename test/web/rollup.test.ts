// The dashboard's client-side roll-up (web/src/rollup.ts) without a browser: it is pure, so it is checked here
// against the engine's reference computation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseInterval, toBarRecord, type BarRecord, type EpochMs, type Interval, type Offset, type Price, type Trade, type Volume } from '../../src/domain/index.ts';
import { batchBars } from '../../src/engine/index.ts';
import { baseIntervalFor, FormingRollup, formingBaseQuery, mergeBars } from '../../web/src/rollup.ts';

const interval = (label: string): Interval => {
  const i = parseInterval(label);
  assert.ok(i !== undefined);
  return i;
};
const ONE_MINUTE = interval('1m');
const FIVE_MINUTES = interval('5m');
const T0 = 1_700_000_100_000;

const tradesArb = fc.array(
  fc.record({
    dt: fc.integer({ min: 0, max: 15 * 60_000 - 1 }),
    price: fc.integer({ min: 1, max: 100_000 }).map((n) => n / 100),
    // Whole volumes keep Σ volume exact in any grouping; 0 happens on the wire.
    volume: fc.integer({ min: 0, max: 1_000 }),
  }),
  { minLength: 1, maxLength: 200 },
);

function toLog(rows: readonly { dt: number; price: number; volume: number }[], t0 = T0): { trade: Trade; offset: Offset }[] {
  return rows.map((r, i) => ({
    offset: i as Offset,
    trade: {
      symbol: 'AAPL',
      price: r.price as Price,
      volume: r.volume as Volume,
      ts: (t0 + r.dt) as EpochMs,
      conditions: [],
      source: 'simulator',
      ingestTs: (t0 + r.dt) as EpochMs,
    },
  }));
}

/** GET /api/bars over `stored`: bars of the interval with window_start in [from, to), ascending; the oldest `limit` with from and no to, else the newest. */
function serveBars(stored: readonly BarRecord[], q: { interval: string; from?: number; to?: number; limit: number }): BarRecord[] {
  const inRange = stored
    .filter((b) => b.interval === q.interval && b.window_start >= (q.from ?? -Infinity) && b.window_start < (q.to ?? Infinity))
    .sort((a, b) => a.window_start - b.window_start);
  return q.from !== undefined && q.to === undefined ? inRange.slice(0, q.limit) : inRange.slice(Math.max(0, inRange.length - q.limit));
}

const close = (a: number | null, b: number | null): boolean =>
  a === null || b === null ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

function assertSameBar(got: BarRecord | undefined, want: BarRecord): void {
  assert.ok(got !== undefined, `no rolled-up bar for ${want.window_start}`);
  const { vwap, avg_price, ...exact } = got;
  const { vwap: wantVwap, avg_price: wantAvg, ...wantExact } = want;
  assert.deepEqual(exact, wantExact);
  assert.ok(close(vwap, wantVwap), `vwap ${vwap} vs ${wantVwap}`);
  assert.ok(close(avg_price, wantAvg), `avg_price ${avg_price} vs ${wantAvg}`);
}

test('5m bars merged from 1m bars equal 5m bars computed from the same trades', () => {
  fc.assert(
    fc.property(tradesArb, (rows) => {
      const bars = batchBars(toLog(rows), [ONE_MINUTE, FIVE_MINUTES]).map(toBarRecord);
      const minutes = bars.filter((b) => b.interval === '1m');
      for (const want of bars.filter((b) => b.interval === '5m')) {
        const inWindow = minutes.filter((m) => m.window_start >= want.window_start && m.window_start < want.window_end);
        assertSameBar(mergeBars(inWindow, FIVE_MINUTES), want);
      }
    }),
  );
});

test('the forming roll-up follows 1m bar updates in any order and keeps only the newest two windows', () => {
  fc.assert(
    fc.property(tradesArb, fc.integer({ min: 1, max: 10 }), fc.nat(), (rows, cuts, shuffleSeed) => {
      const log = toLog(rows);
      // Replay the stream as the dashboard sees it: 1m bars re-sent (newer versions) after every chunk of trades.
      const rollup = new FormingRollup('AAPL', FIVE_MINUTES, ONE_MINUTE);
      const size = Math.ceil(log.length / cuts);
      for (let end = size; end < log.length + size; end += size) {
        const versions = batchBars(log.slice(0, end), [ONE_MINUTE]).map(toBarRecord);
        // Within one frame the order of bars is not promised.
        const order = versions.map((b, i) => ({ b, k: (i * 7919 + shuffleSeed) % (versions.length + 1) })).sort((x, y) => x.k - y.k);
        for (const { b } of order) rollup.apply(b);
      }
      const want = batchBars(log, [FIVE_MINUTES]).map(toBarRecord);
      const newest = want[want.length - 1] as BarRecord;
      assertSameBar(rollup.barAt(newest.window_start), newest);
      const older = want.filter((b) => b.window_start < newest.window_start - FIVE_MINUTES.ms);
      for (const b of older) assert.equal(rollup.barAt(b.window_start), undefined, 'windows older than the previous one are dropped');
    }),
  );
});

test('the forming roll-up starts from the base bars of the data\'s newest windows, however far they are from the clock', () => {
  fc.assert(
    fc.property(tradesArb, fc.integer({ min: 0, max: 60_000_000 }), (rows, minute) => {
      // From 1970 to about 2084: a replay of old trades, or a browser clock that is ahead of or behind the data.
      const log = toLog(rows, minute * ONE_MINUTE.ms);
      const stored = batchBars(log, [ONE_MINUTE]).map(toBarRecord);
      const rollup = new FormingRollup('AAPL', FIVE_MINUTES, ONE_MINUTE);
      for (const b of serveBars(stored, formingBaseQuery(FIVE_MINUTES, ONE_MINUTE))) rollup.apply(b);
      // The stream then re-sends the newest 1m bar, as it does while that minute forms.
      const newestMinute = stored[stored.length - 1] as BarRecord;
      const want = batchBars(log, [FIVE_MINUTES]).map(toBarRecord);
      const newest = want[want.length - 1] as BarRecord;
      assertSameBar(rollup.apply(newestMinute), newest);
      const previous = want.find((b) => b.window_start === newest.window_start - FIVE_MINUTES.ms);
      if (previous !== undefined) assertSameBar(rollup.barAt(previous.window_start), previous);
    }),
  );
});

test('a bar for another symbol or interval leaves the forming roll-up alone', () => {
  const rollup = new FormingRollup('AAPL', FIVE_MINUTES, ONE_MINUTE);
  const bar: BarRecord = {
    symbol: 'MSFT', interval: '1m', window_start: T0, window_end: T0 + 60_000,
    open: 1, high: 2, low: 1, close: 2, volume: 3, vwap: 1.5, avg_price: 1.5, trade_count: 2,
  };
  assert.equal(rollup.apply(bar), undefined);
  assert.equal(rollup.apply({ ...bar, symbol: 'AAPL', interval: '5s' }), undefined);
  assert.ok(rollup.apply({ ...bar, symbol: 'AAPL' }) !== undefined);
});

test('the base of a roll-up is the largest engine interval that divides it', () => {
  const engine = ['5s', '1m'].map(interval);
  assert.equal(baseIntervalFor(interval('5m'), engine)?.label, '1m');
  assert.equal(baseIntervalFor(interval('1h'), engine)?.label, '1m');
  assert.equal(baseIntervalFor(interval('15s'), engine)?.label, '5s');
  assert.equal(baseIntervalFor(interval('7s'), engine), undefined);
});
