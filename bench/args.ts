import { parseArgs } from 'node:util';
import { positive, progress } from './measure.ts';

export interface BenchArgs {
  readonly trades: number;
  readonly symbols: number;
  readonly latencySeconds: number;
  readonly latencyRate: number;
  readonly out: string | undefined;
}

export const BENCH_PATHS = ['embedded', 'kafka', 'cassandra', 'spark'] as const;
export type BenchPath = (typeof BENCH_PATHS)[number];

/** `npm run bench`'s flags: the common ones, which paths to run, and the cluster paths' own sizes. */
export interface PathArgs extends BenchArgs {
  readonly paths: ReadonlySet<BenchPath>;
  readonly clusterTrades: number;
  readonly clusterLatencySeconds: number;
  readonly clusterLatencyRate: number;
  readonly clusterOut: string | undefined;
}

const DEFAULTS = { trades: 1_000_000, symbols: 50, latencySeconds: 5, latencyRate: 10_000 };
/** Spark keeps up with a few thousand trades/s on two cores; faster, its paced run only measures its backlog. */
/** The cluster throughput input: large enough for steady state, small enough for the Spark path (about 5k trades/s here). */
const CLUSTER_TRADES = 200_000;
const CLUSTER_LATENCY_RATE = 2_000;

const commonOptions = (d: typeof DEFAULTS) =>
  ({
    trades: { type: 'string', default: String(d.trades) },
    symbols: { type: 'string', default: String(d.symbols) },
    'latency-seconds': { type: 'string', default: String(d.latencySeconds) },
    'latency-rate': { type: 'string', default: String(d.latencyRate) },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  }) as const;

/**
 * The flags every benchmark takes; `--help` prints the usage and what the benchmark writes, then exits.
 * A benchmark whose path is much slower than the others may lower the defaults.
 */
export function benchArgs(command: string, writes: string, defaults: Partial<Omit<BenchArgs, 'out'>> = {}): BenchArgs {
  const d = { ...DEFAULTS, ...defaults };
  const { values } = parseArgs({ options: commonOptions(d) });
  if (values.help) {
    process.stdout.write(
      `${command} -- [--trades ${d.trades}] [--symbols ${d.symbols}] [--latency-seconds ${d.latencySeconds}] [--latency-rate ${d.latencyRate}] [--out file.json]\n${writes}\n`,
    );
    process.exit(0);
  }
  return {
    trades: positive('trades', values.trades),
    symbols: positive('symbols', values.symbols),
    latencySeconds: positive('latency-seconds', values['latency-seconds']),
    latencyRate: positive('latency-rate', values['latency-rate']),
    out: values.out,
  };
}

/** `npm run bench`'s flags, with `--paths` and the cluster paths' sizes; `--help` documents them. */
export function pathArgs(command: string): PathArgs {
  const d = DEFAULTS;
  const { values } = parseArgs({
    options: {
      ...commonOptions(d),
      paths: { type: 'string', default: BENCH_PATHS.join(',') },
      'cluster-trades': { type: 'string' },
      'cluster-latency-seconds': { type: 'string' },
      'cluster-latency-rate': { type: 'string', default: String(CLUSTER_LATENCY_RATE) },
      'cluster-out': { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(
      [
        `${command} -- [--paths ${BENCH_PATHS.join(',')}] [--trades ${d.trades}] [--symbols ${d.symbols}] [--latency-seconds ${d.latencySeconds}] [--latency-rate ${d.latencyRate}] [--out file.json]`,
        `                [--cluster-trades ${CLUSTER_TRADES}] [--cluster-latency-seconds S] [--cluster-latency-rate ${CLUSTER_LATENCY_RATE}] [--cluster-out file.json]`,
        '',
        'Paths (comma-separated, default all):',
        '  embedded   source → in-process log → TS engine → SQLite, beside its floor; writes bench/results/embedded.json (--out)',
        '  kafka      simulator frames → Kafka → TS engine → SQLite, beside the raw consume rate of the same topic',
        '             (npm run bench:kafka in its own process, --cluster-trades trades); writes bench/results/kafka.json',
        '  cassandra  Kafka → TS engine → Cassandra, and the Cassandra store alone over the same trades and bars',
        '  spark      Kafka → Spark → Cassandra, on the same topic and input as the TS engine, side by side',
        '  cassandra and spark write bench/results/cluster.json (--cluster-out). The kafka, cassandra and spark paths',
        '  need Java and Maven (the stack launcher starts Kafka, Cassandra and Spark when they are not running);',
        '  without them they are skipped with one line and the embedded path still runs.',
        '',
        'Sizes:',
        '  --trades, --symbols            trades of the full-speed runs and symbols, for every path',
        '  --latency-seconds, --latency-rate  the embedded paced runs',
        '  --cluster-trades               trades of the cluster throughput input (default 200000: the Spark path reads about 5k/s)',
        '  --cluster-latency-seconds      length of each cluster paced run (default: --latency-seconds; the first',
        '                                 third, at most 5 s, warms up and is left out of the latencies)',
        `  --cluster-latency-rate         trades/s of each cluster paced run (default ${CLUSTER_LATENCY_RATE})`,
        '',
      ].join('\n'),
    );
    process.exit(0);
  }
  const paths = new Set<BenchPath>();
  for (const p of (values.paths ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (!(BENCH_PATHS as readonly string[]).includes(p)) {
      progress(`--paths takes ${BENCH_PATHS.join(', ')} (comma-separated), got "${p}"`);
      process.exit(2);
    }
    paths.add(p as BenchPath);
  }
  if (paths.size === 0) {
    progress(`--paths names none of ${BENCH_PATHS.join(', ')}`);
    process.exit(2);
  }
  const trades = positive('trades', values.trades);
  const latencySeconds = positive('latency-seconds', values['latency-seconds']);
  return {
    trades,
    symbols: positive('symbols', values.symbols),
    latencySeconds,
    latencyRate: positive('latency-rate', values['latency-rate']),
    out: values.out,
    paths,
    clusterTrades: values['cluster-trades'] === undefined ? CLUSTER_TRADES : positive('cluster-trades', values['cluster-trades']),
    clusterLatencySeconds: values['cluster-latency-seconds'] === undefined ? latencySeconds : positive('cluster-latency-seconds', values['cluster-latency-seconds']),
    clusterLatencyRate: positive('cluster-latency-rate', values['cluster-latency-rate']),
    clusterOut: values['cluster-out'],
  };
}
