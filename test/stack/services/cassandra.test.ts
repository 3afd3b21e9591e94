import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/index.ts';
import { serviceEndpoints } from '../../../src/stack/service.ts';
import { cassandraJvmArgs, cassandraService, cassandraSettings, renderCassandraYaml, renderLogback, storagePortFor } from '../../../src/stack/services/cassandra.ts';

const config = (flags: Record<string, string> = {}) => loadConfig({ env: {}, flags, cwd: '/nonexistent' });

/** Top-level `key: value` pairs of the flat yaml we write. */
const topLevel = (yaml: string): Map<string, string> =>
  new Map(
    yaml
      .split('\n')
      .filter((l) => /^[a-z_]+:/.test(l))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );

test('cassandra.yaml is a single node on loopback with the configured CQL port and small memtables', () => {
  const yaml = renderCassandraYaml(cassandraSettings(config({ 'cassandra.contactPoints': '127.0.0.1:29042' }), "/data/it's"));
  const keys = topLevel(yaml);
  assert.equal(keys.get('listen_address'), '127.0.0.1');
  assert.equal(keys.get('rpc_address'), '127.0.0.1');
  assert.equal(keys.get('native_transport_port'), '29042');
  assert.equal(keys.get('storage_port'), '29043');
  assert.equal(keys.get('endpoint_snitch'), 'SimpleSnitch');
  assert.equal(keys.get('memtable_heap_space'), '128MiB');
  assert.equal(keys.get('memtable_allocation_type'), 'offheap_objects');
  assert.equal(keys.get('commitlog_sync'), 'periodic', 'the default durability');
  assert.match(yaml, /^memtable:\n {2}configurations:\n(?: {4}.*\n)*? {4}trie:\n {6}class_name: TrieMemtable\n(?: {4}.*\n)*? {4}default:\n {6}inherits: trie\n/m, 'tables get the trie memtable');
  assert.equal(keys.get('commitlog_directory'), "'/data/it''s/data/commitlog'", 'paths are quoted for YAML');
  assert.match(yaml, /seeds: "127\.0\.0\.1:29043"/);
  assert.equal(new Set(yaml.split('\n').filter((l) => /^[a-z_]+:/.test(l)).map((l) => l.split(':')[0])).size, keys.size, 'no key twice');
});

test('the default CQL port keeps Cassandra\'s storage port 7000', () => {
  assert.equal(storagePortFor(9042), 7000);
  assert.deepEqual(serviceEndpoints(cassandraService, config()).map((e) => e.port), [9042, 7000]);
});

test('the JVM gets a 1 GiB heap, the jamm agent, the Java 17 module openings and our config', () => {
  const args = cassandraJvmArgs({ dir: '/d', libDir: '/lib', jammJar: '/lib/jamm-0.4.0.jar' });
  assert.ok(args.includes('-Xmx1g') && args.includes('-Xms1g'));
  assert.ok(args.includes('-javaagent:/lib/jamm-0.4.0.jar'));
  assert.ok(args.includes('-Dcassandra.config=file:///d/conf/cassandra.yaml'));
  assert.ok(args.includes('-Dcassandra-foreground=yes'));
  const opens = args.flatMap((a, i) => (a === '--add-opens' ? [args[i + 1]] : []));
  assert.ok(opens.includes('java.base/java.lang=ALL-UNNAMED'));
  assert.ok(opens.includes('java.base/jdk.internal.ref=ALL-UNNAMED'));
  assert.equal(args.at(-1), 'org.apache.cassandra.service.CassandraDaemon');
  assert.equal(args.at(-2), '/d/conf:/lib/*');
});

test('logback logs INFO to stdout', () => {
  assert.match(renderLogback(), /<root level="INFO">/);
});
