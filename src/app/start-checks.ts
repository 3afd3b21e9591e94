// Checks and wrappers for the start of a process: each turns a failure of its own part (the
// data dir, the replay file, Kafka's topics, a listener) into one line saying what to change.
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Config } from '../config/index.ts';
import { pause } from '../domain/index.ts';
import { ensureTradeTopics, pipelineTopics } from '../bus/index.ts';
import { findKafkaError, messageOf } from '../bus/kafka/kafka-options.ts';
import { BusUnavailableError, ConfigError, fileErrorReason, StartError, TickstreamError } from '../errors.ts';
import type { Logger } from '../observability/index.ts';
import { STDIN } from '../source/index.ts';

/** The data dir holds the embedded store, the engine's checkpoint and the spool; one that cannot be made stops the start. */
export function makeDataDir(dataDir: string): void {
  const fail = (reason: string, cause: unknown): StartError => new StartError(`cannot use the data dir ${dataDir}: ${reason}`, { cause });
  let missing: string[];
  try {
    missing = missingDirectories(resolve(dataDir));
  } catch (error) {
    throw fail(fileErrorReason(error), error);
  }
  // mkdir -p, one level at a time: Node's recursive mkdirSync loops for good where a directory
  // refuses a new one with ENOENT (/proc/x): it takes that for a missing parent, finds the
  // parent there, and tries the child again.
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Made meanwhile by another process: fine if it is a directory, as the next mkdir finds out.
      if (code === 'EEXIST' && statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true) continue;
      throw fail(code === 'ENOENT' ? `a directory cannot be made in ${dirname(dir)} (ENOENT)` : fileErrorReason(error), error);
    }
  }
}

/**
 * The directories to make, outermost first, for `dir` to exist; none when it is a directory. A
 * file where a directory should be, or a part of the path that cannot be read, is thrown as is.
 */
function missingDirectories(dir: string): string[] {
  const missing: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    const stat = statSync(at, { throwIfNoEntry: false });
    if (stat === undefined && dirname(at) !== at) {
      missing.unshift(at);
      continue;
    }
    // Nothing missing but no directory there: mkdir says what it is instead (EEXIST).
    if (at === dir && stat?.isDirectory() !== true) mkdirSync(dir);
    return missing;
  }
}

/**
 * A replay file that opens but cannot be read (a directory) would only stop the replay with a
 * log line after the rest has started, and `replay --exit` would report an empty replay. Only a
 * regular file or a directory is read from: a pipe (`-`, /dev/stdin, a FIFO) cannot be read at an
 * offset, a read would take a byte from the replay, and a FIFO's open waits for its writer.
 */
export function checkReplayFile(file: string): void {
  if (file === STDIN) return;
  let fd: number | undefined;
  try {
    const stat = statSync(file);
    if (!stat.isFile() && !stat.isDirectory()) return;
    fd = openSync(file, 'r');
    readSync(fd, Buffer.alloc(1), 0, 1, 0);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ConfigError('replay.file', file, `a readable NDJSON file of trades (${why})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Creates the trade topics; a Kafka that is not there is one line saying where, not the client's tree of errors. */
export async function ensureTopics(config: Config): Promise<string[]> {
  const { brokers, clientId, topicPartitions, retention, topic } = config.kafka;
  try {
    return await ensureTradeTopics({ brokers, clientId }, { partitions: topicPartitions, retentionMs: retention }, pipelineTopics(topic));
  } catch (error) {
    if (error instanceof TickstreamError) throw error;
    const at = `Kafka at ${brokers.join(',')}`;
    if (!KAFKA_UNREACHABLE.some((code) => findKafkaError(error, 'code', code) !== undefined)) {
      // Kafka answered and refused: asking again gets the same answer.
      throw new BusUnavailableError(`${at} did not create the trade topics: ${messageOf(error)}`, { cause: error, canRetry: false });
    }
    throw new BusUnavailableError(`${at} did not answer (creating the trade topics): ${innermostMessage(error)}; is it running? (tickstream stack up kafka)`, {
      cause: error,
    });
  }
}

/** Stops the wait for Kafka that `ensureTopicsOrWait` left running. */
export interface TopicWait {
  /** Whether Kafka did not answer at first, so that the topics are awaited in the background. */
  readonly waiting: boolean;
  /** Settles once the topics exist, or when the wait is closed first. */
  readonly done: Promise<void>;
  close(): void;
}

export interface TopicWaitOptions {
  /** Wait before the second attempt; each later one waits this much longer, up to `maxDelayMs`. */
  readonly delayMs?: number;
  readonly maxDelayMs?: number;
  /** The attempt itself (tests); `ensureTopics` of the config by default. */
  readonly ensure?: () => Promise<string[]>;
}

/**
 * The produce role's start. A Kafka that does not answer does not stop it: trades from the source
 * go to the producer's on-disk spool, and the topics are created in the background once Kafka
 * answers, after which the spool is sent. A live source does not wait, so refusing to start
 * would lose what it delivers until someone starts the producer again. A Kafka that answers
 * and refuses (a bad setting) still stops the start.
 */
export async function ensureTopicsOrWait(config: Config, logger: Logger, options: TopicWaitOptions = {}): Promise<TopicWait> {
  const ensure = options.ensure ?? (() => ensureTopics(config));
  const reportCreated = (created: readonly string[]): void => {
    if (created.length > 0) logger.info('topics created', { topics: created.join(',') });
  };
  try {
    reportCreated(await ensure());
    return { waiting: false, done: Promise.resolve(), close: () => {} };
  } catch (error) {
    if (!(error instanceof TickstreamError) || !error.canRetry) throw error;
    logger.warn(`${error.message}; trades go to the spool until it answers`);
  }
  const delayMs = options.delayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  const closing = new AbortController();
  const done = (async () => {
    let lastError = '';
    for (let attempt = 1; !closing.signal.aborted; attempt++) {
      await pause(Math.min(delayMs * attempt, maxDelayMs), closing.signal);
      if (closing.signal.aborted) return;
      try {
        const created = await ensure();
        logger.info('Kafka answers; the trade topics are there', { attempts: attempt + 1 });
        reportCreated(created);
        return;
      } catch (error) {
        // The same reason every few seconds says nothing new; a new one is worth a line.
        const message = error instanceof Error ? error.message : String(error);
        if (message !== lastError) logger.warn('Kafka still does not answer', { error: message });
        lastError = message;
      }
    }
  })();
  return { waiting: true, done, close: () => closing.abort() };
}

/** @platformatic/kafka's codes for a broker that could not be connected to or did not answer in time. */
const KAFKA_UNREACHABLE = ['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT'];

/** The first leaf of an error tree, e.g. `connect ECONNREFUSED 127.0.0.1:9092` under `metadata failed 3 times`. */
function innermostMessage(error: unknown): string {
  let current = error;
  for (let depth = 0; depth < 10; depth++) {
    const next: unknown = current instanceof AggregateError && current.errors.length > 0 ? current.errors[0] : current instanceof Error ? current.cause : undefined;
    if (next === undefined || next === null) break;
    current = next;
  }
  return current instanceof Error ? current.message : String(current);
}

/** A listener this process will open: its config key, its port (0 picks a free one) and what it serves. */
export type Listener = readonly [key: string, port: number, what: string];

/**
 * Two listeners of one process on one port: the second would fail with "address already in use",
 * which blames another process. Refused before anything starts, naming both keys.
 */
export function checkListenerPorts(listeners: readonly Listener[]): void {
  const taken = new Map<number, Listener>();
  for (const listener of listeners) {
    const [key, port] = listener;
    if (port === 0) continue;
    const first = taken.get(port);
    if (first !== undefined) throw new ConfigError(key, port, `a port other than ${first[0]}=${port}, where this process's ${first[2]} listens`);
    taken.set(port, listener);
  }
}

/**
 * Starts a listener of this process; a port in use or a host that does not resolve stops the
 * start with one line naming host:port and the flag to change, instead of the socket's error.
 * `hostFlag` is what chooses the host, where that is not --host (the simulator of `run`).
 */
export async function listening<T>(what: string, host: string, port: number, portFlag: string, listen: () => Promise<T>, hostFlag = '--host'): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    const reason = listenReason(error, portFlag, hostFlag);
    if (reason === undefined) throw error;
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    throw new StartError(`${what} could not listen on ${where}: ${reason}`, { cause: error });
  }
}

/** Why binding failed, or undefined when the error is not the socket's (e.g. the store's, while seeding). */
function listenReason(error: unknown, portFlag: string, hostFlag: string): string | undefined {
  if (!(error instanceof Error) || error instanceof TickstreamError) return undefined;
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (syscall !== 'listen' && syscall !== 'bind' && syscall !== 'getaddrinfo') return undefined;
  switch (code) {
    case 'EADDRINUSE':
      return `address already in use (another tickstream running? choose a port with ${portFlag})`;
    case 'EACCES':
      return `permission denied (ports below 1024 need privileges; choose a port with ${portFlag})`;
    case 'EADDRNOTAVAIL':
      return `no interface of this machine has that address (choose a host with ${hostFlag})`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name does not resolve (choose a host with ${hostFlag})`;
    default:
      return error.message;
  }
}
