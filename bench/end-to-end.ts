// The embedded pipeline over benchmark frames, timed until the last trade and its bars are stored.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPipeline } from '../src/app/index.ts';
import { loadConfig, type Config, type ConfigKey } from '../src/config/index.ts';
import { silentLogger } from '../src/observability/index.ts';
import { FrameSource } from './frame-source.ts';
import { INTERVALS, TRADES_PER_FRAME } from './frames.ts';
import { rssSampler, until } from './measure.ts';

/**
 * A benchmark run's pipeline config: built-in defaults and the run's flags. With `env`, the
 * config file and TICKSTREAM_* variables count too, as for the CLI (the Kafka path reads
 * where the stack is from them).
 */
export function benchConfig(
  dataDir: string,
  symbols: readonly string[],
  flushInterval: string,
  flags: Partial<Record<ConfigKey, string>> = {},
  env?: NodeJS.ProcessEnv,
): Config {
  return loadConfig({
    ...(env === undefined ? { env: {}, cwd: dataDir } : { env }),
    flags: {
      dataDir,
      port: '0',
      symbols: symbols.join(','),
      intervals: INTERVALS.join(','),
      flushInterval,
      logLevel: 'silent',
      ...flags,
    },
  });
}

export interface RunResult {
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
export async function endToEnd(frames: readonly string[], symbols: readonly string[], options: { flushInterval: string; rate?: number; maxMs?: number }): Promise<RunResult> {
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

