import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SparkError } from '../../src/errors.ts';
import { parseProgress } from '../../src/spark/index.ts';

test('a progress report keeps rates, durations and the watermark', () => {
  const json = JSON.stringify({
    id: 'q',
    runId: 'r',
    name: 'bars',
    timestamp: '2024-01-02T03:04:05.000Z',
    batchId: 7,
    numInputRows: 120,
    inputRowsPerSecond: 60.5,
    processedRowsPerSecond: 80,
    durationMs: { triggerExecution: 250, addBatch: 200 },
    eventTime: { watermark: '2024-01-02T03:03:55.000Z', max: '2024-01-02T03:04:05.000Z' },
    stateOperators: [],
  });
  const p = parseProgress(json);
  assert.equal(p.batchId, 7);
  assert.equal(p.numInputRows, 120);
  assert.equal(p.inputRowsPerSecond, 60.5);
  assert.equal(p.durationMs['triggerExecution'], 250);
  assert.equal(p.eventTime['watermark'], '2024-01-02T03:03:55.000Z');
  assert.deepEqual(p.json['stateOperators'], []);
});

test('row counts and rates are summed over the sources when the JSON has no totals (as a Connect server sends it)', () => {
  const json = JSON.stringify({
    id: 'q',
    runId: 'r',
    name: 'bars',
    timestamp: '2024-01-02T03:04:05.000Z',
    batchId: 3,
    batchDuration: 294,
    durationMs: { triggerExecution: 294 },
    eventTime: {},
    sources: [
      { description: 'KafkaV2[market.trades]', numInputRows: 50, inputRowsPerSecond: 100, processedRowsPerSecond: 170 },
      { description: 'RateStreamV2', numInputRows: 7, inputRowsPerSecond: 14 },
    ],
  });
  const p = parseProgress(json);
  assert.equal(p.numInputRows, 57);
  assert.equal(p.inputRowsPerSecond, 114);
  assert.equal(p.processedRowsPerSecond, 170);
  assert.equal(p.batchDurationMs, 294);
});

test('a rate Spark could not compute is absent, not NaN', () => {
  const p = parseProgress('{"id":"q","runId":"r","name":null,"batchId":0,"numInputRows":0}');
  assert.equal('inputRowsPerSecond' in p, false);
  assert.equal(p.name, null);
  assert.equal(p.numRowsDroppedByWatermark, 0, 'no stateful operator, nothing dropped');
});

test('rows dropped behind the watermark are summed over the stateful operators', () => {
  const json = JSON.stringify({
    id: 'q',
    runId: 'r',
    name: 'bars',
    batchId: 9,
    numInputRows: 40,
    stateOperators: [
      { operatorName: 'stateStoreSave', numRowsTotal: 12, numRowsDroppedByWatermark: 3 },
      { operatorName: 'dedupe', numRowsDroppedByWatermark: 2 },
      { operatorName: 'other' },
    ],
  });
  assert.equal(parseProgress(json).numRowsDroppedByWatermark, 5);
});

test('malformed progress is a SparkError', () => {
  assert.throws(() => parseProgress('{oops'), SparkError);
  assert.throws(() => parseProgress('[]'), SparkError);
  assert.throws(() => parseProgress('{"numInputRows":1}'), /no batchId/);
});
