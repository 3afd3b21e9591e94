import type { Logger } from '../observability/index.ts';
import { CassandraStore } from './cassandra/cassandra-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import { SqliteWorkerStore } from './sqlite/sqlite-worker-store.ts';
import type { Store } from './store.ts';

export type { BarQuery, Checkpoint, FlushBatch, MigrationResult, Store, StoredTrade, SymbolTrades, TradeQuery } from './store.ts';
export { pagesForward } from './store.ts';
export { storedTradesOf, symbolTradesOf, symbolTradesOfPacked, tradeCountOf, TradePacker, type PackedTrades } from './packed-trades.ts';

export interface OpenSqliteStoreOptions {
  readonly path: string;
  readonly logger?: Logger;
  /**
   * Write from a worker thread (the default), so inserts run on another core than the
   * engine; false keeps everything on the calling thread.
   */
  readonly worker?: boolean;
}

/** The embedded store: a SQLite file (created with its directory if missing). Call migrate() before use. */
export function openSqliteStore(options: OpenSqliteStoreOptions): Store {
  const { worker = true, ...rest } = options;
  return worker ? new SqliteWorkerStore(rest) : new SqliteStore(rest);
}

export { BAR_TTLS, barTtlSeconds } from './cassandra/bar-ttl.ts';

/**
 * The cluster store: a Cassandra keyspace. Connects on first use; call migrate() before use.
 * `replication` (`cassandra.replication`: `3`, or `dc1:3,dc2:3`; default 1, a single node)
 * applies when the first migration creates the keyspace.
 */
export function openCassandraStore(options: {
  contactPoints: readonly string[];
  localDataCenter: string;
  keyspace: string;
  concurrency: number;
  logger?: Logger;
  replication?: string;
}): Store {
  return new CassandraStore(options);
}
