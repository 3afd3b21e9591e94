import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Reads a positive integer flag, or exits with a line naming it. */
export function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`bench: --${name} must be a positive integer, got "${text}"\n`);
    process.exit(2);
  }
  return n;
}

export function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

/** Samples the resident set size until stopped; returns the peak in MB. */
export function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 25);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss()) / 1e6;
    },
  };
}

export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Prints rows of [measure, value, target, met] as an aligned table, the first row as its header. */
export function printTable(rows: readonly (readonly [string, string, string, string])[]): void {
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  const line = (r: readonly string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ');
  process.stdout.write(`\n${line(rows[0] ?? [])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of rows.slice(1)) process.stdout.write(`${line(r)}\n`);
}

/** Writes the report as pretty JSON and says where. */
/**
 * Writes a benchmark's JSON with the runtime it ran on: Node's version, the cores, and the
 * options Node was started with (a larger young generation, for one, changes every figure).
 */
export function writeReport(out: string, report: Record<string, unknown>): void {
  mkdirSync(dirname(out), { recursive: true });
  const runtime = { node: process.version, cpus: cpus().length, nodeOptions: process.env['NODE_OPTIONS'] ?? null, execArgv: process.execArgv };
  writeFileSync(out, `${JSON.stringify({ ...report, runtime }, null, 2)}\n`);
  process.stdout.write(`\nwritten to ${out}\n`);
}
