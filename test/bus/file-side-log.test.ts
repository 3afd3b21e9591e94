import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileSideLog } from '../../src/bus/index.ts';

interface Entry {
  readonly n: number;
  readonly raw: string;
}

const lines = (path: string): Entry[] =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Entry)
    : [];

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-side-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'market.trades.dlq.ndjson');
}

/** Every entry is one line of the same length, whatever its number. */
const entry = (n: number): Entry => ({ n, raw: 'x'.repeat(80 - String(n).length) });

test('entries are appended in order, across a restart, when the file stays under its bound', async (t) => {
  const path = scratch(t);
  const first = new FileSideLog<Entry>(path);
  await first.append([entry(0), entry(1)]);
  await first.close();
  const second = new FileSideLog<Entry>(path);
  await second.append([entry(2)]);
  await second.close();
  assert.deepEqual(lines(path).map((e) => e.n), [0, 1, 2]);
  assert.equal(existsSync(`${path}.1`), false);
});

test('past its bound the file becomes <path>.1 and a new one begins, so at most two files are kept', async (t) => {
  const path = scratch(t);
  const size = Buffer.byteLength(`${JSON.stringify(entry(0))}\n`);
  const log = new FileSideLog<Entry>(path, { maxBytes: size * 10 });
  // Appends that are not awaited one by one still land in order around each rollover.
  await Promise.all(Array.from({ length: 35 }, (_, n) => log.append([entry(n)])));
  await log.close();
  assert.deepEqual(lines(`${path}.1`).map((e) => e.n), [20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
  assert.deepEqual(lines(path).map((e) => e.n), [30, 31, 32, 33, 34]);
  assert.ok(statSync(path).size <= size * 10);
});

test('a file left over the bound by an earlier run rolls over at the first append', async (t) => {
  const path = scratch(t);
  writeFileSync(path, `${JSON.stringify(entry(-1))}\n`.repeat(20));
  const size = Buffer.byteLength(`${JSON.stringify(entry(0))}\n`);
  const log = new FileSideLog<Entry>(path, { maxBytes: size * 10 });
  await log.append([entry(0)]);
  await log.close();
  assert.equal(lines(`${path}.1`).length, 20);
  assert.deepEqual(lines(path).map((e) => e.n), [0]);
});

test('one entry larger than the bound is still kept whole', async (t) => {
  const path = scratch(t);
  const log = new FileSideLog<Entry>(path, { maxBytes: 50 });
  await log.append([entry(0)]);
  await log.append([entry(1)]);
  await log.close();
  assert.deepEqual(lines(`${path}.1`).map((e) => e.n), [0]);
  assert.deepEqual(lines(path).map((e) => e.n), [1]);
});
