import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import type { EpochMs } from '../../domain/index.ts';
import { checkedTrade, type CheckedTrade } from '../checked-trade.ts';
import { finnhubTradeToTrade, schemaReason } from '../finnhub/finnhub-protocol.ts';

/** A TradeRecord line (snake_case, as the pipeline writes trades); `source` and `ingest_ts` are replaced on replay. */
const tradeRecord = Compile(
  Type.Object({
    symbol: Type.String({ minLength: 1 }),
    price: Type.Number(),
    volume: Type.Number(),
    ts: Type.Integer(),
    conditions: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
    source: Type.Optional(Type.String()),
    ingest_ts: Type.Optional(Type.Number()),
  }),
);

export type ReplayLine = CheckedTrade;

/**
 * Parses one NDJSON line: a TradeRecord `{"symbol","price","volume","ts","conditions",...}`, or a
 * Finnhub trade `{"s","p","v","t","c"}` as captured from the feed. Pure and total. The trade's
 * source becomes `replay` and its ingestTs the given time (the replay sets it at delivery).
 */
export function parseReplayLine(text: string, ingestTs: EpochMs): ReplayLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { reason: 'not a JSON object' };
  if ('symbol' in value) {
    if (!tradeRecord.Check(value)) return { reason: schemaReason('invalid trade record', tradeRecord.Errors(value)) };
    return checkedTrade('invalid trade record', value, 'replay', ingestTs);
  }
  if ('s' in value) return finnhubTradeToTrade(value, ingestTs, 'replay');
  return { reason: 'neither a trade record {"symbol","price","volume","ts",...} nor a Finnhub trade {"s","p","v","t"}' };
}
