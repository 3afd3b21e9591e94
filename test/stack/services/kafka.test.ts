import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/index.ts';
import { serviceEndpoints } from '../../../src/stack/service.ts';
import { kafkaService, kafkaSettings, newClusterId, renderKafkaLog4j2, renderServerProperties, topicPlan } from '../../../src/stack/services/kafka.ts';

const config = (flags: Record<string, string> = {}) => loadConfig({ env: {}, flags, cwd: '/nonexistent' });

const parseProperties = (text: string): Map<string, string> =>
  new Map(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

test('server.properties is one KRaft broker+controller on loopback with the configured ports', () => {
  const settings = kafkaSettings(config({ 'kafka.brokers': '127.0.0.1:29092', 'kafka.topicPartitions': '4' }), '/data/stack/kafka');
  const p = parseProperties(renderServerProperties(settings));
  assert.equal(p.get('process.roles'), 'broker,controller');
  assert.equal(p.get('controller.quorum.voters'), '1@127.0.0.1:29093');
  assert.equal(p.get('listeners'), 'PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093');
  assert.equal(p.get('advertised.listeners'), 'PLAINTEXT://127.0.0.1:29092');
  assert.equal(p.get('log.dirs'), '/data/stack/kafka/data');
  assert.equal(p.get('num.partitions'), '4');
  assert.equal(p.get('offsets.topic.replication.factor'), '1');
  assert.equal(p.get('transaction.state.log.replication.factor'), '1');
  assert.equal(p.get('auto.create.topics.enable'), 'false', 'a client asking for a missing topic does not create it');
  assert.ok(![...p.keys()].some((k) => k.startsWith('zookeeper')), 'no ZooKeeper in Kafka 4');
});

test('defaults give the ports of DESIGN.md: 9092 and controller 9093', () => {
  assert.deepEqual(
    serviceEndpoints(kafkaService, config()).map((e) => `${e.host}:${e.port}`),
    ['127.0.0.1:9092', '127.0.0.1:9093'],
  );
});

test('the topics of DESIGN.md get the configured partitions and retention', () => {
  const plan = topicPlan(config({ 'kafka.topicPartitions': '3', 'kafka.retention': '2h' }));
  assert.deepEqual(
    plan.map((t) => [t.name, t.partitions, t.retentionMs]),
    [
      ['market.trades', 3, 7_200_000],
      ['market.trades.dlq', 3, 7_200_000],
      ['market.trades.late', 3, 7_200_000],
    ],
  );
});

test('`stack up kafka` creates the configured trades topic and the side topics named after it', () => {
  assert.deepEqual(
    topicPlan(config({ 'kafka.topic': 'crypto.trades' })).map((t) => t.name),
    ['crypto.trades', 'crypto.trades.dlq', 'crypto.trades.late'],
  );
});

test('cluster ids are 22 base64url characters and never start with a dash', () => {
  let calls = 0;
  const id = newClusterId((n) => Buffer.alloc(n, calls++ === 0 ? 0xfb : 0x41));
  assert.equal(calls, 2, 'the id starting with "-" was drawn again');
  assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  assert.match(newClusterId(), /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
});

test('Log4j 2 config is in properties form and logs to stdout', () => {
  const text = renderKafkaLog4j2();
  assert.match(text, /appender\.stdout\.type = Console/);
  assert.match(text, /rootLogger\.level = INFO/);
});
