import { compressionsAlgorithms, crc32c } from '@platformatic/kafka';
import type { KafkaCompression } from './kafka-options.ts';
import type { SpooledRecord } from './trade-spool.ts';

/** What a record batch says about its producer (the idempotence fields) and its compression. */
export interface RecordBatchHeader {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /** The sequence number of the batch's first record in its partition. */
  readonly firstSequence: number;
  readonly compression: KafkaCompression;
  /** Create time of every record, epoch milliseconds. */
  readonly timestamp: number;
}

// Offsets in a record batch (magic 2), as the Kafka protocol lays it out.
const LENGTH_AT = 8;
const LEADER_EPOCH_AT = 12;
const MAGIC_AT = 16;
const CRC_AT = 17;
/** The CRC covers everything from the attributes to the end. */
const ATTRIBUTES_AT = 21;
const LAST_OFFSET_DELTA_AT = 23;
const FIRST_TIMESTAMP_AT = 27;
const MAX_TIMESTAMP_AT = 35;
const PRODUCER_ID_AT = 43;
const PRODUCER_EPOCH_AT = 51;
const FIRST_SEQUENCE_AT = 53;
const RECORD_COUNT_AT = 57;
const RECORDS_AT = 61;

/**
 * Writes one record batch (magic 2) of the given records: no headers, every record with the
 * batch's timestamp. The records go into one scratch buffer, are compressed as a whole, and
 * the batch is one Buffer: the client's own writer builds a small buffer per varint of every
 * record, which cost more than everything else on the produce path.
 */
export class RecordBatchWriter {
  /** Where the records are written before compression; grows, never shrinks. */
  #scratch = Buffer.allocUnsafeSlow(256 * 1024);

  write(records: readonly SpooledRecord[], header: RecordBatchHeader): Buffer {
    if (records.length === 0) throw new RangeError('a record batch needs at least one record');
    const size = this.#writeRecords(records);
    const algorithm = compressionsAlgorithms[header.compression];
    const body = header.compression === 'none' ? this.#scratch.subarray(0, size) : algorithm.compressSync(this.#scratch.subarray(0, size));
    const batch = Buffer.allocUnsafe(RECORDS_AT + body.length);
    batch.writeBigInt64BE(0n, 0);
    batch.writeInt32BE(batch.length - LEADER_EPOCH_AT, LENGTH_AT);
    batch.writeInt32BE(-1, LEADER_EPOCH_AT);
    batch.writeInt8(2, MAGIC_AT);
    batch.writeInt16BE(algorithm.bitmask, ATTRIBUTES_AT);
    batch.writeInt32BE(records.length - 1, LAST_OFFSET_DELTA_AT);
    batch.writeBigInt64BE(BigInt(header.timestamp), FIRST_TIMESTAMP_AT);
    batch.writeBigInt64BE(BigInt(header.timestamp), MAX_TIMESTAMP_AT);
    batch.writeBigInt64BE(header.producerId, PRODUCER_ID_AT);
    batch.writeInt16BE(header.producerEpoch, PRODUCER_EPOCH_AT);
    batch.writeInt32BE(header.firstSequence, FIRST_SEQUENCE_AT);
    batch.writeInt32BE(records.length, RECORD_COUNT_AT);
    body.copy(batch, RECORDS_AT);
    batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_AT)), CRC_AT);
    return batch;
  }

  /** Writes the records into the scratch buffer; returns their size. */
  #writeRecords(records: readonly SpooledRecord[]): number {
    let most = 0;
    for (const r of records) most += r.key.length + r.value.length + 5 * 5;
    if (most > this.#scratch.length) this.#scratch = Buffer.allocUnsafeSlow(Math.max(most, this.#scratch.length * 2));
    const out = this.#scratch;
    let pos = 0;
    for (let i = 0; i < records.length; i++) {
      const { key, value } = records[i]!;
      // attributes, timestamp delta 0, offset delta, key, value, no headers
      const length = 2 + varIntSize(i) + varIntSize(key.length) + key.length + varIntSize(value.length) + value.length + 1;
      pos = writeVarInt(out, pos, length);
      out[pos++] = 0;
      out[pos++] = 0;
      pos = writeVarInt(out, pos, i);
      pos = writeVarInt(out, pos, key.length);
      pos += key.copy(out, pos);
      pos = writeVarInt(out, pos, value.length);
      pos += value.copy(out, pos);
      out[pos++] = 0;
    }
    return pos;
  }
}

/** Bytes of a zig-zag varint of a non-negative int32. */
function varIntSize(n: number): number {
  const z = n * 2;
  return z < 0x80 ? 1 : z < 0x4000 ? 2 : z < 0x20_0000 ? 3 : z < 0x1000_0000 ? 4 : 5;
}

/** A zig-zag varint of a non-negative int32 (lengths and offset deltas are never negative here). */
function writeVarInt(out: Buffer, pos: number, n: number): number {
  let z = n * 2;
  while (z >= 0x80) {
    out[pos++] = (z & 0x7f) | 0x80;
    z = Math.floor(z / 0x80);
  }
  out[pos++] = z;
  return pos;
}
