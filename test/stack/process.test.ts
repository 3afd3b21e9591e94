import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { clearRunRecord, isAlive, livePid, parsePid, readRunRecord, servicePaths, spawnDetached, stopProcess, tailLines, writeRunRecord } from '../../src/stack/process.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-stack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A node child that stays up until killed; with `ignoreTerm` it shrugs off SIGTERM. */
function startSleeper(t: TestContext, dir: string, ignoreTerm: boolean): number {
  const script = `${ignoreTerm ? "process.on('SIGTERM', () => console.log('ignoring TERM'));" : ''} console.log('ready'); setInterval(() => {}, 1000);`;
  const pid = spawnDetached({ command: process.execPath, args: ['-e', script], cwd: dir, logFile: join(dir, 'sleeper.log'), env: process.env });
  t.after(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return pid;
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('pid files hold one positive integer; anything else is no pid', () => {
  assert.equal(parsePid('1234\n'), 1234);
  assert.equal(parsePid('  42 '), 42);
  for (const bad of ['', 'abc', '-5', '1', '0', '12 34', '99999999999', '3.5']) assert.equal(parsePid(bad), undefined, bad);
});

test('a run record is written as a pid file plus run.json and read back', (t) => {
  const paths = servicePaths(tempDir(t), 'kafka');
  assert.equal(readRunRecord(paths), undefined);
  writeRunRecord(paths, { pid: 4242, version: '4.4.0', mainClass: 'kafka.Kafka', startedAt: '2026-01-01T00:00:00.000Z', ports: [9092, 9093] });
  assert.equal(readFileSync(paths.pidFile, 'utf8'), '4242\n');
  assert.deepEqual(readRunRecord(paths), { pid: 4242, version: '4.4.0', mainClass: 'kafka.Kafka', startedAt: '2026-01-01T00:00:00.000Z', ports: [9092, 9093] });
  clearRunRecord(paths);
  assert.equal(readRunRecord(paths), undefined);
});

test('a pid file without run.json still names the process; a corrupt one names none', (t) => {
  const paths = servicePaths(tempDir(t), 'cassandra');
  writeRunRecord(paths, { pid: 777, version: '5.0.8', mainClass: 'X', startedAt: '', ports: [9042] });
  rmSync(paths.runFile);
  assert.deepEqual(readRunRecord(paths), { pid: 777, version: '?', mainClass: '', startedAt: '', ports: [] });
  writeFileSync(paths.runFile, JSON.stringify({ version: '5.0.8', ports: ['9042'] }));
  assert.deepEqual(readRunRecord(paths)?.ports, [], 'ports that are not numbers are no ports');
  writeFileSync(paths.pidFile, 'garbage');
  assert.equal(readRunRecord(paths), undefined);
});

test('a live pid counts only while its command line still has our main class', { skip: process.platform !== 'linux' && 'needs /proc' }, (t) => {
  const dir = tempDir(t);
  const pid = startSleeper(t, dir, false);
  assert.equal(livePid({ pid, mainClass: 'setInterval' }), pid);
  assert.equal(livePid({ pid, mainClass: 'kafka.Kafka' }), undefined, 'pid reused by another program');
  assert.equal(livePid(undefined), undefined);
});

test('stop sends SIGTERM and the process goes', async (t) => {
  const dir = tempDir(t);
  const pid = startSleeper(t, dir, false);
  assert.ok(isAlive(pid));
  assert.equal(await stopProcess(pid, { graceMs: 10_000, pollMs: 20 }), 'stopped');
  assert.equal(isAlive(pid), false);
  assert.equal(await stopProcess(pid, { graceMs: 100 }), 'not-running');
});

test('a process that ignores SIGTERM is killed after the grace period', async (t) => {
  const dir = tempDir(t);
  const pid = startSleeper(t, dir, true);
  await until(() => readFileSync(join(dir, 'sleeper.log'), 'utf8').includes('ready'));
  assert.equal(await stopProcess(pid, { graceMs: 300, pollMs: 20 }), 'killed');
  assert.equal(isAlive(pid), false);
});

test('the detached process writes to the log file, and a restart keeps the previous log as .1', async (t) => {
  const dir = tempDir(t);
  const log = join(dir, 'sleeper.log');
  writeFileSync(log, 'previous run\n');
  const pid = startSleeper(t, dir, false);
  await until(() => tailLines(log, 1)[0] === 'ready');
  assert.equal(readFileSync(`${log}.1`, 'utf8'), 'previous run\n');
  await stopProcess(pid, { graceMs: 5_000, pollMs: 20 });
});

test('tail returns the last n lines, across chunk boundaries and multi-byte characters', (t) => {
  const file = join(tempDir(t), 'x.log');
  const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'é'.repeat(i % 40)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  assert.deepEqual(tailLines(file, 30), lines.slice(-30));
  assert.deepEqual(tailLines(file, 4000), lines.slice(-4000));
  assert.deepEqual(tailLines(file, 0), []);
  assert.deepEqual(tailLines(join(tempDir(t), 'missing.log'), 5), []);
  writeFileSync(file, 'no newline at end');
  assert.deepEqual(tailLines(file, 3), ['no newline at end']);
});
