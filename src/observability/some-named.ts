/**
 * A list for people to read, cut short: the first `most` items, then how many more
 * (`AAPX, msft and 3 more`). Used by the log and the dashboard alike.
 */
export function someNamed(items: readonly string[], most: number): string {
  const named = items.slice(0, most).join(', ');
  return items.length > most ? `${named} and ${items.length - most} more` : named;
}
