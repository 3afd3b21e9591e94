import type {
  KafkaClusterInfo,
  KafkaGroupInfo,
  KafkaHeader,
  KafkaMessage,
  KafkaPartitionInfo,
  KafkaTopicInfo,
} from '../../src/bus/kafka/kafka-console-wire.ts';
import { ApiError } from './api.ts';

export type { KafkaClusterInfo, KafkaGroupInfo, KafkaHeader, KafkaMessage, KafkaPartitionInfo, KafkaTopicInfo };

export interface MessageQuery {
  partition: number;
  offset?: number;
  timestamp?: number;
  limit: number;
}

export interface NewTopic {
  name: string;
  partitions: number;
  replication?: number;
  config?: Record<string, string>;
}

/** A page of the message browser, and the byte budget that cut it short (null: whole). */
export interface MessagePage {
  messages: KafkaMessage[];
  cutAtBytes: number | null;
}

/** The header the server sets, to its byte budget, on a page that budget cut short. */
const PAGE_CUT_HEADER = 'tickstream-page-cut-at-bytes';

async function request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return (await send<T>(method, path, body)).body;
}

async function send<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<{ body: T; headers: Headers }> {
  // Relative to the page, like the rest of the dashboard's requests.
  const init: RequestInit = body === undefined ? { method } : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const res = await fetch(path, init);
  let parsed: unknown;
  try {
    parsed = await res.json();
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const message = (parsed as { message?: unknown } | undefined)?.message;
    throw new ApiError(res.status, typeof message === 'string' ? message : `${path}: ${res.status} ${res.statusText}`);
  }
  return { body: parsed as T, headers: res.headers };
}

async function messagePage(name: string, q: MessageQuery): Promise<MessagePage> {
  const { body, headers } = await send<KafkaMessage[]>('GET', `${topicPath(name)}/messages?${query(q)}`);
  const cut = Number(headers.get(PAGE_CUT_HEADER) ?? Number.NaN);
  return { messages: body, cutAtBytes: Number.isFinite(cut) && cut > 0 ? cut : null };
}

const topicPath = (name: string): string => `api/kafka/topics/${encodeURIComponent(name)}`;

function query(q: MessageQuery): string {
  const params = new URLSearchParams({ partition: String(q.partition), limit: String(q.limit) });
  if (q.offset !== undefined) params.set('offset', String(q.offset));
  if (q.timestamp !== undefined) params.set('timestamp', String(q.timestamp));
  return params.toString();
}

export const kafkaApi = {
  brokers: (): Promise<KafkaClusterInfo> => request('GET', 'api/kafka/brokers'),
  topics: (): Promise<KafkaTopicInfo[]> => request('GET', 'api/kafka/topics'),
  topic: (name: string): Promise<KafkaTopicInfo> => request('GET', topicPath(name)),
  groups: (): Promise<KafkaGroupInfo[]> => request('GET', 'api/kafka/groups'),
  messages: messagePage,
  createTopic: (topic: NewTopic): Promise<unknown> => request('POST', 'api/kafka/topics', topic),
  deleteTopic: (name: string): Promise<unknown> => request('DELETE', `${topicPath(name)}?confirm=${encodeURIComponent(name)}`),
};
