// Builds the dashboard (web/ → web/dist) with Vite, unless web/dist is already newer than every file in web/.
// Usage: node --import tsx scripts/build-web.ts [--force]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const WEB_DIR = join(ROOT, 'web');
export const WEB_DIST = join(WEB_DIR, 'dist');

export interface BuildWebResult {
  /** Where the built files are (web/dist). */
  readonly outDir: string;
  /** True when web/dist was up to date and nothing was built. */
  readonly skipped: boolean;
  readonly durationMs: number;
}

/** The newest modification time of the files under `dir`, skipping the names in `skip`; 0 for none. */
function newestMtimeMs(dir: string, skip: ReadonlySet<string>): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (skip.has(path)) continue;
    const mtime = entry.isDirectory() ? newestMtimeMs(path, skip) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

/** True when web/dist/index.html exists and is newer than every source file in web/. */
export function webDistIsFresh(): boolean {
  let built: number;
  try {
    built = statSync(join(WEB_DIST, 'index.html')).mtimeMs;
  } catch {
    return false;
  }
  return built > newestMtimeMs(WEB_DIR, new Set([WEB_DIST, join(WEB_DIR, 'node_modules')]));
}

/** Builds the dashboard with Vite's JS API (web/vite.config.ts), or skips it when web/dist is fresh. */
export async function buildWeb(options: { force?: boolean } = {}): Promise<BuildWebResult> {
  const started = performance.now();
  if (options.force !== true && webDistIsFresh()) {
    return { outDir: WEB_DIST, skipped: true, durationMs: performance.now() - started };
  }
  // Imported here, so a fresh web/dist costs no Vite start-up.
  const { build } = await import('vite');
  await build({ configFile: join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn' });
  return { outDir: WEB_DIST, skipped: false, durationMs: performance.now() - started };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const force = process.argv.includes('--force');
  buildWeb({ force }).then(
    (r) => {
      const where = relative(process.cwd(), r.outDir) || '.';
      process.stdout.write(
        r.skipped ? `web: ${where} is up to date\n` : `web: built ${where} in ${Math.round(r.durationMs)} ms\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(`web: build failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
