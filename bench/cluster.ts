// The cluster paths: one seeded input produced once to a topic of this run, then the TS engine
// (Kafka → TS engine → Cassandra) and the Spark bar job (Kafka → Spark → Cassandra) over it, each
// into a keyspace of its own (trades/s and bars written/s until every trade's bars are in
// Cassandra); the Cassandra store alone over the same input's trades and bars; then a paced run
// through each engine (ingest → bar-in-Cassandra latency, read from the bars table by the same
// poller for both). CPU of the Cassandra, Spark and Kafka JVMs and of this process is measured
// over every phase. Starts the services it needs through the stack launcher when they are not
// running; removes its topics, keyspaces, queries and checkpoints at the end.
import { cpus } from 'node:os';
import type { Config } from '../src/config/index.ts';
import { epochMs, type Trade } from '../src/domain/index.ts';
import { KafkaTradeProducer } from '../src/bus/index.ts';
import { parseFinnhubFrame, SimulatedMarket, type FinnhubTrade } from '../src/source/index.ts';
import { tradeFrame } from '../src/source/finnhub/finnhub-protocol.ts';
import { stackUp } from '../src/stack/index.ts';
import { logEnd } from '../test/support/kafka-offsets.ts';
import { BarWatch, quantile } from './bar-watch.ts';
import { engineConfig, produceTrades, Scratch, startSparkEngine, startTsEngine, tradeProducerOptions, type RunningEngine } from './cluster-engines.ts';
import { CpuMeter, stackCpuGroups, type CpuGroup, type CpuUse } from './cpu.ts';
import { TRADES_PER_FRAME } from './frames.ts';
import { fmt, progress } from './measure.ts';
import { flushBatches, storeAlone, storeAloneBatchSize, type StoreAloneResult } from './store-alone.ts';

export interface ClusterBenchOptions {
  /** Where the stack is and how it runs: the config file and TICKSTREAM_* variables, as for the CLI. */
  readonly base: Config;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Trades of the throughput input. */
  readonly trades: number;
  readonly symbols: readonly string[];
  readonly latencySeconds: number;
  readonly latencyRate: number;
  /** Kafka → TS engine → Cassandra, and the Cassandra store alone. */
  readonly cassandra: boolean;
  /** Kafka → Spark → Cassandra. */
  readonly spark: boolean;
}

export interface ThroughputResult {
  trades: number;
  /** From the engine's start call until the poll that saw every trade in the bars of every interval. */
  seconds: number;
  tradesPerS: number;
  /** How long the start call took (Spark: migrate, topics, defining and starting the queries). */
  startSeconds: number;
  /** Trades/s from the end of the start call on. */
  afterStartTradesPerS: number;
  /** Bar upserts written to Cassandra (TS: bars of every flush; Spark: records of the bar-updates topic). */
  barsWritten: number;
  barsPerS: number;
  cpu: CpuUse;
}

export interface LatencyResult {
  askedPerS: number;
  reachedPerS: number;
  trades: number;
  measuredTrades: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanPollMs: number;
  cpu: CpuUse;
}

export interface EngineResult<L extends LatencyResult = LatencyResult> {
  readonly throughput: ThroughputResult;
  readonly latency: L;
}

export interface ClusterReport {
  readonly triggerMs: number;
  readonly latenessMs: number;
  readonly intervals: readonly string[];
  readonly symbols: number;
  readonly partitions: number;
  readonly format: string;
  readonly pollMs: number;
  readonly warmupSeconds: number;
  readonly cpuGroups: readonly CpuGroup[];
  readonly input: { readonly trades: number; readonly producedPerS: number; readonly cpu: CpuUse };
  readonly ts?: EngineResult<LatencyResult & { ownP50Ms: number; ownP99Ms: number }>;
  readonly storeAlone?: StoreAloneResult;
  readonly spark?: EngineResult & { readonly queriesAtEnd: unknown };
  readonly method: readonly string[];
  readonly seconds: number;
}

const POLL_MS = 100;
const DRAIN_DEADLINE_MS = 90_000;
/** 2026-01-05T09:30:00Z: the throughput input's event time starts here on every run. */
const INPUT_START_TS = 1_767_605_400_000;
const DISORDER_MS = 250;

/** Seeded Finnhub frames of the simulated market, `rate` trades per second of event time from startTs. */
function seededFrames(symbols: readonly string[], count: number, startTs: number, rate: number): FinnhubTrade[][] {
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

/** Σ of a topic's end offsets: every record it holds (the run's own topics start empty). */
async function recordsIn(config: Config, topic: string): Promise<number> {
  let n = 0;
  for (const end of (await logEnd(config.kafka.brokers, topic)).values()) n += Number(end);
  return n;
}

/** Runs the cluster paths asked for; the services they need must be startable (Java and Maven present). */
export async function runCluster(o: ClusterBenchOptions): Promise<ClusterReport> {
  const { base, symbols } = o;
  const services = o.spark ? (['kafka', 'cassandra', 'spark'] as const) : (['kafka', 'cassandra'] as const);
  for (const service of services) await stackUp(service, { config: base, env: o.env, progress });
  const cpuGroups = await stackCpuGroups(base, o.env);
  progress(`CPU measured per phase for ${cpuGroups.map((g) => `${g.name} (pid ${g.pids.join(', ') || 'none'})`).join(', ')}`);
  const meter = (): CpuMeter => new CpuMeter(cpuGroups);
  const warmupS = Math.min(5, Math.floor(o.latencySeconds / 3));
  const throughputDeadlineMs = Math.max(180_000, o.trades);
  const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;

  async function withWatch<T>(keyspace: string, body: (watch: BarWatch) => Promise<T>): Promise<T> {
    const watch = new BarWatch(base, keyspace, symbols);
    try {
      return await body(watch);
    } finally {
      await watch.close();
    }
  }

  async function throughput<E extends RunningEngine>(
    name: string,
    start: () => Promise<E>,
    barsWritten: (engine: E) => Promise<number>,
    watch: BarWatch,
    count: number,
  ): Promise<ThroughputResult> {
    progress(`${name}: reading ${fmt(count)} trades from the topic until every bar is in Cassandra`);
    const cpu = meter();
    const t0 = performance.now();
    const engine = await start();
    const started = performance.now();
    try {
      await poll(async () => (await watch.totals()).every((n) => n >= count), throughputDeadlineMs, `${name} to store the bars of ${count} trades`);
    } finally {
      await engine.close();
    }
    const end = performance.now();
    const used = cpu.stop();
    const seconds = (end - t0) / 1000;
    const bars = await barsWritten(engine);
    return {
      trades: count,
      seconds,
      tradesPerS: count / seconds,
      startSeconds: (started - t0) / 1000,
      afterStartTradesPerS: count / ((end - started) / 1000),
      barsWritten: bars,
      barsPerS: bars / seconds,
      cpu: used,
    };
  }

  /**
   * Appends the seeded trades at the asked rate (frames of 50, each acknowledged before the next)
   * while a poller reads the bars table every POLL_MS; after the last frame, polls on until every
   * trade is seen in its bars.
   */
  async function pacedLatency(name: string, topic: string, dataDir: string, watch: BarWatch): Promise<LatencyResult> {
    const rate = o.latencyRate;
    const seconds = o.latencySeconds;
    const frames = seededFrames(symbols, rate * seconds, Date.now(), rate);
    progress(`${name}: ${fmt(rate)} trades/s for ${seconds} s (the first ${warmupS} s warm up), polling the bars every ${POLL_MS} ms`);
    const cpu = meter();
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
        watch.watch(trades, performance.now() - t0 >= warmupS * 1000);
        sent += trades.length;
        lastSentAt = performance.now();
      }
    } finally {
      producing = false;
      await producer.close();
      await poller;
    }
    const used = cpu.stop();
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
      cpu: used,
    };
  }

  const scratch = new Scratch(base);
  // An error thrown outside the run's promises, or Ctrl-C, still removes what the run made.
  const cleanAndExit = (why: string): void => {
    progress(`${why}; removing the run's topics, keyspaces and checkpoints`);
    void scratch.clean().finally(() => process.exit(1));
  };
  const onError = (error: Error): void => cleanAndExit(`failed: ${error.stack ?? error.message}`);
  const onInterrupt = (): void => cleanAndExit('interrupted');
  process.once('uncaughtException', onError);
  process.once('SIGINT', onInterrupt);
  const benchStarted = performance.now();
  try {
    const tsKeyspace = scratch.keyspace(`bench_cluster_ts_${run}`);
    const sparkKeyspace = scratch.keyspace(`bench_cluster_spark_${run}`);
    const storeKeyspace = scratch.keyspace(`bench_cluster_store_${run}`);
    const tsConfig = engineConfig(base, 'ts', tsKeyspace, scratch.dir('ts'), symbols);
    const triggerMs = tsConfig.flushInterval;

    const inputTopic = await scratch.topic(`bench.cluster.trades.${run}`);
    progress(`producing ${fmt(o.trades)} seeded trades over ${symbols.length} symbols to ${inputTopic} (once, for every path)`);
    const input = seededFrames(symbols, o.trades, INPUT_START_TS, 1_000).flatMap(received);
    const inputCpu = meter();
    const p0 = performance.now();
    await produceTrades(base, inputTopic, scratch.dir('producer'), input);
    const producedPerS = input.length / ((performance.now() - p0) / 1000);
    const inputUse = inputCpu.stop();

    let ts: ClusterReport['ts'];
    let alone: ClusterReport['storeAlone'];
    let spark: ClusterReport['spark'];
    let tsThroughput: ThroughputResult | undefined;
    let sparkThroughput: ThroughputResult | undefined;

    if (o.cassandra) {
      tsThroughput = await withWatch(tsKeyspace, (watch) =>
        throughput(
          'TS engine',
          () => startTsEngine(tsConfig, inputTopic, scratch.group(`bench-cluster-ts-${run}-1`)),
          async (engine) => engine.stats.barsStored,
          watch,
          input.length,
        ),
      );
      const batchSize = storeAloneBatchSize(triggerMs);
      const storeConfig = engineConfig(base, 'ts', storeKeyspace, scratch.dir('store'), symbols);
      const batches = flushBatches(input, symbols, base.kafka.topicPartitions, { intervals: storeConfig.intervals, lateness: storeConfig.lateness }, batchSize);
      progress(`Cassandra store alone: writing the trades and bars of ${fmt(input.length)} trades in ${batches.length} batches of up to ${fmt(batchSize)} trades`);
      alone = await storeAlone(storeConfig, batches, meter, () =>
        withWatch(storeKeyspace, async (watch) => {
          const totals = await watch.totals();
          if (!totals.every((n) => n === input.length)) throw new Error(`bench: the store alone holds ${totals.join(', ')} trades in the bars of each interval, not ${input.length}`);
        }),
      );
    }
    if (o.spark) {
      sparkThroughput = await withWatch(sparkKeyspace, (watch) => {
        const config = engineConfig(base, 'spark', sparkKeyspace, scratch.dir('spark'), symbols);
        const barsTopic = scratch.adoptTopic(`bench.cluster.bars.${run}.1`);
        return throughput('Spark', () => startSparkEngine(config, inputTopic, barsTopic), () => recordsIn(base, barsTopic), watch, input.length);
      });
    }

    // The paced runs: each engine started (and warm) on an empty topic of its own, then fed live.
    if (o.cassandra && tsThroughput !== undefined) {
      const latency = await withWatch(tsKeyspace, async (watch) => {
        const topic = await scratch.topic(`bench.cluster.paced-ts.${run}`);
        const engine = await startTsEngine(tsConfig, topic, scratch.group(`bench-cluster-ts-${run}-2`));
        try {
          return { ...(await pacedLatency('TS engine', topic, scratch.dir('paced-ts'), watch)), ownP50Ms: engine.stats.latency.quantile(0.5), ownP99Ms: engine.stats.latency.quantile(0.99) };
        } finally {
          await engine.close();
        }
      });
      ts = { throughput: tsThroughput, latency };
    }
    if (o.spark && sparkThroughput !== undefined) {
      let queriesAtEnd: unknown = null;
      const latency = await withWatch(sparkKeyspace, async (watch) => {
        const topic = await scratch.topic(`bench.cluster.paced-spark.${run}`);
        const config = engineConfig(base, 'spark', sparkKeyspace, scratch.dir('spark-paced'), symbols);
        const engine = await startSparkEngine(config, topic, scratch.adoptTopic(`bench.cluster.bars.${run}.2`));
        try {
          const result = await pacedLatency('Spark', topic, scratch.dir('paced-spark'), watch);
          queriesAtEnd = await engine.processor.progress();
          return result;
        } finally {
          await engine.close();
        }
      });
      spark = { throughput: sparkThroughput, latency, queriesAtEnd };
    }

    const meanPoll = spark?.latency.meanPollMs ?? ts?.latency.meanPollMs ?? 0;
    const method = [
      `Trigger interval: ${triggerMs} ms (config flushInterval): Spark's micro-batch trigger and the TS engine's flush interval.`,
      `Throughput: ${fmt(input.length)} seeded trades are produced once to a topic of ${base.kafka.topicPartitions} partitions; each engine then reads it from the start into a fresh keyspace; time runs from the engine's start call until a poll (every ${POLL_MS} ms) finds Σ trade_count of the stored bars equal to the input for every interval (${base.intervals.map((i) => i.label).join(', ')}). Bars written: the TS engine's bar upserts (changed bars of every flush); Spark's bar versions (records of its bar-updates topic, each upserted by the bars-store query).`,
      ...(alone === undefined ? [] : [`Cassandra store alone: the same trades, with the bars and checkpoints the TS engine computes for them, written straight into CassandraStore in batches of up to ${fmt(storeAloneBatchSize(triggerMs))} trades (one flush interval at 100,000 trades/s, capped at the Processor's 50,000 pending trades), one write at a time; the batches are computed before the clock starts.`]),
      `Latency: each engine, started and idle on an empty topic of its own, is fed ${fmt(o.latencyRate)} trades/s for ${o.latencySeconds} s (frames of ${TRADES_PER_FRAME}, each acknowledged by Kafka). The bars table is polled every ${POLL_MS} ms; a trade is in Cassandra once the stored bar of its (symbol, interval, window) counts at least as many trades as there were up to it in that window in produce order (a symbol's trades are read in offset order and none is late), for every interval. Latency = end of that poll − the trade's ingest_ts, so each figure is high by up to one poll period plus one poll (mean poll ${fmt(meanPoll, 1)} ms). Trades of the first ${warmupS} s are left out.`,
      `CPU: utime + stime from /proc/<pid>/stat, sampled every 0.5 s over each phase, as percent of one core averaged over the phase (${cpus().length} cores in all). Spark counts the master, both workers with their executors, and the Connect server (the driver); "this process" is the benchmark, which also runs the TS engine, the producer and the poller.`,
      `Phases run one after the other, never at the same time (a ${cpus().length}-core machine also running Kafka, Cassandra and Spark).`,
    ];
    progress(`cluster paths done in ${fmt((performance.now() - benchStarted) / 1000, 0)} s`);
    return {
      triggerMs,
      latenessMs: tsConfig.lateness,
      intervals: tsConfig.intervals.map((i) => i.label),
      symbols: symbols.length,
      partitions: base.kafka.topicPartitions,
      format: base.kafka.format,
      pollMs: POLL_MS,
      warmupSeconds: warmupS,
      cpuGroups,
      input: { trades: input.length, producedPerS, cpu: inputUse },
      ...(ts === undefined ? {} : { ts }),
      ...(alone === undefined ? {} : { storeAlone: alone }),
      ...(spark === undefined ? {} : { spark }),
      method,
      seconds: (performance.now() - benchStarted) / 1000,
    };
  } finally {
    progress("removing the run's topics, keyspaces and checkpoints");
    await scratch.clean();
    process.off('uncaughtException', onError);
    process.off('SIGINT', onInterrupt);
  }
}
