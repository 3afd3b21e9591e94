import { TRADE_SOURCES, type EpochMs, type Offset, type Price, type Trade, type TradeSource, type Volume } from '../domain/index.ts';
import type { FlushBatch, StoredTrade, SymbolTrades } from './store.ts';

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
  const packer = new TradePacker(trades.length);
  for (let i = 0; i < trades.length; i++) {
    const { trade, seq } = trades[i] as StoredTrade;
    packer.add(trade, seq);
  }
  return packer.take();
}

/**
 * Packs trades one at a time, as they are accepted. By the time a batch is written its
 * trades have long left the CPU cache, and packing them then costs several times more than
 * adding each one while it is at hand. The columns grow as needed and are reused by the
 * next batch; take() copies them out at their exact length.
 */
export class TradePacker {
  #capacity: number;
  #count = 0;
  #price: Float64Array;
  #volume: Float64Array;
  #ts: Float64Array;
  #seq: Float64Array;
  #ingestTs: Float64Array;
  #symbol: Uint32Array;
  #source: Uint32Array;
  #conditionCount: Uint32Array;
  #conditionLengths: Uint32Array;
  #conditionParts: string[] = [];
  #symbolIds = new Map<string, number>();
  #symbols: string[] = [];
  #lastSymbol: string | undefined;
  #lastId = 0;

  constructor(capacity = 1024) {
    const c = Math.max(16, capacity);
    this.#capacity = c;
    this.#price = new Float64Array(c);
    this.#volume = new Float64Array(c);
    this.#ts = new Float64Array(c);
    this.#seq = new Float64Array(c);
    this.#ingestTs = new Float64Array(c);
    this.#symbol = new Uint32Array(c);
    this.#source = new Uint32Array(c);
    this.#conditionCount = new Uint32Array(c);
    this.#conditionLengths = new Uint32Array(c);
  }

  /** Trades added since the last take(). */
  get count(): number {
    return this.#count;
  }

  add(trade: Trade, seq: number): void {
    const i = this.#count;
    if (i === this.#capacity) this.#grow();
    this.#price[i] = trade.price;
    this.#volume[i] = trade.volume;
    this.#ts[i] = trade.ts;
    this.#seq[i] = seq;
    this.#ingestTs[i] = trade.ingestTs;
    const symbol = trade.symbol;
    if (symbol !== this.#lastSymbol) {
      let id = this.#symbolIds.get(symbol);
      if (id === undefined) {
        id = this.#symbols.length;
        this.#symbols.push(symbol);
        this.#symbolIds.set(symbol, id);
      }
      this.#lastSymbol = symbol;
      this.#lastId = id;
    }
    this.#symbol[i] = this.#lastId;
    this.#source[i] = sourceCode(trade.source);
    const conditions = trade.conditions;
    const count = conditions.length;
    this.#conditionCount[i] = count;
    this.#count = i + 1;
    if (count === 0) return;
    const parts = this.#conditionParts;
    let c = parts.length;
    if (c + count > this.#conditionLengths.length) this.#conditionLengths = grown(this.#conditionLengths, c + count);
    for (let k = 0; k < count; k++) {
      const text = conditions[k] as string;
      parts.push(text);
      this.#conditionLengths[c++] = text.length;
    }
  }

  /** The trades added since the last take(), packed in the order they were added; the packer starts over empty. */
  take(): PackedTrades {
    const n = this.#count;
    const numbers = new Float64Array(5 * n);
    numbers.set(this.#price.subarray(0, n), 0);
    numbers.set(this.#volume.subarray(0, n), n);
    numbers.set(this.#ts.subarray(0, n), 2 * n);
    numbers.set(this.#seq.subarray(0, n), 3 * n);
    numbers.set(this.#ingestTs.subarray(0, n), 4 * n);
    const codes = new Uint32Array(3 * n);
    codes.set(this.#symbol.subarray(0, n), 0);
    codes.set(this.#source.subarray(0, n), n);
    codes.set(this.#conditionCount.subarray(0, n), 2 * n);
    const parts = this.#conditionParts;
    const packed: PackedTrades = {
      count: n,
      numbers,
      codes,
      symbols: this.#symbols,
      conditionText: parts.join(''),
      conditionLengths: this.#conditionLengths.slice(0, parts.length),
    };
    this.#count = 0;
    this.#conditionParts = [];
    this.#symbolIds = new Map();
    this.#symbols = [];
    this.#lastSymbol = undefined;
    return packed;
  }

  #grow(): void {
    const c = 2 * this.#capacity;
    this.#capacity = c;
    this.#price = grown(this.#price, c);
    this.#volume = grown(this.#volume, c);
    this.#ts = grown(this.#ts, c);
    this.#seq = grown(this.#seq, c);
    this.#ingestTs = grown(this.#ingestTs, c);
    this.#symbol = grown(this.#symbol, c);
    this.#source = grown(this.#source, c);
    this.#conditionCount = grown(this.#conditionCount, c);
  }
}

function grown<T extends Float64Array | Uint32Array>(column: T, atLeast: number): T {
  const next = new (column.constructor as new (length: number) => T)(Math.max(atLeast, 2 * column.length));
  next.set(column);
  return next;
}

/** The batch's trades packed: as it carries them, or packed now from its objects. */
export function packedTradesOf(batch: FlushBatch): PackedTrades {
  return batch.packedTrades ?? packTrades(batch.trades);
}

/** The batch's trades as objects: as it carries them, or unpacked now. */
export function storedTradesOf(batch: FlushBatch): readonly StoredTrade[] {
  return batch.trades ?? unpackTrades(batch.packedTrades);
}

/** How many trades the batch holds. */
export function tradeCountOf(batch: FlushBatch): number {
  return batch.trades !== undefined ? batch.trades.length : batch.packedTrades.count;
}

/** The buffers to hand to postMessage as its transfer list. */
export function transferListOf(packed: PackedTrades): ArrayBuffer[] {
  return [packed.numbers.buffer as ArrayBuffer, packed.codes.buffer as ArrayBuffer, packed.conditionLengths.buffer as ArrayBuffer];
}

/** A list of conditions seen in a batch: the lengths that cut its text apart, and what `toText` made of it. */
interface KnownConditions<T> {
  readonly lengths: readonly number[];
  readonly value: T;
}

/**
 * Each trade's conditions, in trade order, given as `toText(conditions)` of every trade that
 * has some and `empty` for the rest. A feed repeats a handful of lists, so each distinct list
 * is cut apart and given to `toText` once per batch, and trades with that list share the
 * result; a list is recognised by its text and the lengths that cut it.
 */
export function mapConditions<T>(packed: PackedTrades, empty: T, toText: (conditions: string[]) => T): T[] {
  const n = packed.count;
  const { codes, conditionText, conditionLengths } = packed;
  const out = new Array<T>(n);
  const known = new Map<string, KnownConditions<T>[]>();
  let c = 0;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const count = codes[2 * n + i] as number;
    if (count === 0) {
      out[i] = empty;
      continue;
    }
    let spanLength = 0;
    for (let k = 0; k < count; k++) spanLength += conditionLengths[c + k] as number;
    const span = conditionText.slice(at, at + spanLength);
    let candidates = known.get(span);
    if (candidates === undefined) {
      candidates = [];
      known.set(span, candidates);
    }
    let found: KnownConditions<T> | undefined;
    for (const candidate of candidates) {
      if (sameLengths(candidate.lengths, conditionLengths, c, count)) {
        found = candidate;
        break;
      }
    }
    if (found === undefined) {
      const lengths = Array.from(conditionLengths.subarray(c, c + count));
      const conditions = new Array<string>(count);
      let from = 0;
      for (let k = 0; k < count; k++) {
        const length = lengths[k] as number;
        conditions[k] = span.slice(from, from + length);
        from += length;
      }
      found = { lengths, value: toText(conditions) };
      candidates.push(found);
    }
    out[i] = found.value;
    c += count;
    at += spanLength;
  }
  return out;
}

function sameLengths(lengths: readonly number[], all: Uint32Array, from: number, count: number): boolean {
  if (lengths.length !== count) return false;
  for (let k = 0; k < count; k++) if (lengths[k] !== all[from + k]) return false;
  return true;
}

/** The trades back as objects; the inverse of packTrades. */
export function unpackTrades(packed: PackedTrades): StoredTrade[] {
  const conditions = mapConditions<readonly string[]>(packed, [], (list) => list);
  const out = new Array<StoredTrade>(packed.count);
  for (let i = 0; i < packed.count; i++) out[i] = storedTradeAt(packed, i, conditions[i] as readonly string[]);
  return out;
}

/** Trade `i` of a batch as an object, with its conditions already cut apart. */
function storedTradeAt(packed: PackedTrades, i: number, conditions: readonly string[]): StoredTrade {
  const n = packed.count;
  const { numbers, codes } = packed;
  return {
    trade: {
      symbol: packed.symbols[codes[i] as number] as string,
      price: numbers[i] as Price,
      volume: numbers[n + i] as Volume,
      ts: numbers[2 * n + i] as EpochMs,
      conditions: conditions.length === 0 ? [] : conditions,
      source: TRADE_SOURCES[codes[n + i] as number] as TradeSource,
      ingestTs: numbers[4 * n + i] as EpochMs,
    },
    seq: numbers[3 * n + i] as Offset,
  };
}

/** Newer by (ts, seq): the order in which a symbol's latest trade is chosen. */
function newer(ts: number, seq: number, thanTs: number, thanSeq: number): boolean {
  return ts > thanTs || (ts === thanTs && seq > thanSeq);
}

/** Each symbol's trades of a batch (see SymbolTrades), with its last `recent` in log order; symbols in order of first appearance. */
export function symbolTradesOf(trades: readonly StoredTrade[], recent: number): SymbolTrades[] {
  const groups = new Map<string, { count: number; first: StoredTrade; latest: StoredTrade; recent: StoredTrade[] }>();
  for (const t of trades) {
    const g = groups.get(t.trade.symbol);
    if (g === undefined) {
      groups.set(t.trade.symbol, { count: 1, first: t, latest: t, recent: recent > 0 ? [t] : [] });
      continue;
    }
    g.count++;
    if (newer(t.trade.ts, t.seq, g.latest.trade.ts, g.latest.seq)) g.latest = t;
    if (recent > 0) {
      g.recent.push(t);
      // Trimmed in steps, so that a long batch costs a copy per `recent` trades, not per trade.
      if (g.recent.length >= 2 * recent) g.recent.splice(0, g.recent.length - recent);
    }
  }
  return [...groups].map(([symbol, g]) => ({ symbol, count: g.count, first: g.first, latest: g.latest, recent: g.recent.slice(-recent || g.recent.length) }));
}

/**
 * symbolTradesOf for packed trades: the columns are read once and only the trades it returns
 * become objects, so a flush of a few hundred thousand trades costs no object per trade.
 */
export function symbolTradesOfPacked(packed: PackedTrades, recent: number): SymbolTrades[] {
  const n = packed.count;
  const { numbers, codes, symbols } = packed;
  const k = symbols.length;
  const counts = new Uint32Array(k);
  const first = new Int32Array(k).fill(-1);
  const latest = new Int32Array(k).fill(-1);
  const recentOf: number[][] = Array.from({ length: k }, () => []);
  const wanted = new Uint8Array(n);
  // Backwards, so a symbol's last `recent` are the first met and its first trade the last.
  for (let i = n - 1; i >= 0; i--) {
    const s = codes[i] as number;
    counts[s]!++;
    first[s] = i;
    const l = latest[s] as number;
    // The earliest of equals wins, as in symbolTradesOf's forward pass.
    if (l < 0 || !newer(numbers[2 * n + l] as number, numbers[3 * n + l] as number, numbers[2 * n + i] as number, numbers[3 * n + i] as number)) latest[s] = i;
    const r = recentOf[s] as number[];
    if (r.length < recent) {
      r.push(i);
      wanted[i] = 1;
    }
  }
  for (let s = 0; s < k; s++) {
    wanted[first[s] as number] = 1;
    wanted[latest[s] as number] = 1;
  }
  const at = unpackMarked(packed, wanted);
  const out: SymbolTrades[] = [];
  for (let s = 0; s < k; s++) {
    if (counts[s] === 0) continue;
    out.push({
      symbol: symbols[s] as string,
      count: counts[s] as number,
      first: at.get(first[s] as number) as StoredTrade,
      latest: at.get(latest[s] as number) as StoredTrade,
      recent: (recentOf[s] as number[]).reverse().map((i) => at.get(i) as StoredTrade),
    });
  }
  return out;
}

/** The trades whose index is marked in `wanted`, as objects by index; one pass over the condition columns finds where each one's conditions start. */
function unpackMarked(packed: PackedTrades, wanted: Uint8Array): Map<number, StoredTrade> {
  const n = packed.count;
  const { codes, conditionText, conditionLengths } = packed;
  const out = new Map<number, StoredTrade>();
  let c = 0;
  let from = 0;
  for (let i = 0; i < n; i++) {
    const count = codes[2 * n + i] as number;
    let length = 0;
    for (let j = 0; j < count; j++) length += conditionLengths[c + j] as number;
    if (wanted[i] === 1) {
      const conditions = new Array<string>(count);
      for (let j = 0, at = from; j < count; j++) {
        const end = at + (conditionLengths[c + j] as number);
        conditions[j] = conditionText.slice(at, end);
        at = end;
      }
      out.set(i, storedTradeAt(packed, i, conditions));
    }
    from += length;
    c += count;
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
