import type { BarRecord } from '../../src/domain/bar.ts';
import { windowStartOf, type Interval } from '../../src/domain/interval.ts';
import type { EpochMs } from '../../src/domain/units.ts';

/**
 * Merges the bars of one target window (all of the same symbol, any order) into one bar.
 * vwap is rebuilt from Σ vwap·volume, so a base bar with zero volume (vwap null) adds nothing to it;
 * avg_price is weighted by trade count, which makes it the mean of every trade's price again.
 */
export function mergeBars(bars: readonly BarRecord[], target: Interval): BarRecord | undefined {
  const sorted = [...bars].sort((a, b) => a.window_start - b.window_start);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (first === undefined || last === undefined) return undefined;
  let high = -Infinity;
  let low = Infinity;
  let volume = 0;
  let priceVolume = 0;
  let priceSum = 0;
  let tradeCount = 0;
  for (const b of sorted) {
    if (b.high > high) high = b.high;
    if (b.low < low) low = b.low;
    volume += b.volume;
    if (b.vwap !== null) priceVolume += b.vwap * b.volume;
    priceSum += b.avg_price * b.trade_count;
    tradeCount += b.trade_count;
  }
  const windowStart = windowStartOf(first.window_start as EpochMs, target.ms);
  return {
    symbol: first.symbol,
    interval: target.label,
    window_start: windowStart,
    window_end: windowStart + target.ms,
    open: first.open,
    high,
    low,
    close: last.close,
    volume,
    vwap: volume > 0 ? priceVolume / volume : null,
    avg_price: tradeCount > 0 ? priceSum / tradeCount : first.avg_price,
    trade_count: tradeCount,
  };
}

/** The largest base interval whose size divides the target's, as the server rolls up. */
export function baseIntervalFor(target: Interval, engine: readonly Interval[]): Interval | undefined {
  let best: Interval | undefined;
  for (const i of engine) {
    if (i.ms < target.ms && target.ms % i.ms === 0 && (best === undefined || i.ms > best.ms)) best = i;
  }
  return best;
}

/** The API's largest page of bars (BAR_LIMIT.max in src/server/http-server.ts). */
const MAX_BARS = 5_000;

/**
 * The base bars a forming roll-up starts from: the newest ones, as many as the newest two target windows can hold.
 * Asked for by count, not from a time, so the forming candle follows the data's own time (a replay of old trades,
 * a browser whose clock is off), never the browser's clock.
 */
export function formingBaseQuery(target: Interval, base: Interval): { interval: string; limit: number } {
  return { interval: base.label, limit: Math.min(MAX_BARS, Math.ceil((2 * target.ms) / base.ms) + 2) };
}

/**
 * The forming candle of a rolled-up interval (5m, 15m, 1h), kept live from base-interval (1m) bar updates.
 * It holds the base bars of the newest two target windows: the previous one can still change until the
 * engine's watermark passes its end.
 */
export class FormingRollup {
  readonly #target: Interval;
  readonly #base: Interval;
  readonly #symbol: string;
  /** window_start of a base bar → the newest version of that bar. */
  readonly #bases = new Map<number, BarRecord>();

  constructor(symbol: string, target: Interval, base: Interval) {
    this.#symbol = symbol;
    this.#target = target;
    this.#base = base;
  }

  get baseInterval(): string {
    return this.#base.label;
  }

  /**
   * Takes a base bar (others are ignored) and returns the rolled-up bar of its window, recomputed,
   * or undefined when the bar is for another symbol or interval or for a window already pruned.
   */
  apply(bar: BarRecord): BarRecord | undefined {
    if (bar.symbol !== this.#symbol || bar.interval !== this.#base.label) return undefined;
    const window = this.#windowOf(bar.window_start);
    if (window < this.#oldestKept()) return undefined;
    this.#bases.set(bar.window_start, bar);
    this.#prune();
    return this.barAt(window);
  }

  /** The rolled-up bar of the target window starting at `windowStart`, from the base bars held. */
  barAt(windowStart: number): BarRecord | undefined {
    const inWindow: BarRecord[] = [];
    for (const b of this.#bases.values()) if (this.#windowOf(b.window_start) === windowStart) inWindow.push(b);
    return mergeBars(inWindow, this.#target);
  }

  #windowOf(ts: number): number {
    return windowStartOf(ts as EpochMs, this.#target.ms);
  }

  #newestWindow(): number {
    let newest = -Infinity;
    for (const ws of this.#bases.keys()) newest = Math.max(newest, this.#windowOf(ws));
    return newest;
  }

  #oldestKept(): number {
    return this.#newestWindow() - this.#target.ms;
  }

  #prune(): void {
    const oldest = this.#oldestKept();
    for (const ws of this.#bases.keys()) if (this.#windowOf(ws) < oldest) this.#bases.delete(ws);
  }
}
