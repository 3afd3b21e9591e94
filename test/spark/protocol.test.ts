import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExecutePlanRequest, Relation } from '../../src/spark/index.ts';
import {
  decodeConfigResponse,
  decodeExecutePlanRequest,
  decodeExecutePlanResponse,
  encodeConfigRequest,
  encodeExecutePlanRequest,
} from '../../src/spark/protocol.ts';

// Protobuf wire format, by hand: a key byte is (field number << 3) | wire type, where wire
// type 0 is a varint and 2 is length-delimited (a length varint, then that many bytes).
const ascii = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const varintField = (field: number, value: number): number[] => [(field << 3) | 0, value];
/** A length-delimited field whose body is under 128 bytes, so its length is one byte. */
const lenField = (field: number, body: number[]): number[] => {
  assert.ok(body.length < 128, 'hand-built fields stay under 128 bytes');
  return [(field << 3) | 2, body.length, ...body];
};
const stringField = (field: number, s: string): number[] => lenField(field, ascii(s));

test('a config get request encodes byte for byte as the protocol defines it', () => {
  const bytes = encodeConfigRequest({
    session_id: 'S',
    user_context: { user_id: 'u' },
    operation: { get: { keys: ['tz'] } },
  });
  // ConfigRequest{ session_id(1)="S", user_context(2)={ user_id(1)="u" }, operation(3)={ get(2)={ keys(1)=["tz"] } } }
  const expected = Buffer.from([
    0x0a, 0x01, 0x53, //             field 1, length 1, "S"
    0x12, 0x03, 0x0a, 0x01, 0x75, // field 2, length 3: { field 1, length 1, "u" }
    0x1a, 0x06, //                   field 3, length 6:
    0x12, 0x04, //                     field 2 (get), length 4:
    0x0a, 0x02, 0x74, 0x7a, //           field 1 (keys), length 2, "tz"
  ]);
  assert.deepEqual(bytes, expected);
});

test('a streaming read relation inside an ExecutePlan request encodes byte for byte', () => {
  const relation: Relation = { read: { is_streaming: true, data_source: { format: 'rate', options: { rowsPerSecond: '5' } } } };
  const request: ExecutePlanRequest = {
    session_id: 'S',
    user_context: { user_id: 'u' },
    plan: { root: relation },
    operation_id: 'op',
  };
  // A map<string,string> entry is a nested message { key(1), value(2) }.
  const dataSource = [...stringField(1, 'rate'), ...lenField(3, [...stringField(1, 'rowsPerSecond'), ...stringField(2, '5')])];
  const read = [...lenField(2, dataSource), ...varintField(3, 1)]; // data_source(2), is_streaming(3)=true
  const expected = Buffer.from([
    ...stringField(1, 'S'), //                  session_id
    ...lenField(2, stringField(1, 'u')), //     user_context.user_id
    ...lenField(3, lenField(1, lenField(2, read))), // plan.root(1).read(2)
    ...stringField(6, 'op'), //                 operation_id
  ]);
  assert.deepEqual(encodeExecutePlanRequest(request), expected);
  assert.equal(expected.length, 48, 'the hand-built encoding has the size worked out on paper');
});

test('a write-stream start result decodes from hand-built response bytes', () => {
  const queryId = [...stringField(1, 'q-1'), ...stringField(2, 'run-7')];
  const bytes = Buffer.from([
    ...stringField(1, 'S'),
    ...lenField(8, [...lenField(1, queryId), ...stringField(2, 'bars')]), // write_stream_operation_start_result(8)
    ...stringField(12, 'op'), //  operation_id
    ...stringField(13, 'r1'), //  response_id
  ]);
  const response = decodeExecutePlanResponse(bytes);
  assert.equal(response.session_id, 'S');
  assert.equal(response.operation_id, 'op');
  assert.equal(response.response_type, 'write_stream_operation_start_result');
  assert.deepEqual(response.write_stream_operation_start_result, { query_id: { id: 'q-1', run_id: 'run-7' }, name: 'bars' });
});

test('progress JSON and Arrow bytes decode from hand-built responses; unknown fields are skipped', () => {
  const progress = '{"batchId":3}';
  // streaming_query_command_result(9) = { query_id(1), recent_progress(3) = { recent_progress_json(5) } }
  const command = Buffer.from([
    ...lenField(9, [...lenField(1, stringField(1, 'q')), ...lenField(3, stringField(5, progress))]),
    ...lenField(7, [0x08, 0x01]), // schema(7): a DataType we do not declare, skipped on decode
  ]);
  const decoded = decodeExecutePlanResponse(command);
  assert.deepEqual(decoded.streaming_query_command_result?.recent_progress?.recent_progress_json, [progress]);
  assert.equal(decoded.streaming_query_command_result?.query_id?.id, 'q');

  // arrow_batch(2) = { row_count(1) = 2, data(2) = bytes }
  const arrow = decodeExecutePlanResponse(Buffer.from(lenField(2, [...varintField(1, 2), ...lenField(2, [1, 2, 3])])));
  assert.equal(arrow.arrow_batch?.row_count, '2', 'int64 decodes as a decimal string');
  assert.deepEqual([...(arrow.arrow_batch?.data ?? [])], [1, 2, 3]);
});

test('a config response decodes its pairs, with an unset value left out', () => {
  const bytes = Buffer.from([
    ...stringField(1, 'S'),
    ...lenField(2, [...stringField(1, 'a'), ...stringField(2, '1')]),
    ...lenField(2, stringField(1, 'b')),
    ...stringField(3, 'careful'),
  ]);
  const response = decodeConfigResponse(bytes);
  assert.deepEqual(
    response.pairs?.map((p) => [p.key, p.value]),
    [
      ['a', '1'],
      ['b', undefined],
    ],
  );
  assert.deepEqual(response.warnings, ['careful']);
});

test('a full streaming plan survives encode and decode unchanged', () => {
  const plan: Relation = {
    aggregate: {
      input: {
        with_watermark: {
          input: { project: { input: { read: { is_streaming: true, data_source: { format: 'rate' } } }, expressions: [{ expression_string: { expression: 'timestamp AS ts' } }] } },
          event_time: 'ts',
          delay_threshold: '10 seconds',
        },
      },
      group_type: 'GROUP_TYPE_GROUPBY',
      grouping_expressions: [
        { unresolved_function: { function_name: 'window', arguments: [{ unresolved_attribute: { unparsed_identifier: 'ts' } }, { literal: { string: '5 seconds' } }] } },
      ],
      aggregate_expressions: [{ alias: { expr: { unresolved_function: { function_name: 'count', arguments: [{ literal: { integer: 1 } }] } }, name: ['n'] } }],
    },
  };
  const request: ExecutePlanRequest = { session_id: 'S', user_context: { user_id: 'u' }, plan: { root: plan } };
  const decoded = decodeExecutePlanRequest(encodeExecutePlanRequest(request));
  assert.deepEqual(withoutOneofMarkers(decoded), request);
});

/** The decoder names each set oneof member (oneofs: true), e.g. rel_type: 'read'; the request had none of those keys. */
function withoutOneofMarkers(value: unknown): unknown {
  const markers = new Set(['op_type', 'rel_type', 'read_type', 'expr_type', 'literal_type', '_format', '_schema', '_client_type', '_operation_id', '_unparsed_target', '_plan_id', '_metadata']);
  if (Array.isArray(value)) return value.map(withoutOneofMarkers);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !markers.has(k))
        .map(([k, v]) => [k, withoutOneofMarkers(v)]),
    );
  }
  return value;
}
