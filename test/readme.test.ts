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
  const classes = Object.values(errors).filter(
    (v): v is new (...args: never[]) => errors.TickstreamError => typeof v === 'function' && v.prototype instanceof errors.TickstreamError,
  );
  const source = readFileSync(new URL('../src/errors.ts', import.meta.url), 'utf8');
  for (const code of Object.keys(errors.ERROR_CODES)) {
    assert.ok(source.includes(`super('${code}'`), `no error class uses ${code}`);
  }
  assert.ok(classes.length >= Object.keys(errors.ERROR_CODES).length - 1);
});

test('the README’s Quick start has exactly the two commands', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const quick = readme.split('## Quick start')[1]!.split('\n## ')[0]!;
  const commands = [...quick.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
  assert.deepEqual(commands, ['npm ci && npm start', 'npm test']);
});
