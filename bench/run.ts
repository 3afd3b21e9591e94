// The embedded-path benchmark: source → in-process log → TS engine → SQLite, beside its floor
// (a bare loop that only parses the same frames and updates a Map of bars), in one run.
// Usage: npm run bench -- [--trades N] [--symbols N] [--latency-seconds S] [--out file.json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPipeline } from '../src/app/index.ts';
import { loadConfig, type Config } from '../src/config/index.ts';
import { silentLogger } from '../src/observability/index.ts';
import type { FinnhubTrade } from '../src/source/index.ts';
import { benchArgs } from './args.ts';
import { FrameSource } from './frame-source.ts';
import { benchSymbols, INTERVALS, makeFrames, TRADES_PER_FRAME } from './frames.ts';
import { fmt, printTable, progress, rssSampler, until, writeReport } from './measure.ts';

const args = benchArgs('npm run bench', 'Measures the embedded pipeline end to end beside its floor and writes bench/results/embedded.json.');
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

function benchConfig(dataDir: string, symbols: readonly string[], flushInterval: string): Config {
  return loadConfig({
    env: {},
    cwd: dataDir,
    flags: {
      dataDir,
      port: '0',
      symbols: symbols.join(','),
      intervals: INTERVALS.join(','),
      flushInterval,
      logLevel: 'silent',
    },
  });
}

interface RunResult {
  trades: number;
  seconds: number;
  tradesPerS: number;
  barsStored: number;
  late: number;
  rssPeakMb: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

/** Runs the whole embedded pipeline over the frames; time runs until the last trade and its bars are stored. */
async function endToEnd(frames: readonly string[], symbols: readonly string[], options: { flushInterval: string; rate?: number; maxMs?: number }): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-bench-'));
  try {
    const source = new FrameSource(frames, { tradesPerFrame: TRADES_PER_FRAME, ...(options.rate === undefined ? {} : { rate: options.rate }), ...(options.maxMs === undefined ? {} : { maxMs: options.maxMs }) });
    const pipeline = await startPipeline(benchConfig(dir, symbols, options.flushInterval), { logger: silentLogger, source });
    const rss = rssSampler();
    const t0 = performance.now();
    await source.finished();
    const delivered = source.counters.received;
    await until(() => pipeline.stats.processed >= delivered, 600_000, 'the engine to read every trade');
    // As `replay --exit` does at the end of its file: write what is left now, not at the next tick.
    await pipeline.flush();
    await until(() => pipeline.stats.tradesStored + pipeline.stats.late >= delivered, 600_000, 'the store to hold every trade');
    const seconds = (performance.now() - t0) / 1000;
    const rssPeakMb = rss.stop();
    const s = pipeline.stats;
    const result: RunResult = {
      trades: delivered,
      seconds,
      tradesPerS: delivered / seconds,
      barsStored: s.barsStored,
      late: s.late,
      rssPeakMb,
      latencyP50Ms: s.latency.quantile(0.5),
      latencyP99Ms: s.latency.quantile(0.99),
    };
    await pipeline.close();
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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

const paced = makeFrames(LATENCY_RATE * LATENCY_SECONDS, symbols, Date.now());
progress(`latency at ${fmt(LATENCY_RATE)} trades/s for ${LATENCY_SECONDS}s, flush interval 10ms`);
const latency10ms = await endToEnd(paced, symbols, { flushInterval: '10ms', rate: LATENCY_RATE, maxMs: LATENCY_SECONDS * 1000 });
progress(`latency at ${fmt(LATENCY_RATE)} trades/s for ${LATENCY_SECONDS}s, default flush interval 1s`);
const latency1s = await endToEnd(makeFrames(LATENCY_RATE * LATENCY_SECONDS, symbols, Date.now()), symbols, {
  flushInterval: '1s',
  rate: LATENCY_RATE,
  maxMs: LATENCY_SECONDS * 1000,
});

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
  node: process.version,
  cpus: (await import('node:os')).cpus().length,
  trades: TRADES,
  symbols: symbols.length,
  intervals: INTERVALS,
  floor: { tradesPerS: floorPerS, runs: [floorRun.tradesPerS, floorAfter.tradesPerS] },
  endToEnd: fullSpeed,
  ratioToFloor: ratio,
  latency: { rate: LATENCY_RATE, seconds: LATENCY_SECONDS, flush10ms: latency10ms, flush1s: latency1s },
};
writeReport(args.out ?? join('bench', 'results', 'embedded.json'), report);
