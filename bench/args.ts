import { parseArgs } from 'node:util';
import { positive } from './measure.ts';

export interface BenchArgs {
  readonly trades: number;
  readonly symbols: number;
  readonly latencySeconds: number;
  readonly latencyRate: number;
  readonly out: string | undefined;
}

const DEFAULTS = { trades: 1_000_000, symbols: 50, latencySeconds: 5, latencyRate: 10_000 };

/**
 * The flags every benchmark takes; `--help` prints the usage and what the benchmark writes, then exits.
 * A benchmark whose path is much slower than the others may lower the defaults.
 */
export function benchArgs(command: string, writes: string, defaults: Partial<Omit<BenchArgs, 'out'>> = {}): BenchArgs {
  const d = { ...DEFAULTS, ...defaults };
  const { values } = parseArgs({
    options: {
      trades: { type: 'string', default: String(d.trades) },
      symbols: { type: 'string', default: String(d.symbols) },
      'latency-seconds': { type: 'string', default: String(d.latencySeconds) },
      'latency-rate': { type: 'string', default: String(d.latencyRate) },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
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
