import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppendWindow } from '../../src/app/append-window.ts';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('appends within the bound are admitted at once; beyond it the caller waits for the oldest', async () => {
  const w = new AppendWindow(100);
  const a = deferred();
  const b = deferred();
  await w.admit(a.promise, 60);
  assert.equal(w.pending, 60);
  let admitted = false;
  const second = w.admit(b.promise, 60).then(() => (admitted = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(admitted, false, 'over the bound: waits');
  a.resolve();
  await second;
  assert.equal(admitted, true);
  assert.equal(w.pending, 60);
  b.resolve();
  await w.drain();
  assert.equal(w.pending, 0);
});

test('a failed append is reported to the next caller, never swallowed', async () => {
  const w = new AppendWindow(1_000);
  const a = deferred();
  await w.admit(a.promise, 10);
  a.reject(new Error('disk full'));
  await new Promise((r) => setImmediate(r));
  await assert.rejects(w.admit(Promise.resolve(), 10), /disk full/);
  assert.equal(w.pending, 0, 'the failed append no longer counts and the refused one was not taken');
  await w.admit(Promise.resolve(), 10);
  await w.drain();
  assert.equal(w.pending, 0);
});

test('a failure of the oldest append while waiting fails the waiting call', async () => {
  const w = new AppendWindow(10);
  const a = deferred();
  await w.admit(a.promise, 10);
  const waiting = w.admit(Promise.resolve(), 5);
  a.reject(new Error('broker gone and spool full'));
  await assert.rejects(waiting, /spool full/);
});
