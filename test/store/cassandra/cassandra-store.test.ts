import assert from 'node:assert/strict';
import { test } from 'node:test';
import cassandra from 'cassandra-driver';
import { offset } from '../../../src/domain/index.ts';
import { ConfigError } from '../../../src/errors.ts';
import { createLogger } from '../../../src/observability/index.ts';
import { CassandraStore } from '../../../src/store/cassandra/cassandra-store.ts';

const { errors } = cassandra;
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

test('while Cassandra does not answer, the driver warnings are debug lines; once a request succeeds they are warnings again', async (t) => {
  // No Cassandra here: the driver's client is stubbed where it would touch the network, and its
  // log events are emitted as the driver emits them while it reconnects.
  let down = false;
  const answer = async (): Promise<unknown> => {
    if (down) throw new errors.NoHostAvailableError({ '127.0.0.1:9042': new Error('connect ECONNREFUSED 127.0.0.1:9042') });
    return { rows: [], pageState: null };
  };
  const connect = t.mock.method(cassandra.Client.prototype, 'connect', async () => {});
  t.mock.method(cassandra.Client.prototype, 'execute', answer);
  t.mock.method(cassandra.Client.prototype, 'batch', answer);
  t.mock.method(cassandra.Client.prototype, 'shutdown', async () => {});
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => void lines.push(line.replace(/^\S+ /, '')) });
  const store = new CassandraStore({ contactPoints: ['127.0.0.1:9042'], localDataCenter: 'datacenter1', keyspace: 'market', concurrency: 1, logger });
  t.after(() => store.close());
  const driverWarns = (): string[] => lines.filter((l) => /^WARN .*cassandra driver:/.test(l));
  const reconnecting = (): void => void (connect.mock.calls[0]!.this as cassandra.Client).emit('log', 'warning', 'ControlConnection', 'ControlConnection could not reconnect, scheduling reconnection in 269ms');

  await store.bars({ symbol: 'AAPL', interval: '1m', limit: 2 });
  reconnecting();
  assert.equal(driverWarns().length, 1, 'a driver warning while Cassandra answers is a warning');

  down = true;
  await assert.rejects(store.bars({ symbol: 'AAPL', interval: '1m', limit: 2 }), /no Cassandra node answered/);
  for (let i = 0; i < 5; i++) reconnecting();
  await assert.rejects(store.write({ trades: [], bars: [], checkpoints: [{ engineId: 'e', partition: 0, offset: offset(1), state: '{}' }] }));
  reconnecting();
  assert.equal(driverWarns().length, 1, lines.join('\n'));
  assert.equal(lines.filter((l) => /^DEBUG .*cassandra driver: ControlConnection could not reconnect/.test(l)).length, 6);

  down = false;
  await store.bars({ symbol: 'AAPL', interval: '1m', limit: 2 });
  reconnecting();
  assert.equal(driverWarns().length, 2, 'back to warnings once Cassandra answers');
});
