import { after } from 'node:test';
import cassandra from 'cassandra-driver';
import type { StackEndpoints } from './stack-fixture.ts';

export interface ScratchKeyspaces {
  /** A new keyspace name of this run, dropped when the file's tests end. */
  fresh(): string;
  /** The last name fresh() gave. */
  last(): string;
  /** A driver client for reading system tables and the keyspaces directly. */
  admin(): cassandra.Client;
}

/**
 * Keyspaces of this test file's own on the stack's Cassandra, named `<prefix>_<run>_<n>`,
 * and an admin client; every one is dropped in an `after` hook of the file.
 */
export function scratchKeyspaces(prefix: string, endpoints: StackEndpoints | undefined, localDataCenter: string): ScratchKeyspaces {
  const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  const names: string[] = [];
  let client: cassandra.Client | undefined;
  const admin = (): cassandra.Client => {
    if (endpoints === undefined) throw new Error('Cassandra is not running');
    client ??= new cassandra.Client({ contactPoints: [endpoints.cassandraContactPoint], localDataCenter });
    return client;
  };
  after(async () => {
    if (client === undefined && names.length === 0) return;
    if (endpoints === undefined) return;
    const c = admin();
    for (const ks of names) await c.execute(`DROP KEYSPACE IF EXISTS ${ks}`).catch(() => {});
    await c.shutdown();
  });
  return {
    fresh: () => {
      const name = `${prefix}_${run}_${names.length}`;
      names.push(name);
      return name;
    },
    last: () => {
      const name = names.at(-1);
      if (name === undefined) throw new Error('no keyspace made yet');
      return name;
    },
    admin,
  };
}
