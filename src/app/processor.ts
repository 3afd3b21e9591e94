import type { Bar, Clock, Offset, Trade } from '../domain/index.ts';
import { systemClock } from '../domain/index.ts';
import {
  applyTrade,
  flushPartition,
  newPartitionState,
  readCheckpoint,
  serializePartitionState,
  watermarkOf,
  type EngineOptions,
  type PartitionState,
} from '../engine/index.ts';
import type { ConsumerHandler, LogRecord, SideLog, TradeLogConsumer } from '../bus/index.ts';
import type { Checkpoint, FlushBatch, Store, StoredTrade, SymbolTrades } from '../store/store.ts';
import { symbolTradesOf, symbolTradesOfPacked, TradePacker } from '../store/index.ts';
import type { LatencyHistogram, Logger, PipelineStats } from '../observability/index.ts';
import { silentLogger } from '../observability/index.ts';
import { retryForever } from './retry.ts';
import { CheckpointError, StoreUnavailableError } from '../errors.ts';

/** A late trade as it goes to `market.trades.late`. */
export interface LateEntry {
  readonly partition: number;
  readonly offset: number;
  readonly symbol: string;
  readonly price: number;
  readonly volume: number;
  readonly ts: number;
  readonly conditions: readonly string[];
  readonly source: string;
  readonly ingest_ts: number;
  readonly watermark: number | null;
}

export interface ProcessorOptions {
  /** Keeps this engine's checkpoints apart from another's (the consumer group in the cluster profile). */
  readonly engineId: string;
  /**
   * Whether a start resumes from this engine's checkpoints (default true). An engine whose input
   * starts over at every start (a replay of a file through the in-process log) starts empty
   * instead: resuming would count the file's first trades twice, or judge them late against the
   * watermark the last start reached.
   */
  readonly resume?: boolean;
  /** How a user starts this engine afresh, for the line that says its checkpoint cannot be read (default: a new consumer group). */
  readonly freshStart?: string;
  readonly engine: EngineOptions;
  readonly store: Store;
  readonly consumer: TradeLogConsumer;
  readonly late: SideLog<LateEntry>;
  readonly stats: PipelineStats;
  readonly flushIntervalMs: number;
  /** Flush early once this many processed trades wait for the store, to bound memory. */
  readonly maxPendingTrades?: number;
  /**
   * Called after each successful store write, e.g. to push to the dashboard: with the bars
   * written and each symbol's trades of the batch, `recentTradesPerSymbol` of them in full.
   */
  readonly onFlushed?: (bars: readonly Bar[], trades: readonly SymbolTrades[]) => void;
  /** How many of each symbol's last trades of a flush onFlushed gets (default 20). */
  readonly recentTradesPerSymbol?: number;
  /**
   * How long close() goes on retrying a store that refuses writes before it gives up (default
   * 15 s). Giving up loses nothing that a durable log holds: what was not stored was not
   * committed, so the next start reads it again.
   */
  readonly closeGraceMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** What one flush writes for a partition. */
interface PartitionWrite {
  readonly bars: readonly Bar[];
  readonly checkpoint: Checkpoint;
}

interface PartitionSlot {
  state: PartitionState;
  /** Next offset to read: the offset saved with the state. */
  nextOffset: number;
  touched: boolean;
}

/**
 * Runs the TS engine over a log consumer: applies each record to its partition's
 * window state, and on every flush writes trades, changed bars and the state with
 * its offset to the store in one batch, then commits the offsets. A restart resumes
 * from the saved state and offset, so nothing is lost or counted twice.
 */
export class Processor implements ConsumerHandler {
  readonly #o: ProcessorOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #slots = new Map<number, PartitionSlot>();
  readonly #maxPending: number;
  /** The pending trades as objects, for a store that takes them so; undefined when they are packed instead. */
  #pending: StoredTrade[] | undefined;
  /**
   * ingest_ts of each pending trade, read while the trade is at hand rather than in another
   * pass over the batch after the write; its length is the number of pending trades.
   */
  #pendingIngestTs: number[] = [];
  /**
   * The pending trades packed as they are accepted, for the SQLite store (see FlushBatch).
   * No trade object is kept until the flush then: at full speed a second of them outlived
   * the young generation, to be copied by the garbage collector and swept later.
   */
  readonly #packer: TradePacker | undefined;
  #late: LateEntry[] = [];
  /** The log the consumer reads (Kafka's topic id), saved with each checkpoint; undefined for the in-process log. */
  #logId: string | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #early: Promise<void> | undefined;
  /** The flush the timer started, until it settles. */
  #timerFlush: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Aborted when close() gives up on the store: every retry ends and nothing more is written or committed. */
  readonly #giveUp = new AbortController();

  constructor(options: ProcessorOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
    this.#maxPending = options.maxPendingTrades ?? 50_000;
    this.#packer = options.store.kind === 'sqlite' ? new TradePacker(Math.min(this.#maxPending, 65_536)) : undefined;
    this.#pending = this.#packer === undefined ? [] : undefined;
  }

  async start(): Promise<void> {
    await this.#o.consumer.start(this);
    this.#timer = setInterval(() => {
      // While a flush waits on a store that is down, more ticks would only queue flushes behind
      // it, to fail all at once when close() gives up.
      if (this.#timerFlush !== undefined) return;
      const flush = this.flush().catch((error: unknown) => this.#flushFailed(error));
      this.#timerFlush = flush;
      void flush.finally(() => {
        if (this.#timerFlush === flush) this.#timerFlush = undefined;
      });
    }, this.#o.flushIntervalMs);
    this.#timer.unref();
  }

  async assigned(partitions: readonly number[], logId?: string): Promise<ReadonlyMap<number, Offset>> {
    const saved = this.#o.resume === false ? new Map<number, Checkpoint>() : await retryForever(() => this.#o.store.checkpoints(this.#o.engineId), this.#log, 'read checkpoints');
    this.#logId = logId;
    const resume = new Map<number, Offset>();
    for (const p of partitions) {
      const cp = saved.get(p);
      const checkpoint = cp === undefined ? undefined : this.#readCheckpoint(p, cp.state);
      // Offsets of a log that was deleted and created again point at other records in the new one:
      // resuming would skip as many new records as counted, with nothing said.
      if (checkpoint?.log !== undefined && logId !== undefined && checkpoint.log !== logId) {
        throw new CheckpointError(
          `the checkpoint of partition ${p} for ${this.#o.engineId} was saved on another log (topic id ${checkpoint.log}, now ${logId}): the topic was deleted and created again, or kafka.topic names another topic now; start with a new --kafka-group-id to read it from its start`,
        );
      }
      this.#slots.set(p, { state: checkpoint?.state ?? newPartitionState(), nextOffset: cp?.offset ?? 0, touched: false });
      if (cp !== undefined) resume.set(p, cp.offset);
    }
    if (resume.size > 0) this.#log.info('resumed from checkpoint', { partitions: resume.size });
    return resume;
  }

  /** A saved checkpoint, or a CheckpointError that says whose it is and how to start afresh. */
  #readCheckpoint(partition: number, text: string): ReturnType<typeof readCheckpoint> {
    try {
      return readCheckpoint(text);
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      const fresh = this.#o.freshStart ?? 'start with a new --kafka-group-id to read the topic from its start';
      throw new CheckpointError(`the checkpoint of partition ${partition} for ${this.#o.engineId} cannot be read (${error.message}); ${fresh}`, { cause: error });
    }
  }

  async revoked(partitions: readonly number[]): Promise<void> {
    await this.flush();
    for (const p of partitions) this.#slots.delete(p);
  }

  /** Another member may take a partition from its stored checkpoint: make it current. */
  rebalancing(): Promise<void> {
    return this.flush();
  }

  async records(partition: number, records: readonly LogRecord[]): Promise<void> {
    let slot = this.#slots.get(partition);
    if (slot === undefined) {
      slot = { state: newPartitionState(), nextOffset: 0, touched: false };
      this.#slots.set(partition, slot);
    }
    const options = this.#o.engine;
    let applied = 0;
    for (const r of records) {
      // Records before the saved offset were already counted before a restart.
      if (r.offset < slot.nextOffset) continue;
      applied++;
      if (applyTrade(slot.state, r.trade, r.offset, options) === 'accepted') {
        this.#pendingIngestTs.push(r.trade.ingestTs);
        if (this.#packer !== undefined) this.#packer.add(r.trade, r.offset);
        else this.#pending?.push({ trade: r.trade, seq: r.offset });
      } else {
        this.#late.push(lateEntry(r, slot.state, options));
      }
      slot.nextOffset = r.offset + 1;
    }
    slot.touched = true;
    this.#o.stats.processed += applied;
    this.#o.stats.processedRate.mark(applied, this.#clock.now());
    if (this.#pendingIngestTs.length >= this.#maxPending) await this.#flushBehind();
  }

  /**
   * An early flush that overlaps with the engine: it starts a write of what is pending and
   * returns, so the next records are applied while the store writes. Only one such write is
   * in flight; a second one waits for it, which bounds memory to about two batches and is
   * the backpressure when the store is slower than the engine.
   */
  async #flushBehind(): Promise<void> {
    if (this.#early !== undefined) await this.#early;
    if (this.#pendingIngestTs.length < this.#maxPending) return;
    const started = this.flush();
    const early = started.catch((error: unknown) => this.#flushFailed(error));
    this.#early = early;
    void early.finally(() => {
      if (this.#early === early) this.#early = undefined;
    });
  }

  /** The partitions of a pending write that this reader no longer holds. */
  #moved(parts: readonly PartitionWrite[]): number[] {
    const holds = this.#o.consumer.holds?.bind(this.#o.consumer);
    if (holds === undefined) return [];
    return parts.map((w) => w.checkpoint.partition).filter((p) => !holds(p));
  }

  /** A flush that nobody awaits failed. Once close() gave up on the store, close() reports it, once. */
  #flushFailed(error: unknown): void {
    if (this.#giveUp.signal.aborted) return;
    this.#log.error('flush failed', { error: error instanceof Error ? error.message : String(error) });
  }

  /** Writes what is pending; calls queue up behind each other. */
  flush(): Promise<void> {
    const run = this.#flushing.then(() => this.#flushOnce());
    // A failed flush must not poison the ones queued behind it.
    this.#flushing = run.catch(() => {});
    return run;
  }

  async #flushOnce(): Promise<void> {
    // Once close() gave up, a write would save a checkpoint past trades that a failed write
    // dropped from memory: nothing is written after that point.
    if (this.#giveUp.signal.aborted) throw new StoreUnavailableError('the processor stopped writing: the store kept failing while it closed');
    const started = performance.now();
    let parts: PartitionWrite[] = [];
    for (const [p, slot] of this.#slots) {
      if (!slot.touched) continue;
      parts.push({
        bars: flushPartition(slot.state, this.#o.engine).bars,
        checkpoint: { engineId: this.#o.engineId, partition: p, offset: slot.nextOffset as Offset, state: serializePartitionState(slot.state, this.#logId) },
      });
      slot.touched = false;
    }
    const trades = this.#pending;
    const ingestTs = this.#pendingIngestTs;
    const late = this.#late;
    if (trades !== undefined) this.#pending = [];
    this.#pendingIngestTs = [];
    this.#late = [];
    if (parts.length === 0 && ingestTs.length === 0) return;

    const stats = this.#o.stats;
    const packedTrades = this.#packer?.take();
    const batchOf = (list: readonly PartitionWrite[]): FlushBatch => {
      const bars = list.flatMap((w) => w.bars);
      const checkpoints = list.map((w) => w.checkpoint);
      return packedTrades !== undefined ? { packedTrades, bars, checkpoints } : { trades: trades ?? [], bars, checkpoints };
    };
    let batch = batchOf(parts);
    await retryForever(
      async () => {
        // The group may have given a partition to another member while the store refused
        // writes: that member resumes from the checkpoint stored before, and this write landing
        // after its own would put older bars and an older checkpoint over them. The trades
        // still go: they are stored by their offset, so the new owner's copies are the same rows.
        const moved = this.#moved(parts);
        if (moved.length > 0) {
          parts = parts.filter((w) => !moved.includes(w.checkpoint.partition));
          batch = batchOf(parts);
          this.#log.warn('partitions went to another member before the store took their bars; their bars and checkpoint are left to the new owner', { partitions: moved.join(',') });
        }
        const t0 = performance.now();
        try {
          await this.#o.store.write(batch);
        } catch (error) {
          stats.storeErrors++;
          stats.storeFailingSince ??= Date.now();
          throw error;
        }
        stats.storeFailingSince = undefined;
        stats.storeWriteDuration.record(performance.now() - t0);
      },
      this.#log,
      'store write',
      { signal: this.#giveUp.signal },
    );
    if (late.length > 0) await retryForever(() => this.#o.late.append(late), this.#log, 'late-trade log append', { signal: this.#giveUp.signal });
    const commit = new Map(parts.map((w) => [w.checkpoint.partition, w.checkpoint.offset]));
    if (commit.size > 0) await retryForever(() => this.#o.consumer.commit(commit), this.#log, 'offset commit', { signal: this.#giveUp.signal });
    const bars = batch.bars;

    const now = this.#clock.now();
    recordLatencies(stats.latency, now, ingestTs);
    stats.late += late.length;
    stats.tradesStored += ingestTs.length;
    stats.barsStored += bars.length;
    stats.barsRate.mark(bars.length, now);
    stats.flushes++;
    stats.flushDuration.record(performance.now() - started);
    const onFlushed = this.#o.onFlushed;
    if (onFlushed !== undefined) {
      const recent = this.#o.recentTradesPerSymbol ?? 20;
      onFlushed(bars, packedTrades !== undefined ? symbolTradesOfPacked(packedTrades, recent) : symbolTradesOf(trades ?? [], recent));
    }
  }

  /**
   * Final flush; the consumer must be drained (or closed) first. When the store still refuses
   * writes after `closeGraceMs`, it gives up: it rejects with a StoreUnavailableError and
   * writes and commits nothing more, so the offsets stay at the last stored flush.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    // Only what changed is written, as in every flush. A partition that delivered nothing has
    // no offset of its own to save: a checkpoint for it would move the group back to offset 0.
    const graceMs = this.#o.closeGraceMs ?? 15_000;
    const grace = setTimeout(() => this.#giveUp.abort(), graceMs);
    try {
      await this.flush();
    } catch (error) {
      if (!this.#giveUp.signal.aborted) throw error;
      const message = `the store still refused writes ${Math.round(graceMs / 1000)} s after stopping began; trades since the last commit were not stored nor committed (a Kafka log gives them again on the next start)`;
      this.#log.error('stopped without the final flush', { error: error instanceof Error ? error.message : String(error) });
      throw new StoreUnavailableError(message, { cause: error });
    } finally {
      clearTimeout(grace);
    }
  }
}

/**
 * ingest → stored latency of each trade. The trades of one source frame share their ingest
 * time and mostly sit next to each other, so each run of equal times is recorded once.
 */
function recordLatencies(histogram: LatencyHistogram, now: number, ingestTs: readonly number[]): void {
  let i = 0;
  while (i < ingestTs.length) {
    const ts = ingestTs[i] as number;
    let end = i + 1;
    while (end < ingestTs.length && ingestTs[end] === ts) end++;
    histogram.record(now - ts, end - i);
    i = end;
  }
}

function lateEntry(r: LogRecord, state: PartitionState, options: EngineOptions): LateEntry {
  const t: Trade = r.trade;
  const wm = watermarkFrom(state, options);
  return {
    partition: r.partition,
    offset: r.offset,
    symbol: t.symbol,
    price: t.price,
    volume: t.volume,
    ts: t.ts,
    conditions: t.conditions,
    source: t.source,
    ingest_ts: t.ingestTs,
    watermark: wm,
  };
}

function watermarkFrom(state: PartitionState, options: EngineOptions): number | null {
  return watermarkOf(state, options) ?? null;
}
