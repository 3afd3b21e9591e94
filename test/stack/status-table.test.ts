import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderStatusTable } from '../../src/stack/status-table.ts';

test('the status table has a header and one aligned row per service', () => {
  const text = renderStatusTable([
    { service: 'kafka', ports: [9092, 9093], pid: 1234, health: 'healthy', version: '4.4.0', detail: 'cluster abc, 1 broker' },
    { service: 'cassandra', ports: [9042, 7000], pid: undefined, health: 'stopped', version: '5.0.8', detail: 'not running' },
  ]);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0] ?? '', /^SERVICE\s+PORT\s+PID\s+HEALTH\s+VERSION\s+DETAIL$/);
  assert.match(lines[1] ?? '', /^kafka\s+9092,9093\s+1234\s+healthy\s+4\.4\.0\s+cluster abc, 1 broker$/);
  assert.match(lines[2] ?? '', /^cassandra\s+9042,7000\s+-\s+stopped\s+5\.0\.8\s+not running$/);
  const column = (line: string, word: string): number => line.indexOf(word);
  assert.equal(column(lines[0] ?? '', 'HEALTH'), column(lines[1] ?? '', 'healthy'));
  assert.equal(column(lines[0] ?? '', 'HEALTH'), column(lines[2] ?? '', 'stopped'));
});
