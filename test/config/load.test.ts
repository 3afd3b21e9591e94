import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { envName, flagName, loadConfig, redactConfig } from '../../src/config/index.ts';

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
  assert.throws(() => loadConfig({ env: {}, cwd: dir, file: 'bad.json' }), /simulator\.rat=5 \(from .*bad\.json\)/);
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
