// Watches the bars table of a keyspace from outside the engine, so both engines are timed the same way.
import cassandra from 'cassandra-driver';
import type { Config } from '../src/config/index.ts';
import { windowStartOf, type Interval, type Trade } from '../src/domain/index.ts';

/** One watched trade: its bars are all stored once every interval's bar has counted it. */
interface Watched {
  readonly ingestTs: number;
  /** False for warm-up trades: counted in their bars, left out of the latencies. */
  readonly measured: boolean;
  remaining: number;
  observedAt: number;
}

/** The trades of one (symbol, interval, window) in the order they were produced. */
interface WindowWatch {
  readonly trades: Watched[];
  /** How many of them the stored bar has counted, as last read. */
  seen: number;
}

/**
 * Reads `trade_count` of the stored bars. Totals: Σ trade_count per interval (throughput runs).
 * Latency: a trade is in its bar once the stored bar of its (symbol, interval, window) counts
 * at least as many trades as there were up to and including it in that window, in produce
 * order. That holds because both engines read a symbol's trades in offset order (one partition
 * per symbol key, appended in sequence) and no trade of these runs is late. A trade's latency
 * is from its ingest_ts to the end of the first poll that saw every one of its bars.
 */
export class BarWatch {
  readonly #client: cassandra.Client;
  readonly #keyspace: string;
  readonly #symbols: readonly string[];
  readonly #intervals: readonly Interval[];
  readonly #windows = new Map<string, Map<number, WindowWatch>>();
  readonly #latencies: number[] = [];
  #pending = 0;
  #polls = 0;
  #pollMs = 0;

  constructor(config: Config, keyspace: string, symbols: readonly string[]) {
    this.#client = new cassandra.Client({ contactPoints: [...config.cassandra.contactPoints], localDataCenter: config.cassandra.localDataCenter });
    this.#keyspace = keyspace;
    this.#symbols = symbols;
    this.#intervals = config.intervals;
  }

  /** Σ trade_count of the stored bars of each interval, in config order. */
  async totals(): Promise<number[]> {
    const cql = `SELECT trade_count FROM ${this.#keyspace}.bars WHERE symbol = ? AND interval = ?`;
    return Promise.all(
      this.#intervals.map(async (interval) => {
        const counts = await Promise.all(
          this.#symbols.map(async (symbol) => {
            const rs = await this.#client.execute(cql, [symbol, interval.label], { prepare: true, fetchSize: 100_000 });
            return rs.rows.reduce((n, r) => n + Number(r['trade_count'] ?? 0), 0);
          }),
        );
        return counts.reduce((a, b) => a + b, 0);
      }),
    );
  }

  /** Starts watching trades just appended to the log, in the order they were appended. */
  watch(trades: readonly Trade[], measured = true): void {
    for (const t of trades) {
      const w: Watched = { ingestTs: t.ingestTs, measured, remaining: this.#intervals.length, observedAt: 0 };
      this.#pending++;
      for (const interval of this.#intervals) {
        const key = `${t.symbol}\u0000${interval.label}`;
        let byWindow = this.#windows.get(key);
        if (byWindow === undefined) this.#windows.set(key, (byWindow = new Map()));
        const ws = windowStartOf(t.ts, interval.ms);
        let win = byWindow.get(ws);
        if (win === undefined) byWindow.set(ws, (win = { trades: [], seen: 0 }));
        win.trades.push(w);
      }
    }
  }

  /** Trades watched whose bars have not all been seen yet. */
  get pending(): number {
    return this.#pending;
  }

  /** Mean time one poll of every watched (symbol, interval) took, ms: the resolution of the latencies. */
  get meanPollMs(): number {
    return this.#polls === 0 ? 0 : this.#pollMs / this.#polls;
  }

  /** Latencies (ms) of the trades seen so far, in the order they were seen. */
  get latencies(): readonly number[] {
    return this.#latencies;
  }

  /** Reads the windows that still have unseen trades, from the oldest such window of each (symbol, interval) on. */
  async poll(): Promise<void> {
    const started = performance.now();
    const cql = `SELECT window_start, trade_count FROM ${this.#keyspace}.bars WHERE symbol = ? AND interval = ? AND window_start >= ?`;
    await Promise.all(
      [...this.#windows].map(async ([key, byWindow]) => {
        let oldest = Number.POSITIVE_INFINITY;
        for (const [ws, win] of byWindow) if (win.seen < win.trades.length) oldest = Math.min(oldest, ws);
        if (oldest === Number.POSITIVE_INFINITY) return;
        const [symbol, interval] = key.split('\u0000') as [string, string];
        const rs = await this.#client.execute(cql, [symbol, interval, oldest], { prepare: true });
        const now = Date.now();
        for (const row of rs.rows) {
          const ws = Number(row['window_start']);
          const win = byWindow.get(ws);
          if (win === undefined) continue;
          const count = Math.min(Number(row['trade_count'] ?? 0), win.trades.length);
          for (; win.seen < count; win.seen++) this.#seen(win.trades[win.seen] as Watched, now);
        }
      }),
    );
    this.#polls++;
    this.#pollMs += performance.now() - started;
  }

  #seen(w: Watched, now: number): void {
    w.observedAt = Math.max(w.observedAt, now);
    if (--w.remaining > 0) return;
    this.#pending--;
    if (w.measured) this.#latencies.push(w.observedAt - w.ingestTs);
  }

  async close(): Promise<void> {
    await this.#client.shutdown();
  }
}

/** The q-quantile (0..1) of the values, nearest rank; NaN when there are none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}
