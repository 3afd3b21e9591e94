import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { WebSocket } from 'ws';
import type { Trade } from '../../../src/domain/index.ts';
import { createLogger } from '../../../src/observability/index.ts';
import { SimulatorServer } from '../../../src/source/index.ts';
import { collector, startClient, startSimulator, until } from '../source-helpers.ts';

const SYMBOLS = ['AAPL', 'MSFT', 'BINANCE:BTCUSDT', 'OANDA:EUR_USD'];

async function firstTrades(t: TestContext, seed: number, n: number): Promise<unknown[]> {
  const simulator = await startSimulator(t, { seed, rate: 0, symbols: SYMBOLS });
  const c = collector();
  const client = await startClient(t, c.sink, { url: simulator.url, symbols: SYMBOLS });
  await until(() => c.trades.length >= n, `${n} trades`);
  await client.close();
  await simulator.close();
  const first = c.trades.slice(0, n);
  const t0 = first[0]!.ts;
  return first.map((tr: Trade) => [tr.symbol, tr.price, tr.volume, tr.conditions, tr.ts - t0]);
}

test('a seeded simulator is reproducible: the same seed streams the same first trades', async (t) => {
  const a = await firstTrades(t, 1234, 2_000);
  const b = await firstTrades(t, 1234, 2_000);
  const other = await firstTrades(t, 4321, 2_000);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, other);
});

test('the paced simulator keeps roughly to its rate', async (t) => {
  const simulator = await startSimulator(t, { rate: 1_000 });
  const c = collector();
  await startClient(t, c.sink, { url: simulator.url, symbols: ['AAPL', 'MSFT', 'TSLA', 'BINANCE:BTCUSDT', 'OANDA:EUR_USD'] });
  await until(() => c.trades.length >= 20, 'first trades');
  const started = Date.now();
  const from = c.trades.length;
  await until(() => Date.now() - started >= 1_000, 'one second');
  const perSecond = ((c.trades.length - from) * 1_000) / (Date.now() - started);
  // Loose on purpose: this guards against a missing or broken pacer, not the exact rate.
  assert.ok(perSecond > 200 && perSecond < 5_000, `${perSecond.toFixed(0)} trades/s for a configured 1000/s`);
});

test('unsubscribe stops a symbol, invalid client messages get an error reply, and pings are sent', async (t) => {
  const simulator = await startSimulator(t, { rate: 0, pingIntervalMs: 20 });
  const ws = new WebSocket(simulator.url);
  t.after(() => ws.terminate());
  const frames: { type: string; data?: { s: string }[]; msg?: string }[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as (typeof frames)[number]));
  await new Promise((r) => ws.once('open', r));
  ws.send('{"type":"subscribe","symbol":"AAPL"}');
  ws.send('{"type":"subscribe","symbol":"MSFT"}');
  ws.send('hello');
  await until(() => frames.some((f) => f.type === 'error') && frames.some((f) => f.type === 'ping'), 'an error reply and a ping');
  assert.match(frames.find((f) => f.type === 'error')!.msg!, /Unknown message/);
  ws.send('{"type":"unsubscribe","symbol":"AAPL"}');
  // The server handles a client's messages in order, so every frame after the reply to this marker follows the unsubscribe.
  ws.send('marker');
  const errorsBefore = frames.filter((f) => f.type === 'error').length;
  await until(() => frames.filter((f) => f.type === 'error').length > errorsBefore, 'the reply to the marker');
  const mark = frames.length;
  await until(() => frames.slice(mark).filter((f) => f.type === 'trade').length >= 50, 'more trade frames');
  const tail = frames.slice(mark).flatMap((f) => f.data ?? []);
  assert.deepEqual([...new Set(tail.map((tr) => tr.s))], ['MSFT']);
});

test('start rejects with the socket\'s own error when the port is taken, for the caller to name the setting that chose it', async (t) => {
  const first = await startSimulator(t);
  const port = Number(new URL(first.url).port);
  const second = new SimulatorServer({ host: '127.0.0.1', port, rate: 0, seed: 1, disorderMs: 0, batch: 10, symbols: ['AAPL'] });
  t.after(() => second.close());
  await assert.rejects(second.start(), (error: Error & { code?: string; syscall?: string }) => {
    assert.equal(error.code, 'EADDRINUSE');
    assert.equal(error.syscall, 'listen');
    return true;
  });
});

test('unpaced, event time does not outrun the wall clock: a later run on the same data dir would find every trade late', async (t) => {
  // No lead at all, so that a machine faster than the market's nominal 100k trades/s shows it within a second.
  const simulator = await startSimulator(t, { rate: 0, disorderMs: 0, maxLeadMs: 0, symbols: SYMBOLS });
  const ws = new WebSocket(simulator.url);
  t.after(() => ws.terminate());
  let trades = 0;
  let ahead = -Infinity;
  ws.on('message', (data) => {
    const now = Date.now();
    const frame = JSON.parse(data.toString()) as { type: string; data?: { t: number }[] };
    for (const trade of frame.data ?? []) {
      trades++;
      ahead = Math.max(ahead, trade.t - now);
    }
  });
  await new Promise((r) => ws.once('open', r));
  for (const symbol of SYMBOLS) ws.send(JSON.stringify({ type: 'subscribe', symbol }));
  await until(() => trades >= 150_000, '150,000 trades', 30_000);
  assert.ok(ahead <= 0, `a trade ${ahead} ms ahead of the clock that received it`);
});

test('a client subscribing to more than 1000 symbols is told for each one refused, and the log names them in one line', async (t) => {
  const lines: string[] = [];
  const simulator = await startSimulator(t, { rate: 10, logger: createLogger({ level: 'info', write: (line) => lines.push(line) }) });
  const ws = new WebSocket(simulator.url);
  t.after(() => ws.terminate());
  let errors = 0;
  ws.on('message', (data) => {
    if ((JSON.parse(data.toString()) as { type: string }).type === 'error') errors++;
  });
  await new Promise((r) => ws.once('open', r));
  const symbols = Array.from({ length: 1_013 }, (_, i) => `S${String(i).padStart(4, '0')}`);
  for (const symbol of symbols) ws.send(JSON.stringify({ type: 'subscribe', symbol }));
  await until(() => errors === 13 && lines.some((l) => l.includes('not streaming')), 'an error per refused symbol and the log line');
  const said = lines.filter((l) => l.includes('not streaming'));
  assert.equal(said.length, 1, said.join('\n'));
  assert.match(said[0] ?? '', /more than 1000 symbols, the most one connection streams: not streaming S1000, S1001, S1002, S1003, S1004, S1005, S1006, S1007, S1008, S1009 and 3 more refused=13 subscribed=1000$/);
});
