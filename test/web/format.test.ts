// The dashboard's time formatting (web/src/format.ts), in the local time zone as the browser shows it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBarTime, formatClockMs, formatLatency } from '../../web/src/format.ts';

const local = (y: number, mo: number, d: number, h: number, mi: number, s: number, ms = 0): number => new Date(y, mo - 1, d, h, mi, s, ms).getTime();

test("a bar of today shows its time only; one of another day puts the date in front", () => {
  const now = local(2026, 12, 5, 0, 0, 1);
  assert.equal(formatBarTime(local(2026, 12, 5, 0, 0, 0), now), '00:00:00');
  assert.equal(formatBarTime(local(2026, 12, 4, 23, 59, 55), now), '2026-12-04 23:59:55', 'five seconds before midnight');
  assert.equal(formatBarTime(local(2025, 12, 5, 9, 30, 0), now), '2025-12-05 09:30:00', 'the same day a year before');
  assert.equal(formatBarTime(local(2001, 9, 9, 1, 45, 0), now), '2001-09-09 01:45:00');
});

test('the tape time has milliseconds, 24-hour', () => {
  assert.equal(formatClockMs(local(2026, 12, 5, 13, 4, 5, 7)), '13:04:05.007');
});

test("the bar time is the viewer's wall clock and date, and today is the viewer's day, not UTC's", (t) => {
  const zone = process.env['TZ'];
  t.after(() => {
    if (zone === undefined) delete process.env['TZ'];
    else process.env['TZ'] = zone;
  });
  process.env['TZ'] = 'Asia/Tokyo';
  const bar = Date.UTC(2001, 8, 9, 1, 45, 0);
  assert.equal(formatBarTime(bar, Date.UTC(2001, 8, 9, 14, 0, 0)), '10:45:00', 'the same day in Tokyo, at 23:00');
  assert.equal(formatBarTime(bar, Date.UTC(2001, 8, 9, 15, 0, 0)), '2001-09-09 10:45:00', 'the next day in Tokyo, though the same in UTC');
  process.env['TZ'] = 'America/New_York';
  assert.equal(formatBarTime(bar, Date.UTC(2001, 8, 9, 1, 50, 0)), '21:45:00', 'the evening of the 8th in New York, the 9th in UTC');
  assert.equal(formatBarTime(bar, Date.UTC(2001, 8, 9, 4, 5, 0)), '2001-09-08 21:45:00', 'past midnight in New York, the same UTC day');
});

test('the latency readout is p50 · p99, and says there is none before a trade is stored rather than 0 ms', () => {
  assert.equal(formatLatency({ p50: 0, p99: 0, count: 0 }), 'no trade stored yet');
  assert.equal(formatLatency({ p50: 544, p99: 1059.2, count: 9895 }), '544 ms · 1059 ms');
});
