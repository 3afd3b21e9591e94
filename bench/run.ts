// `npm run bench`: the embedded path (source → in-process log → TS engine → SQLite, beside its
// floor: a bare loop that only parses the same frames and updates a Map of bars), then, when Java
// and Maven are present, the cluster paths (cluster.ts): Kafka → TS engine → Cassandra with the
// Cassandra store alone, and Kafka → Spark → Cassandra on the same topic and input.
// Usage: npm run bench -- [--paths embedded,cassandra,spark] [--trades N] [--symbols N] [--latency-seconds S] [--out file.json] ... (--help)
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { StackPrerequisiteError } from '../src/errors.ts';
import type { FinnhubTrade } from '../src/source/index.ts';
import { checkPrerequisites } from '../src/stack/index.ts';
import { pathArgs } from './args.ts';
import { runCluster } from './cluster.ts';
import { printClusterTables } from './cluster-report.ts';
import { endToEnd, type RunResult } from './end-to-end.ts';
import { benchSymbols, INTERVALS, makeFrames } from './frames.ts';
import { fmt, printTable, progress, writeReport } from './measure.ts';

const args = pathArgs('npm run bench');
const TRADES = args.trades;
const SYMBOL_COUNT = args.symbols;
const LATENCY_SECONDS = args.latencySeconds;
const LATENCY_RATE = args.latencyRate;
interface FloorBar {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  pv: number;
  count: number;
}

/** The floor: parse every frame and fold its trades into a Map of bars, nothing else. */
function floor(frames: readonly string[]): { tradesPerS: number; bars: number } {
  const sizes = INTERVALS.map((label) => (label === '5s' ? 5_000 : 60_000));
  const bars = new Map<string, FloorBar>();
  let trades = 0;
  const t0 = performance.now();
  for (const frame of frames) {
    const message = JSON.parse(frame) as { data: FinnhubTrade[] };
    for (const t of message.data) {
      trades++;
      for (let i = 0; i < sizes.length; i++) {
        const size = sizes[i] as number;
        const key = `${t.s}\u0000${i}\u0000${Math.floor(t.t / size) * size}`;
        const bar = bars.get(key);
        if (bar === undefined) {
          bars.set(key, { open: t.p, high: t.p, low: t.p, close: t.p, volume: t.v, pv: t.p * t.v, count: 1 });
        } else {
          if (t.p > bar.high) bar.high = t.p;
          if (t.p < bar.low) bar.low = t.p;
          bar.close = t.p;
          bar.volume += t.v;
          bar.pv += t.p * t.v;
          bar.count++;
        }
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { tradesPerS: trades / seconds, bars: bars.size };
}

/** The embedded path, as `npm run bench` measured it before the cluster paths joined. */
async function embedded(): Promise<void> {
  const symbols = benchSymbols(SYMBOL_COUNT);
  progress(`generating ${fmt(TRADES)} trades over ${symbols.length} symbols`);
  const frames = makeFrames(TRADES, symbols, Date.now());

  progress('floor: parse + Map of bars');
  floor(frames); // warm-up
  const floorRun = floor(frames);

  progress('end to end at full speed (default flush interval 1s)');
  const fullSpeed = await endToEnd(frames, symbols, { flushInterval: '1s' });

  progress('floor again, after the end-to-end run');
  const floorAfter = floor(frames);
  const floorPerS = Math.max(floorRun.tradesPerS, floorAfter.tradesPerS);

  /**
   * The paced runs go in a fresh process each, so their RSS is the pipeline's at that rate,
   * not the heap this process grew while holding a million frames.
   */
  function pacedRun(flushInterval: string): RunResult {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', join('bench', 'paced.ts'), '--rate', String(LATENCY_RATE), '--seconds', String(LATENCY_SECONDS), '--symbols', String(SYMBOL_COUNT), '--flush', flushInterval],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 },
    );
    return JSON.parse(out) as RunResult;
  }
  progress(`latency at ${fmt(LATENCY_RATE)} trades/s for ${LATENCY_SECONDS}s, flush interval 10ms (own process)`);
  const latency10ms = pacedRun('10ms');
  progress(`latency at ${fmt(LATENCY_RATE)} trades/s for ${LATENCY_SECONDS}s, default flush interval 1s (own process)`);
  const latency1s = pacedRun('1s');

  const ratio = fullSpeed.tradesPerS / floorPerS;
  const rows: [string, string, string, string][] = [
    ['measure', 'value', 'target', 'met'],
    ['floor: parse + Map of bars (trades/s)', fmt(floorPerS), '', ''],
    ['end to end: source → log → engine → SQLite (trades/s)', fmt(fullSpeed.tradesPerS), '≥ 300,000', fullSpeed.tradesPerS >= 300_000 ? 'yes' : 'no'],
    ['end to end / floor', `${fmt(ratio * 100, 1)}%`, '≥ 40%', ratio >= 0.4 ? 'yes' : 'no'],
    [`peak RSS at full speed, ${symbols.length} symbols, benchmark frames held in memory (MB)`, fmt(fullSpeed.rssPeakMb, 0), '', ''],
    [`peak RSS at ${fmt(LATENCY_RATE)}/s, ${symbols.length} symbols (MB)`, fmt(Math.max(latency10ms.rssPeakMb, latency1s.rssPeakMb), 0), '< 300', Math.max(latency10ms.rssPeakMb, latency1s.rssPeakMb) < 300 ? 'yes' : 'no'],
    [`ingest → bar stored p50 at ${fmt(LATENCY_RATE)}/s, flush 10ms (ms)`, fmt(latency10ms.latencyP50Ms, 1), '', ''],
    [`ingest → bar stored p99 at ${fmt(LATENCY_RATE)}/s, flush 10ms (ms)`, fmt(latency10ms.latencyP99Ms, 1), '< 50', latency10ms.latencyP99Ms < 50 ? 'yes' : 'no'],
    [`ingest → bar stored p50 at ${fmt(LATENCY_RATE)}/s, flush 1s (ms)`, fmt(latency1s.latencyP50Ms, 1), '', ''],
    [`ingest → bar stored p99 at ${fmt(LATENCY_RATE)}/s, flush 1s (ms)`, fmt(latency1s.latencyP99Ms, 1), '', ''],
  ];
  printTable(rows);

  const report = {
    benchmark: 'embedded',
    date: new Date().toISOString(),
    trades: TRADES,
    symbols: symbols.length,
    intervals: INTERVALS,
    floor: { tradesPerS: floorPerS, runs: [floorRun.tradesPerS, floorAfter.tradesPerS] },
    endToEnd: fullSpeed,
    ratioToFloor: ratio,
    latency: { rate: LATENCY_RATE, seconds: LATENCY_SECONDS, flush10ms: latency10ms, flush1s: latency1s },
  };
  writeReport(args.out ?? join('bench', 'results', 'embedded.json'), report);
}

if (args.paths.has('embedded')) await embedded();

/** Why the paths that need the stack cannot run here (Java or Maven missing), or undefined. */
async function stackMissing(): Promise<string | undefined> {
  try {
    await checkPrerequisites(process.env);
    return undefined;
  } catch (error) {
    if (!(error instanceof StackPrerequisiteError)) throw error;
    return error.message;
  }
}
const missing = args.paths.has('kafka') || args.paths.has('cassandra') || args.paths.has('spark') ? await stackMissing() : undefined;
if (missing !== undefined) process.stdout.write(`\ncluster paths skipped: ${missing}\n`);

if (args.paths.has('kafka') && missing === undefined) {
  // bench:kafka in a process of its own, so its heap and the embedded run's do not mix.
  process.stdout.write('\n');
  execFileSync(process.execPath, ['--import', 'tsx', join('bench', 'kafka.ts'), '--trades', String(args.clusterTrades), '--symbols', String(SYMBOL_COUNT)], {
    stdio: 'inherit',
    timeout: 1_800_000,
  });
}

if ((args.paths.has('cassandra') || args.paths.has('spark')) && missing === undefined) {
  const report = await runCluster({
    base: loadConfig({ env: process.env }),
    env: process.env,
    trades: args.clusterTrades,
    symbols: benchSymbols(SYMBOL_COUNT),
    latencySeconds: args.clusterLatencySeconds,
    latencyRate: args.clusterLatencyRate,
    cassandra: args.paths.has('cassandra'),
    spark: args.paths.has('spark'),
  });
  printClusterTables(report);
  const paths = [...args.paths].filter((p) => p === 'cassandra' || p === 'spark');
  writeReport(args.clusterOut ?? join('bench', 'results', 'cluster.json'), { benchmark: 'cluster', paths, date: new Date().toISOString(), ...report });
}
