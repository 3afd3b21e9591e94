import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensureTopicsOrWait } from '../../src/app/start-checks.ts';
import { loadConfig } from '../../src/config/index.ts';
import { BusUnavailableError } from '../../src/errors.ts';
import { createLogger } from '../../src/observability/index.ts';

const config = loadConfig({ env: {} });

function recorder(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'info', write: (line) => lines.push(line) }) };
}

const unreachable = (): BusUnavailableError =>
  new BusUnavailableError('Kafka at 127.0.0.1:9092 did not answer (creating the trade topics): connect ECONNREFUSED 127.0.0.1:9092; is it running? (tickstream stack up kafka)');

/** An attempt that fails with the given errors in turn, then creates `created`. */
function scripted(failures: Error[], created: string[]): { ensure: () => Promise<string[]>; calls: () => number } {
  let calls = 0;
  return {
    ensure: async () => {
      const failure = failures[calls++];
      if (failure !== undefined) throw failure;
      return created;
    },
    calls: () => calls,
  };
}

test('a Kafka that does not answer does not stop the start: the topics are created once it answers', { timeout: 10_000 }, async () => {
  const { lines, logger } = recorder();
  const attempts = scripted([unreachable(), unreachable(), unreachable()], ['market.trades', 'market.trades.dlq']);
  const wait = await ensureTopicsOrWait(config, logger, { ensure: attempts.ensure, delayMs: 5, maxDelayMs: 10 });
  assert.equal(wait.waiting, true, 'the topics are awaited in the background');
  await wait.done;
  assert.equal(attempts.calls(), 4);
  assert.match(lines[0] ?? '', /WARN .*did not answer \(creating the trade topics\): connect ECONNREFUSED .*; trades go to the spool until it answers$/);
  // The same reason again is not repeated at every attempt.
  assert.equal(lines.filter((l) => l.includes('still does not answer')).length, 1, lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('Kafka answers; the trade topics are there attempts=4')), lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('topics created topics=market.trades,market.trades.dlq')), lines.join('\n'));
});

test('a Kafka that answers at the first attempt starts without a warning', { timeout: 10_000 }, async () => {
  const { lines, logger } = recorder();
  const attempts = scripted([], []);
  const wait = await ensureTopicsOrWait(config, logger, { ensure: attempts.ensure });
  assert.equal(wait.waiting, false, 'nothing is awaited');
  await wait.done;
  assert.equal(attempts.calls(), 1);
  assert.deepEqual(lines, []);
});

test('a Kafka that answers and refuses stops the start', { timeout: 10_000 }, async () => {
  const { logger } = recorder();
  const refused = new BusUnavailableError('Kafka at 127.0.0.1:9092 did not create the trade topics: INVALID_REPLICATION_FACTOR', { canRetry: false });
  const attempts = scripted([refused], []);
  await assert.rejects(ensureTopicsOrWait(config, logger, { ensure: attempts.ensure, delayMs: 5 }), refused);
  assert.equal(attempts.calls(), 1);
});

test('an error that is not ours stops the start too', { timeout: 10_000 }, async () => {
  const { logger } = recorder();
  const odd = new TypeError('something else');
  await assert.rejects(ensureTopicsOrWait(config, logger, { ensure: scripted([odd], []).ensure, delayMs: 5 }), odd);
});

test('closing stops the wait at once, with no attempt after it', { timeout: 10_000 }, async () => {
  const { logger } = recorder();
  const attempts = scripted(Array.from({ length: 100 }, unreachable), []);
  const wait = await ensureTopicsOrWait(config, logger, { ensure: attempts.ensure, delayMs: 60_000 });
  const started = Date.now();
  wait.close();
  await wait.done;
  assert.ok(Date.now() - started < 1_000);
  assert.equal(attempts.calls(), 1);
});
