import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ndjsonLines, type OverlongLine } from '../../../src/source/replay/ndjson-lines.ts';

async function split(chunks: readonly string[], maxChars: number): Promise<(string | OverlongLine)[]> {
  const out: (string | OverlongLine)[] = [];
  for await (const lines of ndjsonLines((async function* () { yield* chunks; })(), maxChars)) out.push(...lines);
  return out;
}

test('lines split at \\n across chunks, \\r\\n included, and a last line without a newline counts', async () => {
  assert.deepEqual(await split(['a\r\nb', 'c\n\n', 'd\ne'], 100), ['a', 'bc', '', 'd', 'e']);
  assert.deepEqual(await split(['a\n'], 100), ['a']);
  assert.deepEqual(await split([], 100), []);
});

test('the lines come in one batch per chunk that completes any, so a reader of a pipe can hand them on', async () => {
  const batches: string[][] = [];
  for await (const lines of ndjsonLines((async function* () { yield* ['a\nb', 'c', '\nd\ne\n', 'f']; })(), 100)) batches.push(lines.map(String));
  assert.deepEqual(batches, [['a'], ['bc', 'd', 'e'], ['f']]);
});

test('a line over the limit keeps only its start and its length, and the lines after it are read as usual', async () => {
  const long = 'x'.repeat(10_000);
  const chunks = ['ok\n', long.slice(0, 3_000), long.slice(3_000), '\nnext\n', 'y'.repeat(60), 'z'.repeat(60)];
  assert.deepEqual(await split(chunks, 100), ['ok', { head: 'x'.repeat(200), length: 10_000 }, 'next', { head: `${'y'.repeat(60)}${'z'.repeat(60)}`, length: 120 }]);
  assert.deepEqual(await split(['y'.repeat(100), '\n'], 100), ['y'.repeat(100)], 'a line of exactly the limit is kept');
});

test('an over-long line is not held whole: only what is kept is', async () => {
  // 50 MB in 64 KiB chunks without a newline; each chunk is made on demand, so only the splitter could keep them.
  const size = 64 * 1024;
  async function* chunks(): AsyncGenerator<string> {
    for (let i = 0; i < 800; i++) yield `x${i}`.padEnd(size, 'x');
  }
  const before = process.memoryUsage().heapUsed;
  const out: (string | OverlongLine)[] = [];
  for await (const lines of ndjsonLines(chunks(), 1024 * 1024)) out.push(...lines);
  assert.deepEqual(out, [{ head: 'x0'.padEnd(200, 'x'), length: 800 * size }]);
  assert.ok(process.memoryUsage().heapUsed - before < 25 * 1024 * 1024, 'heap grew by less than half the line');
});
