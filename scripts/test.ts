// Runs node:test over the project's test files (Node 20's --test takes no glob patterns).
// Usage: node --import tsx scripts/test.ts [unit|e2e|integration] [extra node --test flags]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const SUITES = {
  unit: { suffix: '.test.ts', skip: ['test/integration', 'test/e2e'] },
  e2e: { suffix: '.e2e.ts', skip: [] },
  integration: { suffix: '.it.ts', skip: [] },
} as const;

const [suiteName = 'unit', ...extra] = process.argv.slice(2);
if (!(suiteName in SUITES)) {
  process.stderr.write(`unknown test suite "${suiteName}"; expected one of ${Object.keys(SUITES).join(', ')}\n`);
  process.exit(2);
}
const suite = SUITES[suiteName as keyof typeof SUITES];
const root = new URL('..', import.meta.url).pathname;

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const rel = relative(root, path);
    if (statSync(path).isDirectory()) {
      if (!(suite.skip as readonly string[]).includes(rel)) out.push(...walk(path));
    } else if (name.endsWith(suite.suffix)) {
      out.push(rel);
    }
  }
  return out;
}

const files = walk(join(root, 'test'));
if (files.length === 0) {
  process.stderr.write(`no ${suite.suffix} files under test/\n`);
  process.exit(1);
}
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...extra, ...files], {
  cwd: root,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
