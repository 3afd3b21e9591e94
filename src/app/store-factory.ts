import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';
import { openSqliteStore } from '../store/index.ts';
import type { Store } from '../store/store.ts';

/** The store of the profile, migrated: SQLite in `<dataDir>/tickstream.db`. */
export async function openStore(_config: Config, deps: { dataDir: string; logger: Logger }): Promise<Store> {
  const store = openSqliteStore({ path: join(deps.dataDir, 'tickstream.db'), logger: deps.logger });
  try {
    const migrated = await store.migrate();
    if (migrated.applied.length > 0) deps.logger.info('store migrated', { applied: migrated.applied.join(','), current: migrated.current });
    return store;
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}
