// The replication of the Cassandra keyspace, as `cassandra.replication` spells it. It sits
// beside the store interface rather than in cassandra/ so that config/ can validate the key
// without loading the driver.

/** How many copies of each row Cassandra keeps: in the cluster as a whole, or per data center. */
export type KeyspaceReplication =
  | { readonly strategy: 'SimpleStrategy'; readonly factor: number }
  | { readonly strategy: 'NetworkTopologyStrategy'; readonly factors: readonly DataCenterFactor[] };

export interface DataCenterFactor {
  readonly dataCenter: string;
  readonly factor: number;
}

/** One copy on one node: what the single node of `tickstream stack` can hold. */
export const DEFAULT_REPLICATION = '1';

/** More copies than a data center should keep; a larger number is more likely a typo (30 for 3). */
export const MAX_REPLICATION_FACTOR = 10;

/**
 * Data center names as snitches give them (datacenter1, us-east-1, eu-west_1, DC1.a). Cassandra
 * sets no rule of its own; leaving out quotes, spaces, commas and colons keeps the CQL map and
 * this notation unambiguous. `class` and `replication_factor` are option names, not data centers.
 */
const DATA_CENTER = /^[A-Za-z0-9_.-]{1,64}$/;
const RESERVED = new Set(['class', 'replication_factor']);
const FACTOR = /^\d{1,2}$/;
const LOCATOR = 'org.apache.cassandra.locator.';

export const REPLICATION_ALLOWED =
  `a replication factor from 1 to ${MAX_REPLICATION_FACTOR} (SimpleStrategy), or data centers with their factors such as dc1:3,dc2:3 ` +
  '(NetworkTopologyStrategy; each name 1-64 letters, digits, "_", "-" or ".", given once)';

function factorOf(text: string): number | undefined {
  if (!FACTOR.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= MAX_REPLICATION_FACTOR ? n : undefined;
}

/** `3` → SimpleStrategy, factor 3; `dc1:3,dc2:3` → NetworkTopologyStrategy. Undefined when the text is neither. */
export function parseReplication(text: string): KeyspaceReplication | undefined {
  const trimmed = text.trim();
  if (!trimmed.includes(':')) {
    const factor = factorOf(trimmed);
    return factor === undefined ? undefined : { strategy: 'SimpleStrategy', factor };
  }
  const factors: DataCenterFactor[] = [];
  for (const item of trimmed.split(',')) {
    const [name, count, ...rest] = item.split(':').map((part) => part.trim());
    if (name === undefined || count === undefined || rest.length > 0) return undefined;
    const factor = factorOf(count);
    if (!DATA_CENTER.test(name) || RESERVED.has(name) || factor === undefined) return undefined;
    if (factors.some((f) => f.dataCenter === name)) return undefined;
    factors.push({ dataCenter: name, factor });
  }
  return { strategy: 'NetworkTopologyStrategy', factors };
}

/** The notation back: `3` or `dc1:3,dc2:3`, data centers in the order given. */
export function replicationText(r: KeyspaceReplication): string {
  switch (r.strategy) {
    case 'SimpleStrategy':
      return String(r.factor);
    case 'NetworkTopologyStrategy':
      return r.factors.map((f) => `${f.dataCenter}:${f.factor}`).join(',');
    default: {
      const never: never = r;
      throw new Error(`unknown replication ${String(never)}`);
    }
  }
}

/** The CQL map of `CREATE KEYSPACE ... WITH replication = <map>`. */
export function replicationCql(r: KeyspaceReplication): string {
  switch (r.strategy) {
    case 'SimpleStrategy':
      return `{'class': 'SimpleStrategy', 'replication_factor': ${r.factor}}`;
    case 'NetworkTopologyStrategy':
      return `{'class': 'NetworkTopologyStrategy', ${r.factors.map((f) => `'${f.dataCenter}': ${f.factor}`).join(', ')}}`;
    default: {
      const never: never = r;
      throw new Error(`unknown replication ${String(never)}`);
    }
  }
}

/**
 * A keyspace's replication as `system_schema.keyspaces` holds it
 * (`{class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '1'}`), or
 * undefined when this notation cannot say it: another strategy, transient replicas (`3/1`), a
 * factor out of range.
 */
export function replicationFromSchema(map: Readonly<Record<string, string>>): KeyspaceReplication | undefined {
  const { class: name = '', ...options } = map;
  const strategy = name.startsWith(LOCATOR) ? name.slice(LOCATOR.length) : name;
  const entries = Object.entries(options);
  if (strategy === 'SimpleStrategy') {
    const factor = entries.length === 1 && entries[0]![0] === 'replication_factor' ? factorOf(entries[0]![1]) : undefined;
    return factor === undefined ? undefined : { strategy, factor };
  }
  if (strategy !== 'NetworkTopologyStrategy' || entries.length === 0) return undefined;
  const factors: DataCenterFactor[] = [];
  for (const [dataCenter, count] of entries) {
    const factor = factorOf(count);
    if (factor === undefined || RESERVED.has(dataCenter)) return undefined;
    factors.push({ dataCenter, factor });
  }
  return { strategy, factors };
}

/** Same strategy and factors; the order of data centers does not matter. */
export function sameReplication(a: KeyspaceReplication, b: KeyspaceReplication): boolean {
  const sorted = (r: KeyspaceReplication): string =>
    r.strategy === 'SimpleStrategy' ? `simple ${r.factor}` : `nts ${[...r.factors].sort((x, y) => (x.dataCenter < y.dataCenter ? -1 : 1)).map((f) => `${f.dataCenter}:${f.factor}`).join(',')}`;
  return sorted(a) === sorted(b);
}

function described(r: KeyspaceReplication): string {
  return `${replicationText(r)} (${r.strategy})`;
}

/**
 * The warning for a keyspace that exists with a replication other than the one configured,
 * which `CREATE KEYSPACE IF NOT EXISTS` leaves as it is; undefined when they agree.
 */
export function otherReplicationWarning(keyspace: string, existing: Readonly<Record<string, string>>, wanted: KeyspaceReplication): string | undefined {
  const has = replicationFromSchema(existing);
  if (has !== undefined && sameReplication(has, wanted)) return undefined;
  const shown = has === undefined ? JSON.stringify(existing) : described(has);
  return (
    `keyspace ${keyspace} keeps its replication ${shown}, not cassandra.replication=${described(wanted)}, which applies only when a migration creates the keyspace; ` +
    `to change it, run ALTER KEYSPACE ${keyspace} WITH replication = ${replicationCql(wanted)} and then nodetool repair --full on every node (src/store/README.md, "Replication")`
  );
}
