import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryForever } from '../../src/app/retry.ts';
import { StoreUnavailableError } from '../../src/errors.ts';
import { createLogger } from '../../src/observability/index.ts';

test('a store that fails many times in a row is warned about once with its reason, and its recovery once', async () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', write: (line) => void lines.push(line.replace(/^\S+ /, '')) });
  let failures = 25;
  const result = await retryForever(
    async () => {
      if (failures-- > 0) throw new StoreUnavailableError('no host answered (test)');
      return 'stored';
    },
    logger,
    'store write',
    { initialMs: 1, maxMs: 1 },
  );
  assert.equal(result, 'stored');
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[0]!, /^WARN {2}tickstream store write failed; retrying attempt=1 error=.*no host answered/);
  assert.match(lines[1]!, /^INFO {2}tickstream store write recovered attempts=26 after=/);
});
