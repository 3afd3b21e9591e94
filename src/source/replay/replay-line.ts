import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import type { EpochMs, Trade } from '../../domain/index.ts';
import { checkedTrade, type CheckedTrade } from '../checked-trade.ts';
import { finnhubTradeToTrade, parseFinnhubMessage, schemaReason } from '../finnhub/finnhub-protocol.ts';

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

/** A part of a line that is no trade, and why: the whole line, or one trade of a Finnhub frame as JSON. */
export interface RejectedPart {
  readonly raw: string;
  readonly reason: string;
}

/**
 * What one line holds. A trade record or a Finnhub trade is one trade or one rejected part; a
 * Finnhub `trade` frame is each of its trades, with a rejected part for each bad one; a `ping` is neither.
 */
export interface ReplayLine {
  readonly trades: readonly Trade[];
  readonly invalid: readonly RejectedPart[];
}

/**
 * Parses one NDJSON line: a TradeRecord `{"symbol","price","volume","ts","conditions",...}`, a
 * Finnhub trade `{"s","p","v","t","c"}`, or a Finnhub message `{"type":"trade","data":[...]}` or
 * `{"type":"ping"}` as captured from the WebSocket feed. Pure and total. A trade's source becomes
 * `replay` and its ingestTs the given time (the replay sets it at delivery).
 */
export function parseReplayLine(text: string, ingestTs: EpochMs): ReplayLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return rejected(text, `not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return rejected(text, 'not a JSON object');
  if ('symbol' in value) {
    if (!tradeRecord.Check(value)) return rejected(text, schemaReason('invalid trade record', tradeRecord.Errors(value)));
    return oneTrade(text, checkedTrade('invalid trade record', value, 'replay', ingestTs));
  }
  if ('s' in value) return oneTrade(text, finnhubTradeToTrade(value, ingestTs, 'replay'));
  if ('type' in value) return fromFinnhubMessage(text, value, ingestTs);
  return rejected(text, 'neither a trade record {"symbol","price","volume","ts",...}, a Finnhub trade {"s","p","v","t"} nor a Finnhub message {"type":"trade","data":[...]}');
}

/** A Finnhub message, read as the live source reads it: a bad trade of a frame is rejected alone, with the live source's reason. */
function fromFinnhubMessage(text: string, message: object, ingestTs: EpochMs): ReplayLine {
  const frame = parseFinnhubMessage(text, message, ingestTs, 'replay');
  switch (frame.type) {
    case 'trade':
      return { trades: frame.trades, invalid: frame.invalid };
    case 'ping':
      return { trades: [], invalid: [] };
    case 'invalid':
      return rejected(text, frame.letter.reason);
    // The live source counts these and goes on; in a file they would vanish from the replay's counts.
    case 'error':
      return rejected(text, `a Finnhub error message, which holds no trades: ${frame.message}`);
    case 'unknown':
      return rejected(text, `a Finnhub message of type ${JSON.stringify(frame.messageType)}, which holds no trades`);
    default: {
      const never: never = frame;
      throw new Error(`unhandled frame ${JSON.stringify(never)}`);
    }
  }
}

function oneTrade(text: string, checked: CheckedTrade): ReplayLine {
  return checked.trade === undefined ? rejected(text, checked.reason) : { trades: [checked.trade], invalid: [] };
}

function rejected(raw: string, reason: string): ReplayLine {
  return { trades: [], invalid: [{ raw, reason }] };
}
