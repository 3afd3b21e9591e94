import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Consumer } from '@platformatic/kafka';
import { KafkaTradeConsumer, type ConsumerHandler } from '../../../src/bus/index.ts';
import { createLogger } from '../../../src/observability/index.ts';
import { until } from '../../support/until.ts';

// No broker here: the client is stubbed where it would touch the network, one partition led by
// broker 1, whose fetches fail while `down` holds, as they do while Kafka is away.

test('fetches failing while Kafka is away are told once with the reason, not at every retry, and the recovery once', async (t) => {
  let down = true;
  let fetches = 0;
  const topic = 'market.trades';
  // The stubs stand in for a few of the client's methods, each with the one shape this test uses.
  const proto = Consumer.prototype as unknown as Record<string, (...args: never[]) => unknown>;
  t.mock.method(proto, 'joinGroup', async function (this: Consumer) {
    this.emit('consumer:group:join', { groupId: 'g', memberId: 'm', generationId: 1, isLeader: true, assignments: [{ topic, partitions: [0] }] });
  });
  t.mock.method(proto, 'metadata', async () => ({ topics: new Map([[topic, { id: 'topic-id', partitionsCount: 1, partitions: [{ leader: 1 }] }]]) }));
  t.mock.method(proto, 'listOffsets', async () => new Map([[topic, [0n]]]));
  t.mock.method(proto, 'listCommittedOffsets', async () => new Map([[topic, [-1n]]]));
  t.mock.method(proto, 'clearMetadata', () => {});
  t.mock.method(proto, 'close', (_force: boolean, callback: () => void) => callback());
  t.mock.method(proto, 'fetch', async () => {
    fetches++;
    if (down) throw new Error('Connection to 127.0.0.1:9092 failed: connect ECONNREFUSED');
    // As a broker with nothing new waits before it answers.
    await new Promise((r) => setTimeout(r, 5));
    return { responses: [] };
  });
  const lines: string[] = [];
  const consumer = new KafkaTradeConsumer({
    brokers: ['127.0.0.1:9092'],
    clientId: 'consumer-outage-test',
    groupId: 'g',
    format: 'json',
    deadLetters: { append: async () => {}, close: async () => {} },
    retryDelayMs: 1,
    logger: createLogger({ level: 'info', write: (line) => void lines.push(line.replace(/^\S+ /, '')) }),
  });
  const handler: ConsumerHandler = { assigned: async () => new Map(), revoked: async () => {}, records: async () => {} };
  t.after(() => consumer.close());
  await consumer.start(handler);
  await until(() => fetches >= 10, '10 failed fetches');
  const warnings = lines.filter((l) => l.startsWith('WARN'));
  assert.equal(warnings.length, 1, lines.join('\n'));
  assert.match(warnings[0]!, /^WARN {2}tickstream Kafka fetch failed; retrying attempt=1 error=.*ECONNREFUSED/);
  assert.ok(consumer.fetchFailingSince() !== undefined);
  assert.equal(consumer.missingTopic(), undefined, 'a Kafka that does not answer is not a missing topic');
  down = false;
  await until(() => consumer.fetchFailingSince() === undefined, 'a fetch to succeed');
  assert.match(lines.at(-1)!, /^INFO {2}tickstream Kafka fetch recovered attempts=\d+ after=/);
});
