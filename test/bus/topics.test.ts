import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_TRADES_TOPIC_LENGTH, pipelineTopics, TOPIC_NAME, topicRole, TOPICS } from '../../src/bus/topics.ts';

test('the side topics and Spark\'s bar topic are named after the trades topic, and the defaults are those of DESIGN.md', () => {
  assert.deepEqual(TOPICS, { trades: 'market.trades', deadLetters: 'market.trades.dlq', late: 'market.trades.late', sparkBars: 'market.bars.spark' });
  assert.deepEqual(pipelineTopics('crypto.trades'), { trades: 'crypto.trades', deadLetters: 'crypto.trades.dlq', late: 'crypto.trades.late', sparkBars: 'crypto.bars.spark' });
  assert.deepEqual(pipelineTopics('crypto'), { trades: 'crypto', deadLetters: 'crypto.dlq', late: 'crypto.late', sparkBars: 'crypto.bars.spark' });
  assert.equal(pipelineTopics('fx_trades').sparkBars, 'fx_trades.bars.spark', 'only a whole .trades at the end is replaced');
});

test("a topic's role is its part in the given pipeline, and null for any other topic", () => {
  const mine = pipelineTopics('crypto.trades');
  assert.equal(topicRole(mine, 'crypto.trades'), 'trades');
  assert.equal(topicRole(mine, 'crypto.trades.dlq'), 'dead_letters');
  assert.equal(topicRole(mine, 'crypto.trades.late'), 'late');
  assert.equal(topicRole(mine, 'market.trades'), null, "another pipeline's topic");
  assert.equal(topicRole(mine, 'crypto.trades.dlq.dlq'), null);
});

test('topic names follow Kafka: its characters, at most 249, not "." or ".."; the longest trades topic leaves room for every other', () => {
  for (const ok of ['a', 'market.trades', 'A-b_c.9', '...', 'x'.repeat(249)]) assert.ok(TOPIC_NAME.test(ok), ok);
  for (const bad of ['', '.', '..', 'a b', 'a/b', 'é', 'x'.repeat(250)]) assert.ok(!TOPIC_NAME.test(bad), JSON.stringify(bad));
  const longest = pipelineTopics('x'.repeat(MAX_TRADES_TOPIC_LENGTH));
  assert.ok(Object.values(longest).every((name) => TOPIC_NAME.test(name)));
  assert.ok(!Object.values(pipelineTopics('x'.repeat(MAX_TRADES_TOPIC_LENGTH + 1))).every((name) => TOPIC_NAME.test(name)));
});
