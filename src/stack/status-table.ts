export type Health = 'healthy' | 'unhealthy' | 'stopped';

export interface StatusRow {
  readonly service: string;
  /** The client port first, then the others the service binds. */
  readonly ports: readonly number[];
  readonly pid: number | undefined;
  readonly health: Health;
  readonly version: string;
  /** What the health probe said, or why it is not healthy. */
  readonly detail: string;
}

const HEADERS = ['SERVICE', 'PORT', 'PID', 'HEALTH', 'VERSION', 'DETAIL'] as const;

/** A plain fixed-width table, one row per service, for `stack status`. */
export function renderStatusTable(rows: readonly StatusRow[]): string {
  const cells = rows.map((r) => [r.service, r.ports.join(','), r.pid === undefined ? '-' : String(r.pid), r.health, r.version, r.detail]);
  const all = [[...HEADERS], ...cells];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}
