import type { Bar } from '../../src/domain/index.ts';
import { StoreUnavailableError } from '../../src/errors.ts';
import type { BarQuery, Checkpoint, FlushBatch, MigrationResult, Store, StoredTrade, TradeQuery } from '../../src/store/store.ts';
import { pagesForward, storedTradesOf } from '../../src/store/index.ts';

/** A Store in memory for the server's unit tests; `failing = true` makes every call reject as a broken store would. */
export class MemoryStore implements Store {
  readonly kind = 'sqlite' as const;
  failing = false;
  readonly #bars = new Map<string, Bar>();
  readonly #trades = new Map<string, StoredTrade>();
  readonly #checkpoints = new Map<string, Checkpoint>();

  async migrate(): Promise<MigrationResult> {
    this.#check();
    return { applied: [], current: 'memory' };
  }

  async write(batch: FlushBatch): Promise<void> {
    this.#check();
    for (const t of storedTradesOf(batch)) this.#trades.set(`${t.trade.symbol}|${t.trade.ts}|${t.seq}`, t);
    for (const b of batch.bars) this.#bars.set(`${b.symbol}|${b.interval}|${b.windowStart}`, b);
    for (const c of batch.checkpoints) this.#checkpoints.set(`${c.engineId}|${c.partition}`, c);
  }

  async bars(q: BarQuery): Promise<Bar[]> {
    this.#check();
    const from = q.from ?? -Infinity;
    const to = q.to ?? Infinity;
    const matching = [...this.#bars.values()]
      .filter((b) => b.symbol === q.symbol && b.interval === q.interval && b.windowStart >= from && b.windowStart < to)
      .sort((a, b) => a.windowStart - b.windowStart);
    return pagesForward(q) ? matching.slice(0, q.limit) : matching.slice(Math.max(0, matching.length - q.limit));
  }

  async trades(q: TradeQuery): Promise<StoredTrade[]> {
    this.#check();
    const before = q.before ?? Infinity;
    const seq = q.before === undefined ? -1 : (q.beforeSeq ?? -1);
    return [...this.#trades.values()]
      .filter((t) => t.trade.symbol === q.symbol && (t.trade.ts < before || (t.trade.ts === before && t.seq < seq)))
      .sort((a, b) => b.trade.ts - a.trade.ts || b.seq - a.seq)
      .slice(0, q.limit);
  }

  async symbols(): Promise<string[]> {
    this.#check();
    return [...new Set([...[...this.#bars.values()].map((b) => b.symbol), ...[...this.#trades.values()].map((t) => t.trade.symbol)])].sort();
  }

  async checkpoints(engineId: string): Promise<Map<number, Checkpoint>> {
    this.#check();
    return new Map([...this.#checkpoints.values()].filter((c) => c.engineId === engineId).map((c) => [c.partition, c]));
  }

  async close(): Promise<void> {}

  #check(): void {
    if (this.failing) throw new StoreUnavailableError('memory store is failing (test)');
  }
}
