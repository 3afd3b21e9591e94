import { ConnectionPool, Consumer, ListOffsetTimestamps, type ClusterTopicMetadata, type RecordsBatch } from '@platformatic/kafka';
import { offset as toOffset, type Offset } from '../../domain/index.ts';
import { CheckpointError, InputError } from '../../errors.ts';
import { OutageLog, silentLogger, type Logger } from '../../observability/index.ts';
import { TOPICS, type ConsumerHandler, type LogRecord, type SideLog, type TradeLogConsumer } from '../bus.ts';
import { clientBase, closeClient, findKafkaError, isKafkaApiError, messageOf, REQUEST_TIMEOUT_MS, type KafkaConnection } from './kafka-options.ts';
import { walkRecords } from './record-batches.ts';
import { createTradeCodec, type TradeCodec, type TradeFormat } from './trade-codec.ts';

/** A record of `market.trades` that is not a valid trade, as it goes to `market.trades.dlq`. */
export interface UndecodableRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** The key as UTF-8 (the symbol), when there is one. */
  readonly key: string | null;
  /** The value bytes, base64. */
  readonly raw: string;
  readonly encoding: 'base64';
  readonly reason: string;
  readonly receivedAt: number;
}

export interface KafkaTradeConsumerOptions extends KafkaConnection {
  readonly groupId: string;
  readonly format: TradeFormat;
  /** Where undecodable records go, with the reason; never dropped, never a crash. */
  readonly deadLetters: SideLog<UndecodableRecord>;
  readonly topic?: string;
  /** How long a fetch waits at the broker for new records. */
  readonly maxWaitMs?: number;
  /** How much of each partition one fetch asks for (MAX_BYTES_PER_PARTITION unless given). */
  readonly maxBytesPerPartition?: number;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly rebalanceTimeoutMs?: number;
  /** Wait after a failed fetch before the next try. */
  readonly retryDelayMs?: number;
  /**
   * Warn when partitions with no checkpoint and no committed offset (a new group) start this
   * many records or more behind their log end; BACKLOG_WARN_RECORDS unless given.
   */
  readonly backlogWarnRecords?: number;
  /** Called when the handler throws; delivery stops. */
  readonly onError?: (error: unknown) => void;
  readonly logger?: Logger;
}

interface Position {
  /** Next offset to read. */
  next: bigint;
  committed: bigint;
  highWatermark: bigint;
}

type Client = Consumer<Buffer, Buffer, Buffer, Buffer>;
type FetchResponse = Awaited<ReturnType<Client['fetch']>>;

/** What a fetch to one leader came back with: its response or its failure, and the offsets it asked from. */
type FetchAnswer = { readonly leader: number; readonly offsets: ReadonlyMap<number, bigint> } & (
  | { readonly ok: true; readonly response: FetchResponse }
  | { readonly ok: false; readonly error: unknown }
);

/** A fetch on its way to one leader. */
interface LeaderFetch {
  readonly offsets: ReadonlyMap<number, bigint>;
  /** Never rejects: a failure is the answer's `error`. */
  readonly answer: Promise<FetchAnswer>;
}

/**
 * How much of each partition one fetch asks for. The client turns a whole answer into objects
 * at once, and they live until its last partition is handed over: at 1 MiB a partition they
 * outlived the young generation and the garbage collector copied them on. With 64 KiB the
 * engine's fetch loop read 760k-885k records/s instead of 486k-624k, and the process role
 * behind a backlog stored 367k-413k trades/s instead of 294k-316k (README, "Benchmarks").
 */
const MAX_BYTES_PER_PARTITION = 64 * 1024;

/** A new group this far behind reads for minutes before its bars are current: worth a warning. */
const BACKLOG_WARN_RECORDS = 1_000_000;

/** How many times a log end short of the group's offset is listed before the engine stops on it. */
const PAST_END_CHECKS = 5;

/**
 * Whether a metadata request failed because Kafka has no topic of that name. The client turns
 * the broker's UNKNOWN_TOPIC_OR_PARTITION for a metadata request into a user error of its own,
 * which keeps no code, only its message ("Unknown topic <name>.").
 */
function isUnknownTopic(error: unknown): boolean {
  if (isKafkaApiError(error, 'UNKNOWN_TOPIC_OR_PARTITION')) return true;
  return findKafkaError(error, 'code', 'PLT_KFK_USER')?.message.startsWith('Unknown topic ') === true;
}

/** No upper bound for walkRecords: the consumer takes all a fetch brings. */
const NO_STOP = 1n << 62n;

/**
 * The TS engine's side of `market.trades` in a consumer group. The group protocol (join,
 * sync, heartbeats) is the client's; reading is ours: a fetch loop that seeks each newly
 * assigned partition to the offset the handler returns (its checkpoint), else the group's
 * committed offset, else the earliest, and hands the records of one partition at a time,
 * in offset order, to the handler, awaiting it (that is the backpressure). Assignment
 * changes are applied between deliveries: `revoked` for the partitions lost (awaited),
 * then `assigned` for the ones gained. Offsets are committed only when `commit` is called.
 */
export class KafkaTradeConsumer implements TradeLogConsumer {
  readonly #o: KafkaTradeConsumerOptions;
  readonly #topic: string;
  readonly #codec: TradeCodec;
  readonly #log: Logger;
  readonly #positions = new Map<number, Position>();
  #client: Client | undefined;
  /**
   * Connections of their own for the fetches: a broker answers one request per connection at
   * a time, so a commit, a heartbeat or a list of offsets sent behind a long-polling fetch
   * would wait out the fetch's whole wait (as the Java client does, with a connection per role).
   */
  #fetchPool: ConnectionPool | undefined;
  #handler: ConsumerHandler | undefined;
  /** The assignment the group gave last; applied by the loop between deliveries. */
  #target: readonly number[] | undefined;
  /** The partitions of the group's last assignment, known before the loop applies it. */
  #held: ReadonlySet<number> | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #closed = false;
  #failed = false;
  /** Fetches sent, to rotate which partition heads the next request. */
  #fetches = 0;
  #deadLettered = 0;
  /** The id Kafka gave the topic when this consumer first read it; a new id means a new log. */
  #topicId: string | undefined;
  /** The topic's partition count when this member last looked; a change asks the group to assign again. */
  #partitionCount: number | undefined;
  #commitFailures = 0;
  /** Fetches that fail while Kafka is away: the first is told, then a reminder every 30 s, and the recovery. */
  readonly #fetchOutage: OutageLog;
  /** Whether Kafka's last answer about the topic was that it has none of that name (it was deleted). */
  #topicMissing = false;

  constructor(options: KafkaTradeConsumerOptions) {
    this.#o = options;
    this.#topic = options.topic ?? TOPICS.trades;
    this.#codec = createTradeCodec(options.format);
    this.#log = options.logger ?? silentLogger;
    this.#fetchOutage = new OutageLog(this.#log, 'Kafka fetch');
  }

  /** When fetches began failing (epoch ms), Kafka not answering; undefined while they succeed. */
  fetchFailingSince(): number | undefined {
    return this.#fetchOutage.failingSince;
  }

  /**
   * The topic, while fetches fail because Kafka answers that it has no topic of that name (it
   * was deleted): Kafka is reachable, the topic is not there. Undefined while fetches succeed,
   * or fail for another reason (Kafka not answering).
   */
  missingTopic(): string | undefined {
    return this.#fetchOutage.failingSince !== undefined && this.#topicMissing ? this.#topic : undefined;
  }

  /** Records sent to the dead-letter topic because they were not valid trades. */
  get deadLettered(): number {
    return this.#deadLettered;
  }

  get commitFailures(): number {
    return this.#commitFailures;
  }

  holds(partition: number): boolean {
    return this.#held?.has(partition) ?? true;
  }

  /** Partitions this member reads now. */
  assignment(): number[] {
    return [...this.#positions.keys()].sort((a, b) => a - b);
  }

  async start(handler: ConsumerHandler): Promise<void> {
    if (this.#handler !== undefined) throw new Error('a Kafka consumer is started once');
    this.#handler = handler;
    const rebalanceTimeout = this.#o.rebalanceTimeoutMs ?? 15_000;
    const client: Client = new Consumer({
      // A JoinGroup waits at the broker until the rebalance is done, up to the rebalance timeout.
      ...clientBase(this.#o, 'engine', rebalanceTimeout + (this.#o.requestTimeoutMs ?? REQUEST_TIMEOUT_MS)),
      groupId: this.#o.groupId,
      sessionTimeout: this.#o.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: this.#o.heartbeatIntervalMs ?? 1_000,
      rebalanceTimeout,
      maxWaitTime: this.#o.maxWaitMs ?? 500,
      minBytes: 1,
      maxBytes: 16 * 1024 * 1024,
    });
    this.#client = client;
    const base = clientBase(this.#o, 'engine-fetch');
    const fetchPool = new ConnectionPool(base.clientId, { connectTimeout: base.timeout, requestTimeout: base.requestTimeout });
    this.#fetchPool = fetchPool;
    client.on('consumer:group:join', (payload) => {
      const mine = payload.assignments?.find((a) => a.topic === this.#topic)?.partitions ?? [];
      this.#target = [...mine].sort((a, b) => a - b);
      this.#held = new Set(mine);
      this.#log.info('group assignment', { generation: payload.generationId ?? null, partitions: this.#target.join(',') });
      this.#wake?.();
    });
    // The client learns of a rebalance from a heartbeat and rejoins at once; the partitions
    // lost are known only when the join completes, by which time another member may already
    // read them from the stored checkpoint. Flushing now keeps that checkpoint current.
    client.on('consumer:group:rebalance', () => {
      if (this.#closed || handler.rebalancing === undefined) return;
      this.#log.info('group is rebalancing; storing what was read');
      handler.rebalancing().catch((error: unknown) => this.#log.warn('flush before the rebalance failed', { error: messageOf(error) }));
    });
    client.on('consumer:heartbeat:error', (payload) => this.#log.warn('heartbeat failed', { error: messageOf(payload.error) }));
    client.on('error', (error: unknown) => this.#log.warn('consumer client error', { error: messageOf(error) }));
    client.topics.track(this.#topic);
    await client.joinGroup({});
    this.#target ??= (client.assignments ?? []).find((a) => a.topic === this.#topic)?.partitions ?? [];
    this.#held ??= new Set(this.#target);
    await this.#applyAssignment(client, handler);
    this.#loop = this.#run(client, fetchPool, handler).catch((error: unknown) => {
      this.#failed = true;
      (this.#o.onError ?? ((e: unknown) => this.#log.error('consumer stopped', { error: messageOf(e) })))(error);
    });
  }

  async commit(offsets: ReadonlyMap<number, Offset>): Promise<void> {
    const client = this.#client;
    if (client === undefined || client.closed) return;
    const list = [];
    for (const [partition, next] of offsets) {
      if (!this.#positions.has(partition)) continue;
      list.push({ topic: this.#topic, partition, offset: BigInt(next), leaderEpoch: -1 });
    }
    if (list.length === 0) return;
    try {
      await client.commit({ offsets: list });
      for (const { partition, offset } of list) {
        const position = this.#positions.get(partition);
        if (position !== undefined && offset > position.committed) position.committed = offset;
      }
    } catch (error) {
      // The checkpoint saved with the bars is what a restart resumes from; the group's
      // committed offset is only its fallback, so a failed commit is counted, not fatal.
      this.#commitFailures++;
      this.#log.warn('offset commit failed', { error: messageOf(error) });
    }
  }

  lag(): ReadonlyMap<number, number> {
    const lag = new Map<number, number>();
    for (const [p, pos] of this.#positions) lag.set(p, Math.max(0, Number(pos.highWatermark - pos.committed)));
    return lag;
  }

  /**
   * Lists the log end of every assigned partition now; the predicate returned says whether this
   * member has records before those ends still to read, i.e. whether some trade a producer had
   * acknowledged before the call is not yet in the handler's hands (false once it stops reading).
   */
  async behindLogEnd(): Promise<() => boolean> {
    const client = this.#client;
    if (client === undefined || client.closed || this.#positions.size === 0) return () => false;
    let ends: Map<number, bigint>;
    try {
      ends = await this.#listOffsets(client, this.assignment(), ListOffsetTimestamps.LATEST);
    } catch (error) {
      this.#log.warn('could not read the log end; not waiting for the engine to reach it', { error: messageOf(error) });
      return () => false;
    }
    return () => {
      if (this.#closed || this.#failed) return false;
      for (const [p, end] of ends) {
        const position = this.#positions.get(p);
        if (position !== undefined && position.next < end) return true;
      }
      return false;
    };
  }

  /** Hands the partitions back (the handler flushes and commits them), then leaves the group. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    // A fetch waiting at the broker ends with its connection instead of after its whole wait.
    await this.#fetchPool?.close().catch((error: unknown) => this.#log.warn('closing the fetch connections failed', { error: messageOf(error) }));
    await this.#loop;
    const client = this.#client;
    const handler = this.#handler;
    if (client !== undefined && handler !== undefined && !this.#failed && this.#positions.size > 0) {
      await handler.revoked(this.assignment());
    }
    this.#positions.clear();
    if (client !== undefined) {
      await closeClient(client).catch((error: unknown) => this.#log.warn('leaving the group failed', { error: messageOf(error) }));
    }
  }

  async #run(client: Client, fetchPool: ConnectionPool, handler: ConsumerHandler): Promise<void> {
    let failures = 0;
    // The fetches on their way, by leader (see #sendFetches). Each answer is handed over as it
    // comes, so a broker with nothing new (it waits up to maxWaitTime) holds up no other.
    const inFlight = new Map<number, LeaderFetch>();
    while (!this.#closed) {
      if (this.#target !== undefined) await this.#applyAssignment(client, handler);
      if (this.#positions.size === 0) {
        await this.#idle(1_000);
        continue;
      }
      let answer: FetchAnswer;
      try {
        await this.#sendFetches(client, fetchPool, inFlight);
        answer = await Promise.race(Array.from(inFlight.values(), (f) => f.answer));
        inFlight.delete(answer.leader);
        if (!answer.ok) throw answer.error;
        failures = 0;
        this.#fetchOutage.succeeded();
      } catch (error) {
        if (this.#closed) return;
        if (error instanceof CheckpointError) throw error;
        failures++;
        this.#fetchOutage.failed(messageOf(error));
        client.clearMetadata();
        await this.#idle(Math.min((this.#o.retryDelayMs ?? 500) * failures, 5_000));
        // Kafka not answering is retried; a log that started over is not.
        await this.#repairPositions(client).catch((repairError: unknown) => {
          if (repairError instanceof CheckpointError) throw repairError;
        });
        continue;
      }
      for (const topicResponse of answer.response.responses) {
        for (const part of topicResponse.partitions) {
          // A rebalance that arrived during the fetch is applied before anything more is handed over.
          if (this.#closed || this.#target !== undefined) break;
          const position = this.#positions.get(part.partitionIndex);
          // Fetched from anywhere but where the partition stands now (it was sought, or lost and
          // regained since): dropped, and read again from its position.
          if (position === undefined || answer.offsets.get(part.partitionIndex) !== position.next) continue;
          position.highWatermark = part.highWatermark;
          await this.#deliver(handler, part.partitionIndex, position, part.records ?? []);
        }
      }
    }
  }

  /**
   * Sends a fetch to each leader of assigned partitions that has none on its way, for its
   * partitions that are in no fetch yet, from their positions. On a cluster the partitions
   * are led by different brokers, and each broker answers only for those it leads.
   */
  async #sendFetches(client: Client, fetchPool: ConnectionPool, inFlight: Map<number, LeaderFetch>): Promise<void> {
    const topic = await this.#sameTopic(client);
    const asked = new Set<number>();
    for (const f of inFlight.values()) for (const p of f.offsets.keys()) asked.add(p);
    const byLeader = new Map<number, Map<number, bigint>>();
    for (const [p, position] of this.#positions) {
      const leader = topic.partitions[p]?.leader ?? -1;
      if (asked.has(p) || inFlight.has(leader)) continue;
      let offsets = byLeader.get(leader);
      if (offsets === undefined) byLeader.set(leader, (offsets = new Map()));
      offsets.set(p, position.next);
    }
    for (const [leader, offsets] of byLeader) {
      // The partitions take turns at the head of the request: a broker lets only the first
      // partition with records go past its size limit, so a batch bigger than the limit
      // further down would wait until every partition before it had run dry.
      const asking = [...offsets];
      const turn = this.#fetches++ % asking.length;
      const answer = client
        .fetch({
          node: leader,
          connectionPool: fetchPool,
          maxWaitTime: this.#o.maxWaitMs ?? 500,
          topics: [
            {
              topicId: topic.id,
              partitions: [...asking.slice(turn), ...asking.slice(0, turn)].map(([partition, fetchOffset]) => ({
                partition,
                fetchOffset,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
                partitionMaxBytes: this.#o.maxBytesPerPartition ?? MAX_BYTES_PER_PARTITION,
              })),
            },
          ],
        })
        .then(
          (response): FetchAnswer => ({ leader, offsets, ok: true, response }),
          (error: unknown): FetchAnswer => ({ leader, offsets, ok: false, error }),
        );
      inFlight.set(leader, { offsets, answer });
    }
  }

  async #deliver(
    handler: ConsumerHandler,
    partition: number,
    position: Position,
    batches: readonly RecordsBatch[],
  ): Promise<void> {
    const records: LogRecord[] = [];
    const dead: UndecodableRecord[] = [];
    const next = walkRecords(batches, position.next, NO_STOP, (r, at) => {
      try {
        if (r.value === null) throw new InputError('record has no value');
        records.push({ partition, offset: toOffset(Number(at)), trade: this.#codec.decode(r.value) });
      } catch (error) {
        dead.push({
          topic: this.#topic,
          partition,
          offset: Number(at),
          key: r.key === null ? null : r.key.toString('utf8'),
          raw: (r.value ?? Buffer.alloc(0)).toString('base64'),
          encoding: 'base64',
          reason: error instanceof InputError ? error.reason : messageOf(error),
          receivedAt: Date.now(),
        });
      }
    });
    if (dead.length > 0) {
      await this.#o.deadLetters.append(dead);
      this.#deadLettered += dead.length;
      this.#log.warn('undecodable records dead-lettered', { partition, count: dead.length });
    }
    if (records.length > 0) await handler.records(partition, records);
    position.next = next;
  }

  /** Applies the group's latest assignment: revoke what was lost, then seek what was gained. */
  async #applyAssignment(client: Client, handler: ConsumerHandler): Promise<void> {
    const target = this.#target;
    if (target === undefined) return;
    this.#target = undefined;
    const keep = new Set(target);
    const lost = [...this.#positions.keys()].filter((p) => !keep.has(p));
    const gained = target.filter((p) => !this.#positions.has(p));
    if (lost.length > 0) {
      await handler.revoked(lost);
      for (const p of lost) this.#positions.delete(p);
    }
    if (gained.length === 0) return;
    const { id } = await this.#sameTopic(client);
    const resume = await handler.assigned(gained, id);
    const [earliest, latest, committed] = await Promise.all([
      this.#listOffsets(client, gained, ListOffsetTimestamps.EARLIEST),
      this.#listOffsets(client, gained, ListOffsetTimestamps.LATEST),
      client.listCommittedOffsets({ topics: [{ topic: this.#topic, partitions: gained }] }),
    ]);
    const committedOf = committed.get(this.#topic) ?? [];
    const from = { checkpoint: 0, group: 0, earliest: 0 };
    let behind = 0;
    const fresh: number[] = [];
    let freshBehind = 0;
    for (const p of gained) {
      const start = earliest.get(p) ?? 0n;
      const end = latest.get(p) ?? 0n;
      const fromGroup = committedOf[p] ?? -1n;
      const checkpoint = resume.get(p);
      const source = checkpoint !== undefined ? 'checkpoint' : fromGroup >= 0n ? 'group' : 'earliest';
      let next = checkpoint !== undefined ? BigInt(checkpoint) : fromGroup >= 0n ? fromGroup : start;
      if (next < start) {
        this.#log.warn('resume offset is before the log start (retention); reading from the start', { partition: p, resume: Number(next), start: Number(start) });
        next = start;
      }
      if (latest.has(p) && next > end) await this.#confirmPastEnd(client, p, next);
      this.#positions.set(p, { next, committed: fromGroup >= 0n ? fromGroup : next, highWatermark: end });
      const left = end > next ? Number(end - next) : 0;
      from[source]++;
      behind += left;
      if (source === 'earliest') {
        fresh.push(p);
        freshBehind += left;
      }
    }
    this.#log.info('reading partitions', {
      partitions: gained.join(','),
      from_checkpoint: from.checkpoint,
      from_group: from.group,
      from_earliest: from.earliest,
      records_behind: behind,
    });
    if (freshBehind >= (this.#o.backlogWarnRecords ?? BACKLOG_WARN_RECORDS)) {
      this.#log.warn(
        `group ${this.#o.groupId} has no offsets for partitions ${fresh.join(',')} of ${this.#topic}: reading their whole history from the earliest offset before its bars are current`,
        { records: freshBehind },
      );
    }
  }

  async #listOffsets(client: Client, partitions: number[], timestamp: bigint): Promise<Map<number, bigint>> {
    const offsets = await client.listOffsets({ topics: [this.#topic], partitions: { [this.#topic]: partitions }, timestamp });
    const list = offsets.get(this.#topic) ?? [];
    const out = new Map<number, bigint>();
    for (const p of partitions) {
      const value = list[p];
      if (value !== undefined) out.set(p, value);
    }
    return out;
  }

  /**
   * After a failed fetch: a topic created again (a new id) stops the consumer; a position before
   * the log start (retention) moves to it; one past the end stays until the log gets there.
   */
  async #repairPositions(client: Client): Promise<void> {
    const partitions = [...this.#positions.keys()];
    if (partitions.length === 0) return;
    await this.#sameTopic(client);
    const [earliest, latest] = await Promise.all([
      this.#listOffsets(client, partitions, ListOffsetTimestamps.EARLIEST),
      this.#listOffsets(client, partitions, ListOffsetTimestamps.LATEST),
    ]);
    for (const [p, position] of this.#positions) {
      const start = earliest.get(p);
      const end = latest.get(p);
      if (start === undefined || end === undefined) continue;
      position.highWatermark = end;
      // A log created again has a new topic id, which the next fetch finds (see #sendFetches); an
      // end short of the position is a leader that has not caught up yet, so the position stays.
      if (position.next > end) {
        this.#log.warn('read position is past the log end; reading on from it when the log gets there', { partition: p, position: Number(position.next), end: Number(end) });
      } else if (position.next < start) {
        this.#log.warn('read position is before the log start (retention); moving to its start', { partition: p, position: Number(position.next), start: Number(start) });
        position.next = start;
      }
    }
  }

  /** The topic's metadata, once it is known to be the log this consumer has read from the start. */
  async #sameTopic(client: Client): Promise<ClusterTopicMetadata> {
    let topic: ClusterTopicMetadata | undefined;
    try {
      topic = (await client.metadata({ topics: [this.#topic] })).topics.get(this.#topic);
    } catch (error) {
      this.#topicMissing = isUnknownTopic(error);
      throw error;
    }
    this.#topicMissing = topic === undefined;
    if (topic === undefined) throw new Error(`topic ${this.#topic} not found`);
    this.#sameLog(topic.id);
    this.#samePartitions(client, topic.partitionsCount);
    return topic;
  }

  /**
   * Partitions added to the topic are assigned to nobody until the group assigns again, and
   * the client does not ask for that itself: their records would wait unread until a member
   * joined or left. A changed count makes this member rejoin, which gives every partition out again.
   */
  #samePartitions(client: Client, count: number): void {
    const known = this.#partitionCount;
    this.#partitionCount = count;
    if (known === undefined || count === known || this.#closed) return;
    this.#log.warn(
      `${this.#topic} went from ${known} to ${count} partitions: asking the group to assign them again. Adding partitions moves symbols to other partitions, so bars of windows open at the change may be wrong`,
    );
    client.joinGroup({}).catch((error: unknown) => this.#log.warn('rejoining the group failed', { error: messageOf(error) }));
  }

  /** Throws when the topic's id is not the one it had when this consumer first read it: a new log. */
  #sameLog(topicId: string): void {
    this.#topicId ??= topicId;
    if (topicId !== this.#topicId) throw this.#logStartedOver();
  }

  /**
   * Throws the error of a log that started over when the partition's end stays short of `next`
   * over a few listings: a leader just elected may report its end behind for a moment.
   */
  async #confirmPastEnd(client: Client, partition: number, next: bigint): Promise<void> {
    let end = -1n;
    for (let attempt = 0; attempt < PAST_END_CHECKS; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 500));
      end = (await this.#listOffsets(client, [partition], ListOffsetTimestamps.LATEST)).get(partition) ?? -1n;
      if (end >= next) return;
    }
    throw this.#logStartedOver({ partition, next, end });
  }

  /**
   * The topic was deleted and created again (it has a new topic id, or a partition's log ends
   * before the offset this group stands at), so its offsets started over. Reading on from the
   * start would hand the engine records below the offsets its checkpoint has counted, which it
   * skips as counted: the engine stops instead, and a new group (a new engine id, with no
   * checkpoints) reads the new log.
   */
  #logStartedOver(at?: { partition: number; next: bigint; end: bigint }): CheckpointError {
    const seen =
      at === undefined
        ? `${this.#topic} has a new topic id`
        : `partition ${at.partition} of ${this.#topic} ends at offset ${at.end}, before offset ${at.next} where group ${this.#o.groupId} stands`;
    return new CheckpointError(`${seen}: the topic was deleted and created again; start with a new --kafka-group-id to read it from its start`);
  }

  #idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    }).finally(() => {
      this.#wake = undefined;
    });
  }
}
