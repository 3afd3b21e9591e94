import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { KafkaTradeProducer } from '../../../src/bus/index.ts';
import { createLogger } from '../../../src/observability/index.ts';
import { freePort } from '../../support/free-port.ts';
import { aaplTrades } from '../../support/trades.ts';

// The producer against a port nothing listens on: every send fails for real, as with a broker
// that is down, and the trades go to the on-disk spool.

async function producerWithoutKafka(
  t: TestContext,
  lines: string[],
  timing: { retryDelayMs: number; closeTimeoutMs: number } = { retryDelayMs: 20, closeTimeoutMs: 100 },
): Promise<{ producer: KafkaTradeProducer; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-producer-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const producer = new KafkaTradeProducer({
    brokers: [`127.0.0.1:${await freePort()}`],
    clientId: 'producer-spool-test',
    format: 'avro',
    dataDir,
    spoolLimit: 1_000,
    ...timing,
    logger: createLogger({ level: 'info', write: (line) => lines.push(line) }),
  });
  return { producer, dataDir };
}

test('trades a broker that is down did not take are spooled, and the spool is kept on close', { timeout: 20_000 }, async (t) => {
  const lines: string[] = [];
  const { producer } = await producerWithoutKafka(t, lines);
  await producer.append(aaplTrades(10));
  assert.equal(producer.spoolDepth(), 10);
  assert.equal(producer.sent, 0);
  await producer.close();
  const sending = lines.findIndex((l) => l.includes('sending the spool before stopping, for up to 100ms trades=10'));
  const kept = lines.findIndex((l) => l.includes('closing with trades still spooled; they are sent at the next start trades=10'));
  assert.ok(sending >= 0 && kept > sending, lines.join('\n'));
});

test('a broker that stays down is one warning, not one at every retry of the spool', { timeout: 20_000 }, async (t) => {
  const lines: string[] = [];
  const { producer } = await producerWithoutKafka(t, lines);
  await producer.append(aaplTrades(10));
  const retries = (): string[] => lines.filter((l) => l.includes('Kafka send failed; spooling'));
  // Retries 20 ms apart, growing to 200 ms: a handful in 1.5 s, each failing the same way.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await producer.close();
  assert.equal(retries().length, 1, lines.join('\n'));
  assert.match(retries()[0] ?? '', /trades=10 error=.*ECONNREFUSED/);
});

test('a stop sends the spool for the close timeout, not for the rest of a long wait between retries', { timeout: 30_000 }, async (t) => {
  const lines: string[] = [];
  // Retries 5 s apart at first: a stop that waited out the wait after its own try would take over 5 s.
  const { producer } = await producerWithoutKafka(t, lines, { retryDelayMs: 5_000, closeTimeoutMs: 200 });
  await producer.append(aaplTrades(10));
  assert.equal(producer.spoolDepth(), 10);
  const started = performance.now();
  await producer.close();
  const tookMs = performance.now() - started;
  assert.ok(tookMs < 3_000, `close took ${Math.round(tookMs)} ms with a close timeout of 200 ms:\n${lines.join('\n')}`);
  assert.ok(lines.some((l) => l.includes('closing with trades still spooled; they are sent at the next start trades=10')), lines.join('\n'));
});

test('a spool removed under the producer is an error line at each retry, not a loop that starves the process', { timeout: 20_000 }, async (t) => {
  const lines: string[] = [];
  const { producer, dataDir } = await producerWithoutKafka(t, lines);
  await producer.append(aaplTrades(10));
  rmSync(join(dataDir, 'spool'), { recursive: true, force: true });
  // Written through the open segment file, which is gone from the directory: the next read fails.
  await producer.append(aaplTrades(5));
  // A drainer that spins on the error never lets these timers fire, and the test times out.
  const errors = (): string[] => lines.filter((l) => l.includes('reading the spool failed'));
  const deadline = Date.now() + 10_000;
  while (errors().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.match(errors()[0] ?? '', /ENOENT/, lines.join('\n'));
  const before = errors().length;
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  // Retries 20 ms apart, growing to 200 ms: a handful a second.
  assert.ok(errors().length - before <= 20, `${errors().length - before} error lines in 1 s`);
  await producer.close();
});
