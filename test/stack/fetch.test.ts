import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { StackStartError } from '../../src/errors.ts';
import { componentCacheDir, ensureComponent, MavenOutputSummary, stackCacheRoot } from '../../src/stack/fetch.ts';
import type { ComponentRelease } from '../../src/stack/versions.ts';

const RELEASE: ComponentRelease = { name: 'demo', version: '1.2.3', artifacts: [{ groupId: 'org.example', artifactId: 'demo', version: '1.2.3' }] };

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-fetch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A stand-in for `mvn`: records each call, prints Maven-style transfer lines and
 * copies two jars into -DoutputDirectory, or fails like Maven when told to.
 */
function fakeMaven(dir: string, fail = false): { mvn: string; calls: () => number } {
  const log = join(dir, 'calls.log');
  const mvn = join(dir, 'mvn');
  writeFileSync(
    mvn,
    `#!/bin/sh
echo call >> "${log}"
out=""
for a in "$@"; do case "$a" in -DoutputDirectory=*) out="\${a#-DoutputDirectory=}";; esac; done
echo "[INFO] Downloading from central: https://repo/x/a.jar"
echo "[INFO] Downloaded from central: https://repo/x/a.jar (1.5 MB at 3 MB/s)"
echo "[INFO] Downloaded from central: https://repo/x/b.pom (12 kB at 1 MB/s)"
${fail ? 'echo "[ERROR] Failed to execute goal: could not resolve org.example:demo:1.2.3"; exit 1' : 'mkdir -p "$out" && touch "$out/a-1.jar" "$out/b-2.jar"'}
`,
  );
  chmodSync(mvn, 0o755);
  return { mvn, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0) };
}

test('the cache root follows XDG_CACHE_HOME when it is an absolute path', () => {
  assert.equal(stackCacheRoot({ XDG_CACHE_HOME: '/var/cache/me' }, '/home/u'), '/var/cache/me/tickstream');
  assert.equal(stackCacheRoot({}, '/home/u'), '/home/u/.cache/tickstream');
  assert.equal(stackCacheRoot({ XDG_CACHE_HOME: 'relative' }, '/home/u'), '/home/u/.cache/tickstream', 'the spec ignores relative paths');
});

test('Maven transfer lines are summarised as a count and a size; ERROR lines are kept', () => {
  const s = new MavenOutputSummary();
  assert.match(s.describe(true), /nothing downloaded/);
  assert.equal(s.describe(false), 'resolving');
  for (const line of [
    '[INFO] Downloading from central: https://repo/a.jar',
    '[INFO] Downloaded from central: https://repo/a.jar (2.5 MB at 1 MB/s)',
    '[INFO] Downloaded from central: https://repo/a.pom (500 B at 1 kB/s)',
    '[ERROR] Failed to execute goal',
  ])
    s.add(line);
  assert.equal(s.files, 2);
  assert.equal(s.bytes, 2_500_500);
  assert.deepEqual(s.errors, ['Failed to execute goal']);
  assert.equal(s.describe(true), '2 files downloaded, 2.5 MB');
});

test('the first fetch runs Maven and leaves a marker; the second touches nothing', async (t) => {
  const dir = tempDir(t);
  const { mvn, calls } = fakeMaven(dir);
  const lines: string[] = [];
  const options = { cacheRoot: join(dir, 'cache'), mvn, env: process.env, progress: (l: string) => lines.push(l) };

  const first = await ensureComponent(RELEASE, options);
  assert.equal(first.fetched, true);
  assert.deepEqual(first.jars, ['a-1.jar', 'b-2.jar']);
  assert.equal(first.libDir, join(componentCacheDir(options.cacheRoot, RELEASE), 'lib'));
  assert.equal(first.classpath, join(first.libDir, '*'));
  assert.ok(existsSync(join(dir, 'cache', 'demo-1.2.3', 'pom.xml')));
  assert.equal(calls(), 1);
  assert.match(lines.at(-1) ?? '', /^demo 1\.2\.3: 2 jars ready in \d+\.\ds \(2 files downloaded, 1\.5 MB\)$/);

  lines.length = 0;
  const second = await ensureComponent(RELEASE, options);
  assert.equal(second.fetched, false);
  assert.deepEqual(second.jars, first.jars);
  assert.equal(calls(), 1, 'Maven not run again');
  assert.deepEqual(lines, []);
});

test('a changed pom for the same version is fetched again', async (t) => {
  const dir = tempDir(t);
  const { mvn, calls } = fakeMaven(dir);
  const options = { cacheRoot: join(dir, 'cache'), mvn, env: process.env, progress: () => undefined };
  await ensureComponent(RELEASE, options);
  const more: ComponentRelease = { ...RELEASE, artifacts: [...RELEASE.artifacts, { groupId: 'org.example', artifactId: 'extra', version: '1' }] };
  assert.equal((await ensureComponent(more, options)).fetched, true);
  assert.equal(calls(), 2);
});

test('a failed Maven run is a StackStartError with Maven\'s errors, and leaves no marker', async (t) => {
  const dir = tempDir(t);
  const { mvn } = fakeMaven(dir, true);
  const options = { cacheRoot: join(dir, 'cache'), mvn, env: process.env, progress: () => undefined };
  await assert.rejects(ensureComponent(RELEASE, options), (error: unknown) => {
    assert.ok(error instanceof StackStartError);
    assert.match(error.message, /fetching demo 1\.2\.3 with Maven failed \(exit 1\)/);
    assert.match(error.message, /could not resolve org\.example:demo:1\.2\.3/);
    return true;
  });
  assert.equal(existsSync(join(dir, 'cache', 'demo-1.2.3', '.complete')), false);
});
