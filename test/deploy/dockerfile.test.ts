import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

/** The image's ENTRYPOINT, in its exec (JSON array) form. */
function entrypoint(): string[] {
  const line = readFileSync('Dockerfile', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ENTRYPOINT '));
  assert.ok(line !== undefined, 'the Dockerfile has no ENTRYPOINT');
  const parsed: unknown = JSON.parse(line.slice('ENTRYPOINT '.length));
  assert.ok(Array.isArray(parsed) && parsed.every((p) => typeof p === 'string'), `ENTRYPOINT is not an exec array: ${line}`);
  return parsed as string[];
}

test('the image starts the compiled CLI with node options that node accepts', () => {
  const [node, ...rest] = entrypoint();
  assert.equal(node, 'node');
  const script = rest.at(-1);
  assert.equal(script, 'dist/cli/main.js');
  // tsc maps src/ to dist/ (tsconfig.build.json), so the script is the build of this file.
  assert.ok(existsSync('src/cli/main.ts'));
  const options = rest.slice(0, -1);
  assert.ok(options.includes('--max-semi-space-size=64'), `the roles run with larger semi-spaces (README): ${options.join(' ')}`);
  // A misspelt or removed option would stop every container at start.
  const run = spawnSync(process.execPath, [...options, '-e', 'process.exit(0)'], { encoding: 'utf8' });
  assert.equal(run.status, 0, `node refused ${options.join(' ')}: ${run.stderr}`);
});
