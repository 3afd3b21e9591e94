import { join, resolve } from 'node:path';
import type { Config } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';
import { openCassandraStore, openSqliteStore } from '../store/index.ts';
import type { Store } from '../store/store.ts';
import { unlessStopped } from './start-stop.ts';

/** `store=auto` means Cassandra in the cluster profile and SQLite in the embedded one. */
export function storeKindOf(config: Config): 'sqlite' | 'cassandra' {
  if (config.store !== 'auto') return config.store;
  return config.profile === 'cluster' ? 'cassandra' : 'sqlite';
}

export interface ConfiguredStore {
  readonly store: Store;
  /** How the store is named to the user, e.g. `sqlite ./.tickstream/tickstream.db`. */
  readonly where: string;
}

/**
 * The store the config names, not yet migrated: SQLite in `<dataDir>/tickstream.db` (written
 * from a worker thread unless `worker` is false), or the Cassandra keyspace.
 */
export function createStore(config: Config, deps: { logger: Logger; worker?: boolean }): ConfiguredStore {
  const kind = storeKindOf(config);
  switch (kind) {
    case 'sqlite': {
      const path = join(resolve(config.dataDir), 'tickstream.db');
      return { store: openSqliteStore({ path, logger: deps.logger, ...(deps.worker === undefined ? {} : { worker: deps.worker }) }), where: `sqlite ${path}` };
    }
    case 'cassandra': {
      const { contactPoints, localDataCenter, keyspace, replication, concurrency } = config.cassandra;
      return {
        store: openCassandraStore({ contactPoints, localDataCenter, keyspace, replication, concurrency, logger: deps.logger }),
        where: `cassandra keyspace ${keyspace} at ${contactPoints.join(',')}`,
      };
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown store ${String(never)}`);
    }
  }
}

/**
 * The store of the config with its pending migrations applied, as `run`, `process` and `serve`
 * start it. A `stop` during the connect or the migration closes the store and rejects.
 */
export async function openStore(config: Config, deps: { logger: Logger; stop?: AbortSignal | undefined }): Promise<Store> {
  const { store } = createStore(config, deps);
  try {
    const migrated = await unlessStopped(store.migrate(), deps.stop);
    if (migrated.applied.length > 0) deps.logger.info('store migrated', { applied: migrated.applied.join(','), current: migrated.current });
    return store;
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}
