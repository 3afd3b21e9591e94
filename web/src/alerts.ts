import { someNamed } from '../../src/observability/some-named.ts';
import type { LateReplayWire, SourceStatus, StatsWire, StreamState } from './api.ts';

/** Invalid or late trades counted within this window raise the banner. */
export const RECENT_WINDOW_MS = 15_000;

/** The server sends stats once a second; an open stream this long without any is stalled. */
export const STALL_MS = 5_000;

export interface HealthInputs {
  readonly stream: StreamState;
  /** When the stream last opened: a stream that has just opened is not stalled yet. */
  readonly streamOpenedAtMs?: number;
  readonly source: SourceStatus | undefined;
  /** Stats frames, oldest first, with the time each arrived. */
  readonly history: readonly { readonly atMs: number; readonly stats: StatsWire }[];
  readonly nowMs: number;
}

/** The short label of the source badge: "simulator", "Finnhub connected", "Finnhub reconnecting", … */
export function sourceLabel(s: SourceStatus | undefined): string {
  if (s === undefined) return 'source unknown';
  const name = s.kind === 'finnhub' ? 'Finnhub' : s.kind;
  if (s.state === 'connected' && s.kind === 'simulator') return 'simulator';
  if (s.state === 'elsewhere') return `${name} in another process`;
  return `${name} ${s.state}`;
}

/**
 * How the source badge looks: `ok` while it delivers (or has finished a replay), `neutral` when it
 * runs in another process (a `process` or `serve` role, whose own /metrics say how it is), else `bad`.
 */
export function sourceTone(s: SourceStatus | undefined): 'ok' | 'neutral' | 'bad' {
  if (s === undefined) return 'bad';
  if (s.state === 'connected' || s.state === 'finished') return 'ok';
  return s.state === 'elsewhere' ? 'neutral' : 'bad';
}

/**
 * How long an open stream has gone without a stats frame, when that is longer than STALL_MS:
 * a server that hangs, or a proxy that holds the connection, leaves it open but silent.
 */
export function streamStalledMs(h: HealthInputs): number | undefined {
  if (h.stream !== 'open') return undefined;
  const last = Math.max(h.history[h.history.length - 1]?.atMs ?? 0, h.streamOpenedAtMs ?? 0);
  const silent = h.nowMs - last;
  return silent > STALL_MS ? silent : undefined;
}

/**
 * True while the last stats frame (the source badge, the rates) may no longer be current: the stream is down
 * or stalled, or it has reopened and sent no stats since. False before the first frame: nothing old shows yet.
 */
export function statsAreStale(h: HealthInputs): boolean {
  const newest = h.history[h.history.length - 1];
  if (newest === undefined) return false;
  return h.stream !== 'open' || newest.atMs < (h.streamOpenedAtMs ?? 0) || streamStalledMs(h) !== undefined;
}

/** How many quiet symbols the banner names before `and N more`. */
const QUIET_NAMED = 5;

/** The banner's line for subscribed symbols that get no trades. */
export function quietSymbolsLine(quiet: readonly string[]): string {
  return `No trade yet for ${someNamed(quiet, QUIET_NAMED)} since subscribing: Finnhub sends nothing for a symbol it does not know (check the spelling and case) or whose market is closed`;
}

/** What is wrong right now, one line each; empty when all is well. */
export function problems(h: HealthInputs): string[] {
  const out: string[] = [];
  if (h.stream !== 'open') out.push(h.stream === 'connecting' ? 'Connecting to the live stream…' : 'Live stream disconnected; reconnecting…');
  const stalled = streamStalledMs(h);
  if (stalled !== undefined) out.push(`Live stream stalled: no update for ${Math.floor(stalled / 1000)} s; what is shown may be out of date`);
  const s = h.source;
  if (s !== undefined && sourceTone(s) === 'bad') {
    out.push(`Source ${s.state}${s.detail === '' ? '' : `: ${s.detail}`}`);
  }
  if (s?.quiet !== undefined && s.quiet.length > 0) out.push(quietSymbolsLine(s.quiet));
  const newest = h.history[h.history.length - 1];
  if (newest?.stats.store_state === 'retrying') {
    out.push(`Store refusing writes for ${newest.stats.store_failing_s ?? 0} s; retrying, offsets held, nothing lost`);
  }
  if (newest?.stats.engine_state === 'waiting') {
    const waited = newest.stats.engine_waiting_s ?? 0;
    const missing = newest.stats.missing_topic;
    out.push(
      missing === undefined
        ? `Engine waiting for Kafka for ${waited} s: no new bars until it answers; trades are kept`
        : `Engine waiting for topic ${missing} for ${waited} s: Kafka answers that it has no such topic (deleted?); no new bars until it is there; trades are kept`,
    );
  }
  if (newest?.stats.engine_state === 'stopped') {
    out.push(`Engine stopped: ${newest.stats.engine_stopped ?? 'no new bars'}`);
  }
  const spooled = newest?.stats.spool_depth ?? 0;
  if (spooled > 0) {
    out.push(`Kafka not taking trades: ${spooled.toLocaleString('en-US')} wait in the producer's spool and are sent once it answers; nothing lost`);
  }
  const view = newest?.stats.kafka_view;
  if (view !== undefined && view.error !== null) {
    const age = view.age_s === null ? 'no reading yet' : `last reading ${view.age_s} s ago`;
    out.push(`Kafka not answering the pipeline's counts (${age}): ${view.error}`);
  }
  const replay = newest === undefined ? undefined : lateReplayOf(newest.stats);
  if (replay !== undefined) {
    const gaps = [
      replay.unreplayed > 0 ? `${replay.unreplayed} not replayed (counted from Spark's drop count)` : '',
      replay.unseen > 0 ? `${replay.unseen} never seen` : '',
      replay.mismatches > 0 ? `${replay.mismatches} disagreeing with Spark` : '',
    ].filter((g) => g !== '');
    if (gaps.length > 0) out.push(`Spark late trades incomplete, micro-batches: ${gaps.join(', ')}; the late trades topic may miss some`);
  }
  const base = h.history.find((e) => e.atMs >= h.nowMs - RECENT_WINDOW_MS);
  if (newest !== undefined && base !== undefined && newest !== base) {
    const invalid = newest.stats.invalid - base.stats.invalid;
    const late = newest.stats.late - base.stats.late;
    if (invalid > 0) out.push(`${invalid} invalid trade${invalid === 1 ? '' : 's'} in the last ${RECENT_WINDOW_MS / 1000} s`);
    if (late > 0) out.push(`${late} late trade${late === 1 ? '' : 's'} in the last ${RECENT_WINDOW_MS / 1000} s`);
  }
  return out;
}

/** A chart as the address names it (#symbol=AAPL&interval=5m); either part may be missing. */
export interface Selection {
  readonly symbol?: string;
  readonly interval?: string;
}

/**
 * The banner's line for an address that names a symbol or interval the dashboard does not have (a typo, an old
 * bookmark): what was not found and what shows instead; undefined when the address shows as it names it.
 */
export function addressNotice(wanted: Selection, shown: Required<Selection>): string | undefined {
  const symbol = wanted.symbol !== undefined && wanted.symbol !== shown.symbol;
  const interval = wanted.interval !== undefined && wanted.interval !== shown.interval;
  if (symbol && interval) return `Symbol ${wanted.symbol} and interval ${wanted.interval} from the address not found; showing ${shown.symbol} · ${shown.interval}`;
  if (symbol) return `Symbol ${wanted.symbol} from the address not found; showing ${shown.symbol}`;
  if (interval) return `Interval ${wanted.interval} from the address not found; showing ${shown.interval}`;
  return undefined;
}

/** The Spark engine's late replay counts; undefined under the TS engine. */
function lateReplayOf(s: StatsWire): LateReplayWire | undefined {
  const r = s.spark?.late_replay;
  if (r === undefined || typeof r.unreplayed !== 'number' || typeof r.mismatches !== 'number' || typeof r.unseen !== 'number') return undefined;
  return { unreplayed: r.unreplayed, mismatches: r.mismatches, unseen: r.unseen };
}
