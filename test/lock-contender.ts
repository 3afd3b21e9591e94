// One process of the lock race in directory-lock.test.ts: says `ready`, waits for `go` on its
// stdin, tries to take the lock of the directory in argv[2], says `took` or `refused: …`, and
// holds what it took until its stdin ends.
import { createInterface } from 'node:readline';
import { lockIfFree } from '../src/directory-lock.ts';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: lock-contender.ts <dir>');
const input = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('ready\n');
await input.next();
let answer: string;
let release = (): void => {};
try {
  const lock = lockIfFree(dir, 'a contender');
  answer = lock === undefined ? 'refused: held' : 'took';
  if (lock !== undefined) release = () => lock.release();
} catch (error) {
  answer = `refused: ${error instanceof Error ? error.message : String(error)}`;
}
process.stdout.write(`${answer}\n`);
while (!(await input.next()).done) {
  // Holds the lock until the test ends stdin.
}
release();
