import { request } from 'node:http';
import { connect } from 'node:net';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseInterval, toBarRecord, type Bar, type BarRecord } from '../../src/domain/index.ts';
import { rollupBars } from '../../src/server/index.ts';
import { symbolTradesOf } from '../../src/store/index.ts';
import type { StoredTrade, TradeQuery } from '../../src/store/store.ts';
import { bar, serverFor, SYMBOLS, trade } from './fixtures.ts';
import { MemoryStore } from './memory-store.ts';
import { until } from '../support/until.ts';

const T0 = Date.UTC(2024, 4, 6, 13, 0);
const MIN = 60_000;

test('GET /api/symbols lists configured and stored symbols with last price, session change, rate and sparkline', async (t) => {
  const { server, store } = serverFor(t);
  const sparkBars = Array.from({ length: 70 }, (_, i) => bar('AAPL', '5s', 5_000, T0 + i * 5_000, 100 + i));
  await store.write({ trades: [trade('AAPL', T0 + 349_000, 7, 169), trade('TSLA', T0, 1, 250)], bars: sparkBars, checkpoints: [] });
  await server.start();

  let rows = (await server.app.inject('/api/symbols')).json() as Record<string, unknown>[];
  assert.deepEqual(rows.map((r) => r.symbol), [...SYMBOLS, 'TSLA']);
  const aapl = rows[0]!;
  const seeded = sparkBars.slice(10);
  assert.equal(aapl.last_price, 169);
  assert.equal(aapl.last_ts, T0 + 349_000);
  assert.equal(aapl.session_open, seeded[0]!.open, 'the oldest seeded bar opens the session');
  assert.deepEqual(aapl.sparkline, seeded.map((b) => b.close));
  assert.equal(rows[1]!.last_price, null);
  assert.equal(rows[1]!.change_pct, null);
  assert.deepEqual(rows[1]!.sparkline, []);

  server.live.publishTrades(symbolTradesOf([trade('MSFT', T0 + 1_000, 1, 400), trade('MSFT', T0 + 2_000, 2, 410), trade('MSFT', T0 + 1_500, 3, 999)], 20));
  server.live.publishBars([bar('AAPL', '5s', 5_000, T0 + 69 * 5_000, 180), bar('AAPL', '5s', 5_000, T0 + 70 * 5_000, 181), bar('AAPL', '1m', MIN, T0, 5)]);
  rows = (await server.app.inject('/api/symbols')).json() as Record<string, unknown>[];
  const msft = rows[1]!;
  assert.equal(msft.session_open, 400);
  assert.equal(msft.last_price, 410, 'the newest by event time, not the last to arrive');
  assert.equal(msft.change_pct, 2.5);
  assert.equal(typeof msft.trades_per_s, 'number');
  const spark = rows[0]!.sparkline as number[];
  assert.equal(spark.length, 60);
  assert.deepEqual(spark.slice(-2), [180, 181], 'the forming bar is updated in place and a new window appended');
});

test('a store down at start leaves the watchlist without prices only until it answers: it is seeded again', async (t) => {
  const { server, store } = serverFor(t, { seedRetryMs: 20 });
  await store.write({ trades: [trade('AAPL', T0, 7, 169)], bars: [], checkpoints: [] });
  store.failing = true;
  await server.start();
  const aapl = async (): Promise<Record<string, unknown>> => ((await server.app.inject('/api/symbols')).json() as Record<string, unknown>[])[0]!;
  assert.equal((await aapl()).last_price, null, 'the store did not answer');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await aapl()).last_price, null, 'still down');
  store.failing = false;
  await until(async () => (await aapl()).last_price === 169, 'the watchlist to be seeded once the store answers', 5_000);
});

test('GET /api/bars returns BarRecords in ascending window_start, newest limit in [from, to)', async (t) => {
  const { server, store } = serverFor(t);
  const bars = Array.from({ length: 20 }, (_, i) => bar('AAPL', '1m', MIN, T0 + i * MIN, 100 + i));
  const zero: Bar = { ...bar('AAPL', '1m', MIN, T0 + 20 * MIN), volume: 0, vwap: null };
  await store.write({ trades: [], bars: [...bars, zero, bar('AAPL', '5s', 5_000, T0)], checkpoints: [] });

  const all = await server.app.inject('/api/bars?symbol=AAPL&interval=1m');
  assert.equal(all.statusCode, 200);
  assert.match(String(all.headers['content-type']), /application\/json/);
  assert.deepEqual(all.json(), [...bars, zero].map(toBarRecord));
  assert.equal((all.json() as { vwap: unknown }[]).at(-1)!.vwap, null);

  const page = await server.app.inject(`/api/bars?symbol=AAPL&interval=1m&from=${T0 + 5 * MIN}&to=${T0 + 15 * MIN}&limit=3`);
  assert.deepEqual(page.json(), bars.slice(12, 15).map(toBarRecord));
  // The same range as ISO 8601 times, in UTC and with an offset.
  const iso = (ms: number, zone: string): string => {
    const shift = zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4))) * 60_000;
    return encodeURIComponent(new Date(ms + shift).toISOString().slice(0, 23) + zone);
  };
  const isoPage = await server.app.inject(`/api/bars?symbol=AAPL&interval=1m&from=${iso(T0 + 5 * MIN, 'Z')}&to=${iso(T0 + 15 * MIN, '+05:30')}&limit=3`);
  assert.equal(isoPage.statusCode, 200, isoPage.body);
  assert.deepEqual(isoPage.json(), page.json());
  // Typed as is, the + of an offset arrives as a space: it is read as the + it was.
  const typed = await server.app.inject(`/api/bars?symbol=AAPL&interval=1m&from=${iso(T0 + 5 * MIN, 'Z')}&to=${iso(T0 + 15 * MIN, '+05:30').replace('%2B', '+')}&limit=3`);
  assert.equal(typed.statusCode, 200, typed.body);
  assert.deepEqual(typed.json(), page.json());
  // RFC 3339 allows a lowercase t and z.
  const lower = await server.app.inject(`/api/bars?symbol=AAPL&interval=1m&from=${iso(T0 + 5 * MIN, 'Z').replace('T', 't').toLowerCase()}&to=${iso(T0 + 15 * MIN, 'z').replace('T', 't')}&limit=3`);
  assert.equal(lower.statusCode, 200, lower.body);
  assert.deepEqual(lower.json(), page.json());
  const none = await server.app.inject('/api/bars?symbol=NVDA&interval=1m');
  assert.deepEqual(none.json(), []);
});

test('GET /api/bars rolls 5m, 15m and 1h up from 1m bars, newest limit, whole windows only', async (t) => {
  const { server, store } = serverFor(t);
  const ones = Array.from({ length: 125 }, (_, i) => bar('MSFT', '1m', MIN, T0 + i * MIN, 300 + (i % 17)));
  await store.write({ trades: [], bars: ones, checkpoints: [] });

  const five = (await server.app.inject('/api/bars?symbol=MSFT&interval=5m&limit=4')).json() as { window_start: number }[];
  const expected = rollupBars(ones, { label: '5m', ms: 300_000 } as never).slice(-4).map(toBarRecord);
  assert.deepEqual(five, expected);
  assert.equal(five.length, 4);

  const from = T0 + 7 * MIN; // rolled windows starting at or after from: T0+10m onwards
  const ranged = (await server.app.inject(`/api/bars?symbol=MSFT&interval=5m&from=${from}&to=${T0 + 30 * MIN}`)).json() as { window_start: number; trade_count: number }[];
  assert.deepEqual(ranged.map((b) => b.window_start), [10, 15, 20, 25].map((m) => T0 + m * MIN));
  assert.ok(ranged.every((b) => b.trade_count === 5 * 4), 'each rolled bar holds five whole 1m bars');

  const hour = (await server.app.inject('/api/bars?symbol=MSFT&interval=1h')).json() as { window_start: number; interval: string }[];
  assert.deepEqual(hour.map((b) => [b.interval, b.window_start]), [['1h', T0], ['1h', T0 + 60 * MIN], ['1h', T0 + 120 * MIN]]);
  const quarter = (await server.app.inject('/api/bars?symbol=MSFT&interval=15m&limit=2')).json() as { window_end: number }[];
  assert.deepEqual(quarter.map((b) => b.window_end), [T0 + 120 * MIN, T0 + 135 * MIN]);
});

test('GET /api/bars with from and no to pages forward: the oldest limit from from, oldest first', async (t) => {
  const { server, store } = serverFor(t);
  const bars = Array.from({ length: 20 }, (_, i) => bar('AAPL', '1m', MIN, T0 + i * MIN, 100 + i));
  await store.write({ trades: [], bars, checkpoints: [] });
  const starts = async (query: string): Promise<number[]> =>
    ((await server.app.inject(`/api/bars?symbol=AAPL&interval=1m${query}`)).json() as BarRecord[]).map((b) => b.window_start);
  const minutes = (...m: number[]): number[] => m.map((i) => T0 + i * MIN);

  assert.deepEqual(await starts(`&from=${T0 + 5 * MIN}&limit=3`), minutes(5, 6, 7));
  assert.deepEqual(await starts(`&from=${T0 + 5 * MIN + 1}&limit=3`), minutes(6, 7, 8));
  assert.deepEqual(await starts(`&from=${T0 + 5 * MIN}&to=${T0 + 15 * MIN}&limit=3`), minutes(12, 13, 14), 'with to: the newest in the range');
  assert.deepEqual(await starts(`&to=${T0 + 15 * MIN}&limit=3`), minutes(12, 13, 14));
  assert.deepEqual(await starts('&limit=3'), minutes(17, 18, 19));

  // from = the last window_start + 1 each time reads every bar once.
  const paged: number[] = [];
  let page = await starts('&from=0&limit=6');
  for (let i = 0; page.length > 0 && i < 10; i++) {
    paged.push(...page);
    page = await starts(`&from=${page.at(-1)! + 1}&limit=6`);
  }
  assert.deepEqual(paged, bars.map((b) => b.windowStart));
});

test('GET /api/bars pages roll-ups forward: whole windows from from, across gaps, up to a last window still forming', async (t) => {
  const { server, store } = serverFor(t);
  // 128 minutes with minutes 12-13 and 40-49 missing: the last hour has 8 minutes so far.
  const ones = Array.from({ length: 128 }, (_, i) => bar('MSFT', '1m', MIN, T0 + i * MIN, 300 + (i % 17))).filter(
    (b) => !(b.windowStart >= T0 + 12 * MIN && b.windowStart < T0 + 14 * MIN) && !(b.windowStart >= T0 + 40 * MIN && b.windowStart < T0 + 50 * MIN),
  );
  await store.write({ trades: [], bars: ones, checkpoints: [] });
  const rolled = (label: string): BarRecord[] => rollupBars(ones, parseInterval(label)!).map(toBarRecord);
  const get = async (interval: string, query: string): Promise<BarRecord[]> =>
    (await server.app.inject(`/api/bars?symbol=MSFT&interval=${interval}${query}`)).json() as BarRecord[];

  // Fifteen 1m bars from T0+10m reach into the window at T0+25m: it is cut, and not served.
  const five = rolled('5m');
  assert.deepEqual(await get('5m', `&from=${T0 + 7 * MIN}&limit=3`), five.filter((b) => b.window_start >= T0 + 10 * MIN).slice(0, 3));
  const hours = await get('1h', `&from=${T0 + 1}`);
  assert.deepEqual(hours, rolled('1h').slice(1));
  assert.deepEqual(hours.map((b) => [b.window_start, b.trade_count]), [[T0 + 60 * MIN, 60 * 4], [T0 + 120 * MIN, 8 * 4]], 'the forming hour as far as it goes');

  for (const interval of ['5m', '15m', '1h']) {
    for (const limit of [1, 3]) {
      const paged: BarRecord[] = [];
      let page = await get(interval, `&from=0&limit=${limit}`);
      for (let i = 0; page.length > 0 && i < 100; i++) {
        paged.push(...page);
        page = await get(interval, `&from=${page.at(-1)!.window_start + 1}&limit=${limit}`);
      }
      assert.deepEqual(paged, rolled(interval), `${interval} in pages of ${limit}`);
    }
  }
});

test('a 400 lists the served intervals shortest first, the rolled-up ones among the engine\'s', async (t) => {
  const { server } = serverFor(t, { intervals: [parseInterval('5s')!, parseInterval('1h')!] });
  const res = await server.app.inject('/api/bars?symbol=AAPL&interval=7x');
  assert.equal(res.statusCode, 400);
  assert.equal((res.json() as { message: string }).message, 'interval must be one of 5s, 5m, 15m, 1h; got "7x"');
});

test('bad query parameters answer 400 with a message naming the parameter and the value', async (t) => {
  const { server } = serverFor(t);
  const cases: [string, RegExp | string][] = [
    ['/api/bars?symbol=AAPL&interval=7x', 'interval must be one of 5s, 1m, 5m, 15m, 1h; got "7x"'],
    ['/api/bars?interval=1m', /^symbol is required/],
    ['/api/bars?symbol=AA%20PL&interval=1m', /^symbol must be .*; got "AA PL"$/],
    ['/api/bars?symbol=AAPL', /^interval is required: one of 5s, 1m, 5m, 15m, 1h$/],
    ['/api/bars?symbol=AAPL&interval=1m&limit=0', 'limit must be an integer from 1 to 5000; got "0"'],
    ['/api/bars?symbol=AAPL&interval=1m&limit=5001', 'limit must be an integer from 1 to 5000; got "5001"'],
    ['/api/bars?symbol=AAPL&interval=1m&limit=2.5', 'limit must be an integer from 1 to 5000; got "2.5"'],
    ['/api/bars?symbol=AAPL&interval=1m&from=yesterday', /^from must be a time: epoch milliseconds .*; got "yesterday"$/],
    ['/api/bars?symbol=AAPL&interval=1m&to=-5', /^to must be a time: epoch milliseconds .*; got "-5"$/],
    ['/api/bars?symbol=AAPL&interval=1m&from=2026-02-30T00:00:00Z', /^from must be a time: .* ISO 8601 with a zone, e\.g\. .*; got "2026-02-30T00:00:00Z"$/],
    ['/api/bars?symbol=AAPL&interval=1m&from=2026-02-03T10:00:00', /^from must be a time: .*; got "2026-02-03T10:00:00"$/],
    ['/api/bars?symbol=AAPL&interval=1m&from=2026-02-03T24:00:00Z', /^from must be a time: .*; got "2026-02-03T24:00:00Z"$/],
    ['/api/bars?symbol=AAPL&interval=1m&from=1969-12-31T23:59:59Z', /^from must be a time: .*; got "1969-12-31T23:59:59Z"$/],
    ['/api/bars?symbol=AAPL&interval=1m&from=0050-01-01T00:00:00Z', /^from must be a time: .*; got "0050-01-01T00:00:00Z"$/],
    ['/api/bars?symbol=AAPL&interval=1m&from=2026-02-03T10:00:00%2B00:99', /^from must be a time: .*; got "2026-02-03T10:00:00\+00:99"$/],
    ['/api/bars?symbol=AAPL&interval=1m&from=20&to=10', 'from must be less than to; got from=20 to=10'],
    ['/api/bars?symbol=AAPL&interval=1m&limit=1&limit=2', 'limit must be given once; got 2 values'],
    ['/api/trades?symbol=AAPL&limit=1001', 'limit must be an integer from 1 to 1000; got "1001"'],
    ['/api/trades?symbol=AAPL&before=soon', /^before must be a time: epoch milliseconds .*; got "soon"$/],
    ['/api/trades?symbol=AAPL&before=10&before_seq=-1', /^before_seq must be an integer from 0 to .*; got "-1"$/],
    ['/api/trades?symbol=AAPL&before_seq=3', 'before_seq goes with before: pass the ts and seq of the last trade of the previous page'],
    ['/api/trades', /^symbol is required/],
  ];
  for (const [url, message] of cases) {
    const res = await server.app.inject(url);
    assert.equal(res.statusCode, 400, url);
    const body = res.json() as { error: string; message: string };
    assert.equal(body.error, 'bad_request', url);
    if (typeof message === 'string') assert.equal(body.message, message, url);
    else assert.match(body.message, message, url);
  }
});

test('GET /api/trades returns trades newest first with their seq, and pages back with before', async (t) => {
  const { server, store } = serverFor(t);
  const trades = Array.from({ length: 10 }, (_, i) => trade('BINANCE:BTCUSDT', T0 + i * 100, i, 60_000 + i, 0.5));
  await store.write({ trades, bars: [], checkpoints: [] });

  const res = await server.app.inject('/api/trades?symbol=BINANCE:BTCUSDT&limit=3');
  assert.deepEqual(res.json(), [9, 8, 7].map((i) => ({
    symbol: 'BINANCE:BTCUSDT',
    price: 60_000 + i,
    volume: 0.5,
    ts: T0 + i * 100,
    conditions: i % 2 === 0 ? [] : ['1'],
    source: 'simulator',
    ingest_ts: T0 + i * 100 + 5,
    seq: i,
  })));
  const older = (await server.app.inject(`/api/trades?symbol=BINANCE:BTCUSDT&before=${T0 + 500}`)).json() as { seq: number }[];
  assert.deepEqual(older.map((x) => x.seq), [4, 3, 2, 1, 0]);
  const defaults = (await server.app.inject('/api/trades?symbol=BINANCE:BTCUSDT')).json() as unknown[];
  assert.equal(defaults.length, 10);
});

test('GET /api/trades pages with before and before_seq through trades that share a timestamp', async (t) => {
  const { server, store } = serverFor(t);
  // Three trades in each millisecond: a page boundary falls inside one.
  const trades = Array.from({ length: 9 }, (_, i) => trade('AAPL', T0 + Math.floor(i / 3), i, 100 + i, 1));
  await store.write({ trades, bars: [], checkpoints: [] });
  const seen: number[] = [];
  let url = '/api/trades?symbol=AAPL&limit=2';
  for (let pages = 0; pages < 10; pages++) {
    const page = (await server.app.inject(url)).json() as { ts: number; seq: number }[];
    if (page.length === 0) break;
    seen.push(...page.map((x) => x.seq));
    const last = page.at(-1)!;
    url = `/api/trades?symbol=AAPL&limit=2&before=${last.ts}&before_seq=${last.seq}`;
  }
  assert.deepEqual(seen, [8, 7, 6, 5, 4, 3, 2, 1, 0]);
});

test('GET /api/stats is the stats snapshot plus the source status and extra stats', async (t) => {
  const { server, stats } = serverFor(t, { extraStats: () => ({ engine: 'ts', partitions: 8 }) });
  stats.received = 1234;
  stats.late = 5;
  const body = (await server.app.inject('/api/stats')).json() as Record<string, unknown>;
  assert.equal(body.received, 1234);
  assert.equal(body.late, 5);
  assert.deepEqual(body.source, { kind: 'simulator', state: 'connected', detail: 'ws://127.0.0.1:1' });
  assert.equal(body.engine, 'ts');
  assert.equal(body.partitions, 8);
  assert.ok(typeof (body.latency_ms as { p99: unknown }).p99 === 'number');
});

test('GET /api/config is the redacted config with engine and rolled-up interval lists', async (t) => {
  const { server } = serverFor(t, {});
  const body = (await server.app.inject('/api/config')).json() as Record<string, unknown>;
  assert.deepEqual(body.intervals, { engine: ['5s', '1m'], rollup: ['5m', '15m', '1h'] });
  assert.deepEqual(body.symbols, SYMBOLS);
  assert.equal(body.port, 0);
});

test('GET /api/config never shows the Finnhub token', async (t) => {
  const base = serverFor(t);
  const config = { ...base.config, finnhub: { ...base.config.finnhub, token: 'sekret-token-123' } };
  const { server } = serverFor(t, { config });
  const res = await server.app.inject('/api/config');
  assert.ok(!res.body.includes('sekret-token-123'));
  assert.equal((res.json() as Record<string, unknown>)['finnhub.token'], '***');
});

test('GET /healthz is 200 while the store answers and 503 when it fails', async (t) => {
  const { server, store } = serverFor(t);
  const ok = await server.app.inject('/healthz');
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { status: 'ok', source: 'connected', store: 'ok' });
  store.failing = true;
  const down = await server.app.inject('/healthz');
  assert.equal(down.statusCode, 503);
  assert.equal((down.json() as { store: string }).store, 'unavailable');
  const bars = await server.app.inject('/api/bars?symbol=AAPL&interval=1m');
  assert.equal(bars.statusCode, 503);
  assert.equal((bars.json() as { error: string }).error, 'store_unavailable');
});

test('GET /healthz is 503 naming the engine once it makes no more bars while the process runs on', async (t) => {
  const { server, stats } = serverFor(t);
  assert.equal((await server.app.inject('/healthz')).statusCode, 200);
  stats.engineStopped = 'the Spark queries were stopped from elsewhere';
  const stopped = await server.app.inject('/healthz');
  assert.equal(stopped.statusCode, 503);
  assert.deepEqual(stopped.json(), { status: 'unavailable', source: 'connected', engine: 'stopped', message: 'the Spark queries were stopped from elsewhere' });
});

test('an unknown route is a JSON 404', async (t) => {
  const { server } = serverFor(t);
  for (const url of ['/api/nope', '/nope/deeper?x=1']) {
    const res = await server.app.inject(url);
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: 'not_found', message: `no route GET ${url.split('?')[0]}` });
  }
});

test('/ is a plain status page when the dashboard is not built', async (t) => {
  const { server, stats } = serverFor(t, { webRoot: join(tmpdir(), 'no-such-dashboard-dir') });
  stats.received = 4321;
  const res = await server.app.inject('/');
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /text\/html/);
  assert.match(res.body, /4321/);
  assert.match(res.body, /href="api\/bars\?symbol=AAPL&amp;interval=5s"/);
  // No trade stored yet: no latency, rather than 0 ms.
  assert.match(res.body, /<td>latency p50 \/ p99<\/td><td>no trade stored yet<\/td>/);
  stats.latency.record(12);
  assert.match((await server.app.inject('/')).body, /<td>latency p50 \/ p99<\/td><td>\d+(\.\d+)? ms \/ \d+(\.\d+)? ms<\/td>/);
});

test('a log lag not known is null in /api/stats and a dash on the plain status page', async (t) => {
  const { server, stats } = serverFor(t, { webRoot: join(tmpdir(), 'no-such-dashboard-dir') });
  stats.logLag = null;
  assert.equal((await server.app.inject('/api/stats')).json<{ log_lag: unknown }>().log_lag, null);
  assert.match((await server.app.inject('/')).body, /<td>log lag<\/td><td>–<\/td>/);
});

test("a serve role's plain status page gives the counts it reads from Kafka, not its own idle ones", async (t) => {
  const extra = {
    counts_from: 'kafka',
    kafka_view: { topic: 'market.trades', group: 'tickstream-engine', error: null, age_s: 0 },
    received: 9876,
    invalid: 3,
    late: 2,
    processed: 9000,
    log_lag: 876,
    rates: { received_per_s: 1234.5, processed_per_s: 1200, bars_per_s: 0 },
  };
  const { server } = serverFor(t, { webRoot: join(tmpdir(), 'no-such-dashboard-dir'), extraStats: () => extra });
  const body = (await server.app.inject('/')).body;
  assert.match(body, /<td>counts from<\/td><td>Kafka&#39;s offsets \(engine group tickstream-engine\)<\/td>/);
  assert.match(body, /<td>received<\/td><td>9876 \(1234\.5\/s\)<\/td>/);
  assert.match(body, /<td>processed<\/td><td>9000 \(1200\/s\)<\/td>/);
  assert.match(body, /<td>invalid \/ late<\/td><td>3 \/ 2<\/td>/);
  assert.match(body, /<td>log lag<\/td><td>876<\/td>/);
  assert.match(body, /<td>latency p50 \/ p99<\/td><td>measured by the process role<\/td>/);
  assert.doesNotMatch(body, /trades stored/, 'a serve role stores nothing itself');
});

test('/ serves the built dashboard when webRoot holds index.html, and the API still answers', async (t) => {
  const webRoot = mkdtempSync(join(tmpdir(), 'tickstream-web-'));
  t.after(() => rmSync(webRoot, { recursive: true, force: true }));
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>dash</title>');
  writeFileSync(join(webRoot, 'app.js'), 'console.log(1)');
  const { server } = serverFor(t, { webRoot });
  const index = await server.app.inject('/');
  assert.equal(index.statusCode, 200);
  assert.equal(index.body, '<!doctype html><title>dash</title>');
  const asset = await server.app.inject('/app.js');
  assert.equal(asset.statusCode, 200);
  assert.match(String(asset.headers['content-type']), /javascript/);
  assert.equal((await server.app.inject('/api/symbols')).statusCode, 200);
  const missing = await server.app.inject('/api/missing');
  assert.equal(missing.statusCode, 404);
  assert.equal((missing.json() as { error: string }).error, 'not_found');
  // A path that climbs out of the web root: refused, with the error shape of the API.
  const base = await server.start();
  const climb = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${base}/../../etc/passwd`, { path: '/../../etc/passwd' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(climb.status, 403);
  assert.deepEqual(JSON.parse(climb.body), { error: 'forbidden', message: '/../../etc/passwd is refused: ask for a file by its plain path, without .., // or a NUL' });
});

test('a file of the built dashboard asked with another method is 405 with Allow, before its body is read', async (t) => {
  const webRoot = mkdtempSync(join(tmpdir(), 'tickstream-web-'));
  t.after(() => rmSync(webRoot, { recursive: true, force: true }));
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>dash</title>');
  writeFileSync(join(webRoot, 'app.js'), 'console.log(1)');
  const { server } = serverFor(t, { webRoot });
  for (const [method, url] of [['POST', '/'], ['DELETE', '/index.html'], ['PUT', '/app.js?v=1'], ['OPTIONS', '/']] as const) {
    const res = await server.app.inject({ method, url });
    assert.equal(res.statusCode, 405, `${method} ${url}`);
    assert.equal(res.headers['allow'], 'GET, HEAD');
    assert.deepEqual(res.json(), { error: 'method_not_allowed', message: `${url.split('?')[0]} answers GET, HEAD, not ${method}` });
  }
  for (const url of ['/missing.js', '/app.js%00', '/assets/']) {
    const res = await server.app.inject({ method: 'POST', url });
    assert.equal(res.statusCode, 404, `POST ${url}: no file there`);
  }
  // A path that climbs out names no file of the dashboard (inject would resolve the ..).
  const base = await server.start();
  for (const path of ['/../index.html', '/%2e%2e/index.html', '/x/..%2f..%2findex.html']) {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}${path}`, { method: 'POST', path }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 404, `POST ${path}`);
  }
  // The method is the mistake, whatever the body: it is not parsed.
  const broken = await server.app.inject({ method: 'POST', url: '/api/bars', headers: { 'content-type': 'application/json' }, payload: '{x' });
  assert.equal(broken.statusCode, 405);
  assert.equal((broken.json() as { error: string }).error, 'method_not_allowed');
  const range = await server.app.inject({ url: '/app.js', headers: { range: 'bytes=999-' } });
  assert.equal(range.statusCode, 416);
  assert.deepEqual(range.json(), { error: 'range_not_satisfiable', message: 'the Range "bytes=999-" is not within the file' });
});

test('an HTTP/1.1 request without Host gets a JSON 400 from the listening server', async (t) => {
  const { server } = serverFor(t);
  const base = new URL(await server.start());
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(base.port), base.hostname, () => socket.end('GET /api/stats HTTP/1.1\r\n\r\n'));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.match(answer, /\{"error":"bad_request","message":"an HTTP\/1\.1 request needs a Host header"\}$/);
  // HTTP/1.0 has no Host.
  const old = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(base.port), base.hostname, () => socket.end('GET /healthz HTTP/1.0\r\n\r\n'));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  assert.match(old, /^HTTP\/1\.1 200 /);
});

test('GET /metrics exposes the pipeline counters in Prometheus text', async (t) => {
  const { server, stats } = serverFor(t);
  stats.received = 77;
  stats.latency.record(12);
  const res = await server.app.inject('/metrics');
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /text\/plain/);
  assert.match(res.body, /^tickstream_trades_received_total 77$/m);
  assert.match(res.body, /^tickstream_source_connected 1$/m);
  assert.match(res.body, /^tickstream_latency_ms\{quantile="0.5"\} \d/m);
});

test('start listens on the given host only and returns the base URL; close is idempotent', async (t) => {
  const { server } = serverFor(t);
  const url = await server.start();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const res = await fetch(`${url}/healthz`);
  assert.equal(res.status, 200);
  await server.close();
  await server.close();
  await assert.rejects(fetch(`${url}/healthz`));
});

test('GET /api/symbols lists stored symbols that are not configured in the store order, whichever of their reads answers first', async (t) => {
  // A networked store (Cassandra) answers the start-up reads in any order; here the last asked answers first.
  class ReversingStore extends MemoryStore {
    readonly #waiting: (() => void)[] = [];
    override async trades(q: TradeQuery): Promise<StoredTrade[]> {
      if (q.limit === 1) {
        await new Promise<void>((resolve) => {
          this.#waiting.push(resolve);
          if (this.#waiting.length === SYMBOLS.length + 3) for (const r of this.#waiting.reverse()) r();
        });
      }
      return super.trades(q);
    }
  }
  const store = new ReversingStore();
  await store.write({ trades: [trade('TSLA', T0, 1), trade('AMD', T0, 2), trade('NVDA', T0, 3)], bars: [], checkpoints: [] });
  const { server } = serverFor(t, {}, store);
  await server.start();
  const rows = (await server.app.inject('/api/symbols')).json() as { symbol: string; last_price: number | null }[];
  assert.deepEqual(rows.map((r) => r.symbol), [...SYMBOLS, 'AMD', 'NVDA', 'TSLA']);
  assert.equal(rows.at(-1)!.last_price, 100);
});

test('a known path with another method is 405 with Allow; an unknown path is 404', async (t) => {
  const { server } = serverFor(t);
  const post = await server.app.inject({ method: 'POST', url: '/api/bars?symbol=AAPL&interval=5s' });
  assert.equal(post.statusCode, 405);
  assert.equal(post.headers['allow'], 'GET, HEAD');
  assert.deepEqual(post.json(), { error: 'method_not_allowed', message: '/api/bars answers GET, HEAD, not POST' });
  const del = await server.app.inject({ method: 'DELETE', url: '/api/trades' });
  assert.equal(del.statusCode, 405);
  const missing = await server.app.inject({ method: 'POST', url: '/api/nothing' });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), { error: 'not_found', message: 'no route POST /api/nothing' });
});

test('a header block over the limit gets a JSON 431 from the listening server', async (t) => {
  const { server } = serverFor(t);
  const base = await server.start();
  const res = await fetch(`${base}/api/stats`, { headers: { 'x-big': 'a'.repeat(70 * 1024) } });
  assert.equal(res.status, 431);
  assert.deepEqual(await res.json(), { error: 'headers_too_large', message: 'the request headers are larger than this server takes' });
});
