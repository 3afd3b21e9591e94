import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { SparkConnectClient } from '../../src/spark/index.ts';
import { sparkSettings, stackConnectUrl, stackDown, stackStatus, stackUp, type StackOptions } from '../../src/stack/index.ts';
import { aliveWorkers, callConnectConfig, fetchMasterState, type MasterState } from '../../src/stack/services/spark-health.ts';
import { ensureStack, integrationConfig, integrationStackOptions } from './stack-fixture.ts';

/** The ports the fixture's config gives the cluster: 7077, 8081 and 15002 by default. */
const SPARK = sparkSettings(integrationConfig());
const MASTER_UI = { host: '127.0.0.1', port: SPARK.masterUiPort };
const SPARK_PROCESSES = ['spark-master', 'spark-worker-1', 'spark-worker-2', 'spark-connect'];

/** Polls the master's page until `ok` holds or the deadline passes; returns the last state seen. */
async function masterStateWhen(ok: (s: MasterState) => boolean, timeoutMs = 30_000, ui = MASTER_UI): Promise<MasterState | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: MasterState | undefined;
  while (Date.now() < deadline) {
    last = await fetchMasterState(ui);
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

test('stack up spark: the master lists two ALIVE workers of one core and 2 GiB each', async (t) => {
  if (!(await ensureStack(['spark']))) return t.skip('Java or Maven missing');
  const state = await fetchMasterState(MASTER_UI);
  assert.equal(state?.status, 'ALIVE');
  assert.equal(state.url, `spark://127.0.0.1:${SPARK.masterPort}`);
  const alive = aliveWorkers(state);
  assert.deepEqual(
    alive.map((w) => [w.host, w.port, w.cores, w.memoryMb]).sort(),
    SPARK.workers.map((w) => ['127.0.0.1', w.port, 1, 2048]),
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
  assert.equal(stack.sparkConnectUrl, `sc://127.0.0.1:${SPARK.connectPort}`);
  const keys = ['spark.master', 'spark.cassandra.connection.host', 'spark.cassandra.connection.port', 'spark.sql.extensions'];
  const pairs = await callConnectConfig({ host: '127.0.0.1', port: SPARK.connectPort }, keys);
  assert.ok(pairs, 'the Config call got an answer with gRPC status 0');
  const { config } = integrationStackOptions();
  const [host, port] = (config.cassandra.contactPoints[0] ?? '127.0.0.1:9042').split(':');
  assert.equal(pairs.get('spark.master'), `spark://127.0.0.1:${SPARK.masterPort}`);
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
  assert.deepEqual(rows.map((r) => r.ports[0]), [SPARK.masterPort, ...SPARK.workers.map((w) => w.port), SPARK.connectPort]);
  for (const row of rows) {
    assert.match(row.version, /^3\.5\.\d+$/);
    assert.ok(row.pid !== undefined && row.pid > 1);
  }
  assert.match(rows[0]?.detail ?? '', /2 of 2 workers alive/);
});

test('a second cluster on ports of its own (spark.masterPort, spark.masterUiPort, spark.connectUrl, spark.uiPort) runs beside the first, and a query runs on its executors', async (t) => {
  if (!(await ensureStack(['spark']))) return t.skip('Java or Maven missing');
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-spark-ports-'));
  const config = loadConfig({
    env: process.env,
    flags: { dataDir, 'spark.masterPort': '17177', 'spark.masterUiPort': '18181', 'spark.connectUrl': 'sc://127.0.0.1:16002', 'spark.uiPort': '14041' },
  });
  const options: StackOptions = { config, env: process.env, progress: (line) => process.stderr.write(`stack (second spark): ${line}\n`) };
  t.after(async () => {
    await stackDown('spark', options);
    rmSync(dataDir, { recursive: true, force: true });
  });
  const up = await stackUp('spark', options);
  assert.deepEqual(up.map((r) => [r.process, r.state]), SPARK_PROCESSES.map((name) => [name, 'started']));

  const ui = { host: '127.0.0.1', port: 18181 };
  const state = await masterStateWhen((s) => aliveWorkers(s).every((w) => w.coresUsed === w.cores) && s.activeApps.length > 0, 60_000, ui);
  assert.equal(state?.url, 'spark://127.0.0.1:17177');
  assert.deepEqual(aliveWorkers(state).map((w) => w.port).sort(), [17178, 17179]);
  assert.equal(state.activeApps.find((a) => a.name === 'Spark Connect server')?.cores, 2, 'the Connect server runs on this master');

  const rows = (await stackStatus(options)).filter((r) => r.service.startsWith('spark-'));
  assert.deepEqual(
    rows.map((r) => [r.service, r.health, r.ports]),
    [
      ['spark-master', 'healthy', [17177, 18181]],
      ['spark-worker-1', 'healthy', [17178, 18182]],
      ['spark-worker-2', 'healthy', [17179, 18183]],
      ['spark-connect', 'healthy', [16002, 14041]],
    ],
  );

  assert.equal(stackConnectUrl(config), 'sc://127.0.0.1:16002');
  const spark = new SparkConnectClient({ url: stackConnectUrl(config) });
  t.after(() => spark.close());
  assert.equal(await spark.conf.get('spark.master'), 'spark://127.0.0.1:17177');
  assert.equal(await spark.conf.get('spark.ui.port'), '14041');
  assert.deepEqual(await spark.sql('select count(*) as n from range(0, 100000, 1, 4)'), [{ n: 100000n }]);
  // The first cluster is untouched.
  assert.equal((await fetchMasterState(MASTER_UI))?.url, `spark://127.0.0.1:${SPARK.masterPort}`);
});
