import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';

/** A package laid out like this one: bin/, a built dist/ and the src/ it was built from. */
function fakePackage(t: TestContext): { root: string; dist: string; src: string } {
  const root = mkdtempSync(join(tmpdir(), 'tickstream-bin-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'bin'));
  copyFileSync('bin/tickstream.js', join(root, 'bin', 'tickstream.js'));
  symlinkSync(resolve('node_modules'), join(root, 'node_modules'));
  writeFileSync(join(root, 'package.json'), '{"type":"module"}');
  const dist = join(root, 'dist', 'cli', 'main.js');
  const src = join(root, 'src', 'cli', 'main.ts');
  mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
  mkdirSync(join(root, 'src', 'cli'), { recursive: true });
  writeFileSync(dist, "process.stdout.write('from dist\\n');\n");
  writeFileSync(src, "const where: string = 'src';\nprocess.stdout.write(`from ${where}\\n`);\n");
  return { root, dist, src };
}

const run = (root: string) => spawnSync(process.execPath, [join(root, 'bin', 'tickstream.js')], { encoding: 'utf8', timeout: 60_000 });

test('bin runs the build when it is newer than every source', (t) => {
  const { root, src } = fakePackage(t);
  utimesSync(src, new Date('2020-01-01'), new Date('2020-01-01'));
  const r = run(root);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'from dist\n');
  assert.equal(r.stderr, '');
});

test('bin runs the sources, saying so, when a source changed after the build', (t) => {
  const { root, dist } = fakePackage(t);
  utimesSync(dist, new Date('2020-01-01'), new Date('2020-01-01'));
  const r = run(root);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'from src\n');
  assert.equal(r.stderr, 'tickstream: dist/ is older than src/ (npm run build to refresh it); running the sources\n');
});
