import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, OutageLog } from '../../src/observability/index.ts';

function captured() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', write: (line) => void lines.push(line.replace(/^\S+ /, '')) });
  return { lines, logger };
}

test('a failure that repeats is logged once with its reason, then reminded at most every 30 s with the attempts and how long, and its end once', () => {
  const { lines, logger } = captured();
  let now = 1_000_000;
  const outage = new OutageLog(logger, 'store write', () => now);
  outage.succeeded();
  assert.deepEqual(lines, [], 'nothing to say while it works');
  for (let i = 0; i < 40; i++) {
    outage.failed(new Error('no host answered'));
    now += 1_000;
  }
  assert.equal(outage.failingSince, 1_000_000);
  assert.deepEqual(lines, [
    'WARN  tickstream store write failed; retrying attempt=1 error="no host answered"',
    'WARN  tickstream store write still failing; retrying attempt=31 for="30.0 s" error="no host answered"',
  ]);
  outage.succeeded();
  assert.equal(lines.at(-1), 'INFO  tickstream store write recovered attempts=41 after="40.0 s"');
  assert.equal(outage.failingSince, undefined);
  outage.failed('refused');
  assert.equal(lines.at(-1), 'WARN  tickstream store write failed; retrying attempt=1 error=refused', 'a new outage is told again');
});
