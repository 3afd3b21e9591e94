/**
 * A step of a start raced against the stop signal of the start (a Ctrl-C before the process had
 * started): on the stop it rejects with the signal's reason at once, while the step itself goes
 * on; what the step opens is closed by whoever started it (startRoles' parts, openStore's store).
 * Without a stop signal the step is returned as it is.
 */
export function unlessStopped<T>(step: Promise<T>, stop: AbortSignal | undefined): Promise<T> {
  if (stop === undefined) return step;
  if (stop.aborted) return Promise.reject(stop.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onStop = (): void => reject(stop.reason as Error);
    stop.addEventListener('abort', onStop, { once: true });
    step.then(
      (value) => {
        stop.removeEventListener('abort', onStop);
        resolve(value);
      },
      (error: unknown) => {
        stop.removeEventListener('abort', onStop);
        reject(error as Error);
      },
    );
  });
}
