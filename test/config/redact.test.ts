import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, maskUrl, redactConfig } from '../../src/config/index.ts';

const emptyDir = (): string => mkdtempSync(join(tmpdir(), 'tickstream-redact-'));

test('GET /api/config shows URL settings without their password or secret parameters, the rest readable', () => {
  const config = loadConfig({
    env: { TICKSTREAM_FINNHUB_URL: 'wss://user:pw@ws.finnhub.io/?token=urlsecret', FINNHUB_TOKEN: 'tok-SECRET' },
    flags: { 'spark.connectUrl': 'sc://spark:15002/;token=scSECRET;user_id=me' },
    cwd: emptyDir(),
  });
  const shown = redactConfig(config);
  assert.equal(shown['finnhub.url'], 'wss://user:***@ws.finnhub.io/?token=***');
  assert.equal(shown['spark.connectUrl'], 'sc://spark:15002/;token=***;user_id=me');
  assert.equal(shown['finnhub.token'], '***');
  assert.doesNotMatch(JSON.stringify(shown), /pw@|urlsecret|SECRET/);
  assert.equal(config.finnhub.url, 'wss://user:pw@ws.finnhub.io/?token=urlsecret', 'the config itself keeps the URL');
});

test('a URL keeps its user, host, path and other parameters; only secrets are masked', () => {
  assert.equal(maskUrl('wss://ws.finnhub.io'), 'wss://ws.finnhub.io');
  assert.equal(maskUrl('wss://ws.finnhub.io/feed?symbol=AAPL&api_key=k1&Password=p1#access_token=t1'), 'wss://ws.finnhub.io/feed?symbol=AAPL&api_key=***&Password=***#access_token=***');
  assert.equal(maskUrl('https://me:p@ss:word@host:8443/x?secret=s&a=b'), 'https://me:***@host:8443/x?secret=***&a=b');
  assert.equal(maskUrl('https://onlyuser@host/'), 'https://onlyuser@host/');
  assert.equal(maskUrl('127.0.0.1:9092'), '127.0.0.1:9092');
  assert.equal(maskUrl('not a url?token=x'), 'not a url?token=x');
});
