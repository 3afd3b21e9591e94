import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { TradeSpool, type SpooledRecord, type TradeSpoolOptions } from '../../../src/bus/kafka/trade-spool.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-spool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(t: TestContext, options: TradeSpoolOptions): TradeSpool {
  const spool = new TradeSpool(options);
  t.after(() => spool.close());
  return spool;
}

function records(n: number, from = 0): SpooledRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`SYM${(from + i) % 7}`),
    value: Buffer.from(`trade-${from + i}`),
  }));
}

const values = (rs: readonly SpooledRecord[]): string[] => rs.map((r) => r.value.toString());

async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

test('records are read back in the order they were written, across segments', async (t) => {
  const spool = open(t, { dir: tempDir(t), limit: 10_000, segmentBytes: 256 });
  for (let i = 0; i < 10; i++) await spool.append(records(20, i * 20));
  assert.equal(spool.depth, 200);
  assert.ok(readdirSync(spool.dir).filter((f) => f.endsWith('.seg')).length > 1, 'expected several segments');
  const seen: string[] = [];
  while (spool.depth > 0) {
    const batch = spool.peek(33);
    assert.ok(batch.length > 0);
    seen.push(...values(batch));
    spool.ack(batch.length);
  }
  assert.deepEqual(seen, values(records(200)));
  assert.deepEqual(spool.peek(10), []);
});

test('records appended after a peek of the one segment are read when the segment has been rolled over', async (t) => {
  // While Kafka is away the producer peeks at every retry, and the spool goes on growing: the
  // segment read then must not be served from what the peek saw once a newer segment exists.
  const spool = open(t, { dir: tempDir(t), limit: 10_000, segmentBytes: 256 });
  await spool.append(records(2));
  assert.deepEqual(values(spool.peek(10)), values(records(2)));
  for (let i = 2; i < 40; i++) await spool.append(records(1, i));
  assert.ok(readdirSync(spool.dir).filter((f) => f.endsWith('.seg')).length > 1, 'expected several segments');
  assert.deepEqual(values(spool.peek(100)), values(records(40)));
  spool.ack(5);
  assert.deepEqual(values(spool.peek(100)), values(records(35, 5)));
  spool.ack(35);
  assert.equal(spool.depth, 0);
});

test('peek does not consume: the same records come back until they are acknowledged', async (t) => {
  const spool = open(t, { dir: tempDir(t), limit: 100 });
  await spool.append(records(5));
  assert.deepEqual(values(spool.peek(3)), values(records(3)));
  assert.deepEqual(values(spool.peek(3)), values(records(3)));
  spool.ack(2);
  assert.deepEqual(values(spool.peek(10)), values(records(3, 2)));
  assert.equal(spool.depth, 3);
});

test('peek with a byte limit stops before the record that would pass it, and always gives one', async (t) => {
  const spool = open(t, { dir: tempDir(t), limit: 100 });
  // Each record weighs its key (4 bytes) plus its value: 11 bytes for trade-0 to trade-9, 12 after.
  await spool.append(records(12));
  const cases: [maxBytes: number, count: number][] = [[1, 1], [11, 1], [21, 1], [22, 2], [23, 2], [110, 10], [121, 10], [122, 11], [1_000, 12]];
  for (const [maxBytes, count] of cases) assert.equal(spool.peek(100, maxBytes).length, count, `peek(100, ${maxBytes})`);
  assert.equal(spool.peek(100, 1)[0]?.value.toString(), 'trade-0', 'a record over the limit still comes, alone');
  assert.equal(spool.peek(3, 1_000).length, 3, 'the count limit still holds');
});

test('a reopened spool resumes after the last acknowledged record (crash safety)', async (t) => {
  const dir = tempDir(t);
  const first = new TradeSpool({ dir, limit: 1_000, segmentBytes: 200 });
  await first.append(records(30));
  first.ack(12);
  first.close();

  const second = open(t, { dir, limit: 1_000, segmentBytes: 200 });
  assert.equal(second.depth, 18);
  assert.deepEqual(values(second.peek(100)), values(records(18, 12)));
  await second.append(records(3, 30));
  assert.deepEqual(values(second.peek(100)), values(records(21, 12)));
});

test('a torn write at the end of a segment is cut off on reopen; earlier records survive', async (t) => {
  const dir = tempDir(t);
  const first = new TradeSpool({ dir, limit: 1_000 });
  await first.append(records(4));
  first.close();
  const segment = join(dir, readdirSync(dir).find((f) => f.endsWith('.seg'))!);
  const size = statSync(segment).size;
  // A crash mid-write: half a frame, then also a frame whose checksum does not match.
  appendFileSync(segment, Buffer.from([40, 0, 0, 0, 1, 2, 3]));
  let repaired = 0;
  const second = open(t, { dir, limit: 1_000, onRepair: () => repaired++ });
  assert.equal(repaired, 1);
  assert.equal(statSync(segment).size, size);
  assert.equal(second.depth, 4);
  truncateSync(segment, size - 3);
  second.close();
  const third = open(t, { dir, limit: 1_000 });
  assert.equal(third.depth, 3, 'the corrupt last record is dropped, not misread');
  assert.deepEqual(values(third.peek(10)), values(records(3)));
});

test('records left for another topic or format are refused on open, naming both and the flags that send them; the spool stays whole', async (t) => {
  const dir = tempDir(t);
  const trades = { topic: 'market.trades', format: 'avro' };
  const first = new TradeSpool({ dir, limit: 1_000, target: trades });
  await first.append(records(5));
  first.close();

  for (const other of [{ topic: 'desk.trades', format: 'avro' }, { topic: 'market.trades', format: 'json' }]) {
    assert.throws(
      () => new TradeSpool({ dir, limit: 1_000, target: other }),
      (error: Error) =>
        error.message ===
        `${dir} holds 5 trades spooled for topic market.trades in avro, not ${other.topic} in ${other.format}: start once with --kafka-topic market.trades --kafka-format avro to send them, or move the directory away`,
    );
  }
  // The refused opens took nothing: the lock is free and the records are all there, for their own topic.
  const again = open(t, { dir, limit: 1_000, target: trades });
  assert.deepEqual(values(again.peek(100)), values(records(5)));
});

test('an empty spool takes a new target; records of a spool that kept none are taken as they are', async (t) => {
  const dir = tempDir(t);
  const first = new TradeSpool({ dir, limit: 1_000, target: { topic: 'market.trades', format: 'avro' } });
  await first.append(records(2));
  first.ack(2);
  first.close();
  const moved = new TradeSpool({ dir, limit: 1_000, target: { topic: 'desk.trades', format: 'json' } });
  await moved.append(records(3));
  moved.close();
  assert.throws(() => new TradeSpool({ dir, limit: 1_000, target: { topic: 'market.trades', format: 'avro' } }), /spooled for topic desk\.trades in json/);

  const older = tempDir(t);
  const untargeted = new TradeSpool({ dir: older, limit: 1_000 });
  await untargeted.append(records(4));
  untargeted.close();
  const taken = open(t, { dir: older, limit: 1_000, target: { topic: 'market.trades', format: 'avro' } });
  assert.equal(taken.depth, 4);
  assert.deepEqual(JSON.parse(readFileSync(join(older, 'target.json'), 'utf8')), { topic: 'market.trades', format: 'avro' });
});

test('the spool is bounded: append waits while full and goes on once records are acknowledged', async (t) => {
  const spool = open(t, { dir: tempDir(t), limit: 10 });
  await spool.append(records(8));
  let done = false;
  const waiting = spool.append(records(5, 8)).then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  assert.equal(spool.depth, 8);
  spool.ack(2);
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false, 'still 6 + 5 > 10');
  spool.ack(1);
  await until(() => done, 'append after space was freed');
  await waiting;
  assert.equal(spool.depth, 10);
  assert.deepEqual(values(spool.peek(20)), values(records(10, 3)));
});

test('a batch larger than the limit still gets in once the spool is empty', async (t) => {
  const spool = open(t, { dir: tempDir(t), limit: 4 });
  await spool.append(records(9));
  assert.equal(spool.depth, 9);
});

test('closing wakes a waiting append with a closed error', async (t) => {
  const spool = open(t, { dir: tempDir(t), limit: 2 });
  await spool.append(records(2));
  const waiting = spool.append(records(1));
  spool.close();
  await assert.rejects(waiting, /closed/);
});

test('fully acknowledged segments are deleted', async (t) => {
  const spool = open(t, { dir: tempDir(t), limit: 10_000, segmentBytes: 128 });
  for (let i = 0; i < 20; i++) await spool.append(records(5, i * 5));
  const before = readdirSync(spool.dir).filter((f) => f.endsWith('.seg')).length;
  spool.ack(100);
  const after = readdirSync(spool.dir).filter((f) => f.endsWith('.seg')).length;
  assert.ok(before > 2 && after <= 1, `segments before ${before}, after ${after}`);
  assert.equal(spool.depth, 0);
});

test('a second spool over a directory in use fails with one line naming it; once the first closes it opens', async (t) => {
  const dir = tempDir(t);
  const first = open(t, { dir, limit: 1_000 });
  await first.append(records(5));
  assert.throws(
    () => new TradeSpool({ dir, limit: 1_000 }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'TICKSTREAM_START_FAILED');
      assert.match(error.message, /is in use by the spool of a Kafka producer of this process: give each one its own --data-dir/);
      assert.ok(error.message.startsWith(dir), error.message);
      assert.ok(!error.message.includes('\n'));
      return true;
    },
  );
  assert.equal(first.depth, 5, 'the refused spool cut nothing off the one in use');
  await first.append(records(2, 5));
  first.close();
  const second = open(t, { dir, limit: 1_000 });
  assert.deepEqual(values(second.peek(100)), values(records(7)));
});

/** A lock as a holder writes it. */
function writeLock(dir: string, holder: { host?: string; pid: number; started: number }): void {
  writeFileSync(join(dir, 'lock'), `${JSON.stringify({ host: hostname(), ...holder })}\n`);
}

const holderPid = (dir: string): number => (JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as { pid: number }).pid;

test('a lock left by a process that is gone, by a pid that now names another program, or by this pid started again is taken over', async (t) => {
  const dir = tempDir(t);
  writeLock(dir, { pid: spawnSync(process.execPath, ['-e', '']).pid, started: 1 });
  const spool = open(t, { dir, limit: 1_000 });
  assert.equal(holderPid(dir), process.pid);
  spool.close();
  assert.equal(existsSync(join(dir, 'lock')), false, 'close gives the directory back');

  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => other.kill());
  writeLock(dir, { pid: other.pid!, started: Date.now() });
  open(t, { dir, limit: 1_000 }).close();
  assert.equal(existsSync(join(dir, 'lock')), false);

  // A container started again: its node is pid 1 as before, but started later.
  writeLock(dir, { pid: process.pid, started: Math.round(performance.timeOrigin) - 60_000 });
  open(t, { dir, limit: 1_000 }).close();
  assert.equal(existsSync(join(dir, 'lock')), false);
});

test('a lock held by another live node process, or touched lately from another host, is respected', async (t) => {
  const dir = tempDir(t);
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)'], { stdio: 'ignore' });
  t.after(() => holder.kill());
  writeLock(dir, { pid: holder.pid!, started: Date.now() });
  assert.throws(() => new TradeSpool({ dir, limit: 1_000 }), new RegExp(`in use by the spool of a Kafka producer of process ${holder.pid} on ${hostname()}:`));
  assert.equal(holderPid(dir), holder.pid, 'the lock is left to its holder');

  // Containers sharing a volume: the pid says nothing here, the holder's heartbeat does.
  writeLock(dir, { host: 'another-host', pid: 1, started: Date.now() });
  assert.throws(() => new TradeSpool({ dir, limit: 1_000 }), /in use by the spool of a Kafka producer of process 1 on another-host:/);
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(join(dir, 'lock'), minuteAgo, minuteAgo);
  open(t, { dir, limit: 1_000 }).close();
});
