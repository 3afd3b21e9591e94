import { connect as http2Connect, constants as http2 } from 'node:http2';
import type { Endpoint } from '../health.ts';

/** One worker as the master's `/json/` page lists it. */
export interface MasterWorker {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly state: string;
  readonly cores: number;
  readonly coresUsed: number;
  readonly memoryMb: number;
  readonly memoryUsedMb: number;
}

/** One running application (the Connect server is one) as the master lists it. */
export interface MasterApp {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly cores: number;
}

/** What the master's UI says about the cluster at `http://host:uiPort/json/`. */
export interface MasterState {
  readonly url: string;
  readonly status: string;
  readonly workers: readonly MasterWorker[];
  readonly activeApps: readonly MasterApp[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (r: Record<string, unknown>, k: string): string => (typeof r[k] === 'string' ? r[k] : '');
const num = (r: Record<string, unknown>, k: string): number => (typeof r[k] === 'number' ? r[k] : 0);
const list = (r: Record<string, unknown>, k: string): Record<string, unknown>[] => (Array.isArray(r[k]) ? r[k].filter(isRecord) : []);

/** Reads the master's JSON; undefined when it is not the master's page (no `status` or `url`). */
export function parseMasterState(body: unknown): MasterState | undefined {
  if (!isRecord(body) || typeof body['status'] !== 'string' || typeof body['url'] !== 'string') return undefined;
  return {
    url: body['url'],
    status: body['status'],
    workers: list(body, 'workers').map((w) => ({
      id: str(w, 'id'),
      host: str(w, 'host'),
      port: num(w, 'port'),
      state: str(w, 'state'),
      cores: num(w, 'cores'),
      coresUsed: num(w, 'coresused'),
      memoryMb: num(w, 'memory'),
      memoryUsedMb: num(w, 'memoryused'),
    })),
    activeApps: list(body, 'activeapps').map((a) => ({ id: str(a, 'id'), name: str(a, 'name'), state: str(a, 'state'), cores: num(a, 'cores') })),
  };
}

export const aliveWorkers = (state: MasterState): readonly MasterWorker[] => state.workers.filter((w) => w.state === 'ALIVE');

/** The master's view of the cluster, or undefined while its UI does not answer. */
export async function fetchMasterState(ui: Endpoint, timeoutMs = 2_000): Promise<MasterState | undefined> {
  try {
    const response = await fetch(`http://${ui.host}:${ui.port}/json/`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    return parseMasterState(await response.json());
  } catch {
    return undefined;
  }
}

/** `ALIVE, 2 of 2 workers alive, 1 of 2 cores used, apps: Spark Connect server` */
export function describeMaster(state: MasterState, expectedWorkers: number): string {
  const alive = aliveWorkers(state);
  const cores = alive.reduce((n, w) => n + w.cores, 0);
  const used = alive.reduce((n, w) => n + w.coresUsed, 0);
  const apps = state.activeApps.length === 0 ? 'no apps' : `apps: ${state.activeApps.map((a) => a.name).join(', ')}`;
  return `${state.status}, ${alive.length} of ${expectedWorkers} workers alive, ${used} of ${cores} cores used, ${apps}`;
}

/* ---- Spark Connect: one real gRPC call, encoded by hand (the full client lives in src/spark/) ---- */

/** Protobuf wire types used here: varint and length-delimited. */
const VARINT = 0;
const LEN = 2;

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

const lenField = (field: number, payload: Buffer | string): Buffer => {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([varint((field << 3) | LEN), varint(body.length), body]);
};

/**
 * `spark.connect.ConfigRequest` (Spark 3.5 base.proto) asking for some keys with GetOption:
 * session_id = 1, user_context = 2 { user_id = 1 }, operation = 3 { get_option = 4 { keys = 1 } },
 * client_type = 4.
 */
export function encodeConfigGetOption(sessionId: string, userId: string, keys: readonly string[], clientType: string): Buffer {
  const getOption = Buffer.concat(keys.map((k) => lenField(1, k)));
  return Buffer.concat([lenField(1, sessionId), lenField(2, lenField(1, userId)), lenField(3, lenField(4, getOption)), lenField(4, clientType)]);
}

interface RawField {
  readonly field: number;
  readonly bytes?: Buffer;
}

function readVarint(buf: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const b = buf[i] ?? 0;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
    scale *= 128;
  }
  throw new RangeError('truncated varint');
}

/** The top-level fields of a protobuf message; length-delimited ones keep their bytes, others only their number. */
function fields(buf: Buffer): RawField[] {
  const out: RawField[] = [];
  let at = 0;
  while (at < buf.length) {
    const tag = readVarint(buf, at);
    const field = Math.floor(tag.value / 8);
    const wire = tag.value & 7;
    at = tag.next;
    if (wire === VARINT) {
      at = readVarint(buf, at).next;
      out.push({ field });
    } else if (wire === LEN) {
      const len = readVarint(buf, at);
      const end = len.next + len.value;
      if (end > buf.length) throw new RangeError('truncated field');
      out.push({ field, bytes: buf.subarray(len.next, end) });
      at = end;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      out.push({ field });
    } else {
      throw new RangeError(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

/** `spark.connect.ConfigResponse`: session_id = 1, pairs = 2 { key = 1, optional value = 2 }, warnings = 3. */
export function decodeConfigResponse(buf: Buffer): { readonly sessionId: string; readonly pairs: ReadonlyMap<string, string | undefined> } {
  let sessionId = '';
  const pairs = new Map<string, string | undefined>();
  for (const f of fields(buf)) {
    if (f.bytes === undefined) continue;
    if (f.field === 1) sessionId = f.bytes.toString('utf8');
    if (f.field === 2) {
      let key = '';
      let value: string | undefined;
      for (const kv of fields(f.bytes)) {
        if (kv.field === 1 && kv.bytes) key = kv.bytes.toString('utf8');
        if (kv.field === 2 && kv.bytes) value = kv.bytes.toString('utf8');
      }
      pairs.set(key, value);
    }
  }
  return { sessionId, pairs };
}

/** A gRPC length-prefixed message: not compressed, 4-byte big-endian length. */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** The first message of a gRPC response body, or undefined when the body holds none. */
export function grpcUnframe(body: Buffer): Buffer | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  const len = body.readUInt32BE(1);
  return body.length >= 5 + len ? body.subarray(5, 5 + len) : undefined;
}

/**
 * The session the health probe uses, always the same, so that polling does not pile up
 * sessions on the server (3.5 keeps each for an hour).
 */
export const HEALTH_SESSION_ID = '6b1d8f0e-2c4a-4e59-9a37-7469636b7374';

/**
 * Calls SparkConnectService/Config with GetOption(keys) over plaintext HTTP/2. Resolves with the
 * returned pairs when the server answers with gRPC status 0, undefined on anything else.
 */
export function callConnectConfig(endpoint: Endpoint, keys: readonly string[], timeoutMs = 3_000): Promise<ReadonlyMap<string, string | undefined> | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const session = http2Connect(`http://${endpoint.host}:${endpoint.port}`);
    const finish = (value: ReadonlyMap<string, string | undefined> | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    session.on('error', () => finish(undefined));
    const request = session.request({
      [http2.HTTP2_HEADER_METHOD]: 'POST',
      [http2.HTTP2_HEADER_PATH]: '/spark.connect.SparkConnectService/Config',
      [http2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    request.on('response', (headers) => {
      const s = headers['grpc-status'];
      if (typeof s === 'string') status = s; // a trailers-only answer (an error) puts it here
    });
    request.on('trailers', (trailers) => {
      const s = trailers['grpc-status'];
      if (typeof s === 'string') status = s;
    });
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('error', () => finish(undefined));
    request.on('end', () => {
      if (status !== '0') return finish(undefined);
      const message = grpcUnframe(Buffer.concat(chunks));
      try {
        finish(message === undefined ? undefined : decodeConfigResponse(message).pairs);
      } catch {
        finish(undefined);
      }
    });
    request.end(grpcFrame(encodeConfigGetOption(HEALTH_SESSION_ID, 'tickstream-stack', keys, 'tickstream-stack-health')));
  });
}
