// The produce role of the Kafka benchmark in a process of its own, as `tickstream produce` runs
// beside `tickstream process`: bench/kafka.ts forks it, it builds the seeded frames, says
// `ready`, plays them into the run's topic when told `go`, and answers with what it delivered.
// Clocks are epoch milliseconds (performance.timeOrigin + now), comparable across processes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRoles } from '../src/app/index.ts';
import { silentLogger } from '../src/observability/index.ts';
import { benchConfig } from './end-to-end.ts';
import { FrameSource } from './frame-source.ts';
import { benchSymbols, makeFrames } from './frames.ts';
import { until } from './measure.ts';

/** What the parent asks for, as the fork's one argument (JSON). */
export interface ProducerChildTask {
  readonly trades: number;
  readonly symbols: number;
  readonly tradesPerFrame: number;
  readonly startTs: number;
  /** The trades topic of the run. */
  readonly topic: string;
}

export type ProducerChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly delivered: number; readonly startedAt: number; readonly ackedAt: number }
  | { readonly type: 'failed'; readonly message: string };

const send = (message: ProducerChildMessage): void => void process.send?.(message);
const epoch = (performanceNow: number): number => performance.timeOrigin + performanceNow;

async function main(task: ProducerChildTask): Promise<void> {
  const symbols = benchSymbols(task.symbols);
  const frames = makeFrames(task.trades, symbols, task.startTs, task.tradesPerFrame);
  await new Promise<void>((resolve) => {
    process.once('message', () => resolve());
    send({ type: 'ready' });
  });
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-bench-producer-'));
  try {
    const source = new FrameSource(frames, { tradesPerFrame: task.tradesPerFrame });
    const config = benchConfig(dir, symbols, '1s', { profile: 'cluster', store: 'sqlite', 'kafka.topic': task.topic }, process.env);
    const set = await startRoles(config, { produce: true, process: false, serve: false }, { logger: silentLogger, source });
    await source.finished();
    const delivered = source.counters.received;
    await until(() => set.stats.produced >= delivered, 600_000, 'Kafka to take every trade');
    const ackedAt = epoch(performance.now());
    await set.close();
    send({ type: 'done', delivered, startedAt: epoch(source.startedAt), ackedAt });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main(JSON.parse(process.argv[2] ?? '{}') as ProducerChildTask).then(
  () => process.disconnect?.(),
  (error: unknown) => {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    process.exitCode = 1;
    process.disconnect?.();
  },
);
