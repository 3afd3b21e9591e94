import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { silentLogger, someNamed, type Logger } from '../../observability/index.ts';
import { parseClientMessage, tradeFrame, type FinnhubTrade } from '../finnhub/finnhub-protocol.ts';
import { SimulatedMarket } from './market.ts';

export interface SimulatorOptions {
  readonly host: string;
  /** 0 picks a free port; read `url` after start(). */
  readonly port: number;
  /** Trades per second over all symbols; 0 = as fast as the clients take them. */
  readonly rate: number;
  readonly seed: number;
  readonly disorderMs: number;
  /** Most trades in one message. */
  readonly batch: number;
  readonly symbols: readonly string[];
  readonly logger?: Logger;
  readonly pingIntervalMs?: number;
  /** Unpaced, how far event time may run ahead of the wall clock; MAX_LEAD_MS unless a test gives another. */
  readonly maxLeadMs?: number;
}

const TICK_MS = 10;
/** Paced mode generates at most this much per tick, so a stall never turns into one huge burst. */
const MAX_TRADES_PER_TICK = 50_000;
/** Unpaced mode generates this many per turn of the event loop, then yields. */
const UNPACED_CHUNK = 5_000;
/** A client with more than this waiting in its socket holds the market back (it is not dropped). */
const HIGH_WATER_BYTES = 1024 * 1024;
/** When held back longer than this, paced mode lets event time fall behind instead of catching up in a burst. */
const MAX_LAG_MS = 1_000;
/**
 * Unpaced, event time advances at the market's nominal 100k trades/s, which a fast machine
 * outruns (300k/s here): event time would run into the future, minutes ahead after a long run,
 * and the engine's checkpoint with it, so that every trade of the next run on that data dir was
 * late until the clock caught up. Held within this of the wall clock, it never gets far ahead,
 * while the first trades after the open keep the spacing the seed gives them.
 */
const MAX_LEAD_MS = 1_000;
const MAX_SUBSCRIPTIONS = 1_000;
/** Symbols refused to a client are logged together once its subscriptions have paused this long. */
const REFUSED_LOG_DELAY_MS = 200;
/** How many of them the log line names before `and N more`. */
const REFUSED_NAMED = 10;
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

/**
 * A local exchange that speaks the Finnhub WebSocket protocol: subscribe/unsubscribe per
 * symbol, `trade` messages with only the subscribed symbols, a `ping` every 10 s. The market
 * starts at the first subscription and is seeded, so the same seed streams the same trades.
 */
export class SimulatorServer {
  readonly #options: SimulatorOptions;
  readonly #logger: Logger;
  readonly #clients = new Map<WebSocket, Set<string>>();
  #wss: WebSocketServer | undefined;
  #url = '';
  #market: SimulatedMarket | undefined;
  /** Wall time (ms) that corresponds to the market's offset 0; moves forward when clients hold the market back. */
  #wallBase = 0;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: SimulatorOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  get url(): string {
    return this.#url;
  }

  /**
   * Rejects with the socket's own error (EADDRINUSE, ENOTFOUND, ...) when it cannot listen: the
   * caller knows which setting chose the host and port, and names it (see app's `listening`).
   */
  async start(): Promise<void> {
    if (this.#wss !== undefined) return;
    const { host, port } = this.#options;
    const wss = new WebSocketServer({ host, port, maxPayload: MAX_CLIENT_MESSAGE_BYTES, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    this.#wss = wss;
    wss.on('error', (error: Error) => this.#logger.error('server error', { error: error.message }));
    wss.on('connection', (ws: WebSocket) => this.#accept(ws));
    const address = wss.address();
    const actualPort = typeof address === 'object' && address !== null ? address.port : port;
    this.#url = `ws://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
    this.#pingTimer = setInterval(() => this.sendRaw('{"type":"ping"}'), this.#options.pingIntervalMs ?? 10_000);
    this.#pingTimer.unref();
    this.#logger.debug('simulator listening', { url: this.#url, rate: this.#options.rate, seed: this.#options.seed, symbols: this.#options.symbols.length });
  }

  /** Cuts every client off at once, as a network failure would (test hook). */
  dropConnections(): void {
    for (const ws of this.#clients.keys()) ws.terminate();
  }

  /** Sends a text frame as is to every client, for hostile-input tests. */
  sendRaw(text: string): void {
    for (const ws of this.#clients.keys()) if (ws.readyState === WebSocket.OPEN) ws.send(text);
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    clearTimeout(this.#timer);
    clearInterval(this.#pingTimer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    const wss = this.#wss;
    if (wss === undefined) return;
    for (const ws of this.#clients.keys()) ws.terminate();
    this.#clients.clear();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  #accept(ws: WebSocket): void {
    if (this.#closing !== undefined) {
      ws.terminate();
      return;
    }
    const subscriptions = new Set<string>();
    this.#clients.set(ws, subscriptions);
    // Finnhub's error names no symbol, and a client sends one subscribe per symbol: the log names them in one line.
    const refused = new Set<string>();
    let refusedTimer: NodeJS.Timeout | undefined;
    const logRefused = (): void => {
      refusedTimer = undefined;
      if (refused.size === 0) return;
      const symbols = [...refused];
      refused.clear();
      this.#logger.warn(
        `a client subscribed to more than ${MAX_SUBSCRIPTIONS} symbols, the most one connection streams: not streaming ${someNamed(symbols, REFUSED_NAMED)}`,
        { refused: symbols.length, subscribed: subscriptions.size },
      );
    };
    this.#logger.debug('client connected', { clients: this.#clients.size });
    ws.on('error', (error: Error) => this.#logger.debug('client error', { error: error.message }));
    ws.on('close', () => {
      clearTimeout(refusedTimer);
      logRefused();
      this.#clients.delete(ws);
      this.#logger.debug('client disconnected', { clients: this.#clients.size });
    });
    ws.on('message', (data: RawData) => {
      const message = parseClientMessage(data.toString());
      if (message === undefined) {
        ws.send(JSON.stringify({ type: 'error', msg: 'Unknown message: expected {"type":"subscribe"|"unsubscribe","symbol":"..."}' }));
        return;
      }
      if (message.type === 'unsubscribe') {
        subscriptions.delete(message.symbol);
        refused.delete(message.symbol);
        return;
      }
      if (!subscriptions.has(message.symbol) && subscriptions.size >= MAX_SUBSCRIPTIONS) {
        ws.send(JSON.stringify({ type: 'error', msg: 'Subscribing to too many symbols' }));
        refused.add(message.symbol);
        clearTimeout(refusedTimer);
        refusedTimer = setTimeout(logRefused, REFUSED_LOG_DELAY_MS).unref();
        return;
      }
      subscriptions.add(message.symbol);
      this.#openMarket().addSymbol(message.symbol);
    });
  }

  /** The market opens at the first subscription, so that what a client sees from the start depends on the seed only. */
  #openMarket(): SimulatedMarket {
    if (this.#market !== undefined) return this.#market;
    const now = Date.now();
    const { seed, symbols, rate, disorderMs } = this.#options;
    const market = new SimulatedMarket({ seed, symbols, rate, disorderMs, startTs: now });
    this.#market = market;
    this.#wallBase = now;
    // Start on the next turn, after the rest of the client's subscribe messages in the same read.
    this.#schedule(0);
    return market;
  }

  #schedule(delayMs: number): void {
    if (this.#closing !== undefined) return;
    if (delayMs === 0) this.#immediate = setImmediate(() => this.#pump());
    else this.#timer = setTimeout(() => this.#pump(), delayMs);
  }

  #pump(): void {
    const market = this.#market;
    if (market === undefined || this.#closing !== undefined) return;
    const paced = this.#options.rate > 0;
    const listening = [...this.#clients.values()].some((s) => s.size > 0);
    const elapsed = Date.now() - this.#wallBase;
    if (!listening) {
      // Nobody to send to: event time moves on with the wall clock, without trading into the void.
      if (paced) market.skipTo(elapsed);
      this.#schedule(paced ? TICK_MS : 50);
      return;
    }
    if (this.#congested()) {
      this.#schedule(paced ? TICK_MS : 1);
      return;
    }
    if (paced && elapsed - market.nextOffsetMs > MAX_LAG_MS) this.#wallBase += elapsed - market.nextOffsetMs - MAX_LAG_MS;
    const due = paced ? Date.now() - this.#wallBase : Number.POSITIVE_INFINITY;
    const lead = paced ? Number.POSITIVE_INFINITY : elapsed + (this.#options.maxLeadMs ?? MAX_LEAD_MS);
    const limit = paced ? MAX_TRADES_PER_TICK : UNPACED_CHUNK;
    const trades: FinnhubTrade[] = [];
    while (trades.length < limit && market.nextOffsetMs <= due) {
      if (market.nextOffsetMs > lead) market.holdAt(lead);
      const trade = market.next();
      if (trade === undefined) break;
      trades.push(trade);
    }
    this.#broadcast(trades);
    this.#schedule(paced ? TICK_MS : 0);
  }

  #congested(): boolean {
    for (const ws of this.#clients.keys()) if (ws.bufferedAmount > HIGH_WATER_BYTES) return true;
    return false;
  }

  #broadcast(trades: readonly FinnhubTrade[]): void {
    if (trades.length === 0) return;
    const batch = Math.max(1, this.#options.batch);
    for (const [ws, subscriptions] of this.#clients) {
      if (subscriptions.size === 0 || ws.readyState !== WebSocket.OPEN) continue;
      let frame: FinnhubTrade[] = [];
      for (const trade of trades) {
        if (!subscriptions.has(trade.s)) continue;
        frame.push(trade);
        if (frame.length === batch) {
          ws.send(tradeFrame(frame));
          frame = [];
        }
      }
      if (frame.length > 0) ws.send(tradeFrame(frame));
    }
  }
}
