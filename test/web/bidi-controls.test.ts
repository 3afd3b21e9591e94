import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutBidiControls } from '../../web/src/bidi-controls.ts';
import { addressNotice } from '../../web/src/alerts.ts';

test('every bidirectional control is shown as its code point, which reorders nothing; other text is kept as it is', () => {
  const controls = ['\u061C', '\u200E', '\u200F', '\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069'];
  for (const c of controls) {
    const shown = withoutBidiControls(`A${c}B`);
    assert.equal(shown, `A[U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]B`);
  }
  assert.equal(withoutBidiControls('BINANCE:BTCUSDT · 5s — ünïcödé 株 שלום'), 'BINANCE:BTCUSDT · 5s — ünïcödé 株 שלום');
});

test('a symbol from the address with a right-to-left override does not reverse the banner line', () => {
  const notice = addressNotice({ symbol: '\u202EXYZ' }, { symbol: 'AAPL', interval: '5s' });
  assert.equal(withoutBidiControls(notice ?? ''), 'Symbol [U+202E]XYZ from the address not found; showing AAPL');
});
