import type { Bar } from '../domain/index.ts';
import { RateMeter } from '../observability/index.ts';
import type { StoredTrade, SymbolTrades } from '../store/store.ts';
import type { SymbolSummary } from './wire.ts';

export type { SymbolSummary } from './wire.ts';

export const SPARKLINE_POINTS = 60;

interface SymbolState {
  lastPrice: number | null;
  lastTs: number | null;
  lastSeq: number;
  sessionOpen: number | null;
  readonly rate: RateMeter;
  /** Recent bars of the sparkline interval, ascending window_start, one per window. */
  readonly spark: { windowStart: number; close: number }[];
}

/**
 * The watchlist's live state per symbol, kept in memory: fed by every flush
 * (publishTrades / publishBars) and seeded from the store at start, so a
 * /api/symbols request never reads the store.
 */
export class SymbolBoard {
  readonly #sparkInterval: string;
  readonly #order: string[] = [];
  readonly #states = new Map<string, SymbolState>();

  /** `configured` come first, in config order; others are added as they are seen. */
  constructor(configured: readonly string[], sparkInterval: string) {
    this.#sparkInterval = sparkInterval;
    for (const s of configured) this.#state(s);
  }

  get symbols(): readonly string[] {
    return this.#order;
  }

  /** Seeds a symbol from the store: its latest trade and recent bars (ascending). Live data already seen wins. */
  seed(symbol: string, latest: StoredTrade | undefined, bars: readonly Bar[]): void {
    const s = this.#state(symbol);
    if (latest !== undefined && (s.lastTs === null || latest.trade.ts > s.lastTs)) {
      s.lastPrice = latest.trade.price;
      s.lastTs = latest.trade.ts;
      s.lastSeq = latest.seq;
    }
    const oldest = bars[0];
    if (oldest !== undefined) s.sessionOpen = oldest.open;
    else if (s.sessionOpen === null && latest !== undefined) s.sessionOpen = latest.trade.price;
    for (const b of bars) addSpark(s.spark, b.windowStart, b.close);
  }

  trades(trades: readonly SymbolTrades[], nowMs: number): void {
    for (const t of trades) {
      const s = this.#state(t.symbol);
      s.rate.mark(t.count, nowMs);
      s.sessionOpen ??= t.first.trade.price;
      // The newest by (ts, seq): trades of a symbol arrive in log order, but event time may step back.
      const { trade, seq } = t.latest;
      if (s.lastTs === null || trade.ts > s.lastTs || (trade.ts === s.lastTs && seq > s.lastSeq)) {
        s.lastPrice = trade.price;
        s.lastTs = trade.ts;
        s.lastSeq = seq;
      }
    }
  }

  bars(bars: readonly Bar[]): void {
    for (const b of bars) {
      if (b.interval !== this.#sparkInterval) continue;
      addSpark(this.#state(b.symbol).spark, b.windowStart, b.close);
    }
  }

  summaries(nowMs: number): SymbolSummary[] {
    return this.#order.map((symbol) => {
      const s = this.#states.get(symbol) as SymbolState;
      const change =
        s.lastPrice !== null && s.sessionOpen !== null && s.sessionOpen !== 0
          ? Number((((s.lastPrice - s.sessionOpen) / s.sessionOpen) * 100).toFixed(4))
          : null;
      return {
        symbol,
        last_price: s.lastPrice,
        last_ts: s.lastTs,
        session_open: s.sessionOpen,
        change_pct: change,
        trades_per_s: Number(s.rate.perSecond(nowMs).toFixed(1)),
        sparkline: s.spark.map((p) => p.close),
      };
    });
  }

  #state(symbol: string): SymbolState {
    let s = this.#states.get(symbol);
    if (s === undefined) {
      s = { lastPrice: null, lastTs: null, lastSeq: -1, sessionOpen: null, rate: new RateMeter(), spark: [] };
      this.#states.set(symbol, s);
      this.#order.push(symbol);
    }
    return s;
  }
}

/** Inserts or updates a window's close, keeping ascending order and at most SPARKLINE_POINTS windows. */
function addSpark(spark: { windowStart: number; close: number }[], windowStart: number, close: number): void {
  let i = spark.length - 1;
  while (i >= 0 && spark[i]!.windowStart > windowStart) i--;
  if (i >= 0 && spark[i]!.windowStart === windowStart) {
    spark[i]!.close = close;
    return;
  }
  if (i < 0 && spark.length >= SPARKLINE_POINTS) return;
  spark.splice(i + 1, 0, { windowStart, close });
  if (spark.length > SPARKLINE_POINTS) spark.splice(0, spark.length - SPARKLINE_POINTS);
}
