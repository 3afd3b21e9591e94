import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';
import { openCassandraStore, openSqliteStore } from '../store/index.ts';
import type { Store } from '../store/store.ts';

/** `store=auto` means Cassandra in the cluster profile and SQLite in the embedded one. */
export function storeKindOf(config: Config): 'sqlite' | 'cassandra' {
  if (config.store !== 'auto') return config.store;
  return config.profile === 'cluster' ? 'cassandra' : 'sqlite';
}

/** The store of the config, migrated: SQLite in `<dataDir>/tickstream.db`, or the Cassandra keyspace. */
export async function openStore(config: Config, deps: { dataDir: string; logger: Logger }): Promise<Store> {
  const store =
    storeKindOf(config) === 'cassandra'
      ? openCassandraStore({
          contactPoints: config.cassandra.contactPoints,
          localDataCenter: config.cassandra.localDataCenter,
          keyspace: config.cassandra.keyspace,
          concurrency: config.cassandra.concurrency,
          logger: deps.logger,
        })
      : openSqliteStore({ path: join(deps.dataDir, 'tickstream.db'), logger: deps.logger });
  try {
    const migrated = await store.migrate();
    if (migrated.applied.length > 0) deps.logger.info('store migrated', { applied: migrated.applied.join(','), current: migrated.current });
    return store;
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}
