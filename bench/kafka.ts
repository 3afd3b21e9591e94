// The Kafka-path benchmark: seeded frames at full speed → Kafka → TS engine → SQLite, beside its
// floor, measured in the same run: a bare consumer reading the same records off the same topic and
// discarding them. Starts Kafka through the stack launcher when it is not running. The run uses
// topics of its own (tickstream-bench-<run>.trades, .dlq and .late), deleted at its end, so the
// pipeline's market.trades never gets its synthetic trades.
// Usage: npm run bench:kafka -- [--trades N] [--symbols N] [--latency-seconds S] [--latency-rate R] [--out file.json]
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';
import { startRoles, type RoleSet } from '../src/app/index.ts';
import { ensureTradeTopics, KafkaConsole, KafkaTradeConsumer, pipelineTopics, tradeTopicNames } from '../src/bus/index.ts';
import { loadConfig, type Config } from '../src/config/index.ts';
import { silentLogger } from '../src/observability/index.ts';
import { stackUp } from '../src/stack/index.ts';
import { commitGroupOffsets, deleteGroups, logEnd } from '../test/support/kafka-offsets.ts';
import { benchArgs } from './args.ts';
import { CpuMeter, type CpuUse } from './cpu.ts';
import { benchConfig } from './end-to-end.ts';
import { FrameSource } from './frame-source.ts';
import type { ProducerChildMessage, ProducerChildTask } from './kafka-producer.ts';
import { benchSymbols, INTERVALS, makeFrames, TRADES_PER_FRAME } from './frames.ts';
import { fmt, printTable, progress, rssSampler, until, writeReport } from './measure.ts';

const args = benchArgs('npm run bench:kafka', 'Measures the Kafka path end to end beside the raw consume rate of the same records and writes bench/results/kafka.json.');
const TRADES = args.trades;
const SYMBOL_COUNT = args.symbols;
const LATENCY_SECONDS = args.latencySeconds;
const LATENCY_RATE = args.latencyRate;
const WAIT_MS = 600_000;
const BIG_FRAME = 1_000;
const IN_FLIGHT = 64;
/** Trades of the unmeasured run before the first measured one. */
const WARMUP_TRADES = 200_000;

/** Where Kafka is and how the stack runs: the config file and TICKSTREAM_* variables, as for the CLI. */
const base: Config = loadConfig({ env: process.env });
const brokers = base.kafka.brokers;
const RUN = Date.now().toString(36);
/** This run's topics. */
const RUN_TOPICS = pipelineTopics(`tickstream-bench-${RUN}.trades`);
const TOPIC = RUN_TOPICS.trades;
/** The consumer groups of this run, deleted at its end so that runs do not pile up groups in the cluster. */
const runGroups: string[] = [];

/** The cluster profile on SQLite, reading in a group of its own; where Kafka is comes from the environment. */
function kafkaBenchConfig(dataDir: string, symbols: readonly string[], flushInterval: string, groupId: string): Config {
  return benchConfig(dataDir, symbols, flushInterval, { profile: 'cluster', store: 'sqlite', 'kafka.groupId': groupId, 'kafka.topic': TOPIC }, process.env);
}

/**
 * A consumer group of its own, placed at the given offsets: the topic holds the records of every
 * earlier measurement of this run, so each reader starts where its own records begin.
 */
async function groupAt(offsets: ReadonlyMap<number, bigint>, what: string): Promise<string> {
  const groupId = `tickstream-bench-${RUN}-${what}-${runGroups.length + 1}`;
  runGroups.push(groupId);
  await commitGroupOffsets(brokers, groupId, offsets, TOPIC);
  return groupId;
}

function recordsBetween(start: ReadonlyMap<number, bigint>, end: ReadonlyMap<number, bigint>): number {
  let n = 0;
  for (const [p, e] of end) n += Number(e - (start.get(p) ?? e));
  return n;
}

interface KafkaRunResult {
  trades: number;
  seconds: number;
  tradesPerS: number;
  /** The source's own rate: trades acknowledged by Kafka (or spooled) per second while it played. */
  producedPerS: number;
  barsStored: number;
  late: number;
  spoolPeak: number;
  rssPeakMb: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  cpu: CpuCost;
}

/** CPU a run used, in core-microseconds per trade (or record): this process (with its threads and child processes) and the broker. */
interface CpuCost {
  readonly benchUsPerTrade: number | null;
  readonly kafkaUsPerTrade: number | null;
}

/** Meters this process (and its children) and the broker from now until stop. */
function cpuMeter(): CpuMeter {
  return new CpuMeter([
    { name: 'bench', pids: [process.pid] },
    { name: 'kafka', pids: kafkaPid === undefined ? [] : [kafkaPid] },
  ]);
}

function cpuCost(use: CpuUse, seconds: number, trades: number): CpuCost {
  const perTrade = (pct: number | null | undefined): number | null => (pct === null || pct === undefined || trades === 0 ? null : ((pct / 100) * seconds * 1e6) / trades);
  return { benchUsPerTrade: perTrade(use['bench']), kafkaUsPerTrade: perTrade(use['kafka']) };
}

const totalUs = (c: CpuCost): number | null => (c.benchUsPerTrade === null || c.kafkaUsPerTrade === null ? null : c.benchUsPerTrade + c.kafkaUsPerTrade);

interface Ranged<T> {
  readonly result: T;
  /** The topic's end offsets before and after the run: this run's records lie between. */
  readonly start: ReadonlyMap<number, bigint>;
  readonly end: ReadonlyMap<number, bigint>;
}

/**
 * Produce and process roles in one process, as `tickstream run --profile cluster` runs them.
 * Time runs from the first frame until the last trade and its bars are stored.
 */
async function kafkaEndToEnd(
  frames: readonly string[],
  symbols: readonly string[],
  options: { flushInterval: string; tradesPerFrame?: number; inFlight?: number; rate?: number; maxMs?: number },
): Promise<Ranged<KafkaRunResult>> {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-bench-kafka-'));
  try {
    const start = await logEnd(brokers, TOPIC);
    const groupId = await groupAt(start, 'engine');
    const cpu = cpuMeter();
    const source = new FrameSource(frames, {
      tradesPerFrame: options.tradesPerFrame ?? TRADES_PER_FRAME,
      ...(options.inFlight === undefined ? {} : { inFlight: options.inFlight }),
      ...(options.rate === undefined ? {} : { rate: options.rate }),
      ...(options.maxMs === undefined ? {} : { maxMs: options.maxMs }),
    });
    const set = await startRoles(
      kafkaBenchConfig(dir, symbols, options.flushInterval, groupId),
      { produce: true, process: true, serve: false },
      { logger: silentLogger, source },
    );
    const rss = rssSampler();
    let spoolPeak = 0;
    const spoolTimer = setInterval(() => (spoolPeak = Math.max(spoolPeak, set.stats.spoolDepth)), 100);
    await source.finished();
    const delivered = source.counters.received;
    await until(() => set.stats.produced >= delivered, WAIT_MS, 'Kafka to take every trade');
    await storedAll(set, delivered);
    const seconds = (performance.now() - source.startedAt) / 1000;
    clearInterval(spoolTimer);
    const result = runResult(set, delivered, seconds, (source.endedAt - source.startedAt) / 1000, spoolPeak, rss.stop(), cpuCost(cpu.stop(), seconds, delivered));
    await set.close();
    return { result, start, end: await logEnd(brokers, TOPIC) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A run's figures: `seconds` end to end, `producingSeconds` while the source played until Kafka took its trades. */
function runResult(set: RoleSet, trades: number, seconds: number, producingSeconds: number, spoolPeak: number, rssPeakMb: number, cpu: CpuCost): KafkaRunResult {
  const s = set.stats;
  return {
    trades,
    seconds,
    tradesPerS: trades / seconds,
    producedPerS: trades / producingSeconds,
    barsStored: s.barsStored,
    late: s.late,
    spoolPeak,
    rssPeakMb,
    latencyP50Ms: s.latency.quantile(0.5),
    latencyP99Ms: s.latency.quantile(0.99),
    cpu,
  };
}

/**
 * Waits until the engine has read `trades` and the store holds them all. Like the embedded
 * path (and `replay --exit`), the end of the input is flushed at once instead of at the next
 * flush tick, which would add up to a whole flush interval to a run of a few seconds.
 */
async function storedAll(set: RoleSet, trades: number): Promise<void> {
  await until(() => set.stats.processed >= trades, WAIT_MS, 'the engine to read every trade');
  await set.flush();
  await until(() => set.stats.tradesStored + set.stats.late >= trades, WAIT_MS, 'the store to hold every trade');
}

/**
 * The produce role in a process of its own (bench/kafka-producer.ts), as `tickstream produce`
 * and `tickstream process` run as two services, and the process role here. Time runs from the
 * child's first frame until the last trade and its bars are stored here.
 */
async function kafkaTwoProcesses(symbolCount: number, tradesPerFrame: number): Promise<Ranged<KafkaRunResult>> {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-bench-kafka-'));
  const task: ProducerChildTask = { trades: TRADES, symbols: symbolCount, tradesPerFrame, startTs: Date.now(), topic: TOPIC };
  const child = fork(fileURLToPath(new URL('./kafka-producer.ts', import.meta.url)), [JSON.stringify(task)], {
    execArgv: ['--import', 'tsx'],
    env: process.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = childMessages(child);
  try {
    const start = await logEnd(brokers, TOPIC);
    const groupId = await groupAt(start, 'split');
    if ((await next()).type !== 'ready') throw new Error('the producer process did not get ready');
    const set = await startRoles(kafkaBenchConfig(dir, benchSymbols(symbolCount), '1s', groupId), { produce: false, process: true, serve: false }, { logger: silentLogger });
    try {
      const rss = rssSampler();
      const cpu = cpuMeter();
      child.send('go');
      const done = await next();
      if (done.type !== 'done') throw new Error(done.type === 'failed' ? `the producer process failed: ${done.message}` : 'the producer process said nothing');
      await storedAll(set, done.delivered);
      const seconds = (performance.timeOrigin + performance.now() - done.startedAt) / 1000;
      // The spool lives in the child; its producer reports no depth here.
      const result = runResult(set, done.delivered, seconds, (done.ackedAt - done.startedAt) / 1000, 0, rss.stop(), cpuCost(cpu.stop(), seconds, done.delivered));
      return { result, start, end: await logEnd(brokers, TOPIC) };
    } finally {
      await set.close();
    }
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The child's messages in order; a child that exits first rejects the wait. */
function childMessages(child: ChildProcess): () => Promise<ProducerChildMessage> {
  const queue: ProducerChildMessage[] = [];
  let waiting: { resolve: (m: ProducerChildMessage) => void; reject: (e: Error) => void } | undefined;
  let exited: Error | undefined;
  child.on('message', (m: ProducerChildMessage) => {
    if (waiting === undefined) queue.push(m);
    else waiting.resolve(m);
    waiting = undefined;
  });
  child.once('exit', (code) => {
    exited = new Error(`the producer process exited (code ${code}) before it answered`);
    waiting?.reject(exited);
  });
  return () => {
    const m = queue.shift();
    if (m !== undefined) return Promise.resolve(m);
    if (exited !== undefined) return Promise.reject(exited);
    return new Promise((resolve, reject) => (waiting = { resolve, reject }));
  };
}

/** The process role alone over records already in the topic: Kafka → engine → SQLite, no producer in the way. */
async function processOnly(symbols: readonly string[], start: ReadonlyMap<number, bigint>, end: ReadonlyMap<number, bigint>): Promise<ConsumeResult> {
  const expected = recordsBetween(start, end);
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-bench-kafka-'));
  try {
    const groupId = await groupAt(start, 'process');
    const cpu = cpuMeter();
    const t0 = performance.now();
    const set = await startRoles(kafkaBenchConfig(dir, symbols, '1s', groupId), { produce: false, process: true, serve: false }, { logger: silentLogger });
    try {
      await storedAll(set, expected);
      const seconds = (performance.now() - t0) / 1000;
      return { records: set.stats.tradesStored + set.stats.late, seconds, recordsPerS: expected / seconds, cpu: cpuCost(cpu.stop(), seconds, expected) };
    } finally {
      await set.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ConsumeResult {
  records: number;
  seconds: number;
  recordsPerS: number;
  cpu: CpuCost;
}

/** The floor: the client's own consumer stream, joining a group, reading the records as bytes and dropping them. */
async function rawConsume(start: ReadonlyMap<number, bigint>, end: ReadonlyMap<number, bigint>): Promise<ConsumeResult> {
  const expected = recordsBetween(start, end);
  const groupId = await groupAt(start, 'raw');
  const cpu = cpuMeter();
  const t0 = performance.now();
  const consumer = new Consumer({ clientId: 'tickstream-bench-raw', bootstrapBrokers: [...brokers], groupId, maxWaitTime: 100 });
  try {
    const stream = await consumer.consume({ topics: [TOPIC], mode: MessagesStreamModes.COMMITTED, autocommit: false });
    let records = 0;
    await new Promise<void>((resolve, reject) => {
      stream.on('data', () => {
        if (++records >= expected) resolve();
      });
      stream.once('error', reject);
      stream.once('end', () => reject(new Error(`the stream ended after ${records} of ${expected} records`)));
    });
    const seconds = (performance.now() - t0) / 1000;
    const used = cpu.stop();
    await stream.close();
    return { records, seconds, recordsPerS: records / seconds, cpu: cpuCost(used, seconds, records) };
  } finally {
    // The promise form of close(force) is not reachable from TS; the callback form is.
    await new Promise<void>((resolve) => consumer.close(true, () => resolve()));
  }
}

/** The engine's consumer (group, fetch loop, Avro decode) with a handler that only counts. */
async function decodeOnly(start: ReadonlyMap<number, bigint>, end: ReadonlyMap<number, bigint>): Promise<ConsumeResult> {
  const expected = recordsBetween(start, end);
  const groupId = await groupAt(start, 'decode');
  let records = 0;
  const cpu = cpuMeter();
  const t0 = performance.now();
  const consumer = new KafkaTradeConsumer({
    brokers,
    clientId: 'tickstream-bench-decode',
    groupId,
    topic: TOPIC,
    format: base.kafka.format,
    deadLetters: { append: async (letters) => void (records += letters.length), close: async () => {} },
  });
  try {
    await consumer.start({
      assigned: async () => new Map(),
      revoked: async () => {},
      records: async (_partition, batch) => {
        records += batch.length;
      },
    });
    await until(() => records >= expected, WAIT_MS, 'the decode-only consumer to read every record');
    const seconds = (performance.now() - t0) / 1000;
    return { records, seconds, recordsPerS: records / seconds, cpu: cpuCost(cpu.stop(), seconds, records) };
  } finally {
    await consumer.close();
  }
}

// Idempotent: a running broker is left alone; otherwise it is started, with progress lines.
const [kafka] = await stackUp('kafka', { config: base, env: process.env, progress });
const kafkaPid = kafka?.pid;

await ensureTradeTopics({ brokers, clientId: 'tickstream-bench' }, { partitions: base.kafka.topicPartitions, retentionMs: base.kafka.retention }, RUN_TOPICS);
progress(`topics of this run: ${TOPIC} (.dlq, .late), ${base.kafka.topicPartitions} partitions`);
try {
  const symbols = benchSymbols(SYMBOL_COUNT);
  progress(`generating ${fmt(TRADES)} trades over ${symbols.length} symbols`);
  const frames = makeFrames(TRADES, symbols, Date.now());

  // A broker started a moment ago (and this process) still compile their hot paths: the first
  // run at full speed spent three times the broker CPU per trade of the later ones. A short run
  // first, left out of the table, lets every measured run find both warm.
  const warmupTrades = Math.min(WARMUP_TRADES, TRADES);
  progress(`warm-up: ${fmt(warmupTrades)} trades end to end, not measured`);
  await kafkaEndToEnd(makeFrames(warmupTrades, symbols, Date.now()), symbols, { flushInterval: '1s' });

  progress(`end to end at full speed, frames of ${TRADES_PER_FRAME} trades: frames → Kafka → engine → SQLite (default flush interval 1s)`);
  const fullSpeed = await kafkaEndToEnd(frames, symbols, { flushInterval: '1s' });
  const inRange = recordsBetween(fullSpeed.start, fullSpeed.end);
  if (inRange !== fullSpeed.result.trades) progress(`note: ${fmt(inRange - fullSpeed.result.trades)} records of other writers were in the topic during the run`);

  // The source hands one frame at a time to the producer and waits for Kafka's acknowledgement
  // (that is the backpressure), so the frame size bounds what one producer round trip carries.
  progress(`end to end at full speed, frames of ${fmt(BIG_FRAME)} trades (the replay's batch)`);
  const bigFrames = await kafkaEndToEnd(makeFrames(TRADES, symbols, Date.now(), BIG_FRAME), symbols, { flushInterval: '1s', tradesPerFrame: BIG_FRAME });
  progress(`end to end at full speed, frames of ${TRADES_PER_FRAME} trades, ${IN_FLIGHT} frames in flight (not how the sources deliver today)`);
  const pipelined = await kafkaEndToEnd(makeFrames(TRADES, symbols, Date.now()), symbols, { flushInterval: '1s', inFlight: IN_FLIGHT });

  progress(`end to end at full speed, frames of ${TRADES_PER_FRAME} trades, the produce role in a process of its own (as \`tickstream produce\` beside \`tickstream process\`)`);
  const split = await kafkaTwoProcesses(symbols.length, TRADES_PER_FRAME);

  // The readers below take the last run's records: they end at the log end, where the process
  // role's final flush (which reads up to the log end) stops too.
  const last = split;
  progress(`floor: a bare consumer reading the same ${fmt(recordsBetween(last.start, last.end))} records`);
  const raw = await rawConsume(last.start, last.end);
  progress("the engine's consumer with Avro decoding and nothing else");
  const decoded = await decodeOnly(last.start, last.end);
  progress('the process role alone over the same records: Kafka → engine → SQLite');
  const processed = await processOnly(symbols, last.start, last.end);
  progress('bare consumer again');
  const rawAgain = await rawConsume(last.start, last.end);
  // The floor is the fastest reader that does no processing: if the engine's own fetch loop
  // (which also decodes) outruns the client's stream, the stream is not the bound.
  const rawPerS = Math.max(raw.recordsPerS, rawAgain.recordsPerS);
  const floorPerS = Math.max(rawPerS, decoded.recordsPerS);

  progress(`latency at ${fmt(LATENCY_RATE)} trades/s for ${LATENCY_SECONDS}s, flush interval 10ms`);
  const latency10ms = await kafkaEndToEnd(makeFrames(LATENCY_RATE * LATENCY_SECONDS, symbols, Date.now()), symbols, {
    flushInterval: '10ms',
    rate: LATENCY_RATE,
    maxMs: LATENCY_SECONDS * 1000,
  });
  progress(`latency at ${fmt(LATENCY_RATE)} trades/s for ${LATENCY_SECONDS}s, default flush interval 1s`);
  const latency1s = await kafkaEndToEnd(makeFrames(LATENCY_RATE * LATENCY_SECONDS, symbols, Date.now()), symbols, {
    flushInterval: '1s',
    rate: LATENCY_RATE,
    maxMs: LATENCY_SECONDS * 1000,
  });

  const e2e = fullSpeed.result;
  const big = bigFrames.result;
  const ratio = e2e.tradesPerS / floorPerS;
  const bigRatio = big.tradesPerS / floorPerS;
  const piped = pipelined.result;
  const pipedRatio = piped.tradesPerS / floorPerS;
  const apart = split.result;
  const apartRatio = apart.tradesPerS / floorPerS;
  /** The rate a paced run reached: below the asked rate when the path cannot keep up. */
  const reached = (r: KafkaRunResult): string => `${fmt(r.producedPerS)}/s reached`;
  const target = (perS: number): string => (perS >= 150_000 ? 'yes' : 'no');
  const half = (r: number): string => (r >= 0.5 ? 'yes' : 'no');
  const CORES = cpus().length;
  const us = (v: number | null): string => (v === null ? 'n/a' : fmt(v, 2));
  const cpuCell = (c: CpuCost): string => `${us(totalUs(c))} (${us(c.benchUsPerTrade)} + ${us(c.kafkaUsPerTrade)})`;
  /** The rate at which the cores would be busy all the time at this CPU cost per trade. */
  const bound = (c: CpuCost): string => {
    const total = totalUs(c);
    return total === null || total === 0 ? 'n/a' : fmt((CORES * 1e6) / total);
  };
  const rows: [string, string, string, string][] = [
    ['measure', 'value', 'target', 'met'],
    ['bare consumer stream, records read and dropped (records/s)', fmt(rawPerS), '', ''],
    ["engine's fetch loop, Avro decode only (trades/s)", fmt(decoded.recordsPerS), '', ''],
    ['floor: the faster of the two (records/s)', fmt(floorPerS), '', ''],
    ['process role alone: Kafka → engine → SQLite, records already in the topic (trades/s)', fmt(processed.recordsPerS), '', ''],
    [`produce: frames of ${TRADES_PER_FRAME} → Kafka, acknowledged (trades/s)`, fmt(e2e.producedPerS), '', ''],
    [`end to end, frames of ${TRADES_PER_FRAME}: → Kafka → engine → SQLite (trades/s)`, fmt(e2e.tradesPerS), '≥ 150,000', target(e2e.tradesPerS)],
    [`end to end / floor, frames of ${TRADES_PER_FRAME}`, `${fmt(ratio * 100, 1)}%`, '≥ 50%', half(ratio)],
    [`produce: frames of ${fmt(BIG_FRAME)} → Kafka, acknowledged (trades/s)`, fmt(big.producedPerS), '', ''],
    [`end to end, frames of ${fmt(BIG_FRAME)}: → Kafka → engine → SQLite (trades/s)`, fmt(big.tradesPerS), '≥ 150,000', target(big.tradesPerS)],
    [`end to end / floor, frames of ${fmt(BIG_FRAME)}`, `${fmt(bigRatio * 100, 1)}%`, '≥ 50%', half(bigRatio)],
    [`end to end, frames of ${TRADES_PER_FRAME}, ${IN_FLIGHT} in flight (trades/s)`, fmt(piped.tradesPerS), '≥ 150,000', target(piped.tradesPerS)],
    [`end to end / floor, frames of ${TRADES_PER_FRAME}, ${IN_FLIGHT} in flight`, `${fmt(pipedRatio * 100, 1)}%`, '≥ 50%', half(pipedRatio)],
    [`produce: frames of ${TRADES_PER_FRAME} → Kafka from a process of its own, acknowledged (trades/s)`, fmt(apart.producedPerS), '', ''],
    [`end to end, frames of ${TRADES_PER_FRAME}, producer and engine in two processes (trades/s)`, fmt(apart.tradesPerS), '≥ 150,000', target(apart.tradesPerS)],
    [`end to end / floor, frames of ${TRADES_PER_FRAME}, two processes`, `${fmt(apartRatio * 100, 1)}%`, '≥ 50%', half(apartRatio)],
    [`ingest → bar stored p50 at full speed, frames of ${TRADES_PER_FRAME}, flush 1s (ms)`, fmt(e2e.latencyP50Ms, 1), '', ''],
    [`ingest → bar stored p99 at full speed, frames of ${TRADES_PER_FRAME}, flush 1s (ms)`, fmt(e2e.latencyP99Ms, 1), '', ''],
    [`ingest → bar stored p50 at ${fmt(LATENCY_RATE)}/s asked, ${reached(latency10ms.result)}, flush 10ms (ms)`, fmt(latency10ms.result.latencyP50Ms, 1), '', ''],
    [`ingest → bar stored p99 at ${fmt(LATENCY_RATE)}/s asked, ${reached(latency10ms.result)}, flush 10ms (ms)`, fmt(latency10ms.result.latencyP99Ms, 1), '', ''],
    [`ingest → bar stored p50 at ${fmt(LATENCY_RATE)}/s asked, ${reached(latency1s.result)}, flush 1s (ms)`, fmt(latency1s.result.latencyP50Ms, 1), '', ''],
    [`ingest → bar stored p99 at ${fmt(LATENCY_RATE)}/s asked, ${reached(latency1s.result)}, flush 1s (ms)`, fmt(latency1s.result.latencyP99Ms, 1), '', ''],
    [`CPU per record, floor reader: this process + Kafka (core-µs)`, cpuCell(decoded.cpu), '', ''],
    [`CPU per trade, process role alone: this process + Kafka (core-µs)`, cpuCell(processed.cpu), '', ''],
    [`CPU per trade, end to end, frames of ${TRADES_PER_FRAME}: this process + Kafka (core-µs)`, cpuCell(e2e.cpu), '', ''],
    [`CPU per trade, end to end, two processes: both + Kafka (core-µs)`, cpuCell(apart.cpu), '', ''],
    [`most trades/s ${CORES} cores allow at the end-to-end cost, frames of ${TRADES_PER_FRAME}`, bound(e2e.cpu), '', ''],
    [`most trades/s ${CORES} cores allow at the end-to-end cost, two processes`, bound(apart.cpu), '', ''],
    // One long-lived process runs every phase, so a phase's peak holds what earlier ones left on the heap.
    [
      `peak RSS of this benchmark process, one-process runs, ${symbols.length} symbols (MB; see rssNote in the JSON)`,
      fmt(Math.max(e2e.rssPeakMb, big.rssPeakMb, piped.rssPeakMb, latency10ms.result.rssPeakMb, latency1s.result.rssPeakMb), 0),
      '',
      '',
    ],
  ];
  printTable(rows);

  writeReport(args.out ?? join('bench', 'results', 'kafka.json'), {
    benchmark: 'kafka',
    date: new Date().toISOString(),
    kafka: { brokers, version: kafka?.version ?? null, topic: TOPIC, partitions: fullSpeed.end.size, format: base.kafka.format },
    trades: TRADES,
    warmupTrades,
    symbols: symbols.length,
    intervals: INTERVALS,
    floor: { recordsPerS: floorPerS, bareStream: { recordsPerS: rawPerS, runs: [raw, rawAgain] }, decodeOnly: decoded },
    processOnly: processed,
    rssNote:
      "rssPeakMb: this benchmark process's RSS during each run, which also holds the run's frames and what earlier runs left on the heap; a paced run right after the full-speed ones peaks far above the pipeline's own RSS (measured in a process of its own by the embedded path)",
    cpuNote: 'cpu: core-microseconds per trade (or record) over each run, from /proc/<pid>/stat utime + stime: this process with its threads and child processes (bench), and the Kafka broker JVM',
    endToEnd: { tradesPerFrame: TRADES_PER_FRAME, ...e2e, ratioToFloor: ratio },
    endToEndBigFrames: { tradesPerFrame: BIG_FRAME, ...big, ratioToFloor: bigRatio },
    endToEndTwoProcesses: { tradesPerFrame: TRADES_PER_FRAME, ...apart, ratioToFloor: apartRatio },
    endToEndPipelined: { tradesPerFrame: TRADES_PER_FRAME, inFlight: IN_FLIGHT, ...piped, ratioToFloor: pipedRatio },
    latency: { rate: LATENCY_RATE, seconds: LATENCY_SECONDS, flush10ms: latency10ms.result, flush1s: latency1s.result },
  });
} finally {
  await deleteGroups(brokers, runGroups);
  const admin = new KafkaConsole({ brokers, clientId: 'tickstream-bench' });
  try {
    for (const topic of tradeTopicNames(RUN_TOPICS)) await admin.deleteTopic(topic).catch(() => false);
  } finally {
    await admin.close();
  }
  progress(`removed the run's ${runGroups.length} consumer groups and its topics`);
}
