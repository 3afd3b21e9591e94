import type { StoredTrade } from '../store/store.ts';

/** A trade as GET /api/trades and the `trades` stream event send it (snake_case, with its log offset). */
export interface TradeJson {
  symbol: string;
  price: number;
  volume: number;
  ts: number;
  conditions: readonly string[];
  source: string;
  ingest_ts: number;
  seq: number;
}

export function tradeJson({ trade, seq }: StoredTrade): TradeJson {
  return {
    symbol: trade.symbol,
    price: trade.price,
    volume: trade.volume,
    ts: trade.ts,
    conditions: trade.conditions,
    source: trade.source,
    ingest_ts: trade.ingestTs,
    seq,
  };
}
