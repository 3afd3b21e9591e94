import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadConfig } from '../../../src/config/index.ts';
import { renderPom } from '../../../src/stack/pom.ts';
import { serviceEndpoints, type StackProcess } from '../../../src/stack/service.ts';
import { grpcFrame } from '../../../src/stack/services/spark-health.ts';
import {
  assembleSparkHome,
  connectArgs,
  connectConf,
  masterArgs,
  probeConnect,
  renderSparkLog4j2,
  sparkClasspath,
  sparkEnvironment,
  sparkService,
  sparkSettings,
  stackConnectUrl,
  SPARK_CONNECT_CLASS,
  SPARK_JAVA17_OPTIONS,
  SPARK_MASTER_CLASS,
  SPARK_SIZING,
  SPARK_WORKER_CLASS,
  workerArgs,
} from '../../../src/stack/services/spark.ts';
import { SPARK_RELEASE } from '../../../src/stack/versions.ts';
import { freePort } from '../../support/free-port.ts';

const config = (flags: Record<string, string> = {}) => loadConfig({ env: {}, flags: { dataDir: '/data', ...flags }, cwd: '/nonexistent' });

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-spark-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The value following a flag in an argument list. */
const after = (args: readonly string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

test('the pom asks for Spark 3.5 with Scala 2.12, the Connect server, Kafka, Avro and the Cassandra connector 3.5.1', () => {
  const pom = renderPom(SPARK_RELEASE);
  for (const artifact of ['spark-core', 'spark-sql', 'spark-connect', 'spark-sql-kafka-0-10', 'spark-avro']) {
    assert.match(pom, new RegExp(`<artifactId>${artifact}_2\\.12</artifactId>\\s*<version>3\\.5\\.\\d+</version>`), artifact);
  }
  assert.match(pom, /<groupId>com\.datastax\.spark<\/groupId>\s*<artifactId>spark-cassandra-connector_2\.12<\/artifactId>\s*<version>3\.5\.1<\/version>/);
  assert.match(pom, /<dependencyManagement>[\s\S]*<artifactId>spark-parent_2\.12<\/artifactId>\s*<version>3\.5\.\d+<\/version>\s*<type>pom<\/type>\s*<scope>import<\/scope>/);
  assert.equal(pom.match(/<dependency>/g)?.length, SPARK_RELEASE.artifacts.length + 1, 'the artifacts plus the imported parent');
});

test('the cluster is a master, two workers and a Connect server, started in that order', () => {
  assert.deepEqual(
    sparkService.processes.map((p) => [p.name, p.mainClass]),
    [
      ['spark-master', SPARK_MASTER_CLASS],
      ['spark-worker-1', SPARK_WORKER_CLASS],
      ['spark-worker-2', SPARK_WORKER_CLASS],
      ['spark-connect', SPARK_CONNECT_CLASS],
    ],
  );
});

test('ports are those of DESIGN.md by default, on loopback, and clear of Kafka, Cassandra and the dashboard', () => {
  const endpoints = serviceEndpoints(sparkService, config());
  assert.deepEqual(
    endpoints.map((e) => e.port),
    [7077, 8081, 7078, 8082, 7079, 8083, 15002, 4040],
  );
  assert.ok(endpoints.every((e) => e.host === '127.0.0.1'));
  for (const taken of [8080, 9042, 7000, 7199, 9092, 9093]) assert.ok(!endpoints.some((e) => e.port === taken), `port ${taken}`);
  assert.equal(new Set(endpoints.map((e) => e.port)).size, endpoints.length, 'no port twice');
});

test('other master, UI, Connect and driver UI ports in config reach the settings, every process\u2019s arguments and the endpoints', () => {
  const c = config({ 'spark.masterPort': '17077', 'spark.masterUiPort': '18081', 'spark.connectUrl': 'sc://spark-host:15010/;user_id=me', 'spark.uiPort': '14040' });
  const s = sparkSettings(c);
  assert.deepEqual([s.masterPort, s.masterUiPort, s.connectPort, s.uiPort], [17077, 18081, 15010, 14040]);
  assert.equal(s.masterUrl, 'spark://127.0.0.1:17077');
  assert.deepEqual(s.workers.map((w) => [w.name, w.port, w.uiPort]), [
    ['spark-worker-1', 17078, 18082],
    ['spark-worker-2', 17079, 18083],
  ]);

  const master = masterArgs(s);
  assert.deepEqual([after(master, '--port'), after(master, '--webui-port')], ['17077', '18081']);
  const [w1, w2] = s.workers;
  assert.ok(w1 && w2);
  const a1 = workerArgs(s, w1);
  const a2 = workerArgs(s, w2);
  assert.deepEqual([after(a1, '--port'), after(a1, '--webui-port'), a1.at(-1)], ['17078', '18082', 'spark://127.0.0.1:17077']);
  assert.deepEqual([after(a2, '--port'), after(a2, '--webui-port'), a2.at(-1)], ['17079', '18083', 'spark://127.0.0.1:17077']);
  const conf = new Map(connectConf(s));
  assert.equal(conf.get('spark.master'), 'spark://127.0.0.1:17077');
  assert.equal(conf.get('spark.connect.grpc.binding.port'), '15010');
  assert.equal(conf.get('spark.ui.port'), '14040');
  assert.ok(connectArgs(s).includes('-Dspark.connect.grpc.binding.port=15010'));
  assert.ok(connectArgs(s).includes('-Dspark.ui.port=14040'), 'the driver UI port reaches the command line');
  assert.equal(new Map(connectConf(sparkSettings(config()))).get('spark.ui.port'), '4040', 'Spark\u2019s own default unless configured');

  const endpoints = serviceEndpoints(sparkService, c);
  assert.deepEqual(endpoints.map((e) => e.port), [17077, 18081, 17078, 18082, 17079, 18083, 15010, 14040]);
  assert.ok(endpoints.every((e) => e.host === '127.0.0.1'), 'the host of spark.connectUrl is not where the stack binds');
});

test('the Connect port is the port of spark.connectUrl, 15002 when the URL names none; the stack\u2019s URL is on loopback', () => {
  const connectPort = (url: string): number => sparkSettings(config({ 'spark.connectUrl': url })).connectPort;
  assert.equal(connectPort('sc://127.0.0.1:15002'), 15002);
  assert.equal(connectPort('sc://10.1.2.3:15099'), 15099);
  assert.equal(connectPort('sc://[::1]:15003/;token=t'), 15003);
  assert.equal(connectPort('sc://spark-host'), 15002);
  assert.equal(connectPort('sc://spark-host/;user_id=me'), 15002);
  assert.equal(stackConnectUrl(config()), 'sc://127.0.0.1:15002');
  assert.equal(stackConnectUrl(config({ 'spark.connectUrl': 'sc://spark-host:15099/;user_id=me' })), 'sc://127.0.0.1:15099');
});

test('the highest master ports the config allows leave room for both workers', () => {
  const s = sparkSettings(config({ 'spark.masterPort': '65533', 'spark.masterUiPort': '65533' }));
  assert.deepEqual(s.workers.map((w) => [w.port, w.uiPort]), [
    [65534, 65534],
    [65535, 65535],
  ]);
  assert.throws(() => config({ 'spark.masterPort': '65534' }), /spark\.masterPort="65534"/);
  assert.throws(() => config({ 'spark.masterUiPort': '65534' }), /spark\.masterUiPort="65534"/);
});

const processNamed = (name: string): StackProcess => {
  const proc = sparkService.processes.find((p) => p.name === name);
  assert.ok(proc, name);
  return proc;
};

/** Listens on a port the config takes as a master UI port: at most 65533. */
async function listenOnUiPort(server: Server): Promise<number> {
  for (;;) {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    if (port <= 65533) return port;
    await new Promise((r) => server.close(r));
  }
}

test('the master and worker probes read the master UI on the configured port, and a worker finds itself by its configured port', async (t) => {
  let masterPort = 0;
  const server = createHttpServer((request, response) => {
    const worker = (n: number) => ({ id: `worker-${n}`, host: '127.0.0.1', port: masterPort + n, cores: 1, coresused: 0, memory: 2048, memoryused: 0, state: 'ALIVE' });
    response.setHeader('content-type', 'application/json');
    response.end(request.url === '/json/' ? JSON.stringify({ url: `spark://127.0.0.1:${masterPort}`, status: 'ALIVE', workers: [worker(1), worker(2)], activeapps: [] }) : '{}');
  });
  const uiPort = await listenOnUiPort(server);
  t.after(() => server.close());
  masterPort = uiPort - 1000;
  const c = config({ 'spark.masterPort': String(masterPort), 'spark.masterUiPort': String(uiPort) });

  assert.match((await processNamed('spark-master').probe(c)) ?? '', /^ALIVE, 2 of 2 workers alive/);
  assert.match((await processNamed('spark-worker-1').probe(c)) ?? '', new RegExp(`^registered with spark://127\\.0\\.0\\.1:${masterPort}`));
  assert.match((await processNamed('spark-worker-2').probe(c)) ?? '', /^registered with/);
  const elsewhere = config({ 'spark.masterPort': String(masterPort + 10), 'spark.masterUiPort': String(uiPort) });
  assert.equal(await processNamed('spark-worker-1').probe(elsewhere), undefined, 'a worker on another port is not this one');
});

/** A protobuf field of length-delimited bytes (each shorter than 128, so one length byte). */
const lengthDelimited = (field: number, bytes: Buffer): Buffer => Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);

test('the Connect probe calls the port of spark.connectUrl', async (t) => {
  // A ConfigResponse: session_id = 1, pairs = 2 { key = 1, value = 2 }.
  const pair = (k: string, v: string): Buffer => lengthDelimited(2, Buffer.concat([lengthDelimited(1, Buffer.from(k)), lengthDelimited(2, Buffer.from(v))]));
  const answer = Buffer.concat([lengthDelimited(1, Buffer.from('s')), pair('spark.master', 'spark://127.0.0.1:17077')]);
  const server = createHttp2Server();
  server.on('stream', (stream) => {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(grpcFrame(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;

  const health = await processNamed('spark-connect').probe(config({ 'spark.connectUrl': `sc://spark-host:${port}` }));
  assert.match(health ?? '', new RegExp(`^sc://127\\.0\\.0\\.1:${port} answers; master spark://127\\.0\\.0\\.1:17077`));
  assert.match(health ?? '', /, UI http:\/\/127\.0\.0\.1:4040 \(or the next free port\)$/, 'no log yet: where the UI will try first');
  const configured = await processNamed('spark-connect').probe(config({ 'spark.connectUrl': `sc://spark-host:${port}`, 'spark.uiPort': '14040' }));
  assert.match(configured ?? '', /, UI http:\/\/127\.0\.0\.1:14040 \(or the next free port\)$/, 'spark.uiPort is where it tries first');

  // The Connect server's log, where the launcher writes it, says Spark moved the UI past a taken 4040.
  const dataDir = tempDir(t);
  const logDir = join(dataDir, 'stack', 'spark', 'connect');
  mkdirSync(logDir, { recursive: true });
  writeFileSync(
    join(logDir, 'spark-connect.log'),
    "INFO Utils: Service 'SparkUI' could not bind on port 4040. Attempting port 4041.\nINFO Utils: Successfully started service 'SparkUI' on port 4041.\nINFO SparkContext: Running Spark version 3.5.7\n",
  );
  const moved = await processNamed('spark-connect').probe(config({ 'spark.connectUrl': `sc://spark-host:${port}`, dataDir }));
  assert.match(moved ?? '', /, UI http:\/\/127\.0\.0\.1:4041$/);
});

test('while the Connect server does not answer, its probe does not read the log for the UI port', async () => {
  const port = await freePort();
  let reads = 0;
  assert.equal(await probeConnect({ host: '127.0.0.1', port }, { host: '127.0.0.1', port: 4040, boundPort: () => (reads++, 4041) }), undefined);
  assert.equal(reads, 0);
});

test('settings put every process under <dataDir>/stack/spark and take Cassandra from config', () => {
  const s = sparkSettings(config({ 'cassandra.contactPoints': '127.0.0.1:19042', 'cassandra.localDataCenter': 'dc9' }));
  assert.equal(s.root, '/data/stack/spark');
  assert.equal(s.home, '/data/stack/spark/home');
  assert.equal(s.masterUrl, 'spark://127.0.0.1:7077');
  assert.deepEqual(
    s.workers.map((w) => [w.name, w.dir, w.cores, w.memoryMb]),
    [
      ['spark-worker-1', '/data/stack/spark/worker-1', 1, 2048],
      ['spark-worker-2', '/data/stack/spark/worker-2', 1, 2048],
    ],
  );
  assert.deepEqual([s.cassandraHost, s.cassandraPort, s.cassandraDataCenter], ['127.0.0.1', 19042, 'dc9']);
});

test('a relative data dir becomes absolute: executors start in the workers\u2019 own directories', () => {
  const s = sparkSettings(loadConfig({ env: {}, flags: { dataDir: 'state' }, cwd: '/nonexistent' }));
  assert.ok(s.home.startsWith('/'), s.home);
});

test('the master binds 127.0.0.1:7077 with its UI on 8081, from the Spark home classpath', () => {
  const s = sparkSettings(config());
  const args = masterArgs(s);
  assert.equal(after(args, '-cp'), '/data/stack/spark/home/conf:/data/stack/spark/home/jars/*');
  assert.equal(args[args.indexOf('-cp') + 2], SPARK_MASTER_CLASS);
  assert.equal(after(args, '--host'), '127.0.0.1');
  assert.equal(after(args, '--port'), '7077');
  assert.equal(after(args, '--webui-port'), '8081');
  for (const option of SPARK_JAVA17_OPTIONS) assert.ok(args.includes(option), option);
  assert.ok(args.indexOf('-Xmx512m') < args.indexOf('-cp'), 'JVM options come before the main class');
});

test('each worker offers one core and 2 GiB, has its own ports and work dir, and registers with the master', () => {
  const s = sparkSettings(config());
  const [w1, w2] = s.workers;
  assert.ok(w1 && w2);
  const a1 = workerArgs(s, w1);
  const a2 = workerArgs(s, w2);
  assert.equal(a1[a1.indexOf('-cp') + 2], SPARK_WORKER_CLASS);
  assert.deepEqual([after(a1, '--host'), after(a1, '--port'), after(a1, '--webui-port'), after(a1, '--cores'), after(a1, '--memory')], ['127.0.0.1', '7078', '8082', '1', '2048m']);
  assert.deepEqual([after(a2, '--port'), after(a2, '--webui-port')], ['7079', '8083']);
  assert.equal(after(a1, '--work-dir'), '/data/stack/spark/worker-1/work');
  assert.equal(after(a2, '--work-dir'), '/data/stack/spark/worker-2/work');
  assert.equal(a1.at(-1), 'spark://127.0.0.1:7077');
});

test('the Connect server is the driver of one application on the master, bound to loopback, with Cassandra configured', () => {
  const s = sparkSettings(config({ 'cassandra.contactPoints': '127.0.0.1:19042' }));
  const conf = new Map(connectConf(s));
  assert.equal(conf.get('spark.master'), 'spark://127.0.0.1:7077');
  assert.equal(conf.get('spark.connect.grpc.binding.port'), '15002');
  assert.equal(conf.get('spark.driver.host'), '127.0.0.1');
  assert.equal(conf.get('spark.driver.bindAddress'), '127.0.0.1');
  assert.equal(conf.get('spark.cassandra.connection.host'), '127.0.0.1');
  assert.equal(conf.get('spark.cassandra.connection.port'), '19042');
  assert.equal(conf.get('spark.cassandra.connection.localDC'), 'datacenter1');
  assert.equal(conf.get('spark.sql.extensions'), 'com.datastax.spark.connector.CassandraSparkExtensions');
  assert.equal(conf.get('spark.sql.session.timeZone'), 'UTC');
  assert.equal(new Set(connectConf(s).map(([k]) => k)).size, connectConf(s).length, 'no key twice');

  const args = connectArgs(s);
  for (const [k, v] of connectConf(s)) assert.ok(args.includes(`-D${k}=${v}`), k);
  assert.equal(args.at(-1), SPARK_CONNECT_CLASS);
  assert.equal(after(args, '-cp'), sparkClasspath(s.home));
});

test('executors fit the workers: one per worker, using all of its memory, and the app takes every core', () => {
  const conf = new Map(connectConf(sparkSettings(config())));
  const executorCores = Number(conf.get('spark.executor.cores'));
  const executorMb = Number(/^(\d+)m$/.exec(conf.get('spark.executor.memory') ?? '')?.[1]);
  assert.equal(executorCores, SPARK_SIZING.workerCores);
  assert.ok(executorMb <= SPARK_SIZING.workerMemoryMb, 'an executor larger than a worker would never start');
  assert.equal(Number(conf.get('spark.cores.max')), SPARK_SIZING.workers * SPARK_SIZING.workerCores);
  const heaps = SPARK_SIZING.daemonHeapMb * 3 + SPARK_SIZING.driverHeapMb + SPARK_SIZING.executorMemoryMb * SPARK_SIZING.workers;
  assert.ok(heaps <= 8 * 1024, `Spark's heaps (${heaps} MiB) leave most of 24 GiB to Kafka, Cassandra and the app`);
});

test('every Spark JVM gets SPARK_HOME, the Scala version and a loopback SPARK_LOCAL_IP', () => {
  const env = sparkEnvironment(sparkSettings(config()));
  assert.equal(env['SPARK_HOME'], '/data/stack/spark/home');
  assert.equal(env['SPARK_CONF_DIR'], '/data/stack/spark/home/conf');
  assert.equal(env['SPARK_SCALA_VERSION'], '2.12');
  assert.equal(env['SPARK_LOCAL_IP'], '127.0.0.1');
});

test('Java 17 module options are Spark 3.5\u2019s list', () => {
  assert.equal(SPARK_JAVA17_OPTIONS[0], '-XX:+IgnoreUnrecognizedVMOptions');
  assert.ok(SPARK_JAVA17_OPTIONS.includes('--add-opens=java.base/sun.nio.ch=ALL-UNNAMED'));
  assert.ok(SPARK_JAVA17_OPTIONS.includes('--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED'));
  assert.ok(SPARK_JAVA17_OPTIONS.includes('-Djdk.reflect.useDirectMethodHandle=false'));
  assert.ok(SPARK_JAVA17_OPTIONS.filter((o) => o.startsWith('--add-opens=')).every((o) => /^--add-opens=[\w.]+\/[\w.]+=ALL-UNNAMED$/.test(o)));
});

test('the Spark home links jars/ to the fetched classpath and holds the logging config; assembling again changes nothing', (t) => {
  const dir = tempDir(t);
  const lib = join(dir, 'cache', 'lib');
  mkdirSync(lib, { recursive: true });
  writeFileSync(join(lib, 'spark-core_2.12-3.5.7.jar'), '');
  const home = join(dir, 'home');
  assembleSparkHome(home, lib);
  assert.ok(lstatSync(join(home, 'jars')).isSymbolicLink());
  assert.equal(readlinkSync(join(home, 'jars')), lib);
  assert.ok(existsSync(join(home, 'jars', 'spark-core_2.12-3.5.7.jar')));
  assert.equal(readFileSync(join(home, 'conf', 'log4j2.properties'), 'utf8'), renderSparkLog4j2());
  assembleSparkHome(home, lib);
  assert.equal(readlinkSync(join(home, 'jars')), lib);
});

test('a Spark home whose jars/ points elsewhere, or is a plain folder, is pointed at the new classpath', (t) => {
  const dir = tempDir(t);
  const oldLib = join(dir, 'old');
  const newLib = join(dir, 'new');
  mkdirSync(oldLib);
  mkdirSync(newLib);
  const home = join(dir, 'home');
  assembleSparkHome(home, oldLib);
  assembleSparkHome(home, newLib);
  assert.equal(readlinkSync(join(home, 'jars')), newLib);
  assert.ok(existsSync(oldLib), 'the old classpath itself is left alone');

  const other = join(dir, 'home2');
  mkdirSync(join(other, 'jars'), { recursive: true });
  writeFileSync(join(other, 'jars', 'stale.jar'), '');
  assembleSparkHome(other, newLib);
  assert.equal(readlinkSync(join(other, 'jars')), newLib);
});

test('Log4j 2 logs INFO to stdout and quiets the per-batch chatter', () => {
  const text = renderSparkLog4j2();
  assert.match(text, /^rootLogger\.level = info$/m);
  assert.match(text, /^appender\.console\.target = SYSTEM_OUT$/m);
  assert.match(text, /^logger\.kafka\.name = org\.apache\.kafka\nlogger\.kafka\.level = warn$/m);
});

test('every up warns that the Connect server listens on all interfaces, naming its port; no other Spark process does', async () => {
  for (const [c, port] of [[config(), 15002], [config({ 'spark.connectUrl': 'sc://127.0.0.1:15099' }), 15099]] as const) {
    for (const proc of sparkService.processes) {
      const lines: string[] = [];
      await proc.afterHealthy?.(c, (line) => lines.push(line));
      if (proc.name === 'spark-connect') {
        assert.equal(lines.length, 1);
        assert.match(lines[0] ?? '', new RegExp(`^warning: spark-connect listens on port ${port} of every interface`));
      } else {
        assert.deepEqual(lines, [], proc.name);
      }
    }
  }
});
