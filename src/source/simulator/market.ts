import type { FinnhubTrade } from '../finnhub/finnhub-protocol.ts';
import { hashName, Prng } from './prng.ts';

export interface MarketOptions {
  readonly seed: number;
  readonly symbols: readonly string[];
  /** Trades per second over all symbols; 0 = unpaced, event time then advances at a nominal 100k trades/s (see holdAt). */
  readonly rate: number;
  /** Largest step back in event time behind the newest trade. */
  readonly disorderMs: number;
  /** Event time of offset 0. */
  readonly startTs: number;
}

type AssetKind = 'stock' | 'crypto' | 'fx';

interface SymbolState {
  readonly symbol: string;
  readonly kind: AssetKind;
  /** Log of the start price: the walk is pulled gently back towards it, so a long run stays plausible. */
  readonly anchor: number;
  readonly sigma: number;
  readonly decimals: number;
  readonly weight: number;
  /** Each symbol draws from its own generator, so its price path does not depend on the other symbols. */
  readonly prng: Prng;
  logPrice: number;
}

const KNOWN_PRICES: Readonly<Record<string, number>> = {
  AAPL: 190,
  MSFT: 420,
  NVDA: 120,
  AMZN: 185,
  TSLA: 250,
  GOOGL: 170,
  META: 500,
  'BINANCE:BTCUSDT': 60_000,
  'BINANCE:ETHUSDT': 3_000,
  'OANDA:EUR_USD': 1.08,
  'OANDA:GBP_USD': 1.27,
  'OANDA:USD_JPY': 150,
};
const CRYPTO_EXCHANGES = new Set(['BINANCE', 'COINBASE', 'KRAKEN', 'BITFINEX', 'BITSTAMP', 'GEMINI', 'HUOBI', 'KUCOIN', 'OKEX', 'POLONIEX']);
const FX_BROKERS = new Set(['OANDA', 'FXCM', 'FOREX', 'FXPRO', 'ICMTRADER', 'PEPPERSTONE']);
const STOCK_CONDITIONS: readonly (readonly string[])[] = [['1'], ['1', '12'], ['1', '12'], ['1', '24', '12'], ['1', '8', '24', '12'], ['1', '37'], []];
const SIGMA: Record<AssetKind, number> = { stock: 0.0004, crypto: 0.0008, fx: 0.00005 };
const MEAN_REVERSION = 0.0005;
/** Event-time spacing when unpaced (rate 0). */
const NOMINAL_UNPACED_RATE = 100_000;
const SAME_MS_CHANCE = 0.25;
const ENTER_BURST = 0.01;
const LEAVE_BURST = 0.04;
/** Gap factors of the two regimes; with the switch odds above (20 % of trades in bursts) the mean gap stays 1/rate. */
const CALM_GAP = 1.2;
const BURST_GAP = 0.2;
const REPEAT_IN_BURST = 0.6;
const DISORDER_CHANCE = 0.03;

function kindOf(symbol: string): AssetKind {
  const exchange = symbol.includes(':') ? symbol.slice(0, symbol.indexOf(':')).toUpperCase() : '';
  if (CRYPTO_EXCHANGES.has(exchange)) return 'crypto';
  if (FX_BROKERS.has(exchange)) return 'fx';
  return 'stock';
}

function startPrice(symbol: string, kind: AssetKind, u: number): number {
  const known = KNOWN_PRICES[symbol];
  if (known !== undefined) return known;
  switch (kind) {
    case 'stock':
      return 10 * 50 ** u;
    case 'crypto':
      return 0.1 * 10_000 ** u;
    case 'fx':
      return 0.5 + 1.5 * u;
    default: {
      const never: never = kind;
      throw new Error(`unknown asset kind ${String(never)}`);
    }
  }
}

function decimalsFor(kind: AssetKind, price: number): number {
  if (kind === 'fx') return price > 20 ? 3 : 5;
  if (kind === 'crypto') return price >= 1_000 ? 2 : price >= 1 ? 4 : 6;
  return 2;
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/**
 * A seeded market: a geometric random walk per symbol, bursty arrivals (a calm and a burst
 * regime, several trades in one millisecond), occasional out-of-order timestamps. Pure apart
 * from its own state: the same options give the same trades, whatever the wall clock does.
 */
export class SimulatedMarket {
  readonly #options: MarketOptions;
  readonly #prng: Prng;
  readonly #symbols: SymbolState[] = [];
  readonly #meanGapMs: number;
  #totalWeight = 0;
  #burst = false;
  #last: SymbolState | undefined;
  /** Event time of the next trade, in ms after startTs; fractional, so that high rates put many trades in one ms. */
  #cursorMs = 0;

  constructor(options: MarketOptions) {
    this.#options = options;
    this.#prng = new Prng(options.seed);
    this.#meanGapMs = 1_000 / (options.rate > 0 ? options.rate : NOMINAL_UNPACED_RATE);
    for (const symbol of options.symbols) this.addSymbol(symbol);
  }

  get symbols(): readonly string[] {
    return this.#symbols.map((s) => s.symbol);
  }

  /** Offset from startTs (ms) at which the next trade happens. */
  get nextOffsetMs(): number {
    return this.#cursorMs;
  }

  /** Adds a symbol to the market (a client may subscribe to any name); no-op when it trades already. */
  addSymbol(symbol: string): void {
    if (this.#symbols.some((s) => s.symbol === symbol)) return;
    const prng = new Prng((this.#options.seed ^ hashName(symbol)) >>> 0);
    const kind = kindOf(symbol);
    const price = startPrice(symbol, kind, prng.next());
    const weight = 0.5 + prng.next();
    this.#symbols.push({
      symbol,
      kind,
      anchor: Math.log(price),
      sigma: SIGMA[kind],
      decimals: decimalsFor(kind, price),
      weight,
      prng,
      logPrice: Math.log(price),
    });
    this.#totalWeight += weight;
  }

  /** Moves event time forward to `offsetMs` without trading (nobody is listening). */
  skipTo(offsetMs: number): void {
    if (offsetMs > this.#cursorMs) this.#cursorMs = offsetMs;
  }

  /**
   * Holds event time back at `offsetMs` when it has run past it: the trades that follow share that
   * millisecond until it moves on (the unpaced server keeps event time from outrunning the wall clock).
   */
  holdAt(offsetMs: number): void {
    if (this.#cursorMs > offsetMs) this.#cursorMs = offsetMs;
  }

  /** The next trade; undefined only when the market has no symbols. */
  next(): FinnhubTrade | undefined {
    const state = this.#pick();
    if (state === undefined) return undefined;
    const newest = Math.floor(this.#cursorMs);
    const back = this.#options.disorderMs >= 1 && this.#prng.chance(DISORDER_CHANCE) ? 1 + this.#prng.int(this.#options.disorderMs) : 0;
    const t = Math.max(0, this.#options.startTs + newest - back);
    const trade = this.#trade(state, t);
    this.#advance();
    return trade;
  }

  #pick(): SymbolState | undefined {
    if (this.#burst && this.#last !== undefined && this.#prng.chance(REPEAT_IN_BURST)) return this.#last;
    let x = this.#prng.next() * this.#totalWeight;
    for (const s of this.#symbols) {
      x -= s.weight;
      if (x < 0) return (this.#last = s);
    }
    return (this.#last = this.#symbols[this.#symbols.length - 1]);
  }

  #advance(): void {
    if (this.#burst ? this.#prng.chance(LEAVE_BURST) : this.#prng.chance(ENTER_BURST)) this.#burst = !this.#burst;
    if (this.#prng.chance(SAME_MS_CHANCE)) return;
    const mean = (this.#meanGapMs / (1 - SAME_MS_CHANCE)) * (this.#burst ? BURST_GAP : CALM_GAP);
    this.#cursorMs += this.#prng.exponential(mean);
  }

  #trade(s: SymbolState, t: number): FinnhubTrade {
    const { prng } = s;
    s.logPrice += -MEAN_REVERSION * (s.logPrice - s.anchor) + s.sigma * prng.normal();
    const p = Math.max(round(Math.exp(s.logPrice), s.decimals), 10 ** -s.decimals);
    switch (s.kind) {
      case 'stock': {
        let v = prng.chance(0.03) ? 0 : Math.min(100_000, Math.max(1, Math.round(Math.exp(1.5 + 1.3 * prng.normal()))));
        if (v >= 100 && prng.chance(0.5)) v = Math.round(v / 100) * 100;
        const c = STOCK_CONDITIONS[prng.int(STOCK_CONDITIONS.length)] ?? [];
        return { s: s.symbol, p, v, t, c: [...c] };
      }
      case 'crypto':
        // Finnhub sends crypto trades with "c": null.
        return { s: s.symbol, p, v: Math.max(0.00001, round(Math.exp(-4 + 2 * prng.normal()), 5)), t, c: null };
      case 'fx':
        // and forex updates without conditions at all.
        return { s: s.symbol, p, v: Math.round(Math.exp(7 + prng.normal())), t };
      default: {
        const never: never = s.kind;
        throw new Error(`unknown asset kind ${String(never)}`);
      }
    }
  }
}
