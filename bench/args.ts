import { parseArgs } from 'node:util';
import { positive } from './measure.ts';

export interface BenchArgs {
  readonly trades: number;
  readonly symbols: number;
  readonly latencySeconds: number;
  readonly latencyRate: number;
  readonly out: string | undefined;
}

/** The flags every benchmark takes; `--help` prints the usage and what the benchmark writes, then exits. */
export function benchArgs(command: string, writes: string): BenchArgs {
  const { values } = parseArgs({
    options: {
      trades: { type: 'string', default: '1000000' },
      symbols: { type: 'string', default: '50' },
      'latency-seconds': { type: 'string', default: '5' },
      'latency-rate': { type: 'string', default: '10000' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${command} -- [--trades 1000000] [--symbols 50] [--latency-seconds 5] [--latency-rate 10000] [--out file.json]\n${writes}\n`);
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
