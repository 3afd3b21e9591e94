import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { WorkerSender } from '../../../src/bus/kafka/kafka-worker-sender.ts';
import { BusUnavailableError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/observability/index.ts';

/** A port that refuses connections: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

test('a send the worker cannot deliver fails on the caller side with a retryable bus error, and close returns', { timeout: 60_000 }, async (t) => {
  const port = await closedPort();
  const sender = new WorkerSender({ brokers: [`127.0.0.1:${port}`], clientId: 'tickstream-test-worker-sender', compression: 'lz4' }, silentLogger);
  t.after(() => sender.close());
  const records = [{ key: Buffer.from('AAPL'), value: Buffer.from([1, 2, 3]) }];
  await assert.rejects(sender.send('market.trades', records), (e: unknown) => e instanceof BusUnavailableError && e.canRetry);
  // The worker is still there for the next batch.
  await assert.rejects(sender.send('market.trades', records), BusUnavailableError);
  await sender.close();
});
