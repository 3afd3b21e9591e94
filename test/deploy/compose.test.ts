import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CONFIG_KEYS, CONFIG_FIELDS, envName } from '../../src/config/index.ts';
import { CASSANDRA_RELEASE, KAFKA_RELEASE, SPARK_VERSION } from '../../src/stack/versions.ts';
import { composeModel, GENERATED, IMAGES, renderCompose, sparkPackages, toYaml, type ComposeService } from '../../scripts/deploy.ts';

const model = composeModel();
const services = Object.entries(model.services);

/**
 * What each pinned image is known to contain, for the healthchecks: an image's binaries are
 * knowable from its Dockerfile. Images not listed here get no healthcheck.
 */
const IMAGE_BINARIES: Readonly<Record<string, readonly string[]>> = {
  [IMAGES.kafka]: ['/bin/sh', '/opt/kafka/bin/kafka-broker-api-versions.sh', '/opt/kafka/bin/kafka-topics.sh'],
  [IMAGES.cassandra]: ['/bin/sh', 'bash', 'cqlsh', 'nodetool'],
  // Ubuntu-based with a JRE: bash, but no curl or wget for certain.
  [IMAGES.spark]: ['/bin/sh', 'bash', '/opt/spark/bin/spark-class', '/opt/spark/sbin/start-connect-server.sh'],
  // node:20-slim (Debian): node and sh, no curl or wget.
  [IMAGES.tickstream]: ['/bin/sh', 'node'],
  // busybox-based and Alpine-based: busybox wget.
  [IMAGES.prometheus]: ['/bin/sh', 'wget'],
  [IMAGES.grafana]: ['/bin/sh', 'wget'],
};

test('the committed deploy files are what scripts/deploy.ts generates', () => {
  for (const { path, render } of GENERATED) {
    assert.equal(readFileSync(path, 'utf8'), render(), `${path} is stale: run npm run deploy:generate`);
  }
});

test('every service has an image, and the tickstream ones a build of the repo Dockerfile', () => {
  for (const [name, s] of services) {
    assert.ok(s.image !== '' || s.build !== undefined, `${name} has neither image nor build`);
    assert.match(s.image, /^[a-z0-9./-]+:[A-Za-z0-9._-]+$/, `${name}: image ${s.image} is not pinned to a tag`);
    assert.doesNotMatch(s.image, /:latest$/, `${name} uses :latest`);
    if (s.image === IMAGES.tickstream) assert.deepEqual(s.build, { context: '..', dockerfile: 'Dockerfile' }, name);
  }
});

test('images follow the versions the stack launcher pins', () => {
  assert.equal(model.services.kafka?.image, `apache/kafka:${KAFKA_RELEASE.version}`);
  assert.equal(model.services.cassandra?.image, `cassandra:${CASSANDRA_RELEASE.version}`);
  for (const name of ['spark-master', 'spark-worker-1', 'spark-worker-2', 'spark-connect']) {
    assert.ok(model.services[name]?.image.startsWith(`apache/spark:${SPARK_VERSION}-`), name);
  }
  assert.match(IMAGES.grafana, /^grafana\/grafana:11\.\d+\.\d+$/);
  for (const p of sparkPackages()) assert.match(p, /^[\w.]+:[\w.-]+:\d+\.\d+\.\d+$/);
  assert.ok(sparkPackages().some((p) => p.includes(`spark-connect_2.12:${SPARK_VERSION}`)));
});

test('Kafka runs in KRaft mode and no ZooKeeper is anywhere', () => {
  assert.equal(model.services.kafka?.environment?.KAFKA_PROCESS_ROLES, 'broker,controller');
  assert.doesNotMatch(renderCompose(), /zookeeper/i);
});

test('host ports do not collide', () => {
  const seen = new Map<string, string>();
  for (const [name, s] of services) {
    for (const mapping of s.ports ?? []) {
      const parts = mapping.split(':');
      assert.ok(parts.length === 2 || parts.length === 3, `${name}: ${mapping}`);
      const host = parts.length === 3 ? `${parts[0]}:${parts[1]}` : parts[0]!;
      assert.equal(seen.get(host), undefined, `host port ${host} of ${name} is also used by ${seen.get(host)}`);
      seen.set(host, name);
    }
  }
  assert.ok(seen.size >= 8);
});

test('every TICKSTREAM_ variable a service sets is a known config key, with a value the config accepts', () => {
  const byEnv = new Map(CONFIG_KEYS.map((key) => [envName(key), key] as const));
  const extra = new Set(CONFIG_KEYS.flatMap((key) => CONFIG_FIELDS[key].extraEnv ?? []));
  for (const [name, s] of services) {
    for (const [variable, value] of Object.entries(s.environment ?? {})) {
      if (variable.startsWith('TICKSTREAM_')) {
        const key = byEnv.get(variable);
        assert.ok(key !== undefined, `${name}: ${variable} is not a config key`);
        // parse() answers the `invalid` symbol for a value the config would reject at start.
        assert.notEqual(typeof CONFIG_FIELDS[key].parse(value), 'symbol', `${name}: ${variable}=${value} is not allowed: ${CONFIG_FIELDS[key].allowed}`);
      } else if (s.image === IMAGES.tickstream) {
        assert.ok(extra.has(variable), `${name}: ${variable} is read by nothing in tickstream`);
      }
    }
  }
});

test('healthcheck commands exist in their images', () => {
  let checked = 0;
  for (const [name, s] of services) {
    if (s.healthcheck === undefined) continue;
    const [kind, binary] = s.healthcheck.test;
    assert.equal(kind, 'CMD', `${name}: exec form, so the binary is looked up directly`);
    const known = IMAGE_BINARIES[s.image];
    assert.ok(known !== undefined, `${name}: no table of binaries for ${s.image}; add one or drop the healthcheck`);
    assert.ok(known.includes(binary!), `${name}: ${binary} is not known to be in ${s.image}`);
    checked++;
  }
  // The programs services start by path: the entrypoint, or the first word of each step of a shell script.
  for (const [name, s] of services) {
    const known = IMAGE_BINARIES[s.image];
    if (known === undefined) continue;
    const shell = s.entrypoint?.[0] === '/bin/sh';
    const programs = shell
      ? [s.entrypoint![0]!, ...(s.command?.[0] ?? '').split('&&').map((step) => step.trim().split(' ')[0]!)]
      : [s.entrypoint?.[0], s.command?.[0]];
    for (const program of programs) {
      if (program?.startsWith('/') && !program.startsWith('/data')) assert.ok(known.includes(program), `${name}: ${program} is not known to be in ${s.image}`);
    }
  }
  assert.ok(checked >= 10, `${checked} healthchecks`);
});

test('depends_on names services, waits on health only where there is a healthcheck, and on completion only for one-shots', () => {
  for (const [name, s] of services) {
    for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
      const target: ComposeService | undefined = model.services[dep];
      assert.ok(target !== undefined, `${name} depends on unknown ${dep}`);
      if (condition === 'service_healthy') assert.ok(target.healthcheck !== undefined, `${name} waits for ${dep} to be healthy, but it has no healthcheck`);
      if (condition === 'service_completed_successfully') assert.equal(target.restart, 'no', `${name} waits for ${dep} to complete, but it restarts`);
    }
  }
});

test('named volumes are declared and every declared one is used', () => {
  const used = new Set<string>();
  for (const [name, s] of services) {
    for (const v of s.volumes ?? []) {
      const source = v.split(':')[0]!;
      if (source.startsWith('.') || source.startsWith('/')) continue;
      assert.ok(source in model.volumes, `${name}: volume ${source} is not declared`);
      used.add(source);
    }
  }
  assert.deepEqual([...used].sort(), Object.keys(model.volumes).sort());
});

test('the producer streams from Finnhub only when FINNHUB_TOKEN is given, and the roles run their commands', () => {
  const producer = model.services.producer!;
  assert.deepEqual(producer.command, ['produce']);
  assert.equal(producer.environment?.FINNHUB_TOKEN, '${FINNHUB_TOKEN:-}');
  assert.equal(producer.environment?.TICKSTREAM_SOURCE, undefined, 'source stays auto');
  assert.deepEqual(model.services.processor?.command, ['process', '--engine', 'spark']);
  assert.deepEqual(model.services.dashboard?.command, ['serve']);
  assert.deepEqual(model.services.migrate?.command, ['migrate']);
});

test('the YAML writer quotes what needs quoting', () => {
  assert.equal(toYaml({ a: ['x: y', 1], 'b c': {} }), '\na:\n  - "x: y"\n  - 1\n"b c": {}\n');
});
