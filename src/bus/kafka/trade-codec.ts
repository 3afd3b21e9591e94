import { readFileSync } from 'node:fs';
import avsc from 'avsc';
import {
  fromTradeRecord,
  toTradeRecord,
  tradeViolation,
  TRADE_SOURCES,
  type Trade,
  type TradeRecord,
} from '../../domain/index.ts';
import { InputError } from '../../errors.ts';
import { AvroTradeEncoder } from './avro-trade-encoder.ts';
import { messageOf } from './kafka-options.ts';

export type TradeFormat = 'avro' | 'json';

/** Turns trades into the bytes of `market.trades` and back. */
export interface TradeCodec {
  readonly format: TradeFormat;
  encode(trade: Trade): Buffer;
  /** The same bytes as `encode` for each trade, made in one go (cheaper for a batch). */
  encodeAll(trades: readonly Trade[]): Buffer[];
  /** Throws an InputError naming the reason when the bytes are not a valid trade. */
  decode(bytes: Buffer): Trade;
}

/** The schema file is the source of truth for the Avro wire format (Spark reads the same file). */
export const TRADE_SCHEMA_URL = new URL('../../../schemas/trade.avsc', import.meta.url);

/** Reads and compiles the schema; a codec does it once when it is made. */
export function loadTradeAvroType(): avsc.Type {
  return avsc.Type.forSchema(JSON.parse(readFileSync(TRADE_SCHEMA_URL, 'utf8')) as avsc.Schema);
}

export function createTradeCodec(format: TradeFormat): TradeCodec {
  switch (format) {
    case 'avro':
      return avroCodec();
    case 'json':
      return jsonCodec();
    default: {
      const unknown: never = format;
      throw new InputError(`unknown wire format ${String(unknown)}`);
    }
  }
}

function avroCodec(): TradeCodec {
  const type = loadTradeAvroType();
  const encoder = new AvroTradeEncoder();
  return {
    format: 'avro',
    encode: (trade) => encoder.encode(trade),
    encodeAll: (trades) => encoder.encodeAll(trades),
    decode: (bytes) => {
      let record: unknown;
      try {
        record = type.fromBuffer(bytes);
      } catch (error) {
        throw new InputError(`not an Avro Trade (${bytes.length} bytes): ${messageOf(error)}${jsonHint(bytes)}`, { cause: error });
      }
      return checked(record as TradeRecord);
    },
  };
}

/**
 * Why JSON bytes are no Avro trade: avsc says only "truncated buffer", which left a producer
 * writing JSON (`--kafka-format json`) to a topic read as Avro with nothing to go on.
 */
function jsonHint(bytes: Buffer): string {
  const first = bytes.find((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
  if (first !== 0x7b && first !== 0x5b) return '';
  try {
    JSON.parse(bytes.toString('utf8'));
  } catch {
    return '';
  }
  return '; it is JSON, and this topic is read as Avro (kafka.format avro): its producer writes JSON with kafka.format json';
}

function jsonCodec(): TradeCodec {
  const encode = (trade: Trade): Buffer => Buffer.from(JSON.stringify(toTradeRecord(trade)), 'utf8');
  return {
    format: 'json',
    encode,
    encodeAll: (trades) => trades.map(encode),
    decode: (bytes) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(bytes.toString('utf8'));
      } catch (error) {
        throw new InputError(`not JSON (${bytes.length} bytes): ${messageOf(error)}`, { cause: error });
      }
      return checked(asTradeRecord(parsed));
    },
  };
}

function asTradeRecord(value: unknown): TradeRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('a JSON trade must be an object');
  const r = value as Record<string, unknown>;
  const conditions = r['conditions'];
  if (!Array.isArray(conditions) || !conditions.every((c) => typeof c === 'string')) {
    throw new InputError('conditions must be an array of strings');
  }
  const source = r['source'];
  if (typeof source !== 'string' || !(TRADE_SOURCES as readonly string[]).includes(source)) {
    throw new InputError(`source must be one of ${TRADE_SOURCES.join(', ')}, got ${JSON.stringify(source)}`);
  }
  const ingestTs = r['ingest_ts'];
  if (typeof ingestTs !== 'number' || !Number.isSafeInteger(ingestTs)) {
    throw new InputError(`ingest_ts must be epoch milliseconds, got ${String(ingestTs)}`);
  }
  return {
    symbol: r['symbol'] as string,
    price: r['price'] as number,
    volume: r['volume'] as number,
    ts: r['ts'] as number,
    conditions: conditions as string[],
    source: source as TradeRecord['source'],
    ingest_ts: ingestTs,
  };
}

/** A record that decodes but breaks the Trade contract (NaN, negative price) is as bad as garbage. */
function checked(record: TradeRecord): Trade {
  const violation = tradeViolation(record);
  if (violation !== undefined) throw new InputError(violation);
  return fromTradeRecord(record);
}
