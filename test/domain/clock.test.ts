import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pause } from '../../src/domain/index.ts';

test('pause waits its time, ends early when its signal aborts, and not at all when it already has', async () => {
  let started = performance.now();
  await pause(50);
  assert.ok(performance.now() - started >= 45, 'waited about 50 ms');

  const cut = new AbortController();
  started = performance.now();
  setTimeout(() => cut.abort(), 20);
  await pause(10_000, cut.signal);
  assert.ok(performance.now() - started < 5_000, 'the abort cut the wait short');

  started = performance.now();
  await pause(10_000, cut.signal);
  assert.ok(performance.now() - started < 1_000, 'an aborted signal does not wait');
});
