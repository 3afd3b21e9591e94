import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { ConfigError } from '../../src/errors.ts';
import { describeHeldPort, describePortCollisions, findPortCollisions, portCollisionError } from '../../src/stack/port-collisions.ts';
import { resolveTargets, SERVICES } from '../../src/stack/registry.ts';
import type { ServiceDefinition, StackProcess } from '../../src/stack/service.ts';

const config = (flags: Record<string, string> = {}) => loadConfig({ env: {}, flags: { dataDir: '/data', ...flags }, cwd: '/nonexistent' });
const collisionsOf = (flags: Record<string, string>) => findPortCollisions(resolveTargets('all'), config(flags));

test('the default ports of every process of the stack are all different', () => {
  assert.deepEqual(collisionsOf({}), []);
});

test('a Spark port on Kafka\u2019s broker or controller port is a collision with kafka', () => {
  assert.deepEqual(collisionsOf({ 'spark.masterUiPort': '9092' }), [
    { port: 9092, first: 'kafka', second: 'spark-master', firstKey: 'kafka.brokers', secondKey: 'spark.masterUiPort' },
    { port: 9093, first: 'kafka', second: 'spark-worker-1', firstKey: 'kafka.brokers', secondKey: 'spark.masterUiPort' },
  ]);
  assert.deepEqual(collisionsOf({ 'spark.connectUrl': 'sc://spark-host:9093' }), [{ port: 9093, first: 'kafka', second: 'spark-connect', firstKey: 'kafka.brokers', secondKey: 'spark.connectUrl' }]);
});

test('a worker port landing on Cassandra\u2019s CQL or storage port is a collision with cassandra', () => {
  assert.deepEqual(collisionsOf({ 'spark.masterPort': '9041' }), [{ port: 9042, first: 'cassandra', second: 'spark-worker-1', firstKey: 'cassandra.contactPoints', secondKey: 'spark.masterPort' }]);
  assert.deepEqual(collisionsOf({ 'spark.masterPort': '6998' }), [{ port: 7000, first: 'cassandra', second: 'spark-worker-2', firstKey: 'cassandra.contactPoints', secondKey: 'spark.masterPort' }]);
});

test('Kafka\u2019s controller port, the broker port + 1, counts: a broker just below Cassandra collides with it', () => {
  assert.deepEqual(collisionsOf({ 'kafka.brokers': '127.0.0.1:9041' }), [{ port: 9042, first: 'kafka', second: 'cassandra', firstKey: 'kafka.brokers', secondKey: 'cassandra.contactPoints' }]);
});

test('the Connect server\u2019s driver UI port (spark.uiPort) counts: on Kafka\u2019s port it is a collision with kafka', () => {
  assert.deepEqual(collisionsOf({ 'spark.uiPort': '9092' }), [{ port: 9092, first: 'kafka', second: 'spark-connect', firstKey: 'kafka.brokers', secondKey: 'spark.uiPort' }]);
  assert.deepEqual(collisionsOf({ 'spark.uiPort': '15002' }), [{ port: 15002, first: 'spark-connect', second: 'spark-connect', firstKey: 'spark.connectUrl', secondKey: 'spark.uiPort' }]);
});

test('one process given the same port twice is named once', () => {
  assert.deepEqual(collisionsOf({ 'spark.masterPort': '17000', 'spark.masterUiPort': '17000' }), [
    { port: 17000, first: 'spark-master', second: 'spark-master', firstKey: 'spark.masterPort', secondKey: 'spark.masterUiPort' },
    { port: 17001, first: 'spark-worker-1', second: 'spark-worker-1', firstKey: 'spark.masterPort', secondKey: 'spark.masterUiPort' },
    { port: 17002, first: 'spark-worker-2', second: 'spark-worker-2', firstKey: 'spark.masterPort', secondKey: 'spark.masterUiPort' },
  ]);
});

test('the dashboard\u2019s port is not the stack\u2019s and is not checked', () => {
  assert.deepEqual(collisionsOf({ port: '7077' }), []);
});

const fakeProcess = (name: string, ports: readonly number[]): StackProcess => ({
  name,
  mainClass: 'Fake',
  startTimeoutMs: 1,
  stopGraceMs: 1,
  endpoints: () => ports.map((port) => ({ host: '127.0.0.1', port })),
  prepare: () => Promise.reject(new Error('never started here')),
  probe: () => Promise.resolve(undefined),
});

test('a port is checked across every process of every service given, and each reuse is named against its first holder', () => {
  const services: ServiceDefinition[] = [
    { ...SERVICES.kafka, processes: [fakeProcess('a', [1, 2])] },
    { ...SERVICES.spark, processes: [fakeProcess('b', [3]), fakeProcess('c', [4, 2]), fakeProcess('d', [2])] },
  ];
  assert.deepEqual(findPortCollisions(services, config()), [
    { port: 2, first: 'a', second: 'c' },
    { port: 2, first: 'a', second: 'd' },
  ]);
});

test('the message is one line naming both processes with the keys that give them the port, and what to do', () => {
  const text = describePortCollisions(collisionsOf({ 'spark.masterUiPort': '9092' }));
  assert.equal(
    text,
    "kafka (kafka.brokers) and spark-master (spark.masterUiPort) would both listen on port 9092; kafka (kafka.brokers) and spark-worker-1 (spark.masterUiPort) would both listen on port 9093; change one of them (`tickstream stack status` lists each process's ports)",
  );
  assert.match(describePortCollisions([{ port: 17000, first: 'spark-master', second: 'spark-master' }]), /^spark-master would listen on port 17000 twice;/);
  assert.ok(!text.includes('\n'));
});

test('colliding ports are bad config: a ConfigError naming the key of the process that came second and its value', () => {
  const error = portCollisionError(collisionsOf({ 'kafka.brokers': '127.0.0.1:9041' }), config({ 'kafka.brokers': '127.0.0.1:9041' }));
  assert.ok(error instanceof ConfigError);
  assert.equal(error.code, 'TICKSTREAM_CONFIG_INVALID');
  assert.equal(error.key, 'cassandra.contactPoints');
  assert.match(error.message, /^invalid config cassandra\.contactPoints="127\.0\.0\.1:9042": expected a port no other process of the stack listens on: kafka \(kafka\.brokers\) and cassandra \(cassandra\.contactPoints\) would both listen on port 9042; /);
  const secret = portCollisionError(collisionsOf({ 'spark.connectUrl': 'sc://h:9092/;token=abc' }), config({ 'spark.connectUrl': 'sc://h:9092/;token=abc' }));
  assert.match(secret.message, /^invalid config spark\.connectUrl="sc:\/\/h:9092\/;token=\*\*\*": /, 'a token in the URL is not shown');
});

const heldMessages = (flags: Record<string, string>): string[] =>
  resolveTargets('all').flatMap((s) =>
    s.processes.flatMap((p) =>
      p
        .endpoints(config(flags))
        .filter((e) => e.boundPort === undefined)
        .map((e) => describeHeldPort(p.name, e, config(flags))),
    ),
  );

test('a held port is named with the port the config gives, how this one follows from it, and every way to choose another', () => {
  const ours = heldMessages({ 'kafka.brokers': '127.0.0.1:19092', 'cassandra.contactPoints': '127.0.0.1:19042', 'spark.masterPort': '17077', 'spark.masterUiPort': '18081', 'spark.connectUrl': 'sc://localhost:16002' });
  const tail = (flag: string, env: string, key: string) => ` is already in use by a process the stack of /data did not start; stop that process, or choose other ports with ${flag} (${env}, or ${key} in the config file)`;
  const kafka = tail('--kafka-brokers', 'TICKSTREAM_KAFKA_BROKERS', 'kafka.brokers');
  const cassandra = tail('--cassandra-contact-points', 'TICKSTREAM_CASSANDRA_CONTACT_POINTS', 'cassandra.contactPoints');
  const rpc = tail('--spark-master-port', 'TICKSTREAM_SPARK_MASTER_PORT', 'spark.masterPort');
  const ui = tail('--spark-master-ui-port', 'TICKSTREAM_SPARK_MASTER_UI_PORT', 'spark.masterUiPort');
  assert.deepEqual(ours, [
    `kafka: 127.0.0.1:19092, its broker port (kafka.brokers is 127.0.0.1:19092)${kafka}`,
    `kafka: 127.0.0.1:19093, its controller port (the port of kafka.brokers + 1; kafka.brokers is 127.0.0.1:19092)${kafka}`,
    `cassandra: 127.0.0.1:19042, its CQL port (cassandra.contactPoints is 127.0.0.1:19042)${cassandra}`,
    `cassandra: 127.0.0.1:19043, its storage port (the CQL port of cassandra.contactPoints + 1; cassandra.contactPoints is 127.0.0.1:19042)${cassandra}`,
    `spark-master: 127.0.0.1:17077, its RPC port (spark.masterPort is 17077)${rpc}`,
    `spark-master: 127.0.0.1:18081, its web UI (spark.masterUiPort is 18081)${ui}`,
    `spark-worker-1: 127.0.0.1:17078, its RPC port (spark.masterPort + 1; spark.masterPort is 17077)${rpc}`,
    `spark-worker-1: 127.0.0.1:18082, its web UI (spark.masterUiPort + 1; spark.masterUiPort is 18081)${ui}`,
    `spark-worker-2: 127.0.0.1:17079, its RPC port (spark.masterPort + 2; spark.masterPort is 17077)${rpc}`,
    `spark-worker-2: 127.0.0.1:18083, its web UI (spark.masterUiPort + 2; spark.masterUiPort is 18081)${ui}`,
    `spark-connect: 127.0.0.1:16002, its Spark Connect port (spark.connectUrl is sc://localhost:16002)${tail('--spark-connect-url', 'TICKSTREAM_SPARK_CONNECT_URL', 'spark.connectUrl')}`,
  ]);
});

test('Cassandra\u2019s storage port 7000 beside the default CQL port says how to move it', () => {
  assert.match(heldMessages({})[3] ?? '', /^cassandra: 127\.0\.0\.1:7000, its storage port \(7000 beside the default CQL port 9042; any other CQL port puts it on that port \+ 1; cassandra\.contactPoints is 127\.0\.0\.1:9042\) /);
});
