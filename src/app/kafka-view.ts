import { TOPICS, tradeTopicNames, type KafkaProgress, type PipelineTopics } from '../bus/index.ts';
import { silentLogger, type Logger, type PipelineStats } from '../observability/index.ts';

/** How often the view reads the offsets: about as often as the dashboard gets a stats frame. */
const POLL_MS = 1_000;

export interface KafkaViewOptions {
  /**
   * The TS engine's consumer group, whose committed offsets say how far the process role has
   * stored; null under the Spark engine, which keeps its read offsets in its own checkpoint.
   */
  readonly groupId: string | null;
  /** The pipeline's topics; default `market.trades` and its side topics. */
  readonly topics?: PipelineTopics;
  /** One reading of the offsets (KafkaConsole.progress for the pipeline's topics). */
  readonly read: (topics: readonly string[], group?: { readonly id: string; readonly topic: string }) => Promise<KafkaProgress>;
  /** This process's own counters: the bars it pushes to the dashboard are its own to count. */
  readonly stats: PipelineStats;
  readonly logger?: Logger;
  readonly pollMs?: number;
  readonly now?: () => number;
}

/** What the view puts over the serve role's own (idle) counters in /api/stats and the stream's stats (a type, so it is the Record that extraStats returns). */
export type KafkaViewStats = {
  readonly counts_from: 'kafka';
  readonly kafka_view: { readonly topic: string; readonly group: string | null; readonly error: string | null; readonly age_s: number | null };
  readonly received?: number;
  readonly invalid?: number;
  readonly late?: number;
  readonly processed?: number;
  readonly log_lag?: number | null;
  readonly rates?: { readonly received_per_s: number; readonly processed_per_s: number; readonly bars_per_s: number };
};

interface Reading {
  readonly atMs: number;
  readonly trades: number;
  readonly dlq: number;
  readonly late: number;
  readonly committed: number | null;
  readonly lag: number | null;
}

const round1 = (n: number): number => Number(n.toFixed(1));

/**
 * Records added between two readings of an offset. An offset that went back means a new log
 * (the topic was deleted and created again): it starts at 0, so all it holds is new. A group
 * offset seen for the first time counts from there (what it covered before is not known).
 */
function gain(now: number | null, before: number | null | undefined): number {
  if (now === null || before === null || before === undefined) return 0;
  return now >= before ? now - before : now;
}

/** Records appended and processed since the first reading, summed over the readings. */
interface Counted {
  trades: number;
  dlq: number;
  late: number;
  processed: number;
}

/**
 * The pipeline as Kafka sees it, for a process that only serves (the `serve` role of a split
 * deployment). Its own counters stay at zero there: the trades arrive in `tickstream produce`
 * and are stored by `tickstream process`. Read once a second instead:
 * - trades received: records appended to market.trades since this process started, and their rate
 *   (summed reading by reading, so a topic deleted and created again counts on from its new log);
 * - invalid and late: the same for market.trades.dlq and market.trades.late;
 * - processed and log lag: the TS engine group's committed offsets, their rate, and how far
 *   they are behind the log end (committed after each store write, so up to a flush interval
 *   behind what the engine has read); none under the Spark engine, whose offsets are its own.
 * Latency is measured only where the trades are processed; the view leaves it out.
 */
export class KafkaView {
  readonly #o: KafkaViewOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #topics: PipelineTopics;
  readonly #counted: Counted = { trades: 0, dlq: 0, late: 0, processed: 0 };
  #previous: Reading | undefined;
  #latest: Reading | undefined;
  #error: string | null = null;
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;
  #closed = false;

  constructor(options: KafkaViewOptions) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
    this.#topics = options.topics ?? TOPICS;
  }

  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    void this.poll();
    this.#timer = setInterval(() => void this.poll(), this.#o.pollMs ?? POLL_MS);
    this.#timer.unref();
  }

  /** Reads the offsets once; a reading still under way is not doubled. Never rejects. */
  poll(): Promise<void> {
    this.#reading ??= this.#read().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #read(): Promise<void> {
    try {
      const { trades, deadLetters, late } = this.#topics;
      const groupId = this.#o.groupId;
      const topics = tradeTopicNames(this.#topics);
      const p = await (groupId === null ? this.#o.read(topics) : this.#o.read(topics, { id: groupId, topic: trades }));
      if (this.#closed) return;
      const reading: Reading = {
        atMs: this.#now(),
        trades: p.endOffsets.get(trades) ?? 0,
        dlq: p.endOffsets.get(deadLetters) ?? 0,
        late: p.endOffsets.get(late) ?? 0,
        committed: p.committed,
        lag: p.lag,
      };
      const last = this.#latest;
      if (last !== undefined) {
        this.#counted.trades += gain(reading.trades, last.trades);
        this.#counted.dlq += gain(reading.dlq, last.dlq);
        this.#counted.late += gain(reading.late, last.late);
        this.#counted.processed += gain(reading.committed, last.committed);
      }
      this.#previous = last;
      this.#latest = reading;
      if (this.#error !== null) this.#log.info('Kafka answers again; the pipeline view is current');
      this.#error = null;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (this.#error === null) this.#log.warn('cannot read the pipeline from Kafka; the dashboard shows the last reading', { error: message });
      this.#error = message;
    }
  }

  /** The view for /api/stats; before the first reading, only where the counts come from (and why there are none). */
  stats(): KafkaViewStats {
    const latest = this.#latest;
    const view = { topic: this.#topics.trades, group: this.#o.groupId, error: this.#error, age_s: latest === undefined ? null : Math.round((this.#now() - latest.atMs) / 1000) };
    if (latest === undefined) return { counts_from: 'kafka', kafka_view: view };
    const previous = this.#previous;
    const seconds = previous === undefined ? 0 : (latest.atMs - previous.atMs) / 1000;
    const perSecond = (now: number | null, before: number | null | undefined): number => (seconds <= 0 ? 0 : round1(gain(now, before) / seconds));
    const counted = this.#counted;
    return {
      counts_from: 'kafka',
      kafka_view: view,
      received: counted.trades,
      invalid: counted.dlq,
      late: counted.late,
      processed: counted.processed,
      log_lag: latest.lag,
      rates: {
        received_per_s: perSecond(latest.trades, previous?.trades),
        processed_per_s: perSecond(latest.committed, previous?.committed),
        bars_per_s: round1(this.#o.stats.barsRate.perSecond(this.#now())),
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#reading;
  }
}
