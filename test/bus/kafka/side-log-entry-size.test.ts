import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { fitEntry, MAX_ENTRY_BYTES, sends } from '../../../src/bus/kafka/kafka-side-log.ts';
import { MAX_SEND_BYTES } from '../../../src/bus/kafka/kafka-trade-producer.ts';

// A dead letter carries the record it could not read, base64. One of a record near the broker's
// 1 MiB limit is larger than a Kafka message may be: the broker refuses it for good, and the side
// log's kept entries (every later dead letter) waited behind it for ever. Entries are cut to fit.

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

const deadLetter = (raw: string) => ({
  topic: 'market.trades',
  partition: 3,
  offset: 8538,
  key: 'AAPL',
  raw,
  encoding: 'base64',
  reason: 'not an Avro Trade (900000 bytes): truncated buffer',
  receivedAt: 1_796_677_528_506,
});

test('an entry that fits is sent as it is', () => {
  const json = JSON.stringify(deadLetter('3q2+7w=='));
  assert.equal(fitEntry(json), json);
});

test("a dead letter too large for one message keeps its reason and place, and the start of its payload, and says what was cut", () => {
  const raw = randomBytes(900_000).toString('base64');
  const fitted = fitEntry(JSON.stringify(deadLetter(raw)));
  assert.ok(bytes(fitted) <= MAX_ENTRY_BYTES, `${bytes(fitted)} bytes`);
  const entry = JSON.parse(fitted) as ReturnType<typeof deadLetter> & { truncated: Record<string, number> };
  assert.deepEqual(entry.truncated, { raw: raw.length });
  assert.ok(raw.startsWith(entry.raw) && entry.raw.length > MAX_ENTRY_BYTES / 2, `kept ${entry.raw.length} characters of the payload`);
  const { raw: _raw, truncated: _truncated, ...rest } = entry;
  const { raw: _whole, ...expected } = deadLetter(raw);
  assert.deepEqual(rest, expected, 'topic, partition, offset, key, reason and time are whole');
});

test('text that takes several bytes a character, or escapes, is cut to fit all the same', () => {
  for (const unit of ['é', '€', '𝄞', '\n', '\u0001', '"']) {
    const fitted = fitEntry(JSON.stringify({ raw: unit.repeat(400_000), reason: 'not JSON' }));
    assert.ok(bytes(fitted) <= MAX_ENTRY_BYTES, `${JSON.stringify(unit)}: ${bytes(fitted)} bytes`);
    assert.equal((JSON.parse(fitted) as { reason: string }).reason, 'not JSON');
  }
});

test('several long fields are cut, longest first, until the entry fits', () => {
  const fitted = fitEntry(JSON.stringify({ raw: 'a'.repeat(300_000), reason: `bad: ${'b'.repeat(200_000)}` }), 100_000);
  assert.ok(bytes(fitted) <= 100_000);
  const entry = JSON.parse(fitted) as { truncated: Record<string, number> };
  assert.deepEqual(entry.truncated, { raw: 300_000, reason: 200_005 });
});

test('JSON that is no object, or has no text to cut, is kept as the start of its text with its size', () => {
  for (const json of [JSON.stringify('x'.repeat(300_000)), JSON.stringify(Array.from({ length: 60_000 }, (_, i) => i)), JSON.stringify({ n: Array.from({ length: 60_000 }, (_, i) => i) })]) {
    const fitted = fitEntry(json);
    assert.ok(bytes(fitted) <= MAX_ENTRY_BYTES);
    const entry = JSON.parse(fitted) as { truncated_entry: string; bytes: number };
    assert.equal(entry.bytes, bytes(json));
    assert.ok(json.startsWith(entry.truncated_entry) && entry.truncated_entry.length > 1000);
  }
});

test('entries go in sends of at most 768 KiB and 500 entries, in order, each with at least one', () => {
  const big = 'x'.repeat(MAX_ENTRY_BYTES);
  const values = [big, big, big, 'a', big, ...Array.from({ length: 1200 }, (_, i) => String(i))];
  const parts = sends(values);
  assert.deepEqual(parts.flat(), values, 'nothing lost, nothing reordered');
  for (const part of parts) {
    assert.ok(part.length >= 1 && part.length <= 500);
    assert.ok(part.reduce((n, v) => n + bytes(v), 0) <= MAX_SEND_BYTES);
  }
  assert.deepEqual(sends([]), []);
  assert.deepEqual(sends(['x'.repeat(MAX_SEND_BYTES + 1)]).map((p) => p.length), [1], 'a single value over the budget still goes, alone');
});
