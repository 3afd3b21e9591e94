import { WebSocket, type RawData } from 'ws';
import { maskUrl } from '../../config/index.ts';
import { systemClock, type Clock, type EpochMs, type Trade } from '../../domain/index.ts';
import { ConfigError } from '../../errors.ts';
import { counted, formatDuration, silentLogger, someNamed, type Logger } from '../../observability/index.ts';
import {
  newSourceCounters,
  type DeadLetter,
  type SourceCounters,
  type SourceState,
  type SourceStatus,
  type TradeSink,
  type TradeSource,
} from '../source.ts';
import { Backoff } from './backoff.ts';
import { parseFinnhubFrame, subscribeMessage, unsubscribeMessage } from './finnhub-protocol.ts';

export interface FinnhubClientOptions {
  /** `wss://ws.finnhub.io`, or the simulator's `ws://127.0.0.1:8765`. */
  readonly url: string;
  /** Goes into the query string of the connection only; never logged or shown. */
  readonly token?: string;
  readonly symbols: readonly string[];
  readonly source: 'finnhub' | 'simulator';
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Uniform in [0, 1), for the reconnect jitter. */
  readonly random?: () => number;
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** A connection that stayed up this long resets the backoff (default 10 s). */
  readonly stableMs?: number;
  /** No frame for this long while not paused → the connection is presumed dead and replaced (default 60 s; the server pings). */
  readonly idleTimeoutMs?: number;
  /**
   * With `source: 'finnhub'`, how long after the first connection the client names the symbols
   * that have had no trade yet, once (default 2 min; 0 = never): Finnhub answers a symbol it does
   * not know, or one whose market is closed, with silence.
   */
  readonly quietSymbolsAfterMs?: number;
}

/** Bounds one frame; Finnhub's batches are a few kB. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const HANDSHAKE_TIMEOUT_MS = 10_000;
const CLOSE_GRACE_MS = 1_000;
const QUIET_SYMBOLS_AFTER_MS = 120_000;
/** How many quiet symbols the warning names before `and N more`. */
const QUIET_SYMBOLS_NAMED = 10;

/**
 * The Finnhub WebSocket client, also used against the simulator (same protocol, same code path).
 * It owns one socket at a time, subscribes after every (re)connect, reconnects forever with
 * backoff, and delivers in arrival order. While the sink has not taken a frame, the socket is
 * paused, so a slow consumer slows the server down instead of piling frames up here.
 */
export class FinnhubClient implements TradeSource {
  readonly kind: 'finnhub' | 'simulator';
  readonly counters: SourceCounters = newSourceCounters();
  readonly #url: string;
  readonly #displayUrl: string;
  readonly #token: string | undefined;
  readonly #symbols: readonly string[];
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #backoff: Backoff;
  readonly #stableMs: number;
  readonly #idleTimeoutMs: number;
  #sink: TradeSink | undefined;
  #ws: WebSocket | undefined;
  #state: SourceState = 'connecting';
  #detail: string;
  #closing: Promise<void> | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #connectedAt: EpochMs | undefined;
  #lastFrameAt: EpochMs;
  #lastError: string | undefined;
  #started: (() => void) | undefined;
  /** Deliveries run one after another, in arrival order; `#backlog` counts the ones not finished. */
  #delivery: Promise<void> = Promise.resolve();
  #backlog = 0;
  /** The subscribed symbols that have had no trade yet; emptied as trades arrive, then no more work. */
  readonly #untraded: Set<string>;
  readonly #quietAfterMs: number;
  #quietTimer: NodeJS.Timeout | undefined;
  /** Whether the quiet symbols were named: from then on the status lists them until they trade. */
  #quietNamed = false;
  /** Server error messages logged on this connection; the same one again goes to the debug level. */
  readonly #serverErrorsSaid = new Set<string>();

  constructor(options: FinnhubClientOptions) {
    this.kind = options.source;
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new ConfigError('finnhub.url', maskUrl(options.url), 'a ws:// or wss:// URL');
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new ConfigError('finnhub.url', maskUrl(options.url), 'a ws:// or wss:// URL');
    const shown = new URL(url);
    shown.searchParams.delete('token');
    // Logged and shown on the dashboard: without the token, and with any password in it masked.
    this.#displayUrl = maskUrl(shown.toString());
    if (options.token !== undefined && options.token !== '') url.searchParams.set('token', options.token);
    this.#url = url.toString();
    this.#token = url.searchParams.get('token') ?? undefined;
    this.#symbols = [...new Set(options.symbols)];
    this.#untraded = new Set(this.#symbols);
    this.#quietAfterMs = options.source === 'finnhub' ? (options.quietSymbolsAfterMs ?? QUIET_SYMBOLS_AFTER_MS) : 0;
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? systemClock;
    this.#backoff = new Backoff({ ...options.backoff, ...(options.random === undefined ? {} : { random: options.random }) });
    this.#stableMs = options.stableMs ?? 10_000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.#detail = this.#displayUrl;
    this.#lastFrameAt = this.#clock.now();
  }

  status(): SourceStatus {
    const quiet = this.#quietNamed && this.#untraded.size > 0 ? { quiet: [...this.#untraded] } : {};
    return { kind: this.kind, state: this.#state, detail: this.#detail, ...quiet };
  }

  /** Resolves once the first connection attempt has settled (open or failed); reconnecting goes on in the background. */
  start(sink: TradeSink): Promise<void> {
    if (this.#sink !== undefined || this.#closing !== undefined) return Promise.resolve();
    this.#sink = sink;
    return new Promise((resolve) => {
      this.#started = resolve;
      this.#connect();
    });
  }

  /** A live feed never finishes. */
  finished(): Promise<void> {
    return new Promise(() => {});
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#idleTimer);
    clearTimeout(this.#quietTimer);
    const ws = this.#ws;
    if (ws !== undefined && ws.readyState !== WebSocket.CLOSED) {
      if (ws.readyState === WebSocket.OPEN) for (const symbol of this.#symbols) ws.send(unsubscribeMessage(symbol));
      // A paused socket cannot read the server's close frame.
      if (ws.isPaused) ws.resume();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
        ws.once('close', () => {
          clearTimeout(force);
          resolve();
        });
        ws.close(1000, 'client closing');
      });
    }
    await this.#delivery;
    this.#setState('closed', this.#displayUrl);
    this.#settleStart();
  }

  #connect(): void {
    if (this.#closing !== undefined) return;
    const ws = new WebSocket(this.#url, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    this.#ws = ws;
    ws.on('open', () => this.#opened(ws));
    ws.on('message', (data: RawData) => this.#frame(ws, data));
    ws.on('error', (error: Error) => {
      this.#lastError = this.#redact(error.message);
    });
    ws.on('close', (code: number, reason: Buffer) => this.#lost(ws, code, reason.toString('utf8')));
  }

  #opened(ws: WebSocket): void {
    if (ws !== this.#ws) return;
    const now = this.#clock.now();
    this.#connectedAt = now;
    this.#lastFrameAt = now;
    this.#lastError = undefined;
    this.#serverErrorsSaid.clear();
    for (const symbol of this.#symbols) ws.send(subscribeMessage(symbol));
    this.#setState('connected', `${this.#displayUrl} · ${counted(this.#symbols.length, 'symbol')}`);
    this.#logger.info('connected', { url: this.#displayUrl, symbols: this.#symbols.length, source: this.kind });
    this.#watchIdle(ws);
    if (this.#quietTimer === undefined && this.#quietAfterMs > 0) this.#checkQuietIn(this.#quietAfterMs);
    this.#settleStart();
  }

  /** Names, once, the symbols without a trade after `ms` more; while not connected then, looks again a period later. */
  #checkQuietIn(ms: number): void {
    this.#quietTimer = setTimeout(() => {
      if (this.#closing !== undefined || this.#untraded.size === 0) return;
      if (this.#state !== 'connected') return this.#checkQuietIn(this.#quietAfterMs);
      this.#quietNamed = true;
      this.#sink?.status?.(this.status());
      const waited = formatDuration(this.#quietAfterMs);
      if (this.#untraded.size === this.#symbols.length) {
        this.#logger.warn(
          `no trade for any symbol ${waited} after subscribing: US stocks trade only while their market is open (9:30 to 16:00 New York time, Monday to Friday); crypto symbols such as BINANCE:BTCUSDT trade at all hours`,
          { symbols: this.#symbols.length },
        );
        return;
      }
      const quiet = [...this.#untraded];
      const named = someNamed(quiet, QUIET_SYMBOLS_NAMED);
      this.#logger.warn(
        `no trade for ${named} ${waited} after subscribing, while the other symbols traded: Finnhub sends nothing for a symbol it does not know, so check the spelling and case (AAPL, BINANCE:BTCUSDT, OANDA:EUR_USD)`,
        { quiet: quiet.length, symbols: this.#symbols.length },
      );
    }, ms);
    this.#quietTimer.unref();
  }

  #frame(ws: WebSocket, data: RawData): void {
    const receivedAt = this.#clock.now();
    this.#lastFrameAt = receivedAt;
    const frame = parseFinnhubFrame(rawText(data), receivedAt, this.kind);
    switch (frame.type) {
      case 'trade':
        if (this.#untraded.size > 0) this.#traded(frame.trades);
        if (frame.trades.length > 0 || frame.invalid.length > 0) this.#deliver(ws, frame.trades, frame.invalid);
        break;
      case 'invalid':
        this.#deliver(ws, [], [frame.letter]);
        break;
      case 'ping':
        this.counters.pings++;
        break;
      case 'error':
        this.counters.serverErrors++;
        // Sent once per refused subscription (Subscribing to too many symbols): said once per connection.
        if (this.#serverErrorsSaid.has(frame.message)) {
          this.#logger.debug('server error', { message: frame.message });
        } else {
          this.#serverErrorsSaid.add(frame.message);
          this.#logger.warn('server error', { message: frame.message });
        }
        break;
      case 'unknown':
        this.counters.unknown++;
        this.#logger.debug('ignored message of unknown type', { type: frame.messageType });
        break;
      default: {
        const never: never = frame;
        throw new Error(`unhandled frame ${JSON.stringify(never)}`);
      }
    }
  }

  /** Crosses the frame's symbols off the quiet ones; once they were named, a symbol that trades at last leaves the status. */
  #traded(trades: readonly Trade[]): void {
    let changed = false;
    for (const trade of trades) if (this.#untraded.delete(trade.symbol)) changed = true;
    if (changed && this.#quietNamed) this.#sink?.status?.(this.status());
  }

  /** Hands a frame's trades and dead letters to the sink in order; the socket stays paused until the sink has taken them. */
  #deliver(ws: WebSocket, trades: Trade[], letters: DeadLetter[]): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    this.#backlog++;
    if (this.#closing === undefined && !ws.isPaused) ws.pause();
    this.#delivery = this.#delivery.then(async () => {
      try {
        if (letters.length > 0) {
          this.counters.invalid += letters.length;
          await sink.invalid(letters);
        }
        if (trades.length > 0) {
          this.counters.received += trades.length;
          await sink.trades(trades);
        }
      } catch (error) {
        this.#logger.error('sink failed to take a frame', { error: error instanceof Error ? error.message : String(error), trades: trades.length });
      } finally {
        if (--this.#backlog === 0) {
          this.#lastFrameAt = this.#clock.now();
          if (this.#ws?.isPaused === true) this.#ws.resume();
        }
      }
    });
  }

  #lost(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    clearInterval(this.#idleTimer);
    const connectedAt = this.#connectedAt;
    this.#connectedAt = undefined;
    if (connectedAt !== undefined && this.#clock.now() - connectedAt >= this.#stableMs) this.#backoff.reset();
    this.#settleStart();
    if (this.#closing !== undefined) return;
    const why = this.#lastError ?? `closed with code ${code}${reason === '' ? '' : ` (${this.#redact(reason)})`}`;
    const delayMs = this.#backoff.next();
    this.#setState('reconnecting', `${this.#displayUrl} · attempt ${this.#backoff.attempt} in ${delayMs} ms · ${why}`);
    this.#logger.warn(connectedAt === undefined ? 'connect failed' : 'connection lost', { url: this.#displayUrl, error: why, retryInMs: delayMs });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.counters.reconnects++;
      this.#connect();
    }, delayMs);
  }

  /** A half-open TCP connection shows no error; silence longer than the timeout (while not paused by us) does. */
  #watchIdle(ws: WebSocket): void {
    clearInterval(this.#idleTimer);
    this.#idleTimer = setInterval(() => {
      if (ws !== this.#ws || this.#backlog > 0) return;
      const silentMs = this.#clock.now() - this.#lastFrameAt;
      if (silentMs < this.#idleTimeoutMs) return;
      this.#lastError = `no message for ${silentMs} ms`;
      ws.terminate();
    }, Math.max(10, Math.floor(this.#idleTimeoutMs / 4)));
    this.#idleTimer.unref();
  }

  #setState(state: SourceState, detail: string): void {
    this.#state = state;
    this.#detail = detail;
    this.#sink?.status?.(this.status());
  }

  #settleStart(): void {
    const started = this.#started;
    this.#started = undefined;
    started?.();
  }

  /** Error texts may echo the URL; the token must never reach a log or the dashboard. */
  #redact(text: string): string {
    const token = this.#token;
    if (token === undefined || token === '') return text;
    return text.replaceAll(token, '***').replaceAll(encodeURIComponent(token), '***');
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
