import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/index.ts';
import { ensureTradeTopics } from '../bus/index.ts';
import type { Bar } from '../domain/index.ts';
import { createLogger, PipelineStats, type Logger } from '../observability/index.ts';
import { openSqliteStore } from '../store/index.ts';
import type { Store, StoredTrade } from '../store/store.ts';
import { createHttpServer } from '../server/index.ts';
import type { TradeSink, TradeSource } from '../source/source.ts';
import { Processor } from './processor.ts';
import { openSource, type OpenedSource } from './source-factory.ts';
import { statusLine } from './status-line.ts';
import { openTransport, type Transport } from './transport.ts';

export interface PipelineOptions {
  readonly logger?: Logger;
  /** Print the start-up summary and the periodic status line (the CLI does; tests don't). */
  readonly statusLine?: boolean;
  /** Where the dashboard's built files are. */
  readonly webRoot?: string | undefined;
  /** A source to use instead of the one the config names (tests, the benchmark). The pipeline starts and closes it. */
  readonly source?: TradeSource;
}

export interface Pipeline {
  /** The dashboard and API, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly config: Config;
  readonly stats: PipelineStats;
  readonly store: Store;
  readonly source: TradeSource;
  /** The simulator's URL when the source is the built-in simulator. */
  readonly simulatorUrl: string | undefined;
  /** Test hook: drops every simulator connection, as a network failure would. */
  dropSourceConnections(): void;
  /** Writes everything received so far to the store. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Every role of a profile in one process: source → log (in-process, or Kafka in the cluster
 * profile) → TS engine → SQLite → HTTP.
 * Stops in reverse order on close(): the source first, then the log is drained, the engine
 * flushes and saves its checkpoint, and the server and store close last.
 */
export async function startPipeline(config: Config, options: PipelineOptions = {}): Promise<Pipeline> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const stats = new PipelineStats();
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });

  const store = openSqliteStore({ path: join(dataDir, 'tickstream.db'), logger: logger.child('store') });
  const migrated = await store.migrate();
  if (migrated.applied.length > 0) logger.info('store migrated', { applied: migrated.applied.join(','), current: migrated.current });

  let failure: unknown;
  const transport = openTransport(config, {
    dataDir,
    logger,
    onError: (error) => {
      failure = error;
      logger.error('engine stopped', { error: error instanceof Error ? error.message : String(error) });
    },
  });
  if (transport.kind === 'kafka') {
    const created = await ensureTradeTopics(
      { brokers: config.kafka.brokers, clientId: config.kafka.clientId },
      { partitions: config.kafka.topicPartitions, retentionMs: config.kafka.retention },
    );
    if (created.length > 0) logger.info('topics created', { topics: created.join(',') });
  }

  const opened: OpenedSource =
    options.source === undefined ? await openSource(config, { logger: logger.child('source') }) : injected(options.source);

  const server = createHttpServer({
    host: config.host,
    port: config.port,
    store,
    stats,
    config,
    symbols: config.symbols,
    intervals: config.intervals,
    sourceStatus: () => opened.source.status(),
    logger: logger.child('http'),
    ...(options.webRoot === undefined ? {} : { webRoot: options.webRoot }),
  });

  const consumer = transport.consumer();
  const processor = new Processor({
    engineId: transport.kind === 'kafka' ? config.kafka.groupId : 'embedded',
    engine: { intervals: config.intervals, lateness: config.lateness },
    store,
    consumer,
    late: transport.late,
    stats,
    flushIntervalMs: config.flushInterval,
    logger: logger.child('engine'),
    onFlushed: (bars: readonly Bar[], trades: readonly StoredTrade[]) => {
      server.live.publishBars(bars);
      server.live.publishTrades(trades);
    },
  });
  await processor.start();

  const sink: TradeSink = {
    trades: (trades) => {
      stats.received += trades.length;
      stats.receivedRate.mark(trades.length, Date.now());
      const accepted = transport.producer.append(trades);
      return accepted.then(() => {
        stats.produced += trades.length;
      });
    },
    invalid: (letters) => {
      stats.invalid += letters.length;
      return transport.deadLetters.append(letters);
    },
  };

  const url = await server.start();
  await opened.source.start(sink);

  const timers: NodeJS.Timeout[] = [];
  const refresh = (): void => {
    stats.unknownMessages = opened.source.counters.unknown;
    stats.reconnects = opened.source.counters.reconnects;
    let lag = 0;
    for (const v of consumer.lag().values()) lag += v;
    stats.logLag = lag;
    stats.spoolDepth = transport.spoolDepth();
  };
  timers.push(setInterval(refresh, 500));
  if (options.statusLine === true && config.statusInterval > 0) {
    timers.push(setInterval(() => logger.child('status').info(statusLine(stats, opened.source.status())), config.statusInterval));
  }
  for (const t of timers) t.unref();

  let closing: Promise<void> | undefined;
  return {
    url,
    config,
    stats,
    store,
    source: opened.source,
    simulatorUrl: opened.simulatorUrl,
    dropSourceConnections: () => opened.dropConnections(),
    flush: async () => {
      await waitForDrain(transport, () => failure);
      await processor.flush();
    },
    close: () =>
      (closing ??= (async () => {
        for (const t of timers) clearInterval(t);
        await opened.close();
        await transport.producer.close();
        await waitForDrain(transport, () => failure);
        await processor.close();
        await transport.close();
        await server.close();
        await store.close();
      })()),
  };
}

function injected(source: TradeSource): OpenedSource {
  return { source, simulatorUrl: undefined, dropConnections: () => {}, close: () => source.close() };
}

/** Waits (bounded) until the engine has read everything in the log. */
async function waitForDrain(transport: Transport, failed: () => unknown, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (transport.unread() > 0 && failed() === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
}
