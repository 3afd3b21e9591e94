import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stackStatus, stackUp, SPARK_PORTS } from '../../src/stack/index.ts';
import { aliveWorkers, callConnectConfig, fetchMasterState, type MasterState } from '../../src/stack/services/spark-health.ts';
import { ensureStack, integrationStackOptions } from './stack-fixture.ts';

const MASTER_UI = { host: '127.0.0.1', port: SPARK_PORTS.masterUi };
const SPARK_PROCESSES = ['spark-master', 'spark-worker-1', 'spark-worker-2', 'spark-connect'];

/** Polls the master's page until `ok` holds or the deadline passes; returns the last state seen. */
async function masterStateWhen(ok: (s: MasterState) => boolean, timeoutMs = 30_000): Promise<MasterState | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: MasterState | undefined;
  while (Date.now() < deadline) {
    last = await fetchMasterState(MASTER_UI);
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

test('stack up spark: the master lists two ALIVE workers of one core and 2 GiB each', async (t) => {
  if (!(await ensureStack(['spark']))) return t.skip('Java or Maven missing');
  const state = await fetchMasterState(MASTER_UI);
  assert.equal(state?.status, 'ALIVE');
  assert.equal(state.url, `spark://127.0.0.1:${SPARK_PORTS.master}`);
  const alive = aliveWorkers(state);
  assert.deepEqual(
    alive.map((w) => [w.host, w.port, w.cores, w.memoryMb]).sort(),
    [
      ['127.0.0.1', 7078, 1, 2048],
      ['127.0.0.1', 7079, 1, 2048],
    ],
  );
});

test('the Connect server is the master\u2019s running application and gets an executor on each worker', async (t) => {
  if (!(await ensureStack(['spark']))) return t.skip('Java or Maven missing');
  // Executors are granted just after the app registers: wait for both cores to be taken.
  const state = await masterStateWhen((s) => aliveWorkers(s).every((w) => w.coresUsed === w.cores) && s.activeApps.length > 0);
  assert.ok(state, 'the master answers');
  const app = state.activeApps.find((a) => a.name === 'Spark Connect server');
  assert.equal(app?.state, 'RUNNING');
  assert.equal(app.cores, 2);
  assert.deepEqual(aliveWorkers(state).map((w) => w.coresUsed), [1, 1]);
});

test('the Connect port answers a real gRPC call with the master and the Cassandra it was configured with', async (t) => {
  const stack = await ensureStack(['spark']);
  if (!stack) return t.skip('Java or Maven missing');
  assert.equal(stack.sparkConnectUrl, `sc://127.0.0.1:${SPARK_PORTS.connect}`);
  const keys = ['spark.master', 'spark.cassandra.connection.host', 'spark.cassandra.connection.port', 'spark.sql.extensions'];
  const pairs = await callConnectConfig({ host: '127.0.0.1', port: SPARK_PORTS.connect }, keys);
  assert.ok(pairs, 'the Config call got an answer with gRPC status 0');
  const { config } = integrationStackOptions();
  const [host, port] = (config.cassandra.contactPoints[0] ?? '127.0.0.1:9042').split(':');
  assert.equal(pairs.get('spark.master'), `spark://127.0.0.1:${SPARK_PORTS.master}`);
  assert.equal(pairs.get('spark.cassandra.connection.host'), host);
  assert.equal(pairs.get('spark.cassandra.connection.port'), port ?? '9042');
  assert.equal(pairs.get('spark.sql.extensions'), 'com.datastax.spark.connector.CassandraSparkExtensions');
});

test('stack up spark twice is a no-op: every process stays, reported as already running', async (t) => {
  if (!(await ensureStack(['spark']))) return t.skip('Java or Maven missing');
  const options = integrationStackOptions();
  const first = await stackUp('spark', options);
  const second = await stackUp('spark', options);
  assert.deepEqual(second.map((r) => r.process), SPARK_PROCESSES);
  assert.ok(second.every((r) => r.state === 'already-running'));
  assert.deepEqual(second.map((r) => r.pid), first.map((r) => r.pid));
  assert.equal(new Set(second.map((r) => r.pid)).size, 4, 'four separate JVMs');
});

test('stack status shows the master, both workers and the Connect server healthy with ports, pids and version', async (t) => {
  if (!(await ensureStack(['spark']))) return t.skip('Java or Maven missing');
  const rows = (await stackStatus(integrationStackOptions())).filter((r) => r.service.startsWith('spark-'));
  assert.deepEqual(rows.map((r) => [r.service, r.health]), SPARK_PROCESSES.map((name) => [name, 'healthy']));
  assert.deepEqual(rows.map((r) => r.ports[0]), [7077, 7078, 7079, 15002]);
  for (const row of rows) {
    assert.match(row.version, /^3\.5\.\d+$/);
    assert.ok(row.pid !== undefined && row.pid > 1);
  }
  assert.match(rows[0]?.detail ?? '', /2 of 2 workers alive/);
});
