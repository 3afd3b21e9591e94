import { dashboardChecks, CHECK_FLAGS } from './dashboard-checks.ts';
import { startDashboard } from './dashboard-harness.ts';

dashboardChecks('dashboard in a real browser', {
  start: () => startDashboard(CHECK_FLAGS),
  screenshot: 'test-results/dashboard.png',
  docsScreenshot: 'docs/dashboard.png',
});
