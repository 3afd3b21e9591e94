import { readFileSync } from 'node:fs';
import type { SideLog } from '../bus/index.ts';
import type { TradeRecord } from '../domain/index.ts';
import { CheckpointError } from '../errors.ts';
import { replaceFile } from '../replace-file.ts';
import { silentLogger, type Logger, type PipelineStats } from '../observability/index.ts';
import { kafkaOffsets, type StreamingQueryProgress } from '../spark/index.ts';
import type { LateEntry } from './processor.ts';

/** Offsets [from, to) of one partition of a topic: what one micro-batch read there. */
export interface OffsetRange {
  readonly topic: string;
  readonly partition: number;
  readonly from: number;
  readonly to: number;
}

/** One record of a replayed range: its place in the log and, when it decodes as a trade, the trade. */
export interface RangeRecord {
  readonly partition: number;
  readonly offset: number;
  readonly trade: TradeRecord | undefined;
}

export interface SparkLateTapOptions {
  /** Size of the smallest bar interval: the query whose drops are the late trades aggregates by it. */
  readonly intervalMs: number;
  /** Reads a range of the job's topic again. */
  readonly read: (range: OffsetRange) => AsyncIterable<readonly RangeRecord[]>;
  /** `market.trades.late`. */
  readonly late: SideLog<LateEntry>;
  /** A JSON file: the last batch replayed per query and its watermark, so a restart neither repeats nor misses one. */
  readonly stateFile: string;
  readonly stats?: PipelineStats;
  readonly logger?: Logger;
}

/** How the late-trade replay has gone. */
export interface LateReplayReport {
  /** Batches with drops it could not replay: their late count is Spark's, a lower bound. */
  readonly unreplayed: number;
  /** Batches whose replay disagreed with Spark's drop count. */
  readonly mismatches: number;
  /** Batches it never saw: gone from Spark's recent progress before it looked. */
  readonly unseen: number;
}

interface QueryState {
  /** The last micro-batch looked at. */
  batch: number;
  /** Its watermark, epoch ms: the next batch's late trades are behind it. */
  watermark: number;
}

/**
 * Finds the trades Spark's smallest-interval bar query dropped as late and writes them to
 * `market.trades.late`, as the TS engine does. Spark Connect gives no access to dropped rows,
 * so this replays them: Spark 3.5 judges the rows of micro-batch N against the watermark of
 * batch N−1 and drops a row whose window ends at or before it (the window end ≤ watermark test
 * of its streaming aggregation). The progress of each batch carries its watermark and the
 * Kafka offsets it read, so the tap reads those offsets again and applies the same test.
 *
 * Only batches whose progress reports dropped rows are read, so the cost is nil while nothing
 * is late. Spark counts drops after its partial aggregation, one per (symbol, window) of the
 * batch; the tap checks its late trades against that count and logs a mismatch.
 */
export class SparkLateTap {
  readonly #o: SparkLateTapOptions;
  readonly #log: Logger;
  readonly #state: Map<string, QueryState>;
  /** Batches with drops that could not be replayed because the watermark before them was not seen. */
  unreplayed = 0;
  /** Batches whose replay disagreed with Spark's drop count. */
  mismatches = 0;
  /** Batches that ran while no one looked, beyond the recent progress Spark keeps (100 by default). */
  unseen = 0;

  /** The three counts, as `/api/stats` carries them under `spark.late_replay`. */
  report(): LateReplayReport {
    return { unreplayed: this.unreplayed, mismatches: this.mismatches, unseen: this.unseen };
  }

  constructor(options: SparkLateTapOptions) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    this.#state = loadState(options.stateFile);
  }

  /**
   * Looks at a query's recent progress (any order, repeats allowed) and replays each batch
   * after the last one looked at. A failed read leaves the state as it was, so the next call
   * tries the same batch again.
   */
  async observe(queryId: string, progress: readonly StreamingQueryProgress[]): Promise<void> {
    const batches = executedBatches(progress);
    const last = this.#state.get(queryId);
    const fresh = batches.filter((p) => last === undefined || p.batchId > last.batch);
    if (fresh.length === 0) return;
    const watermarks = new Map(batches.map((p) => [p.batchId, watermarkOf(p)]));
    if (last !== undefined) watermarks.set(last.batch, last.watermark);
    let previous = last?.batch ?? (fresh[0] as StreamingQueryProgress).batchId - 1;
    for (const p of fresh) {
      if (p.batchId > previous + 1) {
        this.unseen += p.batchId - previous - 1;
        this.#log.warn('spark micro-batches passed unseen: late trades in them are not replayed', { query: queryId, from: previous + 1, to: p.batchId - 1 });
      }
      previous = p.batchId;
      if (p.numRowsDroppedByWatermark > 0) {
        const before = watermarks.get(p.batchId - 1);
        if (before === undefined) {
          this.unreplayed++;
          if (this.#o.stats !== undefined) this.#o.stats.late += p.numRowsDroppedByWatermark;
          this.#log.warn('late trades of a spark micro-batch not replayed: the watermark before it was not seen', { query: queryId, batch: p.batchId, dropped: p.numRowsDroppedByWatermark });
        } else {
          await this.#replay(queryId, p, before);
        }
      }
      this.#state.set(queryId, { batch: p.batchId, watermark: watermarkOf(p) });
      // Saved at once after late trades were written, so a restart never writes them again;
      // batches with none are saved with the last of the look.
      if (p.numRowsDroppedByWatermark > 0) saveState(this.#o.stateFile, this.#state);
    }
    saveState(this.#o.stateFile, this.#state);
  }

  async #replay(queryId: string, p: StreamingQueryProgress, watermark: number): Promise<void> {
    const size = this.#o.intervalMs;
    const entries: LateEntry[] = [];
    const groups = new Set<string>();
    for (const range of offsetRanges(p)) {
      for await (const records of this.#o.read(range)) {
        for (const r of records) {
          const t = r.trade;
          if (t === undefined) continue;
          const windowStart = Math.floor(t.ts / size) * size;
          if (windowStart + size > watermark) continue;
          groups.add(`${r.partition}\u0000${t.symbol}\u0000${windowStart}`);
          entries.push({ partition: r.partition, offset: r.offset, symbol: t.symbol, price: t.price, volume: t.volume, ts: t.ts, conditions: t.conditions, source: t.source, ingest_ts: t.ingest_ts, watermark });
        }
      }
    }
    await this.#o.late.append(entries);
    if (this.#o.stats !== undefined) this.#o.stats.late += entries.length;
    if (groups.size !== p.numRowsDroppedByWatermark) {
      this.mismatches++;
      this.#log.warn('replayed late trades disagree with spark', { query: queryId, batch: p.batchId, dropped: p.numRowsDroppedByWatermark, windows: groups.size, trades: entries.length });
    }
  }
}

/**
 * The batches that ran, one progress each, by batch id. A trigger that found no data and ran
 * nothing also reports progress now and then, without an addBatch phase: it is not a batch.
 */
export function executedBatches(progress: readonly StreamingQueryProgress[]): StreamingQueryProgress[] {
  const byId = new Map<number, StreamingQueryProgress>();
  for (const p of progress) if (p.durationMs['addBatch'] !== undefined) byId.set(p.batchId, p);
  return [...byId.values()].sort((a, b) => a.batchId - b.batchId);
}

/** The batch's watermark in epoch ms; 0 (Spark's "none yet") when the progress has none. */
export function watermarkOf(p: StreamingQueryProgress): number {
  const text = p.eventTime['watermark'];
  const ms = text === undefined ? NaN : Date.parse(text);
  return Number.isFinite(ms) ? ms : 0;
}

/**
 * The Kafka offsets a batch read, from its sources' start and end offsets (JSON such as
 * `{"market.trades":{"0":120,"1":98}}`). A partition with no start offset is read from 0: the
 * read starts at the log's first record anyway.
 */
export function offsetRanges(p: StreamingQueryProgress): OffsetRange[] {
  const sources = Array.isArray(p.json['sources']) ? (p.json['sources'] as unknown[]) : [];
  const out: OffsetRange[] = [];
  for (const source of sources) {
    if (typeof source !== 'object' || source === null) continue;
    const s = source as Record<string, unknown>;
    const start = kafkaOffsets(s['startOffset']) ?? new Map<string, Map<number, number>>();
    for (const [topic, ends] of kafkaOffsets(s['endOffset']) ?? []) {
      for (const [partition, to] of ends) {
        const from = start.get(topic)?.get(partition) ?? 0;
        if (to > from) out.push({ topic, partition, from, to });
      }
    }
  }
  return out;
}

function loadState(file: string): Map<string, QueryState> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
  const out = new Map<string, QueryState>();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CheckpointError(`the late-trade replay state ${file} is not JSON; delete it to start over`);
  }
  if (typeof json !== 'object' || json === null) return out;
  for (const [id, s] of Object.entries(json)) {
    const q = s as Partial<QueryState> | null;
    if (typeof q?.batch === 'number' && typeof q.watermark === 'number') out.set(id, { batch: q.batch, watermark: q.watermark });
  }
  return out;
}

function saveState(file: string, state: ReadonlyMap<string, QueryState>): void {
  replaceFile(file, `${JSON.stringify(Object.fromEntries(state))}\n`);
}
