import { TRADE_SOURCES, type Trade, type TradeSource } from '../../domain/index.ts';
import { InputError } from '../../errors.ts';

/**
 * Writes the Avro binary form of `schemas/trade.avsc` directly, field by field, without
 * building the snake_case record that avsc needs: symbol (string), price and volume
 * (double), ts (long), conditions (array of string), source (enum), ingest_ts (long).
 * A property test checks every byte against avsc, so the schema file stays the source
 * of truth; a change there must be made here too, and that test says so.
 *
 * Strings (symbols, condition codes) repeat endlessly, so their encoded bytes are cached:
 * the UTF-8 conversion happens once per distinct string, not once per trade.
 */
export class AvroTradeEncoder {
  /** Avro strings (zig-zag length, then UTF-8 bytes) by their text. */
  readonly #strings = new Map<string, Buffer>();
  readonly #cacheLimit: number;
  /** Where a batch is written before it is copied out in one piece; grows, never shrinks. */
  #scratch = Buffer.allocUnsafeSlow(64 * 1024);

  /** `cacheLimit` bounds the distinct strings kept, so a stream of unique strings cannot grow memory. */
  constructor(cacheLimit = 4_096) {
    this.#cacheLimit = cacheLimit;
  }

  encode(trade: Trade): Buffer {
    return Buffer.from(this.#scratch.subarray(0, this.#write(trade, 0)));
  }

  /**
   * Encodes many trades into one new buffer and returns a view of it per trade: one
   * allocation per batch instead of one per trade.
   */
  encodeAll(trades: readonly Trade[]): Buffer[] {
    const ends = new Array<number>(trades.length);
    let pos = 0;
    for (let i = 0; i < trades.length; i++) {
      pos = this.#write(trades[i]!, pos);
      ends[i] = pos;
    }
    const slab = Buffer.allocUnsafe(pos);
    this.#scratch.copy(slab, 0, 0, pos);
    const out = new Array<Buffer>(trades.length);
    let start = 0;
    for (let i = 0; i < trades.length; i++) {
      const end = ends[i]!;
      out[i] = slab.subarray(start, end);
      start = end;
    }
    return out;
  }

  /** Writes one trade into the scratch buffer at `pos` (growing it when needed); returns the end. */
  #write(trade: Trade, pos: number): number {
    const ts = checkedLong(trade.ts, 'ts');
    const ingestTs = checkedLong(trade.ingestTs, 'ingest_ts');
    const source = sourceIndex(trade.source);
    const symbol = this.#string(trade.symbol);
    const conditions = trade.conditions;
    // symbol, price, volume, ts, the conditions' count and end marker, source (an enum of fewer than 64), ingest_ts
    let most = symbol.length + 16 + 10 + 20 + 1 + 10;
    for (let i = 0; i < conditions.length; i++) most += this.#string(conditions[i]!).length;
    let out = this.#scratch;
    if (pos + most > out.length) {
      out = Buffer.allocUnsafeSlow(Math.max(out.length * 2, pos + most));
      this.#scratch.copy(out, 0, 0, pos);
      this.#scratch = out;
    }
    pos = put(out, pos, symbol);
    pos = out.writeDoubleLE(trade.price, pos);
    pos = out.writeDoubleLE(trade.volume, pos);
    pos = writeLong(out, pos, ts);
    if (conditions.length > 0) {
      pos = writeLong(out, pos, conditions.length);
      for (let i = 0; i < conditions.length; i++) pos = put(out, pos, this.#string(conditions[i]!));
    }
    out[pos++] = 0;
    out[pos++] = source * 2;
    return writeLong(out, pos, ingestTs);
  }

  #string(value: string): Buffer {
    const cached = this.#strings.get(value);
    if (cached !== undefined) return cached;
    const bytes = Buffer.from(value, 'utf8');
    const avro = Buffer.allocUnsafe(longSize(bytes.length) + bytes.length);
    bytes.copy(avro, writeLong(avro, 0, bytes.length));
    if (this.#strings.size >= this.#cacheLimit) this.#strings.clear();
    this.#strings.set(value, avro);
    return avro;
  }
}

const SOURCE_INDEX: ReadonlyMap<TradeSource, number> = new Map(TRADE_SOURCES.map((s, i) => [s, i]));

function sourceIndex(source: TradeSource): number {
  const index = SOURCE_INDEX.get(source);
  if (index === undefined) throw new InputError(`source must be one of ${TRADE_SOURCES.join(', ')}, got ${JSON.stringify(source)}`);
  return index;
}

/** The largest long avsc reads back without fearing precision loss; beyond it decoding fails, so encoding does. */
export const MAX_AVRO_LONG = 9_007_199_254_740_990;

function checkedLong(value: number, field: string): number {
  if (!Number.isInteger(value) || Math.abs(value) > MAX_AVRO_LONG) throw new InputError(`${field} must be an integer of epoch milliseconds, got ${String(value)}`);
  return value;
}

/** Byte by byte: for the few bytes of a symbol this beats Buffer#copy, which crosses into C++. */
function put(out: Buffer, pos: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) out[pos++] = bytes[i]!;
  return pos;
}

/** Bytes of a zig-zag varint long; at most 10, for any safe integer 8 suffice. */
function longSize(n: number): number {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  let size = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    size++;
  }
  return size;
}

/**
 * Zig-zag varint. Small values take 32-bit integer arithmetic; larger ones (epoch
 * milliseconds) are zig-zagged as doubles, exactly as avsc does, then written from their
 * low and high 32-bit halves, because `%` on doubles is slow and 32-bit operators alone
 * would cut them short.
 */
function writeLong(out: Buffer, pos: number, n: number): number {
  if (n >= -0x40000000 && n < 0x40000000) {
    let m = n >= 0 ? n << 1 : (~n << 1) | 1;
    while (m > 0x7f) {
      out[pos++] = (m & 0x7f) | 0x80;
      m >>>= 7;
    }
    out[pos++] = m;
    return pos;
  }
  const z = n >= 0 ? n * 2 : -n * 2 - 1;
  let lo = z >>> 0;
  let hi = (z - lo) / 0x1_0000_0000;
  while (hi > 0 || lo > 0x7f) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  out[pos++] = lo;
  return pos;
}
