// One paced run of the embedded pipeline in a process of its own; prints its RunResult as JSON.
// Usage: node --import tsx bench/paced.ts --rate 10000 --seconds 5 --symbols 50 --flush 10ms
import { parseArgs } from 'node:util';
import { endToEnd } from './end-to-end.ts';
import { benchSymbols, makeFrames } from './frames.ts';
import { positive } from './measure.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '5' },
    symbols: { type: 'string', default: '50' },
    flush: { type: 'string', default: '10ms' },
  },
});
const rate = positive('rate', values.rate);
const seconds = positive('seconds', values.seconds);
const symbols = benchSymbols(positive('symbols', values.symbols));
const frames = makeFrames(rate * seconds, symbols, Date.now());
const result = await endToEnd(frames, symbols, { flushInterval: values.flush, rate, maxMs: seconds * 1000 });
process.stdout.write(`${JSON.stringify(result)}\n`);
