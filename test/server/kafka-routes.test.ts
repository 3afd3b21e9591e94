import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type {
  KafkaClusterInfo,
  KafkaConsole,
  KafkaGroupInfo,
  KafkaMessage,
  KafkaMessageQuery,
  KafkaNewTopic,
  KafkaTopicInfo,
} from '../../src/bus/index.ts';
import { BusUnavailableError, InputError } from '../../src/errors.ts';
import { NO_KAFKA_MESSAGE, PAGE_CUT_HEADER, type KafkaConsoleApi } from '../../src/server/kafka-routes.ts';
import { serverFor } from './fixtures.ts';

// Compile-time: the bus's console is what the server asks for.
const _conforms = (c: KafkaConsole): KafkaConsoleApi => c;
void _conforms;

const CLUSTER: KafkaClusterInfo = {
  cluster_id: 'c1',
  controller_id: 1,
  version: '4.4',
  metadata_version: 31,
  brokers: [{ id: 1, host: '127.0.0.1', port: 9092, rack: null, controller: true }],
};

const TOPIC: KafkaTopicInfo = {
  name: 'market.trades',
  partitions: [{ partition: 0, leader: 1, replicas: [1], isr: [1], start_offset: 0, end_offset: 3, messages: 3 }],
  replication: 1,
  messages: 3,
  size_bytes: 420,
  config: { 'retention.ms': '86400000' },
  config_overrides: ['retention.ms'],
  role: 'trades',
};

const GROUP: KafkaGroupInfo = {
  group_id: 'tickstream-engine',
  state: 'STABLE',
  protocol: 'roundrobin',
  protocol_type: 'consumer',
  members: [],
  partitions: [{ topic: 'market.trades', partition: 0, committed: 1, end: 3, lag: 2, past_end: false }],
  lag: 2,
};

const MESSAGE: KafkaMessage = {
  partition: 0,
  offset: 2,
  timestamp: 1_717_171_717_000,
  key: 'AAPL',
  key_format: 'text',
  headers: [],
  value_format: 'avro',
  value: { symbol: 'AAPL', price: 190.5 },
};

/** A console in memory that records what the routes asked; `failWith` makes every call reject. */
class FakeConsole implements KafkaConsoleApi {
  readonly calls: unknown[][] = [];
  readonly topicNames = new Set(['market.trades']);
  failWith: Error | undefined;

  #call(...args: unknown[]): void {
    this.calls.push(args);
    if (this.failWith !== undefined) throw this.failWith;
  }

  async brokers() {
    this.#call('brokers');
    return CLUSTER;
  }
  async topics() {
    this.#call('topics');
    return [TOPIC];
  }
  async topic(name: string) {
    this.#call('topic', name);
    return this.topicNames.has(name) ? { ...TOPIC, name } : undefined;
  }
  async groups() {
    this.#call('groups');
    return [GROUP];
  }
  /** The byte budget that cuts the next pages short; null: they are whole. */
  cutAtBytes: number | null = null;
  async messagePage(q: KafkaMessageQuery) {
    this.#call('messages', q);
    if (!this.topicNames.has(q.topic)) return undefined;
    if (q.partition > 0) throw new InputError(`partition must be from 0 to 0 for ${q.topic}; got ${q.partition}`);
    return { messages: [MESSAGE], cut_at_bytes: this.cutAtBytes };
  }
  /** A broker whose default replication factor is 1. */
  async createTopic(spec: KafkaNewTopic) {
    this.#call('createTopic', spec);
    if (this.topicNames.has(spec.name)) return undefined;
    this.topicNames.add(spec.name);
    return { partitions: spec.partitions, replication: spec.replication ?? 1 };
  }
  async deleteTopic(name: string) {
    this.#call('deleteTopic', name);
    return this.topicNames.delete(name);
  }
}

function consoleServer(t: TestContext) {
  const kafka = new FakeConsole();
  const { server } = serverFor(t, { kafka });
  const inject = server.app.inject.bind(server.app);
  return { kafka, inject };
}

async function badRequest(res: { statusCode: number; json(): unknown }, param: string): Promise<void> {
  assert.equal(res.statusCode, 400, JSON.stringify(res.json()));
  const body = res.json() as { error: string; message: string };
  assert.equal(body.error, 'bad_request');
  assert.match(body.message, new RegExp(`\\b${param}\\b`), `the message names ${param}: ${body.message}`);
}

test('without a kafka option every /api/kafka route answers 404 naming the cluster profile', async (t) => {
  const { server } = serverFor(t);
  for (const [method, url] of [
    ['GET', '/api/kafka/brokers'],
    ['GET', '/api/kafka/topics/market.trades/messages?partition=0'],
    ['POST', '/api/kafka/topics'],
    ['DELETE', '/api/kafka/topics/x?confirm=x'],
    ['GET', '/api/kafka'],
  ] as const) {
    const res = await server.app.inject({ method, url });
    assert.equal(res.statusCode, 404, `${method} ${url}`);
    assert.deepEqual(res.json(), { error: 'not_found', message: NO_KAFKA_MESSAGE });
  }
  const other = await server.app.inject('/api/nothing');
  assert.equal(other.statusCode, 404);
  assert.notEqual((other.json() as { message: string }).message, NO_KAFKA_MESSAGE, 'other unknown routes keep their own answer');
});

test('brokers, topics, a topic and groups are passed through as JSON', async (t) => {
  const { inject } = consoleServer(t);
  assert.deepEqual((await inject('/api/kafka/brokers')).json(), CLUSTER);
  assert.deepEqual((await inject('/api/kafka/topics')).json(), [TOPIC]);
  assert.deepEqual((await inject('/api/kafka/topics/market.trades')).json(), TOPIC);
  assert.deepEqual((await inject('/api/kafka/groups')).json(), [GROUP]);
  const missing = await inject('/api/kafka/topics/nope');
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), { error: 'not_found', message: 'no topic "nope"' });
});

test('topic names are checked against Kafka\'s rules before the cluster is asked', async (t) => {
  const { kafka, inject } = consoleServer(t);
  for (const name of ['bad$name', 'a'.repeat(250), 'a'.repeat(300), 'sp ace', 'ümlaut']) {
    await badRequest(await inject(`/api/kafka/topics/${encodeURIComponent(name)}`), 'name');
  }
  // ".." in a path is resolved by the URL itself, so it is checked where it can arrive: a body.
  for (const name of ['.', '..']) {
    await badRequest(await inject({ method: 'POST', url: '/api/kafka/topics', payload: { name, partitions: 1 } }), 'name');
  }
  assert.equal((await inject(`/api/kafka/topics/${'a'.repeat(249)}`)).statusCode, 404, '249 characters is legal');
  assert.deepEqual(kafka.calls, [['topic', 'a'.repeat(249)]]);
});

test('the message browser parses partition, offset, timestamp and limit, and rejects bad ones naming the parameter', async (t) => {
  const { kafka, inject } = consoleServer(t);
  const url = '/api/kafka/topics/market.trades/messages';
  const ok = await inject(`${url}?partition=0&offset=2&limit=5`);
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), [MESSAGE]);
  await inject(`${url}?partition=0&timestamp=1717171717000`);
  // 1717171717000 is 2024-05-31T16:08:37Z.
  await inject(`${url}?partition=0&timestamp=2024-05-31T18:08:37.000%2B02:00`);
  await inject(`${url}?partition=0`);
  assert.deepEqual(kafka.calls, [
    ['messages', { topic: 'market.trades', partition: 0, offset: 2, limit: 5 }],
    ['messages', { topic: 'market.trades', partition: 0, timestamp: 1_717_171_717_000, limit: 20 }],
    ['messages', { topic: 'market.trades', partition: 0, timestamp: 1_717_171_717_000, limit: 20 }],
    ['messages', { topic: 'market.trades', partition: 0, limit: 20 }],
  ]);

  kafka.calls.length = 0;
  const noPartition = await inject(url);
  await badRequest(noPartition, 'partition');
  assert.equal((noPartition.json() as { message: string }).message, 'partition is required: a partition number of the topic, e.g. partition=0');
  await badRequest(await inject(`${url}?partition=x`), 'partition');
  await badRequest(await inject(`${url}?partition=-1`), 'partition');
  await badRequest(await inject(`${url}?partition=0&offset=-3`), 'offset');
  await badRequest(await inject(`${url}?partition=0&offset=1&timestamp=5`), 'offset');
  await badRequest(await inject(`${url}?partition=0&timestamp=yesterday`), 'timestamp');
  await badRequest(await inject(`${url}?partition=0&limit=101`), 'limit');
  await badRequest(await inject(`${url}?partition=0&limit=0`), 'limit');
  await badRequest(await inject(`${url}?partition=0&partition=1`), 'partition');
  assert.deepEqual(kafka.calls, [], 'nothing reaches the cluster');

  await badRequest(await inject(`${url}?partition=7`), 'partition');
  const missing = await inject('/api/kafka/topics/nope/messages?partition=0');
  assert.equal(missing.statusCode, 404);
});

test('a page of the message browser cut short by its byte budget says so in a header, with the budget; a whole page has none', async (t) => {
  const { kafka, inject } = consoleServer(t);
  const url = '/api/kafka/topics/market.trades/messages?partition=0';
  const whole = await inject(url);
  assert.deepEqual(whole.json(), [MESSAGE]);
  assert.equal(whole.headers[PAGE_CUT_HEADER], undefined);
  kafka.cutAtBytes = 32 * 1024 * 1024;
  const cut = await inject(url);
  assert.deepEqual(cut.json(), [MESSAGE], 'the body is the records, as for a whole page');
  assert.equal(cut.headers[PAGE_CUT_HEADER], '33554432');
});

test('creating a topic validates the body, answers 201, and 409 when it exists', async (t) => {
  const { kafka, inject } = consoleServer(t);
  const post = (payload: unknown) => inject({ method: 'POST', url: '/api/kafka/topics', payload: payload as object });

  const created = await post({ name: 'console.test', partitions: 3, replication: 1, config: { 'retention.ms': 60_000, 'cleanup.policy': 'delete' } });
  assert.equal(created.statusCode, 201, created.body);
  assert.deepEqual(created.json(), { name: 'console.test', partitions: 3, replication: 1, config: { 'retention.ms': '60000', 'cleanup.policy': 'delete' } });
  assert.deepEqual(kafka.calls.at(-1), ['createTopic', { name: 'console.test', partitions: 3, replication: 1, config: { 'retention.ms': '60000', 'cleanup.policy': 'delete' } }]);

  const defaults = await post({ name: 'console.defaults', partitions: 1 });
  assert.equal(defaults.statusCode, 201);
  assert.deepEqual(kafka.calls.at(-1), ['createTopic', { name: 'console.defaults', partitions: 1 }], 'no replication: the broker default');
  assert.deepEqual(defaults.json(), { name: 'console.defaults', partitions: 1, replication: 1, config: {} }, 'the answer has the replication the broker applied');

  const again = await post({ name: 'console.test', partitions: 3 });
  assert.equal(again.statusCode, 409);
  assert.equal((again.json() as { error: string }).error, 'conflict');

  const calls = kafka.calls.length;
  await badRequest(await post({ partitions: 3 }), 'name');
  await badRequest(await post({ name: 'bad name', partitions: 3 }), 'name');
  await badRequest(await post({ name: 'ok', partitions: 0 }), 'partitions');
  await badRequest(await post({ name: 'ok', partitions: 1.5 }), 'partitions');
  await badRequest(await post({ name: 'ok', partitions: '3' }), 'partitions');
  await badRequest(await post({ name: 'ok' }), 'partitions');
  await badRequest(await post({ name: 'ok', partitions: 1, replication: 0 }), 'replication');
  await badRequest(await post({ name: 'ok', partitions: 1, config: { 'Bad Key': '1' } }), 'config');
  await badRequest(await post({ name: 'ok', partitions: 1, config: { 'retention.ms': { nested: 1 } } }), 'config');
  await badRequest(await post({ name: 'ok', partitions: 1, config: ['retention.ms'] }), 'config');
  await badRequest(await post({ name: 'ok', partitions: 1, replicas: 1 }), 'replicas');
  await badRequest(await post([1, 2]), 'body');
  const notJson = await inject({ method: 'POST', url: '/api/kafka/topics', headers: { 'content-type': 'application/json' }, payload: '{name' });
  assert.equal(notJson.statusCode, 400);
  assert.equal(kafka.calls.length, calls, 'nothing invalid reaches the cluster');
});

test('deleting a topic needs ?confirm= repeating its name', async (t) => {
  const { kafka, inject } = consoleServer(t);
  const del = (url: string) => inject({ method: 'DELETE', url });
  await badRequest(await del('/api/kafka/topics/market.trades'), 'confirm');
  await badRequest(await del('/api/kafka/topics/market.trades?confirm=market'), 'confirm');
  await badRequest(await del('/api/kafka/topics/market.trades?confirm=market.trades&confirm=market.trades'), 'confirm');
  assert.deepEqual(kafka.calls, [], 'nothing is deleted without confirmation');

  const ok = await del('/api/kafka/topics/market.trades?confirm=market.trades');
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { deleted: 'market.trades' });
  assert.deepEqual(kafka.calls, [['deleteTopic', 'market.trades']]);
  const gone = await del('/api/kafka/topics/market.trades?confirm=market.trades');
  assert.equal(gone.statusCode, 404);
});

test('a cluster that does not answer is a 503 kafka_unavailable; a refused request is a 400', async (t) => {
  const { kafka, inject } = consoleServer(t);
  kafka.failWith = new BusUnavailableError('Kafka did not answer listing topics: connect ECONNREFUSED 127.0.0.1:9092');
  for (const url of ['/api/kafka/brokers', '/api/kafka/topics', '/api/kafka/groups', '/api/kafka/topics/market.trades']) {
    const res = await inject(url);
    assert.equal(res.statusCode, 503, url);
    assert.deepEqual(res.json(), { error: 'kafka_unavailable', message: kafka.failWith.message });
  }
  kafka.failWith = new InputError('Kafka refused creating topic x: Replication factor: 3 larger than available brokers: 1.');
  const refused = await inject({ method: 'POST', url: '/api/kafka/topics', payload: { name: 'x', partitions: 1, replication: 3 } });
  assert.equal(refused.statusCode, 400);
  assert.match((refused.json() as { message: string }).message, /Replication factor/);
  kafka.failWith = new Error('a bug');
  const broken = await inject('/api/kafka/topics');
  assert.equal(broken.statusCode, 500);
  assert.deepEqual(broken.json(), { error: 'internal', message: 'internal server error' });
});

test('a body that is not JSON gets 415 naming the type, and a __proto__ key is refused by name', async (t) => {
  const { kafka, inject } = consoleServer(t);
  const text = await inject({ method: 'POST', url: '/api/kafka/topics', headers: { 'content-type': 'text/plain' }, payload: '{"name":"x","partitions":1}' });
  assert.equal(text.statusCode, 415);
  assert.deepEqual(text.json(), { error: 'unsupported_media_type', message: 'send the body as application/json; got content-type "text/plain"' });
  const poisoned = await inject({
    method: 'POST',
    url: '/api/kafka/topics',
    headers: { 'content-type': 'application/json' },
    payload: '{"name":"x","partitions":1,"__proto__":{"x":1}}',
  });
  assert.equal(poisoned.statusCode, 400);
  assert.deepEqual(poisoned.json(), { error: 'bad_request', message: 'the body has a __proto__ key, which is refused' });
  const broken = await inject({ method: 'POST', url: '/api/kafka/topics', headers: { 'content-type': 'application/json' }, payload: '{bad' });
  assert.equal(broken.statusCode, 400);
  assert.match((broken.json() as { message: string }).message, /^the body is not valid JSON: /);
  assert.deepEqual(kafka.calls, [], 'the cluster was never asked');
});

test('a body over the limit is 413 payload_too_large, and a URL that does not decode is a JSON 400', async (t) => {
  const { inject } = consoleServer(t);
  const big = await inject({ method: 'POST', url: '/api/kafka/topics', headers: { 'content-type': 'application/json' }, payload: `{"name":"${'a'.repeat(2 * 1024 * 1024)}"}` });
  assert.equal(big.statusCode, 413);
  assert.equal((big.json() as { error: string }).error, 'payload_too_large');
  assert.match((big.json() as { message: string }).message, /^the body is larger than the \d+ bytes this server takes$/);
  const bad = await inject('/api/kafka/topics/%E0%A4%A');
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(bad.json(), { error: 'bad_request', message: 'the URL "/api/kafka/topics/%E0%A4%A" is not valid: a % escape does not decode' });
});

test('on loopback, topics are created and deleted only through a loopback Host; reads are not affected', async (t) => {
  const { kafka, inject } = consoleServer(t);
  const rebound = { host: 'evil.example:8080' };
  const create = await inject({ method: 'POST', url: '/api/kafka/topics', headers: rebound, payload: { name: 'x', partitions: 1 } });
  assert.equal(create.statusCode, 403);
  assert.deepEqual(create.json(), {
    error: 'forbidden',
    message: 'topics are changed only through a loopback address (localhost, 127.0.0.1, [::1]); this request was addressed to "evil.example:8080"',
  });
  assert.equal((await inject({ method: 'DELETE', url: '/api/kafka/topics/market.trades?confirm=market.trades', headers: rebound })).statusCode, 403);
  assert.deepEqual(kafka.calls, []);
  assert.equal((await inject({ url: '/api/kafka/topics', headers: rebound })).statusCode, 200);
  for (const host of ['localhost:8080', '127.0.0.1:8080', '[::1]:8080', 'LOCALHOST']) {
    const ok: { statusCode: number } = await inject({ method: 'POST', url: '/api/kafka/topics', headers: { host }, payload: { name: `t-${kafka.calls.length}`, partitions: 1 } });
    assert.equal(ok.statusCode, 201, host);
  }
});

test('a server bound beyond loopback takes topic changes addressed to any host', async (t) => {
  const kafka = new FakeConsole();
  const { server } = serverFor(t, { kafka, host: '0.0.0.0' });
  const res = await server.app.inject({ method: 'POST', url: '/api/kafka/topics', headers: { host: 'tickstream.internal:8080' }, payload: { name: 'x', partitions: 1 } });
  assert.equal(res.statusCode, 201);
});
