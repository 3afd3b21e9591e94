import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { KafkaConsole } from '../../../src/bus/index.ts';
import { clientBase, REQUEST_TIMEOUT_MS } from '../../../src/bus/kafka/kafka-options.ts';
import { BusUnavailableError } from '../../../src/errors.ts';

/** A "broker" that accepts connections and reads requests but never answers: a stalled JVM, say. */
async function silentBroker(t: TestContext): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return `127.0.0.1:${address.port}`;
}

test('clients wait REQUEST_TIMEOUT_MS for an answer by default, or what the connection says', () => {
  assert.equal(clientBase({ brokers: ['b:9092'], clientId: 'c' }, 'x').requestTimeout, REQUEST_TIMEOUT_MS);
  assert.ok(REQUEST_TIMEOUT_MS < 30_000, 'shorter than the client library default');
  assert.equal(clientBase({ brokers: ['b:9092'], clientId: 'c', requestTimeoutMs: 1_234 }, 'x').requestTimeout, 1_234);
  assert.equal(clientBase({ brokers: ['b:9092'], clientId: 'c', requestTimeoutMs: 1_234 }, 'x', 99).requestTimeout, 99);
});

test('a console request to a broker that never answers fails after the request timeout, not the library default', async (t) => {
  const broker = await silentBroker(t);
  const kafka = new KafkaConsole({ brokers: [broker], clientId: 'tickstream-test', requestTimeoutMs: 500 });
  t.after(() => kafka.close());
  const t0 = performance.now();
  await assert.rejects(kafka.brokers(), (error: unknown) => {
    assert.ok(error instanceof BusUnavailableError, String(error));
    assert.match(error.message, /^Kafka did not answer describing the cluster: /);
    return true;
  });
  const seconds = (performance.now() - t0) / 1000;
  // Retries included, far below the 30 s a request waited before.
  assert.ok(seconds < 10, `took ${seconds.toFixed(1)} s`);
});
