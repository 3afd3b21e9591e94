import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { epochMs, tradeViolation } from '../../../src/domain/index.ts';
import { createLogger } from '../../../src/observability/index.ts';
import { FinnhubClient, SimulatedMarket } from '../../../src/source/index.ts';
import { freePort } from '../../support/free-port.ts';
import { collector, recordingServer, startClient, startSimulator, until } from '../source-helpers.ts';

test('the client receives trades for its subscribed symbols only, all valid', async (t) => {
  const simulator = await startSimulator(t, { rate: 5_000 });
  const c = collector();
  const client = await startClient(t, c.sink, { url: simulator.url, symbols: ['AAPL', 'BINANCE:BTCUSDT'] });
  assert.equal(client.status().state, 'connected');
  await until(() => c.trades.length >= 300, '300 trades');
  const symbols = new Set(c.trades.map((tr) => tr.symbol));
  assert.deepEqual([...symbols].sort(), ['AAPL', 'BINANCE:BTCUSDT']);
  for (const trade of c.trades) {
    assert.equal(tradeViolation(trade), undefined);
    assert.equal(trade.source, 'simulator');
    assert.ok(Array.isArray(trade.conditions));
  }
  assert.equal(c.letters.length, 0);
  assert.equal(client.counters.received >= c.trades.length, true);
});

test('after the server drops the connection the client reconnects and subscribes again', async (t) => {
  const simulator = await startSimulator(t, { rate: 2_000 });
  const c = collector();
  const client = await startClient(t, c.sink, { url: simulator.url, symbols: ['MSFT', 'TSLA'] });
  await until(() => c.trades.length >= 50, 'trades before the drop');
  simulator.dropConnections();
  await until(() => client.counters.reconnects >= 1 && client.status().state === 'connected', 'reconnected');
  const reconnecting = c.statuses.find((s) => s.state === 'reconnecting');
  assert.match(reconnecting?.detail ?? '', /attempt 1 in \d+ ms/);
  const atReconnect = c.trades.length;
  await until(() => c.trades.length >= atReconnect + 50, 'trades after the reconnect');
  assert.deepEqual([...new Set(c.trades.slice(atReconnect).map((tr) => tr.symbol))].sort(), ['MSFT', 'TSLA']);
  assert.deepEqual(
    c.statuses.map((s) => s.state).filter((s, i, all) => s !== all[i - 1]),
    ['connected', 'reconnecting', 'connected'],
  );
});

test('subscribes per symbol on connect, unsubscribes on close, and keeps the token out of the status', async (t) => {
  const server = await recordingServer(t);
  const c = collector();
  const client = new FinnhubClient({ url: server.url, token: 'SECRET-token-123', symbols: ['AAPL', 'BINANCE:BTCUSDT', 'BRK.B'], source: 'finnhub' });
  t.after(() => client.close());
  await client.start(c.sink);
  await until(() => server.messages.length === 3, 'three subscribe messages');
  assert.deepEqual(server.messages.map((m) => JSON.parse(m) as unknown), [
    { type: 'subscribe', symbol: 'AAPL' },
    { type: 'subscribe', symbol: 'BINANCE:BTCUSDT' },
    { type: 'subscribe', symbol: 'BRK.B' },
  ]);
  assert.match(server.requestUrls[0]!, /[?&]token=SECRET-token-123/);
  assert.doesNotMatch(JSON.stringify(client.status()), /SECRET/);
  await client.close();
  assert.deepEqual(server.messages.slice(3).map((m) => JSON.parse(m) as unknown), [
    { type: 'unsubscribe', symbol: 'AAPL' },
    { type: 'unsubscribe', symbol: 'BINANCE:BTCUSDT' },
    { type: 'unsubscribe', symbol: 'BRK.B' },
  ]);
  assert.equal(client.status().state, 'closed');
  assert.ok(c.statuses.every((s) => !s.detail.includes('SECRET')));
});

test('a password in the URL is masked where the URL is shown (status and log lines), and the token left out', () => {
  const client = new FinnhubClient({ url: 'ws://user:hunter2@127.0.0.1:1/?token=abc123', symbols: ['AAPL'], source: 'finnhub' });
  assert.equal(client.status().detail, 'ws://user:***@127.0.0.1:1/');
  assert.throws(() => new FinnhubClient({ url: 'http://user:hunter2@host/', symbols: ['AAPL'], source: 'finnhub' }), (e: Error) => !e.message.includes('hunter2') && /user:\*\*\*@/.test(e.message));
});

test('start resolves when nothing listens, and the client keeps retrying with the token hidden', async (t) => {
  const port = await freePort();
  const client = new FinnhubClient({
    url: `ws://127.0.0.1:${port}`,
    token: 'SECRET-token-123',
    symbols: ['AAPL'],
    source: 'finnhub',
    random: () => 0,
    backoff: { initialMs: 10, maxMs: 10 },
  });
  t.after(() => client.close());
  const c = collector();
  await client.start(c.sink);
  assert.equal(client.status().state, 'reconnecting');
  await until(() => client.counters.reconnects >= 3, 'three reconnect attempts');
  assert.match(client.status().detail, /ECONNREFUSED/);
  assert.ok(c.statuses.every((s) => !s.detail.includes('SECRET')));
});

test('hostile frames from the server are dead-lettered or counted, and the valid trades of a mixed message go through', async (t) => {
  const simulator = await startSimulator(t);
  const c = collector();
  const client = await startClient(t, c.sink, { url: simulator.url, symbols: [] });
  const now = Date.now();
  simulator.sendRaw('not json {');
  simulator.sendRaw(JSON.stringify({ type: 'trade', data: [{ p: 1, s: 'A', t: now, v: 1 }, { p: 'NaN', s: 'A', t: now, v: 1 }, { p: null, s: 'A', t: now, v: 1 }, { p: -1, s: 'A', t: now, v: 1 }, { p: 2, s: 'A', t: now, v: 1, c: null }] }));
  simulator.sendRaw('{"type":"ping"}');
  simulator.sendRaw('{"type":"news","data":[]}');
  simulator.sendRaw('{"type":"error","msg":"Subscribing to too many symbols"}');
  simulator.sendRaw(JSON.stringify({ type: 'trade', data: [{ p: 3, s: 'A', t: now, v: 0 }] }));
  await until(() => c.trades.length === 3 && c.letters.length === 4, 'every frame handled');
  assert.deepEqual(c.trades.map((tr) => tr.price), [1, 2, 3]);
  assert.equal(client.counters.invalid, 4);
  assert.equal(client.counters.received, 3);
  assert.equal(client.counters.unknown, 1);
  assert.equal(client.counters.serverErrors, 1);
  assert.ok(client.counters.pings >= 1);
  assert.equal(client.status().state, 'connected');
});

test('a slow sink slows the feed down: one delivery at a time, and nothing is dropped', async (t) => {
  const options = { seed: 99, rate: 0, disorderMs: 0, symbols: ['AAPL', 'MSFT'] };
  const simulator = await startSimulator(t, { ...options, batch: 20 });
  const c = collector({ slowMs: 2 });
  await startClient(t, c.sink, { url: simulator.url, symbols: ['AAPL', 'MSFT'] });
  await until(() => c.trades.length >= 2_000, '2000 trades through a slow sink', 20_000);
  assert.equal(c.maxInFlight(), 1);
  // Every trade the market made is there, in order: compare with the same market replayed offline.
  const market = new SimulatedMarket({ ...options, startTs: 0 });
  const expected = Array.from({ length: 2_000 }, () => market.next()!);
  const got = c.trades.slice(0, 2_000);
  const t0 = got[0]!.ts - expected[0]!.t;
  assert.deepEqual(
    got.map((tr) => [tr.symbol, tr.price, tr.volume, tr.ts - t0]),
    expected.map((tr) => [tr.s, tr.p, tr.v, tr.t]),
  );
});

test('backoff grows over quick drops and starts over after a stable connection (virtual clock)', async (t) => {
  const simulator = await startSimulator(t, { rate: 100 });
  let now = 1_000_000;
  const c = collector();
  const client = await startClient(t, c.sink, {
    url: simulator.url,
    clock: { now: () => epochMs(now) },
    random: () => 0.5,
    stableMs: 10_000,
    backoff: { initialMs: 20, maxMs: 1_000 },
  });
  const dropAndReconnect = async (): Promise<string> => {
    const before = client.counters.reconnects;
    simulator.dropConnections();
    await until(() => client.counters.reconnects > before && client.status().state === 'connected', 'reconnected');
    return c.statuses.filter((s) => s.state === 'reconnecting').at(-1)!.detail;
  };
  assert.match(await dropAndReconnect(), /attempt 1 in 10 ms/);
  assert.match(await dropAndReconnect(), /attempt 2 in 20 ms/);
  assert.match(await dropAndReconnect(), /attempt 3 in 40 ms/);
  now += 10_000;
  assert.match(await dropAndReconnect(), /attempt 1 in 10 ms/);
});

/** A Finnhub trade frame of one trade per symbol. */
function tradeFrame(symbols: readonly string[]): string {
  return JSON.stringify({ type: 'trade', data: symbols.map((s, i) => ({ s, p: 100 + i, v: 1, t: Date.now(), c: [] })) });
}

async function quietClient(
  t: TestContext,
  symbols: readonly string[],
  send: readonly string[] | undefined,
): Promise<{ lines: string[]; client: FinnhubClient; c: ReturnType<typeof collector>; sendTrades: (symbols: readonly string[]) => void }> {
  const server = await recordingServer(t);
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', write: (line) => void lines.push(line) });
  const c = collector();
  const client = new FinnhubClient({ url: server.url, symbols, source: 'finnhub', logger, quietSymbolsAfterMs: 300 });
  t.after(() => client.close());
  await client.start(c.sink);
  await until(() => server.sockets.length === 1, 'the connection');
  if (send !== undefined) {
    server.sockets[0]!.send(tradeFrame(send));
    await until(() => c.trades.length === send.length, 'the trades');
  }
  await new Promise((r) => setTimeout(r, 600));
  return { lines, client, c, sendTrades: (more) => server.sockets[0]!.send(tradeFrame(more)) };
}

test('symbols without a trade a while after subscribing are named once: Finnhub is silent about a symbol it does not know', async (t) => {
  const { lines, client, c, sendTrades } = await quietClient(t, ['AAPL', 'AAPX', 'MSFT', 'msft'], ['AAPL', 'MSFT']);
  const warnings = lines.filter((l) => l.includes('no trade for'));
  assert.equal(warnings.length, 1, lines.join('\n'));
  assert.match(warnings[0]!, /no trade for AAPX, msft 300 ms after subscribing, while the other symbols traded: .*check the spelling and case/);
  // The status (the dashboard's banner) lists them until they trade.
  assert.deepEqual(client.status().quiet, ['AAPX', 'msft']);
  assert.deepEqual(c.statuses.at(-1)?.quiet, ['AAPX', 'msft']);
  sendTrades(['AAPX']);
  await until(() => c.statuses.at(-1)?.quiet?.length === 1, 'the status without AAPX');
  assert.deepEqual(client.status().quiet, ['msft']);
  sendTrades(['msft']);
  await until(() => client.status().quiet === undefined, 'no quiet symbol left');
  assert.equal(c.statuses.at(-1)?.quiet, undefined);
});

test('no trade for any symbol says the market may be closed; every symbol trading says nothing', async (t) => {
  const { lines: none, client } = await quietClient(t, ['AAPL', 'MSFT'], undefined);
  assert.deepEqual(client.status().quiet, ['AAPL', 'MSFT']);
  assert.equal(none.filter((l) => /no trade for any symbol 300 ms after subscribing: US stocks trade only while their market is open/.test(l)).length, 1, none.join('\n'));
  const all = await quietClient(t, ['AAPL', 'MSFT'], ['MSFT', 'AAPL']);
  assert.deepEqual(all.lines.filter((l) => l.includes('no trade')), []);
  assert.equal(all.client.status().quiet, undefined);
});

test('a server error repeated on one connection (one per refused subscription) is logged once, and counted each time', async (t) => {
  const server = await recordingServer(t);
  const lines: string[] = [];
  const client = await startClient(t, collector().sink, { url: server.url, logger: createLogger({ level: 'info', write: (line) => lines.push(line) }) });
  await until(() => server.sockets.length === 1, 'the connection');
  const socket = server.sockets[0];
  assert.ok(socket !== undefined);
  for (let i = 0; i < 5; i++) socket.send(JSON.stringify({ type: 'error', msg: 'Subscribing to too many symbols' }));
  socket.send(JSON.stringify({ type: 'error', msg: 'Invalid API key' }));
  await until(() => client.counters.serverErrors === 6, 'six server errors');
  assert.deepEqual(
    lines.filter((l) => l.includes('server error')).map((l) => l.replace(/^\S+ /, '')),
    ['WARN  tickstream server error message="Subscribing to too many symbols"', 'WARN  tickstream server error message="Invalid API key"'],
  );
});
