/**
 * Splits a CQL script into statements at `;`, the way cqlsh reads a file: semicolons inside
 * 'strings', "quoted identifiers", $$bodies$$ and comments (`--`, `//`, block) do not end a
 * statement, and comments are dropped. Statements come back trimmed, without the `;`.
 */
export function splitStatements(script: string): string[] {
  const out: string[] = [];
  let current = '';
  let i = 0;
  const n = script.length;
  const push = (): void => {
    const s = current.trim();
    if (s !== '') out.push(s);
    current = '';
  };
  while (i < n) {
    const c = script[i]!;
    const two = script.slice(i, i + 2);
    if (two === '--' || two === '//') {
      const end = script.indexOf('\n', i);
      i = end === -1 ? n : end;
    } else if (two === '/*') {
      const end = script.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
      current += ' ';
    } else if (two === '$$') {
      const end = script.indexOf('$$', i + 2);
      const stop = end === -1 ? n : end + 2;
      current += script.slice(i, stop);
      i = stop;
    } else if (c === "'" || c === '"') {
      // A doubled quote inside a quoted run is an escaped quote, so scanning on continues past it.
      let j = i + 1;
      while (j < n) {
        if (script[j] === c) {
          if (script[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      current += script.slice(i, j + 1);
      i = j + 1;
    } else if (c === ';') {
      push();
      i++;
    } else {
      current += c;
      i++;
    }
  }
  push();
  return out;
}

/**
 * Fills `{{name}}` placeholders. Every placeholder must have a value, so a typo in a
 * migration fails before anything is sent to the server.
 */
export function fillPlaceholders(statement: string, values: Readonly<Record<string, string>>): string {
  return statement.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new RangeError(`unknown placeholder {{${name}}}`);
    return value;
  });
}
