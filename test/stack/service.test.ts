import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SERVICES } from '../../src/stack/registry.ts';
import { PROCESS_NAMES, SERVICE_NAMES } from '../../src/stack/service.ts';

test('the process names stack logs lists are those of the service definitions', () => {
  for (const name of SERVICE_NAMES) {
    assert.deepEqual(PROCESS_NAMES[name], SERVICES[name].processes.map((p) => p.name), name);
  }
});
