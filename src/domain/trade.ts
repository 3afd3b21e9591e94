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

/** The reason a trade fails the contract, or undefined when it is valid. */
export function tradeViolation(t: {
  symbol: unknown;
  price: unknown;
  volume: unknown;
  ts: unknown;
}): string | undefined {
  if (typeof t.symbol !== 'string' || t.symbol.length === 0) return 'symbol must be a non-empty string';
  if (typeof t.price !== 'number' || !Number.isFinite(t.price) || t.price <= 0) {
    return `price must be a finite number > 0, got ${String(t.price)}`;
  }
  if (typeof t.volume !== 'number' || !Number.isFinite(t.volume) || t.volume < 0) {
    return `volume must be a finite number >= 0, got ${String(t.volume)}`;
  }
  if (typeof t.ts !== 'number' || !Number.isSafeInteger(t.ts) || t.ts < 0) {
    return `ts must be epoch milliseconds, got ${String(t.ts)}`;
  }
  return undefined;
}
