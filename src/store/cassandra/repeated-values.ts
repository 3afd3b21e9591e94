/**
 * The bytes of bound values that repeat from row to row (a trade's symbol, day, conditions and
 * source), encoded once and reused. cassandra-driver sends a Buffer bound to a prepared
 * statement as the value's bytes, unchanged, so a row can carry these instead of the values:
 * encoding them again for every row (parsing the day's `YYYY-MM-DD`, building the conditions
 * list) was a tenth of the client's CPU in a large write.
 *
 * The encodings are the native protocol's (v3 and later; Cassandra 4 and 5 speak nothing older):
 * text is UTF-8; a date is an unsigned 32-bit count of days with the epoch at 2^31; a list is a
 * 32-bit element count, then each element as a 32-bit length and its bytes. The driver binds an
 * empty list as null, and so does this.
 */
export class RepeatedValues {
  readonly #texts = new Map<string, Buffer>();
  readonly #dates = new Map<string, Buffer>();
  readonly #lists = new Map<string, Buffer>();
  readonly #maxEntries: number;

  /** Each cache is cleared when it reaches `maxEntries`, so an unbounded set of values cannot grow it forever. */
  constructor(maxEntries = 10_000) {
    this.#maxEntries = Math.max(1, Math.floor(maxEntries));
  }

  text(value: string): Buffer {
    let bytes = this.#texts.get(value);
    if (bytes === undefined) {
      bytes = Buffer.from(value, 'utf8');
      remember(this.#texts, value, bytes, this.#maxEntries);
    }
    return bytes;
  }

  /** A CQL date from its `YYYY-MM-DD` form (a UTC day, as partitions.ts writes it). */
  date(day: string): Buffer {
    let bytes = this.#dates.get(day);
    if (bytes === undefined) {
      bytes = encodeDate(day);
      remember(this.#dates, day, bytes, this.#maxEntries);
    }
    return bytes;
  }

  /** A list<text>; null for an empty list, as the driver binds it. */
  textList(values: readonly string[]): Buffer | null {
    if (values.length === 0) return null;
    // U+0000 cannot be confused with the content of a Finnhub condition code.
    const key = values.length === 1 ? (values[0] as string) : values.join('\u0000');
    let bytes = this.#lists.get(key);
    if (bytes === undefined) {
      bytes = encodeTextList(values);
      remember(this.#lists, key, bytes, this.#maxEntries);
    }
    return bytes;
  }
}

const DAY_MS = 86_400_000;
const DATE_EPOCH = 2 ** 31;

function encodeDate(day: string): Buffer {
  // Date.parse also reads the expanded years (+010000-01-01) that toISOString writes past 9999.
  const ms = Date.parse(`${day}T00:00:00.000Z`);
  if (Number.isNaN(ms)) throw new RangeError(`not a YYYY-MM-DD day: ${day}`);
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(Math.floor(ms / DAY_MS) + DATE_EPOCH, 0);
  return out;
}

function encodeTextList(values: readonly string[]): Buffer {
  const items = values.map((v) => Buffer.from(v, 'utf8'));
  const out = Buffer.allocUnsafe(4 + items.reduce((n, b) => n + 4 + b.length, 0));
  let at = out.writeInt32BE(items.length, 0);
  for (const b of items) {
    at = out.writeInt32BE(b.length, at);
    at += b.copy(out, at);
  }
  return out;
}

function remember(cache: Map<string, Buffer>, key: string, bytes: Buffer, max: number): void {
  if (cache.size >= max) cache.clear();
  cache.set(key, bytes);
}
