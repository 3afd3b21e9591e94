import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { offset } from '../../src/domain/index.ts';
import {
  applyTrade,
  deserializePartitionState,
  flushPartition,
  newPartitionState,
  readCheckpoint,
  serializePartitionState,
  watermarkOf,
  type FlushResult,
} from '../../src/engine/index.ts';
import { CheckpointError } from '../../src/errors.ts';
import { options, scenarioArb, T0, trade, type Scenario } from './scenario.ts';

/** Every verdict and flush result of a run; with `restarts`, the state goes through a checkpoint where the scenario says. */
function run(scenario: Scenario, restarts: boolean): { verdicts: string[]; flushes: FlushResult[]; final: string } {
  let state = newPartitionState();
  const verdicts: string[] = [];
  const flushes: FlushResult[] = [];
  for (const step of scenario.steps) {
    verdicts.push(applyTrade(state, step.record.trade, step.record.offset, scenario.options));
    if (step.flush) flushes.push(flushPartition(state, scenario.options));
    if (restarts && step.restart) {
      const text = serializePartitionState(state);
      state = deserializePartitionState(text);
      assert.equal(serializePartitionState(state), text, 'serialize(deserialize(text)) = text');
    }
  }
  flushes.push(flushPartition(state, scenario.options));
  return { verdicts, flushes, final: serializePartitionState(state) };
}

test('restoring from a checkpoint at random points, then continuing, gives exactly the same verdicts and bars as no restart', () => {
  for (const withinLateness of [true, false]) {
    fc.assert(
      fc.property(scenarioArb(withinLateness), (scenario) => {
        assert.deepEqual(run(scenario, true), run(scenario, false));
      }),
      { numRuns: 200 },
    );
  }
});

test('a checkpoint keeps the changed flags: a bar changed before the restart is emitted by the first flush after it', () => {
  const o = options(['5s'], 10_000);
  const state = newPartitionState();
  applyTrade(state, trade('AAPL', T0, 10, 1), offset(0), o);
  flushPartition(state, o);
  applyTrade(state, trade('MSFT', T0, 0.1, 3), offset(1), o);
  const restored = deserializePartitionState(serializePartitionState(state));
  assert.deepEqual(
    flushPartition(restored, o).bars.map((b) => b.symbol),
    ['MSFT'],
  );
});

test('the watermark survives a checkpoint, and an empty state round-trips', () => {
  const o = options(['1s'], 2_000);
  const empty = deserializePartitionState(serializePartitionState(newPartitionState()));
  assert.equal(watermarkOf(empty, o), undefined);
  const state = newPartitionState();
  applyTrade(state, trade('AAPL', T0 + 9_000, 1, 1), offset(0), o);
  flushPartition(state, o);
  applyTrade(state, trade('AAPL', T0 + 20_000, 1, 1), offset(1), o);
  flushPartition(state, o); // drops the first window: the watermark is now ahead of every open window
  const restored = deserializePartitionState(serializePartitionState(state));
  assert.equal(watermarkOf(restored, o), T0 + 18_000);
  assert.equal(applyTrade(restored, trade('AAPL', T0 + 9_500, 1, 1), offset(2), o), 'late');
});

test('a checkpoint is versioned JSON', () => {
  const state = newPartitionState();
  applyTrade(state, trade('AAPL', T0, 10, 1), offset(0), options(['5s'], 0));
  const parsed = JSON.parse(serializePartitionState(state)) as { v: number; maxTs: number; windows: unknown[] };
  assert.equal(parsed.v, 1);
  assert.equal(parsed.maxTs, T0);
  assert.equal(parsed.windows.length, 1);
});

test('a checkpoint names the log its offsets belong to when given one; one without it reads as no log', () => {
  const state = newPartitionState();
  applyTrade(state, trade('AAPL', T0, 10, 1), offset(0), options(['5s'], 0));
  const text = serializePartitionState(state, 'Zx3c9WqMTYmUdRYw8CS7-A');
  assert.equal((JSON.parse(text) as { log: string }).log, 'Zx3c9WqMTYmUdRYw8CS7-A');
  const read = readCheckpoint(text);
  assert.equal(read.log, 'Zx3c9WqMTYmUdRYw8CS7-A');
  assert.equal(serializePartitionState(read.state, read.log), text);
  assert.equal(readCheckpoint(serializePartitionState(state)).log, undefined);
  assert.throws(() => readCheckpoint('{"v":1,"log":"","maxTs":null,"windows":[]}'), /checkpoint log must be absent or a non-empty string, got ""/);
  assert.throws(() => readCheckpoint('{"v":1,"log":7,"maxTs":null,"windows":[]}'), /checkpoint log must be absent or a non-empty string, got 7/);
});

function validWindow(): Record<string, unknown> {
  const state = newPartitionState();
  applyTrade(state, trade('AAPL', T0 + 10, 10, 2), offset(3), options(['5s'], 0));
  const parsed = JSON.parse(serializePartitionState(state)) as { windows: Record<string, unknown>[] };
  return parsed.windows[0] as Record<string, unknown>;
}

function withWindow(change: Record<string, unknown>): string {
  return JSON.stringify({ v: 1, maxTs: T0 + 10, windows: [{ ...validWindow(), ...change }] });
}

test('deserializing garbage throws a CheckpointError that names what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['', /not valid JSON/],
    ['{"v":1,', /not valid JSON/],
    ['null', /checkpoint must be an object, got null/],
    ['[1,2]', /checkpoint must be an object/],
    ['{"maxTs":null,"windows":[]}', /checkpoint v \(version\) must be 1, got nothing/],
    ['{"v":2,"maxTs":null,"windows":[]}', /version\) must be 1, got 2/],
    ['{"v":1,"maxTs":"soon","windows":[]}', /maxTs must be null or epoch milliseconds, got "soon"/],
    ['{"v":1,"maxTs":1.5,"windows":[]}', /maxTs/],
    ['{"v":1,"maxTs":5}', /windows must be an array, got nothing/],
    [JSON.stringify({ v: 1, maxTs: null, windows: [validWindow()] }), /1 windows but no maxTs/],
    [JSON.stringify({ v: 1, maxTs: T0 + 10, windows: [42] }), /windows\[0\] must be an object, got 42/],
    [withWindow({ symbol: '' }), /windows\[0\]\.symbol must be a non-empty string/],
    [withWindow({ interval: 5 }), /windows\[0\]\.interval must be a non-empty string, got 5/],
    [withWindow({ high: 'abc' }), /windows\[0\]\.high must be a finite number, got "abc"/],
    [withWindow({ volume: null }), /windows\[0\]\.volume must be a finite number, got null/],
    [withWindow({ tradeCount: 0 }), /windows\[0\]\.tradeCount must be an integer >= 1, got 0/],
    [withWindow({ openOffset: -1 }), /windows\[0\]\.openOffset must be an integer >= 0/],
    [withWindow({ windowEnd: T0 }), /windows\[0\]\.windowEnd must be an integer >= /],
    [withWindow({ closeTs: T0 + 5_000 }), /windows\[0\]\.closeTs must be a time before windowEnd/],
    [withWindow({ changed: 'yes' }), /windows\[0\]\.changed must be true or false, got "yes"/],
    [withWindow({ low: 11 }), /windows\[0\] has low 11 above high 10/],
    [JSON.stringify({ v: 1, maxTs: T0, windows: [validWindow()] }), /windows\[0\] has a trade at .*after maxTs/],
    [JSON.stringify({ v: 1, maxTs: T0 + 10, windows: [validWindow(), validWindow()] }), /windows\[1\] repeats the window \(AAPL, 5s, /],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => deserializePartitionState(text),
      (error: unknown) => {
        assert.ok(error instanceof CheckpointError, `${text}: threw ${String(error)}`);
        assert.equal(error.code, 'TICKSTREAM_CHECKPOINT_INVALID');
        assert.match(error.message, message, text);
        return true;
      },
    );
  }
  // The fixture itself is valid, so each case above fails for the reason it names.
  assert.doesNotThrow(() => deserializePartitionState(withWindow({})));
});

test('deserializing any JSON value or any string either succeeds or throws a CheckpointError, never anything else', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
      try {
        deserializePartitionState(text);
      } catch (error) {
        assert.ok(error instanceof CheckpointError, String(error));
      }
    }),
    { numRuns: 500 },
  );
});
