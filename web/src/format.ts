import { formatDuration } from '../../src/observability/duration.ts';

/** Decimals that show a price's movement: 5 for FX near 1.0, 2 for equities and BTC. */
export function priceDecimals(price: number): number {
  const abs = Math.abs(price);
  if (abs >= 10) return 2;
  if (abs >= 1) return 4;
  return 6;
}

export function formatPrice(price: number | null | undefined): string {
  if (price === null || price === undefined || !Number.isFinite(price)) return '–';
  return price.toFixed(priceDecimals(price));
}

export function formatPercent(pct: number | null | undefined): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return '–';
  return `${pct > 0 ? '+' : ''}${pct.toFixed(2)}%`;
}

const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
const plain = new Intl.NumberFormat(undefined, { maximumFractionDigits: 4 });

/** 12.5k, 3.1M; small numbers as they are (volumes can be fractional, e.g. BTC). */
export function formatQuantity(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return Math.abs(n) >= 10_000 ? compact.format(n) : plain.format(n);
}

export function formatRate(perSecond: number): string {
  return Math.abs(perSecond) >= 10_000 ? compact.format(perSecond) : Math.round(perSecond).toString();
}

const pad = (n: number, width = 2): string => n.toString().padStart(width, '0');

/** Local wall-clock time, 24-hour, for the chart's bar times and time axis. */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * A bar's start for the chart's legend and its crosshair's label on the time axis alike: the local time for a bar
 * of today, with the local date in front (2001-09-09 01:45:00) for a bar of another day, so history scrolled back
 * past midnight says which day it is. Local means the viewer's zone, for the date and for what today is.
 */
export function formatBarTime(epochMs: number, nowMs: number = Date.now()): string {
  const d = new Date(epochMs);
  const now = new Date(nowMs);
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? formatClock(epochMs) : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(epochMs)}`;
}

/** Local wall-clock time with milliseconds, for the tape. */
export function formatClockMs(epochMs: number): string {
  return `${formatClock(epochMs)}.${pad(new Date(epochMs).getMilliseconds(), 3)}`;
}

/** A latency or duration: milliseconds up to 10 s, then seconds, minutes and hours (see formatDuration). */
export const formatMs = formatDuration;

/** The latency readout, p50 · p99; before any trade is stored there is none, and 0 ms would say it is instant. */
export function formatLatency(latency: { readonly p50: number; readonly p99: number; readonly count: number }): string {
  return latency.count > 0 ? `${formatMs(latency.p50)} · ${formatMs(latency.p99)}` : 'no trade stored yet';
}
