import { Command } from 'commander';
import type { ConfigKey } from '../config/index.ts';
import { SourceUnavailableError } from '../errors.ts';
import { addConfigOptions, CLUSTER_KEYS, configFromOptions, PIPELINE_KEYS } from './config-options.ts';
import { startUnlessStopped, untilSignal } from './signals.ts';
import { dashboardPart, webRoot } from './web-root.ts';

// The cluster profile's keys too: a replay with --profile cluster goes through Kafka into the store of that profile.
const KEYS = [...PIPELINE_KEYS.filter((k) => !k.startsWith('simulator.') && k !== 'source' && k !== 'replay.file' && k !== 'finnhub.url'), ...CLUSTER_KEYS];

export function replayCommand(): Command {
  const cmd = new Command('replay')
    .description('run the pipeline over an NDJSON file of trades, at ×N speed or as fast as possible')
    .argument('<file>', 'NDJSON file, or - for standard input (a pipe): one trade or one Finnhub message per line, as below')
    .option('--exit', 'exit once the file is processed instead of serving the dashboard')
    .addHelpText(
      'after',
      `
A line holds one of these, and a file may mix them:
  {"symbol","price","volume","ts","conditions","source","ingest_ts"}
      a trade record as tickstream writes it (source and ingest_ts are replaced)
  {"s","p","v","t","c"}
      a Finnhub trade
  {"type":"trade","data":[{"s","p","v","t","c"}, ...]}
      a Finnhub trade message as captured from the WebSocket feed: each of its
      trades is replayed at its own time, and a bad one is set aside alone
  {"type":"ping"}
      a Finnhub ping, skipped
Any other line is set aside as invalid, with its line number.

Examples:
  tickstream replay trades.ndjson --replay-speed 10
  tickstream replay trades.ndjson --replay-speed 0 --exit
  zcat day.ndjson.gz | tickstream replay - --replay-speed 0 --exit`,
    );
  const descriptions: Partial<Record<ConfigKey, string>> = {
    symbols: "symbols the dashboard lists first; the file's trades are replayed whatever their symbol, and their symbols listed too",
  };
  addConfigOptions(cmd, KEYS, [], descriptions).action(async (file: string, options: Record<string, unknown>) => {
    const config = configFromOptions(options, KEYS, { source: 'replay', 'replay.file': file });
    const { counted, createLogger } = await import('../observability/index.ts');
    const logger = createLogger({ level: config.logLevel });
    const root = webRoot();
    // With --exit nothing is served: a scripted replay needs no port, and a busy one does not stop it.
    const exit = options['exit'] === true;
    const pipeline = await startUnlessStopped(async (stop) => {
      // Loaded here, not at the top: --help and --version need none of the pipeline's modules.
      const { startRoles } = await import('../app/index.ts');
      return startRoles(config, { produce: true, process: true, serve: !exit }, { logger, statusLine: true, webRoot: root, stop });
    });
    const [{ sideLogPlaces }, { ReplaySource }] = await Promise.all([import('../app/index.ts'), import('../source/index.ts')]);
    const source = pipeline.source;
    if (!(source instanceof ReplaySource)) throw new Error('a replay has a replay source');
    const speed = config.replay.speed === 0 ? 'full speed' : `×${config.replay.speed}`;
    logger.info([`replaying ${source.input} at ${speed}`, dashboardPart(pipeline.url, root)].filter((p) => p !== undefined).join(' · '));
    const places = sideLogPlaces(config);
    const counts = (): string => {
      const s = pipeline.stats;
      const line = `${counted(s.received, 'trade')}, ${s.invalid} invalid, ${s.late} late, ${counted(s.barsStored, 'bar write')}`;
      const where = [...(s.invalid > 0 ? [`invalid records in ${places.deadLetters}`] : []), ...(s.late > 0 ? [`late trades in ${places.late}`] : [])];
      return where.length === 0 ? line : `${line}; ${where.join(', ')}`;
    };
    const done = source.finished().then(async () => {
      // Stopped by a signal or a read error before the end: said after the close.
      if (!source.ended) return;
      await pipeline.flush();
      logger.info(`replay finished: ${counts()}`);
    });
    if (exit) await Promise.race([done, untilSignal()]);
    else await untilSignal();
    await pipeline.close();
    // With --exit a script reads the exit code: a file that failed partway is not a finished replay.
    const failure = source.failure;
    if (failure !== undefined) throw new SourceUnavailableError(`the replay of ${source.input} stopped at ${failure}`);
    if (!source.ended) logger.info(`replay stopped at line ${source.line} of ${source.input}: ${counts()}`);
  });
  return cmd;
}
