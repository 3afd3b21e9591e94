import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { toBarRecord } from '../../src/domain/index.ts';
import { LivePush } from '../../src/server/live-push.ts';
import { symbolTradesOf } from '../../src/store/index.ts';
import { bar, serverFor, SYMBOLS, trade, until } from './fixtures.ts';
import { connectSse } from './sse-client.ts';

const T0 = Date.UTC(2024, 4, 6, 13, 0);

test('the stream sends hello, then coalesced frames: the last version of each changed bar, at most 20 trades per symbol', async (t) => {
  const { server } = serverFor(t, { pushIntervalMs: 40 });
  const url = await server.start();
  const client = await connectSse(t, `${url}/api/stream`);
  assert.match(String(client.response.headers['content-type']), /^text\/event-stream/);
  await until(() => client.events.length >= 1, 'hello');
  assert.equal(client.events[0]!.event, 'hello');
  assert.deepEqual(JSON.parse(client.events[0]!.data), { symbols: SYMBOLS, intervals: { engine: ['5s', '1m'], rollup: ['5m', '15m', '1h'] } });

  // 200 flushes land between two frames: the frame carries only the newest version of each bar.
  const final = bar('AAPL', '5s', 5_000, T0, 299);
  const other = bar('MSFT', '1m', 60_000, T0, 50);
  for (let i = 0; i < 200; i++) {
    server.live.publishBars([bar('AAPL', '5s', 5_000, T0, 100 + i), other]);
    server.live.publishTrades(symbolTradesOf([trade('AAPL', T0 + i, i), trade('MSFT', T0 + i, 1_000 + i)], 20));
  }
  server.live.publishBars([final]);
  await until(() => client.events.some((e) => e.event === 'bars'), 'a bars frame');
  await until(() => client.events.some((e) => e.event === 'trades'), 'a trades frame');

  const barFrames = client.events.filter((e) => e.event === 'bars');
  assert.equal(barFrames.length, 1, 'one frame for all 201 publishes');
  const records = JSON.parse(barFrames[0]!.data) as unknown[];
  assert.equal(records.length, 2);
  assert.deepEqual(records, [toBarRecord(final), toBarRecord(other)]);

  const trades = JSON.parse(client.events.find((e) => e.event === 'trades')!.data) as { symbol: string; seq: number }[];
  assert.equal(trades.filter((x) => x.symbol === 'AAPL').length, 20);
  assert.equal(trades.filter((x) => x.symbol === 'MSFT').length, 20);
  assert.deepEqual(
    trades.filter((x) => x.symbol === 'AAPL').map((x) => x.seq),
    Array.from({ length: 20 }, (_, i) => 199 - i),
    'the newest trades, newest first',
  );
  await until(() => client.events.some((e) => e.event === 'stats'), 'a stats frame');
  const stats = JSON.parse(client.events.find((e) => e.event === 'stats')!.data) as Record<string, unknown>;
  assert.equal((stats.source as { state: string }).state, 'connected');
  assert.equal(typeof stats.received, 'number');
});

test('every client gets the same frames, and a closed client is forgotten', async (t) => {
  const { server } = serverFor(t, { pushIntervalMs: 30 });
  const url = await server.start();
  const a = await connectSse(t, `${url}/api/stream`);
  const b = await connectSse(t, `${url}/api/stream`);
  await until(() => a.events.length >= 1 && b.events.length >= 1, 'hello on both');
  server.live.publishBars([bar('AAPL', '1m', 60_000, T0)]);
  await until(() => a.events.some((e) => e.event === 'bars') && b.events.some((e) => e.event === 'bars'), 'bars on both');
  assert.deepEqual(a.events.find((e) => e.event === 'bars'), b.events.find((e) => e.event === 'bars'));
  b.close();
  const clients = async (): Promise<string | undefined> =>
    /^tickstream_stream_clients (\d+)$/m.exec((await server.app.inject('/metrics')).body)?.[1];
  assert.equal(await clients(), '2');
  await until(async () => (await clients()) === '1', 'the closed client to be forgotten');
});

test('a client that stops reading gets no frames past 1 MiB buffered, is dropped after the timeout, and the others keep receiving', async (t) => {
  const MAX = 1024 * 1024;
  const { live, responses, port } = await streamServer(t, { slowClientTimeoutMs: 300, maxBufferedBytes: MAX });

  // The slow client sends its request and never reads the answer.
  await pausedClient(t, port, responses);
  const slowResponse = responses[0]!;
  const fast = await connectSse(t, `http://127.0.0.1:${port}/stream`);
  await until(() => responses.length === 2, 'fast client attached');

  const bars = Array.from({ length: 2_000 }, (_, i) => bar(`SYM${i % 50}`, '5s', 5_000, T0 + Math.floor(i / 50) * 5_000));
  let maxBuffered = 0;
  let frameBytes = 0;
  const deadline = Date.now() + 20_000;
  for (let round = 0; live.counters.dropped === 0 && round < 10_000 && Date.now() < deadline; round++) {
    live.publishBars(bars);
    live.tick();
    frameBytes = Math.max(frameBytes, JSON.stringify(bars.map(toBarRecord)).length + 32);
    maxBuffered = Math.max(maxBuffered, slowResponse.writableLength);
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(live.counters.dropped, 1, 'the slow client was dropped');
  assert.ok(live.counters.skipped > 0, 'frames were skipped for it first');
  assert.ok(maxBuffered > MAX, 'the test did fill the buffer');
  assert.ok(maxBuffered <= MAX + frameBytes, `buffered ${maxBuffered} stays within 1 MiB plus one frame (${frameBytes})`);
  assert.equal(live.clientCount, 1, 'the fast client is still connected');

  const before = fast.events.length;
  live.publishBars([bar('AAPL', '1m', 60_000, T0)]);
  live.tick();
  await until(() => fast.events.length > before, 'a frame for the fast client after the drop');
});

test('a client that falls behind and catches up gets a hello again before its next frame, so it reloads what it missed', async (t) => {
  const MAX = 64 * 1024;
  const { live, responses, port } = await streamServer(t, { slowClientTimeoutMs: 600_000, maxBufferedBytes: MAX });
  const socket = await pausedClient(t, port, responses);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));

  const bars = Array.from({ length: 500 }, (_, i) => bar(`SYM${i % 50}`, '5s', 5_000, T0 + Math.floor(i / 50) * 5_000));
  const deadline = Date.now() + 20_000;
  for (let round = 0; live.counters.skipped === 0 && round < 10_000 && Date.now() < deadline; round++) {
    live.publishBars(bars);
    live.tick();
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(live.counters.skipped > 0, 'frames were skipped for it');
  assert.equal(live.counters.resyncs, 0);

  socket.resume();
  await until(() => responses[0]!.writableLength === 0, 'the client to read what was buffered');
  const before = received.length;
  const last = bar('AAPL', '1m', 60_000, T0, 7);
  live.publishBars([last]);
  live.tick();
  await until(() => received.slice(before).includes('event: bars'), 'the next frame');
  const after = received.slice(before);
  assert.ok(after.indexOf('event: hello') >= 0 && after.indexOf('event: hello') < after.indexOf('event: bars'), `a hello comes first: ${after.slice(0, 80)}`);
  assert.equal(live.counters.resyncs, 1);

  // Once caught up, frames come without one.
  const again = received.length;
  live.publishBars([last]);
  live.tick();
  await until(() => received.slice(again).includes('event: bars'), 'one more frame');
  assert.ok(!received.slice(again).includes('event: hello'));
});

test('heartbeat comments keep an idle stream open', async (t) => {
  const live = new LivePush({ pushIntervalMs: 1_000_000, heartbeatMs: 30, stats: () => ({}) });
  const http = createServer((_req, res) => live.attach(res, {}));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    live.close();
    http.closeAllConnections();
    return new Promise<void>((resolve) => http.close(() => resolve()));
  });
  live.start();
  const { port } = http.address() as AddressInfo;
  const client = await connectSse(t, `http://127.0.0.1:${port}/`);
  await until(() => client.comments.filter((c) => c === 'heartbeat').length >= 2, 'two heartbeats');
});

/** A LivePush behind a bare HTTP server on a free port; every request is attached to the stream. */
async function streamServer(
  t: TestContext,
  options: { slowClientTimeoutMs: number; maxBufferedBytes: number },
): Promise<{ live: LivePush; responses: ServerResponse[]; port: number }> {
  const live = new LivePush({ pushIntervalMs: 1_000_000, stats: () => ({}), ...options });
  const responses: ServerResponse[] = [];
  const http = createServer((_req, res) => {
    responses.push(res);
    live.attach(res, { hello: true });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    live.close();
    http.closeAllConnections();
    return new Promise<void>((resolve) => http.close(() => resolve()));
  });
  return { live, responses, port: (http.address() as AddressInfo).port };
}

/** A raw client that sends its stream request and reads nothing until resumed; waits until it is attached. */
async function pausedClient(t: TestContext, port: number, responses: readonly ServerResponse[]): Promise<Socket> {
  const attached = responses.length + 1;
  const socket = connect(port, '127.0.0.1');
  socket.pause();
  t.after(() => socket.destroy());
  socket.write('GET /stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
  await until(() => responses.length === attached, 'the client to be attached');
  return socket;
}

test('past its most clients the stream answers 503 stream_full with a message naming the cap, and takes a client again once one leaves', async (t) => {
  const { server } = serverFor(t, { pushIntervalMs: 30, streamMaxClients: 2 });
  const url = await server.start();
  const a = await connectSse(t, `${url}/api/stream`);
  const b = await connectSse(t, `${url}/api/stream`);
  await until(() => a.events.length >= 1 && b.events.length >= 1, 'hello on both');
  const refused = await fetch(`${url}/api/stream`);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '2');
  assert.deepEqual(await refused.json(), {
    error: 'stream_full',
    message: 'the live stream has as many clients as it takes (2); try again once one has closed its page',
  });
  server.live.publishBars([bar('AAPL', '1m', 60_000, T0)]);
  await until(() => a.events.some((e) => e.event === 'bars') && b.events.some((e) => e.event === 'bars'), 'the connected clients served as before');

  a.close();
  let again: Awaited<ReturnType<typeof connectSse>> | undefined;
  await until(async () => {
    const c = await connectSse(t, `${url}/api/stream`);
    if (c.response.statusCode === 200) again = c;
    else c.close();
    return again !== undefined;
  }, 'a place freed by the client that left');
  await until(() => again!.events.some((e) => e.event === 'hello'), 'hello on the new client');
});
