import assert from 'node:assert/strict';
import { test } from 'node:test';
import { counted } from '../../src/observability/index.ts';

test('a count of one takes the singular, any other count the plural', () => {
  assert.equal(counted(1, 'symbol'), '1 symbol');
  assert.equal(counted(2, 'symbol'), '2 symbols');
  assert.equal(counted(0, 'trade'), '0 trades');
  assert.equal(counted(1, 'bar write'), '1 bar write');
  assert.equal(counted(3, 'query', 'queries'), '3 queries');
});
