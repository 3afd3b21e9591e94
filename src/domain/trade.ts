import type { EpochMs, Price, Volume } from './units.ts';

export const TRADE_SOURCES = ['finnhub', 'simulator', 'replay'] as const;
export type TradeSource = (typeof TRADE_SOURCES)[number];

/** The one record that crosses every boundary (DESIGN.md, "Trade"). */
export interface Trade {
  readonly symbol: string;
  /** > 0 and finite. */
  readonly price: Price;
  /** >= 0; Finnhub sends 0 for some updates. */
  readonly volume: Volume;
  /** Exchange event time. */
  readonly ts: EpochMs;
  readonly conditions: readonly string[];
  readonly source: TradeSource;
  /** When the producer received it; latency is measured from here. */
  readonly ingestTs: EpochMs;
}

/** The snake_case shape used on the wire (JSON, Avro) and in replay files. */
export interface TradeRecord {
  symbol: string;
  price: number;
  volume: number;
  ts: number;
  conditions: string[];
  source: TradeSource;
  ingest_ts: number;
}

export function toTradeRecord(t: Trade): TradeRecord {
  return {
    symbol: t.symbol,
    price: t.price,
    volume: t.volume,
    ts: t.ts,
    conditions: [...t.conditions],
    source: t.source,
    ingest_ts: t.ingestTs,
  };
}

export function fromTradeRecord(r: TradeRecord): Trade {
  return {
    symbol: r.symbol,
    price: r.price as Price,
    volume: r.volume as Volume,
    ts: r.ts as EpochMs,
    conditions: r.conditions,
    source: r.source,
    ingestTs: r.ingest_ts as EpochMs,
  };
}

/**
 * A symbol as Finnhub names them (AAPL, BRK.B, BINANCE:BTCUSDT, OANDA:EUR_USD, FXCM:EUR/USD).
 * One rule for the config's symbols, the HTTP API's `symbol` and every trade, so that whatever
 * is stored can be asked for.
 */
export const SYMBOL_PATTERN = /^[A-Za-z0-9._:/^=-]{1,40}$/;
export const SYMBOL_ALLOWED = '1-40 letters, digits or . _ : / ^ = -';

/**
 * Event times outside [1990-01-01, 2100-01-01) UTC are a unit mistake rather than a trade:
 * seconds land in January 1970, microseconds tens of thousands of years ahead. Let in, one
 * such trade would move its partition's watermark so far that every later trade is late.
 */
export const MIN_TRADE_TS = Date.UTC(1990, 0, 1);
export const MAX_TRADE_TS = Date.UTC(2100, 0, 1);
/**
 * Largest price and volume. Far beyond any market, and small enough that a bar's sum of
 * price × volume stays finite over any number of trades a window can hold.
 */
export const MAX_PRICE = 1e12;
export const MAX_VOLUME = 1e15;

/** What a ts outside the range most likely is, as a hint after the value. */
function tsUnitHint(ts: number): string {
  if (ts >= MAX_TRADE_TS * 100) return ' (microseconds or nanoseconds? ts is in milliseconds)';
  if (ts >= 0 && ts < MIN_TRADE_TS / 100) return ' (seconds? ts is in milliseconds)';
  return '';
}

/** The reason a trade fails the contract, or undefined when it is valid. */
export function tradeViolation(t: {
  symbol: unknown;
  price: unknown;
  volume: unknown;
  ts: unknown;
}): string | undefined {
  if (typeof t.symbol !== 'string' || !SYMBOL_PATTERN.test(t.symbol)) {
    return `symbol must be ${SYMBOL_ALLOWED}, got ${typeof t.symbol === 'string' ? JSON.stringify(t.symbol) : String(t.symbol)}`;
  }
  if (typeof t.price !== 'number' || !Number.isFinite(t.price) || t.price <= 0 || t.price > MAX_PRICE) {
    return `price must be a finite number > 0 and at most 1e12, got ${String(t.price)}`;
  }
  if (typeof t.volume !== 'number' || !Number.isFinite(t.volume) || t.volume < 0 || t.volume > MAX_VOLUME) {
    return `volume must be a finite number from 0 to 1e15, got ${String(t.volume)}`;
  }
  if (typeof t.ts !== 'number' || !Number.isSafeInteger(t.ts) || t.ts < MIN_TRADE_TS || t.ts >= MAX_TRADE_TS) {
    return `ts must be epoch milliseconds from 1990 to 2100, got ${String(t.ts)}${typeof t.ts === 'number' ? tsUnitHint(t.ts) : ''}`;
  }
  return undefined;
}
