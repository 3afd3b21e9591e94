// The Spark path beside the TS engine: one seeded input produced once to a topic of this run,
// then each engine of the cluster profile over it into a keyspace of its own (trades/s until
// every trade's bars are in Cassandra), then a paced run through each (ingest → bar-in-Cassandra
// latency, read from the bars table by the same poller for both). Needs Kafka, Cassandra and
// Spark (started through the stack launcher when they are not running); removes its topics,
// keyspaces, queries and checkpoints at the end.
// Usage: npm run bench:spark -- [--trades 100000] [--symbols 10] [--latency-seconds 30] [--latency-rate 2000] [--out file.json]
import { cpus } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../src/config/index.ts';
import { epochMs, type Trade } from '../src/domain/index.ts';
import { KafkaTradeProducer } from '../src/bus/index.ts';
import { parseFinnhubFrame, SimulatedMarket, type FinnhubTrade } from '../src/source/index.ts';
import { tradeFrame } from '../src/source/finnhub/finnhub-protocol.ts';
import { stackUp } from '../src/stack/index.ts';
import { benchArgs } from './args.ts';
import { BarWatch, quantile } from './bar-watch.ts';
import { engineConfig, produceTrades, Scratch, startSparkEngine, startTsEngine, tradeProducerOptions, type RunningEngine } from './cluster-engines.ts';
import { benchSymbols, TRADES_PER_FRAME } from './frames.ts';
import { fmt, printTable, progress, writeReport } from './measure.ts';

const args = benchArgs('npm run bench:spark', 'Runs the same input through the TS engine and the Spark bar job (Kafka → Cassandra) and writes bench/results/spark.json.', {
  trades: 100_000,
  symbols: 10,
  latencySeconds: 30,
  latencyRate: 2_000,
});
/** The paced run's first seconds warm the engine up: their trades are in the bars but not in the latencies. */
const WARMUP_S = 5;
const POLL_MS = 100;
const THROUGHPUT_DEADLINE_MS = 180_000;
const DRAIN_DEADLINE_MS = 90_000;
/** 2026-01-05T09:30:00Z: the throughput input's event time starts here on every run. */
const INPUT_START_TS = 1_767_605_400_000;
const DISORDER_MS = 250;

const base: Config = loadConfig({ env: process.env });
const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const symbols = benchSymbols(args.symbols);

/** Seeded Finnhub frames of the simulated market, `rate` trades per second of event time from startTs. */
function seededFrames(count: number, startTs: number, rate: number): FinnhubTrade[][] {
  const market = new SimulatedMarket({ seed: 7, symbols, rate, disorderMs: DISORDER_MS, startTs });
  const frames: FinnhubTrade[][] = [];
  for (let i = 0; i < count; i += TRADES_PER_FRAME) {
    const frame: FinnhubTrade[] = [];
    for (let j = i; j < Math.min(count, i + TRADES_PER_FRAME); j++) {
      const t = market.next();
      if (t === undefined) throw new Error('the market has no symbols');
      frame.push(t);
    }
    frames.push(frame);
  }
  return frames;
}

/** Parsed as the Finnhub client parses, received now: ingest_ts is the moment of the call. */
function received(frame: readonly FinnhubTrade[]): Trade[] {
  const parsed = parseFinnhubFrame(tradeFrame([...frame]), epochMs(Date.now()), 'simulator');
  if (parsed.type !== 'trade') throw new Error(`a seeded frame did not parse: ${parsed.type}`);
  return [...parsed.trades];
}

async function poll(watchFor: () => Promise<boolean>, deadlineMs: number, what: string): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (!(await watchFor())) {
    if (performance.now() > deadline) throw new Error(`bench: timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

interface ThroughputResult {
  trades: number;
  /** From the engine's start call until the poll that saw every trade in the bars of every interval. */
  seconds: number;
  tradesPerS: number;
  /** How long the start call took (Spark: migrate, topics, defining and starting the queries). */
  startSeconds: number;
  /** Trades/s from the end of the start call on. */
  afterStartTradesPerS: number;
}

async function throughput(name: string, start: () => Promise<RunningEngine>, watch: BarWatch, count: number): Promise<ThroughputResult> {
  progress(`${name}: reading ${fmt(count)} trades from the topic until every bar is in Cassandra`);
  const t0 = performance.now();
  const engine = await start();
  const started = performance.now();
  try {
    await poll(async () => (await watch.totals()).every((n) => n >= count), THROUGHPUT_DEADLINE_MS, `${name} to store the bars of ${count} trades`);
  } finally {
    await engine.close();
  }
  const end = performance.now();
  const seconds = (end - t0) / 1000;
  return { trades: count, seconds, tradesPerS: count / seconds, startSeconds: (started - t0) / 1000, afterStartTradesPerS: count / ((end - started) / 1000) };
}

interface LatencyResult {
  askedPerS: number;
  reachedPerS: number;
  trades: number;
  measuredTrades: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanPollMs: number;
}

/**
 * Appends the seeded trades at the asked rate (frames of 50, each acknowledged before the next)
 * while a poller reads the bars table every POLL_MS; after the last frame, polls on until every
 * trade is seen in its bars.
 */
async function pacedLatency(name: string, topic: string, dataDir: string, watch: BarWatch): Promise<LatencyResult> {
  const rate = args.latencyRate;
  const seconds = args.latencySeconds;
  const frames = seededFrames(rate * seconds, Date.now(), rate);
  progress(`${name}: ${fmt(rate)} trades/s for ${seconds} s (the first ${WARMUP_S} s warm up), polling the bars every ${POLL_MS} ms`);
  const producer = new KafkaTradeProducer(tradeProducerOptions(base, topic, dataDir));
  let producing = true;
  const poller = (async () => {
    const deadline = performance.now() + seconds * 1000 + DRAIN_DEADLINE_MS;
    while ((producing || watch.pending > 0) && performance.now() < deadline) {
      const next = performance.now() + POLL_MS;
      await watch.poll();
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  })();
  let sent = 0;
  const t0 = performance.now();
  let lastSentAt = t0;
  try {
    for (const frame of frames) {
      const elapsed = performance.now() - t0;
      if (elapsed > seconds * 1000) break;
      const due = (sent / rate) * 1000;
      if (due > elapsed) await new Promise((r) => setTimeout(r, due - elapsed));
      const trades = received(frame);
      await producer.append(trades);
      watch.watch(trades, performance.now() - t0 >= WARMUP_S * 1000);
      sent += trades.length;
      lastSentAt = performance.now();
    }
  } finally {
    producing = false;
    await producer.close();
    await poller;
  }
  if (watch.pending > 0) throw new Error(`bench: ${name}: ${watch.pending} trades were not in their bars ${DRAIN_DEADLINE_MS / 1000} s after the last one was sent`);
  const l = watch.latencies;
  return {
    askedPerS: rate,
    reachedPerS: sent / ((lastSentAt - t0) / 1000),
    trades: sent,
    measuredTrades: l.length,
    p50Ms: quantile(l, 0.5),
    p90Ms: quantile(l, 0.9),
    p99Ms: quantile(l, 0.99),
    maxMs: quantile(l, 1),
    meanPollMs: watch.meanPollMs,
  };
}

async function withWatch<T>(keyspace: string, body: (watch: BarWatch) => Promise<T>): Promise<T> {
  const watch = new BarWatch(base, keyspace, symbols);
  try {
    return await body(watch);
  } finally {
    await watch.close();
  }
}

for (const service of ['kafka', 'cassandra', 'spark'] as const) await stackUp(service, { config: base, env: process.env, progress });

const scratch = new Scratch(base);
// An error thrown outside the run's promises, or Ctrl-C, still removes what the run made.
const cleanAndExit = (why: string): void => {
  progress(`${why}; removing the run's topics, keyspaces and checkpoints`);
  void scratch.clean().finally(() => process.exit(1));
};
process.once('uncaughtException', (error) => cleanAndExit(`failed: ${error.stack ?? error.message}`));
process.once('SIGINT', () => cleanAndExit('interrupted'));
const benchStarted = performance.now();
try {
  const tsKeyspace = scratch.keyspace(`bench_spark_ts_${RUN}`);
  const sparkKeyspace = scratch.keyspace(`bench_spark_spark_${RUN}`);
  const tsConfig = engineConfig(base, 'ts', tsKeyspace, scratch.dir('ts'), symbols);
  const trigger = `${tsConfig.flushInterval} ms`;

  const inputTopic = await scratch.topic(`bench.spark.trades.${RUN}`);
  progress(`producing ${fmt(args.trades)} seeded trades over ${symbols.length} symbols to ${inputTopic} (once, for both engines)`);
  const input = seededFrames(args.trades, INPUT_START_TS, 1_000).flatMap(received);
  const p0 = performance.now();
  await produceTrades(base, inputTopic, scratch.dir('producer'), input);
  const producedPerS = input.length / ((performance.now() - p0) / 1000);

  const tsThroughput = await withWatch(tsKeyspace, (watch) =>
    throughput('TS engine', () => startTsEngine(tsConfig, inputTopic, `bench-spark-ts-${RUN}-1`), watch, input.length),
  );
  const sparkThroughput = await withWatch(sparkKeyspace, (watch) => {
    const config = engineConfig(base, 'spark', sparkKeyspace, scratch.dir('spark'), symbols);
    return throughput('Spark', () => startSparkEngine(config, inputTopic, scratch.adoptTopic(`bench.spark.bars.${RUN}.1`)), watch, input.length);
  });

  // The paced runs: each engine started (and warm) on an empty topic of its own, then fed live.
  const tsLatency = await withWatch(tsKeyspace, async (watch) => {
    const topic = await scratch.topic(`bench.spark.paced-ts.${RUN}`);
    const engine = await startTsEngine(tsConfig, topic, `bench-spark-ts-${RUN}-2`);
    try {
      return { ...(await pacedLatency('TS engine', topic, scratch.dir('paced-ts'), watch)), ownP50Ms: engine.stats.latency.quantile(0.5), ownP99Ms: engine.stats.latency.quantile(0.99) };
    } finally {
      await engine.close();
    }
  });
  let sparkProgress: unknown = null;
  const sparkLatency = await withWatch(sparkKeyspace, async (watch) => {
    const topic = await scratch.topic(`bench.spark.paced-spark.${RUN}`);
    const config = engineConfig(base, 'spark', sparkKeyspace, scratch.dir('spark-paced'), symbols);
    const engine = await startSparkEngine(config, topic, scratch.adoptTopic(`bench.spark.bars.${RUN}.2`));
    try {
      const result = await pacedLatency('Spark', topic, scratch.dir('paced-spark'), watch);
      sparkProgress = await engine.processor.progress();
      return result;
    } finally {
      await engine.close();
    }
  });

  const ms = (n: number): string => fmt(n, 0);
  const ratio = (a: number, b: number, digits = 1): string => `${fmt(a / b, digits)}×`;
  const rows: [string, string, string, string][] = [
    ['measure', 'TS engine', 'Spark', 'Spark / TS'],
    [`trades/s processed, ${fmt(input.length)} trades in the topic, start → every bar in Cassandra`, fmt(tsThroughput.tradesPerS), fmt(sparkThroughput.tradesPerS), ratio(sparkThroughput.tradesPerS, tsThroughput.tradesPerS, 2)],
    ['  of which starting (s)', fmt(tsThroughput.startSeconds, 1), fmt(sparkThroughput.startSeconds, 1), ''],
    ['  trades/s after the start call returned', fmt(tsThroughput.afterStartTradesPerS), fmt(sparkThroughput.afterStartTradesPerS), ratio(sparkThroughput.afterStartTradesPerS, tsThroughput.afterStartTradesPerS, 2)],
    [`paced run: trades/s reached (${fmt(args.latencyRate)} asked, ${args.latencySeconds} s)`, fmt(tsLatency.reachedPerS), fmt(sparkLatency.reachedPerS), ''],
    ['ingest → bar in Cassandra p50 (ms)', ms(tsLatency.p50Ms), ms(sparkLatency.p50Ms), ratio(sparkLatency.p50Ms, tsLatency.p50Ms)],
    ['ingest → bar in Cassandra p90 (ms)', ms(tsLatency.p90Ms), ms(sparkLatency.p90Ms), ratio(sparkLatency.p90Ms, tsLatency.p90Ms)],
    ['ingest → bar in Cassandra p99 (ms)', ms(tsLatency.p99Ms), ms(sparkLatency.p99Ms), ratio(sparkLatency.p99Ms, tsLatency.p99Ms)],
    ['ingest → bar in Cassandra max (ms)', ms(tsLatency.maxMs), ms(sparkLatency.maxMs), ''],
    ['mean poll of the bars table (ms, the resolution)', fmt(tsLatency.meanPollMs, 1), fmt(sparkLatency.meanPollMs, 1), ''],
  ];
  printTable(rows);
  const method = [
    `Trigger interval: Spark's micro-batch trigger and the TS engine's flush interval are both ${trigger} (config flushInterval).`,
    `Throughput: ${fmt(input.length)} seeded trades are produced once to a topic of ${base.kafka.topicPartitions} partitions; each engine then reads it from the start into a fresh keyspace; time runs from the engine's start call until a poll (every ${POLL_MS} ms) finds Σ trade_count of the stored bars equal to the input for every interval (${base.intervals.map((i) => i.label).join(', ')}).`,
    `Latency: each engine, started and idle on an empty topic of its own, is fed ${fmt(args.latencyRate)} trades/s for ${args.latencySeconds} s (frames of ${TRADES_PER_FRAME}, each acknowledged by Kafka). The bars table is polled every ${POLL_MS} ms; a trade is in Cassandra once the stored bar of its (symbol, interval, window) counts at least as many trades as there were up to it in that window in produce order (a symbol's trades are read in offset order and none is late), for every interval. Latency = end of that poll − the trade's ingest_ts, so each figure is high by up to one poll period plus one poll (mean poll ${fmt(sparkLatency.meanPollMs, 1)} ms). Trades of the first ${WARMUP_S} s are left out.`,
    `Engines run one after the other, never at the same time (a ${cpus().length}-core machine also running Kafka, Cassandra and Spark).`,
  ];
  process.stdout.write(`\n${method.join('\n')}\n`);
  progress(`done in ${fmt((performance.now() - benchStarted) / 1000, 0)} s`);

  writeReport(args.out ?? join('bench', 'results', 'spark.json'), {
    benchmark: 'spark',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    triggerMs: tsConfig.flushInterval,
    latenessMs: tsConfig.lateness,
    intervals: tsConfig.intervals.map((i) => i.label),
    symbols: symbols.length,
    partitions: base.kafka.topicPartitions,
    format: base.kafka.format,
    pollMs: POLL_MS,
    warmupSeconds: WARMUP_S,
    method,
    input: { trades: input.length, producedPerS },
    throughput: { ts: tsThroughput, spark: sparkThroughput },
    latency: { ts: tsLatency, spark: sparkLatency },
    sparkQueriesAtEnd: sparkProgress,
  });
} finally {
  progress('removing the run\'s topics, keyspaces and checkpoints');
  await scratch.clean();
}
