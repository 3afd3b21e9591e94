import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SparkError } from '../../src/errors.ts';
import { silentLogger } from '../../src/observability/index.ts';
import {
  DataFrameReader,
  DataStreamReader,
  alias,
  col,
  fn,
  lit,
  window,
  type Command,
  type ExecutePlanResponse,
  type PlanRunner,
  type Relation,
} from '../../src/spark/index.ts';

const rate: Relation = { read: { is_streaming: true, data_source: { format: 'rate', options: { rowsPerSecond: '5' } } } };

test('readStream.format().option().load() is a streaming Read of a data source', () => {
  const df = new DataStreamReader(undefined).format('rate').option('rowsPerSecond', 5).load();
  assert.deepEqual(df.plan, rate);
  const batch = new DataFrameReader(undefined).format('parquet').schema('a INT').load('/data/x');
  assert.deepEqual(batch.plan, { read: { is_streaming: false, data_source: { format: 'parquet', schema: 'a INT', options: {}, paths: ['/data/x'] } } });
});

test('the bar query builds the expected plan tree, innermost relation first', () => {
  const df = new DataStreamReader(undefined)
    .format('rate')
    .option('rowsPerSecond', '5')
    .load()
    .selectExpr('timestamp AS ts', "'AAPL' AS symbol", 'CAST(value AS DOUBLE) AS price')
    .withWatermark('ts', '10 seconds')
    .groupBy('symbol', window('ts', '5 seconds'))
    .agg('min_by(price, ts) AS open', alias(fn('max', col('price')), 'high'), alias(fn('count', lit(1)), 'trade_count'));

  const expected: Relation = {
    aggregate: {
      input: {
        with_watermark: {
          input: {
            project: {
              input: rate,
              expressions: [
                { expression_string: { expression: 'timestamp AS ts' } },
                { expression_string: { expression: "'AAPL' AS symbol" } },
                { expression_string: { expression: 'CAST(value AS DOUBLE) AS price' } },
              ],
            },
          },
          event_time: 'ts',
          delay_threshold: '10 seconds',
        },
      },
      group_type: 'GROUP_TYPE_GROUPBY',
      grouping_expressions: [
        { expression_string: { expression: 'symbol' } },
        {
          unresolved_function: {
            function_name: 'window',
            arguments: [{ unresolved_attribute: { unparsed_identifier: 'ts' } }, { literal: { string: '5 seconds' } }],
          },
        },
      ],
      aggregate_expressions: [
        { expression_string: { expression: 'min_by(price, ts) AS open' } },
        { alias: { expr: { unresolved_function: { function_name: 'max', arguments: [{ unresolved_attribute: { unparsed_identifier: 'price' } }] } }, name: ['high'] } },
        { alias: { expr: { unresolved_function: { function_name: 'count', arguments: [{ literal: { integer: 1 } }] } }, name: ['trade_count'] } },
      ],
    },
  };
  assert.deepEqual(df.plan, expected);
});

test('builders are immutable: a derived frame or writer leaves its parent as it was', () => {
  const base = new DataStreamReader(undefined).format('rate').load();
  const before = structuredClone(base.plan);
  base.selectExpr('value');
  assert.deepEqual(base.plan, before);
  const writer = base.writeStream.format('memory');
  writer.option('a', '1');
  assert.deepEqual(writer.toCommand().options, {});
});

test('writeStream carries format, options, trigger, output mode and query name into the start command', () => {
  const command = new DataStreamReader(undefined)
    .format('rate')
    .option('rowsPerSecond', '5')
    .load()
    .writeStream.format('memory')
    .option('checkpointLocation', '/tmp/chk')
    .outputMode('update')
    .trigger({ processingTime: '1 second' })
    .queryName('bars')
    .toCommand();
  assert.deepEqual(command, {
    input: rate,
    format: 'memory',
    options: { checkpointLocation: '/tmp/chk' },
    processing_time_interval: '1 second',
    output_mode: 'update',
    query_name: 'bars',
  });
  const once = new DataStreamReader(undefined).load().writeStream.trigger({ availableNow: true }).toCommand('/out');
  assert.equal((once as { path?: string }).path, '/out');
  assert.equal((once as { available_now?: boolean }).available_now, true);
});

test('collect() or start() on a frame without a session says what is missing', async () => {
  const df = new DataStreamReader(undefined).format('rate').load();
  await assert.rejects(df.collect(), SparkError);
  await assert.rejects(df.writeStream.start(), /needs a Spark Connect session/);
});

/** A runner that answers commands from a script and records what was sent. */
function scriptedRunner(answer: (command: Command) => ExecutePlanResponse[] | Error): PlanRunner & {
  sent: Command[];
  holds: string[];
} {
  const sent: Command[] = [];
  const holds: string[] = [];
  return {
    sent,
    holds,
    logger: silentLogger,
    executeRelation: async () => [],
    executeCommand: async (command) => {
      sent.push(command);
      const a = answer(command);
      if (a instanceof Error) throw a;
      return a;
    },
    holdSession: (reason) => {
      holds.push(reason);
      return () => {
        holds.splice(holds.indexOf(reason), 1);
      };
    },
  };
}

const activeAnswer = (queries: { id: string; run_id: string; name?: string }[]): ExecutePlanResponse[] => [
  { streaming_query_manager_command_result: { active: { active_queries: queries.map((q) => ({ id: { id: q.id, run_id: q.run_id }, ...(q.name ? { name: q.name } : {}) })) } } },
];

test('start() attaches to an active query of the same name instead of starting it again', async () => {
  const runner = scriptedRunner((c) => {
    if ('streaming_query_manager_command' in c) return activeAnswer([{ id: 'q1', run_id: 'r1', name: 'bars' }]);
    return new Error('a start must not be sent');
  });
  const df = new DataStreamReader(runner).format('rate').load();
  const query = await df.writeStream.format('memory').queryName('bars').start();
  assert.equal(query.id, 'q1');
  assert.equal(query.runId, 'r1');
  assert.equal(runner.sent.length, 1);
  assert.ok('streaming_query_manager_command' in runner.sent[0]!);
  assert.equal(runner.holds.length, 1, 'the attached query keeps the session alive');
});

test('start() sends one start when no query of that name is active, and the handle holds the session until stop()', async () => {
  const runner = scriptedRunner((c) => {
    if ('streaming_query_manager_command' in c) return activeAnswer([{ id: 'other', run_id: 'r0', name: 'other' }]);
    if ('write_stream_operation_start' in c) {
      return [{ write_stream_operation_start_result: { query_id: { id: 'q2', run_id: 'r2' }, name: 'bars' } }];
    }
    return [{ streaming_query_command_result: { query_id: { id: 'q2', run_id: 'r2' } } }];
  });
  const query = await new DataStreamReader(runner).format('rate').load().writeStream.format('memory').queryName('bars').start();
  assert.deepEqual([query.id, query.runId, query.name], ['q2', 'r2', 'bars']);
  assert.equal(runner.sent.filter((c) => 'write_stream_operation_start' in c).length, 1);
  assert.equal(runner.holds.length, 1);
  await query.stop();
  assert.deepEqual(runner.sent.at(-1), { streaming_query_command: { query_id: { id: 'q2', run_id: 'r2' }, stop: true } });
  assert.equal(runner.holds.length, 0, 'stop() releases the session');
});

test('a start that failed in transit is not re-sent: the active list decides', async () => {
  let starts = 0;
  let listed = 0;
  const runner = scriptedRunner((c) => {
    if ('write_stream_operation_start' in c) {
      starts++;
      return new SparkError('Spark Connect ExecutePlan failed (UNAVAILABLE): connection reset', { canRetry: true });
    }
    listed++;
    // Before the start nothing runs; afterwards the server shows the query did start.
    return activeAnswer(listed === 1 ? [] : [{ id: 'q3', run_id: 'r3', name: 'bars' }]);
  });
  const query = await new DataStreamReader(runner).load().writeStream.queryName('bars').start();
  assert.equal(query.id, 'q3');
  assert.equal(starts, 1);

  const failing = scriptedRunner((c) =>
    'write_stream_operation_start' in c ? new SparkError('[STREAM_FAILED] bad option', { canRetry: false }) : activeAnswer([]),
  );
  await assert.rejects(new DataStreamReader(failing).load().writeStream.queryName('bars').start(), /STREAM_FAILED/);
  assert.equal(failing.sent.filter((c) => 'write_stream_operation_start' in c).length, 1);
  assert.equal(failing.holds.length, 0);
});
