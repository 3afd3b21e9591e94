import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { startPipeline, startRoles, type Pipeline } from '../../src/app/index.ts';
import type { Bar } from '../../src/domain/index.ts';
import { loadConfig, type Config, type ConfigKey } from '../../src/config/index.ts';
import { StartError } from '../../src/errors.ts';
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

test('a serve role without a source says the source runs elsewhere (in the embedded profile, in tickstream run), and its dashboard raises no alarm for it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-serve-role-'));
  const set = await startRoles(config(dataDir), { produce: false, process: false, serve: true });
  t.after(() => set.close());
  assert.ok(set.url !== undefined, 'the serve role listens');
  const stats = (await (await fetch(`${set.url}/api/stats`)).json()) as { source: SourceStatusWire };
  assert.deepEqual(stats.source, { kind: 'simulator', state: 'elsewhere', detail: 'the source runs in another process (tickstream run)' });
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

/** The error a start that should fail fails with; a set that starts is closed again, so that the test fails rather than hangs. */
async function startFailure(start: () => Promise<{ close(): Promise<void> }>): Promise<unknown> {
  try {
    const set = await start();
    await set.close();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** The line a start on `dataDir` fails with while the engine `engineId` of this process runs there. */
const inUseBy = (dataDir: string, engineId: string): string =>
  `${dataDir} is in use by the ${engineId} engine of this process: give each one its own --data-dir (or delete ${join(dataDir, 'engines', engineId, 'lock')} if no tickstream runs there)`;

test('a second embedded engine on one data dir is refused with one line naming it while the first goes on; once the first has closed, a new one starts', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-engine-lock-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  // A slow market: fewer trades to check at the end.
  const cfg = config(dataDir, { 'simulator.rate': '2000' });
  const first = await startPipeline(cfg);
  t.after(() => first.close());
  await until(() => first.stats.tradesStored > 200, 'the first engine to store trades');

  const refused = await startFailure(() => startPipeline(cfg));
  assert.ok(refused instanceof StartError, `refused with a StartError, not ${String(refused)}`);
  assert.equal(refused.message, inUseBy(dataDir, 'embedded'));
  // A serve role only reads: it takes no lock, and runs beside the engine.
  const serve = await startRoles(cfg, { produce: false, process: false, serve: true });
  await serve.close();
  // A replay's engine has an id of its own: one runs beside the live engine, a second one is refused.
  const file = join(dataDir, 'day.ndjson');
  writeFileSync(file, `${JSON.stringify({ symbol: 'IBM', price: 160, volume: 1, ts: Date.UTC(2024, 0, 2), conditions: [], source: 'replay', ingest_ts: Date.UTC(2024, 0, 2) })}\n`);
  const replayCfg = config(dataDir, { source: 'replay', 'replay.file': file, 'replay.speed': '0', symbols: 'IBM' });
  const replay = await startRoles(replayCfg, { produce: true, process: true, serve: false });
  t.after(() => replay.close());
  await replay.source?.finished();
  const secondReplay = await startFailure(() => startRoles(replayCfg, { produce: true, process: true, serve: false }));
  assert.ok(secondReplay instanceof StartError, `refused with a StartError, not ${String(secondReplay)}`);
  assert.equal(secondReplay.message, inUseBy(dataDir, 'replay'));
  await replay.close();
  const refusedAt = first.stats.tradesStored;
  await until(() => first.stats.tradesStored > refusedAt + 200, 'the first engine to go on storing trades');
  const stopped = await Promise.race([first.engineStopped.then(() => true), Promise.resolve(false)]);
  assert.equal(stopped, false, 'the first engine runs');
  await first.close();

  const second = await startPipeline(cfg);
  t.after(() => second.close());
  await until(() => second.stats.tradesStored > 200, 'the next engine to store trades');
  await second.close();
  const store = openSqliteStore({ path: join(dataDir, 'tickstream.db') });
  t.after(() => store.close());
  const stored = await assertBarsMatchTrades(store, SYMBOLS, cfg.intervals);
  assert.equal(stored, first.stats.tradesStored + second.stats.tradesStored);
});

test('an embedded engine whose start fails after it took its lock gives the lock back', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-engine-lock-failed-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const cfg = config(dataDir);
  // The store cannot open a database where a directory has its name.
  mkdirSync(join(dataDir, 'tickstream.db'));
  const failed = await startFailure(() => startPipeline(cfg));
  assert.ok(failed instanceof Error && !(failed instanceof StartError), `the store's error, not ${String(failed)}`);
  rmSync(join(dataDir, 'tickstream.db'), { recursive: true });
  const pipeline = await startPipeline(cfg);
  t.after(() => pipeline.close());
  await until(() => pipeline.stats.tradesStored > 0, 'trades stored');
});

test('an engine of the cluster profile takes no lock in the data dir: its consumer group shares the partitions out', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-engine-lock-cluster-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const brokers = `127.0.0.1:${await freePort()}`;
  // Kafka is not there, so the process role stops at start, after the point where an embedded engine takes its lock.
  await assert.rejects(startRoles(config(dataDir, { profile: 'cluster', store: 'sqlite', 'kafka.brokers': brokers }), { produce: false, process: true, serve: false }), /did not answer/);
  assert.equal(existsSync(join(dataDir, 'engines')), false);
});
