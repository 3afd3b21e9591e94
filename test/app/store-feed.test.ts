import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreFeed } from '../../src/app/store-feed.ts';
import { parseInterval, type Interval } from '../../src/domain/index.ts';
import { StoreUnavailableError } from '../../src/errors.ts';
import { createLogger, PipelineStats } from '../../src/observability/index.ts';
import type { LiveFeed } from '../../src/server/index.ts';
import type { Store } from '../../src/store/store.ts';

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a store that is down is told once by the poll, not at every poll, and its recovery once; the stats say reads fail meanwhile', async (t) => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', write: (line) => void lines.push(line.replace(/^\S+ /, '')) });
  let down = true;
  let polls = 0;
  const store = {
    async bars() {
      polls++;
      if (down) throw new StoreUnavailableError('read bars: no host answered (test)');
      return [];
    },
    async trades() {
      return [];
    },
  } as unknown as Store;
  const live: LiveFeed = { publishBars: () => {}, publishTrades: () => {}, tradesPerSymbol: 20 };
  const stats = new PipelineStats();
  const feed = new StoreFeed({ store, symbols: ['AAPL'], intervals: [parseInterval('1m')] as Interval[], live, logger, stats, pollMs: 2 });
  t.after(() => feed.close());
  feed.start();
  await until(() => polls >= 20, '20 polls');
  assert.ok(stats.storeReadFailingSince !== undefined, 'the stats say the store reads fail');
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /^WARN {2}tickstream store poll failed; retrying attempt=1 error=.*no host answered/);
  down = false;
  await until(() => stats.storeReadFailingSince === undefined, 'the stats to say the store reads again');
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[1]!, /^INFO {2}tickstream store poll recovered attempts=\d+ after=/);
});
