import { ClosedError } from '../../errors.ts';
import { partitionOf, type Offset, type Trade } from '../../domain/index.ts';
import type { ConsumerHandler, LogRecord, TradeLogConsumer, TradeLogProducer } from '../bus.ts';

export interface MemoryLogOptions {
  readonly partitions: number;
  /** Most unread records a partition holds; a producer appending to a full partition waits. */
  readonly capacity: number;
  /** Most records handed to the consumer in one call. */
  readonly maxBatch?: number;
  /** Called when the consumer's handler throws; delivery stops. */
  readonly onError?: (error: unknown) => void;
  /** Longest a producer may keep appending before append() lets the event loop run once. */
  readonly yieldEveryMs?: number;
}

const SYMBOL_CACHE_LIMIT = 65_536;

/**
 * One partition: a queue of unread records. The in-process log is not durable, so a
 * record is released as soon as the consumer has read it; the engine's checkpoint (saved
 * with the store) is what survives a restart, and numbering resumes from it.
 */
class Partition {
  readonly records: LogRecord[] = [];
  head = 0;
  nextOffset = 0;
  committed = 0;

  get unread(): number {
    return this.records.length - this.head;
  }

  take(max: number): LogRecord[] {
    const end = Math.min(this.records.length, this.head + max);
    const out = this.records.slice(this.head, end);
    this.head = end;
    if (this.head > 4096 && this.head * 2 > this.records.length) {
      this.records.splice(0, this.head);
      this.head = 0;
    }
    return out;
  }
}

/** An append that found a partition full: the rest of its trades, from `next`, wait for space. */
interface WaitingAppend {
  readonly trades: readonly Trade[];
  next: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The embedded profile's transport: partitioned by symbol hash (as Kafka's default partitioner), bounded, with backpressure. */
export class MemoryLog {
  readonly #partitions: Partition[];
  readonly #capacity: number;
  readonly #maxBatch: number;
  readonly #onError: (error: unknown) => void;
  readonly #yieldEveryMs: number;
  /** Partition by symbol: hashing means a UTF-8 copy of the symbol, once per trade otherwise. */
  readonly #partitionOfSymbol = new Map<string, number>();
  /**
   * Appends that found a partition full, in call order. While one waits, every later append
   * queues behind it, even for partitions with room: otherwise a later append could take the
   * space freed for the waiting one and put a symbol's trades out of arrival order.
   */
  #waiting: WaitingAppend[] = [];
  #lastYield = performance.now();
  #dataWaiter: (() => void) | undefined;
  #consumerStarted = false;
  #closed = false;

  constructor(options: MemoryLogOptions) {
    this.#partitions = Array.from({ length: options.partitions }, () => new Partition());
    this.#capacity = options.capacity;
    this.#maxBatch = options.maxBatch ?? 8192;
    this.#onError = options.onError ?? ((error) => {
      throw error;
    });
    this.#yieldEveryMs = options.yieldEveryMs ?? 1;
  }

  get partitionCount(): number {
    return this.#partitions.length;
  }

  /** Appends in order; waits while a partition is full. Never drops. */
  async append(trades: readonly Trade[]): Promise<void> {
    if (this.#closed) throw new ClosedError('in-process log');
    const stoppedAt = this.#waiting.length === 0 ? this.#push(trades, 0) : 0;
    this.#wakeConsumer();
    if (stoppedAt < trades.length) {
      await new Promise<void>((resolve, reject) => this.#waiting.push({ trades, next: stoppedAt, resolve, reject }));
      return;
    }
    // append() and the consumer hand over in microtasks, so a producer that appends in a
    // loop (a replay, the benchmark) would otherwise hold the event loop until a partition
    // fills: no timers, no HTTP, no replies from the store's worker thread in the meantime.
    const now = performance.now();
    if (now - this.#lastYield >= this.#yieldEveryMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.#lastYield = performance.now();
    }
  }

  /** Appends trades from `from` until one's partition is full; returns where it stopped. */
  #push(trades: readonly Trade[], from: number): number {
    for (let i = from; i < trades.length; i++) {
      const trade = trades[i]!;
      const p = this.#partitionOf(trade.symbol);
      const part = this.#partitions[p]!;
      if (part.unread >= this.#capacity) return i;
      part.records.push({ partition: p, offset: part.nextOffset as Offset, trade });
      part.nextOffset++;
    }
    return trades.length;
  }

  /** After the consumer has made room: continues the waiting appends in call order, as far as the room goes. */
  #resumeWaiting(): void {
    while (this.#waiting.length > 0) {
      const first = this.#waiting[0]!;
      first.next = this.#push(first.trades, first.next);
      if (first.next < first.trades.length) return;
      this.#waiting.shift();
      first.resolve();
    }
  }

  #partitionOf(symbol: string): number {
    let p = this.#partitionOfSymbol.get(symbol);
    if (p === undefined) {
      // Symbols are a few thousand at most; the bound only guards against a source that invents them.
      if (this.#partitionOfSymbol.size >= SYMBOL_CACHE_LIMIT) this.#partitionOfSymbol.clear();
      p = partitionOf(symbol, this.#partitions.length);
      this.#partitionOfSymbol.set(symbol, p);
    }
    return p;
  }

  producer(): TradeLogProducer {
    return { append: (trades) => this.append(trades), close: async () => {} };
  }

  /** The single consumer of the embedded profile: it is assigned every partition. */
  consumer(): TradeLogConsumer {
    if (this.#consumerStarted) throw new Error('the in-process log has one consumer');
    this.#consumerStarted = true;
    let loop: Promise<void> | undefined;
    return {
      start: async (handler) => {
        const all = this.#partitions.map((_, i) => i);
        const resume = await handler.assigned(all);
        for (const [p, offset] of resume) {
          const part = this.#partitions[p];
          if (part && part.unread === 0 && part.records.length === 0) {
            part.nextOffset = offset;
            part.committed = offset;
          }
        }
        loop = this.#deliver(handler);
        loop.catch((error: unknown) => this.#onError(error));
      },
      commit: async (offsets) => {
        for (const [p, offset] of offsets) {
          const part = this.#partitions[p];
          if (part && offset > part.committed) part.committed = offset;
        }
      },
      lag: () => new Map(this.#partitions.map((part, i) => [i, part.nextOffset - part.committed])),
      close: async () => {
        this.close();
        await loop?.catch(() => {});
      },
    };
  }

  /** Unread records over all partitions. */
  unread(): number {
    let sum = 0;
    for (const part of this.#partitions) sum += part.unread;
    return sum;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w.reject(new ClosedError('in-process log'));
    this.#wakeConsumer();
  }

  #wakeConsumer(): void {
    const w = this.#dataWaiter;
    this.#dataWaiter = undefined;
    w?.();
  }

  async #deliver(handler: ConsumerHandler): Promise<void> {
    let next = 0;
    for (;;) {
      let delivered = false;
      for (let i = 0; i < this.#partitions.length; i++) {
        const p = (next + i) % this.#partitions.length;
        const part = this.#partitions[p]!;
        if (part.unread === 0) continue;
        const records = part.take(this.#maxBatch);
        this.#resumeWaiting();
        await handler.records(p, records);
        delivered = true;
      }
      next = (next + 1) % this.#partitions.length;
      if (delivered) continue;
      if (this.#closed) return;
      await new Promise<void>((resolve) => {
        this.#dataWaiter = resolve;
      });
    }
  }
}
