import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-cli-stack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function tickstream(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TICKSTREAM_') && k !== 'FINNHUB_TOKEN'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: clean, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('stack up on a port another program holds is a failure of the start, not of the config: exit code 1', async (t) => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  // spawnSync would block the event loop that answers for the server; the kernel's backlog accepts the probe anyway.
  const dataDir = join(tempDir(t), 'state');
  const r = tickstream(['stack', 'up', 'kafka', '--data-dir', dataDir, '--kafka-brokers', `127.0.0.1:${port}`]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^tickstream: kafka: 127\\.0\\.0\\.1:${port}, its broker port .* is already in use by a process the stack of ${dataDir} did not start; `));
});

test('stack logs -f of a log not written yet waits for it, follows it once it appears, and ends with exit code 0 on Ctrl-C', async (t) => {
  const dataDir = join(tempDir(t), 'state');
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TICKSTREAM_')));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'stack', 'logs', 'kafka', '-f', '--data-dir', dataDir], { cwd: ROOT, env: clean });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const until = async (done: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while (!done() && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(done(), `${what}; exit code ${String(child.exitCode)}; stdout: ${out}`);
  };
  await until(() => out.includes('waiting for it'), 'it says it waits for the log');
  mkdirSync(join(dataDir, 'stack', 'kafka'), { recursive: true });
  writeFileSync(join(dataDir, 'stack', 'kafka', 'kafka.log'), 'broker started\n');
  await until(() => out.includes('broker started'), 'it prints the log once it appears');
  child.kill('SIGINT');
  assert.equal(await exited, 0);
});
