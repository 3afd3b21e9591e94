import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dashboardPart } from '../../src/cli/web-root.ts';

test('the start-up line names the dashboard, or the status page with how to build the dashboard', () => {
  assert.equal(dashboardPart('http://127.0.0.1:8080', '/app/web/dist/'), 'dashboard http://127.0.0.1:8080');
  assert.equal(dashboardPart('http://127.0.0.1:8080', undefined), 'status page http://127.0.0.1:8080 (the dashboard is not built: npm run build:web)');
  assert.equal(dashboardPart(undefined, undefined), undefined, 'a role without HTTP says nothing');
});
