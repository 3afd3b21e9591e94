import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusLine } from '../../src/app/status-line.ts';
import { formatDuration, PipelineStats } from '../../src/observability/index.ts';

test('durations read as milliseconds up to 10 s, then seconds, minutes and hours', () => {
  const cases: [number, string][] = [
    [0, '0.0 ms'],
    [7.25, '7.3 ms'],
    [99.94, '99.9 ms'],
    [100, '100 ms'],
    [1_036.4, '1036 ms'],
    [9_999.4, '9999 ms'],
    [10_000, '10.0 s'],
    [59_940, '59.9 s'],
    [119_949, '119.9 s'],
    [120_000, '2.0 min'],
    [3_245_221, '54.1 min'],
    [7_199_999, '120.0 min'],
    [7_200_000, '2.0 h'],
    [90_000_000, '25.0 h'],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, `${ms} ms`);
  assert.equal(formatDuration(Number.NaN), '–');
  assert.equal(formatDuration(Number.POSITIVE_INFINITY), '–');
});

test('the status line gives the latency percentiles in those units', () => {
  const stats = new PipelineStats();
  // An engine reading an hour-old backlog: every bar is stored about 54 minutes after its trades came in.
  stats.latency.record(3_245_221, 1_000);
  const line = statusLine(stats, undefined);
  assert.match(line, /latency p50 54\.1 min p99 54\.1 min/);
});
