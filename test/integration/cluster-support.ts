// Shared by the cluster-profile pipeline tests: seeded input, role sets, and the exact-bars checks.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';
import { openStore, startPipeline, startRoles, type RoleSet, type Roles } from '../../src/app/index.ts';
import { ensureTradeTopics, pipelineTopics } from '../../src/bus/index.ts';
import { loadConfig, type Config, type ConfigKey } from '../../src/config/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { epochMs, partitionOf, type Bar, type Trade } from '../../src/domain/index.ts';
import { parseReplayLine, ReplaySource, SimulatedMarket } from '../../src/source/index.ts';
import type { Store } from '../../src/store/store.ts';
import { assertBarsMatchTrades, storedBars, storedTradeCount, storedTrades } from '../support/bars.ts';
import { commitGroupOffsets, logEnd } from '../support/kafka-offsets.ts';
import { testGroup } from '../support/test-groups.ts';
import { until } from '../support/until.ts';

// The trades topic (market.trades, unless a test names its own) is shared, so each test keeps to
// itself with symbols of its own, a fresh consumer group placed at the log end, and its own data dir.
// Lateness is one hour in every run here: a trade someone else appends to the shared topic
// meanwhile must not move a partition's watermark past this test's trades.
export const LATENESS = '1h';
export const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`.toUpperCase();
export const PRODUCE: Roles = { produce: true, process: false, serve: false };
export const PROCESS: Roles = { produce: false, process: true, serve: false };
export const SERVE: Roles = { produce: false, process: false, serve: true };
export const SETTLE_MS = 120_000;

export function tempDir(t: TestContext, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tickstream-cluster-${name}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function clusterConfig(dataDir: string, flags: Partial<Record<ConfigKey, string>>): Config {
  return loadConfig({
    env: process.env,
    flags: { profile: 'cluster', store: 'sqlite', dataDir, port: '0', flushInterval: '50ms', lateness: LATENESS, logLevel: 'silent', ...flags },
  });
}

/** Symbol names of this run, `perPartition` of them in each partition of the topic. */
export function symbolsCovering(partitions: number, perPartition: number, tag: string): string[] {
  const counts = new Array<number>(partitions).fill(0);
  const out: string[] = [];
  for (let i = 0; out.length < partitions * perPartition; i++) {
    if (i > 100_000) throw new Error('no symbol names cover every partition');
    const symbol = `IT${tag}${RUN}N${i}`;
    const p = partitionOf(symbol, partitions);
    if ((counts[p] ?? 0) >= perPartition) continue;
    counts[p] = (counts[p] ?? 0) + 1;
    out.push(symbol);
  }
  return out;
}

export interface SeededInput {
  /** The NDJSON file of every trade, and one per part (the parts concatenated are the whole). */
  readonly file: string;
  readonly parts: readonly string[];
  /** The trades as the replay parses them (ingestTs 0). */
  readonly trades: readonly Trade[];
}

/** Seeded trades of the simulated market, event time from now, as replay files. */
export function seededInput(dir: string, symbols: readonly string[], partSizes: readonly number[], seed: number): SeededInput {
  const market = new SimulatedMarket({ seed, symbols, rate: 0, disorderMs: 250, startTs: Date.now() });
  const lines: string[] = [];
  const parts: string[] = [];
  for (const [i, size] of partSizes.entries()) {
    const part: string[] = [];
    for (let n = 0; n < size; n++) {
      const t = market.next();
      if (t === undefined) throw new Error('the market has no symbols');
      part.push(JSON.stringify({ symbol: t.s, price: t.p, volume: t.v, ts: t.t, conditions: t.c ?? [] }));
    }
    const path = join(dir, `part-${i}.ndjson`);
    writeFileSync(path, `${part.join('\n')}\n`);
    parts.push(path);
    for (const line of part) lines.push(line);
  }
  const file = join(dir, 'all.ndjson');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const trades = lines.map((line) => {
    const parsed = parseReplayLine(line, epochMs(0));
    const trade = parsed.trades[0];
    if (trade === undefined) throw new Error(`seeded line did not parse: ${parsed.invalid[0]?.reason}`);
    return trade;
  });
  return { file, parts, trades };
}

export interface ClusterRun {
  readonly dir: string;
  readonly partitions: number;
  readonly symbols: string[];
  readonly input: SeededInput;
  readonly groupId: string;
  readonly config: Config;
}

/**
 * One test's setup: a data dir, two symbols of its own per partition of the trades topic, the
 * seeded input in parts of `partSizes`, a fresh group at the log end, and the cluster config
 * for them (plus `flags`, which may name another `kafka.topic`).
 */
export async function clusterRun(
  t: TestContext,
  name: string,
  tag: string,
  partSizes: readonly number[],
  seed: number,
  flags: Partial<Record<ConfigKey, string>> = {},
): Promise<ClusterRun> {
  const dir = tempDir(t, name);
  const probe = clusterConfig(dir, flags);
  const groupId = await freshGroupAtLogEnd(probe, name);
  const partitions = await topicPartitionCount(probe);
  const symbols = symbolsCovering(partitions, 2, tag);
  const input = seededInput(dir, symbols, partSizes, seed);
  const config = clusterConfig(dir, { symbols: symbols.join(','), 'kafka.groupId': groupId, ...flags });
  return { dir, partitions, symbols, input, groupId, config };
}

/** A fresh consumer group whose committed offsets are the current end of the config's trades topic (made first if missing). */
export async function freshGroupAtLogEnd(config: Config, name: string): Promise<string> {
  const { brokers, topic } = config.kafka;
  const groupId = testGroup(brokers, `it-cluster-${name}-${RUN}`);
  await ensureTradeTopics(
    { brokers, clientId: config.kafka.clientId },
    { partitions: config.kafka.topicPartitions, retentionMs: config.kafka.retention },
    pipelineTopics(topic),
  );
  await commitGroupOffsets(brokers, groupId, await logEnd(brokers, topic), topic);
  return groupId;
}

export async function topicPartitionCount(config: Config): Promise<number> {
  return (await logEnd(config.kafka.brokers, config.kafka.topic)).size;
}

export async function roles(t: TestContext, config: Config, which: Roles, source?: ReplaySource): Promise<RoleSet> {
  const set = await startRoles(config, which, source === undefined ? {} : { source });
  t.after(() => set.close());
  return set;
}

export function storeOf(set: RoleSet): Store {
  if (set.store === undefined) throw new Error('a process role set has a store');
  return set.store;
}

/** A replay of the whole input that keeps the gaps between event times, slowed down to span about `spanMs`. */
export function pacedReplay(input: SeededInput, spanMs: number): ReplaySource {
  const first = input.trades[0]?.ts ?? 0;
  const span = Math.max(...input.trades.map((tr) => tr.ts)) - first;
  return new ReplaySource({ file: input.file, speed: span / spanMs });
}

/** Replays a file through a produce-only role set and closes it once Kafka (or the spool) has every trade. */
export async function produceFile(t: TestContext, config: Config, file: string, count: number): Promise<void> {
  const source = new ReplaySource({ file, speed: 0 });
  const producer = await roles(t, config, PRODUCE, source);
  await source.finished();
  await until(() => producer.stats.produced >= count, `${count} trades produced`, SETTLE_MS);
  await producer.close();
  assert.equal(producer.stats.produced, count, 'every replayed trade was produced');
}

/**
 * The same input through the embedded profile (in-process log, no Kafka): the bars the
 * cluster run must reproduce exactly.
 */
export async function embeddedBars(t: TestContext, input: SeededInput, symbols: readonly string[]): Promise<Bar[]> {
  const dataDir = tempDir(t, 'embedded');
  const config = loadConfig({
    env: {},
    cwd: dataDir,
    flags: { dataDir, port: '0', symbols: symbols.join(','), flushInterval: '50ms', lateness: LATENESS, logLevel: 'silent' },
  });
  const source = new ReplaySource({ file: input.file, speed: 0 });
  const pipeline = await startPipeline(config, { source });
  t.after(() => pipeline.close());
  await source.finished();
  await until(() => pipeline.stats.tradesStored + pipeline.stats.late >= input.trades.length, 'the embedded run to store every trade', SETTLE_MS);
  await pipeline.flush();
  assert.equal(pipeline.stats.late, 0, 'no trade of the seeded input is late');
  const bars = await storedBars(pipeline.store, symbols, config.intervals);
  await pipeline.close();
  return bars;
}

/** Each input trade is stored exactly once, in its symbol's input order. */
export async function assertEveryTradeOnce(store: Store, symbols: readonly string[], input: readonly Trade[]): Promise<void> {
  const fields = (t: Trade) => ({ symbol: t.symbol, price: t.price, volume: t.volume, ts: t.ts, conditions: [...t.conditions] });
  for (const [symbol, stored] of await storedTrades(store, symbols)) {
    const want = input.filter((t) => t.symbol === symbol).map(fields);
    assert.equal(stored.length, want.length, `${symbol}: stored trade count`);
    assert.equal(new Set(stored.map((s) => s.seq)).size, stored.length, `${symbol}: one trade per offset`);
    assert.deepEqual(stored.map((s) => fields(s.trade)), want, `${symbol}: stored trades are the input, in order`);
  }
}

/** The end state every test checks: all trades once, bars equal to batchBars and to the embedded run. */
export async function assertExactBars(t: TestContext, store: Store, config: Config, input: SeededInput, symbols: readonly string[]): Promise<void> {
  await assertEveryTradeOnce(store, symbols, input.trades);
  assert.equal(await assertBarsMatchTrades(store, symbols, config.intervals), input.trades.length);
  const cluster = await storedBars(store, symbols, config.intervals);
  assert.ok(cluster.length > 0, 'bars were stored');
  assert.deepEqual(cluster, await embeddedBars(t, input, symbols), 'the cluster run stores the bars of the embedded run');
}

export async function waitForStored(store: Store, symbols: readonly string[], count: number, what: string): Promise<void> {
  let last = 0;
  try {
    await until(async () => (last = await storedTradeCount(store, symbols)) >= count, `${what}: ${count} trades in the store`, SETTLE_MS, 100);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)} (last count ${last})`, { cause: error });
  }
}

export interface GroupView {
  readonly state: string;
  /** Partitions of the config's trades topic per member. */
  readonly members: number[][];
}

export async function describeGroup(config: Config, groupId: string): Promise<GroupView> {
  const admin = new Admin({ clientId: 'tickstream-it', bootstrapBrokers: [...config.kafka.brokers] });
  try {
    const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
    if (group === undefined) return { state: 'UNKNOWN', members: [] };
    const members = [...group.members.values()].map((m) => [...(m.assignments?.get(config.kafka.topic)?.partitions ?? [])].sort((a, b) => a - b));
    return { state: group.state, members };
  } finally {
    await admin.close().catch(() => {});
  }
}

/** The committed offsets of a consumer group on the config's trades topic (partitions without a commit are left out). */
export async function committedOffsets(config: Config, groupId: string): Promise<Map<number, bigint>> {
  const admin = new Admin({ clientId: 'tickstream-it', bootstrapBrokers: [...config.kafka.brokers] });
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const out = new Map<number, bigint>();
    for (const p of group?.topics.find((topic) => topic.name === config.kafka.topic)?.partitions ?? []) {
      if (p.committedOffset >= 0n) out.set(p.partitionIndex, p.committedOffset);
    }
    return out;
  } finally {
    await admin.close().catch(() => {});
  }
}

/**
 * `tickstream process` in a process of its own on the run's data dir, store and group, so that
 * it can die without a word; resolves once it has joined the group.
 */
async function processRoleChild(t: TestContext, run: ClusterRun): Promise<ReturnType<typeof spawn>> {
  const { config } = run;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const flags: Record<string, string> = {
    profile: 'cluster',
    store: config.store,
    'data-dir': run.dir,
    'metrics-port': '0',
    'status-interval': '0',
    'log-level': 'info',
    'kafka-brokers': config.kafka.brokers.join(','),
    'kafka-group-id': run.groupId,
    'cassandra-contact-points': config.cassandra.contactPoints.join(','),
    'cassandra-keyspace': config.cassandra.keyspace,
    symbols: run.symbols.join(','),
    'flush-interval': '50ms',
    lateness: LATENESS,
  };
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'process', ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v])];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  await until(() => log.includes('reading partitions') || child.exitCode !== null, 'the engine process to join the group', 120_000);
  assert.equal(child.exitCode, null, `the engine process runs: ${log}`);
  return child;
}

/**
 * A process role killed with SIGKILL a third of the way through a paced input, trades still
 * arriving; then the next engine, resuming from what the dead one stored, must end with every
 * trade once and the embedded run's bars.
 */
export async function assertExactAfterKill(t: TestContext, run: ClusterRun): Promise<void> {
  const { config, symbols, input } = run;
  const count = input.trades.length;
  const child = await processRoleChild(t, run);
  // Spread over about 20 s, so the engine dies mid-stream and the next one takes over.
  const source = pacedReplay(input, 20_000);
  await roles(t, config, PRODUCE, source);
  const reader = await openStore(config, { logger: silentLogger });
  t.after(() => reader.close());
  await until(async () => (await storedTradeCount(reader, symbols)) >= count / 3, 'the engine process to store a third of the trades', SETTLE_MS, 100);
  child.kill('SIGKILL');
  await once(child, 'exit');
  const stored = await storedTradeCount(reader, symbols);
  assert.ok(stored < count, `the engine died mid-stream (it had stored ${stored} of ${count})`);
  assert.notEqual(source.status().state, 'finished', 'trades were still arriving');

  const engine = await roles(t, config, PROCESS);
  await source.finished();
  await waitForStored(storeOf(engine), symbols, count, 'the next engine, from the checkpoint of the one that died');
  await engine.flush();
  assert.equal(engine.stats.late, 0, 'no trade of the seeded input is late');
  await assertExactBars(t, storeOf(engine), config, input, symbols);
}
