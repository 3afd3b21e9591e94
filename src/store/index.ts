import type { Logger } from '../observability/index.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export type { BarQuery, Checkpoint, FlushBatch, MigrationResult, Store, StoredTrade, TradeQuery } from './store.ts';

/** The embedded store: a SQLite file (created with its directory if missing). Call migrate() before use. */
export function openSqliteStore(options: { path: string; logger?: Logger }): Store {
  return new SqliteStore(options);
}
