import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StackPrerequisiteError } from '../../src/errors.ts';
import { checkPrerequisites, parseJavaVersion, parseMavenVersion, type CommandRunner } from '../../src/stack/prerequisites.ts';

const JAVA_17 = 'openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)\n';
const MAVEN = '\u001b[1mApache Maven 3.8.7\u001b[m\nMaven home: /usr/share/maven\n';

/** A runner that answers from a table keyed by command name; absent commands are not found. */
function fakeRunner(outputs: Record<string, string>, calls: string[] = []): CommandRunner {
  return async (command) => {
    calls.push(command);
    const output = outputs[command];
    return output === undefined ? 'not-found' : { code: 0, output };
  };
}

test('java versions are read in both the old and the new scheme', () => {
  assert.deepEqual(parseJavaVersion(JAVA_17), { version: '17.0.15', feature: 17 });
  assert.deepEqual(parseJavaVersion('java version "1.8.0_292"'), { version: '1.8.0_292', feature: 8 });
  assert.deepEqual(parseJavaVersion('openjdk version "21" 2023-09-19'), { version: '21', feature: 21 });
  assert.equal(parseJavaVersion('command not found'), undefined);
});

test('the Maven version is read through colour codes', () => {
  assert.equal(parseMavenVersion(MAVEN), '3.8.7');
  assert.equal(parseMavenVersion('nothing'), undefined);
});

test('Java 17 and Maven present: both versions are reported, no warning', async () => {
  const p = await checkPrerequisites({}, fakeRunner({ java: JAVA_17, mvn: MAVEN }));
  assert.equal(p.javaVersion, '17.0.15');
  assert.equal(p.mavenVersion, '3.8.7');
  assert.deepEqual(p.warnings, []);
});

test('JAVA_HOME chooses which java runs', async () => {
  const calls: string[] = [];
  const p = await checkPrerequisites({ JAVA_HOME: '/opt/jdk17' }, fakeRunner({ '/opt/jdk17/bin/java': JAVA_17, mvn: MAVEN }, calls));
  assert.equal(p.java, '/opt/jdk17/bin/java');
  assert.deepEqual(calls, ['/opt/jdk17/bin/java', 'mvn']);
});

test('missing java is one line saying how to install it', async () => {
  await assert.rejects(checkPrerequisites({}, fakeRunner({ mvn: MAVEN })), (error: unknown) => {
    assert.ok(error instanceof StackPrerequisiteError);
    assert.equal(error.code, 'TICKSTREAM_STACK_PREREQUISITE_MISSING');
    assert.ok(!error.message.includes('\n'), 'one line');
    assert.match(error.message, /Java 17/);
    assert.match(error.message, /apt-get install openjdk-17-jdk-headless/);
    return true;
  });
});

test('java older than 17 is refused with its version in the message', async () => {
  await assert.rejects(checkPrerequisites({}, fakeRunner({ java: 'openjdk version "11.0.2"', mvn: MAVEN })), /version 11\.0\.2.*install/);
});

test('missing Maven is one line saying how to install it', async () => {
  await assert.rejects(checkPrerequisites({}, fakeRunner({ java: JAVA_17 })), (error: unknown) => {
    assert.ok(error instanceof StackPrerequisiteError);
    assert.ok(!error.message.includes('\n'));
    assert.match(error.message, /Maven.*`mvn` was not found.*apt-get install maven/);
    return true;
  });
});

test('a newer Java works but warns that Cassandra 5.0 wants 17', async () => {
  const p = await checkPrerequisites({}, fakeRunner({ java: 'openjdk version "21.0.1"', mvn: MAVEN }));
  assert.equal(p.warnings.length, 1);
  assert.match(p.warnings[0] ?? '', /Cassandra 5\.0/);
});
