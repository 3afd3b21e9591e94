import type { LogFields } from '../../observability/index.ts';
import type { ClientSenderOptions } from './kafka-record-sender.ts';
import type { SpooledRecord } from './trade-spool.ts';

/** What the send worker is started with. */
export type SendWorkerData = ClientSenderOptions;

export interface SendRequest {
  readonly id: number;
  readonly topic: string;
  /** A batch packed by `packRecords`; its buffer is transferred, not copied. */
  readonly batch: Uint8Array;
}

export type SendReply = { readonly id: number; readonly ok: true } | { readonly id: number; readonly ok: false; readonly message: string };

export interface SendWorkerLogLine {
  readonly log: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields?: LogFields;
}

/**
 * One batch in one buffer: the distinct keys first (u32 count, then u16 length + bytes
 * each), then the records (u32 count, then u16 key index, u32 value length, value bytes
 * each). Keys repeat (one per symbol), so each crosses the thread boundary once per batch.
 */
export function packRecords(records: readonly SpooledRecord[]): Uint8Array {
  const keyIndex = new Map<Buffer, number>();
  const keys: Buffer[] = [];
  let size = 8;
  for (const r of records) {
    if (!keyIndex.has(r.key)) {
      keyIndex.set(r.key, keys.length);
      keys.push(r.key);
      size += 2 + r.key.length;
    }
    size += 6 + r.value.length;
  }
  if (keys.length > 0xffff) throw new RangeError(`a batch may hold up to 65535 distinct keys, got ${keys.length}`);
  // Its own ArrayBuffer, never a slice of Node's shared pool: it is transferred to the worker.
  const out = Buffer.allocUnsafeSlow(size);
  let pos = out.writeUInt32LE(keys.length, 0);
  for (const key of keys) {
    pos = out.writeUInt16LE(key.length, pos);
    pos += key.copy(out, pos);
  }
  pos = out.writeUInt32LE(records.length, pos);
  for (const r of records) {
    pos = out.writeUInt16LE(keyIndex.get(r.key)!, pos);
    pos = out.writeUInt32LE(r.value.length, pos);
    pos += r.value.copy(out, pos);
  }
  return out;
}

/**
 * The records of a packed batch; values are views of it. `internKey` may swap a key for an
 * equal Buffer seen before, so that per-key caches downstream keep hitting.
 */
export function unpackRecords(batch: Uint8Array, internKey: (key: Buffer) => Buffer = (key) => key): SpooledRecord[] {
  const bytes = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  let pos = 0;
  const keyCount = bytes.readUInt32LE(pos);
  pos += 4;
  const keys = new Array<Buffer>(keyCount);
  for (let i = 0; i < keyCount; i++) {
    const length = bytes.readUInt16LE(pos);
    pos += 2;
    keys[i] = internKey(bytes.subarray(pos, pos + length));
    pos += length;
  }
  const count = bytes.readUInt32LE(pos);
  pos += 4;
  const records = new Array<SpooledRecord>(count);
  for (let i = 0; i < count; i++) {
    const key = keys[bytes.readUInt16LE(pos)];
    const length = bytes.readUInt32LE(pos + 2);
    pos += 6;
    if (key === undefined || pos + length > bytes.length) throw new RangeError(`packed batch is corrupt at record ${i}`);
    records[i] = { key, value: bytes.subarray(pos, pos + length) };
    pos += length;
  }
  return records;
}
