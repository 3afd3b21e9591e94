import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineDirName } from '../../src/app/engine-lock.ts';

test('an engine id becomes a safe file name of its own: letters, digits, _ and - stay, every other byte is %XX', () => {
  assert.equal(engineDirName('embedded'), 'embedded');
  assert.equal(engineDirName('replay'), 'replay');
  assert.equal(engineDirName('desk_1-a'), 'desk_1-a');
  assert.equal(engineDirName('a/b'), 'a%2Fb');
  assert.equal(engineDirName('..'), '%2E%2E');
  assert.equal(engineDirName('a%2Fb'), 'a%252Fb', 'an id that looks encoded is not the id it looks like');
  assert.equal(engineDirName('C:\\x y'), 'C%3A%5Cx%20y');
  assert.equal(engineDirName('ü'), '%C3%BC');
  assert.equal(engineDirName(''), '%');
});

test('a long engine id is cut and given a hash, so that ids with one beginning keep apart', () => {
  const a = engineDirName(`${'g'.repeat(300)}a`);
  const b = engineDirName(`${'g'.repeat(300)}b`);
  assert.ok(a.length <= 100 && b.length <= 100, `${a.length}, ${b.length}`);
  assert.notEqual(a, b);
  assert.match(a, /^g+~[0-9a-f]{16}$/);
});
