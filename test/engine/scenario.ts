// Trade streams for the engine tests, generated in code.
import fc from 'fast-check';
import {
  durationMs,
  epochMs,
  offset,
  parseInterval,
  price,
  volume,
  type Bar,
  type Interval,
  type Offset,
  type Trade,
} from '../../src/domain/index.ts';
import type { EngineOptions } from '../../src/engine/index.ts';

export const T0 = 1_700_000_000_000;

export function interval(label: string): Interval {
  const parsed = parseInterval(label);
  if (parsed === undefined) throw new Error(`bad interval ${label}`);
  return parsed;
}

export function options(labels: readonly string[], latenessMs: number): EngineOptions {
  return { intervals: labels.map(interval), lateness: durationMs(latenessMs) };
}

export function trade(symbol: string, ts: number, p: number, v: number): Trade {
  return {
    symbol,
    price: price(p),
    volume: volume(v),
    ts: epochMs(ts),
    conditions: [],
    source: 'simulator',
    ingestTs: epochMs(ts),
  };
}

export interface Step {
  readonly record: { trade: Trade; offset: Offset };
  /** Flush after applying this record. */
  readonly flush: boolean;
  /** Checkpoint and restore the state after applying this record (and after the flush, if any). */
  readonly restart: boolean;
}

export interface Scenario {
  readonly options: EngineOptions;
  readonly steps: readonly Step[];
}

/** Interval sets that nest (5s, 1m) and that do not (7s with 5s), down to sub-second. */
const INTERVAL_LABELS = ['250ms', '1s', '5s', '7s', '1m'];
const SYMBOLS = ['AAPL', 'MSFT', 'BINANCE:BTCUSDT'];

const priceArb = fc.oneof(
  fc.integer({ min: 1, max: 100_000 }).map((cents) => cents / 100),
  fc.double({ min: 1e-6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
);
const volumeArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 1_000 }),
  fc.double({ min: 0, max: 1e4, noNaN: true, noDefaultInfinity: true }),
);

/**
 * Trades in arrival order (offset = position). With `withinLateness`, each trade's
 * time is at least (max time so far − lateness): the disorder stays within lateness,
 * so no trade is late. Without it, trades may fall arbitrarily far behind.
 */
export function scenarioArb(withinLateness: boolean): fc.Arbitrary<Scenario> {
  return fc
    .record({
      labels: fc.uniqueArray(fc.constantFrom(...INTERVAL_LABELS), { minLength: 1, maxLength: 3 }),
      lateness: fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.integer({ min: 1, max: 20_000 }), weight: 4 }),
      start: fc.integer({ min: 0, max: 10_000_000 }),
      moves: fc.array(
        fc.record({
          symbol: fc.constantFrom(...SYMBOLS),
          // Often 0, so that trades share a millisecond and ties are broken by offset.
          advance: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3_000 })),
          back: fc.integer({ min: 0, max: 1_000 }).map((n) => n / 1_000),
          farBack: fc.integer({ min: 0, max: 200_000 }),
          price: priceArb,
          volume: volumeArb,
          flush: fc.boolean(),
          restart: fc.boolean(),
        }),
        { maxLength: 150, size: 'max' },
      ),
    })
    .map(({ labels, lateness, start, moves }) => {
      let base = T0 + start;
      const steps = moves.map((m, i): Step => {
        base += m.advance;
        const behind = withinLateness ? Math.floor(m.back * lateness) : m.farBack;
        return {
          record: { trade: trade(m.symbol, Math.max(0, base - behind), m.price, m.volume), offset: offset(i) },
          flush: m.flush,
          restart: m.restart,
        };
      });
      return { options: options(labels, lateness), steps };
    });
}

export function barKey(b: Bar): string {
  return `${b.symbol}\u0000${b.interval}\u0000${b.windowStart}`;
}

/** Orders bars like batchBars: symbol, then interval as configured, then window start. */
export function sortBars(bars: Iterable<Bar>, intervals: readonly Interval[]): Bar[] {
  const rank = new Map(intervals.map((iv, i) => [iv.label, i]));
  return [...bars].sort(
    (a, b) =>
      (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0) ||
      (rank.get(a.interval) ?? 0) - (rank.get(b.interval) ?? 0) ||
      a.windowStart - b.windowStart,
  );
}
