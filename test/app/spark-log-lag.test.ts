import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sparkLogLag } from '../../src/app/spark-log-lag.ts';
import type { KafkaLogBounds } from '../../src/bus/index.ts';
import { parseProgress, type StreamingQueryProgress } from '../../src/spark/index.ts';

const TOPIC = 'market.trades';

/** A trades query's progress whose Kafka source ended its batch at `endOffset`. */
function progress(endOffset: unknown, extra: Record<string, unknown> = {}): StreamingQueryProgress {
  return parseProgress(JSON.stringify({
    id: 'q', runId: 'r', name: 'tickstream-trades', batchId: 7, numInputRows: 10,
    durationMs: { addBatch: 10, triggerExecution: 12 },
    sources: [{ description: 'KafkaV2[Subscribe[market.trades]]', startOffset: { [TOPIC]: { 0: 0 } }, endOffset, ...extra }],
  }));
}

function log(...bounds: [start: number, end: number][]): KafkaLogBounds[] {
  return bounds.map(([start, end], partition) => ({ partition, start, end }));
}

test('the lag is the log end less the end offset of the last batch, summed over partitions, with the offsets as an object', () => {
  const p = progress({ [TOPIC]: { 0: 120, 1: 98, 2: 40 } });
  assert.equal(sparkLogLag(p, TOPIC, log([0, 125], [0, 98], [10, 50])), 5 + 0 + 10);
});

test('offsets the server sends as a JSON string count the same', () => {
  const p = progress(JSON.stringify({ [TOPIC]: { 0: 120, 1: 98, 2: 40 } }));
  assert.equal(sparkLogLag(p, TOPIC, log([0, 125], [0, 98], [10, 50])), 15);
});

test('a job caught up with the log has no lag', () => {
  assert.equal(sparkLogLag(progress({ [TOPIC]: { 0: 125, 1: 98 } }), TOPIC, log([0, 125], [0, 98])), 0);
});

test('a partition the progress does not name (added to the topic since) counts from its log start', () => {
  const p = progress({ [TOPIC]: { 0: 120, 1: 98 } });
  assert.equal(sparkLogLag(p, TOPIC, log([0, 120], [0, 98], [30, 75])), 45);
});

test('records retention removed before the job read them are not lag', () => {
  assert.equal(sparkLogLag(progress({ [TOPIC]: { 0: 20 } }), TOPIC, log([100, 130])), 30);
});

test('a log behind the progress (the topic made again) counts nothing, never less than nothing', () => {
  assert.equal(sparkLogLag(progress({ [TOPIC]: { 0: 500 } }), TOPIC, log([0, 30])), 0);
});

test('the source of the topic is found among several; another topic\'s offsets are not read', () => {
  const p = parseProgress(JSON.stringify({
    id: 'q', runId: 'r', batchId: 1,
    sources: [{ endOffset: { other: { 0: 1 } } }, { endOffset: { [TOPIC]: { 0: 9 } } }],
  }));
  assert.equal(sparkLogLag(p, TOPIC, log([0, 10])), 1);
});

test('the lag is unknown, not 0, before the first progress', () => {
  assert.equal(sparkLogLag(null, TOPIC, log([0, 10])), null);
});

test('a malformed progress makes the lag unknown rather than throwing', () => {
  const malformed: [string, StreamingQueryProgress][] = [
    ['no sources', parseProgress(JSON.stringify({ id: 'q', runId: 'r', batchId: 1 }))],
    ['sources not a list', parseProgress(JSON.stringify({ id: 'q', runId: 'r', batchId: 1, sources: { endOffset: {} } }))],
    ['no end offset', progress(undefined)],
    ['end offset not JSON', progress('{"market.trades":')],
    ['end offset a number', progress(42)],
    ['end offsets of another topic', progress({ other: { 0: 5 } })],
    ['a partition\'s offsets not an object', progress({ [TOPIC]: 5 })],
    ['an offset not a number', progress({ [TOPIC]: { 0: '12' } })],
    ['a negative offset', progress({ [TOPIC]: { 0: -1 } })],
    ['a partition that is not a number', progress({ [TOPIC]: { x: 3 } })],
  ];
  for (const [what, p] of malformed) assert.equal(sparkLogLag(p, TOPIC, log([0, 10])), null, what);
});
