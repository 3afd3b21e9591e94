import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { KafkaConsole } from '../../../src/bus/index.ts';
import { InputError } from '../../../src/errors.ts';

// No broker here: the admin client is stubbed where it would touch the network. Kafka 4 deletes
// __consumer_offsets when asked, and with it every group's committed offsets; the console asked
// it to, for DELETE /api/kafka/topics/__consumer_offsets?confirm=__consumer_offsets.

const INTERNAL = ['__consumer_offsets', '__transaction_state'];

test("Kafka's internal topics are neither deleted nor shown as missing: each is an InputError naming it, and Kafka is not asked to delete it", async (t) => {
  const proto = Admin.prototype as unknown as Record<string, (...args: never[]) => unknown>;
  const deleted: unknown[] = [];
  t.mock.method(proto, 'listTopics', async (options?: { includeInternals?: boolean }) => (options?.includeInternals === true ? [...INTERNAL, 'market.trades'] : ['market.trades']));
  t.mock.method(proto, 'deleteTopics', async (options: unknown) => void deleted.push(options));
  t.mock.method(proto, 'close', async () => {});
  const kafka = new KafkaConsole({ brokers: ['127.0.0.1:9'], clientId: 'console-internal-test' });
  t.after(() => kafka.close());
  for (const name of INTERNAL) {
    const internal = (verb: string) => (e: unknown) => e instanceof InputError && e.message === `${name} is one of Kafka's internal topics (consumer group offsets, transaction state); the console does not ${verb} it`;
    await assert.rejects(kafka.deleteTopic(name), internal('delete'));
    await assert.rejects(kafka.topic(name), internal('show'));
    await assert.rejects(kafka.messages({ topic: name, partition: 0, limit: 1 }), internal('show'));
  }
  assert.deepEqual(deleted, [], 'Kafka was never asked to delete an internal topic');
  assert.equal(await kafka.deleteTopic('no.such.topic'), false, 'a topic that does not exist is still false (404)');
});
