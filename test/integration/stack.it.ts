import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import cassandra from 'cassandra-driver';
import { loadConfig } from '../../src/config/index.ts';
import { StackStartError } from '../../src/errors.ts';
import { stackDown, stackStatus, stackUp } from '../../src/stack/index.ts';
import { ensureStack, integrationStackOptions } from './stack-fixture.ts';

const TOPICS = ['market.trades', 'market.trades.dlq', 'market.trades.late'];

function admin(t: TestContext, brokers: string): Admin {
  const a = new Admin({ clientId: 'tickstream-stack-it', bootstrapBrokers: [brokers] });
  t.after(() => a.close());
  return a;
}

async function topicPartitions(a: Admin): Promise<Map<string, number | undefined>> {
  const md = await a.metadata({ topics: TOPICS, forceUpdate: true });
  return new Map(TOPICS.map((name) => [name, md.topics.get(name)?.partitionsCount]));
}

test('stack up kafka: the broker answers and the topics of DESIGN.md exist with the configured partitions and retention', async (t) => {
  const stack = await ensureStack(['kafka']);
  if (!stack) return t.skip('Java or Maven missing');
  const { config } = integrationStackOptions();
  const a = admin(t, stack.kafkaBrokers);
  const partitions = await topicPartitions(a);
  for (const name of TOPICS) assert.equal(partitions.get(name), config.kafka.topicPartitions, name);
  const described = await a.describeConfigs({
    resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: 'market.trades', configurationKeys: ['retention.ms'] }],
  });
  assert.equal(described[0]?.configs.find((c) => c.name === 'retention.ms')?.value, String(config.kafka.retention));
});

test('stack up twice is a no-op: the same process stays, reported as already running', async (t) => {
  if (!(await ensureStack(['kafka']))) return t.skip('Java or Maven missing');
  const options = integrationStackOptions();
  const [first] = await stackUp('kafka', options);
  const [second] = await stackUp('kafka', options);
  assert.equal(second?.state, 'already-running');
  assert.equal(second?.pid, first?.pid);
});

test('stack status shows kafka healthy with its pid, ports and version', async (t) => {
  if (!(await ensureStack(['kafka']))) return t.skip('Java or Maven missing');
  const options = integrationStackOptions();
  const rows = await stackStatus(options);
  const kafka = rows.find((r) => r.service === 'kafka');
  assert.equal(kafka?.health, 'healthy');
  assert.ok(kafka?.pid !== undefined && kafka.pid > 1);
  assert.match(kafka?.version ?? '', /^4\.\d+\.\d+$/);
  assert.equal(kafka?.ports[0], Number(options.config.kafka.brokers[0]?.split(':').at(-1)));
});

test('stack down stops kafka cleanly; the next up keeps its topics', async (t) => {
  const stack = await ensureStack(['kafka']);
  if (!stack) return t.skip('Java or Maven missing');
  const options = integrationStackOptions();
  const [down] = await stackDown('kafka', options);
  assert.equal(down?.outcome, 'stopped', 'stopped by SIGTERM within the grace period');
  assert.equal((await stackStatus(options)).find((r) => r.service === 'kafka')?.health, 'stopped');
  const [up] = await stackUp('kafka', options);
  assert.equal(up?.state, 'started');
  const partitions = await topicPartitions(admin(t, stack.kafkaBrokers));
  for (const name of TOPICS) assert.equal(partitions.get(name), options.config.kafka.topicPartitions, name);
});

test('a broker that dies during start is reported with its last log lines and the log path', async (t) => {
  if (!(await ensureStack([]))) return t.skip('Java or Maven missing');
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-stack-it-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  // Storage that claims to belong to another node: Kafka refuses it and exits.
  const data = join(dir, 'stack', 'kafka', 'data');
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, 'meta.properties'), 'version=1\ncluster.id=AAAAAAAAAAAAAAAAAAAAAA\nnode.id=7\n');
  const config = loadConfig({ env: {}, flags: { dataDir: dir, 'kafka.brokers': `127.0.0.1:${port}` }, cwd: dir });
  const options = { ...integrationStackOptions(), config };
  t.after(() => stackDown('kafka', options));
  await assert.rejects(stackUp('kafka', options), (error: unknown) => {
    assert.ok(error instanceof StackStartError);
    assert.match(error.message, /kafka did not start: the process exited/);
    assert.match(error.message, /--- last \d+ lines of .*kafka\.log ---/);
    assert.match(error.message, /node id/i);
    assert.match(error.message, /full log: .*kafka\.log$/);
    return true;
  });
  assert.equal((await stackStatus(options)).find((r) => r.service === 'kafka')?.detail, 'not running', 'the failed run left no pid file');
});

test('stack up cassandra: CQL answers release_version 5.0.x', async (t) => {
  const stack = await ensureStack(['cassandra']);
  if (!stack) return t.skip('Java or Maven missing');
  const { config } = integrationStackOptions();
  const client = new cassandra.Client({ contactPoints: [stack.cassandraContactPoint], localDataCenter: config.cassandra.localDataCenter });
  t.after(() => client.shutdown());
  await client.connect();
  const rs = await client.execute('SELECT release_version FROM system.local');
  assert.match(String(rs.first()?.get('release_version')), /^5\.0\.\d+$/);
  const row = (await stackStatus(integrationStackOptions())).find((r) => r.service === 'cassandra');
  assert.equal(row?.health, 'healthy');
  assert.equal(row?.detail, `release ${String(rs.first()?.get('release_version'))}`);
});
