import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderPom } from '../../src/stack/pom.ts';
import { CASSANDRA_RELEASE, KAFKA_RELEASE } from '../../src/stack/versions.ts';

test('the Kafka pom lists the broker and a Log4j 2 backend for slf4j 1.x', () => {
  const pom = renderPom(KAFKA_RELEASE);
  assert.match(pom, /<artifactId>kafka_2\.13<\/artifactId>\s*<version>4\.\d+\.\d+<\/version>/);
  assert.match(pom, /<artifactId>log4j-slf4j-impl<\/artifactId>/);
  assert.match(pom, /<artifactId>log4j-core<\/artifactId>/);
  assert.match(pom, /<packaging>pom<\/packaging>/);
  assert.equal(pom.match(/<dependency>/g)?.length, KAFKA_RELEASE.artifacts.length);
});

test('the Cassandra pom pins a 5.0.x cassandra-all', () => {
  const pom = renderPom(CASSANDRA_RELEASE);
  assert.match(pom, /<artifactId>cassandra-all<\/artifactId>\s*<version>5\.0\.\d+<\/version>/);
});

test('values are XML-escaped', () => {
  const pom = renderPom({ name: 'x<y', version: '1&2', artifacts: [{ groupId: 'g"', artifactId: "a'", version: '1' }] });
  assert.ok(pom.includes('<artifactId>x&lt;y</artifactId>'));
  assert.ok(pom.includes('<version>1&amp;2</version>'));
  assert.ok(pom.includes('<groupId>g&quot;</groupId>'));
  assert.ok(pom.includes('<artifactId>a&apos;</artifactId>'));
});
