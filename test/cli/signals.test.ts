import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runUntilStopped, startUnlessStopped, StoppedBeforeStart } from '../../src/cli/signals.ts';
import { CheckpointError, TickstreamError } from '../../src/errors.ts';
import { createLogger } from '../../src/observability/index.ts';

function recorder(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'info', write: (line) => lines.push(line) }) };
}

test('an engine that stops on an error closes the set and fails the command with the reason, keeping its code', { timeout: 10_000 }, async () => {
  const { lines, logger } = recorder();
  let closed = 0;
  const cause = new CheckpointError('market.trades has a new topic id');
  const set = { engineStopped: Promise.resolve(cause), close: async () => void closed++ };
  const error = await runUntilStopped(set, logger, 'stopping').then(
    () => assert.fail('expected the command to fail'),
    (e: unknown) => e,
  );
  assert.equal(closed, 1);
  assert.ok(error instanceof TickstreamError);
  assert.equal(error.code, 'TICKSTREAM_CHECKPOINT_INVALID');
  assert.equal(error.message, 'the engine stopped: market.trades has a new topic id');
  assert.equal(error.cause, cause);
  assert.ok(lines.some((l) => l.includes('stopping: the engine stopped')), lines.join('\n'));
});

test('an error that is not one of ours is reported as the bus failing; a close that fails after it does not hide it', { timeout: 10_000 }, async () => {
  const { lines, logger } = recorder();
  const set = {
    engineStopped: Promise.resolve(new Error('group join failed')),
    close: async () => {
      throw new Error('store gone');
    },
  };
  const error = await runUntilStopped(set, logger, 'stopping').catch((e: unknown) => e);
  assert.ok(error instanceof TickstreamError);
  assert.equal(error.code, 'TICKSTREAM_BUS_UNAVAILABLE');
  assert.equal(error.message, 'the engine stopped: group join failed');
  assert.ok(lines.some((l) => l.includes('closing after the engine stopped failed') && l.includes('store gone')), lines.join('\n'));
});

test('a signal closes the set and the command ends without an error', { timeout: 10_000 }, async () => {
  const { lines, logger } = recorder();
  let closed = 0;
  const set = { engineStopped: new Promise<unknown>(() => {}), close: async () => void closed++ };
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const done = runUntilStopped(set, logger, 'stopping: flushing');
  process.emit('SIGTERM');
  await done;
  // Stopping arms "a second signal exits at once"; this test process must not keep that.
  for (const s of signals) for (const l of process.listeners(s)) if (!before.get(s)?.has(l)) process.off(s, l);
  assert.equal(closed, 1);
  assert.deepEqual(lines.map((l) => l.replace(/^\S+ /, '')), ['INFO  tickstream stopping: flushing', 'INFO  tickstream stopped']);
});

/** Runs one call with a SIGINT or SIGTERM listener of its own removed afterwards, as a test process must not keep them. */
async function withSignalsRestored<T>(run: () => Promise<T>): Promise<T> {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  try {
    return await run();
  } finally {
    for (const s of signals) for (const l of process.listeners(s)) if (!before.get(s)?.has(l)) process.off(s, l);
  }
}

test('a signal while a start waits aborts it and rejects with StoppedBeforeStart, whatever the start was waiting on', { timeout: 10_000 }, async () => {
  let aborted = false;
  const error = await withSignalsRestored(async () => {
    const started = startUnlessStopped(
      (stop) =>
        new Promise<{ close(): Promise<void> }>((_, reject) => {
          stop.addEventListener('abort', () => {
            aborted = true;
            reject(stop.reason as Error);
          });
        }),
    );
    process.emit('SIGINT');
    return started.catch((e: unknown) => e);
  });
  assert.ok(aborted, 'the start was told to stop');
  assert.ok(error instanceof StoppedBeforeStart, String(error));
  assert.equal(error.signal, 'SIGINT');
  assert.equal(error.message, 'stopped by SIGINT before start-up completed');
});

test('a start that was complete when the signal came is closed, and the command stops before running', { timeout: 10_000 }, async () => {
  let closed = 0;
  const error = await withSignalsRestored(() =>
    startUnlessStopped(async () => {
      process.emit('SIGTERM');
      return { close: async () => void closed++ };
    }).catch((e: unknown) => e),
  );
  assert.equal(closed, 1);
  assert.ok(error instanceof StoppedBeforeStart && error.signal === 'SIGTERM', String(error));
});

test('a start that ends before any signal hands the signals back to the command', { timeout: 10_000 }, async () => {
  const before = process.listenerCount('SIGINT');
  const set = await startUnlessStopped(async () => ({ close: async () => {} }));
  assert.ok(typeof set.close === 'function');
  assert.equal(process.listenerCount('SIGINT'), before);
});

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TICKSTREAM_') && k !== 'FINNHUB_TOKEN'));

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-signals-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Starts the CLI, sends it SIGINT once its output matches `ready` or `ready` settles (the start
 * is then waiting on something), and returns how it ended.
 */
async function interruptedAt(
  t: TestContext,
  args: readonly string[],
  ready: RegExp | Promise<unknown>,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: CLEAN_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  let sent = false;
  const interrupt = (): void => {
    if (sent || child.exitCode !== null) return;
    sent = true;
    child.kill('SIGINT');
  };
  if (!(ready instanceof RegExp)) void ready.then(interrupt);
  const onData = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (ready instanceof RegExp && ready.test(output)) interrupt();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  assert.ok(sent, `exited before it was interrupted:\n${output}`);
  return { code, signal, output };
}

test('Ctrl-C while a replay waits for a FIFO writer stops it at once with exit 0 and one line saying so', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, 'trades.fifo');
  const made = spawnSync('mkfifo', [fifo]);
  assert.equal(made.status, 0, String(made.stderr));
  const r = await interruptedAt(t, ['replay', fifo, '--exit', '--data-dir', join(dir, 'data')], /waiting for a writer to open the FIFO/);
  assert.equal(r.signal, null, r.output);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /^tickstream: stopped by SIGINT before start-up completed$/m);
});

test('Ctrl-C while the Cassandra store connects to a node that does not answer stops with exit 0 and one line saying so', { timeout: 60_000 }, async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => void sockets.add(socket));
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const address = silent.address();
  assert.ok(address !== null && typeof address === 'object');
  const dir = tempDir(t);
  const args = ['process', '--profile', 'cluster', '--store', 'cassandra', '--cassandra-contact-points', `127.0.0.1:${address.port}`, '--data-dir', dir];
  // The driver has connected and waits (12 s) for the node's answer.
  const r = await interruptedAt(t, args, once(silent, 'connection'));
  assert.equal(r.signal, null, r.output);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /^tickstream: stopped by SIGINT before start-up completed$/m);
  assert.doesNotMatch(r.output, /did not reply before timeout/);
});
