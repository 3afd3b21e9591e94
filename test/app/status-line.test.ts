import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusLine } from '../../src/app/status-line.ts';
import { PipelineStats, snapshotStats } from '../../src/observability/index.ts';

const NOW = 1_000_000;

function busy(): PipelineStats {
  const stats = new PipelineStats();
  stats.received = 5_000;
  stats.invalid = 2;
  stats.late = 3;
  stats.logLag = 40;
  stats.spoolDepth = 0;
  stats.latency.record(12, 100);
  return stats;
}

test('each role prints its own part of the status: the source and spool for produce, the engine for process, both for run', () => {
  const stats = busy();
  const source = { kind: 'simulator', state: 'connected', detail: '' } as const;
  const produce = statusLine(stats, source, { roles: { produce: true, process: false }, nowMs: NOW });
  assert.match(produce, /^simulator connected · in \d+\/s · invalid 2 · spool 0$/);
  const process = statusLine(stats, undefined, { roles: { produce: false, process: true }, nowMs: NOW });
  assert.match(process, /^processed \d+\/s · bars \d+\/s · lag 40 · late 3 · invalid 2 · latency p50 12\.0 ms p99 12\.0 ms$/);
  const run = statusLine(stats, source, { nowMs: NOW });
  assert.match(run, /^simulator connected · in \d+\/s · processed \d+\/s · bars \d+\/s · lag 40 · late 3 · invalid 2 · latency p50 12\.0 ms p99 12\.0 ms$/);
  stats.spoolDepth = 7;
  assert.match(statusLine(stats, source, { nowMs: NOW }), / · spool 7$/, 'a spool that holds trades shows in run too');
});

test('an engine waiting for Kafka says so with how long, and stops saying so once it runs', () => {
  const stats = busy();
  stats.engineWaitingSince = NOW - 12_000;
  const source = { kind: 'simulator', state: 'connected', detail: '' } as const;
  assert.match(statusLine(stats, source, { nowMs: NOW }), / · ENGINE WAITING FOR KAFKA 12s, source spooled$/);
  stats.engineWaitingSince = undefined;
  assert.doesNotMatch(statusLine(stats, source, { nowMs: NOW }), /WAITING/);
});

test('a running engine whose fetches fail says Kafka is not answering, not that it waits to start, and /api/stats says it waits', () => {
  const stats = busy();
  stats.kafkaFetchFailingSince = NOW - 9_000;
  const line = statusLine(stats, undefined, { roles: { produce: false, process: true }, nowMs: NOW });
  assert.match(line, / · KAFKA NOT ANSWERING 9s, retrying$/);
  assert.doesNotMatch(line, /ENGINE WAITING/);
  const wire = snapshotStats(stats, NOW);
  assert.equal(wire.engine_state, 'waiting', 'the dashboard raises it as a banner');
  assert.equal(wire.engine_waiting_s, 9);
  stats.kafkaFetchFailingSince = undefined;
  assert.equal(snapshotStats(stats, NOW).engine_state, 'ok');
  stats.engineStopped = 'the topic was deleted';
  stats.kafkaFetchFailingSince = NOW - 1_000;
  assert.equal(snapshotStats(stats, NOW).engine_state, 'stopped', 'a stopped engine stays stopped');
});

test('a running engine whose fetches fail because Kafka has no such topic says the topic is missing, naming it, and /api/stats names it', () => {
  const stats = busy();
  stats.kafkaFetchFailingSince = NOW - 5_000;
  stats.kafkaMissingTopic = 'market.trades';
  const line = statusLine(stats, undefined, { roles: { produce: false, process: true }, nowMs: NOW });
  assert.match(line, / · TOPIC market\.trades MISSING 5s \(Kafka answers: unknown topic\), retrying$/);
  assert.doesNotMatch(line, /NOT ANSWERING/);
  const wire = snapshotStats(stats, NOW);
  assert.equal(wire.engine_state, 'waiting');
  assert.equal(wire.missing_topic, 'market.trades');
  stats.kafkaFetchFailingSince = undefined;
  assert.equal(snapshotStats(stats, NOW).missing_topic, undefined, 'once fetches succeed the topic is not said to be missing');
});

test('an engine that makes no more bars says so with why', () => {
  const stats = busy();
  const source = { kind: 'simulator', state: 'connected', detail: '' } as const;
  assert.doesNotMatch(statusLine(stats, source, { nowMs: NOW }), /STOPPED/);
  stats.engineStopped = 'the Spark queries were stopped from elsewhere';
  assert.match(statusLine(stats, source, { nowMs: NOW }), / · ENGINE STOPPED: the Spark queries were stopped from elsewhere$/);
});

test('a lag not known (the Spark engine before its first micro-batch) is a dash, not 0', () => {
  const stats = busy();
  stats.logLag = null;
  assert.match(statusLine(stats, undefined, { roles: { produce: false, process: true }, nowMs: NOW }), / · lag - · /);
  stats.logLag = 0;
  assert.match(statusLine(stats, undefined, { roles: { produce: false, process: true }, nowMs: NOW }), / · lag 0 · /);
});

test('before any bar is stored the latency is a dash, not 0 ms', () => {
  const stats = new PipelineStats();
  stats.engineWaitingSince = NOW - 3_000;
  const line = statusLine(stats, undefined, { roles: { produce: false, process: true }, nowMs: NOW });
  assert.match(line, / · latency - · ENGINE WAITING FOR KAFKA 3s, source spooled$/);
  stats.engineWaitingSince = undefined;
  stats.latency.record(7);
  assert.match(statusLine(stats, undefined, { roles: { produce: false, process: true }, nowMs: NOW }), / · latency p50 7\.0 ms p99 7\.0 ms$/);
});

test('a serve role whose reads of the store fail says the store is down, with how long, and no offsets held it has none of', () => {
  const stats = new PipelineStats();
  const view = { counts_from: 'kafka', kafka_view: { topic: 'market.trades', group: 'g', error: null, age_s: 1 } } as const;
  const serve = { roles: { produce: false, process: false }, view, nowMs: NOW };
  assert.doesNotMatch(statusLine(stats, undefined, serve), /STORE/);
  stats.storeReadFailingSince = NOW - 12_000;
  assert.match(statusLine(stats, undefined, serve), /^from Kafka · .* · STORE DOWN 12s, retrying$/);
  stats.storeFailingSince = NOW - 20_000;
  assert.match(statusLine(stats, undefined, { roles: { produce: false, process: true }, nowMs: NOW }), / · STORE DOWN 20s, retrying, offsets held$/, 'the engine that writes says its offsets are held');
});

test('an engine whose fetches fail says Kafka is not answering, with how long, and stops saying so once it reads again', () => {
  const stats = busy();
  const process = { roles: { produce: false, process: true }, nowMs: NOW };
  stats.kafkaFetchFailingSince = NOW - 47_000;
  assert.match(statusLine(stats, undefined, process), / · KAFKA NOT ANSWERING 47s, retrying$/);
  stats.kafkaFetchFailingSince = undefined;
  assert.doesNotMatch(statusLine(stats, undefined, process), /KAFKA/);
});
