import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderReadme } from '../src/docs-sections.ts';
import * as errors from '../src/errors.ts';

test('the README’s configuration and error sections match the code (run `npm run docs`)', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.equal(renderReadme(readme), readme);
});

test('every exported error class has a registered code and every code is used by a class', () => {
  const exported: unknown[] = Object.values(errors);
  const classes = exported.filter((v) => typeof v === 'function' && v.prototype instanceof errors.TickstreamError);
  const source = readFileSync(new URL('../src/errors.ts', import.meta.url), 'utf8');
  const codes = Object.keys(errors.ERROR_CODES);
  for (const code of codes) {
    assert.ok(source.includes(`super('${code}'`), `no error class uses ${code}`);
  }
  const used = [...source.matchAll(/super\('(TICKSTREAM_[A-Z_]+)'/g)].map((m) => m[1]);
  for (const code of used) assert.ok(codes.includes(code as string), `${code} is thrown but not registered`);
  assert.equal(classes.length, used.length, 'one exported class per super(code) call');
});

test('the README’s Quick start has exactly the two commands', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const quick = readme.split('## Quick start')[1]!.split('\n## ')[0]!;
  const commands = [...quick.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
  assert.deepEqual(commands, ['npm ci && npm start', 'npm test']);
});
