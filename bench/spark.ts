// The Spark path beside the TS engine on the same topic and input (see cluster.ts), with the
// Cassandra store alone; `npm run bench -- --paths cassandra,spark` runs the same thing.
// Usage: npm run bench:spark -- [--trades 100000] [--symbols 10] [--latency-seconds 30] [--latency-rate 2000] [--out file.json]
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { benchArgs } from './args.ts';
import { runCluster } from './cluster.ts';
import { printClusterTables } from './cluster-report.ts';
import { benchSymbols } from './frames.ts';
import { writeReport } from './measure.ts';

const args = benchArgs('npm run bench:spark', 'Runs the same input through the TS engine and the Spark bar job (Kafka → Cassandra) and the Cassandra store alone, and writes bench/results/spark.json.', {
  trades: 100_000,
  symbols: 10,
  latencySeconds: 30,
  latencyRate: 2_000,
});

const report = await runCluster({
  base: loadConfig({ env: process.env }),
  env: process.env,
  trades: args.trades,
  symbols: benchSymbols(args.symbols),
  latencySeconds: args.latencySeconds,
  latencyRate: args.latencyRate,
  cassandra: true,
  spark: true,
});
printClusterTables(report);
writeReport(args.out ?? join('bench', 'results', 'spark.json'), { benchmark: 'spark', date: new Date().toISOString(), ...report });
