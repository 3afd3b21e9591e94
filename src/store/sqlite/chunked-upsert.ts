import type { Database, Statement } from 'better-sqlite3';

/** SQLite's default limit on bound variables per statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32). */
const MAX_VARIABLES = 32_766;

/**
 * Upserts many rows with multi-row `INSERT OR REPLACE` statements: one prepared statement
 * per chunk size, where the sizes are the full chunk and the powers of two below it, so a
 * batch of any length needs at most log2(chunk) + 1 statements and no per-row round trip.
 */
export class ChunkedUpsert {
  readonly #db: Database;
  readonly #sqlHead: string;
  readonly #rowSql: string;
  readonly #chunkRows: number;
  readonly #statements = new Map<number, Statement>();

  constructor(db: Database, table: string, columns: readonly string[], chunkRows = 256) {
    this.#db = db;
    this.#chunkRows = Math.max(1, Math.min(chunkRows, Math.floor(MAX_VARIABLES / columns.length)));
    this.#sqlHead = `INSERT OR REPLACE INTO ${table} (${columns.join(', ')}) VALUES `;
    this.#rowSql = `(${columns.map(() => '?').join(', ')})`;
  }

  /** Writes rows 0 to count - 1, each appended to `out` by `push`; call inside a transaction. */
  run(count: number, push: (out: unknown[], row: number) => void): void {
    let i = 0;
    const values: unknown[] = [];
    while (i < count) {
      const left = count - i;
      const rows = left >= this.#chunkRows ? this.#chunkRows : 2 ** Math.floor(Math.log2(left));
      values.length = 0;
      for (let end = i + rows; i < end; i++) push(values, i);
      this.#statement(rows).run(values);
    }
  }

  #statement(rows: number): Statement {
    let s = this.#statements.get(rows);
    if (s === undefined) {
      s = this.#db.prepare(this.#sqlHead + Array.from({ length: rows }, () => this.#rowSql).join(', '));
      this.#statements.set(rows, s);
    }
    return s;
  }
}
