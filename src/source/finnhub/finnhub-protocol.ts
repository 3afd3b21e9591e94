import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { MAX_PRICE, MAX_TRADE_TS, MAX_VOLUME, MIN_TRADE_TS, SYMBOL_PATTERN, tradeViolation, type EpochMs, type Price, type Trade, type TradeSource as TradeSourceName, type Volume } from '../../domain/index.ts';
import type { CheckedTrade } from '../checked-trade.ts';
import type { DeadLetter } from '../source.ts';

/** One trade as Finnhub sends it inside a `trade` message. */
export interface FinnhubTrade {
  s: string;
  p: number;
  v: number;
  t: number;
  c?: string[] | null;
}

/** What one server frame turned into. `parseFinnhubFrame` never throws; bad input becomes dead letters. */
export type ParsedFrame =
  | { readonly type: 'trade'; readonly trades: Trade[]; readonly invalid: DeadLetter[] }
  | { readonly type: 'ping' }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'unknown'; readonly messageType: string }
  | { readonly type: 'invalid'; readonly letter: DeadLetter };

export type ClientMessage = { readonly type: 'subscribe' | 'unsubscribe'; readonly symbol: string };

// Compiled once: these checks run for every frame and every trade on the hot path.
const envelope = Compile(Type.Object({ type: Type.String() }));
const tradeMessage = Compile(Type.Object({ type: Type.Literal('trade'), data: Type.Array(Type.Unknown()) }));
const errorMessage = Compile(Type.Object({ type: Type.Literal('error'), msg: Type.Optional(Type.Unknown()) }));
const conditionsField = Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()]));
/** The shape of a Finnhub trade; it gives the reason when a trade is malformed. */
export const finnhubTradeSchema = Compile(
  Type.Object({ s: Type.String({ minLength: 1 }), p: Type.Number(), v: Type.Number(), t: Type.Integer(), c: conditionsField }),
);
/**
 * The shape and the Trade contract in one check (TypeBox numbers are finite): what passes is a
 * valid Trade, so the common path checks each trade once and computes no reason. It must accept
 * exactly what `finnhubTradeSchema` and `tradeViolation` together accept.
 */
const validTrade = Type.Object({
  s: Type.String({ pattern: SYMBOL_PATTERN.source }),
  p: Type.Number({ exclusiveMinimum: 0, maximum: MAX_PRICE }),
  v: Type.Number({ minimum: 0, maximum: MAX_VOLUME }),
  t: Type.Integer({ minimum: MIN_TRADE_TS, exclusiveMaximum: MAX_TRADE_TS }),
  c: conditionsField,
});
const validTradeCheck = Compile(validTrade);
/** A trade message whose every trade is valid: the usual frame, checked by one compiled call. */
const validTradeMessage = Compile(Type.Object({ type: Type.Literal('trade'), data: Type.Array(validTrade) }));
const clientMessage = Compile(
  Type.Object({ type: Type.Union([Type.Literal('subscribe'), Type.Literal('unsubscribe')]), symbol: Type.String({ minLength: 1, maxLength: 100 }) }),
);

/** Shared by every trade sent without conditions; frozen because trades share it. */
const NO_CONDITIONS: readonly string[] = Object.freeze([]);

/** The reason a compiled check failed, in a few words a person can act on. Only runs on the slow (invalid) path. */
export function schemaReason(what: string, errors: readonly { instancePath: string; message: string }[]): string {
  const parts = errors.slice(0, 3).map((e) => (e.instancePath === '' ? e.message : `${e.instancePath.slice(1)} ${e.message}`));
  return `${what}: ${parts.join('; ') || 'wrong shape'}`;
}

/** Builds the domain Trade from a Finnhub trade that passed `validTradeCheck`. */
function toTrade(value: FinnhubTrade, receivedAt: EpochMs, source: TradeSourceName): Trade {
  return {
    symbol: value.s,
    price: value.p as Price,
    volume: value.v as Volume,
    ts: value.t as EpochMs,
    conditions: value.c ?? NO_CONDITIONS,
    source,
    ingestTs: receivedAt,
  };
}

/** Why a value that failed `validTradeCheck` is not a trade: its shape first, then the Trade contract. */
function invalidTradeReason(value: unknown): string {
  if (!finnhubTradeSchema.Check(value)) return schemaReason('invalid trade', finnhubTradeSchema.Errors(value));
  const violation = tradeViolation({ symbol: value.s, price: value.p, volume: value.v, ts: value.t });
  return `invalid trade: ${violation ?? 'wrong shape'}`;
}

/**
 * Converts one item of a `trade` message to the domain Trade, or returns the reason it is not
 * one: a wrong shape, or a break of the Trade contract (NaN, negative price, ...).
 */
export function finnhubTradeToTrade(value: unknown, receivedAt: EpochMs, source: TradeSourceName): CheckedTrade {
  if (validTradeCheck.Check(value)) return { trade: toTrade(value, receivedAt, source) };
  return { reason: invalidTradeReason(value) };
}

/**
 * Parses one text frame from a Finnhub-protocol server. Pure and total: a frame that is not
 * JSON or has the wrong shape becomes one dead letter; a bad trade inside a good `trade`
 * message becomes a dead letter of its own, and the valid trades of that message still go through.
 */
export function parseFinnhubFrame(text: string, receivedAt: EpochMs, source: TradeSourceName): ParsedFrame {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (error) {
    return { type: 'invalid', letter: { raw: text, reason: `not JSON: ${error instanceof Error ? error.message : String(error)}`, receivedAt, source } };
  }
  return parseFinnhubMessage(text, message, receivedAt, source);
}

/**
 * What `parseFinnhubFrame` makes of a frame already parsed from JSON, for a reader that had to look
 * inside it first (a replay line); `text` is the frame as read, the raw payload of its dead letter.
 */
export function parseFinnhubMessage(text: string, message: unknown, receivedAt: EpochMs, source: TradeSourceName): ParsedFrame {
  if (validTradeMessage.Check(message)) {
    const data = message.data;
    const trades: Trade[] = [];
    for (let i = 0; i < data.length; i++) trades.push(toTrade(data[i]!, receivedAt, source));
    return { type: 'trade', trades, invalid: [] };
  }
  return parseOtherFrame(text, message, receivedAt, source);
}

/** Every frame but an all-valid trade message: other message types, and trade messages with bad trades. */
function parseOtherFrame(text: string, message: unknown, receivedAt: EpochMs, source: TradeSourceName): ParsedFrame {
  const letter = (raw: string, reason: string): DeadLetter => ({ raw, reason, receivedAt, source });
  if (!envelope.Check(message)) return { type: 'invalid', letter: letter(text, schemaReason('invalid message', envelope.Errors(message))) };
  switch (message.type) {
    case 'trade': {
      if (!tradeMessage.Check(message)) {
        return { type: 'invalid', letter: letter(text, schemaReason('invalid trade message', tradeMessage.Errors(message))) };
      }
      const trades: Trade[] = [];
      const invalid: DeadLetter[] = [];
      for (const item of message.data) {
        const result = finnhubTradeToTrade(item, receivedAt, source);
        if (result.trade !== undefined) trades.push(result.trade);
        else invalid.push(letter(JSON.stringify(item), result.reason));
      }
      return { type: 'trade', trades, invalid };
    }
    case 'ping':
      return { type: 'ping' };
    case 'error': {
      const msg = errorMessage.Check(message) ? message.msg : undefined;
      return { type: 'error', message: typeof msg === 'string' ? msg : JSON.stringify(msg ?? null) };
    }
    default:
      return { type: 'unknown', messageType: message.type };
  }
}

export function subscribeMessage(symbol: string): string {
  return JSON.stringify({ type: 'subscribe', symbol });
}

export function unsubscribeMessage(symbol: string): string {
  return JSON.stringify({ type: 'unsubscribe', symbol });
}

/** Parses a client → server message (what the simulator receives); undefined when it is not one. */
export function parseClientMessage(text: string): ClientMessage | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  return clientMessage.Check(message) ? message : undefined;
}

/** Encodes a `trade` message as a Finnhub server sends it. */
export function tradeFrame(trades: readonly FinnhubTrade[]): string {
  return JSON.stringify({ type: 'trade', data: trades });
}
