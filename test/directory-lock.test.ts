import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { lockDirectory, removeIfStill } from '../src/directory-lock.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A lock of a process on another host, last touched a minute ago: left over. */
function leftOverLock(dir: string): string {
  const text = `${JSON.stringify({ host: 'gone-host', pid: 1, started: 1 })}\n`;
  const path = join(dir, 'lock');
  writeFileSync(path, text);
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(path, minuteAgo, minuteAgo);
  return text;
}

test('a lock left over is removed only while it is still the one that was judged left over', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'lock');
  const seen = leftOverLock(dir);
  removeIfStill(path, seen);
  assert.deepEqual(readdirSync(dir), [], 'the lock is gone, and nothing is left beside it');

  // Another process judged the same lock left over a moment before, and took it.
  const taken = `${JSON.stringify({ host: 'gone-host', pid: 2, started: 2 })}\n`;
  writeFileSync(path, taken);
  removeIfStill(path, seen);
  assert.equal(readFileSync(path, 'utf8'), taken, 'the lock of the process that took it over stays');
  assert.deepEqual(readdirSync(dir), ['lock']);

  rmSync(path);
  removeIfStill(path, seen);
  assert.deepEqual(readdirSync(dir), [], 'a lock already removed is no error');
});

test('a lock is written whole under its name, with no file beside it, and is gone after release', (t) => {
  const dir = tempDir(t);
  const lock = lockDirectory(dir, 'a test');
  assert.deepEqual(readdirSync(dir), ['lock']);
  assert.match(readFileSync(join(dir, 'lock'), 'utf8'), new RegExp(`"pid":${process.pid},`));
  lock.release();
  assert.deepEqual(readdirSync(dir), []);
});

const CONTENDER = fileURLToPath(new URL('./lock-contender.ts', import.meta.url));

test('of processes that find the same lock left over at the same moment, exactly one takes it', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  leftOverLock(dir);
  const count = 4;
  const children = Array.from({ length: count }, () => spawn(process.execPath, ['--import', 'tsx', CONTENDER, dir], { stdio: ['pipe', 'pipe', 'inherit'] }));
  t.after(() => children.forEach((c) => c.kill()));
  const lines = children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]());
  const next = async (i: number): Promise<string> => {
    const { value, done } = await lines[i]!.next();
    assert.equal(done, false, `contender ${i} ended early`);
    return value as string;
  };
  for (let i = 0; i < count; i++) assert.equal(await next(i), 'ready');
  // They race for it within a millisecond or so of each other.
  for (const c of children) c.stdin!.write('go\n');
  const answers = await Promise.all(children.map((_, i) => next(i)));
  assert.equal(answers.filter((a) => a === 'took').length, 1, `answers: ${answers.join(', ')}`);
  assert.equal(answers.filter((a) => a.startsWith('refused')).length, count - 1, `answers: ${answers.join(', ')}`);
  for (const c of children) c.stdin!.end();
});
