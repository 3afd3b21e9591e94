import { resolve } from 'node:path';
import type { Config } from '../config/index.ts';
import { KafkaConsole, pipelineTopics } from '../bus/index.ts';
import type { Bar } from '../domain/index.ts';
import type { DirectoryLock } from '../directory-lock.ts';
import { ConfigError } from '../errors.ts';
import { createLogger, PipelineStats, type Logger } from '../observability/index.ts';
import { checkListenerPorts, checkReplayFile, ensureTopics, ensureTopicsOrWait, listening, makeDataDir, type Listener, type TopicWait } from './start-checks.ts';
import type { Store, SymbolTrades } from '../store/store.ts';
import { createHttpServer, createMetricsServer, type HttpServer, type MetricsServer } from '../server/index.ts';
import type { SourceStatus, TradeSource } from '../source/source.ts';
import { AppendWindow } from './append-window.ts';
import { lockEngine } from './engine-lock.ts';
import { producingSink } from './producing-sink.ts';
import { KafkaView } from './kafka-view.ts';
import { Processor } from './processor.ts';
import { sparkProgressSamples, sparkStats, startSparkProcessor, type SparkProcessor } from './spark-processor.ts';
import { openSource, sourceKindOf, type OpenedSource } from './source-factory.ts';
import { statusLine } from './status-line.ts';
import { openStore, storeKindOf } from './store-factory.ts';
import { unlessStopped } from './start-stop.ts';
import { StoreFeed } from './store-feed.ts';
import { openTransport, type Transport } from './transport.ts';

/** The roles of DESIGN.md: `produce` (source → log), `process` (log → engine → store), `serve` (store → HTTP). */
export interface Roles {
  readonly produce: boolean;
  readonly process: boolean;
  readonly serve: boolean;
}

export const ALL_ROLES: Roles = { produce: true, process: true, serve: true };

/** Trades a source may hand over before the log has acknowledged them (see AppendWindow). */
const APPEND_WINDOW_TRADES = 20_000;

export interface PipelineOptions {
  readonly logger?: Logger;
  /** Print the periodic status line (the CLI does; tests don't). */
  readonly statusLine?: boolean;
  /** Where the dashboard's built files are. */
  readonly webRoot?: string | undefined;
  /** A source to use instead of the one the config names (tests, the benchmark). The pipeline starts and closes it. */
  readonly source?: TradeSource;
  /**
   * Aborted by a signal before the start has completed: the start stops at its next step, or
   * while it waits (for the store, Kafka, a FIFO's writer), closes what it opened and rejects
   * with the signal's reason.
   */
  readonly stop?: AbortSignal;
}

/** What a process running some of the roles holds; a part is undefined when its role is not here. */
export interface RoleSet {
  readonly config: Config;
  readonly stats: PipelineStats;
  readonly url: string | undefined;
  readonly store: Store | undefined;
  readonly source: TradeSource | undefined;
  readonly simulatorUrl: string | undefined;
  dropSourceConnections(): void;
  /** Writes everything received so far to the store (process role). */
  flush(): Promise<void>;
  /**
   * Settles with the error the TS engine stopped on (its consumer or handler failed for good);
   * pending for as long as it runs, and forever in a set without it.
   */
  readonly engineStopped: Promise<unknown>;
  close(): Promise<void>;
}

/** Every role in one process, as `tickstream run` starts it. */
export interface Pipeline extends RoleSet {
  /** The dashboard and API, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly store: Store;
  readonly source: TradeSource;
}

/**
 * Every role of a profile in one process: source → log (in-process, or Kafka in the cluster
 * profile) → TS engine → store → HTTP.
 */
export async function startPipeline(config: Config, options: PipelineOptions = {}): Promise<Pipeline> {
  const set = await startRoles(config, ALL_ROLES, options);
  const { url, store, source } = set;
  if (url === undefined || store === undefined || source === undefined) throw new Error('a pipeline with every role has every part');
  return Object.assign(set, { url, store, source });
}

/**
 * Starts the given roles. The embedded profile's log lives inside one process, so there
 * `produce` and `process` only run together. Stops in reverse order on close(): the source
 * first, then the log is drained, the engine flushes and saves its checkpoint, and the
 * server and store close last.
 */
export async function startRoles(config: Config, roles: Roles, options: PipelineOptions = {}): Promise<RoleSet> {
  options.stop?.throwIfAborted();
  const sparkEngine = roles.process && config.engine === 'spark';
  if (sparkEngine && config.profile !== 'cluster') {
    throw new ConfigError('engine', config.engine, 'ts in the embedded profile: the Spark engine reads Kafka and writes Cassandra (use --profile cluster)');
  }
  if (sparkEngine && storeKindOf(config) !== 'cassandra') {
    throw new ConfigError('store', config.store, 'cassandra or auto with the Spark engine: Spark writes its bars and trades to Cassandra');
  }
  if (config.profile === 'embedded' && roles.produce !== roles.process) {
    throw new ConfigError('profile', config.profile, 'cluster: the in-process log of the embedded profile lives in one process (use `tickstream run`)');
  }
  if (roles.produce && options.source === undefined && config.source === 'replay' && config.replay.file !== undefined) {
    checkReplayFile(config.replay.file);
  }
  const listeners: Listener[] = [];
  if (roles.serve) listeners.push(['port', config.port, 'HTTP server']);
  else if (config.metricsPort > 0) listeners.push(['metricsPort', config.metricsPort, 'metrics server']);
  if (roles.produce && options.source === undefined && sourceKindOf(config) === 'simulator') listeners.push(['simulator.port', config.simulator.port, 'simulator']);
  checkListenerPorts(listeners);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const stats = new PipelineStats();
  // Unknown until the Spark job has run a micro-batch (also while it waits for Kafka to start).
  if (sparkEngine) stats.logLag = null;
  const dataDir = resolve(config.dataDir);
  makeDataDir(dataDir);
  // The TS engine's id keys its checkpoints in the store, and the lock an embedded engine holds.
  const identity = engineIdentity(config, config.profile === 'cluster', options.source !== undefined);
  const parts: Parts = { timers: [] };
  const timers = parts.timers;
  const stop = options.stop;
  const step = <T>(promise: Promise<T>): Promise<T> => unlessStopped(promise, stop);
  let failure: unknown;
  let engineFailed: (error: unknown) => void = () => {};
  const engineStopped = new Promise<unknown>((resolve) => (engineFailed = resolve));
  /** The engine failed: its consumer stopped, or its start after waiting for Kafka did. */
  const stopEngine = (error: unknown): void => {
    failure = error;
    logger.error('engine stopped', { error: error instanceof Error ? error.message : String(error) });
    engineFailed(error);
  };

  try {
    // Before anything writes: two embedded engines under one id would resume from the same
    // checkpoint and save over each other's. Engines of the cluster profile share a consumer
    // group, which gives each partition to one of them, and a serve role only reads.
    if (roles.process && !sparkEngine && config.profile !== 'cluster') parts.engineLock = lockEngine(dataDir, identity.engineId);
    const store = roles.process || roles.serve ? await openStore(config, { logger: logger.child('store'), stop }) : undefined;
    parts.store = store;

    const transport: Transport | undefined =
      roles.produce || (roles.process && !sparkEngine)
        ? openTransport(config, {
            dataDir,
            logger,
            onError: stopEngine,
            // Records in the topic that are not trades are invalid input too, dead-lettered by the engine's consumer.
            onUndecodable: (count) => (stats.invalid += count),
          })
        : undefined;
    parts.transport = transport;
    // Made before anything waits on Kafka: the Kafka producer takes its spool directory, and a
    // data dir another producer uses is refused at once rather than after the source started.
    const producer = roles.produce ? transport?.producer : undefined;
    if (transport?.kind === 'kafka') {
      if (roles.process && !roles.produce) {
        const created = await step(ensureTopics(config));
        if (created.length > 0) logger.info('topics created', { topics: created.join(',') });
      } else {
        // An engine alone cannot start without Kafka, and loses nothing by not starting; a
        // producer with a live source would, so it starts and spools until Kafka answers. An
        // engine beside it (tickstream run) starts once the topics are there.
        parts.topicWait = await step(ensureTopicsOrWait(config, logger.child('kafka')));
      }
    }

    let opened: OpenedSource | undefined;
    if (roles.produce) {
      opened = options.source === undefined ? await step(openSource(config, { logger: logger.child('source') })) : injected(options.source);
      parts.opened = opened;
    }
    // A process without a source (the process or serve role) says where the source is instead of
    // reporting one that is closed: the dashboard of a split deployment raised a red banner for it.
    // In the embedded profile the source runs with the engine, in `tickstream run`.
    const elsewhere = `the source runs in another process (tickstream ${config.profile === 'cluster' ? 'produce' : 'run'})`;
    const sourceStatus = (): SourceStatus => opened?.source.status() ?? { kind: sourceKindOf(config), state: 'elsewhere', detail: elsewhere };

    let server: HttpServer | undefined;
    let url: string | undefined;
    if (roles.serve && store !== undefined) {
      const topics = pipelineTopics(config.kafka.topic);
      const kafka =
        config.profile === 'cluster'
          ? new KafkaConsole({ brokers: config.kafka.brokers, clientId: config.kafka.clientId, topics, logger: logger.child('kafka') })
          : undefined;
      parts.kafkaConsole = kafka;
      // A serve role without the engine has idle counters of its own: the dashboard shows the pipeline as Kafka sees it.
      const view =
        kafka !== undefined && !roles.process
          ? new KafkaView({
              groupId: config.engine === 'spark' ? null : config.kafka.groupId,
              topics,
              read: (names, group) => kafka.progress(names, group),
              stats,
              logger: logger.child('kafka-view'),
            })
          : undefined;
      parts.kafkaView = view;
      server = createHttpServer({
        host: config.host,
        port: config.port,
        store,
        stats,
        config,
        symbols: config.symbols,
        intervals: config.intervals,
        sourceStatus,
        logger: logger.child('http'),
        ...(options.webRoot === undefined ? {} : { webRoot: options.webRoot }),
        ...(kafka === undefined ? {} : { kafka }),
        // The Spark job's query progress, when this process drives it (started just below the server).
        ...(sparkEngine ? { extraStats: () => sparkStats(parts.spark?.latestProgress(), parts.spark?.lateReplay) } : {}),
        ...(view === undefined ? {} : { extraStats: () => view.stats() }),
      });
      parts.server = server;
      // Bound before the engine starts: a port in use stops the start before the engine joins its consumer group.
      const http = server;
      url = await step(listening('the HTTP server', config.host, config.port, '--port', () => http.start()));
      view?.start();
    }

    /**
     * Starts the engine now, or, while `tickstream run` waits for Kafka to answer, once the topics
     * are there: the source spools meanwhile, and `/api/stats` says the engine waits.
     */
    const startEngine = async (what: string, start: () => Promise<void>): Promise<void> => {
      const wait = parts.topicWait;
      if (wait?.waiting !== true) return start();
      logger.info(`${what} starts once Kafka answers`);
      stats.engineWaitingSince = Date.now();
      parts.engineStarting = wait.done
        .then(async () => {
          if (parts.closing === true) return;
          await start();
          stats.engineWaitingSince = undefined;
        })
        .catch(stopEngine);
    };

    let processor: Processor | undefined;
    if (sparkEngine) {
      // Spark reads the trades topic and writes Cassandra itself; this process only drives and watches the job.
      await step(startEngine('the Spark job', async () => {
        parts.spark = await startSparkProcessor(config, { logger: logger.child('spark'), stats });
      }));
    } else if (roles.process && transport !== undefined && store !== undefined) {
      const live = server?.live;
      processor = new Processor({
        ...identity,
        engine: { intervals: config.intervals, lateness: config.lateness },
        store,
        consumer: transport.consumer(),
        late: transport.late,
        stats,
        flushIntervalMs: config.flushInterval,
        logger: logger.child('engine'),
        ...(live === undefined
          ? {}
          : {
              onFlushed: (bars: readonly Bar[], trades: readonly SymbolTrades[]) => {
                live.publishBars(bars);
                live.publishTrades(trades);
              },
              recentTradesPerSymbol: live.tradesPerSymbol,
            }),
      });
      parts.processor = processor;
      parts.failed = () => failure;
      const engine = processor;
      await step(startEngine('the engine', () => engine.start()));
    }
    if (processor === undefined && server !== undefined && store !== undefined) {
      // Without the TS engine here (serve only, or Spark as the engine), new bars and trades are learnt from the store.
      const feed = new StoreFeed({ store, symbols: config.symbols, intervals: config.intervals, live: server.live, logger: logger.child('feed'), stats });
      feed.start();
      parts.feed = feed;
    }

    if (server === undefined && config.metricsPort > 0) {
      // A produce or process role without the dashboard still answers Prometheus.
      const consumerLag = transport !== undefined && roles.process && !sparkEngine ? transport.consumer() : undefined;
      parts.metrics = await step(listening('the metrics server', config.host, config.metricsPort, '--metrics-port', () => createMetricsServer({
        host: config.host,
        port: config.metricsPort,
        stats,
        sourceStatus,
        ...(consumerLag === undefined ? {} : { partitionLag: () => consumerLag.lag() }),
        ...(sparkEngine ? { sparkProgress: () => sparkProgressSamples(parts.spark?.latestProgress()) } : {}),
      })));
      logger.info('metrics listening', { url: parts.metrics.url });
    }

    if (opened !== undefined && transport !== undefined && producer !== undefined) {
      const window = new AppendWindow(APPEND_WINDOW_TRADES);
      parts.appendWindow = window;
      const sink = producingSink(stats, producer, transport.deadLetters, window);
      await step(opened.source.start(sink));
    }

    const refresh = (): void => {
      if (opened !== undefined) {
        stats.unknownMessages = opened.source.counters.unknown;
        stats.reconnects = opened.source.counters.reconnects;
      }
      if (transport !== undefined) {
        // The Spark engine's lag is measured by its processor, at each status check.
        if (!sparkEngine) stats.logLag = tsEngineLogLag(transport);
        stats.spoolDepth = transport.spoolDepth();
        stats.kafkaFetchFailingSince = transport.fetchFailingSince();
        stats.kafkaMissingTopic = transport.missingTopic();
      }
    };
    timers.push(setInterval(refresh, 500));
    if (options.statusLine === true && config.statusInterval > 0) {
      const status = logger.child('status');
      const print = (): void => {
        const view = parts.kafkaView?.stats();
        status.info(statusLine(stats, opened?.source.status(), { roles, ...(view === undefined ? {} : { view }) }));
      };
      timers.push(setInterval(print, config.statusInterval));
    }
    for (const t of timers) t.unref();

    let closing: Promise<void> | undefined;
    const proc = processor;
    return {
      url,
      config,
      stats,
      store,
      source: opened?.source,
      simulatorUrl: opened?.simulatorUrl,
      dropSourceConnections: () => opened?.dropConnections(),
      flush: async () => {
        await parts.appendWindow?.drain();
        if (transport !== undefined) await waitForDrain(transport, () => failure);
        await proc?.flush();
      },
      close: () => (closing ??= closeParts(parts)),
      engineStopped,
    };
  } catch (error) {
    await closeParts(parts).catch(() => {});
    throw error;
  }
}

/** What a role set has started; close() and a failed start stop whatever is there. */
interface Parts {
  readonly timers: NodeJS.Timeout[];
  topicWait?: TopicWait;
  /** The engine's start (the TS engine's or the Spark job's), when it waits for Kafka to answer (see `startRoles`). */
  engineStarting?: Promise<void>;
  closing?: boolean;
  store?: Store | undefined;
  transport?: Transport | undefined;
  opened?: OpenedSource;
  processor?: Processor;
  spark?: SparkProcessor;
  metrics?: MetricsServer;
  failed?: () => unknown;
  feed?: StoreFeed;
  server?: HttpServer;
  kafkaConsole?: KafkaConsole | undefined;
  kafkaView?: KafkaView | undefined;
  appendWindow?: AppendWindow;
  /** The embedded engine's directory, held from before the store opens until everything else is closed. */
  engineLock?: DirectoryLock;
}

/**
 * Stops in the order that loses nothing: the source and the producer first, then the engine
 * drains the log, flushes and saves its checkpoint (committing through the transport), then
 * the server, the transport and the store. The in-process log ends with the process, so the
 * engine reads it to the end first; Kafka keeps what the engine has not read (and the spool
 * what Kafka has not taken) for the next start, so on Kafka the engine stores what it has
 * read and stops, however long a backlog is ahead of it. The embedded engine's lock goes last,
 * however the rest went, so that a next engine starts only once nothing of this one writes.
 */
async function closeParts(parts: Parts): Promise<void> {
  try {
    await stopParts(parts);
  } finally {
    parts.engineLock?.release();
  }
}

async function stopParts(parts: Parts): Promise<void> {
  parts.closing = true;
  for (const t of parts.timers) clearInterval(t);
  parts.topicWait?.close();
  await parts.opened?.close();
  await parts.appendWindow?.drain().catch(() => {});
  await parts.transport?.closeProducer();
  // A final flush the store refused still lets the rest stop; its error is thrown at the end.
  let flushError: unknown;
  await parts.engineStarting;
  if (parts.processor !== undefined && parts.transport !== undefined) {
    if (parts.transport.kind === 'memory') {
      await waitForDrain(parts.transport, parts.failed ?? (() => undefined));
    }
    await parts.processor.close().catch((error: unknown) => {
      flushError = error;
    });
  }
  await parts.spark?.close();
  await parts.metrics?.close();
  await parts.feed?.close();
  await parts.server?.close();
  await parts.kafkaView?.close();
  await parts.kafkaConsole?.close();
  await parts.transport?.close();
  await parts.store?.close();
  if (flushError !== undefined) throw flushError;
}

/**
 * Whose checkpoints the TS engine keeps. Behind Kafka, the consumer group's: the log outlives the
 * process. Behind the in-process log, the embedded engine's; but a replay reads its file from the
 * first line at every start, so its engine (id `replay`, apart from a live run's) starts empty:
 * the same file replayed again gives the same offsets, trades and bars, which the store upserts.
 */
function engineIdentity(config: Config, kafka: boolean, sourceGiven: boolean): { engineId: string; resume: boolean; freshStart?: string } {
  if (kafka) return { engineId: config.kafka.groupId, resume: true };
  if (!sourceGiven && sourceKindOf(config) === 'replay') return { engineId: 'replay', resume: false };
  return { engineId: 'embedded', resume: true, freshStart: `start with another --data-dir than ${config.dataDir}` };
}

function injected(source: TradeSource): OpenedSource {
  return { source, simulatorUrl: undefined, dropConnections: () => {}, close: () => source.close() };
}

/** Waits (bounded) until the engine has read everything the log held at the call. */
async function waitForDrain(transport: Transport, failed: () => unknown, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const behind = await transport.behindLogEnd();
  while (behind() && failed() === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
}


/**
 * The TS engine's log lag: the records between its group's committed offsets and the log ends
 * its last fetch saw. Unknown (null: `lag -`, no /metrics sample) while its fetches fail, since
 * the log end then is unknown too; the last count, however small, would say the engine keeps up
 * while the producer's spool grows.
 */
export function tsEngineLogLag(transport: Pick<Transport, 'unread' | 'fetchFailingSince'>): number | null {
  return transport.fetchFailingSince() === undefined ? Math.max(0, transport.unread()) : null;
}
