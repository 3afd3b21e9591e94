import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tsEngineLogLag } from '../../src/app/pipeline.ts';

// The TS engine counts its lag to the log ends its last fetch saw. A Kafka outage left the last
// count (16 records, say) in /api/stats and /metrics for as long as it lasted, while the spool grew.

test("the TS engine's log lag is its unread records while it fetches, and unknown while its fetches fail", () => {
  let failingSince: number | undefined;
  const transport = { unread: () => 16, fetchFailingSince: () => failingSince };
  assert.equal(tsEngineLogLag(transport), 16);
  failingSince = Date.now();
  assert.equal(tsEngineLogLag(transport), null);
  failingSince = undefined;
  assert.equal(tsEngineLogLag({ unread: () => -1, fetchFailingSince: () => undefined }), 0, 'no consumer yet: nothing unread');
});
