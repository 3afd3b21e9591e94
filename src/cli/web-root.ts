import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The dashboard's built files: web/dist at the package root, from src/cli or dist/cli alike. */
export function webRoot(): string | undefined {
  const dir = fileURLToPath(new URL('../../web/dist/', import.meta.url));
  return existsSync(dir) ? dir : undefined;
}
