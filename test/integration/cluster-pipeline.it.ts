import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startRoles, statusLine } from '../../src/app/index.ts';
import { KafkaConsole, KafkaSideLog, pipelineTopics, TOPICS, tradeTopicNames } from '../../src/bus/index.ts';
import { snapshotStats } from '../../src/observability/index.ts';
import { stackDown, stackUp } from '../../src/stack/index.ts';
import type { StatsWire } from '../../web/src/api.ts';
import { storedTradeCount } from '../support/bars.ts';
import { logEnd } from '../support/kafka-offsets.ts';
import { relay } from '../support/tcp-relay.ts';
import { topicValues } from '../support/topic-values.ts';
import { until } from '../support/until.ts';
import {
  assertExactBars,
  clusterConfig,
  clusterRun,
  describeGroup,
  pacedReplay,
  assertExactAfterKill,
  PROCESS,
  PRODUCE,
  produceFile,
  roles,
  RUN,
  SERVE,
  SETTLE_MS,
  storeOf,
  waitForStored,
  type GroupView,
} from './cluster-support.ts';
import { ensureStack, integrationStackOptions } from './stack-fixture.ts';

test('simulator → Kafka → engine: the stored bars equal the embedded run on the same seeded input', { timeout: 300_000 }, async (t) => {
  const stack = await ensureStack(['kafka']);
  if (!stack) return t.skip('Java or Maven missing');
  const { symbols, input, config } = await clusterRun(t, 'once', 'A', [20_000], 11);

  await produceFile(t, config, input.file, input.trades.length);
  const engine = await roles(t, config, PROCESS);
  const store = storeOf(engine);
  await waitForStored(store, symbols, input.trades.length, 'the engine');
  await engine.flush();
  assert.equal(engine.stats.late, 0, 'no trade of the seeded input is late');
  await assertExactBars(t, store, config, input, symbols);
});

test('two engines in one group split the partitions; when one stops the other takes them over and the bars stay exact', { timeout: 300_000 }, async (t) => {
  const stack = await ensureStack(['kafka']);
  if (!stack) return t.skip('Java or Maven missing');
  // Both engines use one data dir, hence one SQLite file (WAL allows both connections): the
  // checkpoint one engine saves on revoke is what the other resumes from.
  const { partitions, symbols, input, groupId, config } = await clusterRun(t, 'group', 'B', [10_000, 10_000], 12);
  const [first, second] = input.parts;

  const a = await roles(t, config, PROCESS);
  const b = await roles(t, config, PROCESS);
  let view: GroupView = { state: '', members: [] };
  await until(
    async () => {
      view = await describeGroup(config, groupId);
      return view.state === 'STABLE' && view.members.length === 2 && view.members.every((m) => m.length > 0);
    },
    `both engines to own partitions (${JSON.stringify(view)})`,
    60_000,
    200,
  );
  assert.deepEqual(view.members.flat().sort((x, y) => x - y), Array.from({ length: partitions }, (_, p) => p), 'each partition owned once');

  const half = input.trades.length / 2;
  await produceFile(t, config, first!, half);
  const store = storeOf(a);
  await waitForStored(store, symbols, half, 'the first half, read by both engines');
  assert.ok(a.stats.processed > 0 && b.stats.processed > 0, `both engines processed trades (a ${a.stats.processed}, b ${b.stats.processed})`);

  await b.close();
  await until(
    async () => {
      view = await describeGroup(config, groupId);
      return view.state === 'STABLE' && view.members.length === 1 && view.members[0]?.length === partitions;
    },
    `the remaining engine to own every partition (${JSON.stringify(view)})`,
    60_000,
    200,
  );
  const before = a.stats.processed;
  await produceFile(t, config, second!, half);
  await waitForStored(store, symbols, input.trades.length, 'the second half, read by the remaining engine');
  assert.ok(a.stats.processed - before >= half, 'the remaining engine read the whole second half');
  await a.flush();
  await assertExactBars(t, store, config, input, symbols);
});

test('a broker restart mid-stream: the producer spools, and the stored bars are exact with no trade lost or counted twice', { timeout: 400_000 }, async (t) => {
  const stack = await ensureStack(['kafka']);
  if (!stack) return t.skip('Java or Maven missing');
  const stackOptions = integrationStackOptions();
  const count = 20_000;
  const { symbols, input, config } = await clusterRun(t, 'restart', 'C', [count], 13);

  // Spread over about 20 s, so the broker goes down mid-stream.
  const source = pacedReplay(input, 20_000);
  const set = await roles(t, config, { produce: true, process: true, serve: false }, source);
  const store = storeOf(set);
  await waitForStored(store, symbols, count / 10, 'the first trades before the restart');

  t.after(() => stackUp('kafka', stackOptions));
  await stackDown('kafka', stackOptions);
  let spooled = 0;
  await until(
    () => (spooled = Math.max(spooled, set.stats.spoolDepth)) > 0,
    'trades to wait in the spool while the broker is down',
    30_000,
  );
  assert.notEqual(source.status().state, 'finished', 'the broker went down mid-stream');
  await stackUp('kafka', stackOptions);

  await source.finished();
  await waitForStored(store, symbols, count, 'every trade after the restart');
  await until(() => set.stats.spoolDepth === 0, 'the spool to drain', SETTLE_MS);
  await set.flush();
  assert.equal(snapshotStats(set.stats).engine_state, 'ok', 'the engine runs');
  assert.equal(set.stats.late, 0, 'no trade of the seeded input is late');
  // A duplicate would show up as one more stored trade; give one the time to arrive.
  await until(async () => (await storedTradeCount(store, symbols)) > count, 'no extra trade', 2_000, 200).catch(() => {});
  await assertExactBars(t, store, config, input, symbols);
});

test('a producer started while Kafka is down runs on, spools the source, and sends it once Kafka is up; the bars are exact', { timeout: 400_000 }, async (t) => {
  const stack = await ensureStack(['kafka']);
  if (!stack) return t.skip('Java or Maven missing');
  const stackOptions = integrationStackOptions();
  const count = 10_000;
  const { dir, symbols, input, config } = await clusterRun(t, 'late-kafka', 'D', [count], 17);
  // Three lines that are no trades, early on, while Kafka is down: their dead letters must not
  // hold the source up until Kafka is back. They are kept on disk, then sent to market.trades.dlq.
  const tag = `${process.pid}-${Date.now()}`;
  const lines = readFileSync(input.file, 'utf8').trimEnd().split('\n');
  for (const at of [300, 200, 100]) lines.splice(at, 0, `not a trade ${at} ${tag}`);
  const withInvalid = join(dir, 'with-invalid.ndjson');
  writeFileSync(withInvalid, `${lines.join('\n')}\n`);

  t.after(() => stackUp('kafka', stackOptions));
  await stackDown('kafka', stackOptions);
  const source = pacedReplay({ ...input, file: withInvalid }, 15_000);
  const producer = await roles(t, config, PRODUCE, source);
  await until(() => producer.stats.spoolDepth > 0, 'trades to wait in the spool while Kafka is down', 30_000);
  // This process's own directory of side-topic entries Kafka has not taken.
  const unsentDir = join(dir, 'unsent', `${hostname()}-${process.pid}`);
  const kept = join(unsentDir, `${TOPICS.deadLetters}.ndjson`);
  await until(() => existsSync(kept) && readFileSync(kept, 'utf8').split('\n').length > 3, 'the dead letters kept on disk while Kafka is down', 30_000);
  assert.notEqual(source.status().state, 'finished', 'the source went on while Kafka was down');
  await stackUp('kafka', stackOptions);

  await source.finished();
  // Produced counts what Kafka or the spool has taken; the trades sent last may still be in flight.
  await until(() => producer.stats.produced === count && producer.stats.spoolDepth === 0, 'every trade sent to Kafka', SETTLE_MS);
  assert.equal(producer.stats.invalid, 3);
  const raws = async (): Promise<string[]> =>
    ((await topicValues(config.kafka.brokers, TOPICS.deadLetters)) as { raw?: string }[]).flatMap((l) => (l.raw?.endsWith(tag) ? [l.raw] : [])).sort();
  await until(async () => (await raws()).length >= 3 && readdirSync(unsentDir).every((f) => f === 'lock'), 'the kept dead letters sent to market.trades.dlq', SETTLE_MS, 200);
  assert.deepEqual(await raws(), [100, 200, 300].map((at) => `not a trade ${at} ${tag}`));
  const engine = await roles(t, config, PROCESS);
  const store = storeOf(engine);
  await waitForStored(store, symbols, count, 'every trade the producer spooled');
  await engine.flush();
  await assertExactBars(t, store, config, input, symbols);
});

test('tickstream run started while Kafka is down serves the dashboard, spools the source, and starts its engine once Kafka answers; the bars are exact', { timeout: 300_000 }, async (t) => {
  const stack = await ensureStack(['kafka']);
  if (!stack) return t.skip('Java or Maven missing');
  const count = 10_000;
  const { symbols, input, config } = await clusterRun(t, 'run-late-kafka', 'L', [count], 24);
  // The run's only way to Kafka is a relay, cut before it starts.
  const way = await relay(t, config.kafka.brokers[0] ?? '');
  await way.cut();
  const viaRelay = { ...config, kafka: { ...config.kafka, brokers: [`127.0.0.1:${way.port}`] } };
  const source = pacedReplay(input, 10_000);
  const set = await roles(t, viaRelay, { produce: true, process: true, serve: true }, source);
  await until(() => set.stats.spoolDepth > 0, 'trades to wait in the spool while Kafka is down', 30_000);
  const stats = await fetch(`${set.url ?? ''}/api/stats`);
  assert.equal(stats.status, 200, 'the dashboard answers while Kafka is down');
  const wire = (await stats.json()) as StatsWire;
  assert.ok((wire.spool_depth ?? 0) > 0, `the stats show the spool (${String(wire.spool_depth)}), which the dashboard raises as a banner`);
  assert.equal(wire.engine_state, 'waiting', 'the stats say the engine waits, which the dashboard raises as a banner');
  assert.equal(set.stats.processed, 0, 'the engine waits for Kafka');
  assert.notEqual(source.status().state, 'finished', 'the source went on while Kafka was down');
  await way.restore();

  await source.finished();
  const store = storeOf(set);
  await waitForStored(store, symbols, count, 'every trade once Kafka answers');
  await until(() => set.stats.spoolDepth === 0, 'the spool to drain', SETTLE_MS);
  await set.flush();
  assert.equal(set.stats.late, 0, 'no trade of the seeded input is late');
  await assertExactBars(t, store, config, input, symbols);
});

test('the trades topic deleted under a running engine: its status line and /api/stats say the topic is missing, naming it, not that Kafka does not answer', { timeout: 300_000 }, async (t) => {
  const stack = await ensureStack(['kafka']);
  if (!stack) return t.skip('Java or Maven missing');
  const own = pipelineTopics(`it-gone-topic-${RUN}.trades`);
  const count = 200;
  const { symbols, input, config } = await clusterRun(t, 'gone-topic', 'G', [count], 29, { 'kafka.topic': own.trades });
  const brokers = config.kafka.brokers;
  t.after(async () => {
    const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it' });
    for (const name of tradeTopicNames(own)) await kafka.deleteTopic(name).catch(() => false);
    await kafka.close();
  });
  await produceFile(t, config, input.file, count);
  const set = await roles(t, config, { produce: false, process: true, serve: true });
  await waitForStored(storeOf(set), symbols, count, 'the engine');

  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it' });
  t.after(() => kafka.close());
  assert.equal(await kafka.deleteTopic(own.trades), true);
  await until(() => set.stats.kafkaMissingTopic !== undefined, 'the engine to find its topic gone', 60_000, 100);
  const line = statusLine(set.stats, undefined, { roles: PROCESS });
  assert.match(line, new RegExp(` · TOPIC ${own.trades.replaceAll('.', '\\.')} MISSING \\d+s \\(Kafka answers: unknown topic\\), retrying`));
  assert.doesNotMatch(line, /NOT ANSWERING/);
  const wire = (await (await fetch(`${set.url ?? ''}/api/stats`)).json()) as StatsWire;
  assert.equal(wire.engine_state, 'waiting');
  assert.equal(wire.missing_topic, own.trades, 'the stats name the missing topic, which the dashboard raises as a banner');
});

test('a split deployment: the serve role shows the trades appended to Kafka, the engine group lag, and what the process role committed', { timeout: 300_000 }, async (t) => {
  const stack = await ensureStack(['kafka']);
  if (!stack) return t.skip('Java or Maven missing');
  const { symbols, input, config, groupId } = await clusterRun(t, 'serve-view', 'V', [3_000], 17);
  const total = input.trades.length;
  const serve = await roles(t, config, SERVE);
  type Stats = StatsWire & { processed?: number };
  const stats = async (): Promise<Stats> => (await (await fetch(`${serve.url}/api/stats`)).json()) as Stats;
  await until(async () => typeof (await stats()).kafka_view?.age_s === 'number', "the serve role's first reading of Kafka", 30_000, 100);
  const before = await stats();
  assert.equal(before.counts_from, 'kafka');
  assert.equal(before.kafka_view?.group, groupId);
  assert.equal(before.kafka_view?.error, null);
  assert.equal(before.received, 0);
  assert.equal(before.log_lag, 0, 'the fresh group sits at the log end');

  await produceFile(t, config, input.file, total);
  await until(async () => (await stats()).received === total, `the serve role to see ${total} trades appended`, SETTLE_MS, 100);
  assert.equal((await stats()).log_lag, total, 'nothing is processed yet: every trade is lag');

  const engine = await roles(t, config, PROCESS);
  await waitForStored(storeOf(engine), symbols, total, 'the engine');
  await until(
    async () => {
      const s = await stats();
      return s.log_lag === 0 && s.processed === total;
    },
    'the serve role to see the group commit every trade',
    SETTLE_MS,
    100,
  );
  const after = await stats();
  assert.equal(after.received, total);
  assert.equal(after.latency_ms.count, 0, 'latency is the process role\'s to measure');
});

test('a process role stops without reading its backlog first; the next start reads the rest and the bars are exact', { timeout: 300_000 }, async (t) => {
  const stack = await ensureStack(['kafka']);
  if (!stack) return t.skip('Java or Maven missing');
  // Far more than an engine reads in the moment between its start and its close.
  const count = 300_000;
  const { symbols, input, config } = await clusterRun(t, 'backlog', 'D', [count], 18);
  await produceFile(t, config, input.file, count);

  // Kafka keeps what is not read, so stopping does not wait for the engine to read it all.
  const first = await roles(t, config, PROCESS);
  await first.close();
  const second = await roles(t, config, PROCESS);
  const stored = await storedTradeCount(storeOf(second), symbols);
  assert.ok(stored < count, `the first engine stopped with a backlog left (it stored ${stored} of ${count})`);

  await waitForStored(storeOf(second), symbols, count, 'the second engine, from where the first stopped');
  await second.flush();
  await assertExactBars(t, storeOf(second), config, input, symbols);
});

test('a process role killed mid-stream (SIGKILL): the next engine resumes from the stored checkpoint and the bars are exact', { timeout: 300_000 }, async (t) => {
  const stack = await ensureStack(['kafka']);
  if (!stack) return t.skip('Java or Maven missing');
  await assertExactAfterKill(t, await clusterRun(t, 'crash', 'K', [20_000], 19));
});

test('a pipeline on a topic of its own (--kafka-topic): trades, dead letters and the counts use it and its side topics, market.trades gets nothing, and the bars are exact', { timeout: 300_000 }, async (t) => {
  const stack = await ensureStack(['kafka']);
  if (!stack) return t.skip('Java or Maven missing');
  const own = pipelineTopics(`it-own-topic-${RUN}.trades`);
  const count = 3_000;
  const { dir, symbols, input, config } = await clusterRun(t, 'own-topic', 'O', [count], 23, { 'kafka.topic': own.trades });
  const brokers = config.kafka.brokers;
  t.after(async () => {
    const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it' });
    for (const name of tradeTopicNames(own)) await kafka.deleteTopic(name).catch(() => false);
    await kafka.close();
  });
  const tag = `${process.pid}-${Date.now()}`;
  const lines = readFileSync(input.file, 'utf8').trimEnd().split('\n');
  lines.splice(100, 0, `not a trade ${tag}`);
  const withInvalid = join(dir, 'with-invalid.ndjson');
  writeFileSync(withInvalid, `${lines.join('\n')}\n`);
  const marketBefore = await logEnd(brokers);

  await produceFile(t, config, withInvalid, count);
  const ownEnd = [...(await logEnd(brokers, own.trades)).values()].reduce((sum, n) => sum + n, 0n);
  assert.equal(ownEnd, BigInt(count), 'every trade is in the topic of the config');
  const letters = (await topicValues(brokers, own.deadLetters)) as { raw?: string }[];
  assert.deepEqual(letters.map((l) => l.raw), [`not a trade ${tag}`], 'the dead letter went to <topic>.dlq');

  const serve = await roles(t, config, SERVE);
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${serve.url}${path}`)).json()) as T;
  type TopicRole = { role: string | null };
  assert.equal((await get<TopicRole>(`/api/kafka/topics/${own.trades}`)).role, 'trades');
  assert.equal((await get<TopicRole>(`/api/kafka/topics/${own.deadLetters}`)).role, 'dead_letters');
  assert.equal((await get<TopicRole>(`/api/kafka/topics/${own.late}`)).role, 'late', 'the side topics were made with the trades topic');
  assert.equal((await get<TopicRole>(`/api/kafka/topics/${TOPICS.trades}`)).role, null, 'market.trades is not this pipeline\'s');
  await until(async () => typeof (await get<StatsWire>('/api/stats')).kafka_view?.age_s === 'number', "the serve role's first reading of Kafka", 30_000, 100);
  assert.equal((await get<StatsWire>('/api/stats')).kafka_view?.topic, own.trades);

  // A record that is no trade at all, written straight into the trades topic: the engine dead-letters and counts it.
  const raw = new KafkaSideLog<Buffer>({ brokers, clientId: 'tickstream-it', topic: own.trades });
  await raw.append([Buffer.from(`not avro ${tag}`)]);
  await raw.close();

  const engine = await roles(t, config, PROCESS);
  const store = storeOf(engine);
  await waitForStored(store, symbols, count, 'the engine reading the topic of the config');
  await engine.flush();
  await assertExactBars(t, store, config, input, symbols);
  assert.deepEqual(await logEnd(brokers), marketBefore, 'market.trades got nothing');
  assert.equal(engine.stats.invalid, 1, 'the undecodable record is counted as invalid');
  assert.equal(((await topicValues(brokers, own.deadLetters)) as unknown[]).length, 2, 'and dead-lettered beside the invalid line');

  // The same group and data dir on another topic: the checkpoints are of the other log.
  await engine.close();
  const otherTopic = clusterConfig(dir, { symbols: symbols.join(','), 'kafka.groupId': config.kafka.groupId });
  assert.equal(otherTopic.kafka.topic, TOPICS.trades);
  await assert.rejects(startRoles(otherTopic, PROCESS), /was saved on another log \(topic id \S+, now \S+\): .*kafka\.topic names another topic now; start with a new --kafka-group-id/);
});
