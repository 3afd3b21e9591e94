import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttp2Server, type Http2Server, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import {
  aliveWorkers,
  callConnectConfig,
  decodeConfigResponse,
  describeMaster,
  encodeConfigGetOption,
  fetchMasterState,
  grpcFrame,
  grpcUnframe,
  HEALTH_SESSION_ID,
  parseMasterState,
} from '../../../src/stack/services/spark-health.ts';
import { freePort } from '../../support/free-port.ts';

/** The shape of the master's /json/ page (Spark 3.5), trimmed to what matters. */
const MASTER_JSON = {
  url: 'spark://127.0.0.1:7077',
  workers: [
    { id: 'worker-1', host: '127.0.0.1', port: 7078, webuiaddress: 'http://127.0.0.1:8082', cores: 1, coresused: 1, memory: 2048, memoryused: 2048, state: 'ALIVE' },
    { id: 'worker-0', host: '127.0.0.1', port: 7079, cores: 1, coresused: 0, memory: 2048, memoryused: 0, state: 'DEAD' },
    { id: 'worker-2', host: '127.0.0.1', port: 7079, cores: 1, coresused: 1, memory: 2048, memoryused: 2048, state: 'ALIVE' },
  ],
  aliveworkers: 2,
  cores: 2,
  coresused: 2,
  activeapps: [{ id: 'app-1', name: 'Spark Connect server', cores: 2, state: 'RUNNING' }],
  completedapps: [],
  status: 'ALIVE',
};

test('the master page is read into workers and apps; dead workers are not alive', () => {
  const state = parseMasterState(MASTER_JSON);
  assert.ok(state);
  assert.equal(state.url, 'spark://127.0.0.1:7077');
  assert.deepEqual(aliveWorkers(state).map((w) => [w.port, w.cores, w.coresUsed, w.memoryMb]), [
    [7078, 1, 1, 2048],
    [7079, 1, 1, 2048],
  ]);
  assert.deepEqual(state.activeApps, [{ id: 'app-1', name: 'Spark Connect server', state: 'RUNNING', cores: 2 }]);
  assert.equal(describeMaster(state, 2), 'ALIVE, 2 of 2 workers alive, 2 of 2 cores used, apps: Spark Connect server');
});

test('a page that is not the master\u2019s is no master state', () => {
  assert.equal(parseMasterState({ id: 'worker-1', cores: 1 }), undefined);
  assert.equal(parseMasterState([]), undefined);
  assert.equal(parseMasterState(null), undefined);
  assert.deepEqual(parseMasterState({ url: 'spark://x:1', status: 'STANDBY', workers: 'nope' })?.workers, []);
});

/** Hand-built from the protobuf encoding rules: tag = field << 3 | 2, then a varint length, then the bytes. */
test('a Config GetOption request is encoded byte for byte', () => {
  const bytes = encodeConfigGetOption('s1', 'u', ['k'], 'c');
  const expected = Buffer.from([
    0x0a, 0x02, 0x73, 0x31, // session_id = 1: "s1"
    0x12, 0x03, 0x0a, 0x01, 0x75, // user_context = 2 { user_id = 1: "u" }
    0x1a, 0x05, 0x22, 0x03, 0x0a, 0x01, 0x6b, // operation = 3 { get_option = 4 { keys = 1: "k" } }
    0x22, 0x01, 0x63, // client_type = 4: "c"
  ]);
  assert.deepEqual(bytes, expected);
});

test('lengths of 128 bytes and more take a two-byte varint', () => {
  const key = 'k'.repeat(200);
  const bytes = encodeConfigGetOption('s', 'u', [key], 'c');
  const at = bytes.indexOf(Buffer.from(key)) - 3; // keys tag, then 200 as varint 0xc8 0x01
  assert.deepEqual([...bytes.subarray(at, at + 3)], [0x0a, 0xc8, 0x01]);
});

test('a Config response is decoded into its pairs; an absent value stays undefined', () => {
  const response = Buffer.from([
    0x0a, 0x01, 0x73, // session_id "s"
    0x12, 0x06, 0x0a, 0x01, 0x61, 0x12, 0x01, 0x62, // pairs { key "a", value "b" }
    0x12, 0x03, 0x0a, 0x01, 0x63, // pairs { key "c" } (no value)
    0x1a, 0x01, 0x77, // warnings "w"
  ]);
  const decoded = decodeConfigResponse(response);
  assert.equal(decoded.sessionId, 's');
  assert.deepEqual([...decoded.pairs], [
    ['a', 'b'],
    ['c', undefined],
  ]);
  assert.throws(() => decodeConfigResponse(Buffer.from([0x0a, 0x05, 0x73])), RangeError);
});

test('gRPC frames carry a zero flag and a big-endian length', () => {
  const framed = grpcFrame(Buffer.from('abc'));
  assert.deepEqual([...framed], [0, 0, 0, 0, 3, 0x61, 0x62, 0x63]);
  assert.deepEqual(grpcUnframe(framed), Buffer.from('abc'));
  assert.equal(grpcUnframe(framed.subarray(0, 6)), undefined);
  assert.equal(grpcUnframe(Buffer.from([1, 0, 0, 0, 0])), undefined, 'compressed messages are not read');
});

interface FakeConnect {
  readonly port: number;
  readonly requests: { readonly headers: IncomingHttpHeaders; readonly body: Buffer }[];
}

/** A plaintext HTTP/2 server that answers every call like a gRPC server would. */
async function fakeConnect(t: TestContext, answer: (body: Buffer) => { status: number; message?: Buffer }): Promise<FakeConnect> {
  const requests: FakeConnect['requests'] = [];
  const server: Http2Server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ headers, body });
      const { status, message } = answer(body);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(status), 'grpc-message': status === 0 ? '' : 'boom' }));
      stream.end(message === undefined ? undefined : grpcFrame(message));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { port: (server.address() as AddressInfo).port, requests };
}

test('the Connect probe makes a real gRPC Config call and returns the server\u2019s pairs', async (t) => {
  const pairs = Buffer.from([0x12, 0x06, 0x0a, 0x01, 0x6d, 0x12, 0x01, 0x78]); // { key "m", value "x" }
  const server = await fakeConnect(t, () => ({ status: 0, message: pairs }));
  const result = await callConnectConfig({ host: '127.0.0.1', port: server.port }, ['m']);
  assert.deepEqual(result === undefined ? undefined : [...result], [['m', 'x']]);
  const [request] = server.requests;
  assert.equal(request?.headers[':path'], '/spark.connect.SparkConnectService/Config');
  assert.equal(request?.headers['content-type'], 'application/grpc');
  assert.deepEqual(request?.body, grpcFrame(encodeConfigGetOption(HEALTH_SESSION_ID, 'tickstream-stack', ['m'], 'tickstream-stack-health')));
});

test('a gRPC error status, or nothing listening, is no answer', async (t) => {
  const server = await fakeConnect(t, () => ({ status: 12 }));
  assert.equal(await callConnectConfig({ host: '127.0.0.1', port: server.port }, ['m']), undefined);
  assert.equal(server.requests.length, 1);
  assert.equal(await callConnectConfig({ host: '127.0.0.1', port: await freePort() }, ['m'], 1_000), undefined);
});

test('the master state is fetched from /json/ on the UI port; anything else is undefined', async (t) => {
  let body: unknown = MASTER_JSON;
  const paths: string[] = [];
  const server: Server = createHttpServer((req, res) => {
    paths.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const ui = { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
  assert.equal((await fetchMasterState(ui))?.workers.length, 3);
  assert.deepEqual(paths, ['/json/']);
  body = 'not json';
  assert.equal(await fetchMasterState(ui), undefined);
});
