import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  otherReplicationWarning,
  parseReplication,
  replicationCql,
  replicationFromSchema,
  replicationText,
  sameReplication,
  type KeyspaceReplication,
} from '../../src/store/keyspace-replication.ts';

const parsed = (text: string): KeyspaceReplication => {
  const r = parseReplication(text);
  assert.ok(r !== undefined, `${text} should parse`);
  return r;
};

test('an integer is SimpleStrategy with that factor', () => {
  assert.deepEqual(parseReplication('1'), { strategy: 'SimpleStrategy', factor: 1 });
  assert.deepEqual(parseReplication(' 3 '), { strategy: 'SimpleStrategy', factor: 3 });
  assert.deepEqual(parseReplication('10'), { strategy: 'SimpleStrategy', factor: 10 });
});

test('data center:factor pairs are NetworkTopologyStrategy, in the order given, spaces allowed', () => {
  assert.deepEqual(parseReplication('dc1:3,dc2:2'), {
    strategy: 'NetworkTopologyStrategy',
    factors: [
      { dataCenter: 'dc1', factor: 3 },
      { dataCenter: 'dc2', factor: 2 },
    ],
  });
  assert.deepEqual(parseReplication(' us-east-1 : 3 , eu_west.b:1 '), {
    strategy: 'NetworkTopologyStrategy',
    factors: [
      { dataCenter: 'us-east-1', factor: 3 },
      { dataCenter: 'eu_west.b', factor: 1 },
    ],
  });
  assert.deepEqual(parseReplication('datacenter1:1'), { strategy: 'NetworkTopologyStrategy', factors: [{ dataCenter: 'datacenter1', factor: 1 }] });
});

test('factors outside 1 to 10, bad data center names, repeats and mixed forms are refused', () => {
  for (const text of [
    '',
    ' ',
    '0',
    '11',
    '-1',
    '+3',
    '2.5',
    '1e1',
    'three',
    'dc1',
    'dc1:',
    ':3',
    'dc1:0',
    'dc1:11',
    'dc1:3:4',
    'dc1:3,',
    'dc1:3,,dc2:3',
    'dc1:3,dc1:2',
    '3,dc1:3',
    "dc'1:3",
    'dc 1:3',
    'dc}1:3',
    'class:3',
    'replication_factor:3',
    `${'d'.repeat(65)}:3`,
  ]) {
    assert.equal(parseReplication(text), undefined, JSON.stringify(text));
  }
  assert.ok(parseReplication(`${'d'.repeat(64)}:3`) !== undefined, 'a 64-character name is fine');
});

test('the CQL map names the strategy and the factors', () => {
  assert.equal(replicationCql(parsed('1')), "{'class': 'SimpleStrategy', 'replication_factor': 1}");
  assert.equal(replicationCql(parsed('3')), "{'class': 'SimpleStrategy', 'replication_factor': 3}");
  assert.equal(replicationCql(parsed('datacenter1:1')), "{'class': 'NetworkTopologyStrategy', 'datacenter1': 1}");
  assert.equal(replicationCql(parsed('dc1:3, dc2:2')), "{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}");
});

test('the text form round-trips without the spaces', () => {
  for (const text of ['1', '7', 'dc1:3,dc2:2', 'b:1,a:2']) assert.equal(replicationText(parsed(text)), text);
  assert.equal(replicationText(parsed(' dc1 : 3 , dc2:2 ')), 'dc1:3,dc2:2');
});

test("system_schema's replication map reads back, with or without the locator package", () => {
  assert.deepEqual(replicationFromSchema({ class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '1' }), parsed('1'));
  assert.deepEqual(replicationFromSchema({ class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', dc2: '2', dc1: '3' }), parsed('dc2:2,dc1:3'));
  assert.deepEqual(replicationFromSchema({ class: 'NetworkTopologyStrategy', datacenter1: '1' }), parsed('datacenter1:1'));
  for (const map of [
    { class: 'org.apache.cassandra.locator.LocalStrategy' },
    { class: 'org.apache.cassandra.locator.NetworkTopologyStrategy' },
    { class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', dc1: '3/1' },
    { class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '0' },
    { replication_factor: '1' },
  ]) {
    assert.equal(replicationFromSchema(map), undefined, JSON.stringify(map));
  }
});

test('replications are the same with the same strategy and factors, in any data center order', () => {
  assert.ok(sameReplication(parsed('dc1:3,dc2:2'), parsed('dc2:2,dc1:3')));
  assert.ok(sameReplication(parsed('3'), parsed('3')));
  assert.ok(!sameReplication(parsed('3'), parsed('2')));
  assert.ok(!sameReplication(parsed('1'), parsed('datacenter1:1')));
  assert.ok(!sameReplication(parsed('dc1:3'), parsed('dc1:3,dc2:3')));
  assert.ok(!sameReplication(parsed('dc1:3,dc2:2'), parsed('dc1:2,dc2:3')));
});

test('a keyspace with another replication gets one warning line saying it keeps it and how to change it', () => {
  const existing = { class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '1' };
  assert.equal(otherReplicationWarning('market', existing, parsed('1')), undefined);
  const warning = otherReplicationWarning('market', existing, parsed('dc1:3,dc2:3'));
  assert.equal(
    warning,
    'keyspace market keeps its replication 1 (SimpleStrategy), not cassandra.replication=dc1:3,dc2:3 (NetworkTopologyStrategy), which applies only when a migration creates the keyspace; ' +
      "to change it, run ALTER KEYSPACE market WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 3} and then nodetool repair --full on every node (src/store/README.md, \"Replication\")",
  );
  assert.ok(!warning.includes('\n'));
  const transient = otherReplicationWarning('market', { class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', dc1: '3/1' }, parsed('dc1:3'));
  assert.match(transient ?? '', /^keyspace market keeps its replication \{"class":"org\.apache\.cassandra\.locator\.NetworkTopologyStrategy","dc1":"3\/1"\}, not/);
});
