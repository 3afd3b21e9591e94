import { join, resolve } from 'node:path';
import { Command } from 'commander';
import type { Config, ConfigKey } from '../config/index.ts';
import { createLogger, type Logger } from '../observability/index.ts';
import { openCassandraStore, openSqliteStore, type Store } from '../store/index.ts';
import { addConfigOptions, configFromOptions } from './config-options.ts';

/** The config keys that say which store the profile uses and where it is. */
const KEYS: readonly ConfigKey[] = [
  'profile',
  'dataDir',
  'logLevel',
  'cassandra.contactPoints',
  'cassandra.localDataCenter',
  'cassandra.keyspace',
  'cassandra.concurrency',
];

interface ProfileStore {
  readonly store: Store;
  /** How the store is named in the output. */
  readonly where: string;
}

function profileStore(config: Config, logger: Logger): ProfileStore {
  switch (config.profile) {
    case 'embedded': {
      const path = join(resolve(config.dataDir), 'tickstream.db');
      return { store: openSqliteStore({ path, logger, worker: false }), where: `sqlite ${path}` };
    }
    case 'cluster': {
      const { contactPoints, localDataCenter, keyspace, concurrency } = config.cassandra;
      return {
        store: openCassandraStore({ contactPoints, localDataCenter, keyspace, concurrency, logger }),
        where: `cassandra keyspace ${keyspace} at ${contactPoints.join(',')}`,
      };
    }
    default: {
      const never: never = config.profile;
      throw new Error(`unknown profile ${String(never)}`);
    }
  }
}

export function migrateCommand(): Command {
  const cmd = new Command('migrate')
    .description("apply the store's pending schema migrations: the SQLite file in the embedded profile, the Cassandra keyspace in the cluster profile")
    .addHelpText(
      'after',
      `
Prints one line per migration applied, then the version the store is at. Running it again
applies nothing. A failed migration stops with its name and the server's message.
Examples:
  tickstream migrate
  tickstream migrate --profile cluster
  tickstream migrate --profile cluster --cassandra-contact-points 10.0.0.5:9042 --cassandra-keyspace market`,
    );
  addConfigOptions(cmd, KEYS).action(async (options: Record<string, unknown>) => {
    const config = configFromOptions(options, KEYS);
    const logger = createLogger({ level: config.logLevel }).child('migrate');
    const { store, where } = profileStore(config, logger);
    try {
      const result = await store.migrate();
      for (const label of result.applied) process.stdout.write(`applied ${label}\n`);
      const state = result.applied.length === 0 ? 'up to date' : 'now';
      process.stdout.write(`${where}: ${state} at ${result.current}\n`);
    } finally {
      await store.close();
    }
  });
  return cmd;
}
