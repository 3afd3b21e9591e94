// CPU use of the stack's JVMs and of this process over a benchmark phase, read from
// /proc/<pid>/stat (utime + stime), as percent of one core averaged over the phase.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Config } from '../src/config/index.ts';
import { stackStatus } from '../src/stack/index.ts';

/** What a phase's CPU is reported for: a name and the pids it counts, with their child processes. */
export interface CpuGroup {
  readonly name: string;
  readonly pids: readonly number[];
}

/** Percent of one core, averaged over the phase, per group; null where /proc could not be read. */
export type CpuUse = Record<string, number | null>;

const SAMPLE_MS = 500;

function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

const TICKS_PER_S = clockTicks();

/** utime + stime (ticks) and the parent pid of a process, or undefined once it is gone. */
function statOf(pid: number): { ticks: number; ppid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' do not.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state(3) ppid(4) ... utime(14) stime(15), so index = field number − 3.
  const ppid = Number(fields[1]);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? { ticks, ppid } : undefined;
}

/** Every process's parent, read from /proc once per sample. */
function parentsNow(): Map<number, number> {
  const parents = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return parents;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const s = statOf(Number(e));
    if (s !== undefined) parents.set(Number(e), s.ppid);
  }
  return parents;
}

/** The pids and every descendant of them (Spark's executors are children of the workers). */
function withDescendants(roots: readonly number[], parents: ReadonlyMap<number, number>): Set<number> {
  const all = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (!all.has(pid) && all.has(ppid)) {
        all.add(pid);
        grew = true;
      }
    }
  }
  return all;
}

/**
 * Samples the groups' processes every SAMPLE_MS until stopped. A process first seen during
 * the phase started during it, so all its time counts (an executor started mid-phase is
 * included); one that ends between two samples loses its last < SAMPLE_MS.
 */
export class CpuMeter {
  readonly #groups: readonly CpuGroup[];
  /** Ticks of each process at its last sample, per group. */
  readonly #last = new Map<string, Map<number, number>>();
  readonly #used = new Map<string, number>();
  readonly #startedAt = performance.now();
  readonly #timer: NodeJS.Timeout;

  constructor(groups: readonly CpuGroup[]) {
    this.#groups = groups;
    const parents = parentsNow();
    for (const g of groups) {
      this.#used.set(g.name, 0);
      const last = new Map<number, number>();
      for (const pid of withDescendants(g.pids, parents)) {
        const s = statOf(pid);
        if (s !== undefined) last.set(pid, s.ticks);
      }
      this.#last.set(g.name, last);
    }
    this.#timer = setInterval(() => this.#sample(), SAMPLE_MS);
    this.#timer.unref();
  }

  #sample(): void {
    const parents = parentsNow();
    for (const g of this.#groups) {
      const last = this.#last.get(g.name) as Map<number, number>;
      let used = this.#used.get(g.name) ?? 0;
      for (const pid of withDescendants(g.pids, parents)) {
        const s = statOf(pid);
        if (s === undefined) continue;
        used += s.ticks - (last.get(pid) ?? 0);
        last.set(pid, s.ticks);
      }
      this.#used.set(g.name, used);
    }
  }

  /** Percent of one core per group, averaged from the meter's start until now; null for a group with no process read. */
  stop(): CpuUse {
    clearInterval(this.#timer);
    this.#sample();
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const out: CpuUse = {};
    for (const g of this.#groups) {
      const seen = (this.#last.get(g.name)?.size ?? 0) > 0;
      out[g.name] = seen ? ((this.#used.get(g.name) ?? 0) / TICKS_PER_S / seconds) * 100 : null;
    }
    return out;
  }
}

/**
 * The groups of the cluster benchmark: the Cassandra JVM, the Spark JVMs (master, workers with
 * their executors, Connect), the Kafka JVM and this process, with pids from the stack's pid files.
 */
export async function stackCpuGroups(config: Config, env: Readonly<Record<string, string | undefined>>): Promise<CpuGroup[]> {
  const rows = await stackStatus({ config, env });
  const pidsOf = (match: (service: string) => boolean): number[] =>
    rows.filter((r) => match(r.service) && r.pid !== undefined).map((r) => r.pid as number);
  return [
    { name: 'cassandra', pids: pidsOf((s) => s === 'cassandra') },
    { name: 'spark', pids: pidsOf((s) => s.startsWith('spark')) },
    { name: 'kafka', pids: pidsOf((s) => s === 'kafka') },
    { name: 'bench', pids: [process.pid] },
  ];
}
