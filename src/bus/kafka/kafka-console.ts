import {
  Admin,
  ConfigResourceTypes,
  ConfigSources,
  Consumer,
  createAPI,
  FindCoordinatorKeyTypes,
  Writer,
  type ClusterMetadata,
  type Group,
  type GroupMember,
  type Reader,
  type RecordsBatch,
} from '@platformatic/kafka';
import { toTradeRecord } from '../../domain/index.ts';
import { BusUnavailableError, InputError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/index.ts';
import { topicRole, TOPICS, type PipelineTopics } from '../bus.ts';
import { clientBase, closeClient, findKafkaError, isKafkaApiError, messageOf, type KafkaConnection } from './kafka-options.ts';
import { createTopicUnlessExists } from './kafka-topics.ts';
import type {
  KafkaClusterInfo,
  KafkaGroupInfo,
  KafkaGroupPartition,
  KafkaLogBounds,
  KafkaMadeTopic,
  KafkaMessage,
  KafkaMessagePage,
  KafkaMessageQuery,
  KafkaNewTopic,
  KafkaPartitionInfo,
  KafkaProgress,
  KafkaTopicInfo,
  KafkaValueFormat,
} from './kafka-console-wire.ts';
import { plainValue, textOrBase64 } from './message-values.ts';
import { walkRecords } from './record-batches.ts';
import { createTradeCodec, type TradeCodec } from './trade-codec.ts';


export interface KafkaConsoleOptions extends KafkaConnection {
  /** The pipeline's topics (default `market.trades` and its side topics): each topic's `role` says which one it is, and the trades topic's values are decoded as trades. */
  readonly topics?: PipelineTopics;
  /** More topics whose values are trades (Avro, or JSON for debugging). */
  readonly tradeTopics?: readonly string[];
  /** Most bytes of keys and values one page of the message browser holds (MESSAGE_BYTES unless given). */
  readonly messageBytes?: number;
  readonly logger?: Logger;
}

export const MESSAGE_LIMIT = 100;
/**
 * Most bytes of keys and values (as sent: text, or base64) in one page of the message browser:
 * 100 records near 1 MiB, base64, would be a reply of 130 MB. "The newest" keeps the newest that
 * fit; a page from an offset or a time ends early, and the next page starts after its last.
 */
export const MESSAGE_BYTES = 32 * 1024 * 1024;
const FETCH_ROUNDS = 20;
const SETTLE_MS = 5_000;
const EARLIEST = -2n;
const LATEST = -1n;
const LOG_APPEND_TIME = 1 << 3;
/** Broker answers that mean the request itself was wrong: shown to the user as a 400. */
const INPUT_ERRORS = ['INVALID_TOPIC_EXCEPTION', 'INVALID_PARTITIONS', 'INVALID_REPLICATION_FACTOR', 'INVALID_CONFIG', 'POLICY_VIOLATION', 'INVALID_REQUEST'];

type Client = Consumer<Buffer, Buffer, Buffer, Buffer>;

/**
 * What Kafdrop shows, read through the admin protocol: brokers, topics with their offsets,
 * size and config, consumer groups with their lag, a record browser, and topic create and
 * delete. Every failure to reach the cluster is a BusUnavailableError; a request the broker
 * refuses as invalid is an InputError; an unknown topic is `undefined` (or `false`).
 */
export class KafkaConsole {
  readonly #connection: KafkaConnection;
  readonly #topics: PipelineTopics;
  readonly #tradeTopics: ReadonlySet<string>;
  readonly #messageBytes: number;
  readonly #codecs: readonly TradeCodec[];
  readonly #log: Logger;
  readonly #admin: Admin;
  #reader: Client | undefined;
  #closed = false;

  constructor(options: KafkaConsoleOptions) {
    this.#connection = options;
    this.#topics = options.topics ?? TOPICS;
    this.#tradeTopics = new Set([this.#topics.trades, ...(options.tradeTopics ?? [])]);
    this.#messageBytes = options.messageBytes ?? MESSAGE_BYTES;
    this.#codecs = [createTradeCodec('avro'), createTradeCodec('json')];
    this.#log = options.logger ?? silentLogger;
    this.#admin = new Admin(clientBase(options, 'console'));
  }

  async brokers(): Promise<KafkaClusterInfo> {
    return this.#call('describing the cluster', async () => {
      const metadata = await this.#admin.metadata({ topics: [], forceUpdate: true });
      const metadataVersion = await this.#metadataVersion([...metadata.brokers.values()][0]).catch((error: unknown) => {
        this.#log.debug('ApiVersions features unavailable', { error: messageOf(error) });
        return null;
      });
      return {
        cluster_id: metadata.id,
        controller_id: metadata.controllerId,
        version: metadataVersion === null ? null : releaseOf(metadataVersion),
        metadata_version: metadataVersion,
        brokers: [...metadata.brokers]
          .map(([id, b]) => ({ id, host: b.host, port: b.port, rack: b.rack ?? null, controller: id === metadata.controllerId }))
          .sort((a, b) => a.id - b.id),
      };
    });
  }

  async topics(): Promise<KafkaTopicInfo[]> {
    return this.#call('listing topics', async () => {
      const names = (await this.#admin.listTopics({ includeInternals: false })).sort();
      return this.#describe(names);
    });
  }

  /** undefined when there is no such topic. */
  async topic(name: string): Promise<KafkaTopicInfo | undefined> {
    return this.#call(`describing topic ${name}`, async () => {
      if (!(await this.#exists(name, 'describes'))) return undefined;
      const [topic] = await this.#describe([name]);
      return topic;
    });
  }

  async groups(): Promise<KafkaGroupInfo[]> {
    return this.#call('listing consumer groups', async () => {
      // Both protocols: a Kafka 4 client joins with the consumer protocol (KIP-848) by default,
      // and the client lists only classic groups unless asked; such a group was missing.
      const listed = await this.#admin.listGroups({ types: ['classic', 'consumer'] });
      const ids = [...listed.keys()].sort();
      if (ids.length === 0) return [];
      const modern = ids.filter((id) => listed.get(id)?.groupType === 'consumer');
      const classic = ids.filter((id) => listed.get(id)?.groupType !== 'consumer');
      const [classicDescribed, modernDescribed, committed] = await Promise.all([
        classic.length === 0 ? new Map<string, Group>() : this.#admin.describeGroups({ groups: classic }),
        this.#describeConsumerGroups(modern),
        this.#admin.listConsumerGroupOffsets({ groups: ids }),
      ]);
      const described = new Map<string, Group>([...classicDescribed, ...modernDescribed]);
      const wanted = new Map<string, Set<number>>();
      for (const g of committed) for (const t of g.topics) for (const p of t.partitions) add(wanted, t.name, p.partitionIndex);
      const ends = await this.#offsets(wanted, LATEST);
      return ids.map((id): KafkaGroupInfo => {
        const base = listed.get(id)!;
        const group = described.get(id);
        const partitions: KafkaGroupPartition[] = [];
        for (const t of committed.find((g) => g.groupId === id)?.topics ?? []) {
          for (const p of t.partitions) {
            const done = p.committedOffset >= 0n ? Number(p.committedOffset) : null;
            const end = ends.get(t.name)?.get(p.partitionIndex) ?? null;
            const pastEnd = done !== null && end !== null && done > end;
            partitions.push({ topic: t.name, partition: p.partitionIndex, committed: done, end, lag: done === null || end === null || pastEnd ? null : end - done, past_end: pastEnd });
          }
        }
        partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
        return {
          group_id: id,
          state: group?.state ?? base.state,
          protocol: group?.protocol ?? '',
          protocol_type: group?.protocolType ?? base.protocolType,
          members: [...(group?.members.values() ?? [])].map((m) => ({
            member_id: m.id,
            client_id: m.clientId,
            host: m.clientHost,
            assignments: [...(m.assignments?.values() ?? [])].map((a) => ({ topic: a.topic, partitions: [...a.partitions].sort((x, y) => x - y) })),
          })),
          partitions,
          lag: partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0),
        };
      });
    });
  }

  /**
   * The summed end offsets of `topics` (0 for a topic that does not exist), and how far a
   * group has committed on one topic: a cheap reading of a pipeline's progress, taken often.
   */
  async progress(topics: readonly string[], group?: { readonly id: string; readonly topic: string }): Promise<KafkaProgress> {
    return this.#call(group === undefined ? 'reading the end offsets' : `reading the progress of group ${group.id}`, async () => {
      const listed = new Set(await this.#admin.listTopics({ includeInternals: false }));
      const present = topics.filter((name) => listed.has(name));
      const metadata = await this.#admin.metadata({ topics: present, autocreateTopics: false });
      const wanted = everyPartition(metadata, present);
      const [ends, committed] = await Promise.all([
        this.#offsets(wanted, LATEST),
        group === undefined ? [] : this.#admin.listConsumerGroupOffsets({ groups: [group.id] }),
      ]);
      const endOffsets = new Map<string, number>();
      for (const name of topics) endOffsets.set(name, [...(ends.get(name)?.values() ?? [])].reduce((sum, n) => sum + n, 0));
      let done: number | null = null;
      let lag = 0;
      for (const t of committed.find((g) => g.groupId === group?.id)?.topics ?? []) {
        if (t.name !== group?.topic) continue;
        for (const p of t.partitions) {
          if (p.committedOffset < 0n) continue;
          const at = Number(p.committedOffset);
          done = (done ?? 0) + at;
          lag += Math.max(0, (ends.get(t.name)?.get(p.partitionIndex) ?? at) - at);
        }
      }
      return { endOffsets, committed: done, lag: done === null ? null : lag };
    });
  }

  /**
   * The start and end offsets of every partition of one topic, by partition; undefined when
   * there is no such topic. A reading taken at every status check (the Spark engine's log lag),
   * so it asks for nothing else.
   */
  async logBounds(topic: string): Promise<KafkaLogBounds[] | undefined> {
    return this.#call(`reading the offsets of ${topic}`, async () => {
      if (!(await this.#exists(topic))) return undefined;
      // Fresh metadata: partitions added to the topic since the last reading count too.
      const metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true, autocreateTopics: false });
      const wanted = everyPartition(metadata, [topic]);
      const [starts, ends] = await Promise.all([this.#offsets(wanted, EARLIEST), this.#offsets(wanted, LATEST)]);
      return [...(wanted.get(topic) ?? [])].map((partition) => ({
        partition,
        start: starts.get(topic)?.get(partition) ?? 0,
        end: ends.get(topic)?.get(partition) ?? 0,
      }));
    });
  }

  /** Records of one partition in offset order; undefined when there is no such topic. */
  async messages(q: KafkaMessageQuery): Promise<KafkaMessage[] | undefined> {
    return (await this.messagePage(q))?.messages;
  }

  /** `messages`, and whether the page's byte budget left records out; undefined when there is no such topic. */
  async messagePage(q: KafkaMessageQuery): Promise<KafkaMessagePage | undefined> {
    if (q.offset !== undefined && q.timestamp !== undefined) throw new InputError('give offset or timestamp, not both');
    const limit = Math.max(1, Math.min(MESSAGE_LIMIT, Math.trunc(q.limit)));
    return this.#call(`reading ${q.topic}`, async () => {
      if (!(await this.#exists(q.topic, 'reads'))) return undefined;
      const metadata = await this.#admin.metadata({ topics: [q.topic], forceUpdate: true });
      const topic = metadata.topics.get(q.topic);
      if (topic === undefined) return undefined;
      const leader = topic.partitions[q.partition]?.leader;
      if (leader === undefined) {
        throw new InputError(`partition must be from 0 to ${topic.partitionsCount - 1} for ${q.topic}; got ${q.partition}`);
      }
      const one = new Map([[q.topic, new Set([q.partition])]]);
      const [starts, ends] = await Promise.all([this.#offsets(one, EARLIEST), this.#offsets(one, LATEST)]);
      const start = starts.get(q.topic)?.get(q.partition) ?? 0;
      const end = ends.get(q.topic)?.get(q.partition) ?? 0;
      let from: number;
      if (q.timestamp !== undefined) {
        const at = await this.#offsets(one, BigInt(q.timestamp));
        from = at.get(q.topic)?.get(q.partition) ?? -1;
        if (from < 0) return { messages: [], cut_at_bytes: null };
      } else {
        from = q.offset ?? end - limit;
      }
      from = Math.max(from, start);
      if (from >= end) return { messages: [], cut_at_bytes: null };
      return this.#read(q.topic, topic.id, leader, q.partition, from, end, limit, q.offset === undefined && q.timestamp === undefined);
    });
  }

  /** What the broker made (its default replication applied), or undefined when the topic exists already. */
  async createTopic(spec: KafkaNewTopic): Promise<KafkaMadeTopic | undefined> {
    return this.#call(`creating topic ${spec.name}`, async () => {
      const made = await createTopicUnlessExists(this.#admin, {
        topics: [spec.name],
        partitions: spec.partitions,
        replicas: spec.replication ?? -1,
        configs: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
      });
      if (made !== undefined) await this.#settle(spec.name, true);
      return made;
    });
  }

  /** false when there is no such topic. */
  async deleteTopic(name: string): Promise<boolean> {
    return this.#call(`deleting topic ${name}`, async () => {
      if (!(await this.#exists(name, 'deletes'))) return false;
      try {
        await this.#admin.deleteTopics({ topics: [name] });
        await this.#settle(name, false);
        return true;
      } catch (error) {
        if (isKafkaApiError(error, 'UNKNOWN_TOPIC_OR_PARTITION')) return false;
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const reader = this.#reader;
    this.#reader = undefined;
    await Promise.all([
      this.#admin.close().catch((error: unknown) => this.#log.warn('closing the console admin failed', { error: messageOf(error) })),
      reader === undefined ? undefined : closeClient(reader).catch((error: unknown) => this.#log.warn('closing the console reader failed', { error: messageOf(error) })),
    ]);
  }

  /** Runs an admin request, turning the client's errors into ours. */
  async #call<T>(what: string, request: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new BusUnavailableError('the Kafka console is closed');
    try {
      return await request();
    } catch (error) {
      if (error instanceof InputError || error instanceof BusUnavailableError) throw error;
      const refused = INPUT_ERRORS.find((id) => isKafkaApiError(error, id));
      if (refused !== undefined) throw new InputError(`Kafka refused ${what}: ${brokerMessage(error, refused)}`, { cause: error });
      throw new BusUnavailableError(`Kafka did not answer ${what}: ${messageOf(error)}`, { cause: error });
    }
  }

  /**
   * Waits (briefly) until the broker's metadata shows the topic created or deleted, so the
   * next request sees what this one did. Past the deadline it returns anyway: the change is made.
   */
  async #settle(name: string, present: boolean): Promise<void> {
    const deadline = Date.now() + SETTLE_MS;
    while ((await this.#exists(name)) !== present && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Whether the topic exists. With `refusing`, one of Kafka's internal topics is an InputError:
   * the client's metadata leaves them out (so it read as "no topic"), and Kafka 4 deletes
   * __consumer_offsets when asked, with every group's committed offsets.
   */
  async #exists(name: string, refusing?: 'describes' | 'reads' | 'deletes'): Promise<boolean> {
    const all = await this.#admin.listTopics({ includeInternals: true });
    if (!all.includes(name)) return false;
    if (refusing !== undefined && !(await this.#admin.listTopics({ includeInternals: false })).includes(name)) {
      throw new InputError(`${name} is one of Kafka's internal topics (consumer group offsets, transaction state); the console does not ${refusing === 'deletes' ? 'delete' : 'show'} it`);
    }
    return true;
  }

  async #describe(names: readonly string[]): Promise<KafkaTopicInfo[]> {
    if (names.length === 0) return [];
    const metadata = await this.#admin.metadata({ topics: [...names], forceUpdate: true });
    const wanted = everyPartition(metadata, names);
    const [starts, ends, sizes, configs] = await Promise.all([
      this.#offsets(wanted, EARLIEST),
      this.#offsets(wanted, LATEST),
      this.#sizes(wanted),
      this.#admin.describeConfigs({ resources: names.map((name) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: name, configurationKeys: null })) }),
    ]);
    const out: KafkaTopicInfo[] = [];
    for (const name of names) {
      const topic = metadata.topics.get(name);
      if (topic === undefined) continue;
      const partitions = topic.partitions.map((p, partition): KafkaPartitionInfo => {
        const start = starts.get(name)?.get(partition) ?? 0;
        const end = ends.get(name)?.get(partition) ?? 0;
        return { partition, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr], start_offset: start, end_offset: end, messages: Math.max(0, end - start) };
      });
      const config: Record<string, string | null> = {};
      const overrides: string[] = [];
      for (const c of configs.find((d) => d.resourceName === name)?.configs ?? []) {
        config[c.name] = c.isSensitive ? '***' : (c.value ?? null);
        if (c.configSource === ConfigSources.TOPIC_CONFIG) overrides.push(c.name);
      }
      out.push({
        name,
        partitions,
        replication: partitions[0]?.replicas.length ?? 0,
        messages: partitions.reduce((sum, p) => sum + p.messages, 0),
        size_bytes: sizes === null ? null : (sizes.get(name) ?? 0),
        config: Object.fromEntries(Object.entries(config).sort(([a], [b]) => a.localeCompare(b))),
        config_overrides: overrides.sort(),
        role: topicRole(this.#topics, name),
      });
    }
    return out;
  }

  /** Offsets per topic and partition at a timestamp (or EARLIEST / LATEST); -1 where no record is that late. */
  async #offsets(wanted: ReadonlyMap<string, ReadonlySet<number>>, timestamp: bigint): Promise<Map<string, Map<number, number>>> {
    const topics = [...wanted].filter(([, ps]) => ps.size > 0).map(([name, ps]) => ({ name, partitions: [...ps].map((partitionIndex) => ({ partitionIndex, timestamp })) }));
    const out = new Map<string, Map<number, number>>();
    if (topics.length === 0) return out;
    for (const t of await this.#admin.listOffsets({ topics })) {
      out.set(t.name, new Map(t.partitions.map((p) => [p.partitionIndex, Number(p.offset)])));
    }
    return out;
  }

  /** Bytes per topic over all log dirs, or null when the broker cannot tell. */
  async #sizes(wanted: ReadonlyMap<string, ReadonlySet<number>>): Promise<Map<string, number> | null> {
    try {
      const dirs = await this.#admin.describeLogDirs({ topics: [...wanted].map(([name, ps]) => ({ name, partitions: [...ps] })) });
      const sizes = new Map<string, number>();
      for (const broker of dirs) {
        for (const dir of broker.results) {
          for (const t of dir.topics) {
            for (const p of t.partitions) sizes.set(t.name, (sizes.get(t.name) ?? 0) + Number(p.partitionSize));
          }
        }
      }
      return sizes;
    } catch (error) {
      this.#log.debug('describeLogDirs failed; sizes unknown', { error: messageOf(error) });
      return null;
    }
  }

  async #read(topic: string, topicId: string, leader: number, partition: number, from: number, end: number, limit: number, newest: boolean): Promise<KafkaMessagePage> {
    let out: KafkaMessage[] = [];
    let next = BigInt(from);
    const stop = BigInt(Math.min(end, from + limit));
    const budget = this.#messageBytes;
    let bytes = 0;
    let cut = false;
    // A fetch brings at least one record unless the partition stalls (then the loop stops): with
    // records near 1 MiB that is one a fetch, so the bound grows with the limit. A fixed 20 showed
    // the oldest 20 of "the newest 100" such records, with nothing to say the page was cut short.
    for (let round = 0; round < limit + FETCH_ROUNDS && next < stop; round++) {
      const before = next;
      const fetched: KafkaMessage[] = [];
      next = await this.#fetchInto(topic, topicId, leader, partition, next, stop, fetched);
      for (const m of fetched) bytes += messageBytes(m);
      out.push(...fetched);
      if (bytes > budget && out.length > 1) {
        if (!newest) {
          // From an offset or a time: the page ends where the budget does (at least one record).
          let keep = 0;
          let kept = 0;
          while (keep < out.length && (keep === 0 || kept + messageBytes(out[keep]!) <= budget)) kept += messageBytes(out[keep++]!);
          return { messages: out.slice(0, keep), cut_at_bytes: budget };
        }
        // The newest: drop the oldest until the rest fit (the last record always stays).
        let drop = 0;
        while (bytes > budget && drop < out.length - 1) bytes -= messageBytes(out[drop++]!);
        out = out.slice(drop);
        cut ||= drop > 0;
      }
      if (next === before) break;
    }
    return { messages: out, cut_at_bytes: cut ? budget : null };
  }

  /**
   * The records of one partition in [from, to), in offset order, in the chunks one fetch
   * brings (the Spark engine's late-trade replay reads a micro-batch's range this way).
   * Records that retention has removed are skipped. A range the broker stops serving is a
   * BusUnavailableError naming it; an unknown topic or partition is an InputError.
   */
  async *range(topic: string, partition: number, from: number, to: number): AsyncGenerator<KafkaMessage[]> {
    const where = `${topic}/${partition} offsets ${from} to ${to}`;
    const located = await this.#call(`reading ${where}`, async () => {
      const metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
      const t = metadata.topics.get(topic);
      const leader = t?.partitions[partition]?.leader;
      if (t === undefined || leader === undefined) throw new InputError(`no partition ${partition} of topic ${topic}`);
      const one = new Map([[topic, new Set([partition])]]);
      const start = (await this.#offsets(one, EARLIEST)).get(topic)?.get(partition) ?? 0;
      return { topicId: t.id, leader, start };
    });
    let next = BigInt(Math.max(from, located.start));
    const stop = BigInt(to);
    let stalled = 0;
    while (next < stop) {
      const out: KafkaMessage[] = [];
      const before = next;
      next = await this.#call(`reading ${where}`, () => this.#fetchInto(topic, located.topicId, located.leader, partition, before, stop, out));
      if (out.length > 0) yield out;
      stalled = next === before ? stalled + 1 : 0;
      if (stalled >= FETCH_ROUNDS) throw new BusUnavailableError(`Kafka served nothing of ${where} from offset ${next} after ${FETCH_ROUNDS} fetches`);
    }
  }

  /** One fetch from `next`: decodes the records before `stop` into `out`; returns the next offset to fetch. */
  async #fetchInto(topic: string, topicId: string, leader: number, partition: number, next: bigint, stop: bigint, out: KafkaMessage[]): Promise<bigint> {
    // A group id is required by the client, but this reader never joins or commits.
    this.#reader ??= new Consumer({ ...clientBase(this.#connection, 'console-reader'), groupId: `${this.#connection.clientId}-console`, minBytes: 1, maxBytes: 4 * 1024 * 1024 });
    const response = await this.#reader.fetch({
      node: leader,
      maxWaitTime: 200,
      topics: [{ topicId, partitions: [{ partition, fetchOffset: next, currentLeaderEpoch: -1, lastFetchedEpoch: -1, partitionMaxBytes: 1024 * 1024 }] }],
    });
    const batches = response.responses.flatMap((r) => r.partitions).find((p) => p.partitionIndex === partition)?.records ?? [];
    return this.#collect(topic, partition, batches, next, stop, out);
  }

  /** Decodes the records in [next, stop) of the fetched batches into `out`; returns the next offset to fetch. */
  #collect(topic: string, partition: number, batches: readonly RecordsBatch[], next: bigint, stop: bigint, out: KafkaMessage[]): bigint {
    return walkRecords(batches, next, stop, (r, at, batch) => {
      const timestamp = (batch.attributes & LOG_APPEND_TIME) !== 0 ? batch.maxTimestamp : batch.firstTimestamp + r.timestampDelta;
      const key = r.key === null ? null : textOrBase64(r.key);
      out.push({
        partition,
        offset: Number(at),
        timestamp: Number(timestamp),
        key: key?.text ?? null,
        key_format: key?.format ?? null,
        headers: r.headers.map(([k, v]) => {
          const name = k === null ? { text: '', format: 'text' as const } : textOrBase64(k);
          const value = v === null ? null : textOrBase64(v);
          return { key: name.text, key_format: name.format, value: value?.text ?? null, value_format: value?.format ?? null };
        }),
        ...this.#decodeValue(topic, r.value),
      });
    });
  }

  #decodeValue(topic: string, bytes: Buffer | null): { value_format: KafkaValueFormat; value: unknown } {
    if (bytes !== null && this.#tradeTopics.has(topic)) {
      for (const codec of this.#codecs) {
        try {
          return { value_format: codec.format, value: toTradeRecord(codec.decode(bytes)) };
        } catch {
          // Not this wire format (or not a valid trade): try the next, then show it as it is.
        }
      }
    }
    return plainValue(bytes);
  }

  /**
   * Consumer-protocol groups (KIP-848) described with ConsumerGroupDescribe, in the shape the
   * classic DescribeGroups gives (which answers DEAD for them), asked of each group's coordinator.
   */
  async #describeConsumerGroups(ids: readonly string[]): Promise<Map<string, Group>> {
    const out = new Map<string, Group>();
    if (ids.length === 0) return out;
    const coordinators = await this.#admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: [...ids] });
    const byNode = new Map<string, { host: string; port: number; ids: string[] }>();
    for (const c of coordinators) {
      const at = `${c.host}:${c.port}`;
      const entry = byNode.get(at) ?? { host: c.host, port: c.port, ids: [] };
      entry.ids.push(c.key);
      byNode.set(at, entry);
    }
    for (const { host, port, ids: some } of byNode.values()) {
      const connection = await this.#admin.connections.get({ host, port });
      for (const g of await consumerGroupDescribe.async(connection, some)) out.set(g.id, g);
    }
    return out;
  }

  /** The cluster's finalized metadata.version, from the features ApiVersions v3+ sends in tagged fields. */
  async #metadataVersion(broker: { host: string; port: number } | undefined): Promise<number | null> {
    if (broker === undefined) return null;
    const connection = await this.#admin.connections.get(broker);
    const features = await apiVersionsFeatures.async(connection, 'tickstream', '0');
    return features.get('metadata.version') ?? null;
  }
}

/** ApiVersions v3 with the response's tagged fields read: tag 2 holds the finalized features. */
const apiVersionsFeatures = createAPI<[clientSoftwareName: string, clientSoftwareVersion: string], Map<string, number>>(
  18,
  3,
  (name: string, version: string) => Writer.create().appendString(name).appendString(version).appendTaggedFields(),
  (_correlationId: number, _apiKey: number, _apiVersion: number, reader: Reader) => {
    reader.readInt16();
    reader.readArray((r) => {
      r.readInt16();
      r.readInt16();
      r.readInt16();
    });
    reader.readInt32();
    const finalized = new Map<string, number>();
    const tags = reader.readUnsignedVarInt();
    for (let i = 0; i < tags; i++) {
      const tag = reader.readUnsignedVarInt();
      const size = reader.readUnsignedVarInt();
      if (tag !== 2) {
        reader.skip(size);
        continue;
      }
      reader.readArray((r) => {
        const name = r.readString();
        const max = r.readInt16();
        r.readInt16();
        finalized.set(name, max);
      });
    }
    return finalized;
  },
  true,
  false,
);

/** A topic's partitions in a ConsumerGroupDescribe assignment (a struct with tagged fields of its own). */
function readAssignment(reader: Reader): Map<string, { topic: string; partitions: number[] }> {
  const assignments = new Map<string, { topic: string; partitions: number[] }>();
  reader.readArray((r) => {
    r.readUUID();
    const topic = r.readString();
    assignments.set(topic, { topic, partitions: r.readArray((p) => p.readInt32(), true, false) });
  });
  reader.readTaggedFields();
  return assignments;
}

/**
 * ConsumerGroupDescribe v0 (KIP-848). The client ships a parser for it that reads the members'
 * subscribed topic names, an array, as one string, and so misreads every member after it.
 */
const consumerGroupDescribe = createAPI<[groupIds: readonly string[]], Group[]>(
  69,
  0,
  (groupIds: readonly string[]) =>
    Writer.create()
      .appendArray([...groupIds], (w, id) => w.appendString(id), true, false)
      .appendBoolean(false)
      .appendTaggedFields(),
  (_correlationId: number, _apiKey: number, _apiVersion: number, reader: Reader) => {
    reader.readInt32();
    return reader.readArray((r): Group => {
      const errorCode = r.readInt16();
      r.readNullableString();
      const id = r.readString();
      const state = r.readString();
      r.readInt32();
      r.readInt32();
      const assignor = r.readString();
      const members = new Map<string, GroupMember>();
      r.readArray((m) => {
        const memberId = m.readString();
        const groupInstanceId = m.readNullableString();
        m.readNullableString();
        m.readInt32();
        const clientId = m.readString();
        const clientHost = m.readString();
        m.readArray((t) => t.readString(), true, false);
        m.readNullableString();
        const assignments = readAssignment(m);
        readAssignment(m);
        members.set(memberId, { id: memberId, groupInstanceId, clientId, clientHost, assignments });
      });
      r.readInt32();
      // A group gone meanwhile answers GROUP_ID_NOT_FOUND: shown as dead, as DescribeGroups shows it.
      const gone = errorCode !== 0;
      return {
        id,
        // "Stable", "NotReady": the names ListGroups and DescribeGroups give, STABLE, NOT_READY.
        state: (gone ? 'DEAD' : state.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()) as Group['state'],
        protocolType: 'consumer',
        protocol: gone ? '' : assignor,
        members: gone ? new Map() : members,
        authorizedOperations: 0,
      };
    });
  },
);

/**
 * metadata.version feature levels and the Kafka release that introduced them (Kafka's
 * MetadataVersion enum); a cluster reports the release its metadata is finalized at.
 */
const RELEASES: readonly (readonly [level: number, release: string])[] = [
  [7, '3.3'], [8, '3.4'], [9, '3.5'], [12, '3.6'], [15, '3.7'], [20, '3.8'], [21, '3.9'],
  [22, '4.0'], [26, '4.1'], [28, '4.2'], [30, '4.3'], [31, '4.4'], [34, '4.5'],
];

export function releaseOf(metadataVersion: number): string | null {
  let found: string | null = null;
  for (const [level, release] of RELEASES) if (metadataVersion >= level) found = release;
  return found;
}

/** The bytes of a message's key and value as the reply carries them (a decoded value as its JSON). */
function messageBytes(m: KafkaMessage): number {
  const value = typeof m.value === 'string' ? m.value.length : m.value === null ? 0 : (JSON.stringify(m.value)?.length ?? 0);
  return value + (m.key?.length ?? 0);
}

/** Every partition of each named topic, by topic (none for a topic the metadata does not hold). */
function everyPartition(metadata: ClusterMetadata, names: readonly string[]): Map<string, Set<number>> {
  const wanted = new Map<string, Set<number>>();
  for (const name of names) {
    const count = metadata.topics.get(name)?.partitionsCount ?? 0;
    wanted.set(name, new Set(Array.from({ length: count }, (_, i) => i)));
  }
  return wanted;
}

function add(m: Map<string, Set<number>>, topic: string, partition: number): void {
  let s = m.get(topic);
  if (s === undefined) m.set(topic, (s = new Set()));
  s.add(partition);
}

function brokerMessage(error: unknown, apiId: string): string {
  const found = findKafkaError(error, 'apiId', apiId);
  return found?.serverErrorMessage ?? `${apiId} (${found?.message ?? messageOf(error)})`;
}
