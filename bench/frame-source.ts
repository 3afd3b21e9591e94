import type { EpochMs } from '../src/domain/index.ts';
import { newSourceCounters, parseFinnhubFrame, type SourceStatus, type TradeSink, type TradeSource } from '../src/source/index.ts';

export interface FrameSourceOptions {
  /** Trades per second; 0 = as fast as the pipeline takes them. */
  readonly rate?: number;
  /** Trades in each frame, to pace by. */
  readonly tradesPerFrame: number;
  /** Stop after this long even if frames are left (paced runs). */
  readonly maxMs?: number;
  /**
   * Frames handed to the sink before the oldest must be taken; 1 (the default) is how the
   * Finnhub client delivers: one frame at a time, each awaited.
   */
  readonly inFlight?: number;
}

/**
 * Plays pre-serialised Finnhub `trade` frames through the same parser as the WebSocket client,
 * so the benchmark measures parse → log → engine → store without a socket in the way.
 */
export class FrameSource implements TradeSource {
  readonly kind = 'simulator' as const;
  readonly counters = newSourceCounters();
  readonly #frames: readonly string[];
  readonly #options: FrameSourceOptions;
  #state: SourceStatus['state'] = 'connecting';
  #stopped = false;
  #done: Promise<void> = Promise.resolve();
  startedAt = 0;
  endedAt = 0;

  constructor(frames: readonly string[], options: FrameSourceOptions) {
    this.#frames = frames;
    this.#options = options;
  }

  status(): SourceStatus {
    return { kind: this.kind, state: this.#state, detail: 'benchmark frames' };
  }

  start(sink: TradeSink): Promise<void> {
    this.#state = 'connected';
    this.#done = this.#play(sink);
    return Promise.resolve();
  }

  async #play(sink: TradeSink): Promise<void> {
    const { rate = 0, tradesPerFrame, maxMs = Number.POSITIVE_INFINITY, inFlight = 1 } = this.#options;
    this.startedAt = performance.now();
    let sent = 0;
    const taking: Promise<void>[] = [];
    for (const frame of this.#frames) {
      if (this.#stopped) break;
      const elapsed = performance.now() - this.startedAt;
      if (elapsed > maxMs) break;
      if (rate > 0) {
        const due = (sent / rate) * 1000;
        if (due > elapsed) await new Promise((r) => setTimeout(r, due - elapsed));
      }
      const parsed = parseFinnhubFrame(frame, Date.now() as EpochMs, 'simulator');
      if (parsed.type !== 'trade') throw new Error(`benchmark frame did not parse: ${parsed.type}`);
      this.counters.received += parsed.trades.length;
      taking.push(Promise.resolve(sink.trades(parsed.trades)));
      if (taking.length >= inFlight) await taking.shift();
      sent += tradesPerFrame;
    }
    await Promise.all(taking);
    this.endedAt = performance.now();
    this.#state = 'finished';
  }

  finished(): Promise<void> {
    return this.#done;
  }

  async close(): Promise<void> {
    this.#stopped = true;
    await this.#done;
    this.#state = 'closed';
  }
}
