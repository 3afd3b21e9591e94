import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { envName, flagName, loadConfig, redactConfig } from '../../src/config/index.ts';

const configError = (message: RegExp) => (e: unknown): boolean => e instanceof ConfigError && message.test(e.message);

const emptyDir = (): string => mkdtempSync(join(tmpdir(), 'tickstream-config-'));

test('defaults give the embedded profile with the simulator', () => {
  const c = loadConfig({ env: {}, cwd: emptyDir() });
  assert.equal(c.profile, 'embedded');
  assert.equal(c.source, 'simulator');
  assert.equal(c.port, 8080);
  assert.equal(c.host, '127.0.0.1');
  assert.deepEqual(c.intervals.map((i) => i.label), ['5s', '1m']);
  assert.equal(c.lateness, 10_000);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.simulator));
});

test('a Finnhub token switches the default source to finnhub', () => {
  const c = loadConfig({ env: { FINNHUB_TOKEN: 'secret-token' }, cwd: emptyDir() });
  assert.equal(c.source, 'finnhub');
  assert.equal(c.finnhub.token, 'secret-token');
  assert.equal(redactConfig(c)['finnhub.token'], '***');
  assert.ok(!JSON.stringify(redactConfig(c)).includes('secret-token'));
});

test('precedence is defaults, then file, then environment, then flags', () => {
  const dir = emptyDir();
  writeFileSync(join(dir, 'tickstream.config.json'), JSON.stringify({ port: 9001, lateness: '20s', simulator: { rate: 10 } }));
  const fileOnly = loadConfig({ env: {}, cwd: dir });
  assert.equal(fileOnly.port, 9001);
  assert.equal(fileOnly.lateness, 20_000);
  assert.equal(fileOnly.simulator.rate, 10);
  const withEnv = loadConfig({ env: { TICKSTREAM_PORT: '9002' }, cwd: dir });
  assert.equal(withEnv.port, 9002);
  assert.equal(withEnv.lateness, 20_000);
  const withFlags = loadConfig({ env: { TICKSTREAM_PORT: '9002' }, flags: { port: '9003' }, cwd: dir });
  assert.equal(withFlags.port, 9003);
});

test('a bad value names the key, the value and what is allowed', () => {
  const cases: [Parameters<typeof loadConfig>[0], RegExp][] = [
    [{ flags: { port: '99999' } }, /invalid config port="99999" \(from --port\): expected an integer from 0 to 65535/],
    [{ env: { TICKSTREAM_LATENESS: 'soon' } }, /lateness="soon" \(from TICKSTREAM_LATENESS\): expected a duration/],
    [{ flags: { intervals: '5s,banana' } }, /intervals="5s,banana"/],
    [{ flags: { symbols: '' } }, /symbols=""/],
    [{ flags: { source: 'kafka' } }, /source="kafka".*one of simulator, finnhub, replay, auto/],
    [{ flags: { 'kafka.compression': 'zstd' } }, /kafka.compression="zstd".*one of lz4, snappy, gzip, none/],
    [{ env: { TICKSTREAM_LATNESS: '5s' } }, /TICKSTREAM_LATNESS=.*known setting/],
    [{ flags: { source: 'finnhub' } }, /finnhub.token/],
    [{ flags: { source: 'replay' } }, /replay.file/],
  ];
  for (const [inputs, message] of cases) {
    assert.throws(() => loadConfig({ env: {}, cwd: emptyDir(), ...inputs }), (e: unknown) => e instanceof ConfigError && message.test(e.message), String(message));
  }
});

test('the config file rejects unknown keys and malformed JSON with the path', () => {
  const dir = emptyDir();
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ simulator: { rat: 5 } }));
  assert.throws(() => loadConfig({ env: {}, cwd: dir, file: 'bad.json' }), /simulator\.rat=<not shown> \(from .*bad\.json\).*did you mean simulator\.rate\?/);
  writeFileSync(join(dir, 'broken.json'), '{ "port": ');
  assert.throws(() => loadConfig({ env: {}, cwd: dir, file: 'broken.json' }), /config file=.*broken\.json.*readable JSON/);
});

test('flag and environment names follow the config key', () => {
  assert.equal(flagName('dataDir'), 'data-dir');
  assert.equal(flagName('finnhub.url'), 'finnhub-url');
  assert.equal(envName('simulator.rate'), 'TICKSTREAM_SIMULATOR_RATE');
  assert.equal(envName('lateness'), 'TICKSTREAM_LATENESS');
});

test('the CI switch TICKSTREAM_STACK_REQUIRED is not mistaken for an unknown setting', () => {
  const config = loadConfig({ env: { TICKSTREAM_STACK_REQUIRED: '1', TICKSTREAM_PORT: '9001' }, cwd: tmpdir() });
  assert.equal(config.port, 9001);
});

test('a bare 0 from a flag or the environment is a zero duration where zero is allowed', () => {
  const fromFlags = loadConfig({ env: {}, cwd: emptyDir(), flags: { statusInterval: '0', lateness: '0', 'simulator.disorder': ' 0' } });
  assert.equal(fromFlags.statusInterval, 0);
  assert.equal(fromFlags.lateness, 0);
  assert.equal(fromFlags.simulator.disorder, 0);
  const fromEnv = loadConfig({ env: { TICKSTREAM_STATUS_INTERVAL: '0', TICKSTREAM_LATENESS: '0', TICKSTREAM_SIMULATOR_DISORDER: '0' }, cwd: emptyDir() });
  assert.deepEqual([fromEnv.statusInterval, fromEnv.lateness, fromEnv.simulator.disorder], [0, 0, 0]);
});

test('a bare 0 stays out of range where a duration must be positive, and other unit-less numbers stay invalid', () => {
  const load = (flags: Parameters<typeof loadConfig>[0] & object): unknown => loadConfig({ env: {}, cwd: emptyDir(), ...flags });
  assert.throws(() => load({ flags: { flushInterval: '0' } }), configError(/^invalid config flushInterval="0" \(from --flush-interval\): expected a duration .*\(from 1ms to 1h\)$/));
  assert.throws(() => load({ flags: { lateness: '5' } }), configError(/lateness="5" \(from --lateness\): expected a duration/));
  assert.throws(() => load({ env: { TICKSTREAM_STATUS_INTERVAL: '00' } }), configError(/statusInterval="00" \(from TICKSTREAM_STATUS_INTERVAL\)/));
  assert.throws(() => load({ flags: { intervals: '0' } }), configError(/intervals="0"/));
});

test('a duration in the config file needs a unit as in flags: a bare number other than 0 is refused, not read as ms', () => {
  const dir = emptyDir();
  for (const [json, message] of [
    [{ lateness: 10 }, /^invalid config lateness=10 \(from numbers\.json\): expected a duration with a unit such as 500ms, 10s, 1m \(from 0ms to 1d\)$/],
    [{ simulator: { disorder: 250 } }, /^invalid config simulator\.disorder=250 \(from numbers\.json\): expected a duration with a unit/],
    [{ kafka: { retention: 86_400_000 } }, /^invalid config kafka\.retention=86400000 \(from numbers\.json\)/],
    [{ flushInterval: 0 }, /^invalid config flushInterval=0 \(from numbers\.json\): expected .*\(from 1ms to 1h\)$/],
  ] as const) {
    writeFileSync(join(dir, 'numbers.json'), JSON.stringify(json));
    assert.throws(() => loadConfig({ env: {}, cwd: dir, file: 'numbers.json' }), configError(message), JSON.stringify(json));
  }
  writeFileSync(join(dir, 'zero.json'), JSON.stringify({ lateness: 0, statusInterval: 0, simulator: { disorder: '250ms' }, flushInterval: '2s' }));
  const c = loadConfig({ env: {}, cwd: dir, file: 'zero.json' });
  assert.deepEqual([c.lateness, c.statusInterval, c.simulator.disorder, c.flushInterval], [0, 0, 250, 2_000]);
});

test('numbers are plain decimals: hex, binary, octal, exponent and blank forms are refused for integers and fractions alike', () => {
  const load = (inputs: Parameters<typeof loadConfig>[0] & object) => loadConfig({ env: {}, cwd: emptyDir(), ...inputs });
  for (const text of ['0x10', '0X10', '0b1', '0o7', '1e3', '1E3', 'Infinity', '1_000', ' ', '', '+', '.', '1.', '- 1']) {
    assert.throws(
      () => load({ flags: { 'replay.speed': text } }),
      configError(new RegExp(`^invalid config replay\\.speed=${JSON.stringify(text).replace(/[.+]/g, '\\$&')} \\(from --replay-speed\\): expected a number from 0 to 1000000$`)),
      `--replay-speed ${JSON.stringify(text)}`,
    );
    assert.throws(() => load({ env: { TICKSTREAM_SIMULATOR_RATE: text } }), configError(/^invalid config simulator\.rate=/), `simulator.rate ${JSON.stringify(text)}`);
    assert.throws(() => load({ flags: { port: text } }), configError(/^invalid config port=/), `--port ${JSON.stringify(text)}`);
  }
  const dir = emptyDir();
  writeFileSync(join(dir, 'hex.json'), JSON.stringify({ replay: { speed: '0x10' } }));
  assert.throws(() => loadConfig({ env: {}, cwd: dir, file: 'hex.json' }), configError(/^invalid config replay\.speed="0x10" \(from hex\.json\)/));
  const speeds = ['10', '0', '0.5', '.5', ' 2.25 ', '1000000'].map((text) => load({ flags: { 'replay.speed': text } }).replay.speed);
  assert.deepEqual(speeds, [10, 0, 0.5, 0.5, 2.25, 1_000_000]);
  assert.equal(load({ env: { TICKSTREAM_REPLAY_SPEED: '2.5' } }).replay.speed, 2.5);
  assert.equal(load({ flags: { port: ' 9001' } }).port, 9001);
});

test('a host:port list rejects a port outside 1 to 65535 at load, naming the key, the value and the range', () => {
  const load = (inputs: Parameters<typeof loadConfig>[0] & object): unknown => loadConfig({ env: {}, cwd: emptyDir(), ...inputs });
  assert.throws(
    () => load({ flags: { 'kafka.brokers': '127.0.0.1:99999' } }),
    configError(/^invalid config kafka\.brokers="127\.0\.0\.1:99999" \(from --kafka-brokers\): expected a comma-separated list of host:port with a port from 1 to 65535/),
  );
  assert.throws(() => load({ flags: { 'kafka.brokers': 'a:9092,b:0' } }), configError(/kafka\.brokers="a:9092,b:0"/));
  assert.throws(() => load({ env: { TICKSTREAM_CASSANDRA_CONTACT_POINTS: 'db:0' } }), configError(/cassandra\.contactPoints="db:0" \(from TICKSTREAM_CASSANDRA_CONTACT_POINTS\)/));
  assert.throws(() => load({ flags: { 'cassandra.contactPoints': 'db:65536' } }), configError(/cassandra\.contactPoints="db:65536"/));
  assert.throws(() => load({ flags: { 'spark.connectUrl': 'sc://spark:0' } }), configError(/spark\.connectUrl="sc:\/\/spark:0".*port from 1 to 65535/));
  assert.throws(() => load({ flags: { 'finnhub.url': 'wss://ws.finnhub.io:99999' } }), configError(/finnhub\.url="wss:\/\/ws\.finnhub\.io:99999"/));
  const ok = loadConfig({
    env: {},
    cwd: emptyDir(),
    flags: { 'kafka.brokers': 'k1:1,[::1]:65535', 'cassandra.contactPoints': 'db:9042', 'spark.connectUrl': 'sc://spark/;user_id=me', 'finnhub.url': 'wss://ws.finnhub.io:443' },
  });
  assert.deepEqual(ok.kafka.brokers, ['k1:1', '[::1]:65535']);
  assert.equal(ok.spark.connectUrl, 'sc://spark/;user_id=me');
});

test('an unknown setting is named and a likely key suggested, but its value is never printed', () => {
  const dir = emptyDir();
  const cases: [Parameters<typeof loadConfig>[0] & object, RegExp][] = [
    [
      { env: { TICKSTREAM_FINHUB_TOKEN: 'sk_live_SECRET123' } },
      /^invalid config TICKSTREAM_FINHUB_TOKEN=<not shown> \(from environment\): expected a known setting \(TICKSTREAM_FINHUB_TOKEN is unknown; did you mean TICKSTREAM_FINNHUB_TOKEN\?\)/,
    ],
    [{ env: { TICKSTREAM_WHATEVER: 'sk_live_SECRET123' } }, /TICKSTREAM_WHATEVER=<not shown> \(from environment\): expected a known setting \(TICKSTREAM_WHATEVER is unknown\)/],
  ];
  writeFileSync(join(dir, 'typo.json'), JSON.stringify({ finnhub: { tokn: 'sk_live_SECRET123' } }));
  cases.push([{ file: 'typo.json' }, /finnhub\.tokn=<not shown> \(from .*typo\.json\): .*did you mean finnhub\.token\?/]);
  writeFileSync(join(dir, 'other.json'), JSON.stringify({ finnhub: { apikey: 'sk_live_SECRET123' } }));
  cases.push([{ file: 'other.json' }, /finnhub\.apikey=<not shown> .*the keys under finnhub are url, token/]);
  writeFileSync(join(dir, 'number.json'), JSON.stringify({ finnhub: { token: 4242424242 } }));
  cases.push([{ file: 'number.json' }, /^invalid config finnhub\.token=<not shown> \(from number\.json\): expected a string$/]);
  writeFileSync(join(dir, 'section.json'), JSON.stringify({ finnhub: 'sk_live_SECRET123' }));
  cases.push([{ file: 'section.json' }, /^invalid config finnhub=<not shown> \(from .*section\.json\): expected an object of settings$/]);
  writeFileSync(join(dir, 'syntax.json'), '{ "finnhub": { "token": sk_live_SECRET123 } }');
  cases.push([{ file: 'syntax.json' }, /config file=.*syntax\.json.*readable JSON file \(.*not valid JSON\)/]);
  for (const [inputs, message] of cases) {
    assert.throws(
      () => loadConfig({ env: {}, cwd: dir, ...inputs }),
      (e: unknown) => e instanceof ConfigError && message.test(e.message) && !/sk_live|SECRET|4242/.test(e.message),
      String(message),
    );
  }
});

test('a URL in a bad value is printed without its credentials', () => {
  assert.throws(
    () => loadConfig({ env: {}, cwd: emptyDir(), flags: { 'finnhub.url': 'wss://user:pw@ws.finnhub.io:99999/?token=urlsecret' } }),
    configError(/^invalid config finnhub\.url="wss:\/\/user:\*\*\*@ws\.finnhub\.io:99999\/\?token=\*\*\*" \(from --finnhub-url\)/),
  );
});

test('bar intervals stop at one day, and the error says so', () => {
  const c = loadConfig({ env: {}, cwd: emptyDir(), flags: { intervals: '1d,5s' } });
  assert.deepEqual(c.intervals.map((i) => i.label), ['5s', '1d']);
  for (const intervals of ['5s,200000000d', '86400001ms', '25h', '2d']) {
    assert.throws(
      () => loadConfig({ env: {}, cwd: emptyDir(), flags: { intervals } }),
      configError(new RegExp(`^invalid config intervals="${intervals}" \\(from --intervals\\): expected .*each from 1ms to 1d$`)),
      intervals,
    );
  }
  assert.throws(() => loadConfig({ env: { TICKSTREAM_INTERVALS: '1m,48h' }, cwd: emptyDir() }), configError(/from TICKSTREAM_INTERVALS.*to 1d/));
});

test('a list of intervals that names one length twice is refused, naming the key and the repeated interval', () => {
  const dir = emptyDir();
  writeFileSync(join(dir, 'twice.json'), JSON.stringify({ intervals: ['1m', '5s', '60s'] }));
  const cases: [Parameters<typeof loadConfig>[0] & object, RegExp][] = [
    [{ flags: { intervals: '5s,5s' } }, /^invalid config intervals="5s,5s" \(from --intervals\): expected a comma-separated list of different durations such as 5s,1m, each from 1ms to 1d \(5s is given twice\)$/],
    [{ flags: { intervals: '5s,1m,60s' } }, /^invalid config intervals="5s,1m,60s" \(from --intervals\): expected .* \(1m and 60s are the same interval\)$/],
    [{ env: { TICKSTREAM_INTERVALS: '1d,24h' } }, /^invalid config intervals="1d,24h" \(from TICKSTREAM_INTERVALS\): expected .* \(1d and 24h are the same interval\)$/],
    [{ file: 'twice.json' }, /^invalid config intervals=1m,5s,60s \(from twice\.json\): expected .* \(1m and 60s are the same interval\)$/],
  ];
  for (const [inputs, message] of cases) assert.throws(() => loadConfig({ env: {}, cwd: dir, ...inputs }), configError(message), String(message));
});

test('a list of symbols that names one twice is refused, naming the key, where it came from and the repeated symbol', () => {
  const dir = emptyDir();
  writeFileSync(join(dir, 'twice.json'), JSON.stringify({ symbols: ['BINANCE:BTCUSDT', 'AAPL', 'BINANCE:BTCUSDT'] }));
  const cases: [Parameters<typeof loadConfig>[0] & object, RegExp][] = [
    [
      { flags: { symbols: 'AAPL,MSFT,AAPL' } },
      /^invalid config symbols="AAPL,MSFT,AAPL" \(from --symbols\): expected a comma-separated list of different symbols such as AAPL or BINANCE:BTCUSDT \(at least 1\) \(AAPL is given twice\)$/,
    ],
    [{ flags: { symbols: 'AAPL, MSFT,MSFT ' }, command: 'simulate' }, /^invalid config symbols="AAPL, MSFT,MSFT " \(from --symbols\): expected .* \(MSFT is given twice\)$/],
    [{ env: { TICKSTREAM_SYMBOLS: 'MSFT,MSFT' } }, /^invalid config symbols="MSFT,MSFT" \(from TICKSTREAM_SYMBOLS\): expected .* \(MSFT is given twice\)$/],
    [{ file: 'twice.json' }, /^invalid config symbols=BINANCE:BTCUSDT,AAPL,BINANCE:BTCUSDT \(from twice\.json\): expected .* \(BINANCE:BTCUSDT is given twice\)$/],
    // Not a symbol at all: the rule for symbols says what is wrong, not the repeat.
    [{ flags: { symbols: 'BRK B,BRK B' } }, /^invalid config symbols="BRK B,BRK B" \(from --symbols\): expected a comma-separated list of different symbols such as AAPL or BINANCE:BTCUSDT \(at least 1\)$/],
  ];
  for (const [inputs, message] of cases) assert.throws(() => loadConfig({ env: {}, cwd: dir, ...inputs }), configError(message), String(message));
});

test('a flag a command spells its own way is named that way in errors', () => {
  const load = (command?: string): unknown => loadConfig({ env: {}, cwd: emptyDir(), flags: { 'simulator.port': '99999' }, ...(command === undefined ? {} : { command }) });
  assert.throws(() => load('simulate'), configError(/^invalid config simulator\.port="99999" \(from --port\): expected an integer from 0 to 65535$/));
  assert.throws(() => load('run'), configError(/simulator\.port="99999" \(from --simulator-port\)/));
  assert.throws(() => load(), configError(/simulator\.port="99999" \(from --simulator-port\)/));
  assert.throws(
    () => loadConfig({ env: {}, cwd: emptyDir(), flags: { 'simulator.host': 'not a host' }, command: 'simulate' }),
    configError(/simulator\.host="not a host" \(from --host\)/),
  );
});

test('kafka.topic names the trades topic; a name Kafka refuses, or one too long for its side topics, names the key and the rule', () => {
  const load = (inputs: Parameters<typeof loadConfig>[0] & object) => loadConfig({ env: {}, cwd: emptyDir(), ...inputs });
  assert.equal(load({}).kafka.topic, 'market.trades');
  assert.equal(load({ env: { TICKSTREAM_KAFKA_TOPIC: 'crypto.trades' } }).kafka.topic, 'crypto.trades');
  assert.equal(load({ flags: { 'kafka.topic': 'x'.repeat(238) } }).kafka.topic.length, 238);
  for (const bad of ['bad name', '', '..', 'a/b', 'x'.repeat(239)]) {
    assert.throws(
      () => load({ flags: { 'kafka.topic': bad } }),
      configError(/^invalid config kafka\.topic=".*" \(from --kafka-topic\): expected a Kafka topic name: 1-238 letters, digits, "\.", "_" or "-", not "\." or "\.\."$/),
      JSON.stringify(bad),
    );
  }
});

test('the stack\u2019s Spark master ports default to 7077 and 8081 and are read from the file, the environment and flags', () => {
  const load = (inputs: Parameters<typeof loadConfig>[0] & object) => loadConfig({ env: {}, cwd: emptyDir(), ...inputs });
  assert.deepEqual([load({}).spark.masterPort, load({}).spark.masterUiPort], [7077, 8081]);
  assert.deepEqual([flagName('spark.masterPort'), envName('spark.masterPort')], ['spark-master-port', 'TICKSTREAM_SPARK_MASTER_PORT']);
  assert.deepEqual([flagName('spark.masterUiPort'), envName('spark.masterUiPort')], ['spark-master-ui-port', 'TICKSTREAM_SPARK_MASTER_UI_PORT']);
  const dir = emptyDir();
  writeFileSync(join(dir, 'spark.json'), JSON.stringify({ spark: { masterPort: 17077, masterUiPort: 18081 } }));
  const fromFile = loadConfig({ env: {}, cwd: dir, file: 'spark.json' });
  assert.deepEqual([fromFile.spark.masterPort, fromFile.spark.masterUiPort], [17077, 18081]);
  const fromEnv = load({ env: { TICKSTREAM_SPARK_MASTER_PORT: '27077', TICKSTREAM_SPARK_MASTER_UI_PORT: '28081' } });
  assert.deepEqual([fromEnv.spark.masterPort, fromEnv.spark.masterUiPort], [27077, 28081]);
  const fromFlags = load({ flags: { 'spark.masterPort': '37077', 'spark.masterUiPort': '38081' } });
  assert.deepEqual([fromFlags.spark.masterPort, fromFlags.spark.masterUiPort], [37077, 38081]);
});

test('a Spark master port outside 1 to 65533, where both workers\u2019 ports still fit, names the key, the value and the range', () => {
  const load = (inputs: Parameters<typeof loadConfig>[0] & object) => loadConfig({ env: {}, cwd: emptyDir(), ...inputs });
  assert.equal(load({ flags: { 'spark.masterPort': '65533' } }).spark.masterPort, 65533);
  assert.throws(
    () => load({ flags: { 'spark.masterPort': '65534' } }),
    configError(/^invalid config spark\.masterPort="65534" \(from --spark-master-port\): expected an integer from 1 to 65533$/),
  );
  assert.throws(
    () => load({ env: { TICKSTREAM_SPARK_MASTER_UI_PORT: '0' } }),
    configError(/^invalid config spark\.masterUiPort="0" \(from TICKSTREAM_SPARK_MASTER_UI_PORT\): expected an integer from 1 to 65533$/),
  );
  assert.throws(() => load({ flags: { 'spark.masterUiPort': 'web' } }), configError(/^invalid config spark\.masterUiPort="web" \(from --spark-master-ui-port\)/));
  assert.throws(() => load({ flags: { 'spark.masterPort': '7077.5' } }), configError(/^invalid config spark\.masterPort="7077\.5"/));
});

test('the stack\u2019s Spark Connect driver UI port, spark.uiPort, defaults to 4040, is read from the file, the environment and flags, and is a port', () => {
  const load = (inputs: Parameters<typeof loadConfig>[0] & object) => loadConfig({ env: {}, cwd: emptyDir(), ...inputs });
  assert.equal(load({}).spark.uiPort, 4040);
  assert.deepEqual([flagName('spark.uiPort'), envName('spark.uiPort')], ['spark-ui-port', 'TICKSTREAM_SPARK_UI_PORT']);
  const dir = emptyDir();
  writeFileSync(join(dir, 'spark.json'), JSON.stringify({ spark: { uiPort: 14040 } }));
  assert.equal(loadConfig({ env: {}, cwd: dir, file: 'spark.json' }).spark.uiPort, 14040);
  assert.equal(load({ env: { TICKSTREAM_SPARK_UI_PORT: '24040' } }).spark.uiPort, 24040);
  assert.equal(load({ env: { TICKSTREAM_SPARK_UI_PORT: '24040' }, flags: { 'spark.uiPort': '34040' } }).spark.uiPort, 34040);
  assert.equal(load({ flags: { 'spark.uiPort': '65535' } }).spark.uiPort, 65535);
  assert.throws(() => load({ flags: { 'spark.uiPort': '0' } }), configError(/^invalid config spark\.uiPort="0" \(from --spark-ui-port\): expected an integer from 1 to 65535$/));
  assert.throws(() => load({ env: { TICKSTREAM_SPARK_UI_PORT: 'ui' } }), configError(/^invalid config spark\.uiPort="ui" \(from TICKSTREAM_SPARK_UI_PORT\)/));
});

test('cassandra.replication defaults to 1 and is read, in its normal form, from the file, the environment and flags', () => {
  assert.equal(loadConfig({ env: {}, cwd: emptyDir() }).cassandra.replication, '1');
  const dir = emptyDir();
  writeFileSync(join(dir, 'tickstream.config.json'), JSON.stringify({ cassandra: { replication: 3 } }));
  assert.equal(loadConfig({ env: {}, cwd: dir }).cassandra.replication, '3');
  assert.equal(loadConfig({ env: { TICKSTREAM_CASSANDRA_REPLICATION: ' dc1 : 3 , dc2:2 ' }, cwd: dir }).cassandra.replication, 'dc1:3,dc2:2');
  assert.equal(loadConfig({ env: {}, flags: { 'cassandra.replication': 'datacenter1:1' }, cwd: dir }).cassandra.replication, 'datacenter1:1');
  assert.equal(flagName('cassandra.replication'), 'cassandra-replication');
  assert.equal(envName('cassandra.replication'), 'TICKSTREAM_CASSANDRA_REPLICATION');
});

test('a cassandra.replication that is neither a factor nor data center:factor pairs names the key, the value and both forms', () => {
  for (const [inputs, shown, from] of [
    [{ flags: { 'cassandra.replication': '0' } }, '"0"', '--cassandra-replication'],
    [{ env: { TICKSTREAM_CASSANDRA_REPLICATION: 'dc1:3,dc1:2' } }, '"dc1:3,dc1:2"', 'TICKSTREAM_CASSANDRA_REPLICATION'],
    [{ flags: { 'cassandra.replication': "dc'1:3" } }, `"dc'1:3"`, '--cassandra-replication'],
  ] as const) {
    assert.throws(
      () => loadConfig({ env: {}, cwd: emptyDir(), ...inputs }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message === `invalid config cassandra.replication=${shown} (from ${from}): expected a replication factor from 1 to 10 (SimpleStrategy), or data centers with their factors such as dc1:3,dc2:3 (NetworkTopologyStrategy; each name 1-64 letters, digits, "_", "-" or ".", given once)` &&
        !e.message.includes('\n'),
    );
  }
});

test('a key of the config file that every object has (constructor, __proto__, toString) is an unknown setting, not a crash', () => {
  const dir = emptyDir();
  for (const [text, key] of [
    ['{"constructor": 1}', 'constructor'],
    ['{"__proto__": {"port": 1}}', '__proto__'],
    ['{"toString": "x"}', 'toString'],
    ['{"simulator": {"hasOwnProperty": 1}}', 'simulator.hasOwnProperty'],
  ] as const) {
    writeFileSync(join(dir, 'object.json'), text);
    assert.throws(
      () => loadConfig({ env: {}, cwd: dir, file: 'object.json' }),
      configError(new RegExp(`^invalid config ${key.replace('.', '\\.')}=<not shown> \\(from .*object\\.json\\): expected a known setting \\(${key.replace('.', '\\.')} is unknown`)),
      text,
    );
  }
});

test('a config file saved with a byte order mark is read as its JSON', () => {
  const dir = emptyDir();
  writeFileSync(join(dir, 'bom.json'), `\uFEFF${JSON.stringify({ port: 9001, simulator: { rate: 10 } })}`);
  const c = loadConfig({ env: {}, cwd: dir, file: 'bom.json' });
  assert.deepEqual([c.port, c.simulator.rate], [9001, 10]);
  writeFileSync(join(dir, 'tickstream.config.json'), `\uFEFF${JSON.stringify({ port: 9002 })}`);
  assert.equal(loadConfig({ env: {}, cwd: dir }).port, 9002);
});

test('a config file that cannot be read says why and what named it; an empty name is refused rather than read as the working directory', () => {
  const dir = emptyDir();
  mkdirSync(join(dir, 'settings'));
  const cases: [Parameters<typeof loadConfig>[0] & object, RegExp][] = [
    [{ file: 'missing.json' }, /^invalid config config file=".*missing\.json" \(from --config\): expected a readable JSON file \(no such file\)$/],
    [{ file: 'settings' }, /^invalid config config file=".*settings" \(from --config\): expected a readable JSON file \(it is a directory\)$/],
    [{ env: { TICKSTREAM_CONFIG: 'missing.json' } }, /^invalid config config file=".*missing\.json" \(from TICKSTREAM_CONFIG\): expected a readable JSON file \(no such file\)$/],
    [{ file: '' }, /^invalid config config file="" \(from --config\): expected the path of a JSON file of settings$/],
    [{ env: { TICKSTREAM_CONFIG: '' } }, /^invalid config config file="" \(from TICKSTREAM_CONFIG\): expected the path of a JSON file of settings$/],
  ];
  for (const [inputs, message] of cases) assert.throws(() => loadConfig({ env: {}, cwd: dir, ...inputs }), configError(message), String(message));
});

test('malformed JSON in the config file is placed by line and column', () => {
  const dir = emptyDir();
  writeFileSync(join(dir, 'comma.json'), '{\n  "port": 9001,\n  "lateness": "20s",\n}\n');
  assert.throws(
    () => loadConfig({ env: {}, cwd: dir, file: 'comma.json' }),
    configError(/^invalid config config file=".*comma\.json" \(from --config\): expected a readable JSON file \(Expected double-quoted property name in JSON at line 4, column 1\)$/),
  );
});

test('a host may be an IPv6 address in brackets, as a URL shows it, and is kept without them; other brackets are refused', () => {
  const load = (inputs: Parameters<typeof loadConfig>[0] & object) => loadConfig({ env: {}, cwd: emptyDir(), ...inputs });
  assert.equal(load({ flags: { host: '[::1]' } }).host, '::1');
  assert.equal(load({ flags: { host: '::1' } }).host, '::1');
  assert.equal(load({ env: { TICKSTREAM_SIMULATOR_HOST: '[fe80::1]' } }).simulator.host, 'fe80::1');
  for (const host of ['[localhost]', 'local[host]', '[::1', '[]']) {
    assert.throws(() => load({ flags: { host } }), configError(/^invalid config host=.* \(from --host\): expected a host name or IP address$/), host);
  }
});

test('an empty TICKSTREAM_FINNHUB_TOKEN does not erase the token FINNHUB_TOKEN gives, and a set one still wins', () => {
  const load = (env: Record<string, string>) => loadConfig({ env, cwd: emptyDir() });
  const kept = load({ FINNHUB_TOKEN: 'from-finnhub', TICKSTREAM_FINNHUB_TOKEN: '' });
  assert.deepEqual([kept.finnhub.token, kept.source], ['from-finnhub', 'finnhub']);
  assert.equal(load({ FINNHUB_TOKEN: 'from-finnhub', TICKSTREAM_FINNHUB_TOKEN: 'from-tickstream' }).finnhub.token, 'from-tickstream');
  const none = load({ FINNHUB_TOKEN: '', TICKSTREAM_FINNHUB_TOKEN: '' });
  assert.deepEqual([none.finnhub.token, none.source], [undefined, 'simulator']);
  assert.throws(() => load({ TICKSTREAM_PORT: '' }), configError(/^invalid config port="" \(from TICKSTREAM_PORT\)/), 'an empty variable of a key with one name is still its value');
});

test('a status interval below 1s is refused, naming the flag, the value and the range, while 0 still turns the status line off', () => {
  const load = (flags: Record<string, string>): unknown => loadConfig({ env: {}, cwd: emptyDir(), flags });
  assert.throws(
    () => load({ statusInterval: '1ms' }),
    configError(/^invalid config statusInterval="1ms" \(from --status-interval\): expected 0 to turn it off, or a duration with a unit such as 10s, 1m, 1h \(from 1s to 1h\)$/),
  );
  assert.throws(() => load({ statusInterval: '999ms' }), configError(/statusInterval="999ms"/));
  assert.equal(loadConfig({ env: {}, cwd: emptyDir(), flags: { statusInterval: '1s' } }).statusInterval, 1_000);
  assert.equal(loadConfig({ env: {}, cwd: emptyDir(), flags: { statusInterval: '0ms' } }).statusInterval, 0);
});
