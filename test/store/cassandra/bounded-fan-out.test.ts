import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachBounded } from '../../../src/store/cassandra/bounded-fan-out.ts';

/** A task that finishes when the test says so, so the number in flight can be observed exactly. */
function gate(): { promise: Promise<void>; open: () => void; fail: (e: Error) => void } {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('never more than limit items are in flight, and every item runs once', async () => {
  const gates = Array.from({ length: 10 }, gate);
  const started: number[] = [];
  let inFlight = 0;
  let peak = 0;
  const done = forEachBounded([...gates.keys()], 3, async (i) => {
    started.push(i);
    inFlight++;
    peak = Math.max(peak, inFlight);
    await gates[i]!.promise;
    inFlight--;
  });
  await tick();
  assert.deepEqual(started, [0, 1, 2]);
  for (const g of gates) {
    g.open();
    await tick();
  }
  await done;
  assert.equal(peak, 3);
  assert.deepEqual(started, [...gates.keys()]);
});

test('after a failure no new item starts, the ones in flight finish, and the first error is thrown', async () => {
  const gates = Array.from({ length: 6 }, gate);
  const started: number[] = [];
  const finished: number[] = [];
  let settled = false;
  const done = forEachBounded([...gates.keys()], 2, async (i) => {
    started.push(i);
    await gates[i]!.promise;
    finished.push(i);
  });
  void done.catch(() => {}).finally(() => (settled = true));
  await tick();
  gates[0]!.fail(new Error('first'));
  await tick();
  assert.equal(settled, false, 'item 1 is still in flight');
  gates[1]!.open();
  await assert.rejects(done, /first/);
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(finished, [1]);
});

test('an error thrown while another item is in flight waits for that item before rejecting', async () => {
  const slow = gate();
  let settled = false;
  const done = forEachBounded([0, 1], 2, async (i) => {
    if (i === 0) throw new Error('boom');
    await slow.promise;
  });
  void done.catch(() => {}).finally(() => (settled = true));
  await tick();
  assert.equal(settled, false);
  slow.open();
  await assert.rejects(done, /boom/);
});

test('no items resolve at once, and a limit below one still makes progress', async () => {
  await forEachBounded([], 4, async () => assert.fail('not called'));
  const seen: number[] = [];
  await forEachBounded([1, 2], 0, async (i) => {
    seen.push(i);
  });
  assert.deepEqual(seen, [1, 2]);
});
