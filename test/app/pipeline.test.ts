import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { startPipeline, startRoles, type Pipeline } from '../../src/app/index.ts';
import type { Bar } from '../../src/domain/index.ts';
import { loadConfig, type Config, type ConfigKey } from '../../src/config/index.ts';
import { FinnhubClient } from '../../src/source/index.ts';
import { openSqliteStore } from '../../src/store/index.ts';
import { problems, sourceLabel } from '../../web/src/alerts.ts';
import type { SourceStatus as SourceStatusWire, StatsWire } from '../../web/src/api.ts';
import { freePort } from '../support/free-port.ts';
import { assertBarsMatchTrades, storedBars } from '../support/bars.ts';
import { until } from '../support/until.ts';

const SYMBOLS = ['AAPL', 'MSFT', 'BINANCE:BTCUSDT', 'OANDA:EUR_USD'];

function config(dataDir: string, extra: Partial<Record<ConfigKey, string>> = {}): Config {
  return loadConfig({
    env: {},
    cwd: dataDir,
    flags: {
      dataDir,
      port: '0',
      'simulator.port': '0',
      'simulator.rate': '20000',
      symbols: SYMBOLS.join(','),
      flushInterval: '50ms',
      logLevel: 'silent',
      ...extra,
    },
  });
}

test('embedded pipeline: bars recomputed from the stored trades equal the stored bars, across a connection drop and a restart', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-e2e-'));
  const cfg = config(dataDir);

  let pipeline: Pipeline = await startPipeline(cfg);
  t.after(() => pipeline.close());
  await until(() => pipeline.stats.tradesStored > 5_000, 'first trades stored');
  pipeline.dropSourceConnections();
  await until(() => pipeline.source.counters.reconnects >= 1, 'reconnect');
  const atDrop = pipeline.stats.tradesStored;
  await until(() => pipeline.stats.tradesStored > atDrop + 5_000, 'trades after the reconnect');
  await pipeline.close();

  const first = { received: pipeline.stats.received, late: pipeline.stats.late, invalid: pipeline.stats.invalid };
  assert.equal(first.invalid, 0);
  assert.equal(pipeline.stats.tradesStored + first.late, first.received, 'every received trade is stored or set aside as late');
  const reopened1 = openSqliteStore({ path: join(dataDir, 'tickstream.db') });
  const stored1 = await assertBarsMatchTrades(reopened1, SYMBOLS, cfg.intervals);
  assert.equal(stored1, pipeline.stats.tradesStored);
  await reopened1.close();

  // Restart from the checkpoint: window state and offsets resume, nothing is lost or counted twice.
  pipeline = await startPipeline(cfg);
  await until(() => pipeline.stats.tradesStored > 5_000, 'trades after the restart');
  await pipeline.close();
  const reopened2 = openSqliteStore({ path: join(dataDir, 'tickstream.db') });
  t.after(() => reopened2.close());
  const stored2 = await assertBarsMatchTrades(reopened2, SYMBOLS, cfg.intervals);
  assert.equal(stored2, stored1 + pipeline.stats.tradesStored, 'the second run adds its trades to the first');
});

test('hostile feed: garbage, invalid trades, unknown types and pings are counted, and no valid trade is lost', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-hostile-'));
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  t.after(() => new Promise<void>((r) => wss.close(() => r())));
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as { port: number }).port;
  const now = Date.now();
  const valid = (i: number) => ({ p: 100 + i / 100, s: 'AAPL', t: now + i, v: i % 3, c: ['1'] });
  const frames = [
    JSON.stringify({ type: 'trade', data: [valid(0), valid(1)] }),
    'not json at all {',
    JSON.stringify({ type: 'ping' }),
    JSON.stringify({ type: 'news', data: [] }),
    JSON.stringify({ type: 'trade', data: [valid(2), { p: 'abc', s: 'AAPL', t: now, v: 1 }, { p: -5, s: 'AAPL', t: now, v: 1 }, valid(3)] }),
    JSON.stringify({ type: 'trade', data: [{ p: 10, t: now, v: 1 }, { p: 10, s: 'AAPL', v: 1 }, valid(4)] }),
    JSON.stringify({ type: 'trade', data: 'oops' }),
    JSON.stringify({ type: 'error', msg: 'Subscribing to too many symbols' }),
    JSON.stringify({ type: 'trade', data: [valid(5)] }),
  ];
  wss.on('connection', (socket: WebSocket) => {
    socket.once('message', () => {
      for (const f of frames) socket.send(f);
    });
  });

  const source = new FinnhubClient({ url: `ws://127.0.0.1:${port}`, symbols: ['AAPL'], source: 'simulator' });
  const pipeline = await startPipeline(config(dataDir, { symbols: 'AAPL' }), { source });
  t.after(() => pipeline.close());
  await until(() => pipeline.stats.received >= 6 && pipeline.stats.invalid >= 6, 'all frames');
  await pipeline.flush();
  assert.equal(pipeline.stats.received, 6);
  assert.equal(pipeline.stats.invalid, 6, 'a garbage frame, two bad prices, a missing symbol, a missing time, a bad data field');
  assert.equal(source.counters.unknown, 1);
  assert.equal(source.counters.pings, 1);
  assert.equal(source.counters.serverErrors, 1);
  const stored = await pipeline.store.trades({ symbol: 'AAPL', limit: 100 });
  assert.deepEqual(
    stored.map((s) => s.trade.price).sort(),
    [0, 1, 2, 3, 4, 5].map((i) => valid(i).p).sort(),
  );
  await pipeline.close();
  const letters = readFileSync(join(dataDir, 'market.trades.dlq.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { reason: string });
  assert.equal(letters.length, 6);
  assert.ok(letters.every((l) => l.reason.length > 0));
});

test('a serve role without a source says the source runs elsewhere, and its dashboard raises no alarm for it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-serve-role-'));
  const set = await startRoles(config(dataDir), { produce: false, process: false, serve: true });
  t.after(() => set.close());
  assert.ok(set.url !== undefined, 'the serve role listens');
  const stats = (await (await fetch(`${set.url}/api/stats`)).json()) as { source: SourceStatusWire };
  assert.deepEqual(stats.source, { kind: 'simulator', state: 'elsewhere', detail: 'the source runs in another process (tickstream produce)' });
  assert.equal(sourceLabel(stats.source), 'simulator in another process');
  assert.deepEqual(problems({ stream: 'open', source: stats.source, history: [], nowMs: 0 }), []);
});

test('a serve role of the cluster profile reads its counts from Kafka; with Kafka down it says so, and the dashboard raises it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-serve-kafka-down-'));
  const brokers = `127.0.0.1:${await freePort()}`;
  const set = await startRoles(config(dataDir, { profile: 'cluster', store: 'sqlite', 'kafka.brokers': brokers }), { produce: false, process: false, serve: true });
  t.after(() => set.close());
  const stats = async (): Promise<StatsWire> => (await (await fetch(`${set.url}/api/stats`)).json()) as StatsWire;
  await until(async () => typeof (await stats()).kafka_view?.error === 'string', 'the view to report the failed reading', 30_000, 100);
  const s = await stats();
  assert.equal(s.counts_from, 'kafka');
  assert.equal(s.kafka_view?.group, 'tickstream-engine');
  assert.equal(s.kafka_view?.age_s, null, 'no reading yet');
  assert.match(s.kafka_view?.error ?? '', /^Kafka did not answer reading the progress of group tickstream-engine: /);
  const lines = problems({ stream: 'open', source: s.source, history: [{ atMs: 0, stats: s }], nowMs: 0 });
  assert.ok(lines.some((l) => l.startsWith("Kafka not answering the pipeline's counts (no reading yet): Kafka did not answer")), lines.join(' | '));
});

test('a replay starts its engine empty: after a live run and replayed again, its trades are neither late nor counted twice', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-replay-'));
  // A live run first: its engine's watermark is now, years after the file's trades.
  const live = await startPipeline(config(dataDir));
  t.after(() => live.close());
  await until(() => live.stats.tradesStored > 1_000, 'live trades stored');
  await live.close();

  const file = join(dataDir, 'day.ndjson');
  const start = Date.UTC(2024, 0, 2, 15, 0, 0);
  const lines = Array.from({ length: 300 }, (_, i) =>
    JSON.stringify({ symbol: 'IBM', price: 160 + (i % 17) / 4, volume: 1 + (i % 5), ts: start + i * 700, conditions: [], source: 'replay', ingest_ts: start + i * 700 }),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
  const replay = config(dataDir, { source: 'replay', 'replay.file': file, 'replay.speed': '0', symbols: 'IBM' });
  let firstBars: Bar[] = [];
  for (const run of [1, 2]) {
    const set = await startRoles(replay, { produce: true, process: true, serve: false });
    t.after(() => set.close());
    await set.source?.finished();
    await set.flush();
    assert.deepEqual([set.stats.received, set.stats.late, set.stats.invalid], [300, 0, 0], `replay ${run}: every trade aggregated`);
    await set.close();
    const store = openSqliteStore({ path: join(dataDir, 'tickstream.db') });
    try {
      assert.equal(await assertBarsMatchTrades(store, ['IBM'], replay.intervals), 300, `replay ${run}: each trade stored once`);
      const bars = await storedBars(store, ['IBM'], replay.intervals);
      if (run === 1) firstBars = bars;
      else assert.deepEqual(bars, firstBars, 'the same bars again');
    } finally {
      await store.close();
    }
  }
});
