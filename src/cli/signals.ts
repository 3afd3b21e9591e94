import { TickstreamError } from '../errors.ts';
import type { Logger } from '../observability/index.ts';

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      exitOnSecondSignal();
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

function exitOnSecondSignal(): void {
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}

/**
 * A SIGINT or SIGTERM before the command had started (while its modules loaded, its store
 * connected or a FIFO waited for a writer): the start closed what it had opened, and main says
 * so in one line and exits 0, as for a Ctrl-C once the command runs.
 */
export class StoppedBeforeStart extends Error {
  readonly signal: NodeJS.Signals;

  constructor(signal: NodeJS.Signals) {
    super(`stopped by ${signal} before start-up completed`);
    this.name = 'StoppedBeforeStart';
    this.signal = signal;
  }
}

/**
 * Runs a command's start-up with SIGINT and SIGTERM watched: the first one aborts `stop`, which
 * the start reads between its steps and while it waits (see startRoles), closing what it opened,
 * and this then rejects with StoppedBeforeStart; a second one exits at once. A start that was
 * complete when the signal came is closed here. The signals are left to the command once it has
 * started (runUntilStopped, untilSignal).
 */
export async function startUnlessStopped<T extends { close(): Promise<void> }>(start: (stop: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let stopped: StoppedBeforeStart | undefined;
  const on = (signal: NodeJS.Signals): void => {
    detach();
    exitOnSecondSignal();
    stopped = new StoppedBeforeStart(signal);
    controller.abort(stopped);
  };
  const onInt = (): void => on('SIGINT');
  const onTerm = (): void => on('SIGTERM');
  const detach = (): void => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    let started: T;
    try {
      started = await start(controller.signal);
    } catch (error) {
      throw stopped ?? error;
    }
    if (stopped !== undefined) {
      await started.close();
      throw stopped;
    }
    return started;
  } finally {
    detach();
  }
}

/**
 * Runs until SIGINT or SIGTERM, or until the engine stops on an error, then closes the set
 * (`stopping` names why). An engine that stopped is this command's failure: it is thrown after
 * the close, so the process exits 1 with the reason in one line, and a supervisor restarts it.
 */
export async function runUntilStopped(
  set: { readonly engineStopped: Promise<unknown>; close(): Promise<void> },
  logger: Logger,
  stopping: string,
): Promise<void> {
  const stop = await Promise.race([untilSignal().then(() => undefined), set.engineStopped.then((error) => ({ error }))]);
  logger.info(stop === undefined ? stopping : 'stopping: the engine stopped');
  if (stop === undefined) {
    await set.close();
    logger.info('stopped');
    return;
  }
  await set.close().catch((error: unknown) => logger.error('closing after the engine stopped failed', { error: error instanceof Error ? error.message : String(error) }));
  throw engineStoppedError(stop.error);
}

function engineStoppedError(error: unknown): TickstreamError {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof TickstreamError ? error.code : 'TICKSTREAM_BUS_UNAVAILABLE';
  return new TickstreamError(code, `the engine stopped: ${message}`, { cause: error });
}
