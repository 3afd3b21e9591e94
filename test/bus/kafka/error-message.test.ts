import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MultipleErrors, NetworkError } from '@platformatic/kafka';
import { KafkaConsole } from '../../../src/bus/index.ts';
import { messageOf } from '../../../src/bus/kafka/kafka-options.ts';
import { BusUnavailableError } from '../../../src/errors.ts';
import { freePort } from '../../support/free-port.ts';

const count = (text: string, part: string): number => text.split(part).length - 1;

test('a broker that refuses connections is named once, with the reason, not once per retry', async () => {
  const port = await freePort();
  const console_ = new KafkaConsole({ brokers: [`127.0.0.1:${port}`], clientId: 'error-message-test' });
  try {
    const error = await console_.progress(['market.trades']).then(
      () => assert.fail('expected the read to fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof BusUnavailableError);
    const message = error.message;
    assert.equal(count(message, 'Cannot connect to any broker'), 1, message);
    assert.equal(count(message, `Connection to 127.0.0.1:${port} failed`), 1, message);
    assert.match(message, /ECONNREFUSED/);
    assert.match(message, /failed 3 times/);
  } finally {
    await console_.close();
  }
});

test('distinct causes of one failure are all kept, in order', () => {
  const a = new NetworkError('Connection to a:1 failed.', { cause: new Error('connect ECONNREFUSED a:1') });
  const b = new NetworkError('Connection closed');
  const error = new MultipleErrors('metadata failed 3 times.', [a, b, a]);
  assert.equal(messageOf(error), 'metadata failed 3 times. (Connection to a:1 failed: connect ECONNREFUSED a:1; Connection closed)');
});

test('a cause already in the message is not repeated', () => {
  const inner = new Error('disk full');
  assert.equal(messageOf(new Error('write failed: disk full', { cause: inner })), 'write failed: disk full');
  assert.equal(messageOf('plain text'), 'plain text');
});
