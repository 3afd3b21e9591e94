import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TICKSTREAM_') && k !== 'FINNHUB_TOKEN'));

/** Two trades and a line that is not one. */
const TRADES = '{"s":"AAPL","p":190.5,"v":10,"t":1700000000000,"c":[]}\nnot json\n{"s":"AAPL","p":190.7,"v":5,"t":1700000001000,"c":[]}\n';

function dataDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-replay-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `tickstream replay <file> --exit` at full speed, with `input` on its standard input (a pipe). */
function replayExit(file: string, dir: string, input = ''): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'replay', file, '--exit', '--replay-speed', '0', '--data-dir', dir, '--port', '0'], {
    cwd: ROOT,
    env: CLEAN_ENV,
    input,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, output: r.stdout + r.stderr };
}

test('replay - reads the trades from standard input', (t) => {
  const r = replayExit('-', dataDir(t), TRADES);
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /replaying standard input at full speed/);
  assert.match(r.output, /replay finished: 2 trades, 1 invalid/);
});

test('replay --exit names where the invalid lines and the late trades were set aside', (t) => {
  const dir = dataDir(t);
  const file = join(dir, 'trades.ndjson');
  // The last trade is two minutes behind the one before it, far beyond the default lateness.
  writeFileSync(file, `${TRADES}{"s":"AAPL","p":190.9,"v":1,"t":1700000120000,"c":[]}\n{"s":"AAPL","p":190.1,"v":1,"t":1700000000500,"c":[]}\n`);
  const r = replayExit(file, dir);
  assert.equal(r.status, 0, r.output);
  const finished = /replay finished: .*/.exec(r.output)?.[0] ?? '';
  assert.equal(finished, `replay finished: 4 trades, 1 invalid, 1 late, ${/(\d+) bar writes/.exec(finished)?.[1]} bar writes; invalid records in ${join(dir, 'market.trades.dlq.ndjson')}, late trades in ${join(dir, 'market.trades.late.ndjson')}`);
  const clean = replayExit('-', dataDir(t), TRADES.split('\n')[0]);
  assert.match(clean.output, /replay finished: 1 trade, 0 invalid, 0 late, \d+ bar writes?$/m, 'nothing set aside, nothing named');
});

test('replay takes Finnhub frames as captured from the feed, mixed with trade lines: each trade of a frame, no ping, a bad trade set aside alone', (t) => {
  const dir = dataDir(t);
  const file = join(dir, 'capture.ndjson');
  const frame = '{"type":"trade","data":[{"s":"AAPL","p":190.5,"v":10,"t":1700000000000,"c":["1"]},{"s":"AAPL","p":-1,"v":1,"t":1700000000100},{"s":"MSFT","p":370.1,"v":3,"t":1700000000200,"c":[]}]}';
  writeFileSync(file, `{"type":"ping"}\n${frame}\n{"type":"ping"}\n{"symbol":"MSFT","price":370.2,"volume":1,"ts":1700000001000,"conditions":[]}\n`);
  const r = replayExit(file, dir);
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /replay finished: 3 trades, 1 invalid, 0 late/);
  const letters = readFileSync(join(dir, 'market.trades.dlq.ndjson'), 'utf8').trim().split('\n');
  assert.equal(letters.length, 1, letters.join('\n'));
  assert.match(letters[0] ?? '', /line 2: invalid trade: price must be a finite number > 0/);
});

test('replay of a path that is a pipe (/dev/stdin behind a shell pipe) reads it without seeking', (t) => {
  const dir = dataDir(t);
  const file = join(dir, 'trades.ndjson');
  writeFileSync(file, TRADES);
  const script = `cat "$0" | "$1" --import tsx src/cli/main.ts replay /dev/stdin --exit --replay-speed 0 --data-dir "$2" --port 0`;
  const r = spawnSync('sh', ['-c', script, file, process.execPath, dir], { cwd: ROOT, env: CLEAN_ENV, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /replay finished: 2 trades, 1 invalid/);
});

test('a replay stopped by Ctrl-C before the end of the file says where it stopped, not that it finished', async (t) => {
  const dir = dataDir(t);
  const file = join(dir, 'trades.ndjson');
  // At ×1 the third line waits an hour, after the first two have been handed on.
  writeFileSync(file, 'not json\n{"s":"AAPL","p":190.5,"v":10,"t":1700000000000,"c":[]}\n{"s":"AAPL","p":190.7,"v":5,"t":1700003600000,"c":[]}\n');
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'replay', file, '--exit', '--replay-speed', '1', '--data-dir', dir, '--port', '0'];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: CLEAN_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit');
  const deadLetters = join(dir, 'market.trades.dlq.ndjson');
  const deadline = Date.now() + 20_000;
  while (!(existsSync(deadLetters) && readFileSync(deadLetters, 'utf8') !== '')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the dead letter of line 1 was not written; output: ${output}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGINT');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0, output);
  assert.match(output, new RegExp(`replay stopped at line 3 of ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 1 trade, 1 invalid`));
  assert.doesNotMatch(output, /replay finished/);
});
