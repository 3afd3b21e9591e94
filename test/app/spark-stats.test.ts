import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { countSparkBatches, sparkBarJobOptions, SparkProcessor, sparkStats, type SparkQueryReport } from '../../src/app/spark-processor.ts';
import { loadConfig } from '../../src/config/index.ts';
import { PipelineStats } from '../../src/observability/index.ts';
import { parseProgress } from '../../src/spark/index.ts';
import { serverFor } from '../server/fixtures.ts';

const REPORTS: SparkQueryReport[] = [
  {
    name: 'tickstream-bars-5s',
    id: 'q-1',
    active: true,
    batchId: 12,
    inputRowsPerSecond: 1999.5,
    processedRowsPerSecond: 2400,
    batchDurationMs: 830,
    watermark: '2026-01-05T09:30:00.000Z',
  },
  { name: 'tickstream-trades', id: 'q-2', active: false, exception: 'org.apache.spark.SparkException: Cassandra is down' },
];

test('sparkStats puts every query under spark.queries in snake_case, null where Spark reported nothing', () => {
  assert.deepEqual(sparkStats(REPORTS), {
    spark: {
      queries: [
        {
          name: 'tickstream-bars-5s',
          active: true,
          batch_id: 12,
          input_rows_per_s: 1999.5,
          processed_rows_per_s: 2400,
          batch_duration_ms: 830,
          watermark: '2026-01-05T09:30:00.000Z',
          exception: null,
        },
        {
          name: 'tickstream-trades',
          active: false,
          batch_id: null,
          input_rows_per_s: null,
          processed_rows_per_s: null,
          batch_duration_ms: null,
          watermark: null,
          exception: 'org.apache.spark.SparkException: Cassandra is down',
        },
      ],
    },
  });
});

test('sparkStats carries the late replay\'s counts under spark.late_replay when it has them', () => {
  const lateReplay = { unreplayed: 1, mismatches: 2, unseen: 3 };
  assert.deepEqual(sparkStats(REPORTS, lateReplay).spark?.late_replay, lateReplay);
  assert.equal('late_replay' in (sparkStats(REPORTS).spark ?? {}), false);
});

test('sparkStats adds nothing when the process drives no Spark job', () => {
  assert.deepEqual(sparkStats(undefined), {});
  assert.equal('spark' in sparkStats(undefined), false);
});

test('GET /api/stats carries the Spark progress under spark beside the pipeline stats', async (t) => {
  const { server, stats } = serverFor(t, { extraStats: () => sparkStats(REPORTS) });
  stats.received = 42;
  const body = (await server.app.inject('/api/stats')).json() as { received: number; spark: { queries: Record<string, unknown>[] } };
  assert.equal(body.received, 42);
  assert.deepEqual(body.spark.queries.map((q) => q.name), ['tickstream-bars-5s', 'tickstream-trades']);
  assert.equal(body.spark.queries[0]?.input_rows_per_s, 1999.5);
  assert.equal(body.spark.queries[0]?.batch_duration_ms, 830);
  assert.equal(body.spark.queries[0]?.watermark, '2026-01-05T09:30:00.000Z');
  assert.equal(body.spark.queries[1]?.watermark, null);
});

test('a SparkProcessor that has not started has no progress to show', (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-spark-stats-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ env: {}, cwd: dataDir, flags: { profile: 'cluster', engine: 'spark', dataDir, logLevel: 'silent' } });
  const processor = new SparkProcessor(config);
  assert.deepEqual(processor.latestProgress(), []);
  assert.deepEqual(sparkStats(processor.latestProgress()), { spark: { queries: [] } });
});

const batch = (name: string, batchId: number, numInputRows: number, dropped: number) =>
  parseProgress(JSON.stringify({ id: name, runId: 'r', name, batchId, numInputRows, stateOperators: [{ numRowsDroppedByWatermark: dropped }] }));

test('countSparkBatches: trades processed and stored from the trades query, bars stored from the bar writer, nothing from the bar queries', () => {
  const stats = new PipelineStats();
  countSparkBatches(stats, 'tickstream-trades', [batch('tickstream-trades', 1, 100, 0), batch('tickstream-trades', 2, 50, 0)]);
  countSparkBatches(stats, 'tickstream-bars-store', [batch('tickstream-bars-store', 1, 7, 0)]);
  // Late trades come from the late tap, which finds them: the bar queries' drop counts are not added.
  countSparkBatches(stats, 'tickstream-bars-5s', [batch('tickstream-bars-5s', 1, 150, 3)]);
  assert.equal(stats.processed, 150);
  assert.equal(stats.tradesStored, 150);
  assert.equal(stats.barsStored, 7);
  assert.equal(stats.late, 0);
});

test('spark.maxOffsetsPerTrigger bounds the job\'s micro-batches only when it is set above 0', () => {
  const options = (flags: Record<string, string>) =>
    sparkBarJobOptions(loadConfig({ env: {}, cwd: '/nonexistent', flags: { profile: 'cluster', engine: 'spark', ...flags } }));
  assert.equal(options({}).maxOffsetsPerTrigger, undefined, 'unbounded by default: every batch reads all that is there');
  assert.equal(options({ 'spark.maxOffsetsPerTrigger': '0' }).maxOffsetsPerTrigger, undefined);
  assert.equal(options({ 'spark.maxOffsetsPerTrigger': '250000' }).maxOffsetsPerTrigger, 250_000);
});

test("the Spark job reads kafka.topic and publishes its bar updates to a topic named after it", () => {
  const options = (flags: Record<string, string>) =>
    sparkBarJobOptions(loadConfig({ env: {}, cwd: '/nonexistent', flags: { profile: 'cluster', engine: 'spark', ...flags } }));
  assert.deepEqual([options({}).topic, options({}).barsTopic], ['market.trades', 'market.bars.spark']);
  const mine = options({ 'kafka.topic': 'crypto.trades' });
  assert.deepEqual([mine.topic, mine.barsTopic], ['crypto.trades', 'crypto.bars.spark']);
});
