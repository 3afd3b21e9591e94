/** A line longer than the limit: its start and its length, the rest was read past and not kept. */
export interface OverlongLine {
  readonly head: string;
  readonly length: number;
}

/** How much of an over-long line is kept, for the dead letter. */
const HEAD_CHARS = 200;

/**
 * Splits text into NDJSON lines at '\n' (a '\r' before it is dropped); a last line without one
 * counts too. Yields the lines each chunk completes, together, so that a reader of a pipe knows
 * when it has all that was written so far. A line longer than `maxChars` is read past, keeping
 * only its start and length, so one runaway line (a file with no newlines) holds at most
 * `maxChars` plus a chunk in memory.
 */
export async function* ndjsonLines(chunks: AsyncIterable<string>, maxChars: number): AsyncGenerator<(string | OverlongLine)[]> {
  let pending = '';
  let overlong: { head: string; length: number } | undefined;
  for await (const text of chunks) {
    const lines: (string | OverlongLine)[] = [];
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      const end = nl === -1 ? text.length : nl;
      if (overlong === undefined && pending.length + (end - start) > maxChars) {
        overlong = { head: (pending + text.slice(start, start + HEAD_CHARS)).slice(0, HEAD_CHARS), length: pending.length };
        pending = '';
      }
      if (overlong !== undefined) overlong.length += end - start;
      else pending += text.slice(start, end);
      if (nl === -1) break;
      if (overlong !== undefined) {
        lines.push(overlong);
        overlong = undefined;
      } else {
        lines.push(pending.endsWith('\r') ? pending.slice(0, -1) : pending);
        pending = '';
      }
      start = nl + 1;
    }
    if (lines.length > 0) yield lines;
  }
  if (overlong !== undefined) yield [overlong];
  else if (pending !== '') yield [pending.endsWith('\r') ? pending.slice(0, -1) : pending];
}
