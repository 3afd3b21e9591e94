import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackStartError } from '../errors.ts';
import { counted } from '../observability/index.ts';
import { renderPom } from './pom.ts';
import type { Env } from './prerequisites.ts';
import type { ComponentRelease } from './versions.ts';

/** Pinned so that a Maven upgrade cannot change how the classpath is built. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const MARKER = '.complete';
const PROGRESS_EVERY_MS = 2_000;

/** `$XDG_CACHE_HOME/tickstream`, else `~/.cache/tickstream`. */
export function stackCacheRoot(env: Env, home: string): string {
  const xdg = env['XDG_CACHE_HOME'];
  return xdg !== undefined && xdg.startsWith('/') ? join(xdg, 'tickstream') : join(home, '.cache', 'tickstream');
}

export function componentCacheDir(cacheRoot: string, release: ComponentRelease): string {
  return join(cacheRoot, `${release.name}-${release.version}`);
}

export interface FetchOptions {
  readonly cacheRoot: string;
  readonly mvn: string;
  readonly env: Env;
  /** One line per step, for a person watching. */
  readonly progress: (line: string) => void;
  readonly now?: () => number;
}

export interface FetchedComponent {
  /** Directory holding every jar of the runtime classpath. */
  readonly libDir: string;
  /** The classpath entry for all of them: `libDir/*`. */
  readonly classpath: string;
  readonly jars: readonly string[];
  /** False when the cache already had it and nothing was run. */
  readonly fetched: boolean;
}

interface Marker {
  readonly pomSha256: string;
  readonly jars: number;
  readonly fetchedAt: string;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * Makes sure the component's jars are in the cache. The first call runs Maven on the
 * component's pom; a marker written after success (holding the pom's hash) makes
 * later calls return at once without touching Maven or the network.
 */
export async function ensureComponent(release: ComponentRelease, options: FetchOptions): Promise<FetchedComponent> {
  const dir = componentCacheDir(options.cacheRoot, release);
  const libDir = join(dir, 'lib');
  const pom = renderPom(release);
  const pomSha256 = sha256(pom);
  const marker = readMarker(join(dir, MARKER));
  if (marker?.pomSha256 === pomSha256 && existsSync(libDir)) {
    return { libDir, classpath: join(libDir, '*'), jars: listJars(libDir), fetched: false };
  }

  const now = options.now ?? Date.now;
  const started = now();
  const label = `${release.name} ${release.version}`;
  mkdirSync(dir, { recursive: true });
  rmSync(join(dir, MARKER), { force: true });
  writeFileSync(join(dir, 'pom.xml'), pom);
  const partial = join(dir, 'lib.partial');
  rmSync(partial, { recursive: true, force: true });
  options.progress(`${label}: resolving with Maven into ${dir} (first run only)`);

  const summary = new MavenOutputSummary();
  let lastReport = started;
  const code = await runMaven(
    options.mvn,
    ['-B', '-f', join(dir, 'pom.xml'), `${DEPENDENCY_PLUGIN}:copy-dependencies`, '-DincludeScope=runtime', `-DoutputDirectory=${partial}`],
    options.env,
    (line) => {
      summary.add(line);
      const t = now();
      if (t - lastReport >= PROGRESS_EVERY_MS) {
        lastReport = t;
        options.progress(`${label}: ${summary.describe(false)} · ${seconds(t - started)}`);
      }
    },
  );
  if (code !== 0) {
    const errors = summary.errors.slice(-8).join('\n  ');
    throw new StackStartError(
      `fetching ${label} with Maven failed (exit ${String(code)}); is Maven Central reachable?${errors ? `\n  ${errors}` : ''}\n  pom: ${join(dir, 'pom.xml')}`,
      { canRetry: true },
    );
  }
  rmSync(libDir, { recursive: true, force: true });
  renameSync(partial, libDir);
  const jars = listJars(libDir);
  const written: Marker = { pomSha256, jars: jars.length, fetchedAt: new Date(now()).toISOString() };
  writeFileSync(join(dir, MARKER), `${JSON.stringify(written)}\n`);
  options.progress(`${label}: ${jars.length} jars ready in ${seconds(now() - started)} (${summary.describe(true)})`);
  return { libDir, classpath: join(libDir, '*'), jars, fetched: true };
}

function readMarker(path: string): Marker | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Marker>;
    return typeof parsed.pomSha256 === 'string' ? (parsed as Marker) : undefined;
  } catch {
    return undefined;
  }
}

function listJars(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jar'))
    .sort();
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

const UNITS: Record<string, number> = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9 };

/** Condenses Maven's per-file transfer lines into a count and a size; keeps its ERROR lines. */
export class MavenOutputSummary {
  files = 0;
  bytes = 0;
  readonly errors: string[] = [];

  add(line: string): void {
    const done = /Downloaded from \S+: \S+ \((\d+(?:\.\d+)?) (B|kB|KB|MB|GB)/.exec(line);
    if (done?.[1] !== undefined && done[2] !== undefined) {
      this.files += 1;
      this.bytes += Number(done[1]) * (UNITS[done[2]] ?? 1);
      return;
    }
    if (/^\[ERROR\]/.test(line)) this.errors.push(line.replace(/^\[ERROR\]\s*/, ''));
  }

  /** `done` is false while Maven still runs: no download yet then means it is still resolving. */
  describe(done: boolean): string {
    if (this.files === 0) return done ? 'nothing downloaded, all from the local Maven repository' : 'resolving';
    return `${counted(this.files, 'file')} downloaded, ${(this.bytes / 1e6).toFixed(1)} MB`;
  }
}

function runMaven(mvn: string, args: readonly string[], env: Env, onLine: (line: string) => void): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(mvn, args, { env: { ...env, MAVEN_OPTS: env['MAVEN_OPTS'] ?? '-Xmx512m' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    const feed = (chunk: string): void => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line.trimEnd());
    };
    child.stdout.setEncoding('utf8').on('data', feed);
    child.stderr.setEncoding('utf8').on('data', feed);
    child.on('error', reject);
    child.on('close', (code) => {
      if (pending) onLine(pending);
      resolve(code);
    });
  });
}
