/**
 * A count with its noun, singular for one (`1 symbol`, `2 symbols`, `0 trades`), for the log and
 * status lines; `plural` is for a noun that does not just take an s.
 */
export function counted(count: number, noun: string, plural = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : plural}`;
}
