import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { simulateCommand } from '../../src/cli/simulate.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Runs the command alone, so this test does not depend on every other command of main.ts.
const SCRIPT = `import { simulateCommand } from './src/cli/simulate.ts';
await simulateCommand().parseAsync(process.argv.slice(1), { from: 'user' });`;

test('tickstream simulate prints its URL, serves subscribed trades and stops cleanly on SIGTERM', async (t) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, '--', '--host', '127.0.0.1', '--port', '0', '--rate', '500', '--seed', '3', '--symbols', 'AAPL,MSFT', '--log-level', 'silent'],
    // The --port flag must win over the environment's port.
    { cwd: ROOT, env: { ...process.env, TICKSTREAM_SIMULATOR_PORT: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!stdout.includes('\n')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no URL line; stderr: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const url = /ws:\/\/127\.0\.0\.1:\d+/.exec(stdout)?.[0];
  assert.ok(url, `a URL in ${stdout}`);
  assert.match(stdout, /500 trades\/s · seed 3 · 2 symbols/);

  const ws = new WebSocket(url);
  t.after(() => ws.terminate());
  await once(ws, 'open');
  ws.send(JSON.stringify({ type: 'subscribe', symbol: 'MSFT' }));
  const [data] = (await once(ws, 'message')) as [Buffer];
  const frame = JSON.parse(data.toString()) as { type: string; data: { s: string }[] };
  assert.equal(frame.type, 'trade');
  assert.ok(frame.data.every((tr) => tr.s === 'MSFT'));

  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, stderr);
});

test('tickstream simulate rejects a bad flag value with a line naming the key', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, '--', '--rate', '-5'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.notEqual(code, 0);
  assert.match(stderr, /simulator\.rate/);
  // The flag as simulate spells it, not the --simulator-rate of the pipeline commands.
  assert.match(stderr, /\(from --rate\)/);
});

test('simulate --help says what --symbols means for a simulated market, not what a subscriber does with it', () => {
  const help = simulateCommand().helpInformation().replace(/\s+/g, ' ');
  assert.match(help, /--symbols <value> symbols the market trades, as Finnhub names them; a client may subscribe to others too \(default: AAPL,/);
  assert.ok(!help.includes('symbols to subscribe to'), help);
});

test('tickstream simulate with one symbol says 1 symbol', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, '--', '--port', '0', '--symbols', 'AAPL', '--log-level', 'silent'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!stdout.includes('\n')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no URL line: ${stdout}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.match(stdout, / · 1 symbol\n$/);
  child.kill('SIGTERM');
  await once(child, 'exit');
});
