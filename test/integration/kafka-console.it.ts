import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test, type TestContext } from 'node:test';
import { Admin, Consumer, MessagesStreamModes, Producer } from '@platformatic/kafka';
import {
  KafkaConsole,
  KafkaSideLog,
  KafkaTradeConsumer,
  KafkaTradeProducer,
  TOPICS,
  type KafkaClusterInfo,
  type KafkaGroupInfo,
  type KafkaMessage,
  type KafkaTopicInfo,
  type LogRecord,
} from '../../src/bus/index.ts';
import { epochMs, offset, price, toTradeRecord, volume, type Trade } from '../../src/domain/index.ts';
import { InputError } from '../../src/errors.ts';
import { serverFor } from '../server/fixtures.ts';
import { appendAcknowledged } from '../support/kafka-append.ts';
import { ensureStack, integrationConfig } from './stack-fixture.ts';

// The console against the broker of `tickstream stack up kafka`. Each test works on topics
// of its own (never on market.trades, which other suites produce to and count).

const brokers = integrationConfig().kafka.brokers;
const run = `${process.pid}-${Date.now()}`;
let stack = false;

before(async () => {
  stack = (await ensureStack(['kafka'])) !== undefined;
});

function consoleServer(t: TestContext, tradeTopics: readonly string[] = [TOPICS.trades], connection = brokers) {
  const kafka = new KafkaConsole({ brokers: connection, clientId: 'tickstream-it-console', tradeTopics });
  t.after(() => kafka.close());
  const { server } = serverFor(t, { kafka });
  return {
    get: async <T>(url: string): Promise<{ status: number; body: T }> => {
      const res = await server.app.inject(url);
      return { status: res.statusCode, body: res.json() as T };
    },
    inject: server.app.inject.bind(server.app),
  };
}

/** Deletes the topics after the test, with a console of its own (hooks run in the order they were added, so add this first). */
function dropAfter(t: TestContext, ...topics: string[]): void {
  t.after(async () => {
    const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it-console' });
    for (const name of topics) await kafka.deleteTopic(name).catch(() => false);
    await kafka.close();
  });
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-console-it-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function trades(n: number, symbol: string): Trade[] {
  return Array.from({ length: n }, (_, i) => ({
    symbol,
    price: price(190 + i / 4),
    volume: volume(10 + i),
    ts: epochMs(1_717_171_717_000 + i * 100),
    conditions: i % 2 === 0 ? ['1', '12'] : [],
    source: 'simulator' as const,
    ingestTs: epochMs(1_717_171_717_005 + i * 100),
  }));
}

/** Polls `read` until `ok` holds of its answer; returns that answer. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('create a topic, produce Avro and JSON trades and a JSON side record, then read offsets, messages and group lag', async (t) => {
  if (!stack) return t.skip('no Java or Maven for the stack');
  const topic = `it.console.${run}`;
  const side = `${topic}.dlq`;
  dropAfter(t, topic, side);
  const api = consoleServer(t, [TOPICS.trades, topic]);

  const cluster = await api.get<KafkaClusterInfo>('/api/kafka/brokers');
  assert.equal(cluster.status, 200);
  assert.equal(cluster.body.brokers.length, 1);
  assert.equal(cluster.body.brokers[0]!.controller, true);
  assert.match(cluster.body.version ?? '', /^4\.\d+$/, 'the stack runs Kafka 4.x');

  const created = await api.inject({ method: 'POST', url: '/api/kafka/topics', payload: { name: topic, partitions: 3, replication: 1, config: { 'retention.ms': '3600000' } } });
  assert.equal(created.statusCode, 201, created.body);
  const sideMade = await api.inject({ method: 'POST', url: '/api/kafka/topics', payload: { name: side, partitions: 1 } });
  assert.equal(sideMade.statusCode, 201, sideMade.body);
  assert.deepEqual(sideMade.json(), { name: side, partitions: 1, replication: 1, config: {} }, "no replication asked: the answer has the broker's default");
  const again = await api.inject({ method: 'POST', url: '/api/kafka/topics', payload: { name: topic, partitions: 3 } });
  assert.equal(again.statusCode, 409);

  const avro = trades(3, 'AAPL');
  const [json] = trades(1, 'AAPL').map((tr) => ({ ...tr, price: price(201.25), ts: epochMs(tr.ts + 1_000) }));
  for (const [format, batch] of [['avro', avro], ['json', [json!]]] as const) {
    const producer = new KafkaTradeProducer({ brokers, clientId: 'tickstream-it-console', format, dataDir: tempDir(t), spoolLimit: 1_000, topic, retryDelayMs: 200 });
    await appendAcknowledged(producer, batch);
    await producer.close();
  }
  const sideEntry = { reason: 'price must be > 0', raw: 'eyJwcmljZSI6LTF9', partition: 0 };
  const sideLog = new KafkaSideLog<typeof sideEntry>({ brokers, clientId: 'tickstream-it-console', topic: side });
  await sideLog.append([sideEntry]);
  await sideLog.close();

  const listed = await api.get<KafkaTopicInfo[]>('/api/kafka/topics');
  const mine = listed.body.find((x) => x.name === topic);
  assert.ok(mine, 'the new topic is listed');
  assert.equal(mine.partitions.length, 3);
  assert.equal(mine.messages, 4);
  assert.ok(mine.size_bytes !== null && mine.size_bytes > 0, `size on disk: ${mine.size_bytes}`);
  assert.ok(listed.body.some((x) => x.name === TOPICS.trades), 'market.trades is listed');

  const detail = await api.get<KafkaTopicInfo>(`/api/kafka/topics/${topic}`);
  assert.equal(detail.status, 200);
  assert.equal(detail.body.config['retention.ms'], '3600000');
  assert.deepEqual(detail.body.config_overrides, ['retention.ms']);
  const used = detail.body.partitions.filter((p) => p.messages > 0);
  assert.equal(used.length, 1, 'one symbol, one partition');
  const p = used[0]!;
  assert.deepEqual({ leader: p.leader, replicas: p.replicas, isr: p.isr, start: p.start_offset, end: p.end_offset }, { leader: 1, replicas: [1], isr: [1], start: 0, end: 4 });

  const messages = await api.get<KafkaMessage[]>(`/api/kafka/topics/${topic}/messages?partition=${p.partition}&offset=0`);
  assert.equal(messages.status, 200);
  assert.deepEqual(messages.body.map((m) => m.offset), [0, 1, 2, 3]);
  assert.deepEqual(messages.body.map((m) => m.value_format), ['avro', 'avro', 'avro', 'json']);
  assert.deepEqual(messages.body.map((m) => m.value), [...avro, json!].map(toTradeRecord), 'decoded values equal what was produced');
  assert.ok(messages.body.every((m) => m.key === 'AAPL' && m.key_format === 'text' && m.partition === p.partition));
  assert.ok(messages.body.every((m) => Math.abs(m.timestamp - Date.now()) < 120_000), 'record timestamps are the produce time');

  const newest = await api.get<KafkaMessage[]>(`/api/kafka/topics/${topic}/messages?partition=${p.partition}&limit=2`);
  assert.deepEqual(newest.body.map((m) => m.offset), [2, 3], 'without offset: the newest `limit`');
  const fromTime = await api.get<KafkaMessage[]>(`/api/kafka/topics/${topic}/messages?partition=${p.partition}&timestamp=${messages.body[3]!.timestamp}`);
  assert.ok(fromTime.body.length >= 1 && fromTime.body.at(-1)!.offset === 3 && fromTime.body[0]!.timestamp >= messages.body[3]!.timestamp - 0);
  const future = await api.get<KafkaMessage[]>(`/api/kafka/topics/${topic}/messages?partition=${p.partition}&timestamp=${Date.now() + 3_600_000}`);
  assert.deepEqual(future.body, []);
  const past = await api.get<KafkaMessage[]>(`/api/kafka/topics/${topic}/messages?partition=${p.partition}&offset=99`);
  assert.deepEqual(past.body, [], 'past the end: nothing');

  const sideMessages = await api.get<KafkaMessage[]>(`/api/kafka/topics/${side}/messages?partition=0`);
  assert.deepEqual(sideMessages.body.map((m) => [m.value_format, m.value, m.key]), [['json', sideEntry, null]], 'side topics decode as JSON');

  // A consumer group reads everything and commits up to offset 2: lag 2 on that partition.
  const group = `it-console-${run}`;
  const seen: LogRecord[] = [];
  const consumer = new KafkaTradeConsumer({
    brokers,
    clientId: 'tickstream-it-console',
    groupId: group,
    format: 'avro',
    topic,
    deadLetters: { append: async () => {}, close: async () => {} },
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
    rebalanceTimeoutMs: 6_000,
    maxWaitMs: 200,
  });
  t.after(() => consumer.close());
  t.after(async () => {
    const admin = new Admin({ clientId: 'tickstream-it-console', bootstrapBrokers: [...brokers] });
    await admin.deleteGroups({ groups: [group] }).catch(() => {});
    await admin.close();
  });
  await consumer.start({ assigned: async () => new Map(), revoked: async () => {}, records: async (_p, records) => void seen.push(...records) });
  await until(async () => seen.length, (n) => n >= 3, 'the Avro trades consumed');
  await consumer.commit(new Map([[p.partition, offset(2)]]));
  const groups = await until(
    async () => (await api.get<KafkaGroupInfo[]>('/api/kafka/groups')).body.find((g) => g.group_id === group),
    (g) => g !== undefined && g.partitions.some((x) => x.partition === p.partition && x.committed === 2),
    'the committed offset',
  );
  const lag = groups!.partitions.find((x) => x.partition === p.partition)!;
  assert.deepEqual(lag, { topic, partition: p.partition, committed: 2, end: 4, lag: 2, past_end: false });
  assert.equal(groups!.lag, 2);
  assert.equal(groups!.protocol_type, 'consumer');
  assert.equal(groups!.members.length, 1);
  assert.deepEqual(groups!.members[0]!.assignments, [{ topic, partitions: [0, 1, 2] }]);
});

test('delete needs ?confirm= with the name; bad parameters and refused requests are 400s', async (t) => {
  if (!stack) return t.skip('no Java or Maven for the stack');
  const topic = `it.console.delete.${run}`;
  dropAfter(t, topic);
  const api = consoleServer(t);
  assert.equal((await api.inject({ method: 'POST', url: '/api/kafka/topics', payload: { name: topic, partitions: 2 } })).statusCode, 201);

  const refused = await api.inject({ method: 'POST', url: '/api/kafka/topics', payload: { name: `${topic}.r3`, partitions: 1, replication: 3 } });
  assert.equal(refused.statusCode, 400, 'one broker cannot hold three replicas');
  assert.match((refused.json() as { message: string }).message, /replication/i);
  const badConfig = await api.inject({ method: 'POST', url: '/api/kafka/topics', payload: { name: `${topic}.cfg`, partitions: 1, config: { 'retention.ms': 'soon' } } });
  assert.equal(badConfig.statusCode, 400, badConfig.body);

  const badPartition = await api.get<{ message: string }>(`/api/kafka/topics/${topic}/messages?partition=5`);
  assert.equal(badPartition.status, 400);
  assert.match(badPartition.body.message, /partition must be from 0 to 1/);
  assert.equal((await api.get(`/api/kafka/topics/${topic}/messages?partition=0&limit=500`)).status, 400);
  assert.equal((await api.get(`/api/kafka/topics/${topic}/messages`)).status, 400);
  assert.equal((await api.get(`/api/kafka/topics/no.such.${run}/messages?partition=0`)).status, 404);
  assert.equal((await api.get(`/api/kafka/topics/no.such.${run}`)).status, 404);

  const unconfirmed = await api.inject({ method: 'DELETE', url: `/api/kafka/topics/${topic}` });
  assert.equal(unconfirmed.statusCode, 400);
  assert.match((unconfirmed.json() as { message: string }).message, /confirm/);
  const wrong = await api.inject({ method: 'DELETE', url: `/api/kafka/topics/${topic}?confirm=${topic}x` });
  assert.equal(wrong.statusCode, 400);
  assert.equal((await api.get(`/api/kafka/topics/${topic}`)).status, 200, 'still there');

  const deleted = await api.inject({ method: 'DELETE', url: `/api/kafka/topics/${topic}?confirm=${topic}` });
  assert.equal(deleted.statusCode, 200);
  await until(async () => (await api.get(`/api/kafka/topics/${topic}`)).status, (s) => s === 404, 'the topic to be gone');
  assert.equal((await api.inject({ method: 'DELETE', url: `/api/kafka/topics/${topic}?confirm=${topic}` })).statusCode, 404);
});

test('a broker that does not answer is a 503 kafka_unavailable, not a crash', async (t) => {
  // Port 1 on loopback refuses connections: no broker there, no stack needed.
  const api = consoleServer(t, [TOPICS.trades], ['127.0.0.1:1']);
  for (const url of ['/api/kafka/brokers', '/api/kafka/topics', '/api/kafka/groups', '/api/kafka/topics/market.trades/messages?partition=0']) {
    const res = await api.get<{ error: string; message: string }>(url);
    assert.equal(res.status, 503, url);
    assert.equal(res.body.error, 'kafka_unavailable');
    assert.match(res.body.message, /Kafka did not answer/);
  }
});

test('range reads every record of a partition between two offsets, in order and decoded, past the size of one fetch', async (t) => {
  if (!stack) return t.skip('no Java or Maven for the stack');
  const topic = `it.console.range.${run}`;
  dropAfter(t, topic);
  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it-console', tradeTopics: [topic] });
  t.after(() => kafka.close());
  await kafka.createTopic({ name: topic, partitions: 1 });
  // About 5 MB of Avro that compresses poorly: more than the 1 MB one fetch of a partition brings.
  const sent = trades(20_000, 'RANGE').map((tr) => ({ ...tr, conditions: [randomBytes(40).toString('base64'), randomBytes(40).toString('base64')] }));
  const producer = new KafkaTradeProducer({ brokers, clientId: 'tickstream-it-console', format: 'avro', dataDir: tempDir(t), spoolLimit: sent.length, topic, retryDelayMs: 200 });
  await producer.append(sent);
  await producer.close();

  const chunks: KafkaMessage[][] = [];
  for await (const chunk of kafka.range(topic, 0, 150, 19_950)) chunks.push(chunk);
  const got = chunks.flat();
  assert.ok(chunks.length > 1, `the range came in more than one fetch (${chunks.length})`);
  assert.deepEqual(got.map((m) => m.offset), Array.from({ length: 19_800 }, (_, i) => 150 + i), 'offsets 150 to 19,949, each once, in order');
  assert.deepEqual(got[0]?.value, toTradeRecord(sent[150]!));
  assert.deepEqual(got.at(-1)?.value, toTradeRecord(sent[19_949]!));

  const none: KafkaMessage[][] = [];
  for await (const chunk of kafka.range(topic, 0, 500, 500)) none.push(chunk);
  assert.deepEqual(none, [], 'an empty range reads nothing');
  await assert.rejects(async () => {
    for await (const _ of kafka.range(topic, 3, 0, 10)) break;
  }, (error: unknown) => error instanceof InputError && /no partition 3 of topic/.test(error.message));
});

test('trades spooled while their topic is missing drain in sends the broker accepts, however large the spool', async (t) => {
  if (!stack) return t.skip('no Java or Maven for the stack');
  const topic = `it.console.spool.${run}`;
  dropAfter(t, topic);
  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it-console', tradeTopics: [topic] });
  t.after(() => kafka.close());
  // About 250 bytes a trade that compress poorly: 5,000 of them (one send's count) pass 1 MiB.
  const sent = trades(12_000, 'SPOOL').map((tr) => ({ ...tr, conditions: [randomBytes(90).toString('base64'), randomBytes(90).toString('base64')] }));
  const producer = new KafkaTradeProducer({ brokers, clientId: 'tickstream-it-console', format: 'avro', dataDir: tempDir(t), spoolLimit: sent.length, topic, retryDelayMs: 200 });
  t.after(() => producer.close());
  // The broker creates no topic on demand: every send fails, and the trades wait in the spool.
  await producer.append(sent);
  assert.equal(producer.spoolDepth(), sent.length, 'all spooled while the topic is missing');
  await kafka.createTopic({ name: topic, partitions: 1 });
  await until(async () => producer.spoolDepth(), (depth) => depth === 0, 'the spool to drain', 60_000);
  const info = await until(async () => kafka.topic(topic), (i) => i?.partitions[0]?.end_offset === sent.length, 'every spooled trade in the topic');
  assert.equal(info?.partitions[0]?.messages, sent.length);
});

test('records near the size of a fetch: "the newest N" are the newest N, and a page holds all it asks for', async (t) => {
  if (!stack) return t.skip('no Java or Maven for the stack');
  const topic = `it.console.large.${run}`;
  dropAfter(t, topic);
  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it-console' });
  t.after(() => kafka.close());
  await kafka.createTopic({ name: topic, partitions: 1 });
  // 600 KB that does not compress: one such record is all a fetch of 1 MiB a partition brings.
  const producer = new Producer({ clientId: 'tickstream-it-console', bootstrapBrokers: [...brokers], acks: -1 });
  t.after(() => producer.close());
  for (let i = 0; i < 30; i++) {
    await producer.send({ messages: [{ topic, partition: 0, key: Buffer.from(`k${i}`), value: Buffer.concat([Buffer.from(`${i}:`), randomBytes(600_000)]) }] });
  }
  const newest = (await kafka.messages({ topic, partition: 0, limit: 25 }))!;
  assert.deepEqual(newest.map((m) => m.offset), Array.from({ length: 25 }, (_, i) => 5 + i), 'offsets 5 to 29, not the first 20 of them');
  assert.equal(newest.at(-1)?.key, 'k29');
  const all = (await kafka.messages({ topic, partition: 0, offset: 0, limit: 30 }))!;
  assert.equal(all.length, 30);
});

test('header keys and values that are no text are base64 and say so; text ones say text', async (t) => {
  if (!stack) return t.skip('no Java or Maven for the stack');
  const topic = `it.console.headers.${run}`;
  dropAfter(t, topic);
  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it-console' });
  t.after(() => kafka.close());
  await kafka.createTopic({ name: topic, partitions: 1 });
  const producer = new Producer({ clientId: 'tickstream-it-console', bootstrapBrokers: [...brokers], acks: -1 });
  t.after(() => producer.close());
  const headers = new Map<Buffer, Buffer>([
    [Buffer.from('trace'), Buffer.from('AQI=')],
    [Buffer.from([0xff, 0x00]), Buffer.from([0x01, 0x02])],
  ]);
  await producer.send({ messages: [{ topic, partition: 0, value: Buffer.from('x'), headers }] });
  const [message] = (await kafka.messages({ topic, partition: 0, offset: 0, limit: 1 }))!;
  assert.deepEqual(message?.headers, [
    { key: 'trace', key_format: 'text', value: 'AQI=', value_format: 'text' },
    { key: '/wA=', key_format: 'binary', value: 'AQI=', value_format: 'binary' },
  ], 'the text "AQI=" and the bytes 01 02 are told apart');
});

test('a group of the consumer protocol (KIP-848, the default of Kafka 4 clients) is listed with its state, members, assignment and lag', async (t) => {
  if (!stack) return t.skip('no Java or Maven for the stack');
  const topic = `it.console.kip848.${run}`;
  const groupId = `it-console-kip848-${run}`;
  dropAfter(t, topic);
  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it-console' });
  t.after(async () => {
    const admin = new Admin({ clientId: 'tickstream-it-console', bootstrapBrokers: [...brokers] });
    await admin.deleteGroups({ groups: [groupId] }).catch(() => {});
    await admin.close();
  });
  t.after(() => kafka.close());
  await kafka.createTopic({ name: topic, partitions: 2 });
  const producer = new Producer({ clientId: 'tickstream-it-console', bootstrapBrokers: [...brokers], acks: -1 });
  t.after(() => producer.close());
  for (let i = 0; i < 5; i++) await producer.send({ messages: [{ topic, partition: 0, value: Buffer.from(String(i)) }] });

  const consumer = new Consumer({ clientId: 'it-kip848', groupId, bootstrapBrokers: [...brokers], groupProtocol: 'consumer', autocommit: false });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
  t.after(async () => {
    await stream.close();
    await consumer.close(true);
  });
  let seen = 0;
  stream.on('data', (m: { offset: bigint; commit: () => unknown }) => {
    if (++seen === 2) void m.commit();
  });
  const mine = await until(
    async () => (await kafka.groups()).find((g) => g.group_id === groupId),
    (g) => g?.state === 'STABLE' && g.members.length === 1 && g.partitions.length === 1,
    'the group, stable, with its member and a committed offset',
  );
  assert.equal(mine?.protocol_type, 'consumer');
  assert.equal(mine?.members[0]?.client_id, 'it-kip848');
  assert.deepEqual(mine?.members[0]?.assignments, [{ topic, partitions: [0, 1] }]);
  assert.deepEqual(mine?.partitions, [{ topic, partition: 0, committed: 2, end: 5, lag: 3, past_end: false }]);
  assert.equal(mine?.lag, 3);
});

test('a page holds at most the byte budget: "the newest" keeps the newest that fit, a page from an offset ends early', async (t) => {
  if (!stack) return t.skip('no Java or Maven for the stack');
  const topic = `it.console.budget.${run}`;
  dropAfter(t, topic);
  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it-console', messageBytes: 1_000_000 });
  t.after(() => kafka.close());
  await kafka.createTopic({ name: topic, partitions: 1 });
  const producer = new Producer({ clientId: 'tickstream-it-console', bootstrapBrokers: [...brokers], acks: -1 });
  t.after(() => producer.close());
  for (let i = 0; i < 10; i++) await producer.send({ messages: [{ topic, partition: 0, value: Buffer.from(String(i).repeat(300_000)) }] });
  const offsets = (ms: KafkaMessage[] | undefined): number[] => (ms ?? []).map((m) => m.offset);
  assert.deepEqual(offsets(await kafka.messages({ topic, partition: 0, limit: 10 })), [7, 8, 9], 'the newest three: a fourth would pass 1 MB');
  assert.deepEqual(offsets(await kafka.messages({ topic, partition: 0, offset: 0, limit: 10 })), [0, 1, 2], 'from offset 0, as many as fit');
  assert.deepEqual(offsets(await kafka.messages({ topic, partition: 0, offset: 3, limit: 2 })), [3, 4], 'a page under the budget is whole');
  const tiny = new KafkaConsole({ brokers, clientId: 'tickstream-it-console', messageBytes: 1_000 });
  t.after(() => tiny.close());
  assert.deepEqual(offsets(await tiny.messages({ topic, partition: 0, limit: 5 })), [9], 'one record larger than the budget still shows');
  assert.deepEqual(offsets(await tiny.messages({ topic, partition: 0, offset: 4, limit: 5 })), [4]);
  const cutAt = async (c: KafkaConsole, q: Omit<Parameters<KafkaConsole['messagePage']>[0], 'topic'>): Promise<number | null | undefined> => (await c.messagePage({ topic, ...q }))?.cut_at_bytes;
  assert.equal(await cutAt(kafka, { partition: 0, limit: 10 }), 1_000_000, 'the page says its budget left the older records out');
  assert.equal(await cutAt(kafka, { partition: 0, offset: 0, limit: 10 }), 1_000_000, 'and that it ended early');
  assert.equal(await cutAt(kafka, { partition: 0, offset: 3, limit: 2 }), null, 'a whole page is not cut');
  assert.equal(await cutAt(kafka, { partition: 0, offset: 8, limit: 10 }), null, 'nor one that reaches the end within the budget');
  assert.equal(await cutAt(tiny, { partition: 0, offset: 4, limit: 5 }), 1_000);
});

test('a group whose committed offset is past the log end (the topic deleted and made again) is flagged past_end with no lag, not shown as caught up', async (t) => {
  if (!stack) return t.skip('no Java or Maven for the stack');
  const topic = `it.console.past-end.${run}`;
  const group = `it-console-past-end-${run}`;
  dropAfter(t, topic);
  const admin = new Admin({ clientId: 'tickstream-it-console', bootstrapBrokers: [...brokers] });
  t.after(async () => {
    await admin.deleteGroups({ groups: [group] }).catch(() => {});
    await admin.close();
  });
  await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
  const producer = new Producer({ clientId: 'tickstream-it-console', bootstrapBrokers: [...brokers], acks: -1 });
  t.after(() => producer.close());
  await until(
    () => producer.send({ messages: [0, 1, 2].map((i) => ({ topic, partition: 0, value: Buffer.from(`r${i}`) })) }).then(() => true, () => false),
    (sent) => sent,
    'the new topic takes records',
  );
  // Partition 0 ends at 3: the group stands at 7 there, as it did on the old log; at 0 on partition 1, which holds nothing.
  await admin.alterConsumerGroupOffsets({ groupId: group, topics: [{ name: topic, partitionOffsets: [{ partition: 0, offset: 7n }, { partition: 1, offset: 0n }] }] });
  const api = consoleServer(t);
  const found = await until(
    async () => (await api.get<KafkaGroupInfo[]>('/api/kafka/groups')).body.find((g) => g.group_id === group),
    (g) => g !== undefined && g.partitions.length === 2,
    'the committed offsets',
  );
  assert.deepEqual(found!.partitions, [
    { topic, partition: 0, committed: 7, end: 3, lag: null, past_end: true },
    { topic, partition: 1, committed: 0, end: 0, lag: 0, past_end: false },
  ]);
  assert.equal(found!.lag, 0, 'a partition past the end adds nothing to the group lag, and says why instead');
});
