import type { Database, Statement } from 'better-sqlite3';

/** SQLite's default limit on bound variables per statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32). */
const MAX_VARIABLES = 32_766;

/** One prepared multi-row statement and the array its per-row values are bound from. */
interface Chunk {
  readonly statement: Statement;
  readonly values: unknown[];
}

/**
 * Upserts many rows with multi-row `INSERT OR REPLACE` statements: one prepared statement
 * per chunk size, where the sizes are the full chunk and the powers of two below it, so a
 * batch of any length needs at most log2(chunk) + 1 statements and no per-row round trip.
 * Each size keeps its values array, written by index: refilling it costs a store per value,
 * where emptying and pushing would give up and regrow its backing store every chunk.
 *
 * Columns named in `shared` are bound once per statement (as `@column`) instead of once per
 * row, for runs of rows that agree on them: every bound value costs a conversion, and a text
 * value a copy, so a row that binds fewer of them is cheaper to insert.
 */
export class ChunkedUpsert {
  readonly #db: Database;
  readonly #sqlHead: string;
  readonly #rowSql: string;
  /** Values bound per row: the columns not shared. */
  readonly #rowValues: number;
  readonly #chunkRows: number;
  readonly #chunks = new Map<number, Chunk>();

  constructor(db: Database, table: string, columns: readonly string[], chunkRows = 256, shared: readonly string[] = []) {
    const unknown = shared.filter((c) => !columns.includes(c));
    if (unknown.length > 0) throw new RangeError(`shared columns ${unknown.join(', ')} are not columns of ${table}`);
    this.#db = db;
    this.#rowValues = columns.length - shared.length;
    this.#chunkRows = Math.max(1, Math.min(chunkRows, Math.floor((MAX_VARIABLES - shared.length) / Math.max(1, this.#rowValues))));
    this.#sqlHead = `INSERT OR REPLACE INTO ${table} (${columns.join(', ')}) VALUES `;
    this.#rowSql = `(${columns.map((c) => (shared.includes(c) ? `@${c}` : '?')).join(', ')})`;
  }

  /**
   * Writes rows 0 to count - 1; `put(values, at, row)` stores the row's values of the columns
   * not shared, in column order, at values[at] onwards. `shared` holds the values of the shared
   * columns, the same for every row. Call inside a transaction.
   *
   * With `minRows`, only statements of at least that many rows are run: the rows written are
   * 0 to n - 1, where n is returned, and the count - n left are the caller's to write some
   * other way (fewer than minRows when it is a power of two).
   */
  run(count: number, put: (values: unknown[], at: number, row: number) => void, shared?: Readonly<Record<string, unknown>>, minRows = 1): number {
    const width = this.#rowValues;
    const least = Math.max(1, minRows);
    let i = 0;
    while (i < count) {
      const left = count - i;
      const rows = left >= this.#chunkRows ? this.#chunkRows : 2 ** Math.floor(Math.log2(left));
      if (rows < least) break;
      const { statement, values } = this.#chunk(rows);
      for (let at = 0, end = i + rows; i < end; i++, at += width) put(values, at, i);
      if (shared === undefined) statement.run(values);
      else statement.run(values, shared);
    }
    return i;
  }

  #chunk(rows: number): Chunk {
    let chunk = this.#chunks.get(rows);
    if (chunk === undefined) {
      const statement = this.#db.prepare(this.#sqlHead + Array.from({ length: rows }, () => this.#rowSql).join(', '));
      chunk = { statement, values: new Array<unknown>(rows * this.#rowValues).fill(null) };
      this.#chunks.set(rows, chunk);
    }
    return chunk;
  }
}
