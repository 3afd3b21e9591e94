import type { StoredTrade } from '../store/store.ts';
import type { TradeJson } from './wire.ts';

export type { TradeJson } from './wire.ts';

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
