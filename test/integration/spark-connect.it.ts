import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test, type TestContext } from 'node:test';
import { SparkConnectClient, window, type StreamingQuery, type StreamingQueryProgress } from '../../src/spark/index.ts';
import { ensureStack } from './stack-fixture.ts';
import { until } from '../support/until.ts';

const run = `${process.pid}_${Date.now()}`;
let available = false;
/** The stack's Connect server (`sc://127.0.0.1:15002` by default), started through the stack launcher. */
let connectUrl = '';

before(async () => {
  const stack = await ensureStack(['spark']);
  available = stack !== undefined;
  connectUrl = stack?.sparkConnectUrl ?? '';
});

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-spark-it-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function connect(t: TestContext, sessionIdFile?: string): SparkConnectClient {
  const client = new SparkConnectClient({ url: connectUrl, ...(sessionIdFile === undefined ? {} : { sessionIdFile }) });
  t.after(() => client.close());
  return client;
}

test('sql() runs on the server and returns Arrow rows as plain objects', async (t) => {
  if (!available) return t.skip('Java or Maven missing: no Spark stack');
  const spark = connect(t);
  assert.match(await spark.sparkVersion(), /^3\.5\./);
  assert.deepEqual(await spark.sql('select 1 as x'), [{ x: 1 }]);
  await spark.conf.set({ 'spark.sql.shuffle.partitions': 2 });
  assert.equal(await spark.conf.get('spark.sql.shuffle.partitions'), '2');
  await assert.rejects(spark.sql('selec 1'), /PARSE_SYNTAX_ERROR/);
});

test('a rate → memory streaming query starts, reports progress, is listed as active, and stops', async (t) => {
  if (!available) return t.skip('Java or Maven missing: no Spark stack');
  const sessionIdFile = join(tempDir(t), 'spark-session');
  const spark = connect(t, sessionIdFile);
  await spark.conf.set({ 'spark.sql.shuffle.partitions': 2, 'spark.sql.session.timeZone': 'UTC' });
  const name = `it_rate_${run}`;

  const writer = spark.readStream
    .format('rate')
    .option('rowsPerSecond', 50)
    .load()
    .selectExpr('timestamp AS ts', 'value')
    .withWatermark('ts', '2 seconds')
    .groupBy(window('ts', '1 second'))
    .agg('count(1) AS n', 'max(value) AS last_value')
    .writeStream.format('memory')
    .outputMode('update')
    .trigger({ processingTime: '500 milliseconds' })
    .queryName(name);

  let query: StreamingQuery | undefined = await writer.start();
  t.after(async () => {
    if (query) await query.stop().catch(() => {});
  });
  assert.equal(query.name, name);
  assert.ok(spark.keepingAlive, 'a running query holds the session');

  const active = await spark.streams.active();
  assert.deepEqual(
    active.filter((q) => q.name === name),
    [{ id: query.id, runId: query.runId, name }],
  );

  let progress: StreamingQueryProgress | null = null;
  await until(
    async () => {
      progress = await query!.lastProgress();
      return progress !== null && progress.numInputRows > 0;
    },
    'a progress report with input rows',
    120_000,
    500,
  );
  const last = progress as StreamingQueryProgress | null;
  assert.equal(last?.id, query.id);
  assert.ok((last?.batchId ?? -1) >= 0);
  assert.ok((await query.recentProgress()).length >= 1);
  const status = await query.status();
  assert.equal(status.isActive, true);
  assert.equal(await query.exception(), null);

  await until(async () => (await spark.sql(`select * from ${name}`)).length > 0, 'rows in the memory sink', 60_000, 500);
  const [row] = await spark.sql(`select window.start as start, n from ${name} order by start limit 1`);
  assert.ok(row?.['start'] instanceof Date);
  assert.equal(typeof row?.['n'], 'bigint');

  // A restarted client with the same session id file joins the same session: it sees the query,
  // and starting it again attaches instead of sending a second start.
  const again = connect(t, sessionIdFile);
  assert.equal(again.sessionId, spark.sessionId);
  const attached = await again.readStream.format('rate').load().writeStream.format('memory').queryName(name).start();
  assert.deepEqual([attached.id, attached.runId], [query.id, query.runId]);
  assert.equal((await again.streams.active()).filter((q) => q.name === name).length, 1);
  attached.detach();

  await query.stop();
  const stopped = query;
  query = undefined;
  assert.equal(spark.keepingAlive, false);
  await until(async () => !(await spark.streams.active()).some((q) => q.name === name), 'the query to leave the active list', 30_000, 200);
  assert.equal((await stopped.status()).isActive, false);
});
