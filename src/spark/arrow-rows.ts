import { DataType, tableFromIPC, util, type Field, type Vector } from 'apache-arrow';

/** A value of a decoded row. int64 stays a bigint so that counts and offsets are exact. */
export type RowValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Date
  | Uint8Array
  | readonly RowValue[]
  | { readonly [column: string]: RowValue };

export type Row = Readonly<Record<string, RowValue>>;

/**
 * Decodes one ArrowBatch payload into plain rows. Spark Connect sends every batch as a
 * self-contained Arrow IPC stream (schema, then record batches), so each is decoded on its own.
 * Timestamps and dates become Date (milliseconds: Spark's microseconds are truncated),
 * decimals become strings with their scale, structs plain objects, lists arrays, maps objects.
 */
export function arrowBatchToRows(ipc: Uint8Array): Row[] {
  const table = tableFromIPC(ipc);
  const fields = table.schema.fields;
  const columns = fields.map((f) => table.getChild(f.name));
  const rows: Row[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, RowValue> = {};
    fields.forEach((field, c) => {
      row[field.name] = toPlain(columns[c]?.get(i), field.type);
    });
    rows.push(row);
  }
  return rows;
}

// apache-arrow types get() results per data type; each branch below narrows by the column's type.
function toPlain(value: unknown, type: DataType): RowValue {
  if (value === null || value === undefined) return null;
  if (DataType.isTimestamp(type) || DataType.isDate(type)) {
    return value instanceof Date ? value : new Date(Math.trunc(Number(value)));
  }
  if (DataType.isDecimal(type)) return decimalString(value, type.scale);
  if (DataType.isStruct(type)) {
    const out: Record<string, RowValue> = {};
    const struct = value as Record<string, unknown>;
    for (const child of type.children as Field[]) out[child.name] = toPlain(struct[child.name], child.type);
    return out;
  }
  if (DataType.isList(type) || DataType.isFixedSizeList(type)) {
    const list = value as Vector;
    const childType = (type.children[0] as Field).type;
    return Array.from({ length: list.length }, (_, i) => toPlain(list.get(i), childType));
  }
  if (DataType.isMap(type)) {
    const entryType = (type.children[0] as Field).type as DataType;
    const valueType = (entryType.children[1] as Field).type;
    const out: Record<string, RowValue> = {};
    for (const [k, v] of value as Iterable<[unknown, unknown]>) out[String(k)] = toPlain(v, valueType);
    return out;
  }
  if (DataType.isBinary(type) || DataType.isFixedSizeBinary(type)) return value as Uint8Array;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || typeof value === 'string') {
    return value;
  }
  return String(value);
}

function decimalString(value: unknown, scale: number): string {
  const unscaled = util.bigNumToBigInt(value as Parameters<typeof util.bigNumToBigInt>[0]);
  if (scale <= 0) return (unscaled * 10n ** BigInt(-scale)).toString();
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}
