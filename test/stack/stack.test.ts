import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { StackPrerequisiteError, StackStartError } from '../../src/errors.ts';
import { crashMessage, resolveTargets, stackDown, stackStatus, stackUp, type StackOptions } from '../../src/stack/index.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-stack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A port nothing listens on right now (the OS picked it, we released it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

function options(t: TestContext, flags: Record<string, string>, extra: Partial<StackOptions> = {}): StackOptions {
  const dir = tempDir(t);
  const config = loadConfig({ env: {}, flags: { dataDir: join(dir, 'state'), ...flags }, cwd: dir });
  return { config, env: {}, cacheRoot: join(dir, 'cache'), ...extra };
}

test('a failed start names the reason, shows the last log lines and where the log is', () => {
  const text = crashMessage('kafka', 'the process exited', '/x/kafka.log', ['line one', 'ERROR boom']);
  assert.match(text, /^kafka did not start: the process exited\./);
  assert.match(text, /--- last 2 lines of \/x\/kafka\.log ---\nline one\nERROR boom\n---/);
  assert.match(text, /full log: \/x\/kafka\.log$/);
  assert.match(crashMessage('kafka', 'x', '/x/k.log', []), /\(\/x\/k\.log is empty\)/);
});

test('all means every service in start order; unknown names are refused', () => {
  assert.deepEqual(resolveTargets('all').map((s) => s.name), ['kafka', 'cassandra', 'spark']);
  assert.deepEqual(resolveTargets('cassandra').map((s) => s.name), ['cassandra']);
  assert.throws(() => resolveTargets('zookeeper'), /unknown stack service "zookeeper": expected one of kafka, cassandra, spark, all/);
});

test('with nothing started, status shows every process stopped and down has nothing to do', async (t) => {
  const opts = options(t, {});
  const rows = await stackStatus(opts);
  assert.deepEqual(rows.map((r) => [r.service, r.health, r.pid]), [
    ['kafka', 'stopped', undefined],
    ['cassandra', 'stopped', undefined],
    ['spark-master', 'stopped', undefined],
    ['spark-worker-1', 'stopped', undefined],
    ['spark-worker-2', 'stopped', undefined],
    ['spark-connect', 'stopped', undefined],
  ]);
  assert.equal(rows[0]?.version, '4.4.0');
  assert.deepEqual(rows.find((r) => r.service === 'spark-master')?.ports, [7077, 8081]);
  assert.deepEqual((await stackDown('all', opts)).map((r) => [r.process, r.outcome]), [
    ['spark-connect', 'not-running'],
    ['spark-worker-2', 'not-running'],
    ['spark-worker-1', 'not-running'],
    ['spark-master', 'not-running'],
    ['cassandra', 'not-running'],
    ['kafka', 'not-running'],
  ]);
});

test('up without Java fails with the one-line prerequisite message before fetching anything', async (t) => {
  const port = await freePort();
  const opts = options(t, { 'kafka.brokers': `127.0.0.1:${port}` }, { runCommand: async () => 'not-found' });
  await assert.rejects(stackUp('kafka', opts), (error: unknown) => error instanceof StackPrerequisiteError && /Java 17/.test(error.message));
});

test('up refuses a port that another program already holds', async (t) => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const opts = options(t, { 'kafka.brokers': `127.0.0.1:${port}` }, { runCommand: async () => assert.fail('prerequisites are not checked first') });
  await assert.rejects(stackUp('kafka', opts), (error: unknown) => {
    assert.ok(error instanceof StackStartError);
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
    return true;
  });
});
