import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { epochMs, tradeViolation, type TradeRecord } from '../../../src/domain/index.ts';
import { createLogger } from '../../../src/observability/index.ts';
import { parseFinnhubFrame, parseReplayLine, ReplaySource } from '../../../src/source/index.ts';
import { tradeFrame, type FinnhubTrade } from '../../../src/source/finnhub/finnhub-protocol.ts';
import { MAX_LINE_CHARS } from '../../../src/source/replay/replay-source.ts';
import { collector, until } from '../source-helpers.ts';

const T0 = 1_700_000_000_000;

function record(i: number, ts = T0 + i): TradeRecord {
  return { symbol: i % 2 === 0 ? 'AAPL' : 'BINANCE:BTCUSDT', price: 100 + i / 100, volume: i % 5, ts, conditions: i % 3 === 0 ? ['1', '12'] : [], source: 'simulator', ingest_ts: T0 };
}

/** The Finnhub trade of record(i), as the feed sends it inside a `trade` frame. */
function finnhub(i: number, ts = T0 + i): FinnhubTrade {
  const r = record(i, ts);
  return { s: r.symbol, p: r.price, v: r.volume, t: r.ts, c: r.conditions };
}

function writeLines(t: TestContext, lines: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-replay-'));
  const file = join(dir, 'trades.ndjson');
  writeFileSync(file, `${lines.join('\n')}\n`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return file;
}

async function replay(t: TestContext, file: string, speed: number) {
  const source = new ReplaySource({ file, speed });
  t.after(() => source.close());
  const c = collector();
  await source.start(c.sink);
  return { source, c };
}

test('at speed 0 every line is delivered in file order and a bad line is dead-lettered with its line number', async (t) => {
  const good = Array.from({ length: 5_000 }, (_, i) => JSON.stringify(record(i)));
  const lines = [...good.slice(0, 100), '{"symbol":"AAPL","price":"NaN","volume":1,"ts":1}', '', 'garbage', ...good.slice(100)];
  const { source, c } = await replay(t, writeLines(t, lines), 0);
  const before = Date.now();
  await source.finished();
  assert.ok(Date.now() - before < 10_000);
  assert.equal(c.trades.length, 5_000);
  assert.deepEqual(c.trades.map((tr) => tr.price), good.map((_, i) => 100 + i / 100));
  assert.ok(c.trades.every((tr) => tr.source === 'replay' && tradeViolation(tr) === undefined));
  assert.equal(c.trades[0]!.conditions.length, 2);
  assert.equal(c.letters.length, 2);
  assert.match(c.letters[0]!.reason, /^line 101: invalid trade record: price must be number/);
  assert.match(c.letters[1]!.reason, /^line 103: not JSON/);
  assert.equal(c.letters[1]!.raw, 'garbage');
  assert.deepEqual(source.counters, { ...source.counters, received: 5_000, invalid: 2 });
  assert.equal(source.status().state, 'finished');
  assert.equal(source.ended, true);
  assert.match(source.status().detail, /line 5003/);
});

test('ingestTs is the time of delivery, not the recorded one', async (t) => {
  const started = Date.now();
  const { source, c } = await replay(t, writeLines(t, [JSON.stringify(record(1))]), 0);
  await source.finished();
  assert.equal(c.trades.length, 1);
  assert.ok(c.trades[0]!.ingestTs >= started, 'ingest time set on replay');
  assert.equal(c.trades[0]!.ts, T0 + 1);
});

test('replay keeps the event-time gaps at ×speed', async (t) => {
  // 600 ms of event time at ×2 takes about 300 ms; bounds are loose, this is not a timing benchmark.
  const lines = Array.from({ length: 61 }, (_, i) => JSON.stringify(record(i, T0 + i * 10)));
  const { source, c } = await replay(t, writeLines(t, lines), 2);
  const started = Date.now();
  await until(() => c.trades.length > 0, 'first trade');
  await source.finished();
  const took = Date.now() - started;
  assert.equal(c.trades.length, 61);
  assert.ok(took >= 250, `×2 over 600 ms of trades took ${took} ms`);
  assert.ok(took < 5_000, `×2 over 600 ms of trades took ${took} ms`);
  // Delivery spreads over time: the trades do not all arrive in one batch.
  assert.ok(new Set(c.trades.map((tr) => tr.ingestTs)).size > 5);
});

test('a trade that goes back in time is delivered at once, and close stops a slow replay early', async (t) => {
  const lines = [record(0, T0), record(1, T0 - 5_000), record(2, T0 + 3_600_000)].map((r) => JSON.stringify(r));
  const { source, c } = await replay(t, writeLines(t, lines), 1);
  await until(() => c.trades.length === 2, 'the first two trades');
  assert.equal(source.status().state, 'connected');
  await source.close();
  await source.finished();
  assert.equal(c.trades.length, 2);
  assert.equal(source.status().state, 'closed');
  assert.equal(source.ended, false, 'closed before the end of the file');
  assert.equal(source.line, 3, 'the line waited on');
});

test('a Finnhub trade frame line yields each of its trades, a ping line is skipped, and a bad trade of a frame is dead-lettered alone', async (t) => {
  const badTrade = '{"s":"AAPL","p":-1,"v":1,"t":1700000000003}';
  const mixed = `{"type":"trade","data":[${JSON.stringify(finnhub(2))},${badTrade},${JSON.stringify(finnhub(4))}]}`;
  const lines = [JSON.stringify(record(1)), '{"type":"ping"}', mixed, tradeFrame([finnhub(5), finnhub(6)]), '{"type":"trade","data":{}}', JSON.stringify(record(7))];
  const { source, c } = await replay(t, writeLines(t, lines), 0);
  await source.finished();
  assert.deepEqual(c.trades.map((tr) => tr.ts), [T0 + 1, T0 + 2, T0 + 4, T0 + 5, T0 + 6, T0 + 7]);
  assert.ok(c.trades.every((tr) => tr.source === 'replay' && tradeViolation(tr) === undefined));
  assert.deepEqual(c.trades[4]!.conditions, ['1', '12'], 'the conditions of a trade of a frame');
  // The live source's dead letter of the same frame: the one bad trade, with the same reason.
  const live = parseFinnhubFrame(mixed, epochMs(0), 'finnhub');
  assert.ok(live.type === 'trade' && live.invalid.length === 1);
  assert.deepEqual(
    c.letters.map((l) => [l.raw, l.reason]),
    [
      [badTrade, `line 3: ${live.invalid[0]!.reason}`],
      ['{"type":"trade","data":{}}', 'line 5: invalid trade message: data must be array'],
    ],
  );
  assert.match(c.letters[0]!.reason, /^line 3: invalid trade: price must be a finite number > 0/);
  assert.deepEqual(source.counters, { ...source.counters, received: 6, invalid: 2 });
  assert.match(source.status().detail, /line 6/);
});

test('replay keeps the event-time gaps between the trades of one Finnhub frame at ×speed', async (t) => {
  // One frame over 600 ms of event time: at ×2 its trades go out one by one over about 300 ms.
  const frame = tradeFrame([0, 200, 400, 600].map((ms, i) => finnhub(i, T0 + ms)));
  const { source, c } = await replay(t, writeLines(t, ['{"type":"ping"}', frame]), 2);
  const started = Date.now();
  await until(() => c.trades.length > 0, 'first trade');
  await source.finished();
  const took = Date.now() - started;
  assert.equal(c.trades.length, 4);
  assert.ok(took >= 250, `×2 over a frame of 600 ms took ${took} ms`);
  assert.ok(took < 5_000, `×2 over a frame of 600 ms took ${took} ms`);
  assert.equal(new Set(c.trades.map((tr) => tr.ingestTs)).size, 4, 'each trade of the frame delivered at its own time');
});

test('close while a trade of a Finnhub frame is waited on delivers none of the frame\'s later trades', async (t) => {
  const { source, c } = await replay(t, writeLines(t, [tradeFrame([finnhub(0, T0), finnhub(1, T0 + 3_600_000), finnhub(2, T0 + 3_600_001)])]), 1);
  await until(() => c.trades.length === 1, 'the first trade of the frame');
  await source.close();
  await source.finished();
  assert.deepEqual(c.trades.map((tr) => tr.ts), [T0]);
  assert.equal(source.ended, false);
  assert.equal(source.line, 1);
});

test('a UTF-8 byte order mark at the start of the file is not part of line 1', async (t) => {
  const { source, c } = await replay(t, writeLines(t, [`\uFEFF${JSON.stringify(record(1))}`, JSON.stringify(record(2))]), 0);
  await source.finished();
  assert.deepEqual(c.letters, []);
  assert.deepEqual(c.trades.map((tr) => tr.ts), [T0 + 1, T0 + 2]);
});

test('a line over 1 MiB is dead-lettered with its line number, its length and only its start', async (t) => {
  const long = `{"symbol":"AAPL","pad":"${'x'.repeat(MAX_LINE_CHARS)}"}`;
  const { source, c } = await replay(t, writeLines(t, [JSON.stringify(record(1)), long, JSON.stringify(record(3))]), 0);
  await source.finished();
  assert.deepEqual(c.trades.map((tr) => tr.ts), [T0 + 1, T0 + 3]);
  assert.equal(c.letters.length, 1);
  assert.equal(c.letters[0]!.reason, `line 2: ${long.length} characters, over the limit of ${MAX_LINE_CHARS}; only its start is kept`);
  assert.equal(c.letters[0]!.raw, long.slice(0, 200));
});

test('- reads standard input, and a close while it waits for input ends the replay without a failure', async (t) => {
  const stdin = new PassThrough();
  const source = new ReplaySource({ file: '-', speed: 0, stdin });
  t.after(() => source.close());
  const c = collector();
  await source.start(c.sink);
  stdin.write(`${JSON.stringify(record(1))}\n${JSON.stringify(record(2)).slice(0, 10)}`);
  stdin.write(`${JSON.stringify(record(2)).slice(10)}\n`);
  await until(() => c.trades.length === 2, 'two trades from stdin');
  assert.match(source.status().detail, /^standard input · line 2/);
  await source.close();
  await source.finished();
  assert.equal(source.failure, undefined);
  assert.equal(source.status().state, 'closed');
});

test('a FIFO is read front to back, as a file, after the log says that the replay waits for its writer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-replay-fifo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'trades.fifo');
  execFileSync('mkfifo', [fifo]);
  const logged: string[] = [];
  const logger = createLogger({ level: 'info', write: (line) => logged.push(line) });
  const source = new ReplaySource({ file: fifo, speed: 0, logger });
  t.after(() => source.close());
  const c = collector();
  // The reader's open (in start) waits for the writer's, and the writer's for the reader's.
  const starting = source.start(c.sink);
  assert.match(logged.join('\n'), /INFO .*waiting for a writer to open the FIFO file=.*trades\.fifo/);
  const writing = writeFile(fifo, `${JSON.stringify(record(1))}\n${JSON.stringify(record(2))}\n`);
  await starting;
  await writing;
  await source.finished();
  assert.equal(source.failure, undefined);
  assert.deepEqual(c.trades.map((tr) => tr.ts), [T0 + 1, T0 + 2]);
});

test('a missing file is a config error that names replay.file', async (t) => {
  const source = new ReplaySource({ file: join(tmpdir(), 'no-such-dir-tickstream', 'x.ndjson'), speed: 0 });
  t.after(() => source.close());
  await assert.rejects(source.start(collector().sink), /invalid config replay\.file=.*ENOENT/);
  await assert.rejects(new ReplaySource({ file: '', speed: 0 }).start(collector().sink), /replay\.file/);
});

test('a file that stops being readable after it opened ends the replay with a failure saying why', async (t) => {
  // A directory opens for reading, and its first read fails: as a disk error would, later on.
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-replay-dir-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { source } = await replay(t, dir, 0);
  await source.finished();
  assert.match(source.failure ?? '', /^line 0: EISDIR/);
  assert.match(source.status().detail, /stopped: EISDIR/);
  const ok = await replay(t, writeLines(t, [JSON.stringify(record(1))]), 0);
  await ok.source.finished();
  assert.equal(ok.source.failure, undefined);
});

const LINES: [name: string, line: string, reason: RegExp | undefined][] = [
  ['a trade record', JSON.stringify(record(3)), undefined],
  ['a record with null conditions', '{"symbol":"X","price":1,"volume":0,"ts":1704207845000,"conditions":null}', undefined],
  ['a Finnhub trade', '{"s":"AAPL","p":1.5,"v":2,"t":1704207847000,"c":["1"]}', undefined],
  ['ts in seconds', '{"symbol":"X","price":1,"volume":0,"ts":1704207845}', /ts must be epoch milliseconds from 1990 to 2100, got 1704207845 \(seconds\? ts is in milliseconds\)/],
  ['ts in microseconds', '{"s":"AAPL","p":1.5,"v":2,"t":1704207847000000}', /got 1704207847000000 \(microseconds or nanoseconds\? ts is in milliseconds\)/],
  ['a symbol the API could not ask for', '{"symbol":"BRK B","price":1,"volume":0,"ts":1704207845000}', /symbol must be 1-40 letters, digits or \. _ : \/ \^ = -, got "BRK B"/],
  ['a price whose bar sums would overflow', '{"symbol":"X","price":1e308,"volume":10,"ts":1704207845000}', /price must be a finite number > 0 and at most 1e12, got 1e\+308/],
  ['negative price', '{"symbol":"X","price":-1,"volume":0,"ts":5}', /price must be a finite number > 0/],
  ['missing ts', '{"symbol":"X","price":1,"volume":0}', /required properties ts/],
  ['an array', '[1]', /not a JSON object/],
  ['an unrelated object', '{"hello":1}', /neither a trade record/],
  ['a Finnhub trade with a null price', '{"s":"AAPL","p":null,"v":2,"t":7}', /p must be number/],
  ['a Finnhub trade frame whose data is no list', '{"type":"trade","data":{}}', /^invalid trade message: data must be array$/],
  ['a Finnhub error message', '{"type":"error","msg":"Invalid API key"}', /^a Finnhub error message, which holds no trades: Invalid API key$/],
  ['a Finnhub message of another type', '{"type":"news","data":[]}', /^a Finnhub message of type "news", which holds no trades$/],
  ['an object of no known kind', '{"typo":"trade"}', /^neither a trade record .*, a Finnhub trade .* nor a Finnhub message/],
];

for (const [name, line, reason] of LINES) {
  test(`replay line: ${name}`, () => {
    const parsed = parseReplayLine(line, epochMs(9));
    if (reason === undefined) {
      assert.deepEqual(parsed.invalid, []);
      assert.equal(parsed.trades.length, 1);
      assert.equal(parsed.trades[0]?.source, 'replay');
      assert.equal(parsed.trades[0]?.ingestTs, 9);
    } else {
      assert.deepEqual(parsed.trades, []);
      assert.equal(parsed.invalid.length, 1);
      assert.equal(parsed.invalid[0]?.raw, line);
      assert.match(parsed.invalid[0]?.reason ?? '', reason);
    }
  });
}

test('replay line: a Finnhub trade frame is read as the live source reads it, each bad trade rejected alone', () => {
  const bad = ['{"s":"AAPL","p":-1,"v":1,"t":1700000000003}', '{"s":"BRK B","p":1,"v":1,"t":1700000000004}', '{"s":"AAPL","p":1,"v":1,"t":1700000000}'];
  const line = `{"type":"trade","data":[${JSON.stringify(finnhub(1))},${bad.join(',')},${JSON.stringify(finnhub(2))}]}`;
  const parsed = parseReplayLine(line, epochMs(9));
  const live = parseFinnhubFrame(line, epochMs(9), 'replay');
  assert.equal(live.type, 'trade');
  if (live.type !== 'trade') return;
  assert.deepEqual(parsed.trades, live.trades);
  assert.deepEqual(parsed.trades.map((tr) => [tr.ts, tr.source, tr.ingestTs]), [[T0 + 1, 'replay', 9], [T0 + 2, 'replay', 9]]);
  assert.deepEqual(parsed.invalid.map((p) => p.raw), bad);
  assert.deepEqual(parsed.invalid.map((p) => p.reason), live.invalid.map((l) => l.reason));
  assert.match(parsed.invalid[2]!.reason, /seconds\? ts is in milliseconds/);
});

test('replay line: a Finnhub ping and an empty trade frame hold nothing, and nothing wrong', () => {
  for (const line of ['{"type":"ping"}', '{"type":"trade","data":[]}']) assert.deepEqual(parseReplayLine(line, epochMs(9)), { trades: [], invalid: [] }, line);
});
