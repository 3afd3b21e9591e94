import { Command } from 'commander';
import { maskUrl, shownConfig } from '../config/index.ts';
import { addConfigOptions, CLUSTER_KEYS, configFromOptions, PIPELINE_KEYS, warnUnreplayedFile } from './config-options.ts';

const KEYS = [...PIPELINE_KEYS, ...CLUSTER_KEYS];
import { runUntilStopped, startUnlessStopped } from './signals.ts';
import { dashboardPart, webRoot } from './web-root.ts';

export function runCommand(): Command {
  const cmd = new Command('run')
    .description('run the whole pipeline in one process: source → log → engine → store → dashboard')
    .addHelpText(
      'after',
      `
Without FINNHUB_TOKEN the built-in simulator is the source; with it, real
Finnhub trades.

Examples:
  tickstream run
  tickstream run --symbols AAPL,MSFT --intervals 5s,1m,1h --port 9000
  FINNHUB_TOKEN=... tickstream run --symbols BINANCE:BTCUSDT,BINANCE:ETHUSDT`,
    );
  addConfigOptions(cmd, KEYS).action(async (options: Record<string, unknown>) => {
    const config = configFromOptions(options, KEYS);
    const { counted, createLogger } = await import('../observability/index.ts');
    const logger = createLogger({ level: config.logLevel });
    logger.debug('config', shownConfig(config));
    const root = webRoot();
    const pipeline = await startUnlessStopped(async (stop) => {
      // Loaded here, not at the top: --help and --version need none of the pipeline's modules.
      const { startPipeline } = await import('../app/index.ts');
      return startPipeline(config, { logger, statusLine: true, webRoot: root, stop });
    });
    const why =
      config.source === 'finnhub'
        ? `finnhub (${maskUrl(config.finnhub.url)})`
        : config.source === 'simulator'
          ? `simulator at ${pipeline.simulatorUrl ?? '?'} (no FINNHUB_TOKEN set; set it to stream real trades)`
          : `replay of ${config.replay.file ?? '?'} at ${config.replay.speed === 0 ? 'full speed' : `×${config.replay.speed}`}`;
    logger.info(
      `tickstream running · ${config.profile} profile · source ${why} · ${counted(config.symbols.length, 'symbol')} · bars ${config.intervals.map((i) => i.label).join(',')} · ${dashboardPart(pipeline.url, root) ?? ''}`,
    );
    warnUnreplayedFile(config, logger);
    // Taken rather than refused: a deployment's scripts may give every command one set of settings.
    if (config.metricsPort !== 0) {
      logger.warn(`metricsPort ${config.metricsPort} is ignored: run serves /metrics on its HTTP port`, { url: `${pipeline.url}/metrics` });
    }
    await runUntilStopped(pipeline, logger, 'stopping: flushing bars and saving the checkpoint');
  });
  return cmd;
}
