import { Command } from 'commander';
import type { ConfigKey } from '../config/index.ts';
import { addConfigOptions, configFromOptions } from './config-options.ts';

/** The config keys that say which store the profile uses and where it is. */
const KEYS: readonly ConfigKey[] = [
  'profile',
  'store',
  'dataDir',
  'logLevel',
  'cassandra.contactPoints',
  'cassandra.localDataCenter',
  'cassandra.keyspace',
  'cassandra.replication',
  'cassandra.concurrency',
];

export function migrateCommand(): Command {
  const cmd = new Command('migrate')
    .description("apply the store's pending schema migrations: the SQLite file in the embedded profile, the Cassandra keyspace in the cluster profile")
    .addHelpText(
      'after',
      `
Prints one line per migration applied, then the version the store is at.
Running it again applies nothing. A failed migration stops with its name and the
server's message. --cassandra-replication applies when the keyspace is created;
an existing keyspace keeps its replication, and a warning says so when it
differs.

Examples:
  tickstream migrate
  tickstream migrate --profile cluster
  tickstream migrate --profile cluster --cassandra-contact-points 10.0.0.5:9042 --cassandra-keyspace market
  tickstream migrate --profile cluster --cassandra-contact-points 10.0.0.5:9042 --cassandra-local-data-center dc1 --cassandra-replication dc1:3,dc2:3`,
    );
  addConfigOptions(cmd, KEYS).action(async (options: Record<string, unknown>) => {
    const config = configFromOptions(options, KEYS);
    // Loaded here, not at the top: --help and --version need none of them.
    const [{ createStore, storeKindOf }, { makeDataDir }, { createLogger }] = await Promise.all([
      import('../app/store-factory.ts'),
      import('../app/start-checks.ts'),
      import('../observability/index.ts'),
    ]);
    const logger = createLogger({ level: config.logLevel }).child('migrate');
    // As run says it: a data dir that is a file is one line naming it, not SQLite's EEXIST from mkdir.
    if (storeKindOf(config) === 'sqlite') makeDataDir(config.dataDir);
    const { store, where } = createStore(config, { logger, worker: false });
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
