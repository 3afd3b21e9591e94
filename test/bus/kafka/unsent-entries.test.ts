import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { UnsentEntries } from '../../../src/bus/kafka/unsent-entries.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-unsent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const TOPIC = 'market.trades.dlq';

test('take() claims what was appended; later appends start a new file, taken after the first', async (t) => {
  const dir = join(tempDir(t), 'unsent');
  const unsent = new UnsentEntries(dir, TOPIC);
  assert.deepEqual(await unsent.take(), [], 'nothing kept, no directory yet');
  await unsent.append(['{"n":1}', '{"n":2}']);
  assert.equal(basename(unsent.path), `${TOPIC}.${process.pid}.ndjson`);
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
  assert.deepEqual(readdirSync(dir), []);
  assert.deepEqual(await unsent.take(), []);
});

test('files left by a process that is gone are claimed; those of a live process, and of other topics, are left alone', async (t) => {
  const dir = tempDir(t);
  const gone = spawnSync(process.execPath, ['-e', '']).pid;
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)'], { stdio: 'ignore' });
  t.after(() => live.kill());
  writeFileSync(join(dir, `${TOPIC}.${gone}.ndjson`), '{"n":1}\n{"n":2}\n{"n":');
  writeFileSync(join(dir, `${TOPIC}.${gone}-4.sending`), '{"n":0}\n');
  writeFileSync(join(dir, `${TOPIC}.${live.pid}.ndjson`), '{"n":9}\n');
  writeFileSync(join(dir, `market.trades.late.${gone}.ndjson`), '{"late":1}\n');
  writeFileSync(join(dir, 'notes.txt'), 'not ours\n');

  const taken = await new UnsentEntries(dir, TOPIC).take();
  assert.deepEqual(taken.map((f) => f.values).flat().sort(), ['{"n":0}', '{"n":1}', '{"n":2}']);
  assert.deepEqual(
    taken.map((f) => f.torn),
    taken.map((f) => (f.values.includes('{"n":1}') ? 1 : 0)),
    'the torn end of a write cut short is dropped and counted',
  );
  assert.ok(taken.every((f) => basename(f.path).startsWith(`${TOPIC}.${process.pid}-`)));
  const left = readdirSync(dir).filter((name) => !name.startsWith(`${TOPIC}.${process.pid}-`));
  assert.deepEqual(left.sort(), [`market.trades.late.${gone}.ndjson`, `${TOPIC}.${live.pid}.ndjson`, 'notes.txt'].sort());
});
