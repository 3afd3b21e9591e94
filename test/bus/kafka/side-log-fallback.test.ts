import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { KafkaSideLog, UnsentDir } from '../../../src/bus/index.ts';
import { BusUnavailableError } from '../../../src/errors.ts';
import { createLogger } from '../../../src/observability/index.ts';
import { freePort } from '../../support/free-port.ts';

// A side topic whose broker does not answer (a port nothing listens on): every send fails for real.

interface Letter {
  readonly reason: string;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-side-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function unsentDir(t: TestContext, root = tempDir(t)): UnsentDir {
  const dir = new UnsentDir(root);
  t.after(() => dir.close());
  return dir;
}

async function sideLogWithoutKafka(
  t: TestContext,
  lines: string[],
  unsent?: UnsentDir,
  waits: { retryDelayMs: number; fallbackAfterMs: number } = { retryDelayMs: 20, fallbackAfterMs: 3_000 },
): Promise<KafkaSideLog<Letter>> {
  const log = new KafkaSideLog<Letter>({
    brokers: [`127.0.0.1:${await freePort()}`],
    clientId: 'side-log-test',
    topic: 'market.trades.dlq',
    ...waits,
    ...(unsent === undefined ? {} : { unsent }),
    logger: createLogger({ level: 'info', write: (line) => lines.push(line) }),
  });
  t.after(() => log.close());
  return log;
}

const fileLines = (path: string): Letter[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Letter);

test('entries Kafka does not take within the wait are kept in the unsent file, and so are the next ones, without waiting on Kafka', { timeout: 30_000 }, async (t) => {
  const lines: string[] = [];
  const dir = unsentDir(t);
  const path = join(dir.dir, 'market.trades.dlq.ndjson');
  const log = await sideLogWithoutKafka(t, lines, dir);
  const started = Date.now();
  await log.append([{ reason: 'price must be > 0' }, { reason: 'symbol is empty' }]);
  assert.ok(Date.now() - started >= 3_000, 'it tried Kafka for the whole wait first');
  const warned = lines.filter((l) => l.includes(`Kafka did not take entries of market.trades.dlq; they are kept in ${path} and sent once it does`));
  assert.equal(warned.length, 1, lines.join('\n'));
  const next = Date.now();
  await log.append([{ reason: 'volume is negative' }]);
  const single = Date.now() - next;
  await log.close();
  assert.deepEqual(readdirSync(dir.dir).sort(), ['lock', 'market.trades.dlq.ndjson'], 'closed before Kafka answered: the file stays for the next start');
  assert.deepEqual(fileLines(path), [{ reason: 'price must be > 0' }, { reason: 'symbol is empty' }, { reason: 'volume is negative' }]);
  assert.equal(lines.filter((l) => l.includes('Kafka did not take entries')).length, 1, 'said once, not at every append');
  // Straight to the file: an attempt on Kafka alone takes the client's retries, 2 × 250 ms.
  assert.ok(single < 400, `${single} ms for the second append`);
});

test('closing while an append waits to retry keeps it at once', { timeout: 30_000 }, async (t) => {
  const lines: string[] = [];
  const dir = unsentDir(t);
  const log = await sideLogWithoutKafka(t, lines, dir, { retryDelayMs: 60_000, fallbackAfterMs: 60_000 });
  const appended = log.append([{ reason: 'too late' }]);
  // Wait for the first failed attempt (the client's retries take a moment), then close.
  const deadline = Date.now() + 10_000;
  while (!lines.some((l) => l.includes('side topic write failed; retrying')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const closing = Date.now();
  await log.close();
  await appended;
  assert.ok(Date.now() - closing < 5_000, 'close did not wait out the retry delay');
  assert.deepEqual(fileLines(join(dir.dir, 'market.trades.dlq.ndjson')), [{ reason: 'too late' }]);
});

test('entries left by an earlier run wait while Kafka is away, with one warning, and stay on disk at close', { timeout: 30_000 }, async (t) => {
  const lines: string[] = [];
  const root = tempDir(t);
  // What a process that is gone left: its directory, without a lock (it never took one, or it was removed).
  mkdirSync(join(root, 'gone-1'));
  writeFileSync(join(root, 'gone-1', 'market.trades.dlq.ndjson'), '{"reason":"left over"}\n');
  const dir = unsentDir(t, root);
  const log = await sideLogWithoutKafka(t, lines, dir, { retryDelayMs: 20, fallbackAfterMs: 200 });
  const deadline = Date.now() + 15_000;
  // The client's own retries make an attempt last about half a second: wait for a few.
  while (lines.filter((l) => l.includes('Kafka does not take')).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 2_000));
  await log.close();
  const warned = lines.filter((l) => l.includes('Kafka does not take the kept entries of market.trades.dlq yet; trying again every 200ms'));
  assert.equal(warned.length, 1, lines.join('\n'));
  const files = readdirSync(dir.dir).filter((f) => f !== 'lock');
  assert.deepEqual(files, ['market.trades.dlq.1.sending'], 'claimed into this process\'s directory, and kept there');
  assert.deepEqual(fileLines(join(dir.dir, files[0] ?? '')), [{ reason: 'left over' }]);
  assert.equal(existsSync(join(root, 'gone-1')), false);
});

test('without an unsent dir an append retries until the log closes, then fails naming what was not written', { timeout: 30_000 }, async (t) => {
  const lines: string[] = [];
  const log = await sideLogWithoutKafka(t, lines);
  const appended = log.append([{ reason: 'a' }, { reason: 'b' }]);
  await new Promise((r) => setTimeout(r, 1_000));
  await log.close();
  await assert.rejects(appended, (error: unknown) => error instanceof BusUnavailableError && /market\.trades\.dlq closed with 2 entries not written/.test(error.message));
});
