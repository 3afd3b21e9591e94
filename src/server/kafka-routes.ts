import type { FastifyError, FastifyPluginAsync, FastifyReply } from 'fastify';
import type {
  KafkaClusterInfo,
  KafkaGroupInfo,
  KafkaMadeTopic,
  KafkaMessagePage,
  KafkaMessageQuery,
  KafkaNewTopic,
  KafkaTopicInfo,
} from '../bus/index.ts';
import { TOPIC_NAME } from '../bus/topics.ts';
import { TickstreamError } from '../errors.ts';
import type { Logger } from '../observability/index.ts';
import { parseJsonBody, replyError } from './http-errors.ts';
import { BadRequest, intParam, optionalIntParam, optionalTimeParam, type Query } from './query-params.ts';

/** What the console routes need from the cluster; the bus's KafkaConsole is the real one. */
export interface KafkaConsoleApi {
  brokers(): Promise<KafkaClusterInfo>;
  topics(): Promise<KafkaTopicInfo[]>;
  /** undefined: no such topic. */
  topic(name: string): Promise<KafkaTopicInfo | undefined>;
  groups(): Promise<KafkaGroupInfo[]>;
  /** undefined: no such topic. Throws an InputError for a partition the topic does not have. */
  messagePage(q: KafkaMessageQuery): Promise<KafkaMessagePage | undefined>;
  /** What the broker made; undefined: the topic exists already. */
  createTopic(spec: KafkaNewTopic): Promise<KafkaMadeTopic | undefined>;
  /** false: no such topic. */
  deleteTopic(name: string): Promise<boolean>;
}

export const KAFKA_MESSAGE_LIMIT = { default: 20, max: 100 } as const;
export const KAFKA_TOPIC_LIMITS = { partitions: 10_000, replication: 32_767 } as const;
/** Set on a page of the message browser that its byte budget cut short, to that budget in bytes. */
export const PAGE_CUT_HEADER = 'tickstream-page-cut-at-bytes';
export const NO_KAFKA_MESSAGE = 'the Kafka console needs the cluster profile';

/** Topic config keys are lower-case words joined by dots, e.g. retention.ms, cleanup.policy. */
const CONFIG_KEY = /^[a-z0-9]+(?:[.-][a-z0-9]+)*$/;
const CREATE_FIELDS = ['name', 'partitions', 'replication', 'config'];

const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));

/** Why `name` is not a legal topic name, or undefined when it is. */
export function topicNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'is required: a topic name such as market.trades';
  if (name === '.' || name === '..') return `cannot be "." or ".."; got ${shown(name)}`;
  if (!TOPIC_NAME.test(name)) return `must be 1-249 letters, digits, ".", "_" or "-"; got ${shown(name)}`;
  return undefined;
}

function topicName(value: unknown, param: string): string {
  const problem = topicNameProblem(value);
  if (problem !== undefined) throw new BadRequest(param, `${param} ${problem}`);
  return value as string;
}

function newTopic(body: unknown): KafkaNewTopic {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('body', 'the body must be a JSON object {name, partitions, replication?, config?}');
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !CREATE_FIELDS.includes(k));
  if (unknown.length > 0) throw new BadRequest(unknown[0]!, `unknown field ${unknown.join(', ')}: the body takes ${CREATE_FIELDS.join(', ')}`);
  const name = topicName(b['name'], 'name');
  const partitions = positiveInt(b['partitions'], 'partitions', KAFKA_TOPIC_LIMITS.partitions, true)!;
  const replication = positiveInt(b['replication'], 'replication', KAFKA_TOPIC_LIMITS.replication, false);
  const config = topicConfig(b['config']);
  return { name, partitions, ...(replication === undefined ? {} : { replication }), ...(config === undefined ? {} : { config }) };
}

function positiveInt(value: unknown, param: string, max: number, required: boolean): number | undefined {
  if (value === undefined || value === null) {
    if (required) throw new BadRequest(param, `${param} is required: an integer from 1 to ${max}`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new BadRequest(param, `${param} must be an integer from 1 to ${max}; got ${shown(value)}`);
  }
  return value;
}

function topicConfig(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new BadRequest('config', 'config must be an object of topic settings, e.g. {"retention.ms": "3600000"}');
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!CONFIG_KEY.test(key)) throw new BadRequest('config', `config key ${shown(key)} is not a topic setting name such as retention.ms`);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new BadRequest('config', `config ${key} must be a string, number or boolean; got ${shown(JSON.stringify(v))}`);
    }
    out[key] = String(v);
  }
  return out;
}

function messageQuery(name: string, q: Query): KafkaMessageQuery {
  const partition = optionalIntParam(q, 'partition', { min: 0, max: 1_000_000 });
  if (partition === undefined) throw new BadRequest('partition', 'partition is required: a partition number of the topic, e.g. partition=0');
  const offset = optionalIntParam(q, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER });
  const timestamp = optionalTimeParam(q, 'timestamp');
  if (offset !== undefined && timestamp !== undefined) throw new BadRequest('offset', 'give offset or timestamp, not both');
  const limit = intParam(q, 'limit', { min: 1, max: KAFKA_MESSAGE_LIMIT.max, default: KAFKA_MESSAGE_LIMIT.default });
  return { topic: name, partition, limit, ...(offset === undefined ? {} : { offset }), ...(timestamp === undefined ? {} : { timestamp }) };
}

const noTopic = (name: string) => ({ error: 'not_found', message: `no topic ${shown(name)}` });

/**
 * The Kafka console under /api/kafka (src/server/README.md lists the routes). Without a
 * cluster every /api/kafka route answers 404 saying why.
 */
export function kafkaRoutes(kafka: KafkaConsoleApi | undefined, log: Logger, host = '127.0.0.1'): FastifyPluginAsync {
  return async (app) => {
    if (kafka === undefined) {
      const missing = async (_request: unknown, reply: FastifyReply) => reply.code(404).send({ error: 'not_found', message: NO_KAFKA_MESSAGE });
      app.all('/api/kafka', missing);
      app.all('/api/kafka/*', missing);
      return;
    }

    // The plugin is its own fastify context, so this handler answers for these routes only.
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof TickstreamError && error.code === 'TICKSTREAM_INPUT_INVALID') {
        return reply.code(400).send({ error: 'bad_request', message: error.message });
      }
      if (error instanceof TickstreamError && error.code === 'TICKSTREAM_BUS_UNAVAILABLE') {
        log.warn('kafka unavailable', { url: request.url, error: error.message });
        return reply.code(503).send({ error: 'kafka_unavailable', message: error.message });
      }
      return replyError(error, request, reply, log, 'kafka console request failed');
    });
    // fastify reads text/plain as a string by default; this API takes JSON only, so other types get 415.
    app.removeContentTypeParser('text/plain');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody);
    // A server on loopback creates and deletes topics only for requests addressed to loopback:
    // a web page whose host name was rebound to 127.0.0.1 sends its own name as Host.
    if (isLoopback(host)) {
      app.addHook('onRequest', async (request, reply) => {
        if (request.method === 'GET' || request.method === 'HEAD' || isLoopback(hostOf(request.headers.host ?? ''))) return;
        await reply.code(403).send({ error: 'forbidden', message: `topics are changed only through a loopback address (localhost, 127.0.0.1, [::1]); this request was addressed to ${shown(request.headers.host ?? '')}` });
      });
    }

    app.get('/api/kafka/brokers', async () => kafka.brokers());

    app.get('/api/kafka/topics', async () => kafka.topics());

    app.get('/api/kafka/topics/:name', async (request, reply) => {
      const name = topicName((request.params as { name?: unknown }).name, 'name');
      const topic = await kafka.topic(name);
      return topic ?? reply.code(404).send(noTopic(name));
    });

    app.get('/api/kafka/topics/:name/messages', async (request, reply) => {
      const name = topicName((request.params as { name?: unknown }).name, 'name');
      const page = await kafka.messagePage(messageQuery(name, request.query as Query));
      if (page === undefined) return reply.code(404).send(noTopic(name));
      // The body stays the array of records; a page its byte budget cut short says so in a header.
      if (page.cut_at_bytes !== null) void reply.header(PAGE_CUT_HEADER, String(page.cut_at_bytes));
      return page.messages;
    });

    app.get('/api/kafka/groups', async () => kafka.groups());

    app.post('/api/kafka/topics', async (request, reply) => {
      const spec = newTopic(request.body);
      const made = await kafka.createTopic(spec);
      if (made === undefined) {
        return reply.code(409).send({ error: 'conflict', message: `topic ${shown(spec.name)} already exists` });
      }
      log.info('topic created from the console', { topic: spec.name, partitions: made.partitions, replication: made.replication });
      return reply.code(201).send({ name: spec.name, partitions: made.partitions, replication: made.replication, config: spec.config ?? {} });
    });

    app.delete('/api/kafka/topics/:name', async (request, reply) => {
      const name = topicName((request.params as { name?: unknown }).name, 'name');
      const confirm = (request.query as Query)['confirm'];
      if (confirm !== name) {
        throw new BadRequest('confirm', `confirm must repeat the topic name to delete it: ?confirm=${name}; got ${confirm === undefined ? 'nothing' : shown(confirm)}`);
      }
      if (!(await kafka.deleteTopic(name))) return reply.code(404).send(noTopic(name));
      log.info('topic deleted from the console', { topic: name });
      return { deleted: name };
    });
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The host name of a Host header, without its port. */
function hostOf(header: string): string {
  const bracketed = /^(\[[^\]]*\])(?::\d+)?$/.exec(header);
  if (bracketed !== null) return bracketed[1]!;
  return header.replace(/:\d+$/, '').toLowerCase();
}
