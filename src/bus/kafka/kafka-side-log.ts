import { Producer } from '@platformatic/kafka';
import { durationLabel, pause } from '../../domain/index.ts';
import { BusUnavailableError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/index.ts';
import type { SideLog } from '../bus.ts';
import { ACKS_ALL, clientBase, closeClient, messageOf, type KafkaCompression, type KafkaConnection } from './kafka-options.ts';
import { MAX_SEND_BYTES } from './kafka-trade-producer.ts';
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

/** Most entries one send carries. */
const SEND_BATCH = 500;
/**
 * Most bytes of one entry's JSON. A longer one (a dead letter of a huge record or frame) has its
 * longest text cut (fitEntry): sent whole, it would pass the broker's 1 MiB message.max.bytes, a
 * refusal no retry cures, and the entries kept behind it would wait for ever.
 */
export const MAX_ENTRY_BYTES = 256 * 1024;

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
    const done = this.#append(this.#fit(entries.map((e) => JSON.stringify(e))));
    this.#pending.add(done);
    void done.then(
      () => this.#pending.delete(done),
      () => this.#pending.delete(done),
    );
    return done;
  }

  async #append(values: readonly string[]): Promise<void> {
    const unsent = this.#unsent;
    const giveUpAt = unsent === undefined ? Number.POSITIVE_INFINITY : Date.now() + this.#fallbackAfterMs;
    const chunks = sends(values);
    for (let i = 0; i < chunks.length; i++) {
      const kept = await this.#sendChunk(chunks[i]!, giveUpAt);
      // Kafka did not take this part in time: it and the parts after it are kept, in order.
      if (kept !== undefined) return this.#keep(unsent!, chunks.slice(i).flat(), kept);
    }
  }

  /** Sends one part of an append, retrying; the reason it was not sent when it is to be kept instead (only with an unsent dir). */
  async #sendChunk(values: readonly string[], giveUpAt: number): Promise<string | undefined> {
    const unsent = this.#unsent;
    if (unsent !== undefined && this.#away) return 'Kafka is away';
    const messages = values.map((v) => ({ topic: this.topic, value: Buffer.from(v, 'utf8') }));
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) {
        if (unsent !== undefined) return 'the log closed';
        throw new BusUnavailableError(`${this.topic} closed with ${values.length} entries not written`);
      }
      // Another append found Kafka away meanwhile: this one is kept behind it rather than waiting.
      if (unsent !== undefined && this.#away) return 'Kafka is away';
      try {
        await this.#client.send({ messages });
        return undefined;
      } catch (error) {
        if (unsent !== undefined && (this.#closed || Date.now() >= giveUpAt)) return messageOf(error);
        if (this.#closed) continue;
        this.#log.warn('side topic write failed; retrying', { topic: this.topic, attempt, error: messageOf(error) });
        await pause(Math.min(this.#retryDelayMs * attempt, 10 * this.#retryDelayMs), this.#closing.signal);
      }
    }
  }

  /** The entries, each cut to MAX_ENTRY_BYTES; says so when one was. */
  #fit(values: readonly string[]): string[] {
    const out = values.map((v) => fitEntry(v));
    const cut = out.filter((v, i) => v !== values[i]).length;
    if (cut > 0) {
      const largest = Math.max(...values.map((v) => Buffer.byteLength(v, 'utf8')));
      this.#log.warn(`entries of ${this.topic} too large for one Kafka message were cut to ${MAX_ENTRY_BYTES / 1024} KiB; "truncated" names each cut field and its length before`, { entries: cut, largest_bytes: largest });
    }
    return out;
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
          // Entries kept by an earlier version may be too large for one message: cut them as append does.
          for (const part of sends(this.#fit(file.values))) {
            await this.#client.send({ messages: part.map((v) => ({ topic: this.topic, value: Buffer.from(v, 'utf8') })) });
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

/** The values in order, in sends of at most SEND_BATCH entries and MAX_SEND_BYTES (at least one entry each). */
export function sends(values: readonly string[]): string[][] {
  const out: string[][] = [];
  let part: string[] = [];
  let bytes = 0;
  for (const v of values) {
    const size = Buffer.byteLength(v, 'utf8');
    if (part.length > 0 && (part.length >= SEND_BATCH || bytes + size > MAX_SEND_BYTES)) {
      out.push(part);
      part = [];
      bytes = 0;
    }
    part.push(v);
    bytes += size;
  }
  if (part.length > 0) out.push(part);
  return out;
}

/** Characters kept of a text field at the least, so a cut field still shows how it begins. */
const MIN_KEPT = 64;

/**
 * An entry's JSON cut to at most `max` bytes (itself when it fits). Its longest text fields are
 * shortened, longest first, and `truncated` names each with its length before, e.g.
 * `{"raw": 1200000}`: a dead letter keeps its reason, topic, partition and offset, and the start of
 * its payload. JSON that is no object, or whose text fields cannot make room, becomes
 * `{"truncated_entry": <its start>, "bytes": <its size>}`.
 */
export function fitEntry(json: string, max = MAX_ENTRY_BYTES): string {
  const size = Buffer.byteLength(json, 'utf8');
  if (size <= max) return json;
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const entry: Record<string, unknown> = { ...(parsed as Record<string, unknown>) };
    const truncated: Record<string, number> = {};
    for (;;) {
      const text = JSON.stringify({ ...entry, truncated });
      const excess = Buffer.byteLength(text, 'utf8') - max;
      if (excess <= 0) return text;
      let longest: string | undefined;
      for (const [key, value] of Object.entries(entry)) {
        if (key !== 'truncated' && typeof value === 'string' && value.length > MIN_KEPT && (longest === undefined || value.length > (entry[longest] as string).length)) longest = key;
      }
      if (longest === undefined) break;
      const value = entry[longest] as string;
      truncated[longest] ??= value.length;
      // Each character takes at least one byte of JSON, so cutting `excess` of them (and a little more for `truncated` itself) makes room.
      entry[longest] = value.slice(0, Math.max(MIN_KEPT, value.length - excess - 64));
    }
  }
  let head = json.slice(0, Math.floor(max / 8));
  while (Buffer.byteLength(JSON.stringify({ truncated_entry: head, bytes: size }), 'utf8') > max) head = head.slice(0, Math.floor(head.length / 2));
  return JSON.stringify({ truncated_entry: head, bytes: size });
}
