import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInterval, type Interval } from '../../src/domain/index.ts';
import { BAR_UPDATES_TOPIC, barQueryName, defineBarJob, isBarJobQuery, sparkDuration, type BarJobOptions, type BarJobSession } from '../../src/spark/bar-job.ts';
import { DataStreamReader, type StreamingQueryManager } from '../../src/spark/index.ts';

const intervals = ['5s', '1m'].map((l) => parseInterval(l) as Interval);
const options: BarJobOptions = {
  kafkaBootstrapServers: '127.0.0.1:9092',
  topic: 'market.trades',
  barsTopic: BAR_UPDATES_TOPIC,
  format: 'avro',
  tradeSchema: '{"type":"record","name":"Trade","fields":[]}',
  keyspace: 'market',
  intervals,
  latenessMs: 10_000,
  triggerMs: 1_000,
  checkpointRoot: '/data/spark/checkpoints',
  barTtlSeconds: (label) => (label === '5s' ? 604_800 : 0),
};
// Defining the job sends nothing, so a session without a server will do.
const session: BarJobSession = { readStream: new DataStreamReader(undefined), streams: {} as StreamingQueryManager };

test('the job has a bar query per interval, the bar writer, trades and trade days, each with its own checkpoint', () => {
  const queries = defineBarJob(session, options);
  assert.deepEqual(
    queries.map((q) => [q.name, q.kind, q.checkpointLocation]),
    [
      ['tickstream-bars-5s', 'bars', '/data/spark/checkpoints/tickstream-bars-5s'],
      ['tickstream-bars-1m', 'bars', '/data/spark/checkpoints/tickstream-bars-1m'],
      ['tickstream-bars-store', 'bars-store', '/data/spark/checkpoints/tickstream-bars-store'],
      ['tickstream-trades', 'trades', '/data/spark/checkpoints/tickstream-trades'],
      ['tickstream-trade-days', 'trade-days', '/data/spark/checkpoints/tickstream-trade-days'],
    ],
  );
  assert.ok(queries.every((q) => isBarJobQuery(q.name)));
  assert.equal(isBarJobQuery('someone-elses-query'), false);
});

test('bar queries aggregate in update mode into the bar-updates topic; the Cassandra writers append', () => {
  const [bars5s, , store, trades] = defineBarJob(session, options).map((q) => q.writer.toCommand());
  assert.equal(bars5s?.format, 'kafka');
  assert.equal(bars5s?.output_mode, 'update');
  assert.equal(bars5s?.query_name, barQueryName('5s'));
  assert.deepEqual(bars5s?.options, { 'kafka.bootstrap.servers': '127.0.0.1:9092', topic: BAR_UPDATES_TOPIC, checkpointLocation: '/data/spark/checkpoints/tickstream-bars-5s' });
  assert.deepEqual(bars5s !== undefined && 'processing_time_interval' in bars5s ? bars5s.processing_time_interval : undefined, '1000 milliseconds');
  assert.equal(store?.format, 'org.apache.spark.sql.cassandra');
  assert.equal(store?.output_mode, 'append');
  assert.deepEqual(store?.options, { keyspace: 'market', table: 'bars', checkpointLocation: '/data/spark/checkpoints/tickstream-bars-store', writetime: 'write_time', ttl: 'ttl' });
  assert.equal(trades?.options?.['table'], 'trades');
});

test('open and close order by (event time, Kafka offset); the watermark is the lateness; the TTL is the interval\'s', () => {
  const plan = JSON.stringify(defineBarJob(session, options)[0]?.writer.toCommand().input);
  assert.match(plan, /min_by\(price, struct\(event_time, `offset`\)\) AS open/);
  assert.match(plan, /max_by\(price, struct\(event_time, `offset`\)\) AS close/);
  assert.match(plan, /"delay_threshold":"10000 milliseconds"/);
  assert.match(plan, /"function_name":"window".*"string":"5000 milliseconds"/);
  assert.match(plan, /604800 AS ttl/);
  assert.match(plan, /"function_name":"from_avro"/);
});

test('volume, vwap and avg_price fold the window\'s trades in Kafka offset order from 0, as the TS engine adds them', () => {
  const plan = JSON.stringify(defineBarJob(session, options)[0]?.writer.toCommand().input);
  assert.match(plan, /collect_list\(struct\(`offset`, price, volume\)\) AS trades/);
  assert.doesNotMatch(plan, /sum\(|avg\(/, 'no sum or avg of Spark\'s own: its partial sums per micro-batch add up in another order');
  assert.match(plan, /aggregate\(array_sort\(trades\), named_struct\('volume', 0D, 'price_volume', 0D, 'price_sum', 0D\)/);
  assert.match(
    plan,
    /\(acc, t\) -> named_struct\('volume', acc\.volume \+ t\.volume, 'price_volume', acc\.price_volume \+ t\.price \* t\.volume, 'price_sum', acc\.price_sum \+ t\.price\)\) AS sums/,
  );
  assert.match(plan, /sums\.volume AS volume/);
  assert.match(plan, /CASE WHEN sums\.volume = 0 THEN NULL ELSE sums\.price_volume \/ sums\.volume END AS vwap/);
  assert.match(plan, /sums\.price_sum \/ trade_count AS avg_price/);
  assert.match(plan, /count\(1\) AS trade_count/);
});

test('a job without intervals or with a zero trigger is refused', () => {
  assert.throws(() => defineBarJob(session, { ...options, intervals: [] }), /at least one interval/);
  assert.throws(() => defineBarJob(session, { ...options, triggerMs: 0 }), /positive number/);
  assert.equal(sparkDuration(1500.7), '1500 milliseconds');
});
