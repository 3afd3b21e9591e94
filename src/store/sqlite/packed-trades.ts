import { TRADE_SOURCES, type EpochMs, type Offset, type Price, type TradeSource, type Volume } from '../../domain/index.ts';
import type { StoredTrade } from '../store.ts';

/**
 * A batch of trades laid out column-wise, so it crosses to the store's worker thread as a
 * few transferred buffers and two strings instead of one cloned object per trade.
 */
export interface PackedTrades {
  readonly count: number;
  /** Five columns of `count` doubles, in this order: price, volume, ts, seq, ingest_ts. */
  readonly numbers: Float64Array;
  /** Three columns of `count`: index into `symbols`, index into TRADE_SOURCES, number of conditions. */
  readonly codes: Uint32Array;
  /** Each distinct symbol of the batch once, in order of first appearance. */
  readonly symbols: readonly string[];
  /** Every condition of every trade, concatenated in trade order; `conditionLengths` cuts it apart. */
  readonly conditionText: string;
  readonly conditionLengths: Uint32Array;
}

/** Column offsets (in multiples of `count`) inside PackedTrades.numbers and .codes. */
export const PRICE = 0;
export const VOLUME = 1;
export const TS = 2;
export const SEQ = 3;
export const INGEST_TS = 4;
export const SYMBOL = 0;
export const SOURCE = 1;
export const CONDITION_COUNT = 2;

/** Packs trades column-wise; doubles are copied bit for bit, so unpacking gives back equal trades. */
export function packTrades(trades: readonly StoredTrade[]): PackedTrades {
  const n = trades.length;
  const numbers = new Float64Array(5 * n);
  const codes = new Uint32Array(3 * n);
  const symbolIds = new Map<string, number>();
  const symbols: string[] = [];
  let conditionTotal = 0;
  for (let i = 0; i < n; i++) conditionTotal += (trades[i] as StoredTrade).trade.conditions.length;
  const conditionLengths = new Uint32Array(conditionTotal);
  const conditionParts = new Array<string>(conditionTotal);
  let c = 0;
  let lastSymbol: string | undefined;
  let lastId = 0;
  for (let i = 0; i < n; i++) {
    const { trade, seq } = trades[i] as StoredTrade;
    numbers[i] = trade.price;
    numbers[n + i] = trade.volume;
    numbers[2 * n + i] = trade.ts;
    numbers[3 * n + i] = seq;
    numbers[4 * n + i] = trade.ingestTs;
    const symbol = trade.symbol;
    if (symbol !== lastSymbol) {
      let id = symbolIds.get(symbol);
      if (id === undefined) {
        id = symbols.length;
        symbols.push(symbol);
        symbolIds.set(symbol, id);
      }
      lastSymbol = symbol;
      lastId = id;
    }
    codes[i] = lastId;
    codes[n + i] = sourceCode(trade.source);
    const conditions = trade.conditions;
    codes[2 * n + i] = conditions.length;
    for (let k = 0; k < conditions.length; k++) {
      const text = conditions[k] as string;
      conditionParts[c] = text;
      conditionLengths[c] = text.length;
      c++;
    }
  }
  return { count: n, numbers, codes, symbols, conditionText: conditionParts.join(''), conditionLengths };
}

/** The buffers to hand to postMessage as its transfer list. */
export function transferListOf(packed: PackedTrades): ArrayBuffer[] {
  return [packed.numbers.buffer as ArrayBuffer, packed.codes.buffer as ArrayBuffer, packed.conditionLengths.buffer as ArrayBuffer];
}

/** Each trade's conditions, in trade order, given as `toText(conditions)` of every trade that has some and `empty` for the rest. */
export function mapConditions<T>(packed: PackedTrades, empty: T, toText: (conditions: string[]) => T): T[] {
  const n = packed.count;
  const { codes, conditionText, conditionLengths } = packed;
  const out = new Array<T>(n);
  let c = 0;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const count = codes[2 * n + i] as number;
    if (count === 0) {
      out[i] = empty;
      continue;
    }
    const conditions = new Array<string>(count);
    for (let k = 0; k < count; k++) {
      const length = conditionLengths[c++] as number;
      conditions[k] = conditionText.slice(at, at + length);
      at += length;
    }
    out[i] = toText(conditions);
  }
  return out;
}

/** The trades back as objects; the inverse of packTrades. */
export function unpackTrades(packed: PackedTrades): StoredTrade[] {
  const n = packed.count;
  const { numbers, codes, symbols } = packed;
  const conditions = mapConditions<readonly string[]>(packed, [], (list) => list);
  const out = new Array<StoredTrade>(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      trade: {
        symbol: symbols[codes[i] as number] as string,
        price: numbers[i] as Price,
        volume: numbers[n + i] as Volume,
        ts: numbers[2 * n + i] as EpochMs,
        conditions: (conditions[i] as readonly string[]).length === 0 ? [] : (conditions[i] as readonly string[]),
        source: TRADE_SOURCES[codes[n + i] as number] as TradeSource,
        ingestTs: numbers[4 * n + i] as EpochMs,
      },
      seq: numbers[3 * n + i] as Offset,
    };
  }
  return out;
}

function sourceCode(source: TradeSource): number {
  switch (source) {
    case 'finnhub':
      return 0;
    case 'simulator':
      return 1;
    case 'replay':
      return 2;
    default: {
      const unknown: never = source;
      throw new TypeError(`unknown trade source ${String(unknown)}`);
    }
  }
}
