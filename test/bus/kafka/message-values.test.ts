import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasInexactNumber, plainValue } from '../../../src/bus/kafka/message-values.ts';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

test('a tombstone is null, JSON is parsed, other UTF-8 is text, and the rest is base64', () => {
  assert.deepEqual(plainValue(null), { value_format: 'null', value: null });
  assert.deepEqual(plainValue(bytes('{"a":[1,2.5,-3e2],"b":"x"}')), { value_format: 'json', value: { a: [1, 2.5, -300], b: 'x' } });
  assert.deepEqual(plainValue(bytes('hello there')), { value_format: 'text', value: 'hello there' });
  assert.deepEqual(plainValue(Buffer.from([0, 1, 2, 255])), { value_format: 'binary', value: 'AAEC/w==' });
});

test('JSON with a number a double would change is shown as its text, digit for digit', () => {
  for (const text of ['12345678901234567890123', '{"id":9007199254740993}', '[1, -9223372036854775807]', '{"p":0.12345678901234567}']) {
    assert.deepEqual(plainValue(bytes(text)), { value_format: 'text', value: text }, text);
  }
  // Safe integers, short decimals, exponents and digits inside strings are exact.
  for (const text of ['9007199254740991', '{"id":"12345678901234567890"}', '[0, -0, 0.000001, 1.5e300, 123456789012345]', '{"k\\\\":"\\"99999999999999999999"}']) {
    assert.equal(hasInexactNumber(text), false, text);
    assert.equal(plainValue(bytes(text)).value_format, 'json', text);
  }
});
