import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

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
  }
});

test('the embedded profile refuses to split its in-process log across processes', () => {
  const r = tickstream(['produce']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /profile="embedded".*cluster/);
});
