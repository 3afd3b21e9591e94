import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SparkError } from '../../src/errors.ts';
import { parseConnectionString } from '../../src/spark/index.ts';

test('sc:// URLs give the gRPC address, reserved parameters and plain headers', () => {
  assert.deepEqual(parseConnectionString('sc://127.0.0.1:15002'), { address: '127.0.0.1:15002', useSsl: false, headers: {} });
  assert.deepEqual(parseConnectionString('sc://spark-host'), { address: 'spark-host:15002', useSsl: false, headers: {} });
  assert.deepEqual(parseConnectionString('sc://h:1/;user_id=ana;token=t0k;use_ssl=true;x-route=blue'), {
    address: 'h:1',
    useSsl: true,
    token: 't0k',
    userId: 'ana',
    headers: { 'x-route': 'blue' },
  });
});

test('a malformed URL is a SparkError naming it', () => {
  for (const bad of ['http://h:1', 'sc://h:0', 'sc://h:99999', 'sc://h:1/;novalue']) {
    assert.throws(() => parseConnectionString(bad), (e: unknown) => e instanceof SparkError && e.message.includes('URL'), bad);
  }
});
