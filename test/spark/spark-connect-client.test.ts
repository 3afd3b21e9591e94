import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  Server,
  ServerCredentials,
  status,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { Int32, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { ClosedError, SparkError } from '../../src/errors.ts';
import {
  SparkConnectClient,
  type ConfigRequest,
  type ConfigResponse,
  type ExecutePlanRequest,
  type ExecutePlanResponse,
} from '../../src/spark/index.ts';
import { SERVICE_NAME, sparkConnectProtocol } from '../../src/spark/protocol.ts';
import { freePort } from '../support/free-port.ts';
import { until } from '../support/until.ts';

/**
 * An in-process stand-in for the Connect server's gRPC surface, built from the same .proto
 * subset: it records requests and answers from handlers the test sets. The wire format
 * itself is checked in protocol.test.ts; the real server in test/integration/spark-connect.it.ts.
 */
interface FakeServer {
  readonly url: string;
  readonly executed: ExecutePlanRequest[];
  readonly configs: ConfigRequest[];
  execute: (request: ExecutePlanRequest) => ExecutePlanResponse[] | { code: number; details: string };
  config: (request: ConfigRequest) => ConfigResponse;
  stop(): Promise<void>;
}

async function fakeServer(t: TestContext): Promise<FakeServer> {
  const server = new Server();
  const fake: FakeServer = {
    url: '',
    executed: [],
    configs: [],
    execute: () => [],
    config: () => ({}),
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
  const service = sparkConnectProtocol().packageDefinition[SERVICE_NAME] as ServiceDefinition;
  server.addService(service, {
    ExecutePlan: (call: ServerWritableStream<ExecutePlanRequest, ExecutePlanResponse>) => {
      fake.executed.push(call.request);
      const answer = fake.execute(call.request);
      if ('code' in answer) {
        call.emit('error', { code: answer.code, details: answer.details });
        return;
      }
      for (const r of answer) call.write({ session_id: call.request.session_id, ...r });
      call.end();
    },
    Config: (call: ServerUnaryCall<ConfigRequest, ConfigResponse>, callback: sendUnaryData<ConfigResponse>) => {
      fake.configs.push(call.request);
      callback(null, { session_id: call.request.session_id, ...fake.config(call.request) });
    },
    AnalyzePlan: (_call: unknown, callback: sendUnaryData<unknown>) => {
      callback(null, { spark_version: { version: '3.5.5' } });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p)));
  });
  t.after(() => server.forceShutdown());
  return Object.assign(fake, { url: `sc://127.0.0.1:${port}` });
}

function client(t: TestContext, url: string, extra: Partial<ConstructorParameters<typeof SparkConnectClient>[0]> = {}): SparkConnectClient {
  const c = new SparkConnectClient({ url, requestTimeoutMs: 5000, ...extra });
  t.after(() => c.close());
  return c;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-spark-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('sql() sends a SQL relation and returns the rows of every Arrow batch', async (t) => {
  const server = await fakeServer(t);
  const batch = (xs: number[], names: string[]): Uint8Array =>
    tableToIPC(new Table({ x: vectorFromArray(xs, new Int32()), name: vectorFromArray(names, new Utf8()) }), 'stream');
  server.execute = () => [
    { arrow_batch: { row_count: '1', data: batch([1], ['a']) } },
    { arrow_batch: { row_count: '2', data: batch([2, 3], ['b', 'c']) } },
    { result_complete: {} },
  ];
  const spark = client(t, server.url, { userId: 'tester' });
  const rows = await spark.sql('select x, name from t');
  assert.deepEqual(rows, [
    { x: 1, name: 'a' },
    { x: 2, name: 'b' },
    { x: 3, name: 'c' },
  ]);
  const [request] = server.executed;
  assert.equal(request?.session_id, spark.sessionId);
  assert.equal(request?.user_context.user_id, 'tester');
  assert.deepEqual((request?.plan as { root?: unknown }).root, { sql: { query: 'select x, name from t' }, rel_type: 'sql' });
  assert.match(request?.operation_id ?? '', /^[0-9a-f-]{36}$/);
});

test('conf.set and conf.get go through the Config RPC of the same session', async (t) => {
  const server = await fakeServer(t);
  const values = new Map<string, string>();
  server.config = (r) => {
    const op = r.operation as Record<string, { keys?: string[]; pairs?: { key: string; value?: string }[] }>;
    if (op['set']) for (const p of op['set'].pairs ?? []) values.set(p.key, p.value ?? '');
    const keys = op['get']?.keys ?? op['get_option']?.keys ?? [];
    return { pairs: keys.filter((k) => values.has(k)).map((k) => ({ key: k, value: values.get(k)! })) };
  };
  const spark = client(t, server.url);
  await spark.conf.set({ 'spark.sql.shuffle.partitions': 4 });
  assert.equal(await spark.conf.get('spark.sql.shuffle.partitions'), '4');
  assert.equal(await spark.conf.getOption('unset.key'), undefined);
  assert.ok(server.configs.every((c) => c.session_id === spark.sessionId));
  assert.equal(await spark.sparkVersion(), '3.5.5');
});

test('a server error becomes a SparkError with the server message; UNAVAILABLE can be retried', async (t) => {
  const server = await fakeServer(t);
  server.execute = () => ({ code: status.INVALID_ARGUMENT, details: '[PARSE_SYNTAX_ERROR] Syntax error at or near "selec"' });
  const spark = client(t, server.url);
  await assert.rejects(spark.sql('selec 1'), (e: unknown) => {
    assert.ok(e instanceof SparkError);
    assert.match(e.message, /INVALID_ARGUMENT.*PARSE_SYNTAX_ERROR/);
    assert.equal(e.canRetry, false);
    return true;
  });

  await server.stop();
  await assert.rejects(spark.sql('select 1'), (e: unknown) => {
    assert.ok(e instanceof SparkError);
    assert.match(e.message, /UNAVAILABLE|did not answer/);
    assert.equal(e.canRetry, true);
    return true;
  });
});

test('a server nobody listens on is named in one line with the connection error and how to start it', async (t) => {
  const port = await freePort();
  const spark = client(t, `sc://127.0.0.1:${port}`);
  await assert.rejects(spark.sql('select 1'), (e: unknown) => {
    assert.ok(e instanceof SparkError);
    assert.equal(e.message, `Spark Connect at sc://127.0.0.1:${port} did not answer (ExecutePlan): connect ECONNREFUSED 127.0.0.1:${port}; is it running? (tickstream stack up spark)`);
    assert.equal(e.canRetry, true);
    return true;
  });
  await assert.rejects(spark.conf.get('spark.master'), (e: unknown) => e instanceof SparkError && e.message.startsWith(`Spark Connect at sc://127.0.0.1:${port} did not answer (Config): connect ECONNREFUSED`));
});

test('the session id is kept in its file and reused by the next client', async (t) => {
  const server = await fakeServer(t);
  const file = join(tempDir(t), 'state', 'spark-session');
  const first = client(t, server.url, { sessionIdFile: file });
  assert.equal(readFileSync(file, 'utf8').trim(), first.sessionId);
  first.close();
  const second = client(t, server.url, { sessionIdFile: file });
  assert.equal(second.sessionId, first.sessionId);
  await second.sql('select 1');
  assert.equal(server.executed[0]?.session_id, first.sessionId);

  const bad = join(tempDir(t), 'bad');
  writeFileSync(bad, 'not-a-uuid\n');
  assert.throws(() => new SparkConnectClient({ url: server.url, sessionIdFile: bad }), /not a UUID/);
});

test('a running query keeps the session alive with config reads until it is stopped', async (t) => {
  const server = await fakeServer(t);
  server.execute = (r) => {
    const command = (r.plan as { command?: Record<string, unknown> }).command ?? {};
    if (command['streaming_query_manager_command']) return [{ streaming_query_manager_command_result: { active: {} } }];
    if (command['write_stream_operation_start']) {
      return [{ write_stream_operation_start_result: { query_id: { id: 'q', run_id: 'r' }, name: 'ticks' } }];
    }
    return [{ streaming_query_command_result: { query_id: { id: 'q', run_id: 'r' } } }];
  };
  const spark = client(t, server.url, { keepAliveIntervalMs: 20 });
  assert.equal(server.configs.length, 0);
  const query = await spark.readStream.format('rate').load().writeStream.format('memory').queryName('ticks').start();
  assert.deepEqual(spark.sessionHolds, ['streaming query ticks']);
  await until(() => server.configs.length >= 3, 'three keep-alive config reads', 5000);
  assert.ok(server.configs.every((c) => c.session_id === spark.sessionId && 'get_option' in c.operation));

  await query.stop();
  assert.deepEqual(spark.sessionHolds, []);
  assert.equal(spark.keepingAlive, false, 'the keep-alive timer is gone once nothing holds the session');
});

test('a closed client refuses calls with ClosedError', async (t) => {
  const server = await fakeServer(t);
  const spark = client(t, server.url);
  spark.close();
  await assert.rejects(spark.sql('select 1'), ClosedError);
  assert.throws(() => spark.holdSession('x'), ClosedError);
});
