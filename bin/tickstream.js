#!/usr/bin/env node
// Runs the compiled CLI when built (npm run build), otherwise the TypeScript sources through tsx.
// In a checkout whose sources changed after the build, dist/ is stale: the sources run instead,
// with a line saying so, rather than yesterday's code without a word.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const sources = fileURLToPath(new URL('../src', import.meta.url));

/** The newest modification time of a .ts file under dir (0 when there is none). */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const stale = existsSync(compiled) && existsSync(sources) && newestSource(sources) > statSync(compiled).mtimeMs;
if (stale) process.stderr.write('tickstream: dist/ is older than src/ (npm run build to refresh it); running the sources\n');
if (existsSync(compiled) && !stale) {
  await import(compiled);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
