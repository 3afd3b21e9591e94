import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { Admin, Producer } from '@platformatic/kafka';
import { buildWeb } from '../../scripts/build-web.ts';
import { startRoles } from '../../src/app/index.ts';
import { KafkaConsole, KafkaTradeProducer, TOPICS } from '../../src/bus/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { epochMs, price, volume, type Trade } from '../../src/domain/index.ts';
import { openDashboard, startDashboard, WAIT_MS, type Dashboard, type InPage, type Watched } from '../e2e/dashboard-harness.ts';
import { serverFor, SYMBOLS } from '../server/fixtures.ts';
import { until } from '../support/until.ts';
import { ensureStack, integrationConfig } from './stack-fixture.ts';

// The console page in Chromium, against the stack's broker. The page is served by an HTTP
// server in the cluster profile with the real KafkaConsole; the dashboard harness gives the
// browser (its launch flags) and the page that records console errors and failed requests.

const brokers = integrationConfig().kafka.brokers;
const run = `${process.pid}-${Date.now()}`;
let dashboard: Dashboard | undefined;

before(async () => {
  if ((await ensureStack(['kafka'])) === undefined) return;
  dashboard = await startDashboard({});
});

after(async () => {
  await dashboard?.close();
});

/** A topic of this run with a producer to it, both gone after the test. */
async function scratchTopic(t: TestContext, topic: string, partitions: number, groups: readonly string[] = []): Promise<{ admin: Admin; producer: Producer }> {
  const admin = new Admin({ clientId: 'tickstream-it-page', bootstrapBrokers: [...brokers] });
  t.after(async () => {
    if (groups.length > 0) await admin.deleteGroups({ groups: [...groups] }).catch(() => {});
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.close();
  });
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  const producer = new Producer({ clientId: 'tickstream-it-page', bootstrapBrokers: [...brokers], acks: -1 });
  t.after(() => producer.close());
  return { admin, producer };
}

/** The dashboard of an HTTP server of the cluster profile over `kafka`, open in the browser, and the server's data dir. */
async function consolePage(t: TestContext, d: Dashboard, kafka: KafkaConsole): Promise<Watched & { url: string; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-console-page-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ env: {}, cwd: dataDir, flags: { dataDir, port: '0', symbols: SYMBOLS.join(','), logLevel: 'silent', profile: 'cluster', store: 'sqlite' } });
  const { outDir } = await buildWeb();
  const { server } = serverFor(t, { kafka, config, webRoot: outDir });
  const url = await server.start();
  const opened = await openDashboard(t, { ...d, pipeline: { ...d.pipeline, url } }, { symbols: SYMBOLS.length });
  opened.page.setDefaultTimeout(WAIT_MS);
  return { ...opened, url, dataDir };
}

const trade: Trade = {
  symbol: 'AAPL',
  price: price(190.25),
  volume: volume(42),
  ts: epochMs(1_717_171_717_000),
  conditions: ['1', '12'],
  source: 'simulator',
  ingestTs: epochMs(1_717_171_717_004),
};

test('the console lists market.trades with its partitions, creates a topic, shows a decoded trade, deletes behind the typed name', async (t) => {
  const d = dashboard;
  if (d === undefined) return t.skip('no Java or Maven for the stack');
  const topic = `it.page.${run}`;
  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it-page', tradeTopics: [TOPICS.trades, topic] });
  t.after(async () => {
    await kafka.deleteTopic(topic).catch(() => false);
    await kafka.close();
  });
  const tradesTopic = await kafka.topic(TOPICS.trades);
  assert.ok(tradesTopic, 'the stack created market.trades');

  const { page, errors, foreign, dataDir } = await consolePage(t, d, kafka);

  // Overview: the tab appears in the cluster profile and lists the topics.
  await page.locator('#kafka-tab').click();
  assert.equal(new URL(page.url()).hash, '#/kafka');
  const tradesLink = page.locator(`.kafka-topics a[data-topic="${TOPICS.trades}"]`);
  await tradesLink.waitFor();
  assert.equal(await page.locator('#dashboard').isHidden(), true, 'the dashboard hides while the console shows');
  const tradesRow = page.locator('.kafka-topics tr', { has: page.locator(`a[data-topic="${TOPICS.trades}"]`) });
  assert.equal(await tradesRow.locator('td').nth(1).innerText(), String(tradesTopic.partitions.length));
  assert.equal(await tradesRow.locator('.kafka-role').innerText(), 'pipeline: trades', "the pipeline's topics are marked in the list");
  const dlqRow = page.locator('.kafka-topics tr', { has: page.locator(`a[data-topic="${TOPICS.deadLetters}"]`) });
  assert.equal(await dlqRow.locator('.kafka-role').innerText(), 'pipeline: dead letters');
  assert.match(await page.locator('.kafka-brokers').innerText(), /controller/);
  assert.match(await page.locator('.kafka-overview .kafka-head').innerText(), /Kafka 4\.\d+/);

  await tradesLink.click();
  await page.locator('.kafka-partitions tbody tr').nth(tradesTopic.partitions.length - 1).waitFor();
  assert.equal(await page.locator('.kafka-partitions tbody tr').count(), tradesTopic.partitions.length);
  assert.match(await page.locator('.kafka-config').innerText(), /retention\.ms/);
  assert.equal(await page.locator('.kafka-summary .kafka-role').innerText(), 'pipeline: trades');
  await page.locator('.kafka-messages table, .kafka-messages .empty').first().waitFor();

  // Deleting a topic of the pipeline says what it stops; cancelled here, the topic stays.
  await page.locator('[data-action="delete-topic"]').click();
  const pipelineDialog = page.locator('dialog.kafka-dialog');
  assert.match(await pipelineDialog.locator('.kafka-warning').innerText(), /topic of the pipeline.*engine waits while it is gone.*stops once it is created again.*--kafka-group-id.*producer keeps its trades in its spool/);
  await pipelineDialog.locator('button', { hasText: 'Cancel' }).click();
  await pipelineDialog.waitFor({ state: 'detached' });
  assert.ok(await kafka.topic(TOPICS.trades), 'market.trades is still there');
  await page.locator('a.back').click();
  await page.locator(`.kafka-topics a[data-topic="${TOPICS.deadLetters}"]`).click();
  await page.locator('[data-action="delete-topic"]').click();
  assert.match(await pipelineDialog.locator('.kafka-warning').innerText(), /each process keeps its entries in unsent\/ under its data dir, and sends them once it does/);
  await pipelineDialog.locator('button', { hasText: 'Cancel' }).click();
  await pipelineDialog.waitFor({ state: 'detached' });

  // Create a topic through the form.
  await page.locator('a.back').click();
  await page.locator('[data-action="create-topic"]').click();
  const form = page.locator('dialog.kafka-dialog form');
  await form.locator('input[name="name"]').fill(topic);
  await form.locator('input[name="partitions"]').fill('2');
  await form.locator('textarea[name="config"]').fill('retention.ms=3600000');
  await form.locator('button[type="submit"]').click();
  await page.waitForURL((u) => u.hash === `#/kafka/topic/${encodeURIComponent(topic)}`);
  await page.locator('.kafka-partitions tbody tr').nth(1).waitFor();
  assert.equal((await kafka.topic(topic))?.config['retention.ms'], '3600000', 'the form sent the config');

  // A trade in Avro, then the message browser shows it decoded.
  const producer = new KafkaTradeProducer({ brokers, clientId: 'tickstream-it-page', format: 'avro', dataDir, spoolLimit: 100, topic, retryDelayMs: 200 });
  await producer.append([trade]);
  await producer.close();
  await page.locator('a.back').click();
  const mine = page.locator('.kafka-topics tr', { has: page.locator(`a[data-topic="${topic}"]`) });
  assert.equal(await mine.locator('td').nth(3).innerText(), '1', 'one message in the topics table');
  assert.equal(await mine.locator('.kafka-role').count(), 0, 'a topic of its own plays no part in the pipeline');
  const rowHeight = async (row: typeof mine): Promise<number> => (await row.boundingBox())?.height ?? 0;
  const [plain, badged] = [await rowHeight(mine), await rowHeight(tradesRow)];
  assert.ok(Math.abs(badged - plain) <= 1, `a row with a role badge is as tall as one without (${badged} against ${plain} px)`);

  // The filter keeps the topics and groups whose names hold its text, says how many of how many, and stays through a refresh.
  const filter = page.locator('input.kafka-filter');
  await filter.fill(`PAGE.${run}`);
  assert.equal(await page.locator('.kafka-topics tbody tr:visible').count(), 1, 'only the topic of this test, whatever the case');
  assert.equal(await mine.isVisible(), true);
  assert.equal(await tradesRow.isVisible(), false);
  assert.match(await page.locator('[data-shown="topics"]').innerText(), /^1 of \d+$/);
  await page.locator('[data-action="refresh"]').click();
  await page.locator('[data-shown="topics"]', { hasText: /^1 of \d+$/ }).waitFor();
  assert.equal(await filter.inputValue(), `PAGE.${run}`);
  assert.equal(await tradesRow.isVisible(), false);
  await filter.fill('tickstream');
  for (const name of await page.locator('.kafka-group:visible').evaluateAll((els) => els.map((e) => e.getAttribute('data-group') ?? ''))) {
    assert.ok(name.toLowerCase().includes('tickstream'), `group ${name} shown for "tickstream"`);
  }
  await filter.fill('');
  assert.equal(await tradesRow.isVisible(), true);
  assert.equal(await page.locator('[data-shown="topics"]').innerText(), '');
  await mine.locator('a').click();
  const row = page.locator('.kafka-message-table tbody tr').first();
  await row.waitFor();
  const cells = row.locator('td');
  assert.equal(await cells.nth(2).innerText(), 'AAPL', 'the key');
  assert.equal(await row.locator('.format').innerText(), 'avro');
  const value = JSON.parse(await row.locator('pre').innerText()) as Record<string, unknown>;
  assert.deepEqual(value, { symbol: 'AAPL', price: 190.25, volume: 42, ts: 1_717_171_717_000, conditions: ['1', '12'], source: 'simulator', ingest_ts: 1_717_171_717_004 });

  // Delete: the button stays disabled until the name is typed exactly.
  await page.locator('[data-action="delete-topic"]').click();
  const dialog = page.locator('dialog.kafka-dialog');
  const confirm = dialog.locator('button.danger');
  assert.equal(await dialog.locator('.kafka-warning').count(), 0, 'a topic of its own is no topic of the pipeline');
  await dialog.locator('input[name="confirm"]').fill(topic.slice(0, -1));
  assert.equal(await confirm.isDisabled(), true);
  await dialog.locator('input[name="confirm"]').fill(topic);
  await confirm.click();
  await page.waitForURL((u) => u.hash === '#/kafka');
  await tradesLink.waitFor();
  assert.equal(await page.locator(`.kafka-topics a[data-topic="${topic}"]`).count(), 0, 'the deleted topic is gone from the list');
  assert.equal(await kafka.topic(topic), undefined);

  // Phone width: the console scrolls vertically, never sideways.
  await page.setViewportSize({ width: 390, height: 800 });
  const sideways = await page.evaluate(() => {
    const { document } = globalThis as unknown as InPage;
    return document.documentElement.scrollWidth - document.documentElement.clientWidth;
  });
  assert.ok(sideways <= 0, `the page scrolls sideways by ${sideways}px at phone width`);

  // Back to the dashboard.
  await page.locator('#dashboard-tab').click();
  await page.locator('#dashboard').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#kafka-console').isHidden(), true);

  assert.deepEqual(errors, [], 'no console errors, page errors or failed requests');
  assert.deepEqual(foreign, [], 'nothing fetched from elsewhere');
});

test('the message browser says why a page is empty or begins past the offset asked for, and marks bytes shown as base64', async (t) => {
  const d = dashboard;
  if (d === undefined) return t.skip('no Java or Maven for the stack');
  const topic = `it.page.browse.${run}`;
  const { admin, producer } = await scratchTopic(t, topic, 2);
  const headers = new Map([[Buffer.from('trace'), Buffer.from('abc')], [Buffer.from([0xff, 0x00]), Buffer.from([0x01, 0x02])]]);
  for (const value of ['gone', 'kept', 'last']) {
    await until(async () => (await producer.send({ messages: [{ topic, partition: 0, key: Buffer.from([0x00, 0xff]), value: Buffer.from(value), headers }] }).then(() => true, () => false)), 'the new topic takes a record');
  }
  await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 1n }] }] });

  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it-page' });
  t.after(() => kafka.close());
  const { page, errors, foreign, url } = await consolePage(t, d, kafka);
  await page.goto(`${url}#/kafka/topic/${encodeURIComponent(topic)}`);
  const results = page.locator('.kafka-messages');
  const browse = async (partition: string, from: 'newest' | 'offset', offset = ''): Promise<void> => {
    await page.locator('select[name="partition"]').selectOption(partition);
    await page.locator('select[name="from"]').selectOption(from);
    if (from === 'offset') await page.locator('input[name="offset"]').fill(offset);
    await page.locator('form.kafka-browse button[type="submit"]').click();
    await page.locator('.kafka-messages table, .kafka-messages .kafka-note').first().waitFor();
  };
  await page.locator('.kafka-messages table').waitFor();

  await browse('1', 'newest');
  assert.equal(await results.innerText(), 'Partition 1 holds no messages.');
  await browse('0', 'offset', '100');
  assert.equal(await results.innerText(), 'No messages from offset 100: it is past the end of partition 0; its offsets run from 1 to 2.');
  await browse('0', 'offset', '0');
  assert.equal(await results.locator('.kafka-note').innerText(), 'Offsets before 1 are no longer in partition 0 (removed by retention or deleted); showing from 1.');
  const rows = results.locator('.kafka-message-table tbody tr');
  assert.equal(await rows.count(), 2);
  const first = rows.first();
  assert.equal(await first.locator('.kafka-key').innerText(), 'base64 AP8=', 'a key of bytes is marked as base64');
  const lines = await first.locator('.kafka-header').allInnerTexts();
  assert.deepEqual(lines.map((l) => l.replace(/\s+/g, ' ')), ['trace: abc', 'base64 /wA=: base64 AQI='], 'header bytes are marked, text is not');

  // "from offset" with no offset is not sent as "newest": the field is required.
  await page.locator('input[name="offset"]').fill('');
  await page.locator('form.kafka-browse button[type="submit"]').click();
  assert.equal(await page.locator('input[name="offset"]').evaluate((el) => (el as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing), true);
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
});

test('a page of the message browser cut short by its byte budget says so, with what to ask for next', async (t) => {
  const d = dashboard;
  if (d === undefined) return t.skip('no Java or Maven for the stack');
  const topic = `it.page.cut.${run}`;
  const { producer } = await scratchTopic(t, topic, 1);
  // Six values of 100 characters; a page holds 250: two of them.
  const values = [0, 1, 2, 3, 4, 5].map((i) => Buffer.from(String(i).repeat(100)));
  await until(async () => (await producer.send({ messages: values.map((value) => ({ topic, partition: 0, value })) }).then(() => true, () => false)), 'the new topic takes records');

  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it-page', messageBytes: 250 });
  t.after(() => kafka.close());
  const { page, errors, foreign, url } = await consolePage(t, d, kafka);
  await page.goto(`${url}#/kafka/topic/${encodeURIComponent(topic)}`);
  const results = page.locator('.kafka-messages');
  const rows = results.locator('.kafka-message-table tbody tr');
  const note = results.locator('.kafka-page-cut');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 2, 'the newest two fit');
  assert.equal(await note.isVisible(), true);
  assert.equal(await note.innerText(), 'Showing the newest 2 messages of the 20 asked for: a page holds at most 250 B of keys and values, and older ones did not fit. Browse from an offset to see them.');

  await page.locator('select[name="from"]').selectOption('offset');
  await page.locator('input[name="offset"]').fill('1');
  await page.locator('form.kafka-browse button[type="submit"]').click();
  await results.locator('.kafka-message-table td', { hasText: /^1$/ }).waitFor();
  assert.equal(await rows.count(), 2);
  assert.equal(await note.innerText(), 'This page stops after offset 2, with 2 messages of the 20 asked for: a page holds at most 250 B of keys and values. Browse from offset 3 for the next ones.');

  await page.locator('input[name="offset"]').fill('4');
  await page.locator('form.kafka-browse button[type="submit"]').click();
  await results.locator('.kafka-message-table td', { hasText: /^4$/ }).waitFor();
  assert.equal(await rows.count(), 2);
  assert.equal(await note.count(), 0, 'a page that reaches the end within the budget has no note');
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
});

test('a group whose committed offset is past the log end says so on that partition and in its summary, instead of lag 0', async (t) => {
  const d = dashboard;
  if (d === undefined) return t.skip('no Java or Maven for the stack');
  const topic = `it.page.past-end.${run}`;
  const group = `it-page-past-end-${run}`;
  const { admin, producer } = await scratchTopic(t, topic, 2, [group]);
  await until(async () => (await producer.send({ messages: [0, 1].map((i) => ({ topic, partition: 0, value: Buffer.from(`r${i}`) })) }).then(() => true, () => false)), 'the new topic takes records');
  // As after the topic was deleted and made again: the group stands at 9 where the new log ends at 2.
  await admin.alterConsumerGroupOffsets({ groupId: group, topics: [{ name: topic, partitionOffsets: [{ partition: 0, offset: 9n }, { partition: 1, offset: 0n }] }] });

  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it-page' });
  t.after(() => kafka.close());
  const { page, errors, foreign, url } = await consolePage(t, d, kafka);
  await page.goto(`${url}#/kafka`);
  const details = page.locator(`.kafka-group[data-group="${group}"]`);
  await details.waitFor({ state: 'attached' });
  assert.equal(await details.locator('summary .kafka-past-end-count').innerText(), '1 partition past the log end', 'the summary says it before the group is opened');
  await details.locator('summary').click();
  const rows = details.locator('.kafka-lag tbody tr');
  assert.equal(await rows.count(), 2);
  const note = rows.nth(0).locator('.kafka-past-end');
  assert.equal(await note.isVisible(), true);
  assert.match(await note.innerText(), /^committed offset 9 is past the log end 2: the topic was deleted and made again/);
  assert.equal(await rows.nth(1).locator('td').nth(4).innerText(), '0', 'the partition the group has read to its end has lag 0');
  assert.equal(await rows.nth(1).locator('.kafka-past-end').count(), 0);
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
});

test("a serve role's dashboard shows the pipeline as Kafka sees it: where the counts come from, and no latency of its own", async (t) => {
  const d = dashboard;
  if (d === undefined) return t.skip('no Java or Maven for the stack');
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-serve-page-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const groupId = `it-serve-page-${run}`;
  const config = loadConfig({
    env: {},
    cwd: dataDir,
    flags: { dataDir, port: '0', symbols: SYMBOLS.join(','), logLevel: 'silent', profile: 'cluster', store: 'sqlite', 'kafka.brokers': brokers.join(','), 'kafka.groupId': groupId },
  });
  const { outDir } = await buildWeb();
  const serve = await startRoles(config, { produce: false, process: false, serve: true }, { webRoot: outDir });
  t.after(() => serve.close());
  const url = serve.url ?? assert.fail('the serve role listens');

  const { page, errors, foreign } = await openDashboard(t, { ...d, pipeline: { ...d.pipeline, url } }, { symbols: SYMBOLS.length });
  page.setDefaultTimeout(WAIT_MS);
  const line = page.locator('.health-source');
  await line.waitFor();
  assert.equal(await line.innerText(), `Counts from Kafka's offsets: trades appended to market.trades, and the lag of the engine's group ${groupId}`);
  assert.equal(await page.locator('.health-card[data-plot="latency"] .readout').innerText(), 'measured by the process role');
  assert.equal(await page.locator('.health-card[data-plot="lag"] .readout').innerText(), 'no offsets committed', 'a group that never committed has no lag to show');
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
});
