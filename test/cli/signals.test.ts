import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runUntilStopped } from '../../src/cli/signals.ts';
import { CheckpointError, TickstreamError } from '../../src/errors.ts';
import { createLogger } from '../../src/observability/index.ts';

function recorder(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'info', write: (line) => lines.push(line) }) };
}

test('an engine that stops on an error closes the set and fails the command with the reason, keeping its code', { timeout: 10_000 }, async () => {
  const { lines, logger } = recorder();
  let closed = 0;
  const cause = new CheckpointError('market.trades has a new topic id');
  const set = { engineStopped: Promise.resolve(cause), close: async () => void closed++ };
  const error = await runUntilStopped(set, logger, 'stopping').then(
    () => assert.fail('expected the command to fail'),
    (e: unknown) => e,
  );
  assert.equal(closed, 1);
  assert.ok(error instanceof TickstreamError);
  assert.equal(error.code, 'TICKSTREAM_CHECKPOINT_INVALID');
  assert.equal(error.message, 'the engine stopped: market.trades has a new topic id');
  assert.equal(error.cause, cause);
  assert.ok(lines.some((l) => l.includes('stopping: the engine stopped')), lines.join('\n'));
});

test('an error that is not one of ours is reported as the bus failing; a close that fails after it does not hide it', { timeout: 10_000 }, async () => {
  const { lines, logger } = recorder();
  const set = {
    engineStopped: Promise.resolve(new Error('group join failed')),
    close: async () => {
      throw new Error('store gone');
    },
  };
  const error = await runUntilStopped(set, logger, 'stopping').catch((e: unknown) => e);
  assert.ok(error instanceof TickstreamError);
  assert.equal(error.code, 'TICKSTREAM_BUS_UNAVAILABLE');
  assert.equal(error.message, 'the engine stopped: group join failed');
  assert.ok(lines.some((l) => l.includes('closing after the engine stopped failed') && l.includes('store gone')), lines.join('\n'));
});

test('a signal closes the set and the command ends without an error', { timeout: 10_000 }, async () => {
  const { lines, logger } = recorder();
  let closed = 0;
  const set = { engineStopped: new Promise<unknown>(() => {}), close: async () => void closed++ };
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const done = runUntilStopped(set, logger, 'stopping: flushing');
  process.emit('SIGTERM');
  await done;
  // Stopping arms "a second signal exits at once"; this test process must not keep that.
  for (const s of signals) for (const l of process.listeners(s)) if (!before.get(s)?.has(l)) process.off(s, l);
  assert.equal(closed, 1);
  assert.deepEqual(lines.map((l) => l.replace(/^\S+ /, '')), ['INFO  tickstream stopping: flushing', 'INFO  tickstream stopped']);
});
