import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../../src/errors.ts';
import { CassandraStore } from '../../../src/store/cassandra/cassandra-store.ts';

const options = { contactPoints: ['127.0.0.1:1'], localDataCenter: 'datacenter1', keyspace: 'market', concurrency: 1 };

test('a replication the store cannot read is refused at construction, naming cassandra.replication, before any connect', async () => {
  assert.throws(
    () => new CassandraStore({ ...options, replication: "{'class': 'SimpleStrategy', 'replication_factor': 1}" }),
    (e: unknown) => e instanceof ConfigError && e.key === 'cassandra.replication' && /^invalid config cassandra\.replication="\{'class'.*: expected a replication factor from 1 to 10/.test(e.message),
  );
  for (const replication of [undefined, '3', 'dc1:3,dc2:3']) {
    const store = new CassandraStore({ ...options, ...(replication === undefined ? {} : { replication }) });
    await store.close();
  }
});
