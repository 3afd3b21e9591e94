import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInterval, type Interval } from '../../src/domain/index.ts';
import { SparkError } from '../../src/errors.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { BAR_UPDATES_TOPIC, barQueryName, defineBarJob, isBarJobQuery, sparkDuration, startBarJob, type BarJobOptions, type BarJobSession } from '../../src/spark/bar-job.ts';
import { DataStreamReader, StreamingQueryManager, type Command, type ExecutePlanResponse, type PlanRunner } from '../../src/spark/index.ts';

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

/**
 * A server with no active query that starts every query, except that it refuses the first
 * `refusals` starts of the Cassandra writers with `message`, as the connector does while its
 * session has not seen a fresh keyspace yet.
 */
function refusingServer(message: string, refusals: number): { session: BarJobSession; starts: string[] } {
  const starts: string[] = [];
  let left = refusals;
  const runner: PlanRunner = {
    logger: silentLogger,
    executeRelation: () => Promise.reject(new Error('no relations here')),
    holdSession: () => () => {},
    executeCommand: async (command: Command): Promise<ExecutePlanResponse[]> => {
      if ('streaming_query_manager_command' in command) return [{ streaming_query_manager_command_result: { active: { active_queries: [] } } }];
      if (!('write_stream_operation_start' in command)) throw new Error('unexpected command');
      const start = command.write_stream_operation_start;
      const name = start.query_name ?? '';
      starts.push(name);
      if (start.format === 'org.apache.spark.sql.cassandra' && left > 0) {
        left--;
        throw new SparkError(`Spark Connect ExecutePlan failed (INTERNAL): ${message}`);
      }
      return [{ write_stream_operation_start_result: { query_id: { id: `id-${name}`, run_id: `run-${name}` }, name } }];
    },
  };
  return { session: { readStream: new DataStreamReader(runner), streams: new StreamingQueryManager(runner) }, starts };
}

for (const message of [
  "Couldn't find it_spark_run_x or any similarly named keyspaces",
  "Couldn't find it_spark_run_x.bars or any similarly named keyspace and table pairs",
  "Couldn't find table bars in it_spark_run_x - Found similar tables in that keyspace:\nit_spark_run_x.bar",
  "Couldn't find table bars or keyspace it_spark_run_x - Found similar keyspaces and tables:\nit_spark_run.bars",
]) {
  test(`a start refused with "${message.split(' - ')[0] ?? message}" is sent again until the connector sees the keyspace`, async () => {
    const { session, starts } = refusingServer(message, 1);
    const queries = await startBarJob(session, options, 10_000);
    for (const q of queries) q.detach();
    assert.deepEqual(
      queries.map((q) => q.name),
      ['tickstream-bars-5s', 'tickstream-bars-1m', 'tickstream-bars-store', 'tickstream-trades', 'tickstream-trade-days'],
    );
    assert.deepEqual(starts.filter((n) => n === 'tickstream-bars-store').length, 2, 'the refused start was sent once more');
  });
}

test('any other refused start fails the job at once', async () => {
  const { session, starts } = refusingServer('[TABLE_OR_VIEW_NOT_FOUND] something else', 1);
  await assert.rejects(startBarJob(session, options, 10_000), /TABLE_OR_VIEW_NOT_FOUND/);
  assert.equal(starts.filter((n) => n === 'tickstream-bars-store').length, 1);
});
