import { Command, Option } from 'commander';
import type { SparkQueryReport } from '../app/spark-processor.ts';
import type { ConfigKey } from '../config/index.ts';
import { addConfigOptions, configFromOptions } from './config-options.ts';

/** The data dir holds the session id that the process role's job runs in; the URL is where Spark Connect is, as for `process`. */
const KEYS: readonly ConfigKey[] = ['dataDir', 'logLevel', 'spark.connectUrl'];

const cell = (v: string | number | undefined): string => (v === undefined ? '-' : String(v));
const rate = (v: number | undefined): string | undefined => (v === undefined ? undefined : v.toFixed(1));

/** One row per query: name, state, batch, input rows/s, processed rows/s, batch duration, watermark. */
export function renderSparkStatus(reports: readonly SparkQueryReport[]): string {
  if (reports.length === 0) return 'no bar-job queries active in this session\n';
  const header = ['QUERY', 'STATE', 'BATCH', 'IN ROWS/S', 'DONE ROWS/S', 'BATCH MS', 'WATERMARK'];
  const rows = reports.map((r) => [
    r.name,
    r.active ? 'active' : `ended${r.exception === undefined ? '' : `: ${r.exception}`}`,
    cell(r.batchId),
    cell(rate(r.inputRowsPerSecond)),
    cell(rate(r.processedRowsPerSecond)),
    cell(r.batchDurationMs),
    cell(r.watermark),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/** `--url` is the older spelling of `--spark-connect-url`; it goes through the same check, and its errors name --url. */
function config(options: Record<string, unknown>) {
  const url = options['url'];
  if (typeof url !== 'string') return configFromOptions(options, KEYS);
  return configFromOptions(options, KEYS, { 'spark.connectUrl': url }, undefined, { 'spark.connectUrl': '--url' });
}

function sub(name: string, description: string): Command {
  return addConfigOptions(new Command(name).description(description), KEYS).addOption(
    new Option('--url <sc-url>', 'the same as --spark-connect-url').hideHelp(),
  );
}

/** `tickstream spark status|stop`: the bar job that `tickstream process --engine spark` runs, seen from another shell. */
export function sparkCommand(): Command {
  const status = sub('status', 'list the bar job\'s streaming queries with their last progress: input rows/s, batch duration, watermark')
    .addOption(new Option('--json', 'print JSON instead of a table'))
    .action(async (options: Record<string, unknown>) => {
      const c = config(options);
      const { sparkJobStatus } = await import('../app/spark-processor.ts');
      const reports = await sparkJobStatus(c, {});
      process.stdout.write(options['json'] === true ? `${JSON.stringify(reports, null, 2)}\n` : renderSparkStatus(reports));
    });

  const stop = sub('stop', 'stop the bar job\'s streaming queries; they resume from their checkpoints when the job starts again').action(
    async (options: Record<string, unknown>) => {
      const c = config(options);
      const { stopSparkJob } = await import('../app/spark-processor.ts');
      const stopped = await stopSparkJob(c, {});
      process.stdout.write(stopped.length === 0 ? 'no bar-job queries were active\n' : stopped.map((name) => `stopped ${name}\n`).join(''));
    },
  );

  return new Command('spark')
    .description('the Spark bar job: its queries run in the Spark Connect session kept in <data-dir>/spark/session-id')
    .addHelpText(
      'after',
      `
Examples:
  tickstream spark status
  tickstream spark status --json
  tickstream spark stop --data-dir ./.tickstream`,
    )
    .addCommand(status)
    .addCommand(stop);
}
