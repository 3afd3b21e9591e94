/**
 * Runs `op` over every item with at most `limit` in flight. On the first failure no new item
 * starts; the ones in flight are awaited (so nothing still writes after this returns), then
 * the first error is thrown.
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, op: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await op(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(limit), items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure !== undefined) throw failure.error;
}
