import { once } from 'node:events';
import { closeSync, constants, createReadStream, openSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { epochMs, systemClock, type Clock, type Trade } from '../../domain/index.ts';
import { ConfigError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/index.ts';
import { newSourceCounters, type DeadLetter, type SourceCounters, type SourceState, type SourceStatus, type TradeSink, type TradeSource } from '../source.ts';
import { ndjsonLines } from './ndjson-lines.ts';
import { parseReplayLine } from './replay-line.ts';

/** The file name that means standard input, as for cat and most tools. */
export const STDIN = '-';

export interface ReplayOptions {
  /** NDJSON, one trade or one Finnhub message per line; `-` is standard input. */
  readonly file: string;
  /** ×speed over the gaps between event times; 0 = as fast as the sink takes them. */
  readonly speed: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** What `-` reads; process.stdin unless a test gives another. */
  readonly stdin?: Readable;
}

const BOM = '\uFEFF';

/** Longest line read whole: a trade is well under 1 KiB, a Finnhub frame of a thousand trades under 100 KiB, and a file with no newlines must not fill memory. */
export const MAX_LINE_CHARS = 1024 * 1024;

/** Most trades (or dead letters) handed to the sink at once. */
const MAX_BATCH = 1_000;

/**
 * Plays an NDJSON file of trades, or of Finnhub messages as captured from the feed, into the sink,
 * streaming it line by line (never loading it whole), front to back without seeking, so a pipe
 * works as well as a file. At ×speed it keeps the gaps between event times, divided by the speed,
 * measured from the first trade; a trade that is early in the file but late in time goes out at
 * once. Bad lines, and bad trades of a Finnhub frame, become dead letters that name the line number.
 */
export class ReplaySource implements TradeSource {
  readonly kind = 'replay' as const;
  readonly counters: SourceCounters = newSourceCounters();
  /** The file as a person reads it: its path, or `standard input`. */
  readonly input: string;
  readonly #file: string;
  readonly #stdin: Readable | undefined;
  readonly #speed: number;
  readonly #logger: Logger;
  readonly #clock: Clock;
  #state: SourceState = 'connecting';
  #error: string | undefined;
  #line = 0;
  #ended = false;
  #stream: Readable | undefined;
  /** Between start() and the file being open, which for a FIFO lasts until a writer comes. */
  #opening = false;
  #playing: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #wakeTimer: NodeJS.Timeout | undefined;
  readonly #done: Promise<void>;
  #markDone: () => void = () => {};

  constructor(options: ReplayOptions) {
    this.#file = options.file;
    this.input = options.file === STDIN ? 'standard input' : options.file;
    this.#stdin = options.stdin;
    this.#speed = options.speed;
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? systemClock;
    this.#done = new Promise((resolve) => (this.#markDone = resolve));
  }

  status(): SourceStatus {
    const pace = this.#speed === 0 ? 'full speed' : `×${this.#speed}`;
    const error = this.#error === undefined ? '' : ` · stopped: ${this.#error}`;
    return { kind: this.kind, state: this.#state, detail: `${this.input} · line ${this.#line} · ${pace}${error}` };
  }

  /** Resolves once the file is open; rejects with a ConfigError naming replay.file when it cannot be read. */
  async start(sink: TradeSink): Promise<void> {
    if (this.#playing !== undefined || this.#closing !== undefined) return;
    if (this.#file === '') throw new ConfigError('replay.file', '', 'the path of an NDJSON file of trades');
    if (!Number.isFinite(this.#speed) || this.#speed < 0) throw new ConfigError('replay.speed', this.#speed, 'a number >= 0');
    this.#opening = true;
    let stream: Readable;
    try {
      stream = this.#file === STDIN ? (this.#stdin ?? process.stdin).setEncoding('utf8') : await openFile(this.#file, this.#logger);
    } finally {
      this.#opening = false;
    }
    if (this.#closing !== undefined) {
      // Closed while the open waited (for a FIFO's writer, which close() stood in for).
      stream.destroy();
      return;
    }
    this.#stream = stream;
    this.#setState('connected', sink);
    this.#logger.info('replay started', { file: this.input, speed: this.#speed });
    this.#playing = this.#play(stream, sink).then(
      () => {
        if (this.#closing === undefined) {
          this.#ended = true;
          this.#setState('finished', sink);
          this.#logger.info('replay finished', { lines: this.#line, trades: this.counters.received, invalid: this.counters.invalid });
        }
      },
      (error: unknown) => {
        this.#error = error instanceof Error ? error.message : String(error);
        this.#setState('finished', sink);
        this.#logger.error('replay stopped', { file: this.input, line: this.#line, error: this.#error });
      },
    );
    void this.#playing.finally(() => this.#markDone());
  }

  /** Resolves when every line has been delivered (or the replay was closed or failed). */
  finished(): Promise<void> {
    return this.#done;
  }

  /** Whether every line was read: false while it plays, and after a close or a failure before the end. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Lines read so far, the one being waited on at ×speed included. */
  get line(): number {
    return this.#line;
  }

  /** Why reading the file stopped before its end, e.g. `line 1200: EIO: i/o error, read`; undefined while it has not. */
  get failure(): string | undefined {
    return this.#error === undefined ? undefined : `line ${this.#line}: ${this.#error}`;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#opening) releaseFifoOpen(this.#file);
      this.#cancelWait();
      this.#stream?.destroy();
      await this.#playing;
      this.#state = 'closed';
      this.#markDone();
    })();
    return this.#closing;
  }

  async #play(stream: Readable, sink: TradeSink): Promise<void> {
    let trades: Trade[] = [];
    let letters: DeadLetter[] = [];
    let firstTs: number | undefined;
    let wallAtFirst = 0;
    const flush = async (): Promise<void> => {
      if (letters.length > 0) {
        const out = letters;
        letters = [];
        this.counters.invalid += out.length;
        await sink.invalid(out);
      }
      if (trades.length > 0) {
        const ingestTs = this.#clock.now();
        const out = trades.map((t) => ({ ...t, ingestTs }));
        trades = [];
        this.counters.received += out.length;
        await sink.trades(out);
      }
    };
    /** A line that is no trade: a dead letter naming its line number. */
    const setAside = async (raw: string, reason: string): Promise<void> => {
      letters.push({ raw, reason: `line ${this.#line}: ${reason}`, receivedAt: this.#clock.now(), source: 'replay' });
      if (letters.length >= MAX_BATCH) await flush();
    };
    try {
      for await (const batch of ndjsonLines(stream, MAX_LINE_CHARS)) {
        for (const read of batch) {
          if (this.#closing !== undefined) break;
          this.#line++;
          if (typeof read !== 'string') {
            await setAside(read.head, `${read.length} characters, over the limit of ${MAX_LINE_CHARS}; only its start is kept`);
            continue;
          }
          // Editors on Windows save UTF-8 with a byte order mark, which is not part of the first line's JSON.
          const line = this.#line === 1 && read.startsWith(BOM) ? read.slice(1) : read;
          if (line.trim() === '') continue;
          const parsed = parseReplayLine(line, epochMs(0));
          for (const part of parsed.invalid) await setAside(part.raw, part.reason);
          // Each trade of a Finnhub frame keeps its own time: a frame may span more than a millisecond.
          for (const trade of parsed.trades) {
            if (this.#speed > 0) {
              if (firstTs === undefined) {
                firstTs = trade.ts;
                wallAtFirst = this.#clock.now();
              }
              const waitMs = wallAtFirst + (trade.ts - firstTs) / this.#speed - this.#clock.now();
              if (waitMs >= 1) {
                await flush();
                await this.#wait(waitMs);
                if (this.#closing !== undefined) break;
              }
            }
            trades.push(trade);
            if (trades.length >= MAX_BATCH) await flush();
          }
        }
        if (this.#closing !== undefined) break;
        // What a chunk completes is handed on at once: a pipe's writer may write no more for a while.
        await flush();
      }
    } catch (error) {
      // close() destroys the stream to end a read that waits on it (an idle pipe): that is no failure.
      if (this.#closing === undefined) {
        await flush();
        throw error;
      }
    }
    // Also when closed early: what was read is handed over, the rest of the file is not.
    await flush();
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#wakeTimer = setTimeout(() => this.#cancelWait(), ms);
    });
  }

  #cancelWait(): void {
    clearTimeout(this.#wakeTimer);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #setState(state: SourceState, sink: TradeSink): void {
    this.#state = state;
    sink.status?.(this.status());
  }
}

/**
 * A FIFO's open for reading waits for a writer, in a thread of libuv's pool that nothing can
 * cancel, and that holds the process at its exit too: opening it for writing, without waiting,
 * ends that wait (the replay then reads an end of file). Nothing to do for any other file.
 */
function releaseFifoOpen(file: string): void {
  try {
    if (file === STDIN || !statSync(file).isFIFO()) return;
    closeSync(openSync(file, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: no reader waits on it any more, so nothing holds the open.
  }
}

/**
 * Opens the file; one that cannot be opened is a ConfigError naming replay.file. A FIFO's open
 * waits here for its writer, as long as that takes: the log says so first, or the replay would sit
 * without a word.
 */
async function openFile(file: string, logger: Logger): Promise<Readable> {
  let fifo = false;
  try {
    fifo = statSync(file).isFIFO();
  } catch {
    // The open below says what is wrong with it.
  }
  if (fifo) logger.info('waiting for a writer to open the FIFO', { file });
  const stream = createReadStream(file, { encoding: 'utf8' });
  try {
    await once(stream, 'ready');
  } catch (error) {
    stream.destroy();
    const why = error instanceof Error ? error.message : String(error);
    throw new ConfigError('replay.file', file, `a readable NDJSON file of trades (${why})`);
  }
  return stream;
}
