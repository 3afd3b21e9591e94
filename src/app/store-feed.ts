import type { Bar, Interval } from '../domain/index.ts';
import { OutageLog, type Logger, type PipelineStats } from '../observability/index.ts';
import type { LiveFeed } from '../server/index.ts';
import type { Store } from '../store/store.ts';
import { symbolTradesOf } from '../store/index.ts';

export interface StoreFeedOptions {
  readonly store: Store;
  readonly symbols: readonly string[];
  readonly intervals: readonly Interval[];
  readonly live: LiveFeed;
  readonly logger: Logger;
  /** Where the status line learns that reads of the store fail (`storeReadFailingSince`). */
  readonly stats?: PipelineStats;
  readonly pollMs?: number;
  /** Newest trades read per symbol and poll. */
  readonly tradesPerPoll?: number;
}

const barVersion = (b: Bar): string => `${b.tradeCount}:${b.close}:${b.high}:${b.low}:${b.volume}`;

/**
 * The live push of a `serve` process that runs without the engine: it polls the store for
 * the newest bars and trades of each symbol and publishes what changed since the last poll.
 * Reads are bounded: two bars per (symbol, interval) and a few trades per symbol.
 */
export class StoreFeed {
  readonly #o: StoreFeedOptions;
  readonly #bars = new Map<string, string>();
  readonly #seenTrades = new Map<string, Set<string>>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> = Promise.resolve();
  /** A poll a second against a store that is down: the first failure is told, then a reminder now and then. */
  readonly #outage: OutageLog;

  constructor(options: StoreFeedOptions) {
    this.#o = options;
    this.#outage = new OutageLog(options.logger, 'store poll');
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#polling = this.#polling
        .then(() => this.poll())
        .then(
          () => this.#outage.succeeded(),
          (error: unknown) => this.#outage.failed(error),
        )
        .finally(() => {
          if (this.#o.stats !== undefined) this.#o.stats.storeReadFailingSince = this.#outage.failingSince;
        });
    }, this.#o.pollMs ?? 1_000);
    this.#timer.unref();
  }

  async poll(): Promise<void> {
    const { store, live } = this.#o;
    const changed: Bar[] = [];
    for (const symbol of this.#o.symbols) {
      for (const interval of this.#o.intervals) {
        for (const bar of await store.bars({ symbol, interval: interval.label, limit: 2 })) {
          const key = `${symbol}\u0000${interval.label}\u0000${bar.windowStart}`;
          const version = barVersion(bar);
          if (this.#bars.get(key) === version) continue;
          this.#bars.set(key, version);
          changed.push(bar);
        }
      }
      const trades = await store.trades({ symbol, limit: this.#o.tradesPerPoll ?? 20 });
      const seen = this.#seenTrades.get(symbol);
      const keys = new Set(trades.map((t) => `${t.trade.ts}:${t.seq}`));
      const fresh = seen === undefined ? trades : trades.filter((t) => !seen.has(`${t.trade.ts}:${t.seq}`));
      this.#seenTrades.set(symbol, keys);
      if (fresh.length > 0) live.publishTrades(symbolTradesOf([...fresh].reverse(), live.tradesPerSymbol));
    }
    // Keep the version map bounded: only the bars still among the newest two matter.
    if (this.#bars.size > this.#o.symbols.length * this.#o.intervals.length * 8) this.#bars.clear();
    if (changed.length > 0) live.publishBars(changed);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#polling;
  }
}
