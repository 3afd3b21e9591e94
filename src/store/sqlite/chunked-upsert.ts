import type { Database, Statement } from 'better-sqlite3';

/** SQLite's default limit on bound variables per statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32). */
const MAX_VARIABLES = 32_766;

/** One prepared multi-row statement and the array its values are bound from. */
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
 */
export class ChunkedUpsert {
  readonly #db: Database;
  readonly #sqlHead: string;
  readonly #rowSql: string;
  readonly #columns: number;
  readonly #chunkRows: number;
  readonly #chunks = new Map<number, Chunk>();

  constructor(db: Database, table: string, columns: readonly string[], chunkRows = 256) {
    this.#db = db;
    this.#columns = columns.length;
    this.#chunkRows = Math.max(1, Math.min(chunkRows, Math.floor(MAX_VARIABLES / columns.length)));
    this.#sqlHead = `INSERT OR REPLACE INTO ${table} (${columns.join(', ')}) VALUES `;
    this.#rowSql = `(${columns.map(() => '?').join(', ')})`;
  }

  /**
   * Writes rows 0 to count - 1; `put(values, at, row)` stores the row's values, in column
   * order, at values[at] onwards. Call inside a transaction.
   */
  run(count: number, put: (values: unknown[], at: number, row: number) => void): void {
    const columns = this.#columns;
    let i = 0;
    while (i < count) {
      const left = count - i;
      const rows = left >= this.#chunkRows ? this.#chunkRows : 2 ** Math.floor(Math.log2(left));
      const { statement, values } = this.#chunk(rows);
      for (let at = 0, end = i + rows; i < end; i++, at += columns) put(values, at, i);
      statement.run(values);
    }
  }

  #chunk(rows: number): Chunk {
    let chunk = this.#chunks.get(rows);
    if (chunk === undefined) {
      const statement = this.#db.prepare(this.#sqlHead + Array.from({ length: rows }, () => this.#rowSql).join(', '));
      chunk = { statement, values: new Array<unknown>(rows * this.#columns).fill(null) };
      this.#chunks.set(rows, chunk);
    }
    return chunk;
  }
}
