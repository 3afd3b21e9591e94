import { TickstreamError } from '../errors.ts';
import type { Logger } from '../observability/index.ts';

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
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
