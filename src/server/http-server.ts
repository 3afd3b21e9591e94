import { existsSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Config } from '../config/index.ts';
import { redactConfig } from '../config/index.ts';
import { smallestInterval, toBarRecord, type Bar, type EpochMs, type Interval } from '../domain/index.ts';
import { TickstreamError } from '../errors.ts';
import { silentLogger, snapshotStats, type Logger, type PipelineStats } from '../observability/index.ts';
import type { SourceStatus } from '../source/source.ts';
import type { Store, SymbolTrades } from '../store/store.ts';
import { kafkaRoutes, type KafkaConsoleApi } from './kafka-routes.ts';
import { LivePush } from './live-push.ts';
import { clientError, frameworkError, pathOf, replyError, routeMethods } from './http-errors.ts';
import { createMetrics } from './metrics.ts';
import { BadRequest, intParam, oneOfParam, optionalIntParam, optionalTimeParam, symbolParam, type Query } from './query-params.ts';
import { readRollup, Turns } from './rollup-read.ts';
import { rollupPlans, type RollupPlan } from './rollup.ts';
import { statusPage, type StatusStats } from './status-page.ts';
import { SPARKLINE_POINTS, SymbolBoard } from './symbol-board.ts';
import { tradeJson } from './trade-json.ts';

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly store: Store;
  readonly stats: PipelineStats;
  readonly config: Config;
  readonly symbols: readonly string[];
  readonly intervals: readonly Interval[];
  readonly sourceStatus: () => SourceStatus;
  readonly logger?: Logger;
  /** The built dashboard; served at `/` when it holds index.html. */
  readonly webRoot?: string;
  /** Most live stream clients at once; STREAM_MAX_CLIENTS unless given. */
  readonly streamMaxClients?: number;
  /** How often the live stream pushes coalesced updates; default 250. */
  readonly pushIntervalMs?: number;
  /** Merged into /api/stats and the stream's stats event. */
  readonly extraStats?: () => Record<string, unknown>;
  /** The cluster profile's Kafka console, served under /api/kafka; without it those routes answer 404. */
  readonly kafka?: KafkaConsoleApi;
  /** How long after a failed seed of the watchlist from the store it is tried again; default 5,000. */
  readonly seedRetryMs?: number;
}

export interface LiveFeed {
  publishBars(bars: readonly Bar[]): void;
  /** Each symbol's new trades: the watchlist takes their count, first and latest, the tape the last `tradesPerSymbol`. */
  publishTrades(trades: readonly SymbolTrades[]): void;
  /** How many of a symbol's last trades the tape shows from one publish; more are not needed. */
  readonly tradesPerSymbol: number;
}

export interface HttpServer {
  readonly app: FastifyInstance;
  readonly live: LiveFeed;
  /** Seeds the live state from the store, listens, and resolves to the base URL, e.g. http://127.0.0.1:8080. */
  start(): Promise<string>;
  close(): Promise<void>;
}

export const BAR_LIMIT = { default: 500, max: 5_000 } as const;
export const TRADE_LIMIT = { default: 100, max: 1_000 } as const;

/** The dashboard's HTTP API and live push (src/server/README.md lists the routes). */
export function createHttpServer(o: HttpServerOptions): HttpServer {
  const log = o.logger ?? silentLogger;
  const engineIntervals = o.intervals.map((i) => i.label);
  const plans = new Map<string, RollupPlan>(rollupPlans(o.intervals).map((p) => [p.target.label, p]));
  const intervalLists = { engine: engineIntervals, rollup: [...plans.keys()] };
  // Shortest first, as a 400 lists them: the engine's and the rolled-up ones interleave.
  const allIntervals = [...o.intervals, ...[...plans.values()].map((p) => p.target)].sort((a, b) => a.ms - b.ms).map((i) => i.label);
  const smallest = smallestInterval(o.intervals);
  const board = new SymbolBoard(o.symbols, smallest?.label ?? '');
  // A roll-up may read limit × ratio bars (300,000 1m bars for 1h, limit 5000): its chunks take turns.
  const rollupTurns = new Turns();

  const statsBody = (): Record<string, unknown> => ({ ...snapshotStats(o.stats), source: o.sourceStatus(), ...o.extraStats?.() });
  const live = new LivePush({ pushIntervalMs: o.pushIntervalMs ?? 250, stats: statsBody, logger: log, ...(o.streamMaxClients === undefined ? {} : { maxClients: o.streamMaxClients }) });
  const metrics = createMetrics({ stats: o.stats, sourceStatus: o.sourceStatus, streamClients: () => live.clientCount });

  // Kafka topic names run to 249 characters; fastify's default cap on a path parameter is 100.
  // The cap is well above that, so that a longer name gets the 400 that states the rule.
  // Node's own answer to an HTTP/1.1 request without Host is a 400 with no body: the hook below answers it in JSON.
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    routerOptions: { maxParamLength: 1_024 },
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
    http: { requireHostHeader: false },
  });
  const methodsOf = routeMethods(app);
  const dashboard = o.webRoot !== undefined && existsSync(join(o.webRoot, 'index.html')) ? o.webRoot : undefined;
  const isDashboardFile = dashboard === undefined ? () => false : dashboardFiles(dashboard);
  // The methods a path answers: its routes', or GET and HEAD for a file of the built dashboard.
  const allowedOn = (path: string): string[] => {
    const allowed = methodsOf(path);
    return allowed.length > 0 ? allowed : isDashboardFile(path) ? ['GET', 'HEAD'] : [];
  };
  const methodNotAllowed = (reply: FastifyReply, path: string, method: string, allowed: readonly string[]): FastifyReply =>
    reply
      .code(405)
      .header('allow', allowed.join(', '))
      .send({ error: 'method_not_allowed', message: `${path} answers ${allowed.join(', ')}, not ${method}` });

  app.addHook('onRequest', async (request, reply) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      return reply.code(400).header('connection', 'close').send({ error: 'bad_request', message: 'an HTTP/1.1 request needs a Host header' });
    }
    // Before the body is read: a POST of broken JSON to a GET route is told the method, not the body.
    if (request.is404) {
      const path = pathOf(request.url);
      const allowed = allowedOn(path);
      if (allowed.length > 0) return methodNotAllowed(reply, path, request.method, allowed);
    }
    return undefined;
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof TickstreamError && error.code === 'TICKSTREAM_STORE_UNAVAILABLE') {
      log.warn('store unavailable', { url: request.url, error: error.message });
      return reply.code(503).send({ error: 'store_unavailable', message: error.message });
    }
    return replyError(error, request, reply, log, 'request failed');
  });
  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url);
    const allowed = allowedOn(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) return methodNotAllowed(reply, path, request.method, allowed);
    return reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${path}` });
  });

  app.get('/api/symbols', async () => board.summaries(Date.now()));

  app.get('/api/bars', async (request) => {
    const q = request.query as Query;
    const symbol = symbolParam(q);
    const interval = oneOfParam(q, 'interval', allIntervals);
    const from = optionalTimeParam(q, 'from');
    const to = optionalTimeParam(q, 'to');
    const limit = intParam(q, 'limit', { min: 1, max: BAR_LIMIT.max, default: BAR_LIMIT.default });
    if (from !== undefined && to !== undefined && from >= to) {
      throw new BadRequest('from', `from must be less than to; got from=${from} to=${to}`);
    }
    const plan = plans.get(interval);
    const bars =
      plan === undefined
        ? await o.store.bars({ symbol, interval, ...range(from, to), limit })
        : await readRollup(o.store, plan, { symbol, from, to, limit }, { turns: rollupTurns });
    return bars.map(toBarRecord);
  });

  app.get('/api/trades', async (request) => {
    const q = request.query as Query;
    const symbol = symbolParam(q);
    const limit = intParam(q, 'limit', { min: 1, max: TRADE_LIMIT.max, default: TRADE_LIMIT.default });
    const before = optionalTimeParam(q, 'before');
    const beforeSeq = optionalIntParam(q, 'before_seq', { min: 0, max: Number.MAX_SAFE_INTEGER });
    if (beforeSeq !== undefined && before === undefined) {
      throw new BadRequest('before_seq', 'before_seq goes with before: pass the ts and seq of the last trade of the previous page');
    }
    const trades = await o.store.trades({ symbol, limit, ...(before === undefined ? {} : { before }), ...(beforeSeq === undefined ? {} : { beforeSeq }) });
    return trades.map(tradeJson);
  });

  app.get('/api/stats', async () => statsBody());

  app.get('/api/config', async () => ({ ...redactConfig(o.config), intervals: intervalLists }));

  app.get('/healthz', async (_request, reply) => {
    const source = o.sourceStatus().state;
    // An engine that makes no more bars while the process runs on: a probe should restart this process.
    if (o.stats.engineStopped !== undefined) return reply.code(503).send({ status: 'unavailable', source, engine: 'stopped', message: o.stats.engineStopped });
    try {
      await o.store.trades({ symbol: o.symbols[0] ?? 'AAPL', limit: 1 });
      return { status: 'ok', source, store: 'ok' };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return reply.code(503).send({ status: 'unavailable', source, store: 'unavailable', message });
    }
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.metrics();
    return reply.type(metrics.contentType).send(text);
  });

  let refusing = false;
  app.get('/api/stream', { exposeHeadRoute: false }, (request, reply) => {
    if (live.full) {
      live.counters.refused++;
      // Once per spell of refusals: a dashboard refused tries again every few seconds.
      if (!refusing) log.warn('live stream full; refusing new clients until one leaves', { clients: live.clientCount, max: live.maxClients });
      refusing = true;
      const message = `the live stream has as many clients as it takes (${live.maxClients}); try again once one has closed its page`;
      return reply.code(503).header('retry-after', '2').send({ error: 'stream_full', message });
    }
    refusing = false;
    reply.hijack();
    live.attach(reply.raw, { symbols: board.symbols, intervals: intervalLists });
    log.debug('stream client connected', { clients: live.clientCount, remote: request.ip });
  });

  void app.register(kafkaRoutes(o.kafka, log, o.host));

  if (dashboard !== undefined) {
    void app.register(fastifyStatic, { root: dashboard, prefix: '/', index: 'index.html' });
  } else {
    app.get('/', async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(
        // The same body as /api/stats: what extraStats adds (a serve role's counts from Kafka) shows here too.
        statusPage({ stats: statsBody() as StatusStats, symbols: board.symbols, intervals: allIntervals }),
      ),
    );
  }

  let started: Promise<string> | undefined;
  let closing: Promise<void> | undefined;
  // A store down at start (Cassandra not up yet) left the watchlist without last prices until
  // trades came, which for a closed market is the next session: it is seeded again until it answers.
  let reseedTimer: NodeJS.Timeout | undefined;
  const reseed = (): void => {
    reseedTimer = setTimeout(() => {
      void seed(o.store, board, o.symbols, smallest?.label, log, { quiet: true }).then((done) => {
        if (done) log.info('seeded the watchlist from the store');
        else if (closing === undefined) reseed();
      });
    }, o.seedRetryMs ?? 5_000);
    reseedTimer.unref();
  };

  return {
    app,
    live: {
      publishBars(bars) {
        board.bars(bars);
        live.publishBars(bars);
      },
      publishTrades(trades) {
        board.trades(trades, Date.now());
        live.publishTrades(trades);
      },
      tradesPerSymbol: live.tradesPerSymbol,
    },
    start: () =>
      (started ??= (async () => {
        if (!(await seed(o.store, board, o.symbols, smallest?.label, log))) reseed();
        await app.listen({ host: o.host, port: o.port });
        live.start();
        const address = app.server.address() as AddressInfo;
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        const url = `http://${host}:${address.port}`;
        log.info('http listening', { url, dashboard: dashboard !== undefined });
        return url;
      })()),
    close: () =>
      (closing ??= (async () => {
        clearTimeout(reseedTimer);
        live.close();
        await app.close();
      })()),
  };
}

/**
 * Whether a request path names a file of the built dashboard (`/` its index.html): a path with
 * a `..` or a NUL names none, as the static files' plugin refuses it.
 */
function dashboardFiles(root: string): (path: string) => boolean {
  const base = resolve(root);
  return (path) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return false;
    }
    if (decoded.includes('\0') || decoded.split('/').includes('..')) return false;
    const file = resolve(base, `.${decoded.endsWith('/') ? `${decoded}index.html` : decoded}`);
    if (file !== base && !file.startsWith(base + sep)) return false;
    try {
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
}

function range(from: EpochMs | undefined, to: EpochMs | undefined): { from?: EpochMs; to?: EpochMs } {
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

/**
 * Fills the symbol board from the store; false when the store is down, which leaves the board
 * as it was, not the server.
 * The reads run concurrently, but the board is seeded in the store's symbol order once all have
 * answered: seeding as each read returns listed unconfigured symbols in the order a networked
 * store happened to answer, which differed from run to run on Cassandra.
 */
async function seed(store: Store, board: SymbolBoard, configured: readonly string[], sparkInterval: string | undefined, log: Logger, o: { quiet?: boolean } = {}): Promise<boolean> {
  try {
    const symbols = new Set([...configured, ...(await store.symbols())]);
    const seeds = await Promise.all(
      [...symbols].map(async (symbol) => {
        const [latest] = await store.trades({ symbol, limit: 1 });
        const bars = sparkInterval === undefined ? [] : await store.bars({ symbol, interval: sparkInterval, limit: SPARKLINE_POINTS });
        return { symbol, latest, bars };
      }),
    );
    for (const { symbol, latest, bars } of seeds) board.seed(symbol, latest, bars);
    return true;
  } catch (error) {
    if (o.quiet !== true) log.warn('could not seed the watchlist from the store; trying again every few seconds', { error: error instanceof Error ? error.message : String(error) });
    return false;
  }
}
