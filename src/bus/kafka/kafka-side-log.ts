import { Producer } from '@platformatic/kafka';
import { pause } from '../../domain/index.ts';
import { BusUnavailableError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/index.ts';
import type { SideLog } from '../bus.ts';
import { ACKS_ALL, clientBase, closeClient, messageOf, type KafkaCompression, type KafkaConnection } from './kafka-options.ts';

export interface KafkaSideLogOptions<T> extends KafkaConnection {
  /** `market.trades.dlq` or `market.trades.late`. */
  readonly topic: string;
  /** Wait between attempts while Kafka is away. */
  readonly retryDelayMs?: number;
  /** lz4 unless given (`kafka.compression`). */
  readonly compression?: KafkaCompression;
  /**
   * Where entries go when Kafka has not taken them within `fallbackAfterMs` (a local NDJSON
   * file, as in the embedded profile). Without one, `append` retries until Kafka takes them.
   */
  readonly fallback?: SideLog<T> & { readonly path: string };
  readonly fallbackAfterMs?: number;
  readonly logger?: Logger;
}

/**
 * A side topic with JSON values. Entries are few, so there is no spool. With a fallback, an
 * append that Kafka has not taken within a few seconds goes to the fallback file instead, and
 * so do the later ones until Kafka takes one again (one append every few seconds tries Kafka
 * once): a source that waits on its dead letters must not stall while Kafka is away. Without a fallback,
 * `append` retries until Kafka takes the entries, and fails only if the log is closed meanwhile.
 */
export class KafkaSideLog<T> implements SideLog<T> {
  readonly topic: string;
  readonly #client: Producer<Buffer, Buffer, Buffer, Buffer>;
  readonly #retryDelayMs: number;
  readonly #fallback: (SideLog<T> & { readonly path: string }) | undefined;
  readonly #fallbackAfterMs: number;
  readonly #log: Logger;
  /** Kafka failed the last append, which went to the fallback. */
  #away = false;
  /** While away, appends go straight to the fallback until then; the first one after tries Kafka once. */
  #probeAt = 0;
  /** Aborted by close(): ends every wait to retry at once. */
  readonly #closing = new AbortController();
  /** Appends under way, which close() lets finish (into the fallback) before closing it. */
  readonly #pending = new Set<Promise<void>>();

  constructor(options: KafkaSideLogOptions<T>) {
    this.topic = options.topic;
    this.#retryDelayMs = options.retryDelayMs ?? 1_000;
    this.#fallback = options.fallback;
    this.#fallbackAfterMs = options.fallbackAfterMs ?? 3_000;
    this.#log = options.logger ?? silentLogger;
    this.#client = new Producer({ ...clientBase(options, options.topic), acks: ACKS_ALL, compression: options.compression ?? 'lz4' });
  }

  append(entries: readonly T[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const done = this.#append(entries);
    this.#pending.add(done);
    void done.then(
      () => this.#pending.delete(done),
      () => this.#pending.delete(done),
    );
    return done;
  }

  async #append(entries: readonly T[]): Promise<void> {
    const messages = entries.map((e) => ({ topic: this.topic, value: Buffer.from(JSON.stringify(e), 'utf8') }));
    const fallback = this.#fallback;
    const giveUpAt = fallback === undefined ? Number.POSITIVE_INFINITY : this.#away ? 0 : Date.now() + this.#fallbackAfterMs;
    if (fallback !== undefined && this.#away && Date.now() < this.#probeAt) return this.#toFallback(fallback, entries, 'Kafka is away', false);
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) {
        if (fallback !== undefined) return this.#toFallback(fallback, entries, 'the log closed', false);
        throw new BusUnavailableError(`${this.topic} closed with ${entries.length} entries not written`);
      }
      try {
        await this.#client.send({ messages });
        if (this.#away) this.#log.info('Kafka takes side entries again', { topic: this.topic });
        this.#away = false;
        return;
      } catch (error) {
        if (fallback !== undefined && (this.#closed || Date.now() >= giveUpAt)) return this.#toFallback(fallback, entries, messageOf(error), true);
        if (this.#closed) continue;
        this.#log.warn('side topic write failed; retrying', { topic: this.topic, attempt, error: messageOf(error) });
        await pause(Math.min(this.#retryDelayMs * attempt, 10 * this.#retryDelayMs), this.#closing.signal);
      }
    }
  }

  /** `tried`: Kafka failed this append just now, so the next try waits another `fallbackAfterMs`. */
  async #toFallback(fallback: SideLog<T> & { readonly path: string }, entries: readonly T[], why: string, tried: boolean): Promise<void> {
    if (!this.#away) this.#log.warn(`Kafka did not take entries of ${this.topic}; they go to ${fallback.path} until it does`, { entries: entries.length, error: why });
    if (tried) this.#probeAt = Date.now() + this.#fallbackAfterMs;
    this.#away = true;
    await fallback.append(entries);
  }

  get #closed(): boolean {
    return this.#closing.signal.aborted;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closing.abort();
    // Closing the client ends its sends at once; what they held then goes to the fallback.
    await closeClient(this.#client).catch((error: unknown) => this.#log.warn('closing a side topic failed', { error: messageOf(error) }));
    await Promise.allSettled(this.#pending);
    await this.#fallback?.close();
  }
}
