import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createStore } from '../../src/app/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { Logger } from '../../src/observability/index.ts';
import { scratchKeyspaces } from './scratch-keyspaces.ts';
import { ensureStack } from './stack-fixture.ts';

// cassandra.replication from the config to the keyspace, on the stack's real node, in keyspaces of its own dropped at the end.
const endpoints = await ensureStack(['cassandra']);
const keyspaces = scratchKeyspaces('market_repl', endpoints, loadConfig({ env: process.env }).cassandra.localDataCenter);

/** A logger that keeps its warnings. */
function warningsLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger = { debug: () => {}, info: () => {}, warn: (m) => warnings.push(m), error: () => {}, child: () => logger };
  return { logger, warnings };
}

/** The cluster profile's store, configured as a user would: through the config's flags. */
function configuredStore(t: TestContext, keyspace: string, replication: string, logger: Logger) {
  const config = loadConfig({
    env: process.env,
    flags: {
      profile: 'cluster',
      'cassandra.contactPoints': endpoints!.cassandraContactPoint,
      'cassandra.keyspace': keyspace,
      'cassandra.replication': replication,
    },
  });
  const { store } = createStore(config, { logger });
  t.after(() => store.close());
  return store;
}

async function replicationOf(keyspace: string): Promise<Record<string, string>> {
  const rs = await keyspaces.admin().execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [keyspace], { prepare: true });
  assert.equal(rs.rowLength, 1, `keyspace ${keyspace} exists`);
  return { ...(rs.first().get('replication') as Record<string, string>) };
}

if (endpoints === undefined) {
  test('cassandra replication', { skip: 'the stack cannot start here (Java 17 or Maven missing)' }, () => {});
} else {
  test('cassandra.replication dc:N creates the keyspace with NetworkTopologyStrategy; a store configured otherwise leaves it and warns once', async (t) => {
    // The stack's single node runs SimpleSnitch, whose data center is datacenter1.
    const local = await keyspaces.admin().execute('SELECT data_center FROM system.local');
    const dataCenter = local.first().get('data_center') as string;
    assert.equal(dataCenter, 'datacenter1');

    const keyspace = keyspaces.fresh();
    const first = warningsLogger();
    const store = configuredStore(t, keyspace, `${dataCenter}:1`, first.logger);
    assert.deepEqual(await store.migrate(), { applied: ['0001-initial'], current: '0001-initial' });
    assert.deepEqual(await replicationOf(keyspace), { class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', [dataCenter]: '1' });
    assert.deepEqual(await store.migrate(), { applied: [], current: '0001-initial' });
    assert.deepEqual(first.warnings, [], 'the keyspace has the replication asked for');

    const other = warningsLogger();
    const simple = configuredStore(t, keyspace, '1', other.logger);
    assert.deepEqual(await simple.migrate(), { applied: [], current: '0001-initial' });
    assert.deepEqual(await replicationOf(keyspace), { class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', [dataCenter]: '1' }, 'the keyspace keeps its replication');
    assert.equal(other.warnings.length, 1, other.warnings.join('\n'));
    assert.equal(
      other.warnings[0],
      `keyspace ${keyspace} keeps its replication ${dataCenter}:1 (NetworkTopologyStrategy), not cassandra.replication=1 (SimpleStrategy), which applies only when a migration creates the keyspace; ` +
        `to change it, run ALTER KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1} and then nodetool repair --full on every node (src/store/README.md, "Replication")`,
    );
  });

  test('cassandra.replication N creates the keyspace with SimpleStrategy and factor N', async (t) => {
    const keyspace = keyspaces.fresh();
    const { logger, warnings } = warningsLogger();
    const store = configuredStore(t, keyspace, '1', logger);
    await store.migrate();
    assert.deepEqual(await replicationOf(keyspace), { class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '1' });
    assert.deepEqual(warnings, []);
  });
}
