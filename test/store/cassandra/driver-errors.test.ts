import assert from 'node:assert/strict';
import { test } from 'node:test';
import cassandra from 'cassandra-driver';
import { MigrationError, StoreUnavailableError } from '../../../src/errors.ts';
import { describeDriverError, isRetryable, storeError } from '../../../src/store/cassandra/driver-errors.ts';

const { errors, types } = cassandra;
const codes = types.responseErrorCodes;

test('a node that is down, slow or overloaded can be retried', () => {
  assert.equal(isRetryable(new errors.NoHostAvailableError({})), true);
  assert.equal(isRetryable(new errors.OperationTimedOutError('timed out', '127.0.0.1:9042')), true);
  for (const code of [codes.unavailableException, codes.overloaded, codes.writeTimeout, codes.readTimeout, codes.isBootstrapping]) {
    assert.equal(isRetryable(new errors.ResponseError(code, 'x')), true, `code ${code}`);
  }
});

test('a wrong request cannot be retried: syntax, unknown table, credentials, a value of the wrong type', () => {
  for (const code of [codes.syntaxError, codes.invalid, codes.unauthorized, codes.configError, codes.badCredentials]) {
    assert.equal(isRetryable(new errors.ResponseError(code, 'x')), false, `code ${code}`);
  }
  assert.equal(isRetryable(new errors.ArgumentError('bad')), false);
  assert.equal(isRetryable(new TypeError('Not a valid bigint')), false);
});

test('storeError wraps a driver error as StoreUnavailableError and passes ours through', () => {
  const wrapped = storeError('write', new errors.ResponseError(codes.invalid, 'table trades does not exist'));
  assert.ok(wrapped instanceof StoreUnavailableError);
  assert.equal(wrapped.canRetry, false);
  assert.equal(wrapped.message, 'Cassandra store write failed: table trades does not exist');
  const ours = new MigrationError('m');
  assert.equal(storeError('write', ours), ours);
});

test('no host available reads as one line naming each node and its error', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9042\n    at TCPConnectWrap'), { code: 'ECONNREFUSED' });
  const error = new errors.NoHostAvailableError({ '127.0.0.1:9042': refused, '127.0.0.2:9042': 'gone' });
  assert.equal(
    describeDriverError(error),
    'no Cassandra node answered: 127.0.0.1:9042 (connect ECONNREFUSED 127.0.0.1:9042), 127.0.0.2:9042 (gone); is it running? (tickstream stack up cassandra)',
  );
  assert.equal(describeDriverError(new errors.NoHostAvailableError({}, 'Connecting after shutdown is not supported')), 'Connecting after shutdown is not supported');
});
