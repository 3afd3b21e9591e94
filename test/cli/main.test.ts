import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TradeSpool } from '../../src/bus/kafka/trade-spool.ts';
import { freePort } from '../support/free-port.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function tickstream(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TICKSTREAM_') && k !== 'FINNHUB_TOKEN'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a bad flag value stops with exit code 2 and one line naming the key, the value and what is allowed', () => {
  const r = tickstream(['run', '--lateness', 'soon']);
  assert.equal(r.status, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', /lateness="soon".*--lateness.*duration/);
});

test('a symbol given twice stops run and simulate with exit code 2 and one line naming the flag or variable and the symbol', (t) => {
  const twice = /^tickstream: invalid config symbols="AAPL,MSFT,AAPL" \(from (--symbols|TICKSTREAM_SYMBOLS)\): expected a comma-separated list of different symbols .* \(AAPL is given twice\)$/;
  // Past the config, a data dir that is a file and a host that does not resolve stop either start at once: nothing listens.
  const file = join(tempDir(t), 'afile');
  writeFileSync(file, 'not a directory');
  const run = ['run', '--data-dir', file, '--port', '0', '--simulator-port', '0', '--log-level', 'silent'];
  const simulate = ['simulate', '--host', '999.999.999.999', '--port', '0', '--log-level', 'silent'];
  assertOneLine(tickstream([...run, '--symbols', 'AAPL,MSFT,AAPL']), 2, twice);
  assertOneLine(tickstream([...simulate, '--symbols', 'AAPL,MSFT,AAPL']), 2, twice);
  const fromEnv = tickstream(simulate, { TICKSTREAM_SYMBOLS: 'AAPL,MSFT,AAPL' });
  assertOneLine(fromEnv, 2, twice);
  assert.match(fromEnv.stderr, /from TICKSTREAM_SYMBOLS/);
});

test('an unknown TICKSTREAM_ variable is rejected by name', () => {
  const r = tickstream(['run'], { TICKSTREAM_PORTT: '1' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /TICKSTREAM_PORTT/);
});

test('every command has --help', () => {
  for (const command of ['run', 'simulate', 'replay', 'produce', 'process', 'serve', 'stack', 'migrate', 'spark']) {
    const r = tickstream([command, '--help']);
    assert.equal(r.status, 0, `${command} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Usage: tickstream ${command}`));
    assert.doesNotMatch(r.stdout, /[^\n]\nExamples:/, `${command} --help: a blank line before its examples`);
  }
});

test('every command\'s --help wraps alike, at 80 columns when not on a terminal, whatever the width of its flags', () => {
  const commands = [[], ['run'], ['simulate'], ['replay'], ['produce'], ['process'], ['serve'], ['migrate'], ['spark'], ['spark', 'status'], ['spark', 'stop']];
  commands.push(['stack'], ['stack', 'up'], ['stack', 'down'], ['stack', 'status'], ['stack', 'logs']);
  for (const command of commands) {
    const r = tickstream([...command, '--help']);
    assert.equal(r.status, 0, r.stderr);
    // Past the column may stand only a word longer than it (the default symbols), alone on its line,
    // or an example command, which is copied whole.
    const long = r.stdout.split('\n').filter((line) => line.length > 80 && !/^ *\S+$/.test(line) && !/^ {2}(\S+=\S+ )?tickstream /.test(line));
    assert.deepEqual(long, [], `tickstream ${command.join(' ')} --help`);
  }
});

test('the embedded profile refuses to split its in-process log across processes', () => {
  const r = tickstream(['produce']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /profile="embedded".*cluster/);
});

/** A fresh data dir under the OS temp dir, removed after the test. */
function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A port on 127.0.0.1 that a server of the test holds until the test ends. */
async function portInUse(t: TestContext): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** The process failed with `status` and printed exactly one line, `tickstream: …`, matching `pattern`. */
function assertOneLine(r: { status: number | null; stderr: string }, status: number, pattern: RegExp): void {
  assert.equal(r.status, status, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', pattern);
}

/** A status line showing trades in the spool. */
const SPOOLING = / · spool [1-9]/;

/**
 * Starts tickstream with `args` (without the caller's TICKSTREAM_* settings) and waits, up to 30 s,
 * until what it has printed matches `ready`; `stderr()` is what it has printed so far.
 */
async function startedUntil(t: TestContext, args: string[], ready: RegExp): Promise<{ child: ChildProcess; stderr: () => string; exited: Promise<number | null> }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TICKSTREAM_') && k !== 'FINNHUB_TOKEN'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: clean, stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let text = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!ready.test(text) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return { child, stderr: () => text, exited };
}

test('a Kafka that does not answer stops process with one line naming the brokers', async (t) => {
  const brokers = `127.0.0.1:${await freePort()}`;
  const dataDir = tempDir(t);
  const r = tickstream(['process', '--profile', 'cluster', '--store', 'sqlite', '--kafka-brokers', brokers, '--data-dir', dataDir, '--port', '0', '--log-level', 'silent']);
  assertOneLine(r, 1, new RegExp(`^tickstream: Kafka at ${brokers} did not answer \\(creating the trade topics\\): .*ECONNREFUSED.*; is it running\\? \\(tickstream stack up kafka\\)$`));
});

test('run starts while Kafka does not answer: the dashboard serves, the source is spooled, the engine waits, and it stops cleanly', { timeout: 60_000 }, async (t) => {
  const brokers = `127.0.0.1:${await freePort()}`;
  const dataDir = tempDir(t);
  const args = ['run', '--profile', 'cluster', '--store', 'sqlite', '--kafka-brokers', brokers, '--data-dir', dataDir, '--port', '0', '--simulator-port', '0', '--status-interval', '1s'];
  const { child, stderr, exited } = await startedUntil(t, args, SPOOLING);
  assert.match(stderr(), new RegExp(`WARN .*Kafka at ${brokers} did not answer \\(creating the trade topics\\): .*ECONNREFUSED.*; trades go to the spool until it answers`));
  assert.match(stderr(), /the engine starts once Kafka answers/, stderr());
  assert.match(stderr(), / · processed 0\/s · .* · spool [1-9]\d* · ENGINE WAITING FOR KAFKA \d+s, source spooled/, stderr());
  const url = /http listening url=(http:\/\/127\.0\.0\.1:\d+)/.exec(stderr())?.[1];
  assert.ok(url !== undefined, stderr());
  const stats = await fetch(`${url}/api/stats`);
  assert.equal(stats.status, 200, 'the dashboard answers while Kafka is down');
  assert.equal(((await stats.json()) as { engine_state?: string }).engine_state, 'waiting');
  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr());
  assert.match(stderr(), /closing with trades still spooled; they are sent at the next start trades=[1-9]/, stderr());
});

test('produce starts while Kafka does not answer, spools the source, and stops cleanly keeping the spool', { timeout: 60_000 }, async (t) => {
  const brokers = `127.0.0.1:${await freePort()}`;
  const dataDir = tempDir(t);
  const args = ['produce', '--profile', 'cluster', '--kafka-brokers', brokers, '--data-dir', dataDir, '--simulator-port', '0', '--status-interval', '1s'];
  const { child, stderr, exited } = await startedUntil(t, args, SPOOLING);
  assert.match(stderr(), new RegExp(`WARN .*Kafka at ${brokers} did not answer \\(creating the trade topics\\): .*ECONNREFUSED.*; trades go to the spool until it answers`));
  assert.match(stderr(), / · spool [1-9]/, stderr());
  // The banner names what this process does: no dashboard, so no counts read from Kafka.
  assert.match(stderr(), new RegExp(`tickstream produce · cluster profile · source simulator at ws://127\\.0\\.0\\.1:\\d+ · log Kafka ${brokers}\\n`), stderr());
  // A second producer on the same data dir would share the spool: it is refused, and the first goes on.
  const second = tickstream(args);
  assertOneLine(second, 1, new RegExp(`^tickstream: ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/spool is in use by the spool of a Kafka producer of process ${child.pid} on ${hostname()}: give each one its own --data-dir`));
  assert.equal(child.exitCode, null);
  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr());
  const kept = /closing with trades still spooled; they are sent at the next start trades=(\d+)/.exec(stderr());
  assert.ok(kept !== null, stderr());
  assert.ok(Number(kept[1]) > 0);
  assert.ok(readdirSync(join(dataDir, 'spool')).some((f) => f.endsWith('.seg')));
  assert.ok(!readdirSync(join(dataDir, 'spool')).includes('lock'), 'a clean stop gives the spool back');
});

test('produce and run refuse a spool left with trades for another topic, with one line naming both, before any trade is spooled', async (t) => {
  const brokers = `127.0.0.1:${await freePort()}`;
  const dataDir = tempDir(t);
  const left = new TradeSpool({ dir: join(dataDir, 'spool'), limit: 1_000, target: { topic: 'market.trades', format: 'avro' } });
  await left.append([{ key: Buffer.from('AAPL'), value: Buffer.from('a trade') }]);
  left.close();
  const common = ['--profile', 'cluster', '--store', 'sqlite', '--kafka-brokers', brokers, '--kafka-topic', 'desk.trades', '--data-dir', dataDir, '--port', '0', '--simulator-port', '0', '--log-level', 'silent'];
  for (const command of ['produce', 'run']) {
    const r = tickstream([command, ...common]);
    assertOneLine(r, 1, new RegExp(`^tickstream: ${join(dataDir, 'spool').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds 1 trade spooled for topic market\\.trades in avro, not desk\\.trades in avro: start once with --kafka-topic market\\.trades --kafka-format avro to send them, or move the directory away$`));
  }
  const kept = new TradeSpool({ dir: join(dataDir, 'spool'), limit: 1_000, target: { topic: 'market.trades', format: 'avro' } });
  t.after(() => kept.close());
  assert.equal(kept.depth, 1, 'the spool is as it was');
});

test('a Cassandra that does not answer stops run and process of the cluster profile with one line naming the node', async (t) => {
  const node = `127.0.0.1:${await freePort()}`;
  const dataDir = tempDir(t);
  const common = ['--profile', 'cluster', '--store', 'cassandra', '--cassandra-contact-points', node, '--data-dir', dataDir, '--port', '0', '--simulator-port', '0', '--log-level', 'silent'];
  for (const command of ['process', 'run']) {
    const r = tickstream([command, ...common]);
    assertOneLine(r, 1, new RegExp(`^tickstream: Cassandra store migrate failed: no Cassandra node answered: ${node} \\(.*ECONNREFUSED.*\\); is it running\\? \\(tickstream stack up cassandra\\)$`));
  }
});

test('migrate with Cassandra down prints the one line even at the default log level: the driver\'s warnings do not repeat it', async (t) => {
  const node = `127.0.0.1:${await freePort()}`;
  const r = tickstream(['migrate', '--profile', 'cluster', '--store', 'cassandra', '--cassandra-contact-points', node, '--data-dir', tempDir(t)]);
  assertOneLine(r, 1, new RegExp(`^tickstream: Cassandra store migrate failed: no Cassandra node answered: ${node} `));
});

test('a bad --cassandra-replication stops migrate and process with one line before any connect', (t) => {
  for (const command of ['migrate', 'process']) {
    const r = tickstream([command, '--profile', 'cluster', '--cassandra-replication', 'dc1:3,dc1:2', '--data-dir', tempDir(t)]);
    assertOneLine(r, 2, /^tickstream: invalid config cassandra\.replication="dc1:3,dc1:2" \(from --cassandra-replication\): expected a replication factor from 1 to 10 \(SimpleStrategy\), or data centers with their factors such as dc1:3,dc2:3 \(NetworkTopologyStrategy; .*given once\)$/);
  }
});

test('an HTTP port in use stops run, serve and replay with one line naming host:port and --port', async (t) => {
  const port = await portInUse(t);
  const dataDir = tempDir(t);
  const file = join(dataDir, 'trades.ndjson');
  writeFileSync(file, '');
  const common = ['--data-dir', dataDir, '--port', String(port), '--log-level', 'silent'];
  for (const args of [['run', '--simulator-port', '0'], ['serve'], ['replay', file]]) {
    const r = tickstream([...args, ...common]);
    assertOneLine(r, 1, new RegExp(`^tickstream: the HTTP server could not listen on 127\\.0\\.0\\.1:${port}: address already in use \\(another tickstream running\\? choose a port with --port\\)$`));
  }
});

test('a simulator port in use stops run and simulate with one line naming host:port and the flag that chose it', async (t) => {
  const port = await portInUse(t);
  const inUse = (flag: string): RegExp =>
    new RegExp(`^tickstream: the simulator could not listen on 127\\.0\\.0\\.1:${port}: address already in use \\(another tickstream running\\? choose a port with ${flag}\\)$`);
  assertOneLine(tickstream(['run', '--simulator-port', String(port), '--port', '0', '--data-dir', tempDir(t), '--log-level', 'silent']), 1, inUse('--simulator-port'));
  assertOneLine(tickstream(['simulate', '--port', String(port), '--log-level', 'silent']), 1, inUse('--port'));
  // run's --host is the HTTP server's: the simulator's host comes from the environment or the file.
  const badHost = ['--simulator-port', '0', '--port', '0', '--data-dir', tempDir(t), '--log-level', 'silent'];
  assertOneLine(tickstream(['run', ...badHost], { TICKSTREAM_SIMULATOR_HOST: '999.999.999.999' }), 1, /^tickstream: the simulator could not listen on 999\.999\.999\.999:0: .*choose a host with TICKSTREAM_SIMULATOR_HOST\)$/);
  assertOneLine(tickstream(['simulate', '--host', '999.999.999.999', '--port', '0']), 1, /^tickstream: the simulator could not listen on 999\.999\.999\.999:0: .*choose a host with --host\)$/);
});

test('run takes --metrics-port but opens no listener there: its --help and a warning say it serves /metrics on its HTTP port', { timeout: 60_000 }, async (t) => {
  const help = tickstream(['run', '--help']).stdout.replace(/\s+/g, ' ');
  assert.match(help, /--metrics-port <value> port of the \/metrics listener of a produce or process role, .* a command that serves the dashboard \(run, serve\) answers \/metrics on its HTTP port \(--port\) and ignores this/);
  const metricsPort = await freePort();
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TICKSTREAM_') && k !== 'FINNHUB_TOKEN'));
  const args = ['run', '--metrics-port', String(metricsPort), '--port', '0', '--simulator-port', '0', '--data-dir', tempDir(t), '--status-interval', '0'];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: clean, stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const warning = new RegExp(`WARN .*metricsPort ${metricsPort} is ignored: run serves /metrics on its HTTP port url=(http://127\\.0\\.0\\.1:\\d+/metrics)`);
  const deadline = Date.now() + 30_000;
  while (!warning.test(stderr) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const url = warning.exec(stderr)?.[1];
  assert.ok(url !== undefined, stderr);
  assert.equal((await fetch(url)).status, 200, 'the HTTP port answers /metrics');
  await assert.rejects(fetch(`http://127.0.0.1:${metricsPort}/metrics`), 'nothing listens on the metrics port');
  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr);
});

test('run given --replay-file without --source replay says at start that the file is not replayed, and which source runs instead', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'trades.ndjson');
  writeFileSync(file, '');
  const args = ['run', '--replay-file', file, '--port', '0', '--simulator-port', '0', '--data-dir', dir, '--status-interval', '0'];
  const warning = /WARN .*replay\.file (\S+) is not replayed: the source is simulator \(--source replay replays it, or tickstream replay <file>\)/;
  const { child, stderr, exited } = await startedUntil(t, args, warning);
  assert.equal(warning.exec(stderr())?.[1], file, stderr());
  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr());
});

test('replay --exit serves nothing: it finishes while the HTTP port is in use', async (t) => {
  const port = await portInUse(t);
  const dataDir = tempDir(t);
  const file = join(dataDir, 'trades.ndjson');
  writeFileSync(file, '{"s":"AAPL","p":190.5,"v":10,"t":1700000000000,"c":[]}\n{"s":"AAPL","p":190.7,"v":5,"t":1700000001000,"c":[]}\n');
  const r = tickstream(['replay', file, '--exit', '--replay-speed', '0', '--data-dir', dataDir, '--port', String(port)]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /replay finished: 2 trades, 0 invalid/);
  assert.doesNotMatch(r.stdout + r.stderr, /http listening|dashboard http/);
});

test('a second run on one data dir stops with one line naming the data dir and the process whose engine holds it, and the first goes on', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t);
  const args = ['run', '--data-dir', dataDir, '--port', '0', '--simulator-port', '0', '--simulator-rate', '200'];
  const { child, stderr, exited } = await startedUntil(t, args, /tickstream running/);
  assert.match(stderr(), /tickstream running/);

  const second = tickstream(args);
  const lock = join(dataDir, 'engines', 'embedded', 'lock');
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assertOneLine(second, 1, new RegExp(`^tickstream: ${escape(dataDir)} is in use by the embedded engine of process ${child.pid} on ${escape(hostname())}: give each one its own --data-dir \\(or delete ${escape(lock)} if no tickstream runs there\\)$`));
  assert.equal(child.exitCode, null, 'the first run goes on');
  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr());
  assert.ok(!existsSync(lock), 'a clean stop gives the lock back');
});

test('two listeners of one process on one port stop the start with one line naming both keys', (t) => {
  const dataDir = tempDir(t);
  const r = tickstream(['run', '--port', '18765', '--simulator-port', '18765', '--data-dir', dataDir, '--log-level', 'silent']);
  assertOneLine(r, 2, /^tickstream: invalid config simulator\.port=18765: expected a port other than port=18765, where this process's HTTP server listens$/);
  assert.deepEqual(readdirSync(dataDir), [], 'nothing started');
});

test('a host that does not resolve stops with one line naming it', (t) => {
  const r = tickstream(['run', '--host', '999.999.999.999', '--data-dir', tempDir(t), '--port', '0', '--simulator-port', '0', '--log-level', 'silent']);
  assertOneLine(r, 1, /^tickstream: the HTTP server could not listen on 999\.999\.999\.999:0: .*--host/);
});

test('a data dir that is a file, or below one, stops run and migrate with one line naming it', (t) => {
  const file = join(tempDir(t), 'afile');
  writeFileSync(file, 'not a directory');
  for (const dataDir of [file, join(file, 'below')]) {
    const line = new RegExp(`^tickstream: cannot use the data dir ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*not a directory$`);
    assertOneLine(tickstream(['run', '--data-dir', dataDir, '--port', '0', '--simulator-port', '0', '--log-level', 'silent']), 1, line);
    assertOneLine(tickstream(['migrate', '--data-dir', dataDir]), 1, line);
  }
});

test('at debug level the config line prints each value once, as the README shows it, with secrets masked', (t) => {
  // A data dir that is a file stops the start right after the config line: nothing listens.
  const file = join(tempDir(t), 'afile');
  writeFileSync(file, '');
  const r = tickstream(['run', '--log-level', 'debug', '--data-dir', file, '--port', '0', '--simulator-port', '0'], { FINNHUB_TOKEN: 'sk_live_SECRET123' });
  const line = r.stderr.split('\n').find((l) => / DEBUG +tickstream +config /.test(l)) ?? '';
  for (const part of [' profile=embedded ', ' source=finnhub ', ' intervals=5s,1m ', ' lateness=10s ', ' port=0 ', ' finnhub.token=*** ', ' replay.file=(unset) ', ' kafka.brokers=127.0.0.1:9092 ']) {
    assert.ok(line.includes(part), `${part.trim()} in ${line || r.stderr}`);
  }
  assert.doesNotMatch(line, /\\"|SECRET/);
});

test('stack logs -n takes a whole number of lines; anything else is one line from the parser and exit code 2, as for bad config', () => {
  for (const lines of ['abc', '-5', '1.5', '0x10', '1e2', ' ']) {
    const r = tickstream(['stack', 'logs', 'kafka', '-n', lines]);
    assert.equal(r.status, 2, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: option '-n, --lines <n>' argument '${lines}' is invalid\\. expected a whole number`));
  }
});

test('a misspelt command is an unknown command (exit code 2), with a suggestion, not an argument of run', () => {
  const r = tickstream(['simualte']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^error: unknown command 'simualte'\n\(Did you mean simulate\?\)/);
  const far = tickstream(['zzz']);
  assert.equal(far.status, 2, far.stderr);
  assert.match(far.stderr, /^error: unknown command 'zzz'\n/);
  assert.doesNotMatch(far.stderr, /Did you mean/);
});

test('run stays the default command: flags alone, or nothing at all, reach it', () => {
  const flags = tickstream(['--lateness', 'soon']);
  assert.equal(flags.status, 2, flags.stderr);
  assert.match(flags.stderr, /lateness="soon"/);
  const none = tickstream([], { TICKSTREAM_LATENESS: 'soon' });
  assert.equal(none.status, 2, none.stderr);
  assert.match(none.stderr, /lateness="soon"/);
  const extra = tickstream(['run', 'simualte']);
  assert.equal(extra.status, 2, extra.stderr);
  assert.match(extra.stderr, /too many arguments for 'run'/);
});

test('replay --exit of a file that cannot be read exits non-zero with one line naming the file', (t) => {
  const dataDir = tempDir(t);
  const directory = join(dataDir, 'trades.ndjson');
  mkdirSync(directory);
  for (const file of [directory, join(dataDir, 'missing.ndjson')]) {
    const r = tickstream(['replay', file, '--exit', '--data-dir', dataDir, '--port', '0', '--log-level', 'silent']);
    assert.notEqual(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /replay finished/);
    assertOneLine(r, r.status ?? 1, new RegExp(`^tickstream: .*replay\\.file="${file}".*`));
  }
});

test("--version prints this package's version, not npm_package_version of whichever package ran the script", () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const r = tickstream(['--version'], { npm_package_version: '9.9.9-other' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), version);
});

test('spark status takes the Spark Connect URL as process does (--spark-connect-url, the environment), and --url as before, an error naming the flag that was given', () => {
  const bad = 'sc://127.0.0.1:99999';
  for (const [args, env, from] of [
    [['--spark-connect-url', bad], {}, '--spark-connect-url'],
    [['--url', bad], {}, '--url'],
    [[], { TICKSTREAM_SPARK_CONNECT_URL: bad }, 'TICKSTREAM_SPARK_CONNECT_URL'],
  ] as const) {
    const r = tickstream(['spark', 'status', ...args], env);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr.trim(), new RegExp(`^tickstream: invalid config spark\\.connectUrl="sc://127\\.0\\.0\\.1:99999" \\(from ${from}\\)`));
  }
});

test('--kafka-topic names the trades topic for every Kafka command, and a name Kafka refuses stops it with one line', () => {
  for (const command of [['run', '--profile', 'cluster'], ['produce', '--profile', 'cluster'], ['process', '--profile', 'cluster'], ['serve', '--profile', 'cluster'], ['stack', 'up', 'kafka']]) {
    const help = tickstream([...command.slice(0, command[0] === 'stack' ? 2 : 1), '--help']);
    // Help wraps long descriptions to the width left beside the flags, which differs from command to command.
    assert.match(help.stdout.replace(/\s+/g, ' '), /--kafka-topic <value> the trades topic; dead letters and late trades go to its name plus \.dlq and \.late \(default: market\.trades\)/, command.join(' '));
    const r = tickstream([...command, '--kafka-topic', 'no spaces']);
    assert.equal(r.status, 2, `${command.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), 'tickstream: invalid config kafka.topic="no spaces" (from --kafka-topic): expected a Kafka topic name: 1-238 letters, digits, ".", "_" or "-", not "." or ".."');
  }
});

test('a role lists the settings it reads, and takes the others unlisted', (t) => {
  const flagsOf = (args: string[]): Set<string> => new Set(tickstream([...args, '--help']).stdout.match(/^ {2}--[a-z-]+/gm)?.map((f) => f.trim()));
  const expect: [string[], string[], string[]][] = [
    [['produce'], ['--simulator-rate', '--kafka-spool-limit', '--metrics-port'], ['--port', '--lateness', '--cassandra-keyspace', '--cassandra-replication', '--engine']],
    [['process'], ['--lateness', '--cassandra-keyspace', '--cassandra-replication', '--engine', '--metrics-port'], ['--port', '--simulator-rate', '--source', '--kafka-spool-limit']],
    [['serve'], ['--port', '--cassandra-keyspace', '--cassandra-replication', '--kafka-group-id'], ['--simulator-rate', '--lateness', '--metrics-port', '--kafka-spool-limit']],
    [['migrate'], ['--cassandra-keyspace', '--cassandra-replication'], ['--lateness', '--simulator-rate']],
    [['run'], ['--port', '--simulator-rate', '--lateness', '--partitions'], []],
    [['replay'], ['--replay-speed', '--kafka-brokers', '--store', '--cassandra-keyspace'], ['--simulator-rate', '--source']],
    [['stack', 'up'], ['--kafka-retention', '--kafka-topic-partitions'], []],
    [['stack', 'status'], ['--kafka-brokers'], ['--kafka-retention', '--kafka-topic-partitions']],
  ];
  for (const [args, listed, unlisted] of expect) {
    const flags = flagsOf(args);
    for (const f of listed) assert.ok(flags.has(f), `${args.join(' ')} --help lists ${f}`);
    for (const f of unlisted) assert.ok(!flags.has(f), `${args.join(' ')} --help leaves out ${f}`);
  }
  // Unlisted is still taken: a bad value of one is refused by name, not as an unknown option.
  const r = tickstream(['serve', '--simulator-rate', 'fast', '--data-dir', tempDir(t)]);
  assertOneLine(r, 2, /simulator\.rate="fast"/);
});

test('every stack command takes the Spark ports: --spark-master-port, --spark-master-ui-port, --spark-connect-url and --spark-ui-port', () => {
  for (const command of ['up', 'down', 'status', 'logs']) {
    const help = tickstream(['stack', command, '--help']);
    assert.equal(help.status, 0, help.stderr);
    help.stdout = help.stdout.replace(/\s+/g, ' ');
    assert.match(help.stdout, /--spark-master-port <value> +port of the master of the stack's local Spark cluster \(`tickstream stack up spark`\); its two workers take the next two ports \(default: 7077\)/, command);
    assert.match(help.stdout, /--spark-master-ui-port <value> +.*\(default: 8081\)/, command);
    assert.match(help.stdout, /--spark-connect-url <value> +.*\(default: sc:\/\/127\.0\.0\.1:15002\)/, command);
    assert.match(help.stdout, /--spark-ui-port <value> +web UI port of the driver of the stack's Spark Connect server .*\(default: 4040\)/, command);
  }
});

test('stack up with two processes on one port is bad config: one line naming both, the key and the port, and exit code 2', async (t) => {
  // Held by the test, so that a start that got past the check would stop at Kafka's port in use, with exit code 1.
  const port = await portInUse(t);
  const r = tickstream(['stack', 'up', 'kafka', '--data-dir', tempDir(t), '--kafka-brokers', `127.0.0.1:${port}`, '--spark-connect-url', `sc://127.0.0.1:${port}`]);
  assertOneLine(
    r,
    2,
    new RegExp(`^tickstream: invalid config spark\\.connectUrl="sc://127\\.0\\.0\\.1:${port}": expected a port no other process of the stack listens on: kafka \\(kafka\\.brokers\\) and spark-connect \\(spark\\.connectUrl\\) would both listen on port ${port}; change one of them`),
  );
});

/** The npm packages (of the CommonJS ones the pipeline uses) that `tickstream <args>` loaded before it exited. */
function packagesLoaded(t: TestContext, args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-loaded-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const probe = join(dir, 'probe.cjs');
  writeFileSync(
    probe,
    "process.on('exit', () => { const names = new Set(Object.keys(require.cache).map((k) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(k)?.[1]).filter(Boolean)); process.stderr.write('LOADED ' + [...names].sort().join(',') + '\\n'); });\n",
  );
  const r = spawnSync(process.execPath, ['--require', probe, '--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const line = /^LOADED (.*)$/m.exec(r.stderr);
  assert.ok(line !== null, r.stderr);
  return (line[1] ?? '').split(',').filter((n) => n !== '');
}

test('--version and --help load none of the drivers and servers a command runs with (Cassandra, SQLite, gRPC, WebSocket, HTTP)', (t) => {
  const heavy = ['cassandra-driver', 'better-sqlite3', '@grpc/grpc-js', 'ws', 'fastify', 'prom-client'];
  // The probe sees them once a command runs: migrate opens the SQLite store.
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-loaded-data-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  assert.ok(packagesLoaded(t, ['migrate', '--data-dir', dataDir]).includes('better-sqlite3'));
  for (const args of [['--version'], ['--help'], ['run', '--help'], ['stack', 'logs', '--help'], ['spark', 'status', '--help']]) {
    const loaded = packagesLoaded(t, args);
    assert.deepEqual(loaded.filter((n) => heavy.includes(n)), [], `${args.join(' ')} loaded ${loaded.join(', ')}`);
  }
});

test('a data dir where no directory can be made (under /proc) stops run and migrate at once with one line naming it', () => {
  for (const dataDir of ['/proc/tickstream-x', '/proc/tickstream-x/data']) {
    const line = new RegExp(`^tickstream: cannot use the data dir ${dataDir}: a directory cannot be made in /proc \\(ENOENT\\)$`);
    assertOneLine(tickstream(['migrate', '--data-dir', dataDir]), 1, line);
    assertOneLine(tickstream(['run', '--data-dir', dataDir, '--port', '0', '--simulator-port', '0', '--log-level', 'silent']), 1, line);
  }
});
