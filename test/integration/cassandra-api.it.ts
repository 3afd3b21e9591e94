import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { buildWeb } from '../../scripts/build-web.ts';
import { startPipeline, startRoles, type Pipeline, type RoleSet } from '../../src/app/index.ts';
import { loadConfig, type ConfigKey } from '../../src/config/index.ts';
import { parseInterval, toBarRecord, type BarRecord, type EpochMs, type Interval, type Offset, type Price, type Volume } from '../../src/domain/index.ts';
import { batchBars } from '../../src/engine/index.ts';
import type { TradeJson } from '../../src/server/index.ts';
import { CHECK_FLAGS, CHECK_SYMBOLS, dashboardChecks } from '../e2e/dashboard-checks.ts';
import { attachDashboard } from '../e2e/dashboard-harness.ts';
import { connectSse } from '../server/sse-client.ts';
import { until } from '../support/until.ts';
import { ensureStack, integrationConfig } from './stack-fixture.ts';

// Issue 5: every endpoint of the HTTP API, and the dashboard's browser checks, against a pipeline whose
// store is the stack's Cassandra. A seeded replay file goes through the embedded pipeline twice, once on a
// Cassandra keyspace of this run and once on SQLite: the Cassandra server's answers are checked for content
// (bars recomputed from its own trades) and must equal the SQLite server's. The browser checks of
// test/e2e/dashboard-checks.ts then run against a simulator-fed pipeline on a second keyspace.

const endpoints = await ensureStack(['cassandra']);
const stackConfig = integrationConfig();
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;
const REPLAY_KEYSPACE = `market_api_${run}`;
const LIVE_KEYSPACE = `market_dash_${run}`;

const MIN = 60_000;
/** 22:40 UTC: the replay runs past midnight, so trades fill two of Cassandra's day partitions. */
const T0 = Date.UTC(2024, 2, 4, 22, 40);
const SPAN_MS = 150 * MIN;
const REPLAY_SYMBOLS = ['AAPL', 'BINANCE:BTCUSDT', 'OANDA:EUR_USD'];
const ENGINE_INTERVALS = ['5s', '1m'];
const ROLLUPS = ['5m', '15m', '1h'];
const ALL_INTERVALS = [...ENGINE_INTERVALS, ...ROLLUPS].map((label) => parseInterval(label)!);

interface ReplayLine {
  symbol: string;
  price: number;
  volume: number;
  ts: number;
  conditions: string[];
}

/**
 * The replay: per symbol a seeded random walk about every 4 s over SPAN_MS, with ties in ts, trades a
 * little out of order (well within the lateness), zero-volume trades, one window of zero volume only
 * (vwap null), a 20-minute gap, and one invalid line (a negative price) that must be counted, not stored.
 */
function replayLines(): { lines: string[]; valid: ReplayLine[] } {
  let seed = 11;
  const random = (): number => {
    seed = (seed * 48_271) % 2_147_483_647;
    return seed / 2_147_483_647;
  };
  const valid: ReplayLine[] = [];
  for (const [n, symbol] of REPLAY_SYMBOLS.entries()) {
    let price = [190, 62_000, 1.08][n]!;
    for (let ts = T0 + n * 37; ts < T0 + SPAN_MS; ts += 1 + Math.floor(random() * 8_000)) {
      if (n === 1 && ts >= T0 + 40 * MIN && ts < T0 + 60 * MIN) continue;
      price = Math.max(price * (1 + (random() - 0.5) * 0.002), 0.0001);
      const zeroWindow = n === 2 && ts >= T0 + 30 * MIN && ts < T0 + 31 * MIN;
      const volume = zeroWindow || random() < 0.05 ? 0 : Math.round(random() * 500) / 10;
      valid.push({ symbol, price: Number(price.toFixed(6)), volume, ts, conditions: random() < 0.3 ? ['1', '12'] : [] });
      if (random() < 0.05) valid.push({ symbol, price: Number((price * 1.0001).toFixed(6)), volume: 1, ts, conditions: [] });
    }
  }
  valid.sort((a, b) => a.ts - b.ts);
  // Swap some neighbours: disorder of a few seconds, far inside the 10 s lateness.
  for (let i = 1; i < valid.length; i += 17) [valid[i - 1], valid[i]] = [valid[i]!, valid[i - 1]!];
  const lines = valid.map((t) => JSON.stringify(t));
  lines.splice(100, 0, JSON.stringify({ symbol: 'AAPL', price: -1, volume: 1, ts: T0 + 5 * MIN, conditions: [] }));
  return { lines, valid };
}

const { lines: REPLAY, valid: VALID } = replayLines();

/** Flags of an embedded pipeline on free ports in a fresh data directory. */
function flagsFor(dataDir: string, extra: Partial<Record<ConfigKey, string>>): Partial<Record<ConfigKey, string>> {
  return { dataDir, port: '0', 'simulator.port': '0', flushInterval: '50ms', logLevel: 'silent', ...extra };
}

function cassandraFlags(keyspace: string): Partial<Record<ConfigKey, string>> {
  return {
    store: 'cassandra',
    'cassandra.keyspace': keyspace,
    'cassandra.contactPoints': endpoints!.cassandraContactPoint,
    'cassandra.localDataCenter': stackConfig.cassandra.localDataCenter,
  };
}

const dataDirs: string[] = [];
function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-cassandra-api-'));
  dataDirs.push(dir);
  return dir;
}

/** Runs the replay file through an embedded pipeline with `extra` flags, until every trade is stored. */
async function replayPipeline(file: string, extra: Partial<Record<ConfigKey, string>>): Promise<Pipeline> {
  const { outDir } = await buildWeb();
  const dataDir = freshDataDir();
  const config = loadConfig({
    env: {},
    cwd: dataDir,
    flags: flagsFor(dataDir, { source: 'replay', 'replay.file': file, 'replay.speed': '0', symbols: REPLAY_SYMBOLS.join(','), ...extra }),
  });
  const pipeline = await startPipeline(config, { webRoot: outDir });
  try {
    await until(() => pipeline.source.status().state === 'finished', 'the end of the replay', 60_000);
    await pipeline.flush();
    await until(() => pipeline.stats.barsStored > 0, 'stored bars');
  } catch (error) {
    await pipeline.close();
    throw error;
  }
  return pipeline;
}

/** The simulator-fed pipeline on the second keyspace: the stream test and the browser checks share it. */
let live: Promise<Pipeline> | undefined;
function livePipeline(): Promise<Pipeline> {
  live ??= (async () => {
    const { outDir } = await buildWeb();
    const dataDir = freshDataDir();
    const config = loadConfig({ env: {}, cwd: dataDir, flags: flagsFor(dataDir, { flushInterval: '100ms', ...CHECK_FLAGS, ...cassandraFlags(LIVE_KEYSPACE) }) });
    return startPipeline(config, { webRoot: outDir });
  })();
  return live;
}

// One hook, in this order: a pipeline still writing to a keyspace must stop before the keyspace is dropped.
after(async () => {
  await (await live?.catch(() => undefined))?.close();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  if (endpoints === undefined) return;
  const admin = new cassandra.Client({ contactPoints: [endpoints.cassandraContactPoint], localDataCenter: stackConfig.cassandra.localDataCenter });
  for (const ks of [REPLAY_KEYSPACE, LIVE_KEYSPACE]) await admin.execute(`DROP KEYSPACE IF EXISTS ${ks}`).catch(() => {});
  await admin.shutdown();
});

async function getJson<T>(base: string, path: string): Promise<T> {
  const res = await fetch(new URL(path, base));
  if (res.status !== 200) assert.fail(`GET ${path}: ${res.status} ${await res.text()}`);
  assert.match(String(res.headers.get('content-type')), /application\/json/, path);
  return (await res.json()) as T;
}

/**
 * Every trade of a symbol through /api/trades, paging back with `before`. Trades sharing a ts can straddle
 * a page, so each page starts at the oldest ts seen (before = that ts + 1) and repeats are dropped by seq.
 */
async function allTradesViaApi(base: string, symbol: string): Promise<TradeJson[]> {
  const bySeq = new Map<number, TradeJson>();
  let before: number | undefined;
  for (let page = 0; page < 100; page++) {
    const query = new URLSearchParams({ symbol, limit: '1000', ...(before === undefined ? {} : { before: String(before) }) });
    const rows = await getJson<TradeJson[]>(base, `/api/trades?${query}`);
    const fresh = rows.filter((r) => !bySeq.has(r.seq));
    for (const r of rows) bySeq.set(r.seq, r);
    if (rows.length < 1000) return [...bySeq.values()];
    assert.ok(fresh.length > 0, `paging ${symbol} trades made no progress before ${before}`);
    before = rows.at(-1)!.ts + 1;
  }
  throw new Error(`more than 100 pages of ${symbol} trades`);
}

const newestFirst = (a: TradeJson, b: TradeJson): number => b.ts - a.ts || b.seq - a.seq;

/** The bars of `interval` recomputed from trades with the reference computation, as the API shows them. */
function recomputed(trades: readonly TradeJson[], interval: Interval): BarRecord[] {
  const records = trades.map((t) => ({
    trade: { symbol: t.symbol, price: t.price as Price, volume: t.volume as Volume, ts: t.ts as EpochMs, conditions: t.conditions, source: 'replay' as const, ingestTs: t.ingest_ts as EpochMs },
    offset: t.seq as Offset,
  }));
  return batchBars(records, [interval]).map(toBarRecord);
}

/**
 * A roll-up sums finer bars: vwap, avg_price and volume (a sum of sums of fractional volumes) equal the
 * direct computation up to floating-point rounding; the rest is exact.
 */
function assertBarsClose(got: readonly BarRecord[], want: readonly BarRecord[], what: string): void {
  assert.equal(got.length, want.length, `${what}: bar count`);
  const near = (a: number | null, b: number | null): boolean => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)));
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const rounded = { vwap: 0, avg_price: 0, volume: 0 };
    assert.deepEqual({ ...g, ...rounded }, { ...w, ...rounded }, `${what}: bar ${i}`);
    for (const key of ['vwap', 'avg_price', 'volume'] as const) assert.ok(near(g[key], w[key]), `${what} bar ${i}: ${key} ${g[key]}, recomputed ${w[key]}`);
  }
}

if (endpoints === undefined) {
  test('API and dashboard on the Cassandra store', { skip: 'the stack cannot start here (Java 17 or Maven missing)' }, () => {});
} else {
  describe('every API endpoint on the Cassandra store', () => {
    let onCassandra: Pipeline;
    let onSqlite: Pipeline;
    let base: string;

    before(async () => {
      const dir = freshDataDir();
      const file = join(dir, 'replay.ndjson');
      writeFileSync(file, `${REPLAY.join('\n')}\n`);
      onCassandra = await replayPipeline(file, cassandraFlags(REPLAY_KEYSPACE));
      base = onCassandra.url;
      onSqlite = await replayPipeline(file, { store: 'sqlite' });
    });

    after(async () => {
      await onCassandra?.close();
      await onSqlite?.close();
    });

    test('the pipeline stored every valid replayed trade in Cassandra', async () => {
      assert.equal(onCassandra.store.kind, 'cassandra');
      assert.equal(onCassandra.stats.received, VALID.length);
      assert.equal(onCassandra.stats.invalid, 1);
      assert.equal(onCassandra.stats.late, 0, 'the disorder stays within the lateness');
    });

    test('GET /api/trades: every trade, newest first, in pages that follow limit and before', async () => {
      let total = 0;
      for (const symbol of REPLAY_SYMBOLS) {
        const newest = await getJson<TradeJson[]>(base, `/api/trades?symbol=${encodeURIComponent(symbol)}`);
        assert.equal(newest.length, 100, 'limit defaults to 100');
        assert.deepEqual(newest, [...newest].sort(newestFirst), `${symbol}: newest first`);

        const all = await allTradesViaApi(base, symbol);
        total += all.length;
        const sent = VALID.filter((t) => t.symbol === symbol);
        assert.equal(all.length, sent.length, `${symbol}: every trade is served`);
        const key = (t: { ts: number; price: number; volume: number; conditions: readonly string[] }): string => JSON.stringify([t.ts, t.price, t.volume, t.conditions]);
        assert.deepEqual(all.map(key).sort(), sent.map(key).sort(), `${symbol}: the trades served are the trades replayed`);
        assert.ok(all.every((t) => t.symbol === symbol && t.source === 'replay' && t.ingest_ts > 0));

        // before at midnight: only the first day's trades, from the first day partition.
        const midnight = Date.UTC(2024, 2, 5);
        const lastOfDay = await getJson<TradeJson[]>(base, `/api/trades?symbol=${encodeURIComponent(symbol)}&limit=5&before=${midnight}`);
        assert.deepEqual(lastOfDay, all.filter((t) => t.ts < midnight).sort(newestFirst).slice(0, 5), `${symbol}: the five before midnight`);
      }
      assert.equal(total, VALID.length);
      assert.deepEqual(await getJson(base, '/api/trades?symbol=NVDA'), [], 'a symbol without trades has none');
    });

    test('GET /api/bars: every interval, roll-ups included, equals the bars recomputed from /api/trades', async () => {
      for (const symbol of REPLAY_SYMBOLS) {
        const trades = await allTradesViaApi(base, symbol);
        for (const interval of ALL_INTERVALS) {
          const got = await getJson<BarRecord[]>(base, `/api/bars?symbol=${encodeURIComponent(symbol)}&interval=${interval.label}&limit=5000`);
          const want = recomputed(trades, interval);
          assert.ok(want.length > 1, `${symbol} ${interval.label}: the replay spans several windows`);
          if (ENGINE_INTERVALS.includes(interval.label)) assert.deepEqual(got, want, `${symbol} ${interval.label}`);
          else assertBarsClose(got, want, `${symbol} ${interval.label}`);
        }
      }
      const zeroVolume = await getJson<BarRecord[]>(base, `/api/bars?symbol=OANDA:EUR_USD&interval=1m&from=${T0 + 30 * MIN}&to=${T0 + 31 * MIN}`);
      assert.equal(zeroVolume.length, 1);
      assert.equal(zeroVolume[0]!.vwap, null, 'a window of zero volume has no vwap');
      assert.ok(zeroVolume[0]!.trade_count > 0);
    });

    test('GET /api/bars: from and to select the newest limit bars in [from, to), from alone the oldest limit from from, on every interval', async () => {
      const symbol = 'BINANCE:BTCUSDT';
      // Unaligned bounds: a roll-up keeps the windows that start in [from, to).
      const from = T0 + 17 * MIN + 2_500;
      const to = T0 + 128 * MIN + 1_000;
      for (const interval of ALL_INTERVALS) {
        const all = await getJson<BarRecord[]>(base, `/api/bars?symbol=${encodeURIComponent(symbol)}&interval=${interval.label}&limit=5000`);
        const inRange = all.filter((b) => b.window_start >= from && b.window_start < to);
        assert.ok(inRange.length >= 2, `${interval.label}: bars in range`);
        const q = (extra: string): Promise<BarRecord[]> => getJson<BarRecord[]>(base, `/api/bars?symbol=${encodeURIComponent(symbol)}&interval=${interval.label}${extra}`);
        assert.deepEqual(await q(`&from=${from}&to=${to}&limit=5000`), inRange, `${interval.label}: [from, to)`);
        const limit = Math.max(1, inRange.length - 1);
        assert.deepEqual(await q(`&from=${from}&to=${to}&limit=${limit}`), inRange.slice(-limit), `${interval.label}: the newest ${limit}`);
        assert.deepEqual(await q(`&from=${from}`), all.filter((b) => b.window_start >= from).slice(0, 500), `${interval.label}: from only, the oldest 500 (default limit)`);
        assert.deepEqual(await q(`&to=${to}&limit=3`), all.filter((b) => b.window_start < to).slice(-3), `${interval.label}: to only`);
      }
      assert.deepEqual(await getJson(base, '/api/bars?symbol=NVDA&interval=15m'), [], 'a symbol without bars has none');
    });

    test('GET /api/bars: pages forward from the last window_start + 1 read every bar once, across midnight and gaps, on every interval', async () => {
      for (const symbol of REPLAY_SYMBOLS) {
        for (const interval of ALL_INTERVALS) {
          const path = `/api/bars?symbol=${encodeURIComponent(symbol)}&interval=${interval.label}`;
          const all = await getJson<BarRecord[]>(base, `${path}&limit=5000`);
          const limit = Math.max(1, Math.floor(all.length / 7));
          const paged: BarRecord[] = [];
          let page = await getJson<BarRecord[]>(base, `${path}&from=0&limit=${limit}`);
          for (let i = 0; page.length > 0 && i < 20; i++) {
            paged.push(...page);
            page = await getJson<BarRecord[]>(base, `${path}&from=${page.at(-1)!.window_start + 1}&limit=${limit}`);
          }
          assert.deepEqual(paged, all, `${symbol} ${interval.label} in pages of ${limit}`);
        }
      }
    });

    test('GET /api/symbols: each symbol with its last trade, session open and sparkline', async () => {
      const rows = await getJson<Record<string, unknown>[]>(base, '/api/symbols');
      assert.deepEqual(rows.map((r) => r['symbol']), REPLAY_SYMBOLS);
      for (const row of rows) {
        const symbol = String(row['symbol']);
        const [last] = await getJson<TradeJson[]>(base, `/api/trades?symbol=${encodeURIComponent(symbol)}&limit=1`);
        assert.ok(last !== undefined);
        assert.equal(row['last_price'], last.price, `${symbol}: last price`);
        assert.equal(row['last_ts'], last.ts, `${symbol}: last ts`);
        const closes = (await getJson<BarRecord[]>(base, `/api/bars?symbol=${encodeURIComponent(symbol)}&interval=5s&limit=60`)).map((b) => b.close);
        assert.deepEqual(row['sparkline'], closes, `${symbol}: the sparkline is the last 60 5s closes`);
        assert.equal(typeof row['session_open'], 'number');
        assert.equal(typeof row['change_pct'], 'number');
      }
    });

    test('GET /api/stats, /api/config, /healthz, /metrics and / describe this pipeline', async () => {
      const stats = await getJson<Record<string, unknown>>(base, '/api/stats');
      assert.equal(stats['received'], VALID.length);
      assert.equal(stats['invalid'], 1);
      assert.ok(typeof stats['bars_stored'] === 'number' && stats['bars_stored'] > 0);
      assert.equal((stats['source'] as { kind: string; state: string }).kind, 'replay');
      assert.equal((stats['source'] as { kind: string; state: string }).state, 'finished');

      const config = await getJson<Record<string, unknown>>(base, '/api/config');
      assert.equal(config['store'], 'cassandra');
      assert.equal(config['cassandra.keyspace'], REPLAY_KEYSPACE);
      assert.deepEqual(config['intervals'], { engine: ENGINE_INTERVALS, rollup: ROLLUPS });

      assert.deepEqual(await getJson(base, '/healthz'), { status: 'ok', source: 'finished', store: 'ok' });

      const metrics = await fetch(new URL('/metrics', base));
      assert.equal(metrics.status, 200);
      const text = await metrics.text();
      assert.match(text, new RegExp(`^tickstream_trades_received_total ${VALID.length}$`, 'm'));
      assert.match(text, /^tickstream_trades_invalid_total 1$/m);

      const index = await fetch(base);
      assert.equal(index.status, 200);
      assert.match(await index.text(), /<div|<script/i, 'the built dashboard is served at /');
    });

    test('GET /api/kafka/* answers 404 in the embedded profile, and bad parameters answer 400 naming the parameter', async () => {
      const kafka = await fetch(new URL('/api/kafka/topics', base));
      assert.equal(kafka.status, 404);
      assert.deepEqual(await kafka.json(), { error: 'not_found', message: 'the Kafka console needs the cluster profile' });
      const cases: [string, RegExp][] = [
        ['/api/bars?symbol=AAPL&interval=7x', /^interval must be one of 5s, 1m, 5m, 15m, 1h; got "7x"$/],
        ['/api/bars?symbol=AAPL&interval=1h&limit=5001', /^limit must be an integer from 1 to 5000/],
        [`/api/bars?symbol=AAPL&interval=5m&from=${T0 + MIN}&to=${T0}`, /^from must be less than to/],
        ['/api/bars?symbol=AA%20PL&interval=1m', /^symbol must be/],
        ['/api/trades?symbol=AAPL&before=soon', /^before must be a time: epoch milliseconds/],
        ['/api/trades?symbol=AAPL&limit=0', /^limit must be an integer from 1 to 1000/],
      ];
      for (const [path, message] of cases) {
        const res = await fetch(new URL(path, base));
        assert.equal(res.status, 400, path);
        const body = (await res.json()) as { error: string; message: string };
        assert.equal(body.error, 'bad_request', path);
        assert.match(body.message, message, path);
      }
    });

    test('the Cassandra server answers /api/trades, /api/bars and /api/symbols as the SQLite one does on the same replay', async () => {
      const sqlite = onSqlite.url;
      const withoutIngest = (rows: TradeJson[]): Omit<TradeJson, 'ingest_ts'>[] => rows.map(({ ingest_ts: _ingest, ...rest }) => rest);
      for (const symbol of REPLAY_SYMBOLS) {
        const s = encodeURIComponent(symbol);
        const tradePages = [
          `limit=1000`,
          `limit=7&before=${T0 + 70 * MIN}`,
          `limit=3&before=${Date.UTC(2024, 2, 5)}`,
          // Back across midnight: two day partitions on Cassandra.
          `limit=1000&before=${Date.UTC(2024, 2, 5) + 10 * MIN}`,
          // The edges of the accepted range.
          'before=0',
          'before=1',
          `before=${Number.MAX_SAFE_INTEGER}`,
        ];
        for (const path of tradePages.map((q) => `/api/trades?symbol=${s}&${q}`)) {
          assert.deepEqual(withoutIngest(await getJson(base, path)), withoutIngest(await getJson(sqlite, path)), path);
        }
        for (const interval of ALL_INTERVALS) {
          for (const range of ['&limit=5000', `&from=${T0 + 7 * MIN}&to=${T0 + 99 * MIN + 1}&limit=11`, `&to=${T0 + 45 * MIN}`, '&from=0&to=1', `&from=0&to=${Number.MAX_SAFE_INTEGER}`, `&from=${Number.MAX_SAFE_INTEGER - 1}`]) {
            const path = `/api/bars?symbol=${s}&interval=${interval.label}${range}`;
            assert.deepEqual(await getJson(base, path), await getJson(sqlite, path), path);
          }
        }
      }
      const symbols = async (url: string): Promise<Record<string, unknown>[]> =>
        (await getJson<Record<string, unknown>[]>(url, '/api/symbols')).map(({ trades_per_s: _rate, ...rest }) => rest);
      assert.deepEqual(await symbols(base), await symbols(sqlite));
    });

    test('a serve-only process on the keyspace seeds /api/symbols from Cassandra as one on the SQLite file does', async (t) => {
      // Only AAPL is configured: the other symbols must come from the store's symbol list.
      const serveOnly = async (extra: Partial<Record<ConfigKey, string>>): Promise<RoleSet> => {
        const dataDir = freshDataDir();
        const config = loadConfig({ env: {}, cwd: dataDir, flags: flagsFor(dataDir, { symbols: 'AAPL', ...extra }) });
        const set = await startRoles(config, { produce: false, process: false, serve: true });
        t.after(() => set.close());
        return set;
      };
      const cassandraServe = await serveOnly(cassandraFlags(REPLAY_KEYSPACE));
      const sqliteServe = await serveOnly({ store: 'sqlite', dataDir: onSqlite.config.dataDir });
      const symbols = async (url: string | undefined): Promise<Record<string, unknown>[]> =>
        (await getJson<Record<string, unknown>[]>(url!, '/api/symbols')).map(({ trades_per_s: _rate, ...rest }) => rest);
      const seeded = await symbols(cassandraServe.url);
      assert.deepEqual(seeded.map((r) => r['symbol']), REPLAY_SYMBOLS);
      assert.ok(seeded.every((r) => typeof r['last_price'] === 'number' && (r['sparkline'] as unknown[]).length === 60), 'seeded from the store');
      assert.deepEqual(seeded, await symbols(sqliteServe.url));
      const path = `/api/bars?symbol=AAPL&interval=1h`;
      assert.deepEqual(await getJson(cassandraServe.url!, path), await getJson(base, path));
    });
  });

  test('GET /api/stream on the Cassandra store: hello, then bars, trades and stats that the API serves after a flush', async (t) => {
    const pipeline = await livePipeline();
    const sse = await connectSse(t, `${pipeline.url}/api/stream`);
    assert.equal(sse.response.statusCode, 200);
    assert.match(String(sse.response.headers['content-type']), /text\/event-stream/);
    const has = (name: string): boolean => sse.events.some((e) => e.event === name);
    await until(() => has('hello') && has('bars') && has('trades') && has('stats'), 'hello, bars, trades and stats events');
    sse.close();

    const hello = JSON.parse(sse.events.find((e) => e.event === 'hello')!.data) as { symbols: string[]; intervals: unknown };
    assert.deepEqual(hello.symbols, CHECK_SYMBOLS);
    assert.deepEqual(hello.intervals, { engine: ENGINE_INTERVALS, rollup: ROLLUPS });
    const stats = JSON.parse(sse.events.find((e) => e.event === 'stats')!.data) as { received: number; source: { kind: string } };
    assert.equal(stats.source.kind, 'simulator');

    await pipeline.flush();
    const pushedTrades = sse.events.filter((e) => e.event === 'trades').flatMap((e) => JSON.parse(e.data) as TradeJson[]);
    const pushedBars = sse.events.filter((e) => e.event === 'bars').flatMap((e) => JSON.parse(e.data) as BarRecord[]);
    assert.ok(pushedTrades.length > 0 && pushedBars.length > 0);
    for (const symbol of new Set(pushedTrades.map((p) => p.symbol))) {
      assert.ok(CHECK_SYMBOLS.includes(symbol));
      const stored = new Map((await getJson<TradeJson[]>(pipeline.url, `/api/trades?symbol=${encodeURIComponent(symbol)}&limit=1000`)).map((s) => [s.seq, s]));
      const pushed = pushedTrades.filter((p) => p.symbol === symbol);
      const oldestStored = Math.min(...stored.keys());
      // The API's page holds the newest 1000; older pushed trades may have left it.
      for (const p of pushed.filter((x) => x.seq >= oldestStored)) assert.deepEqual(stored.get(p.seq), p, `pushed trade ${symbol}#${p.seq} is stored as pushed`);
    }
    for (const b of pushedBars.slice(-20)) {
      assert.ok(ENGINE_INTERVALS.includes(b.interval), `pushed ${b.interval}`);
      const [stored] = await getJson<BarRecord[]>(pipeline.url, `/api/bars?symbol=${encodeURIComponent(b.symbol)}&interval=${b.interval}&from=${b.window_start}&to=${b.window_start + 1}`);
      assert.ok(stored !== undefined, `pushed bar ${b.symbol} ${b.interval} ${b.window_start} is stored`);
      // A pushed bar may have grown since; it never shrinks.
      assert.ok(stored.trade_count >= b.trade_count && stored.high >= b.high && stored.low <= b.low, `stored bar ${JSON.stringify(stored)} covers pushed ${JSON.stringify(b)}`);
    }
  });

  dashboardChecks('dashboard in a real browser on the Cassandra store', {
    start: async () => attachDashboard(await livePipeline()),
    screenshot: 'test-results/dashboard-cassandra.png',
  });
}
