import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { ConfigError, StackPrerequisiteError, StackStartError } from '../../src/errors.ts';
import { crashMessage, resolveTargets, stackDown, stackLogs, stackStatus, stackUp, type StackOptions } from '../../src/stack/index.ts';
import { isAlive, readRunRecord, servicePaths, spawnDetached, writeRunRecord } from '../../src/stack/process.ts';
import { valueWithPort } from '../../src/stack/stack.ts';
import { freePort } from '../support/free-port.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-stack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
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
  assert.equal(rows[0]?.detail, 'not running');
  assert.deepEqual(rows.find((r) => r.service === 'spark-master')?.ports, [7077, 8081]);
  assert.deepEqual(rows.find((r) => r.service === 'spark-connect')?.ports, [15002, 4040], 'the Connect port, then its driver UI');
  assert.deepEqual((await stackDown('all', opts)).map((r) => [r.process, r.outcome]), [
    ['spark-connect', 'not-running'],
    ['spark-worker-2', 'not-running'],
    ['spark-worker-1', 'not-running'],
    ['spark-master', 'not-running'],
    ['cassandra', 'not-running'],
    ['kafka', 'not-running'],
  ]);
});

/** A port on 127.0.0.1 that a program other than the stack listens on until the test ends. */
async function heldPort(t: TestContext): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return (server.address() as AddressInfo).port;
}

test('up without Java fails with the one-line prerequisite message before fetching anything', async (t) => {
  const port = await freePort();
  const opts = options(t, { 'kafka.brokers': `127.0.0.1:${port}` }, { runCommand: async () => 'not-found' });
  await assert.rejects(stackUp('kafka', opts), (error: unknown) => error instanceof StackPrerequisiteError && /Java 17/.test(error.message));
});

test('up refuses a port that another program already holds, naming the flag and key that choose it', async (t) => {
  const port = await heldPort(t);
  const opts = options(t, { 'kafka.brokers': `127.0.0.1:${port}` }, { runCommand: async () => assert.fail('prerequisites are not checked first') });
  await assert.rejects(stackUp('kafka', opts), (error: unknown) => {
    assert.ok(error instanceof StackStartError);
    assert.equal(
      error.message,
      `kafka: 127.0.0.1:${port}, its broker port (kafka.brokers is 127.0.0.1:${port}) is already in use by a process the stack of ${resolve(opts.config.dataDir)} did not start; stop that process, or choose other ports with --kafka-brokers (TICKSTREAM_KAFKA_BROKERS, or kafka.brokers in the config file)`,
    );
    return true;
  });
});

test('a port held by another program stops up before any service starts, even one that comes after the services free to start', async (t) => {
  const port = await heldPort(t);
  const [kafka, master, ui, connect] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const flags = {
    'kafka.brokers': `127.0.0.1:${kafka}`,
    'cassandra.contactPoints': `127.0.0.1:${port}`,
    'spark.masterPort': String(master),
    'spark.masterUiPort': String(ui),
    'spark.connectUrl': `sc://127.0.0.1:${connect}`,
  };
  const opts = options(t, flags, { runCommand: async () => assert.fail('kafka is not started first') });
  await assert.rejects(stackUp('all', opts), (error: unknown) => {
    assert.ok(error instanceof StackStartError, String(error));
    assert.match(error.message, new RegExp(`^cassandra: 127\\.0\\.0\\.1:${port}, its CQL port `));
    return true;
  });
});

test('a held port that follows from the configured one (Kafka\u2019s controller, the broker port + 1) is named with the broker port the config gives', async (t) => {
  const port = await heldPort(t);
  const dir = tempDir(t);
  const config = loadConfig({ env: { TICKSTREAM_KAFKA_BROKERS: `127.0.0.1:${port - 1}` }, flags: { dataDir: join(dir, 'state') }, cwd: dir });
  const opts: StackOptions = { config, env: {}, cacheRoot: join(dir, 'cache'), runCommand: async () => assert.fail('prerequisites are not checked first') };
  await assert.rejects(stackUp('kafka', opts), (error: unknown) => {
    assert.ok(error instanceof StackStartError);
    assert.match(error.message, new RegExp(`^kafka: 127\\.0\\.0\\.1:${port}, its controller port \\(the port of kafka\\.brokers \\+ 1; kafka\\.brokers is 127\\.0\\.0\\.1:${port - 1}\\) is already in use`));
    return true;
  });
});

test('up refuses a config in which two processes of the stack share a port, before checking prerequisites or ports in use', async (t) => {
  const port = await heldPort(t);
  const opts = options(t, { 'kafka.brokers': `127.0.0.1:${port}`, 'spark.connectUrl': `sc://127.0.0.1:${port}` }, { runCommand: async () => assert.fail('prerequisites are not checked first') });
  // Only Kafka is started, but Spark's planned ports count: the services share the machine.
  await assert.rejects(stackUp('kafka', opts), (error: unknown) => {
    assert.ok(error instanceof ConfigError, 'bad config, exit code 2');
    assert.match(error.message, new RegExp(`^invalid config spark\\.connectUrl="sc://127\\.0\\.0\\.1:${port}": expected a port no other process of the stack listens on: kafka \\(kafka\\.brokers\\) and spark-connect \\(spark\\.connectUrl\\) would both listen on port ${port}; `));
    assert.ok(!error.message.includes('\n'), 'one line');
    return true;
  });
});

test('logs of a service with several processes come one after the other, each under its file name', async (t) => {
  const opts = options(t, {});
  const root = join(resolve(opts.config.dataDir), 'stack', 'spark');
  for (const [dir, name] of [['master', 'spark-master'], ['worker-1', 'spark-worker-1'], ['connect', 'spark-connect']] as const) {
    mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, dir, `${name}.log`), `${name} first\n${name} last\n`);
  }
  let out = '';
  await stackLogs('spark', opts, { lines: 1, follow: false, write: (s) => (out += s) });
  const masterLog = join(root, 'master', 'spark-master.log');
  const worker2Log = join(root, 'worker-2', 'spark-worker-2.log');
  assert.equal(
    out.split('\n').slice(0, 6).join('\n'),
    [`==> ${masterLog} <==`, 'spark-master last', '', `==> ${join(root, 'worker-1', 'spark-worker-1.log')} <==`, 'spark-worker-1 last', ''].join('\n'),
  );
  assert.ok(out.includes(`==> ${worker2Log} <==\n(no log yet at ${worker2Log})`), 'a process that never ran says so');
  assert.ok(out.endsWith('spark-connect last\n'));
});

test('logs of one process by its name, e.g. spark-connect, have no header; an unknown name is refused', async (t) => {
  const opts = options(t, {});
  const dir = join(resolve(opts.config.dataDir), 'stack', 'spark', 'connect');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'spark-connect.log'), 'a\nb\n');
  let out = '';
  await stackLogs('spark-connect', opts, { lines: 5, follow: false, write: (s) => (out += s) });
  assert.equal(out, 'a\nb\n');
  await assert.rejects(stackLogs('spark-driver', opts, { lines: 5, follow: false, write: () => undefined }), /unknown stack service "spark-driver": expected one of kafka, cassandra, spark, spark-master, spark-worker-1, spark-worker-2, spark-connect/);
});

test('logs -n 0 of a log with lines prints nothing; only an empty or missing log says there is none yet', async (t) => {
  const opts = options(t, {});
  const dir = join(resolve(opts.config.dataDir), 'stack', 'spark', 'connect');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'spark-connect.log');
  writeFileSync(file, 'a\nb\n');
  let out = '';
  await stackLogs('spark-connect', opts, { lines: 0, follow: false, write: (s) => (out += s) });
  assert.equal(out, '');
  writeFileSync(file, '');
  await stackLogs('spark-connect', opts, { lines: 5, follow: false, write: (s) => (out += s) });
  assert.equal(out, `(no log yet at ${file})\n`);
});

test('following a log that does not exist yet says once that it waits, then prints the log from its start once it appears', async (t) => {
  const opts = options(t, {});
  const dir = join(resolve(opts.config.dataDir), 'stack', 'kafka');
  const file = join(dir, 'kafka.log');
  const abort = new AbortController();
  t.after(() => abort.abort());
  let out = '';
  const following = stackLogs('kafka', opts, { lines: 50, follow: true, pollMs: 5, signal: abort.signal, write: (s) => (out += s) });
  const until = async (done: () => boolean): Promise<void> => {
    const deadline = Date.now() + 5_000;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  };
  await until(() => out.length > 0);
  // Many polls pass before the log comes: the line is said once, not once per poll.
  const polls = Date.now() + 100;
  await until(() => Date.now() > polls);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, 'first\nsecond\n');
  await until(() => out.includes('second'));
  appendFileSync(file, 'third\n');
  await until(() => out.includes('third'));
  abort.abort();
  await following;
  assert.equal(out, `(no log yet at ${file}; waiting for it)\nfirst\nsecond\nthird\n`);
});

test('following a log adds no abort listener per poll', async (t) => {
  const opts = options(t, {});
  const abort = new AbortController();
  t.after(() => abort.abort());
  const following = stackLogs('kafka', opts, { lines: 0, follow: true, pollMs: 1, signal: abort.signal, write: () => undefined });
  await new Promise((r) => setTimeout(r, 100));
  const listeners = getEventListeners(abort.signal, 'abort').length;
  assert.ok(listeners <= 1, `${listeners} abort listeners after about 100 polls`);
  abort.abort();
  await following;
});

test('following several logs prints what each one gains, under its header when the file changes', async (t) => {
  const opts = options(t, {});
  const root = join(resolve(opts.config.dataDir), 'stack', 'spark');
  const files = ['master', 'connect'].map((d) => {
    mkdirSync(join(root, d), { recursive: true });
    const file = join(root, d, `spark-${d}.log`);
    writeFileSync(file, 'old\n');
    return file;
  });
  const [masterLog, connectLog] = files as [string, string];
  const abort = new AbortController();
  t.after(() => abort.abort());
  let out = '';
  const following = stackLogs('spark', opts, { lines: 0, follow: true, pollMs: 10, signal: abort.signal, write: (s) => (out += s) });
  appendFileSync(connectLog, 'connect new\n');
  const deadline = Date.now() + 5_000;
  while (!out.includes('connect new') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  appendFileSync(masterLog, 'master new\n');
  while (!out.includes('master new') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  abort.abort();
  await following;
  // The workers never ran: their logs are waited for, each said once under its header.
  const waiting = [1, 2].map((n) => {
    const log = join(root, `worker-${n}`, `spark-worker-${n}.log`);
    return `==> ${log} <==\n(no log yet at ${log}; waiting for it)\n\n`;
  });
  assert.equal(out, `${waiting.join('')}==> ${connectLog} <==\nconnect new\n\n==> ${masterLog} <==\nmaster new\n`);
});

/** A node child whose command line names Kafka's main class, so the stack takes it for its running broker. */
function fakeRunningKafka(t: TestContext, opts: StackOptions, ports: readonly number[]): number {
  const paths = servicePaths(resolve(opts.config.dataDir), 'kafka');
  mkdirSync(paths.dir, { recursive: true });
  const pid = spawnDetached({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)', 'kafka.Kafka'], cwd: paths.dir, logFile: paths.logFile, env: process.env });
  t.after(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  writeRunRecord(paths, { pid, version: '4.4.0', mainClass: 'kafka.Kafka', startedAt: new Date().toISOString(), ports });
  return pid;
}

test('a service running on other ports than the config gives: status says so, up refuses at once and leaves it running', { skip: process.platform !== 'linux' && 'needs /proc' }, async (t) => {
  const [started, configured] = [await freePort(), await freePort()];
  const opts = options(t, { 'kafka.brokers': `127.0.0.1:${configured}` }, { runCommand: async () => assert.fail('nothing is started') });
  // Kafka listens on two ports: the broker's and, next to it, the controller's.
  const pid = fakeRunningKafka(t, opts, [started, started + 1]);
  const row = (await stackStatus(opts)).find((r) => r.service === 'kafka');
  assert.deepEqual(row && [row.pid, row.ports, row.health], [pid, [started, started + 1], 'unhealthy']);
  assert.equal(row?.detail, `started on ports ${started}, ${started + 1}, but the config says ports ${configured}, ${configured + 1}: pass the ports it was started with (--kafka-brokers 127.0.0.1:${started})`);
  const t0 = Date.now();
  await assert.rejects(stackUp('kafka', opts), (error: unknown) => {
    assert.ok(error instanceof StackStartError);
    assert.equal(
      error.message,
      `kafka is already running (pid ${pid}) on ports ${started}, ${started + 1}, but the config says ports ${configured}, ${configured + 1}: use the ports it was started with (--kafka-brokers 127.0.0.1:${started}), or \`tickstream stack down kafka\` and up again`,
    );
    return true;
  });
  assert.ok(Date.now() - t0 < 5_000, 'without waiting for a probe to time out');
  assert.ok(isAlive(pid), 'the running process is left alone');
  assert.equal(readRunRecord(servicePaths(resolve(opts.config.dataDir), 'kafka'))?.pid, pid, 'and so is its record');
});

test('a Connect server whose run record keeps only its Connect port is not taken for one started on other ports', { skip: process.platform !== 'linux' && 'needs /proc' }, async (t) => {
  const connect = await freePort();
  const opts = options(t, { 'spark.connectUrl': `sc://127.0.0.1:${connect}` });
  const paths = servicePaths(resolve(opts.config.dataDir), 'spark-connect', 'spark');
  mkdirSync(paths.dir, { recursive: true });
  const mainClass = 'org.apache.spark.sql.connect.service.SparkConnectServer';
  const pid = spawnDetached({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)', mainClass], cwd: paths.dir, logFile: paths.logFile, env: process.env });
  t.after(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  writeRunRecord(paths, { pid, version: '3.5.7', mainClass, startedAt: new Date().toISOString(), ports: [connect] });
  appendFileSync(paths.logFile, "INFO Utils: Successfully started service 'SparkUI' on port 4041.\n");
  const row = (await stackStatus(opts)).find((r) => r.service === 'spark-connect');
  assert.deepEqual(row && [row.pid, row.ports], [pid, [connect, 4041]], 'the UI where Spark bound it');
  assert.equal(row?.detail, 'process running but not answering (starting, or see `tickstream stack logs`)');
});

test('the flag value that gives a process the port it runs on keeps the rest of the setting', () => {
  assert.equal(valueWithPort('7077', 17077), '17077');
  assert.equal(valueWithPort('127.0.0.1:9092', 19092), '127.0.0.1:19092');
  assert.equal(valueWithPort('127.0.0.1:9092,127.0.0.1:9094', 19092), '127.0.0.1:19092');
  assert.equal(valueWithPort('localhost', 19042), 'localhost:19042');
  assert.equal(valueWithPort('sc://spark-host:15002/;user_id=me', 16002), 'sc://spark-host:16002/;user_id=me');
  assert.equal(valueWithPort('sc://spark-host', 16002), 'sc://spark-host:16002');
  assert.equal(valueWithPort('sc://[::1]:15002', 16002), 'sc://[::1]:16002');
  assert.equal(valueWithPort('sc://spark-host:15002/;token=***', 16002), 'sc://spark-host:16002', 'no masked token to paste');
});
