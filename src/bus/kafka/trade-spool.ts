import {
  closeSync,
  fdatasyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ClosedError, StartError } from '../../errors.ts';
import { replaceFile } from '../../replace-file.ts';
import { lockDirectory, type DirectoryLock } from '../../directory-lock.ts';
import { counted } from '../../observability/index.ts';

/** One encoded record waiting for Kafka: the key (symbol) and the value (Avro or JSON trade). */
export interface SpooledRecord {
  readonly key: Buffer;
  readonly value: Buffer;
}

export interface TradeSpoolOptions {
  /** The spool directory, `<dataDir>/spool/`. */
  readonly dir: string;
  /** Most records kept; `append` waits while the spool is full (config `kafka.spoolLimit`). */
  readonly limit: number;
  /** A segment file is closed and a new one started past this size. */
  readonly segmentBytes?: number;
  /** Told about a torn or corrupt tail found (and cut off) on open. */
  readonly onRepair?: (segment: string, keptBytes: number, droppedBytes: number) => void;
  /**
   * Where the records go and how they are encoded. Kept beside the segments: a spool left with
   * records for another topic or format is refused on open instead of sent to this one.
   */
  readonly target?: SpoolTarget;
}

export interface SpoolTarget {
  readonly topic: string;
  readonly format: string;
}

// Frame: u32 payload length, u32 crc32 of payload, then payload = u16 key length, key, value.
const HEADER = 8;
const SEGMENT_SUFFIX = '.seg';
const CURSOR_FILE = 'cursor.json';
const TARGET_FILE = 'target.json';

interface Segment {
  readonly id: number;
  readonly path: string;
  /** Records in this segment not yet acknowledged (from the cursor on, for the head). */
  records: number;
}

interface Cursor {
  segment: number;
  byteOffset: number;
}

/**
 * The producer's on-disk spool: append-only segment files of encoded records, read
 * back in the order they were written. `append` returns once the records are on disk
 * (fdatasync), so a crash after it loses nothing; a torn frame at the end of a
 * segment (a crash mid-write) is detected by its length and CRC and cut off on open.
 * The read position is saved in a small cursor file (written then renamed) after each
 * acknowledgement, and segments before it are deleted.
 */
export class TradeSpool {
  readonly dir: string;
  readonly #limit: number;
  readonly #segmentBytes: number;
  readonly #segments: Segment[] = [];
  #cursor: Cursor;
  #depth = 0;
  #tailFd: number | undefined;
  #tailBytes = 0;
  /** Head segment bytes read into memory, and how far they go. */
  #headCache: { id: number; bytes: Buffer } | undefined;
  #spaceWaiters: (() => void)[] = [];
  #closed = false;
  /** Two spools over one directory would cut each other's frames as torn and send each other's records. */
  readonly #lock: DirectoryLock;

  constructor(options: TradeSpoolOptions) {
    this.dir = options.dir;
    this.#limit = options.limit;
    this.#segmentBytes = options.segmentBytes ?? 16 * 1024 * 1024;
    mkdirSync(this.dir, { recursive: true });
    this.#lock = lockDirectory(this.dir, 'the spool of a Kafka producer');
    try {
      this.#cursor = this.#readCursor();
      this.#recover(options.onRepair);
      if (options.target !== undefined) this.#claim(options.target);
    } catch (error) {
      this.#lock.release();
      throw error;
    }
  }

  /** Records written and not yet acknowledged. */
  get depth(): number {
    return this.#depth;
  }

  get limit(): number {
    return this.#limit;
  }

  /**
   * Writes the records at the end, durably, then resolves. Waits while the spool is
   * full; a batch larger than the whole limit is let in once the spool is empty, so
   * that it can never wait forever.
   */
  async append(records: readonly SpooledRecord[]): Promise<void> {
    if (records.length === 0) return;
    while (this.#depth > 0 && this.#depth + records.length > this.#limit) {
      if (this.#closed) throw new ClosedError('producer spool');
      await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
    }
    if (this.#closed) throw new ClosedError('producer spool');
    const frames: Buffer[] = [];
    let size = 0;
    for (const r of records) {
      const frame = encodeFrame(r);
      frames.push(frame);
      size += frame.length;
    }
    if (this.#tailFd === undefined || this.#tailBytes + size > this.#segmentBytes) this.#startSegment();
    const data = frames.length === 1 ? frames[0]! : Buffer.concat(frames, size);
    let written = 0;
    while (written < data.length) written += writeSync(this.#tailFd!, data, written, data.length - written);
    fdatasyncSync(this.#tailFd!);
    this.#tailBytes += size;
    this.#segments[this.#segments.length - 1]!.records += records.length;
    this.#depth += records.length;
  }

  /**
   * Up to `max` records from the read position, oldest first, without consuming them; with
   * `maxBytes`, no more than that many key and value bytes (but at least one record).
   */
  peek(max: number, maxBytes = Number.POSITIVE_INFINITY): SpooledRecord[] {
    const out: SpooledRecord[] = [];
    let size = 0;
    let segmentIndex = 0;
    let offset = this.#cursor.byteOffset;
    while (out.length < max && segmentIndex < this.#segments.length) {
      const segment = this.#segments[segmentIndex]!;
      const bytes = this.#segmentBytesOf(segment);
      if (segment.id !== this.#cursor.segment) offset = 0;
      while (out.length < max && offset + HEADER <= bytes.length) {
        const frame = decodeFrame(bytes, offset);
        if (frame === undefined) break;
        size += recordBytes(frame.record);
        if (out.length > 0 && size > maxBytes) return out;
        out.push(frame.record);
        offset = frame.next;
      }
      segmentIndex++;
    }
    return out;
  }

  /** The first `count` records (as returned by `peek`) are in Kafka: move past them and free their space. */
  ack(count: number): void {
    let left = Math.min(count, this.#depth);
    while (left > 0) {
      const head = this.#segments[0];
      if (head === undefined) break;
      if (head.id !== this.#cursor.segment) this.#cursor = { segment: head.id, byteOffset: 0 };
      const bytes = this.#segmentBytesOf(head);
      let offset = this.#cursor.byteOffset;
      while (left > 0 && head.records > 0) {
        const frame = decodeFrame(bytes, offset);
        // Counted records the bytes do not hold: going round again would never end.
        if (frame === undefined) throw new Error(`spool segment ${head.path} ends at byte ${offset} with ${counted(head.records, 'record')} counted but not found`);
        offset = frame.next;
        head.records--;
        left--;
        this.#depth--;
      }
      this.#cursor = { segment: head.id, byteOffset: offset };
      const isTail = this.#segments.length === 1;
      if (head.records === 0 && !isTail) {
        this.#segments.shift();
        rmSync(head.path, { force: true });
        this.#headCache = undefined;
        const next = this.#segments[0]!;
        this.#cursor = { segment: next.id, byteOffset: 0 };
      }
    }
    if (this.#depth === 0 && this.#segments.length === 1 && this.#tailBytes > this.#segmentBytes / 4) {
      // Everything is sent: start the next write in a fresh segment so this one can go.
      this.#closeTail();
      const last = this.#segments.shift()!;
      rmSync(last.path, { force: true });
      this.#headCache = undefined;
      this.#cursor = { segment: last.id + 1, byteOffset: 0 };
    }
    this.#writeCursor();
    const waiters = this.#spaceWaiters;
    this.#spaceWaiters = [];
    for (const w of waiters) w();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeTail();
    this.#lock.release();
    const waiters = this.#spaceWaiters;
    this.#spaceWaiters = [];
    for (const w of waiters) w();
  }

  #segmentBytesOf(segment: Segment): Buffer {
    const cached = this.#headCache;
    const isTail = segment === this.#segments[this.#segments.length - 1];
    const size = isTail && this.#tailFd !== undefined ? this.#tailBytes : undefined;
    if (cached !== undefined && cached.id === segment.id && (size === undefined || cached.bytes.length === size)) return cached.bytes;
    const bytes = readFileSync(segment.path);
    if (segment === this.#segments[0]) this.#headCache = { id: segment.id, bytes };
    return bytes;
  }

  #startSegment(): void {
    this.#closeTail();
    const last = this.#segments[this.#segments.length - 1];
    // The cache of a head that was also the tail holds its bytes as they were when read; from
    // now on the segment is no longer known to be the tail, so the cache could not tell it grew.
    if (last !== undefined && this.#headCache?.id === last.id) this.#headCache = undefined;
    const id = Math.max(last === undefined ? 0 : last.id + 1, this.#cursor.segment);
    const path = join(this.dir, segmentName(id));
    this.#tailFd = openSync(path, 'a');
    this.#tailBytes = statSync(path).size;
    this.#segments.push({ id, path, records: 0 });
    if (this.#segments.length === 1) {
      // A cursor left behind for a segment that no longer exists must not skip into a new one.
      this.#cursor = { segment: id, byteOffset: this.#cursor.segment === id ? Math.min(this.#cursor.byteOffset, this.#tailBytes) : 0 };
    }
  }

  #closeTail(): void {
    if (this.#tailFd !== undefined) closeSync(this.#tailFd);
    this.#tailFd = undefined;
  }

  #readCursor(): Cursor {
    try {
      const parsed = JSON.parse(readFileSync(join(this.dir, CURSOR_FILE), 'utf8')) as Partial<Cursor>;
      if (Number.isSafeInteger(parsed.segment) && Number.isSafeInteger(parsed.byteOffset)) {
        return { segment: parsed.segment!, byteOffset: parsed.byteOffset! };
      }
    } catch {
      // No cursor yet (a fresh spool), or a torn one: start at the first segment.
    }
    return { segment: 0, byteOffset: 0 };
  }

  #writeCursor(): void {
    replaceFile(join(this.dir, CURSOR_FILE), JSON.stringify(this.#cursor));
  }

  /**
   * Records the target of this run's records, after checking that the records left by an earlier
   * run (if any) were meant for the same one. A spool from before targets were kept is taken as is.
   */
  #claim(target: SpoolTarget): void {
    const path = join(this.dir, TARGET_FILE);
    if (this.#depth > 0) {
      const kept = readTarget(path);
      if (kept !== undefined && (kept.topic !== target.topic || kept.format !== target.format)) {
        throw new StartError(
          `${this.dir} holds ${counted(this.#depth, 'trade')} spooled for topic ${kept.topic} in ${kept.format}, not ${target.topic} in ${target.format}: ` +
            `start once with --kafka-topic ${kept.topic} --kafka-format ${kept.format} to send them, or move the directory away`,
        );
      }
      if (kept !== undefined) return;
    }
    replaceFile(path, JSON.stringify({ topic: target.topic, format: target.format }));
  }

  /** Finds the segments left by an earlier run, drops acknowledged ones, cuts torn tails, counts what is left. */
  #recover(onRepair: TradeSpoolOptions['onRepair']): void {
    const ids = readdirSync(this.dir)
      .filter((name) => name.endsWith(SEGMENT_SUFFIX))
      .map((name) => Number(name.slice(0, -SEGMENT_SUFFIX.length)))
      .filter((id) => Number.isSafeInteger(id))
      .sort((a, b) => a - b);
    for (const id of ids) {
      const path = join(this.dir, segmentName(id));
      if (id < this.#cursor.segment) {
        rmSync(path, { force: true });
        continue;
      }
      const bytes = readFileSync(path);
      let offset = 0;
      let records = 0;
      let kept = 0;
      if (id === this.#cursor.segment && this.#cursor.byteOffset > bytes.length) this.#cursor = { segment: id, byteOffset: bytes.length };
      const from = id === this.#cursor.segment ? this.#cursor.byteOffset : 0;
      for (;;) {
        const frame = decodeFrame(bytes, offset);
        if (frame === undefined) break;
        if (offset >= from) records++;
        offset = frame.next;
        kept = offset;
      }
      if (kept < bytes.length) {
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, kept);
        fdatasyncSync(fd);
        closeSync(fd);
        onRepair?.(path, kept, bytes.length - kept);
      }
      this.#segments.push({ id, path, records });
      this.#depth += records;
    }
    const head = this.#segments[0];
    if (head === undefined) return;
    if (head.id !== this.#cursor.segment) this.#cursor = { segment: head.id, byteOffset: 0 };
  }
}

/** The target kept in a spool directory; undefined when there is none or it cannot be read. */
function readTarget(path: string): SpoolTarget | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<SpoolTarget>;
    return typeof parsed.topic === 'string' && typeof parsed.format === 'string' ? { topic: parsed.topic, format: parsed.format } : undefined;
  } catch {
    return undefined;
  }
}

function segmentName(id: number): string {
  return `${String(id).padStart(12, '0')}${SEGMENT_SUFFIX}`;
}

function encodeFrame(record: SpooledRecord): Buffer {
  const payloadLength = 2 + record.key.length + record.value.length;
  const frame = Buffer.allocUnsafe(HEADER + payloadLength);
  frame.writeUInt32LE(payloadLength, 0);
  frame.writeUInt16LE(record.key.length, HEADER);
  record.key.copy(frame, HEADER + 2);
  record.value.copy(frame, HEADER + 2 + record.key.length);
  frame.writeUInt32LE(crc32(frame.subarray(HEADER)), 4);
  return frame;
}

/** The frame at `offset`, or undefined when the bytes end there or are torn or corrupt. */
function decodeFrame(bytes: Buffer, offset: number): { record: SpooledRecord; next: number } | undefined {
  if (offset + HEADER > bytes.length) return undefined;
  const payloadLength = bytes.readUInt32LE(offset);
  const end = offset + HEADER + payloadLength;
  if (payloadLength < 2 || end > bytes.length) return undefined;
  const payload = bytes.subarray(offset + HEADER, end);
  if (crc32(payload) !== bytes.readUInt32LE(offset + 4)) return undefined;
  const keyLength = payload.readUInt16LE(0);
  if (2 + keyLength > payload.length) return undefined;
  return {
    record: { key: payload.subarray(2, 2 + keyLength), value: payload.subarray(2 + keyLength) },
    next: end,
  };
}

/** What a record weighs in a send: its key and value bytes. */
export function recordBytes(r: SpooledRecord): number {
  return r.key.length + r.value.length;
}
