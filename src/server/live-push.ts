import type { ServerResponse } from 'node:http';
import { toBarRecord, type Bar, type BarRecord } from '../domain/index.ts';
import { silentLogger, type Logger } from '../observability/index.ts';
import type { StoredTrade, SymbolTrades } from '../store/store.ts';
import { tradeJson, type TradeJson } from './trade-json.ts';

/**
 * Most dashboards the live stream serves at once. Each one holds a socket and up to
 * maxBufferedBytes of frames it has not read, so a page opened in many tabs, or a script that
 * opens streams and never closes them, would otherwise grow the server's memory without end.
 */
export const STREAM_MAX_CLIENTS = 100;

export interface LivePushOptions {
  /** How often changed bars and recent trades are pushed, coalesced. */
  readonly pushIntervalMs: number;
  /** The `stats` event payload, sent about once a second. */
  readonly stats: () => unknown;
  readonly statsIntervalMs?: number;
  readonly heartbeatMs?: number;
  /** A client whose unsent bytes exceed this gets no frames until it catches up. */
  readonly maxBufferedBytes?: number;
  /** A client over maxBufferedBytes for this long is disconnected. */
  readonly slowClientTimeoutMs?: number;
  /** Most trades per symbol in one frame. */
  readonly tradesPerSymbol?: number;
  /** Most clients at once (STREAM_MAX_CLIENTS unless given); `full` says when no more are taken. */
  readonly maxClients?: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

interface Client {
  readonly res: ServerResponse;
  /** The hello it got on connect, sent again once it catches up after skipped frames. */
  readonly hello: string;
  /** Since when its buffer has been over the limit; undefined while it keeps up. */
  overSince: number | undefined;
}

/**
 * Server-Sent Events to every dashboard: changed bars (last version per key) and
 * recent trades, coalesced and pushed every pushIntervalMs, plus stats once a second.
 * A frame is serialised once and the same string goes to every client. A client that
 * cannot keep up skips frames (its buffer never grows past about one frame over the limit)
 * and is dropped if it stays behind, so memory does not grow with a slow reader.
 */
export class LivePush {
  readonly #o: Required<Omit<LivePushOptions, 'logger' | 'now'>>;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #clients = new Set<Client>();
  #bars = new Map<string, Bar>();
  #trades = new Map<string, StoredTrade[]>();
  #lastStatsAt = 0;
  #pushTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  /** Frames written and skipped, for /metrics and tests. */
  readonly counters = { frames: 0, skipped: 0, dropped: 0, resyncs: 0, refused: 0 };

  constructor(options: LivePushOptions) {
    this.#o = {
      pushIntervalMs: options.pushIntervalMs,
      stats: options.stats,
      statsIntervalMs: options.statsIntervalMs ?? 1_000,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
      slowClientTimeoutMs: options.slowClientTimeoutMs ?? 10_000,
      tradesPerSymbol: options.tradesPerSymbol ?? 20,
      maxClients: options.maxClients ?? STREAM_MAX_CLIENTS,
    };
    this.#log = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  get maxClients(): number {
    return this.#o.maxClients;
  }

  /** Whether as many clients as it takes are connected: the next is to be refused, not attached. */
  get full(): boolean {
    this.#forgetClosed();
    return this.#clients.size >= this.#o.maxClients;
  }

  start(): void {
    if (this.#pushTimer !== undefined) return;
    this.#pushTimer = setInterval(() => this.tick(), this.#o.pushIntervalMs);
    this.#heartbeatTimer = setInterval(() => this.#broadcast(': heartbeat\n\n'), this.#o.heartbeatMs);
    this.#pushTimer.unref();
    this.#heartbeatTimer.unref();
  }

  /** Takes over a response: writes the SSE headers and the `hello` event, then keeps it until either side ends. */
  attach(res: ServerResponse, hello: unknown): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const helloEvent = event('hello', JSON.stringify(hello));
    res.write(`retry: 2000\n\n${helloEvent}`);
    const client: Client = { res, hello: helloEvent, overSince: undefined };
    this.#clients.add(client);
    res.on('close', () => this.#clients.delete(client));
    res.on('error', (error) => {
      this.#log.debug('stream client error', { error: error.message });
      this.#clients.delete(client);
    });
  }

  publishBars(bars: readonly Bar[]): void {
    if (this.#clients.size === 0) return;
    for (const b of bars) this.#bars.set(`${b.symbol}\u0000${b.interval}\u0000${b.windowStart}`, b);
  }

  publishTrades(trades: readonly SymbolTrades[]): void {
    if (this.#clients.size === 0) return;
    const cap = this.#o.tradesPerSymbol;
    for (const { symbol, recent } of trades) {
      if (recent.length === 0) continue;
      const pending = this.#trades.get(symbol) ?? [];
      // Only the newest `cap` of a symbol can be sent.
      for (let i = Math.max(0, recent.length - cap); i < recent.length; i++) pending.push(recent[i] as StoredTrade);
      if (pending.length > cap) pending.splice(0, pending.length - cap);
      this.#trades.set(symbol, pending);
    }
  }

  /** Most trades of one symbol a frame carries. */
  get tradesPerSymbol(): number {
    return this.#o.tradesPerSymbol;
  }

  /** Builds one frame from what changed since the last and writes it to every client. */
  tick(): void {
    const bars = this.#bars;
    const trades = this.#trades;
    this.#bars = new Map();
    this.#trades = new Map();
    const now = this.#now();
    const sendStats = now - this.#lastStatsAt >= this.#o.statsIntervalMs;
    if (this.#clients.size === 0) return;

    let frame = '';
    if (bars.size > 0) {
      const records: BarRecord[] = [];
      for (const b of bars.values()) records.push(toBarRecord(b));
      frame += event('bars', JSON.stringify(records));
    }
    if (trades.size > 0) {
      const recent: TradeJson[] = [];
      for (const list of trades.values()) {
        for (const t of list) recent.push(tradeJson(t));
      }
      recent.sort((a, b) => b.ts - a.ts || b.seq - a.seq);
      frame += event('trades', JSON.stringify(recent));
    }
    if (sendStats) {
      this.#lastStatsAt = now;
      frame += event('stats', JSON.stringify(this.#o.stats()));
    }
    if (frame !== '') this.#broadcast(frame);
  }

  /** Ends every stream (server shutdown). */
  close(): void {
    clearInterval(this.#pushTimer);
    clearInterval(this.#heartbeatTimer);
    this.#pushTimer = undefined;
    for (const c of this.#clients) c.res.end();
    this.#clients.clear();
  }

  /** Clients whose sockets ended without a close event yet: they hold no place. */
  #forgetClosed(): void {
    for (const c of this.#clients) if (c.res.destroyed || c.res.writableEnded) this.#clients.delete(c);
  }

  #broadcast(frame: string): void {
    const now = this.#now();
    for (const c of this.#clients) {
      const res = c.res;
      if (res.destroyed || res.writableEnded) {
        this.#clients.delete(c);
        continue;
      }
      if (res.writableLength > this.#o.maxBufferedBytes) {
        c.overSince ??= now;
        this.counters.skipped++;
        if (now - c.overSince >= this.#o.slowClientTimeoutMs) {
          this.counters.dropped++;
          this.#log.warn('dropping a stream client that stopped reading', { bufferedBytes: res.writableLength });
          this.#clients.delete(c);
          res.destroy();
        }
        continue;
      }
      if (c.overSince !== undefined) {
        // It missed frames: a hello says that what it shows may be stale, and the dashboard loads it again.
        c.overSince = undefined;
        res.write(c.hello);
        this.counters.resyncs++;
      }
      res.write(frame);
      this.counters.frames++;
    }
  }
}

function event(name: string, data: string): string {
  return `event: ${name}\ndata: ${data}\n\n`;
}
