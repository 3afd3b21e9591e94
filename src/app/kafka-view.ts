import { TOPICS, type KafkaProgress } from '../bus/index.ts';
import { silentLogger, type Logger, type PipelineStats } from '../observability/index.ts';

/** How often the view reads the offsets: about as often as the dashboard gets a stats frame. */
const POLL_MS = 1_000;

export interface KafkaViewOptions {
  /**
   * The TS engine's consumer group, whose committed offsets say how far the process role has
   * stored; null under the Spark engine, which keeps its read offsets in its own checkpoint.
   */
  readonly groupId: string | null;
  /** One reading of the offsets (KafkaConsole.progress for the topics of DESIGN.md). */
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
  readonly kafka_view: { readonly group: string | null; readonly error: string | null; readonly age_s: number | null };
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
 * The pipeline as Kafka sees it, for a process that only serves (the `serve` role of a split
 * deployment). Its own counters stay at zero there: the trades arrive in `tickstream produce`
 * and are stored by `tickstream process`. Read once a second instead:
 * - trades received: records appended to market.trades since this process started, and their rate;
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
  #first: Reading | undefined;
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
      const topics = [TOPICS.trades, TOPICS.deadLetters, TOPICS.late];
      const groupId = this.#o.groupId;
      const p = await (groupId === null ? this.#o.read(topics) : this.#o.read(topics, { id: groupId, topic: TOPICS.trades }));
      if (this.#closed) return;
      const reading: Reading = {
        atMs: this.#now(),
        trades: p.endOffsets.get(TOPICS.trades) ?? 0,
        dlq: p.endOffsets.get(TOPICS.deadLetters) ?? 0,
        late: p.endOffsets.get(TOPICS.late) ?? 0,
        committed: p.committed,
        lag: p.lag,
      };
      this.#first ??= reading;
      this.#previous = this.#latest;
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
    const first = this.#first;
    const view = { group: this.#o.groupId, error: this.#error, age_s: latest === undefined ? null : Math.round((this.#now() - latest.atMs) / 1000) };
    if (latest === undefined || first === undefined) return { counts_from: 'kafka', kafka_view: view };
    const previous = this.#previous;
    const seconds = previous === undefined ? 0 : (latest.atMs - previous.atMs) / 1000;
    const perSecond = (now: number | null, before: number | null): number =>
      seconds <= 0 || now === null || before === null ? 0 : round1(Math.max(0, now - before) / seconds);
    return {
      counts_from: 'kafka',
      kafka_view: view,
      received: Math.max(0, latest.trades - first.trades),
      invalid: Math.max(0, latest.dlq - first.dlq),
      late: Math.max(0, latest.late - first.late),
      processed: latest.committed === null ? 0 : Math.max(0, latest.committed - (first.committed ?? latest.committed)),
      log_lag: latest.lag,
      rates: {
        received_per_s: perSecond(latest.trades, previous?.trades ?? null),
        processed_per_s: perSecond(latest.committed, previous?.committed ?? null),
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
