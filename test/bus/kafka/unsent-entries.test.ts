import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { UnsentDir, UnsentEntries } from '../../../src/bus/kafka/unsent-entries.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-unsent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function ownDir(t: TestContext, root: string): UnsentDir {
  const dir = new UnsentDir(root);
  t.after(() => dir.close());
  return dir;
}

const TOPIC = 'market.trades.dlq';

/** The directory another process kept its entries in, with the lock it left. */
function leftBy(root: string, name: string, holder: { host?: string; pid: number; started: number }, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'lock'), JSON.stringify({ host: hostname(), ...holder }));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

test('each process keeps its entries in a directory of its own, and a second in the same process gets another', async (t) => {
  const root = join(tempDir(t), 'unsent');
  const first = ownDir(t, root);
  const second = ownDir(t, root);
  assert.equal(basename(first.dir), `${hostname()}-${process.pid}`);
  assert.equal(basename(second.dir), `${hostname()}-${process.pid}-2`);
  second.close();
  assert.deepEqual(readdirSync(root), [basename(first.dir)], 'an empty directory is removed at close');
});

test('take() claims what was appended; later appends start a new file, taken after the first', async (t) => {
  const dir = ownDir(t, join(tempDir(t), 'unsent'));
  const unsent = new UnsentEntries(dir, TOPIC);
  assert.deepEqual(await unsent.take(), [], 'nothing kept');
  await unsent.append(['{"n":1}', '{"n":2}']);
  assert.equal(unsent.path, join(dir.dir, `${TOPIC}.ndjson`));
  const first = await unsent.take();
  assert.equal(first.length, 1);
  assert.deepEqual(first[0]?.values, ['{"n":1}', '{"n":2}']);
  assert.equal(existsSync(unsent.path), false, 'the appended file was renamed');

  // Appends and takes run in turn: one issued before a take is in what it takes.
  const appended = unsent.append(['{"n":3}']);
  const second = await unsent.take();
  await appended;
  assert.deepEqual(
    second.map((f) => f.values),
    [['{"n":1}', '{"n":2}'], ['{"n":3}']],
    'a file taken and not yet sent comes first',
  );
  for (const f of second) await unsent.sent(f);
  assert.deepEqual(readdirSync(dir.dir), ['lock']);
  assert.deepEqual(await unsent.take(), []);
});

test('the files of a process that is gone are claimed; those of a live process, and of other topics, are left', async (t) => {
  const root = tempDir(t);
  const gone = spawnSync(process.execPath, ['-e', '']).pid;
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)'], { stdio: 'ignore' });
  t.after(() => live.kill());
  const goneDir = leftBy(root, `${hostname()}-${gone}`, { pid: gone, started: 1 }, {
    [`${TOPIC}.ndjson`]: '{"n":1}\n{"n":2}\n{"n":',
    [`${TOPIC}.4.sending`]: '{"n":0}\n',
    'market.trades.late.ndjson': '{"late":1}\n',
  });
  const liveDir = leftBy(root, `${hostname()}-${live.pid}`, { pid: live.pid!, started: Date.now() }, { [`${TOPIC}.ndjson`]: '{"n":9}\n' });
  // A restarted container: node is pid 1 again, on the same volume, but started anew.
  const restarted = leftBy(root, `${hostname()}-${process.pid}-7`, { pid: process.pid, started: 1 }, { [`${TOPIC}.ndjson`]: '{"n":5}\n' });

  const dir = ownDir(t, root);
  const taken = await new UnsentEntries(dir, TOPIC).take();
  const at = (value: string): number => taken.findIndex((f) => f.values.includes(value));
  assert.ok(at('{"n":0}') < at('{"n":1}'), 'a process\'s file taken before comes before the one it appended to last');
  assert.deepEqual(taken.flatMap((f) => f.values).sort(), ['{"n":0}', '{"n":1}', '{"n":2}', '{"n":5}']);
  assert.equal(taken.reduce((n, f) => n + f.torn, 0), 1, 'the torn end of a write cut short is dropped and counted');
  assert.ok(taken.every((f) => f.path.startsWith(dir.dir)), 'moved into this process\'s directory');
  assert.deepEqual(readdirSync(goneDir), ['market.trades.late.ndjson'], 'the other topic\'s file waits for its own log; the lock is given back');
  assert.deepEqual(readdirSync(liveDir).sort(), ['lock', `${TOPIC}.ndjson`]);
  assert.equal(existsSync(restarted), false, 'an emptied directory is removed');
});
