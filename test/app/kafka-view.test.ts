import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaView } from '../../src/app/kafka-view.ts';
import { statusLine } from '../../src/app/status-line.ts';
import { pipelineTopics, TOPICS, type KafkaProgress, type PipelineTopics } from '../../src/bus/index.ts';
import { PipelineStats } from '../../src/observability/index.ts';

/** A view over scripted readings: each poll takes the next one (an Error rejects), on a clock the test moves. */
function scripted(readings: (KafkaProgress | Error)[], groupId: string | null = 'tickstream-engine', topics?: PipelineTopics) {
  const clock = { now: 1_000_000 };
  const asked: { topics: readonly string[]; group: { readonly id: string; readonly topic: string } | undefined }[] = [];
  const view = new KafkaView({
    groupId,
    ...(topics === undefined ? {} : { topics }),
    stats: new PipelineStats(),
    now: () => clock.now,
    read: async (topics, group) => {
      asked.push({ topics, group });
      const next = readings.shift();
      if (next === undefined) throw new Error('no reading left in the script');
      if (next instanceof Error) throw next;
      return next;
    },
  });
  return { view, clock, asked };
}

function progress(trades: number, dlq: number, late: number, committed: number | null, lag: number | null): KafkaProgress {
  return { endOffsets: new Map([[TOPICS.trades, trades], [TOPICS.deadLetters, dlq], [TOPICS.late, late]]), committed, lag };
}

test('the Kafka view counts from its first reading and takes rates between the last two', async () => {
  const { view, clock, asked } = scripted([progress(1_000, 5, 2, 900, 100), progress(3_000, 7, 2, 1_500, 1_500), progress(6_000, 10, 3, 5_500, 500)]);
  assert.deepEqual(view.stats(), { counts_from: 'kafka', kafka_view: { topic: 'market.trades', group: 'tickstream-engine', error: null, age_s: null } }, 'nothing to show before a reading');
  await view.poll();
  assert.deepEqual(asked[0], { topics: [TOPICS.trades, TOPICS.deadLetters, TOPICS.late], group: { id: 'tickstream-engine', topic: TOPICS.trades } });
  const first = view.stats();
  assert.equal(first.received, 0);
  assert.equal(first.log_lag, 100);
  assert.equal(first.rates?.received_per_s, 0, 'one reading has no rate');
  clock.now += 2_000;
  await view.poll();
  clock.now += 500;
  await view.poll();
  const s = view.stats();
  assert.equal(s.received, 5_000, 'records appended to market.trades since the first reading');
  assert.equal(s.invalid, 5);
  assert.equal(s.late, 1);
  assert.equal(s.processed, 4_600);
  assert.equal(s.log_lag, 500);
  assert.deepEqual(s.rates, { received_per_s: 6_000, processed_per_s: 8_000, bars_per_s: 0 }, 'rates over the last 0.5 s');
  assert.deepEqual(s.kafka_view, { topic: 'market.trades', group: 'tickstream-engine', error: null, age_s: 0 });
});

test('the view reads the topics of the configured trades topic and names it', async () => {
  const mine = pipelineTopics('crypto.trades');
  const reading = (trades: number, dlq: number, late: number): KafkaProgress => ({
    endOffsets: new Map([[mine.trades, trades], [mine.deadLetters, dlq], [mine.late, late], [TOPICS.trades, 999_999]]),
    committed: trades,
    lag: 0,
  });
  const { view, clock, asked } = scripted([reading(100, 1, 0), reading(400, 3, 1)], 'crypto-engine', mine);
  await view.poll();
  clock.now += 1_000;
  await view.poll();
  assert.deepEqual(asked[0], { topics: ['crypto.trades', 'crypto.trades.dlq', 'crypto.trades.late'], group: { id: 'crypto-engine', topic: 'crypto.trades' } });
  const s = view.stats();
  assert.equal(s.kafka_view.topic, 'crypto.trades');
  assert.equal(s.received, 300);
  assert.equal(s.invalid, 2);
  assert.equal(s.late, 1);
});

test('a group that has committed nothing has no lag to show (null, not 0)', async () => {
  const { view, clock } = scripted([progress(10, 0, 0, null, null), progress(20, 0, 0, null, null)]);
  await view.poll();
  clock.now += 1_000;
  await view.poll();
  const s = view.stats();
  assert.equal(s.log_lag, null);
  assert.equal(s.processed, 0);
  assert.equal(s.rates?.processed_per_s, 0);
  assert.equal(s.rates?.received_per_s, 10);
});

test('a topic deleted and created again starts its offsets at 0: what the new log holds counts on, nothing goes back', async () => {
  const { view, clock } = scripted([progress(1_000, 4, 2, 1_000, 0), progress(3_000, 6, 2, 3_000, 0), progress(200, 0, 1, null, null), progress(700, 1, 1, null, null)]);
  await view.poll();
  clock.now += 1_000;
  await view.poll();
  clock.now += 1_000;
  await view.poll();
  const recreated = view.stats();
  assert.equal(recreated.received, 2_200, '2,000 on the old log, then the 200 of the new one');
  assert.equal(recreated.rates?.received_per_s, 200);
  assert.equal(recreated.invalid, 2, 'the new dead-letter topic holds nothing yet');
  assert.equal(recreated.late, 1);
  assert.equal(recreated.processed, 2_000, 'the group has no offsets on the new log');
  clock.now += 1_000;
  await view.poll();
  const s = view.stats();
  assert.equal(s.received, 2_700);
  assert.equal(s.invalid, 3);
  assert.equal(s.rates?.received_per_s, 500);
});

test('a group that first commits after the view started counts from its first commit', async () => {
  const { view, clock } = scripted([progress(100, 0, 0, null, null), progress(600, 0, 0, 500, 100), progress(1_000, 0, 0, 900, 100)]);
  await view.poll();
  clock.now += 1_000;
  await view.poll();
  assert.equal(view.stats().processed, 0, 'where a new group starts reading is not known');
  clock.now += 1_000;
  await view.poll();
  assert.equal(view.stats().processed, 400);
  assert.equal(view.stats().rates?.processed_per_s, 400);
});

test('when Kafka does not answer, the view keeps its last reading and says why and how old it is, until Kafka answers again', async () => {
  const { view, clock } = scripted([progress(100, 0, 0, 100, 0), new Error('Kafka did not answer reading the progress of group tickstream-engine: connect ECONNREFUSED'), progress(400, 0, 0, 400, 0)]);
  await view.poll();
  clock.now += 3_000;
  await view.poll();
  const down = view.stats();
  assert.deepEqual(down.kafka_view, { topic: 'market.trades', group: 'tickstream-engine', error: 'Kafka did not answer reading the progress of group tickstream-engine: connect ECONNREFUSED', age_s: 3 });
  assert.equal(down.received, 0, 'the last reading stays');
  clock.now += 1_000;
  await view.poll();
  const back = view.stats();
  assert.equal(back.kafka_view.error, null);
  assert.equal(back.received, 300);
});

test('a poll while one is under way waits for it instead of asking Kafka twice', async () => {
  const { view, asked } = scripted([progress(1, 0, 0, null, null)]);
  await Promise.all([view.poll(), view.poll()]);
  assert.equal(asked.length, 1);
  await view.close();
});

test("a serve role's status line gives Kafka's counts, says where they come from, and leaves out the latency it does not measure", async () => {
  const { view, clock } = scripted([progress(1_000, 0, 0, 1_000, 0), progress(3_000, 4, 1, 2_500, 500), new Error('ECONNREFUSED')]);
  const own = new PipelineStats();
  await view.poll();
  clock.now += 1_000;
  await view.poll();
  const line = statusLine(own, { kind: 'simulator', state: 'elsewhere', detail: '' }, { nowMs: clock.now, view: view.stats() });
  assert.equal(line, 'simulator elsewhere · from Kafka · in 2,000/s · processed 1,500/s · lag 500 · late 1 · invalid 4');
  await view.poll();
  clock.now += 4_000;
  assert.match(statusLine(own, undefined, { nowMs: clock.now, view: view.stats() }), /^from Kafka, NOT ANSWERING \(last reading 4s ago\) · in 2,000\/s/);
});

test('under the Spark engine the view asks for no group (Spark keeps its offsets in its checkpoint) and has no lag to show', async () => {
  const { view, asked } = scripted([progress(10, 0, 0, null, null)], null);
  await view.poll();
  assert.deepEqual(asked[0], { topics: [TOPICS.trades, TOPICS.deadLetters, TOPICS.late], group: undefined });
  assert.equal(view.stats().kafka_view.group, null);
  assert.equal(view.stats().log_lag, null);
});
