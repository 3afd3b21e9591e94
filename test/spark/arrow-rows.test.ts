import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Bool,
  Field,
  Float64,
  Int32,
  Int64,
  List,
  Struct,
  Table,
  TimestampMicrosecond,
  Utf8,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { arrowBatchToRows } from '../../src/spark/index.ts';

test('an Arrow IPC stream decodes into plain rows, one object per row', () => {
  const table = new Table({
    x: vectorFromArray([1, 2], new Int32()),
    n: vectorFromArray([3n, 2n ** 60n], new Int64()),
    price: vectorFromArray([101.5, 99.25], new Float64()),
    symbol: vectorFromArray(['AAPL', null], new Utf8()),
    ok: vectorFromArray([true, false], new Bool()),
  });
  const rows = arrowBatchToRows(tableToIPC(table, 'stream'));
  assert.deepEqual(rows, [
    { x: 1, n: 3n, price: 101.5, symbol: 'AAPL', ok: true },
    { x: 2, n: 2n ** 60n, price: 99.25, symbol: null, ok: false },
  ]);
  for (const row of rows) assert.equal(Object.getPrototypeOf(row), Object.prototype, 'rows are plain objects');
});

test('a window struct of microsecond timestamps decodes to nested objects of Dates', () => {
  const tsType = new TimestampMicrosecond('UTC');
  const windowType = new Struct([new Field('start', tsType), new Field('end', tsType)]);
  const start = Date.UTC(2024, 0, 2, 3, 4, 5);
  const table = new Table({
    window: vectorFromArray([{ start, end: start + 5000 }], windowType),
    prices: vectorFromArray([[1, 2, 3]], new List(new Field('item', new Int32()))),
  });
  const [row] = arrowBatchToRows(tableToIPC(table, 'stream'));
  assert.deepEqual(row, { window: { start: new Date(start), end: new Date(start + 5000) }, prices: [1, 2, 3] });
});

test('an empty result keeps no rows', () => {
  const table = new Table({ x: vectorFromArray([], new Int32()) });
  assert.deepEqual(arrowBatchToRows(tableToIPC(table, 'stream')), []);
});
