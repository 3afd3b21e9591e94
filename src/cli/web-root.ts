import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The dashboard's built files: web/dist at the package root, from src/cli or dist/cli alike. */
export function webRoot(): string | undefined {
  const dir = fileURLToPath(new URL('../../web/dist/', import.meta.url));
  return existsSync(dir) ? dir : undefined;
}

/**
 * What the start-up line says is at `url`: the dashboard, or (web/dist not built, as after a bare
 * `npm ci`) the plain status page, with the command that builds the dashboard.
 */
export function dashboardPart(url: string | undefined, root: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  return root === undefined ? `status page ${url} (the dashboard is not built: npm run build:web)` : `dashboard ${url}`;
}
