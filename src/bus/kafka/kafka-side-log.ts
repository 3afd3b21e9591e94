import { Producer } from '@platformatic/kafka';
import { durationLabel, pause } from '../../domain/index.ts';
import { BusUnavailableError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/index.ts';
import type { SideLog } from '../bus.ts';
import { ACKS_ALL, clientBase, closeClient, messageOf, type KafkaCompression, type KafkaConnection } from './kafka-options.ts';
import { UnsentEntries, type UnsentDir } from './unsent-entries.ts';

export interface KafkaSideLogOptions extends KafkaConnection {
  /** `market.trades.dlq` or `market.trades.late`. */
  readonly topic: string;
  /** Wait between attempts while Kafka is away. */
  readonly retryDelayMs?: number;
  /** lz4 unless given (`kafka.compression`). */
  readonly compression?: KafkaCompression;
  /**
   * Where entries that Kafka has not taken within `fallbackAfterMs` are kept until it takes
   * them (this process's directory under `<dataDir>/unsent/`). Without it, `append` retries
   * until Kafka takes them.
   */
  readonly unsent?: UnsentDir;
  readonly fallbackAfterMs?: number;
  readonly logger?: Logger;
}

/** Entries a send carries when the kept ones are sent. */
const RESEND_BATCH = 500;

/**
 * A side topic with JSON values. Entries are few, so there is no spool. With an `unsent` directory, an
 * append that Kafka has not taken within a few seconds is kept in a file there instead, and so
 * are the later ones while Kafka is away: a source that waits on its dead letters must not
 * stall. A background loop tries Kafka every few seconds, sends what was kept (files left by an
 * earlier run too), and then appends go to Kafka again. Kept entries reach the topic at least
 * once: a crash between a send and the file's removal sends them again at the next start.
 * Without one, `append` retries until Kafka takes the entries, and fails only if the
 * log is closed meanwhile.
 */
export class KafkaSideLog<T> implements SideLog<T> {
  readonly topic: string;
  readonly #client: Producer<Buffer, Buffer, Buffer, Buffer>;
  readonly #retryDelayMs: number;
  readonly #unsent: UnsentEntries | undefined;
  readonly #fallbackAfterMs: number;
  readonly #log: Logger;
  /** Kafka failed an append, which was kept; appends are kept until the resender has sent them all. */
  #away = false;
  /** Set while the resender runs; cleared by it as it returns, so an append kept after that starts another. */
  #resending = false;
  #resender: Promise<void> | undefined;
  /** Appends kept so far: the resender stops only when none came in since it last looked. */
  #keptCount = 0;
  /** Aborted by close(): ends every wait to retry at once. */
  readonly #closing = new AbortController();
  /** Appends under way, which close() lets finish (into the unsent file) before it returns. */
  readonly #pending = new Set<Promise<void>>();

  constructor(options: KafkaSideLogOptions) {
    this.topic = options.topic;
    this.#retryDelayMs = options.retryDelayMs ?? 1_000;
    this.#unsent = options.unsent === undefined ? undefined : new UnsentEntries(options.unsent, options.topic);
    this.#fallbackAfterMs = options.fallbackAfterMs ?? 3_000;
    this.#log = options.logger ?? silentLogger;
    this.#client = new Producer({ ...clientBase(options, options.topic), acks: ACKS_ALL, compression: options.compression ?? 'lz4' });
    // Entries an earlier run kept, if any, are sent as soon as Kafka answers.
    this.#ensureResender(0);
  }

  append(entries: readonly T[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const done = this.#append(entries.map((e) => JSON.stringify(e)));
    this.#pending.add(done);
    void done.then(
      () => this.#pending.delete(done),
      () => this.#pending.delete(done),
    );
    return done;
  }

  async #append(values: readonly string[]): Promise<void> {
    const unsent = this.#unsent;
    if (unsent !== undefined && this.#away) return this.#keep(unsent, values, 'Kafka is away');
    const messages = values.map((v) => ({ topic: this.topic, value: Buffer.from(v, 'utf8') }));
    const giveUpAt = unsent === undefined ? Number.POSITIVE_INFINITY : Date.now() + this.#fallbackAfterMs;
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) {
        if (unsent !== undefined) return this.#keep(unsent, values, 'the log closed');
        throw new BusUnavailableError(`${this.topic} closed with ${values.length} entries not written`);
      }
      // Another append found Kafka away meanwhile: this one is kept behind it rather than waiting.
      if (unsent !== undefined && this.#away) return this.#keep(unsent, values, 'Kafka is away');
      try {
        await this.#client.send({ messages });
        return;
      } catch (error) {
        if (unsent !== undefined && (this.#closed || Date.now() >= giveUpAt)) return this.#keep(unsent, values, messageOf(error));
        if (this.#closed) continue;
        this.#log.warn('side topic write failed; retrying', { topic: this.topic, attempt, error: messageOf(error) });
        await pause(Math.min(this.#retryDelayMs * attempt, 10 * this.#retryDelayMs), this.#closing.signal);
      }
    }
  }

  async #keep(unsent: UnsentEntries, values: readonly string[], why: string): Promise<void> {
    if (!this.#away) this.#log.warn(`Kafka did not take entries of ${this.topic}; they are kept in ${unsent.path} and sent once it does`, { entries: values.length, error: why });
    this.#away = true;
    this.#keptCount++;
    const kept = unsent.append(values);
    this.#ensureResender(this.#fallbackAfterMs);
    await kept;
  }

  #ensureResender(firstWaitMs: number): void {
    const unsent = this.#unsent;
    if (unsent === undefined || this.#resending || this.#closed) return;
    this.#resending = true;
    this.#resender = this.#resend(unsent, firstWaitMs).catch((error: unknown) =>
      this.#log.error('sending the kept entries failed; they stay on disk until the next one is kept or the next start', { topic: this.topic, error: messageOf(error) }),
    );
  }

  /** Sends the kept files, oldest first, trying Kafka every `fallbackAfterMs` until it has them all. */
  async #resend(unsent: UnsentEntries, firstWaitMs: number): Promise<void> {
    try {
      await this.#resendAll(unsent, firstWaitMs);
    } finally {
      this.#resending = false;
    }
  }

  async #resendAll(unsent: UnsentEntries, firstWaitMs: number): Promise<void> {
    let waitMs = firstWaitMs;
    /** Said once per run of failures, not at every attempt. */
    let failing = false;
    while (!this.#closed) {
      if (waitMs > 0) await pause(waitMs, this.#closing.signal);
      if (this.#closed) return;
      const keptBefore = this.#keptCount;
      const files = await unsent.take();
      if (files.length === 0) {
        // An append kept while the files were listed is in none of them: look again.
        if (this.#keptCount !== keptBefore) continue;
        this.#away = false;
        return;
      }
      try {
        for (const file of files) {
          for (let i = 0; i < file.values.length; i += RESEND_BATCH) {
            const messages = file.values.slice(i, i + RESEND_BATCH).map((v) => ({ topic: this.topic, value: Buffer.from(v, 'utf8') }));
            await this.#client.send({ messages });
          }
          await unsent.sent(file);
          const torn = file.torn === 0 ? {} : { torn_lines_dropped: file.torn };
          this.#log.info(`Kafka took the entries of ${this.topic} kept in ${file.path}`, { entries: file.values.length, ...torn });
        }
        // New appends go to Kafka again; the next take() finds what was kept while these were sent.
        this.#away = false;
        failing = false;
        waitMs = 0;
      } catch (error) {
        if (!failing) {
          const entries = files.reduce((n, f) => n + f.values.length, 0);
          this.#log.warn(`Kafka does not take the kept entries of ${this.topic} yet; trying again every ${durationLabel(this.#fallbackAfterMs)}`, { entries, error: messageOf(error) });
        }
        failing = true;
        this.#away = true;
        waitMs = this.#fallbackAfterMs;
      }
    }
  }

  get #closed(): boolean {
    return this.#closing.signal.aborted;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closing.abort();
    // Closing the client ends its sends at once; what they held then goes to the unsent file.
    await closeClient(this.#client).catch((error: unknown) => this.#log.warn('closing a side topic failed', { error: messageOf(error) }));
    await Promise.allSettled(this.#pending);
    await this.#resender;
  }
}
