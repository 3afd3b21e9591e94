import { join } from 'node:path';
import { StackPrerequisiteError } from '../errors.ts';
import { runToCompletion } from './process.ts';
import { JAVA_FEATURE_VERSION } from './versions.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Runs a command to completion and returns its combined output, or `not-found` when it does not exist. */
export type CommandRunner = (command: string, args: readonly string[], env: Env) => Promise<{ readonly code: number | null; readonly output: string } | 'not-found'>;

export interface Prerequisites {
  /** The `java` to start the services with: `$JAVA_HOME/bin/java` when JAVA_HOME is set. */
  readonly java: string;
  readonly javaVersion: string;
  readonly mvn: string;
  readonly mavenVersion: string;
  /** Things that work but are outside what the stack is tested with. */
  readonly warnings: readonly string[];
}

export type JavaProblem = { readonly kind: 'missing'; readonly command: string } | { readonly kind: 'too-old'; readonly version: string } | { readonly kind: 'unreadable'; readonly output: string };
export type MavenProblem = { readonly kind: 'missing' } | { readonly kind: 'unreadable'; readonly output: string };

const JAVA_INSTALL = `install it, e.g. \`sudo apt-get install openjdk-${JAVA_FEATURE_VERSION}-jdk-headless\` (Debian/Ubuntu) or \`brew install openjdk@${JAVA_FEATURE_VERSION}\` (macOS), then put it on PATH or set JAVA_HOME`;
const MAVEN_INSTALL = 'install it, e.g. `sudo apt-get install maven` (Debian/Ubuntu) or `brew install maven` (macOS)';

/** One line: what is missing and how to install it. */
export function javaProblemMessage(problem: JavaProblem): string {
  const need = `Java ${JAVA_FEATURE_VERSION} is needed by \`tickstream stack\``;
  switch (problem.kind) {
    case 'missing':
      return `${need} but \`${problem.command}\` was not found: ${JAVA_INSTALL}`;
    case 'too-old':
      return `${need} but the Java found is version ${problem.version}: ${JAVA_INSTALL}`;
    case 'unreadable':
      return `${need} but \`java -version\` printed no version (${oneLine(problem.output)}): ${JAVA_INSTALL}`;
    default: {
      const never: never = problem;
      return never;
    }
  }
}

export function mavenProblemMessage(problem: MavenProblem): string {
  const need = 'Maven is needed by `tickstream stack` to fetch Kafka and Cassandra from Maven Central';
  switch (problem.kind) {
    case 'missing':
      return `${need} but \`mvn\` was not found on PATH: ${MAVEN_INSTALL}`;
    case 'unreadable':
      return `${need} but \`mvn -v\` printed no version (${oneLine(problem.output)}): ${MAVEN_INSTALL}`;
    default: {
      const never: never = problem;
      return never;
    }
  }
}

const oneLine = (s: string): string => {
  const line = s.trim().split('\n')[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line || 'nothing';
};

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Reads `openjdk version "17.0.15" 2025-04-15` or `java version "1.8.0_292"` into the version and its feature release. */
export function parseJavaVersion(output: string): { readonly version: string; readonly feature: number } | undefined {
  const m = /version "([^"]+)"/.exec(output);
  if (!m?.[1]) return undefined;
  const version = m[1];
  const parts = version.split(/[.+_-]/);
  const first = Number(parts[0]);
  const feature = first === 1 ? Number(parts[1]) : first;
  return Number.isInteger(feature) ? { version, feature } : undefined;
}

/** Reads `Apache Maven 3.8.7 (...)`, with or without colour codes. */
export function parseMavenVersion(output: string): string | undefined {
  return /Apache Maven (\S+)/.exec(output.replace(ANSI, ''))?.[1];
}

export function javaCommand(env: Env): string {
  const home = env['JAVA_HOME'];
  return home ? join(home, 'bin', 'java') : 'java';
}

/** Finds Java 17+ and Maven, or throws StackPrerequisiteError with one line saying how to install what is missing. */
export async function checkPrerequisites(env: Env, run: CommandRunner = runCommand): Promise<Prerequisites> {
  const java = javaCommand(env);
  const javaOut = await run(java, ['-version'], env);
  if (javaOut === 'not-found') throw new StackPrerequisiteError(javaProblemMessage({ kind: 'missing', command: java }));
  const parsed = parseJavaVersion(javaOut.output);
  if (!parsed) throw new StackPrerequisiteError(javaProblemMessage({ kind: 'unreadable', output: javaOut.output }));
  if (parsed.feature < JAVA_FEATURE_VERSION) throw new StackPrerequisiteError(javaProblemMessage({ kind: 'too-old', version: parsed.version }));
  const warnings: string[] = [];
  if (parsed.feature > JAVA_FEATURE_VERSION) {
    warnings.push(`Java ${parsed.version} found; the stack is tested with Java ${JAVA_FEATURE_VERSION}, and Cassandra 5.0 supports only Java 11 and 17`);
  }

  const mvn = 'mvn';
  const mvnOut = await run(mvn, ['-v', '-B'], env);
  if (mvnOut === 'not-found') throw new StackPrerequisiteError(mavenProblemMessage({ kind: 'missing' }));
  const mavenVersion = parseMavenVersion(mvnOut.output);
  if (mavenVersion === undefined) throw new StackPrerequisiteError(mavenProblemMessage({ kind: 'unreadable', output: mvnOut.output }));
  return { java, javaVersion: parsed.version, mvn, mavenVersion, warnings };
}

/** The real CommandRunner: stdout and stderr together (java prints its version on stderr). */
export const runCommand: CommandRunner = async (command, args, env) => {
  try {
    return await runToCompletion(command, args, process.cwd(), env);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') return 'not-found';
    throw error;
  }
};
